"""Citizens' comments (góp ý): the comments page's filters and the handled mark."""

from flask_babel import lazy_gettext

MESSAGES = {
    "comments.period_unknown": lazy_gettext(
        "Kỳ “%(period)s” không có trong đợt khảo sát; chọn một trong: %(periods)s."
    ),
    "comments.criterion_unknown": lazy_gettext(
        "Bộ câu hỏi không có tiêu chí mã “%(code)s”; chọn một tiêu chí trong danh sách."
    ),
    "comments.score_missing": lazy_gettext(
        "Khi lọc theo tiêu chí, vui lòng chọn điểm tối đa (một trong: %(scores)s)."
    ),
    "comments.score_invalid": lazy_gettext(
        "Điểm tối đa “%(score)s” không có trên thang của tiêu chí; chọn một trong: %(scores)s."
    ),
    "comments.score_without_criterion": lazy_gettext(
        "Điểm tối đa chỉ dùng cùng một tiêu chí; vui lòng chọn tiêu chí."
    ),
    "comments.agency_unknown": lazy_gettext(
        "Không có cơ quan mã “%(code)s” (trong phạm vi tài khoản này)."
    ),
    "comments.desk_unknown": lazy_gettext(
        "Không có quầy mã “%(code)s” trong đợt khảo sát (trong phạm vi tài khoản này)."
    ),
    "comments.search_too_long": lazy_gettext("Nội dung tìm kiếm dài quá %(limit)s ký tự."),
    "comments.handled_invalid": lazy_gettext(
        "Trạng thái xử lý “%(value)s” không hợp lệ; dùng “yes” (đã xử lý) hoặc “no” (chưa xử lý)."
    ),
    "comments.unknown": lazy_gettext("Không tìm thấy góp ý này."),
    "comments.note_missing": lazy_gettext(
        "Vui lòng ghi chú đã làm gì (hoặc vì sao bỏ đánh dấu) trước khi lưu."
    ),
    "comments.note_too_long": lazy_gettext("Ghi chú dài quá %(limit)s ký tự."),
}
