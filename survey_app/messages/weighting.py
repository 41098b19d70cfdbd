"""Weighting settings (cài đặt trọng số) and the indices computed with them."""

from flask_babel import lazy_gettext

MESSAGES = {
    # A margins file scoring could not read (its codes, weighting.margins.<code>).
    "weighting.margins.unreadable": lazy_gettext("Tệp CSV không đọc được: %(detail)s"),
    "weighting.margins.empty": lazy_gettext(
        "Tệp CSV cần một dòng tiêu đề và ít nhất một dòng số liệu."
    ),
    "weighting.margins.no_count": lazy_gettext(
        "Tệp CSV thiếu cột '%(column)s' (số lượng trong tổng thể)."
    ),
    "weighting.margins.row_width": lazy_gettext(
        "Dòng %(line)s: có %(found)s cột, tiêu đề có %(expected)s."
    ),
    "weighting.margins.count_not_number": lazy_gettext(
        "Dòng %(line)s: số lượng '%(value)s' không phải là số."
    ),
    "weighting.margins.count_not_positive": lazy_gettext(
        "Dòng %(line)s: số lượng phải lớn hơn 0 (đang là %(value)s)."
    ),
    "weighting.margins.count_too_large": lazy_gettext(
        "Dòng %(line)s: số lượng %(value)s quá lớn: tối đa %(maximum)s cho một ô."
    ),
    "weighting.margins.no_variables": lazy_gettext(
        "Tệp CSV cần ít nhất một cột biến (ví dụ gender, age_group)."
    ),
    "weighting.margins.empty_value": lazy_gettext(
        "Dòng %(line)s: giá trị '' của cột '%(column)s' không phải là mã số."
    ),
    "weighting.margins.duplicate_cell": lazy_gettext("Dòng %(line)s: ô %(shown)s bị lặp lại."),
    "weighting.margins.other": lazy_gettext("Tệp CSV không dùng được: %(detail)s"),
    # The margins against the questionnaire and the sample.
    "weighting.not_respondent": lazy_gettext(
        "Cột '%(column)s' không phải là câu hỏi về người trả lời; dùng một trong: %(choices)s."
    ),
    "weighting.value_not_code": lazy_gettext(
        "Dòng %(line)s: giá trị '%(value)s' của cột '%(column)s' không phải là mã số."
    ),
    "weighting.code_unknown": lazy_gettext(
        "Dòng %(line)s: mã %(code)s không có trong câu hỏi '%(column)s' (các mã: %(codes)s)."
    ),
    "weighting.rake_needs_margins": lazy_gettext(
        "Cân chỉnh lặp (raking) cần ít nhất hai biến biên, trong tệp có đúng các cột: "
        "variable,value,count."
    ),
    "weighting.poststratify_one_table": lazy_gettext(
        "Hậu phân tầng cần một bảng: các cột biến rồi cột count (ví dụ gender,age_group,count)."
    ),
    "weighting.totals_differ": lazy_gettext(
        "Tổng số lượng của các biên phải bằng nhau (%(totals)s)."
    ),
    "weighting.unanswered": lazy_gettext(
        "%(count)s phiếu chưa trả lời %(variables)s; không thể hiệu chỉnh trọng số theo biến này."
    ),
    "weighting.cells_not_in_sample": lazy_gettext(
        "Ô không có người trả lời nào trong mẫu: %(cells)s. Hãy gộp ô hoặc bỏ biến này."
    ),
    "weighting.cells_not_in_margins": lazy_gettext(
        "Tệp thiếu số lượng tổng thể cho ô có trong mẫu: %(cells)s."
    ),
    # The settings form.
    "weighting.strata_column": lazy_gettext("Tầng: chọn quầy, cơ quan hoặc không."),
    "weighting.cluster_column": lazy_gettext("Cụm: chọn quầy, cơ quan hoặc không."),
    "weighting.cluster_outside_strata": lazy_gettext(
        "Cụm phải nằm trong tầng: không thể lấy tầng theo quầy, cụm theo cơ quan."
    ),
    "weighting.strata_is_cluster": lazy_gettext("Tầng và cụm không thể cùng là một cột."),
    "weighting.calibration_invalid": lazy_gettext("Phương pháp hiệu chỉnh trọng số không hợp lệ."),
    "weighting.ci_method_invalid": lazy_gettext("Phương pháp khoảng tin cậy không hợp lệ."),
    "weighting.level_invalid": lazy_gettext("Độ tin cậy phải là 0,90, 0,95 hoặc 0,99."),
    "weighting.margins_missing": lazy_gettext(
        "Hãy tải lên tệp CSV số lượng tổng thể để hiệu chỉnh trọng số."
    ),
    "weighting.no_answers": lazy_gettext("Đợt khảo sát chưa có phiếu nào để hiệu chỉnh trọng số."),
    "weighting.margins_too_large": lazy_gettext(
        "Tệp biên tổng thể lớn hơn %(size)s MB: không đọc tệp này (một tệp biên chỉ cần vài "
        "dòng cho mỗi biến)."
    ),
    "weighting.margins_not_utf8": lazy_gettext("Tệp CSV phải được lưu với mã hóa UTF-8."),
    "weighting.template_too_large": lazy_gettext(
        "Bảng hậu phân tầng theo các biến đã chọn có %(cells)s ô, quá %(maximum)s ô để nhập "
        "bằng tay: hãy chọn ít biến hơn."
    ),
    "weighting.preview_expired": lazy_gettext(
        "Bản xem trước đã quá một giờ hoặc không hợp lệ: chưa lưu gì. Vui lòng chọn cài đặt "
        "và xem trước lại."
    ),
    "weighting.preview_stale": lazy_gettext(
        "Cài đặt trọng số đã được thay đổi sau khi bạn xem trước: chưa lưu gì. Vui lòng xem "
        "trước lại với cài đặt hiện hành."
    ),
}
