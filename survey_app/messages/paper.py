"""Paper-survey files and their import (nhập phiếu khảo sát giấy).

``paper.*`` refuse a file as a whole (it cannot be read, exceeds a budget, or was
already imported); ``paper.at_line``/``paper.at_cell`` place a problem on a line or a
cell of the file, and ``paper.cell.*`` say what is wrong in that cell, in lower case as
the end of "Dòng 7, cột II.2.1: ...".
"""

from flask_babel import lazy_gettext

MESSAGES = {
    "paper.batch_unknown": lazy_gettext(
        "Không có lần nhập số %(batch)s trong đợt khảo sát này (hoặc lần nhập đó đã được hoàn "
        "tác, hoặc có phiếu ở bộ phận một cửa ngoài phạm vi của bạn)."
    ),
    # Reading the file (paper_files), within budgets.
    "paper.not_csv_or_xlsx": lazy_gettext("Chỉ nhận tệp .csv hoặc .xlsx."),
    "paper.too_many_rows": lazy_gettext(
        "Tệp có quá nhiều dòng: tối đa %(rows)s dòng phiếu mỗi tệp; hãy chia thành nhiều tệp."
    ),
    "paper.too_many_columns": lazy_gettext(
        "Dòng %(line)s có quá nhiều cột: tối đa %(columns)s cột mỗi dòng."
    ),
    "paper.too_many_cells": lazy_gettext(
        "Tệp có quá nhiều ô dữ liệu: tối đa %(cells)s ô mỗi tệp; hãy chia thành nhiều tệp."
    ),
    "paper.data_far_down": lazy_gettext(
        "Tệp có dữ liệu ở dòng %(line)s: tối đa %(rows)s dòng phiếu; hãy xoá các dòng thừa "
        "ở cuối trang tính."
    ),
    "paper.not_xlsx": lazy_gettext(
        "Tệp không phải là tệp Excel .xlsx hợp lệ (có thể là tệp .xls cũ, tệp có mật khẩu "
        "hoặc tệp đã bị đổi tên): hãy mở bằng Excel và lưu lại dạng “Excel Workbook (.xlsx)”."
    ),
    "paper.broken_xlsx": lazy_gettext(
        "Tệp Excel bị hỏng hoặc không đúng định dạng .xlsx nên không đọc được: hãy mở bằng "
        "Excel và lưu lại dạng “Excel Workbook (.xlsx)”, hoặc dùng tệp mẫu."
    ),
    "paper.unpacked_too_big": lazy_gettext(
        "Tệp Excel khi giải nén vượt quá %(size)s; hãy chia thành nhiều tệp."
    ),
    "paper.packed_oddly": lazy_gettext(
        "Tệp Excel bị nén bất thường (phần “%(member)s” giải nén lớn gấp hơn %(ratio)s lần): "
        "không đọc tệp này."
    ),
    "paper.too_much_text": lazy_gettext(
        "Tệp Excel có quá nhiều văn bản: tối đa %(size)s chữ trong các ô; hãy chia thành nhiều tệp."
    ),
    "paper.member_too_big": lazy_gettext(
        "Tệp Excel có phần “%(member)s” lớn hơn %(size)s: hãy lưu lại chỉ với dữ liệu phiếu."
    ),
    "paper.doctype": lazy_gettext(
        "Tệp Excel chứa khai báo XML (DOCTYPE/ENTITY) không được phép: hãy mở bằng Excel và "
        "lưu lại dạng “Excel Workbook (.xlsx)”."
    ),
    "paper.too_many_members": lazy_gettext(
        "Tệp Excel có quá nhiều phần (%(members)s; tối đa %(maximum)s): hãy lưu lại chỉ với "
        "dữ liệu phiếu."
    ),
    "paper.no_sheet": lazy_gettext("Tệp Excel không có trang tính nào để đọc."),
    "paper.csv_not_utf8": lazy_gettext(
        "Tệp CSV phải được lưu với bảng mã UTF-8 (Excel: “CSV UTF-8”)."
    ),
    "paper.csv_malformed": lazy_gettext(
        "Tệp CSV không đúng định dạng ở dòng %(line)s: ô quá dài (tối đa %(chars)s ký tự) "
        "hoặc dấu ngoặc kép không đóng."
    ),
    "paper.csv_line_too_long": lazy_gettext(
        "Tệp CSV có một dòng dài hơn %(chars)s ký tự: không phải là tệp phiếu."
    ),
    # The table as a whole (paper_import).
    "paper.empty_file": lazy_gettext("Tệp trống: dòng 1 phải là dòng tiêu đề với tên các cột."),
    "paper.unknown_column": lazy_gettext(
        "Dòng 1: cột “%(column)s” không có trong phiếu %(questionnaire)s %(version)s."
    ),
    "paper.repeated_column": lazy_gettext("Dòng 1: cột “%(column)s” bị lặp."),
    "paper.missing_column": lazy_gettext("Dòng 1: thiếu cột bắt buộc “%(column)s”."),
    "paper.too_many_forms": lazy_gettext(
        "Tệp có %(count)s phiếu, vượt quá giới hạn %(maximum)s phiếu mỗi lần."
    ),
    "paper.no_forms": lazy_gettext("Tệp không có phiếu nào (chỉ có dòng tiêu đề)."),
    "paper.more_errors": lazy_gettext("… và %(count)s lỗi khác."),
    "paper.at_cell": lazy_gettext("Dòng %(line)s, cột %(column)s: %(problem)s"),
    # Already imported (the earlier batch named only to whom may see it).
    "paper.file_imported": lazy_gettext(
        "Tệp này đã được nhập vào đợt khảo sát; không lưu thêm phiếu nào."
    ),
    "paper.file_imported_named": lazy_gettext(
        "Tệp này đã được nhập vào đợt khảo sát lúc %(at)s (tệp %(filename)s, %(forms)s "
        "phiếu); không lưu thêm phiếu nào."
    ),
    "paper.all_forms_imported": lazy_gettext(
        "Tất cả %(total)s phiếu trong tệp đã được nhập trước đây (số phiếu, bộ phận một "
        "cửa): %(listing)s. Không phiếu nào của tệp được lưu; hãy xoá các dòng đó khỏi tệp "
        "rồi tải lên lại."
    ),
    "paper.some_forms_imported": lazy_gettext(
        "%(count)s trong %(total)s phiếu của tệp đã được nhập trước đây (số phiếu, bộ phận "
        "một cửa): %(listing)s. Không phiếu nào của tệp được lưu; hãy xoá các dòng đó khỏi "
        "tệp rồi tải lên lại."
    ),
    "paper.forms_and_more": lazy_gettext("%(forms)s và %(more)s phiếu khác"),
    # A cell (the end of "Dòng 7, cột II.2.1: ...").
    "paper.cell.form_id_missing": lazy_gettext("thiếu số phiếu"),
    "paper.cell.form_id_invalid": lazy_gettext(
        "số phiếu phải là một dòng chữ hoặc số, tối đa %(maximum)s ký tự, không có ký tự điều khiển"
    ),
    "paper.cell.form_id_repeated": lazy_gettext("số phiếu %(form_id)s trùng với dòng %(line)s"),
    "paper.cell.desk_missing": lazy_gettext("thiếu mã bộ phận một cửa"),
    "paper.cell.desk_unknown": lazy_gettext(
        "bộ phận một cửa “%(desk)s” không thuộc đợt khảo sát này hoặc ngoài phạm vi của bạn"
    ),
    "paper.cell.date_invalid": lazy_gettext(
        "ngày “%(text)s” không hợp lệ (ghi 2026-03-15 hoặc 15/03/2026)"
    ),
    "paper.cell.date_outside": lazy_gettext(
        "ngày %(day)s nằm ngoài thời gian đợt khảo sát (%(starts_on)s – %(ends_on)s)"
    ),
    "paper.cell.not_a_code": lazy_gettext(
        "“%(value)s” không phải là mã số (các mã hợp lệ: %(allowed)s)"
    ),
    "paper.cell.unknown_code": lazy_gettext(
        "mã %(value)s không có trong thang đo (các mã hợp lệ: %(allowed)s)"
    ),
    "paper.cell.one_code": lazy_gettext("chỉ được ghi một mã"),
    "paper.cell.hidden": lazy_gettext(
        "chỉ trả lời khi câu %(item)s có mã %(codes)s; hãy để trống ô này hoặc sửa câu %(item)s"
    ),
    # The question kinds' refusals (answer.*, submissions.validate_answers), as said of a cell.
    "paper.cell.required": lazy_gettext("câu bắt buộc nhưng ô để trống"),
    "paper.cell.unknown": lazy_gettext("câu hỏi này không có trong phiếu khảo sát"),
    "paper.cell.not_option": lazy_gettext("lựa chọn không hợp lệ, vui lòng chọn lại"),
    "paper.cell.one_choice": lazy_gettext("chỉ được chọn một phương án"),
    "paper.cell.not_number": lazy_gettext("vui lòng nhập một số (ví dụ: 3)"),
    "paper.cell.not_integer": lazy_gettext("vui lòng nhập số nguyên (không có phần thập phân)"),
    "paper.cell.between": lazy_gettext("vui lòng nhập số từ %(minimum)s đến %(maximum)s"),
    "paper.cell.at_least": lazy_gettext("vui lòng nhập số không nhỏ hơn %(minimum)s"),
    "paper.cell.at_most": lazy_gettext("vui lòng nhập số không lớn hơn %(maximum)s"),
    "paper.cell.too_long": lazy_gettext(
        "câu trả lời dài quá %(limit)s ký tự (hiện có %(length)s ký tự)"
    ),
    "paper.cell.refused_text": lazy_gettext(
        "câu trả lời có ký tự không được phép (%(character)s) ở vị trí %(position)s; vui lòng "
        "xóa ký tự này"
    ),
}
