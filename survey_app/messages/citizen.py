"""Problems of the citizen form: refused answers (field = item code) and the pages shown
instead of a form (``citizen.*``: the body text; the view adds the title and status)."""

from flask_babel import lazy_gettext

MESSAGES = {
    # A value the form sent for an item (survey_app.questions, services.submissions).
    "answer.unknown": lazy_gettext("Câu hỏi này không có trong phiếu khảo sát."),
    "answer.required": lazy_gettext("Vui lòng trả lời câu hỏi này."),
    "answer.not_option": lazy_gettext("Lựa chọn không hợp lệ, vui lòng chọn lại."),
    "answer.one_choice": lazy_gettext("Chỉ được chọn một phương án."),
    "answer.not_number": lazy_gettext("Vui lòng nhập một số (ví dụ: 3)."),
    "answer.not_integer": lazy_gettext("Vui lòng nhập số nguyên (không có phần thập phân)."),
    "answer.too_long": lazy_gettext(
        "Câu trả lời dài quá %(limit)s ký tự (hiện có %(length)s ký tự)."
    ),
    "answer.out_of_range": lazy_gettext("Vui lòng nhập số từ %(minimum)s đến %(maximum)s."),
    "answer.below_minimum": lazy_gettext("Vui lòng nhập số không nhỏ hơn %(minimum)s."),
    "answer.above_maximum": lazy_gettext("Vui lòng nhập số không lớn hơn %(maximum)s."),
    "answer.bad_text": lazy_gettext(
        "Câu trả lời có ký tự không được phép (%(character)s) ở vị trí %(position)s; "
        "vui lòng xóa ký tự này."
    ),
    # Why no form is shown, or a submission is not stored (a page of its own).
    "citizen.unknown_desk": lazy_gettext(
        "Mã QR hoặc đường dẫn này không ứng với quầy tiếp nhận nào. Vui lòng kiểm tra lại "
        "hoặc hỏi cán bộ tại Bộ phận một cửa."
    ),
    "citizen.inactive_desk": lazy_gettext(
        "Quầy tiếp nhận này đã ngừng khảo sát. Vui lòng quét mã QR đang dán tại quầy "
        "Ông/Bà vừa làm thủ tục."
    ),
    "citizen.no_campaign": lazy_gettext(
        "Quầy tiếp nhận này hiện không có đợt khảo sát nào đang diễn ra. Cảm ơn Ông/Bà đã quan tâm."
    ),
    "citizen.campaign_changed": lazy_gettext(
        "Đợt khảo sát của phiếu này đã kết thúc hoặc đã thay đổi trong lúc Ông/Bà trả lời. "
        "Vui lòng quét lại mã QR để mở phiếu mới."
    ),
    "citizen.code_invalid": lazy_gettext(
        "Đường dẫn hoặc mã QR trên phiếu hẹn không đúng hoặc không đầy đủ. Vui lòng quét lại "
        "mã QR trên phiếu hẹn, hoặc quét mã QR dán tại quầy tiếp nhận."
    ),
    "citizen.code_expired": lazy_gettext(
        "Mã đánh giá trên phiếu hẹn chỉ dùng được trong một thời gian nhất định và nay đã hết "
        "hạn. Ông/Bà vẫn có thể đánh giá bằng mã QR dán tại quầy tiếp nhận."
    ),
    "citizen.code_spent": lazy_gettext(
        "Mỗi hồ sơ chỉ được đánh giá một lần và mã trên phiếu hẹn này đã được dùng. "
        "Cảm ơn Ông/Bà đã tham gia khảo sát."
    ),
    "citizen.conflict": lazy_gettext(
        "Phiếu khảo sát này đã được gửi với các câu trả lời khác; các câu trả lời đã gửi "
        "được giữ nguyên. Nếu muốn đánh giá một lần khác, vui lòng quét lại mã QR để mở "
        "phiếu mới."
    ),
    "citizen.bad_form": lazy_gettext(
        "Dữ liệu gửi lên không đầy đủ. Vui lòng quét lại mã QR để mở phiếu mới."
    ),
    "citizen.csrf": lazy_gettext(
        "Trang khảo sát đã để quá lâu hoặc trình duyệt chặn cookie, nên chưa gửi được. "
        "Vui lòng tải lại trang (quét lại mã QR) và thử lại."
    ),
    "citizen.rate_limited": lazy_gettext(
        "Có quá nhiều lần gửi từ mạng này hoặc đến quầy này trong thời gian ngắn. Vui lòng "
        "đợi khoảng một phút rồi quét lại mã QR."
    ),
    "citizen.receipt_unknown": lazy_gettext("Không có phiếu khảo sát nào với mã biên nhận này."),
}
