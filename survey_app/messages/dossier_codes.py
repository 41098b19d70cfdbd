"""Dossier codes (mã khảo sát theo hồ sơ) issued at desks and by the one-stop API."""

from flask_babel import lazy_gettext

MESSAGES = {
    "dossier.ref_empty": lazy_gettext("Số hồ sơ đang để trống."),
    "dossier.ref_too_long": lazy_gettext("Số hồ sơ dài quá %(maximum)s ký tự."),
    "dossier.unknown_desk": lazy_gettext("Không có bộ phận một cửa đang hoạt động mã %(desk)r."),
    "dossier.code_invalid": lazy_gettext("Mã khảo sát không hợp lệ."),
    "dossier.code_expired": lazy_gettext("Mã khảo sát đã hết hạn."),
    # What a citizen typed on the landing page is not a code.
    "dossier.short_empty": lazy_gettext(
        "Vui lòng nhập mã đánh giá in trên phiếu, ví dụ BKQ7M-X4T2J."
    ),
    "dossier.short_characters": lazy_gettext(
        "Mã đánh giá không có ký tự %(characters)s. Mã chỉ gồm các chữ số từ 2 đến 9 và "
        "các chữ cái B C F G H J K L M N P Q R T V X (không có chữ O, chữ I, số 0, số 1)."
    ),
    "dossier.short_length": lazy_gettext(
        "Mã đánh giá có %(expected)s ký tự (ví dụ BKQ7M-X4T2J); mã vừa nhập có %(length)s ký "
        "tự. Vui lòng đối chiếu lại với mã in trên phiếu."
    ),
    "dossier.short_check": lazy_gettext(
        "Mã vừa nhập chưa đúng: có thể một ký tự bị gõ nhầm hoặc đổi chỗ. Vui lòng đối chiếu "
        "lại từng ký tự với mã in trên phiếu."
    ),
    "dossier.short_unknown": lazy_gettext(
        "Không tìm thấy mã đánh giá %(code)s. Vui lòng đối chiếu lại với mã in trên phiếu."
    ),
    # A list of dossiers for a day's slips.
    "dossier.list_empty": lazy_gettext("Danh sách chưa có số hồ sơ nào: mỗi dòng một số hồ sơ."),
    "dossier.list_too_long": lazy_gettext(
        "Mỗi lần in được tối đa %(maximum)s hồ sơ; danh sách có %(count)s hồ sơ. Vui lòng "
        "chia thành nhiều lần."
    ),
    "dossier.list_line_too_long": lazy_gettext(
        "Dòng %(line)s: số hồ sơ dài quá %(maximum)s ký tự."
    ),
    "dossier.list_line_refused": lazy_gettext(
        "Dòng %(line)s: số hồ sơ có ký tự không được phép (%(character)s)."
    ),
    "dossier.list_file_unreadable": lazy_gettext(
        "Không đọc được tệp danh sách: cần tệp văn bản (.txt hoặc .csv) mã hóa UTF-8, mỗi "
        "dòng một số hồ sơ."
    ),
}
