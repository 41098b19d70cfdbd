"""Staff accounts and passwords."""

from flask_babel import lazy_gettext

MESSAGES = {
    "account.password_too_short": lazy_gettext("Mật khẩu phải có ít nhất %(minimum)s ký tự."),
    "account.password_too_long": lazy_gettext("Mật khẩu dài tối đa %(maximum)s ký tự."),
    "account.password_control": lazy_gettext(
        "Mật khẩu không được chứa ký tự điều khiển (xuống dòng, tab...)."
    ),
    "account.password_has_username": lazy_gettext("Mật khẩu không được chứa tên đăng nhập."),
    "account.password_has_app_word": lazy_gettext(
        "Mật khẩu không được chứa tên của hệ thống (%(word)s)."
    ),
    "account.password_repeats": lazy_gettext(
        "Mật khẩu quá dễ đoán: có ký tự hay cụm ký tự lặp lại (như aaaaaaaaaa, abcabcabc)."
    ),
    "account.password_guessable": lazy_gettext(
        "Mật khẩu quá dễ đoán: %(reason)s Hãy chọn mật khẩu khác, ví dụ một cụm bốn, năm từ "
        "không liền nghĩa nối bằng dấu gạch."
    ),
    "account.username_invalid": lazy_gettext(
        "Tên đăng nhập chỉ gồm chữ thường không dấu, chữ số, '.', '_', '-' (2-64 ký tự)."
    ),
    "account.role_invalid": lazy_gettext("Vai trò không hợp lệ: %(role)r."),
    "account.username_taken": lazy_gettext("Tên đăng nhập %(username)r đã được dùng."),
    "account.agency_required": lazy_gettext(
        "Cán bộ cơ quan và người chỉ xem phải thuộc một cơ quan."
    ),
    "account.agency_unknown": lazy_gettext("Không có cơ quan mã %(agency)r."),
    "account.unknown": lazy_gettext("Không có tài khoản %(username)r."),
    "account.wrong_password": lazy_gettext("Mật khẩu hiện tại không đúng."),
    "account.password_unchanged": lazy_gettext("Mật khẩu mới phải khác mật khẩu hiện tại."),
    "account.reset_own": lazy_gettext(
        "Không đặt lại mật khẩu của chính mình ở đây: hãy dùng trang “Đổi mật khẩu”."
    ),
}

# What the longest weak part of a password is, by zxcvbn's pattern (``reason`` above).
WEAK_PATTERNS = {
    "repeat": lazy_gettext("có ký tự hay cụm ký tự lặp lại (như aaaaaaaaaa, abcabcabc)."),
    "sequence": lazy_gettext("có dãy liên tiếp (như 1234567890, abcdefghij)."),
    "spatial": lazy_gettext("có dãy phím liền nhau trên bàn phím (như qwertyuiop)."),
    "dictionary": lazy_gettext(
        "có mật khẩu hay từ rất phổ biến (như password, matkhau, iloveyou)."
    ),
    "date": lazy_gettext("có ngày tháng hoặc năm."),
    "regex": lazy_gettext("có ngày tháng hoặc năm."),
    "bruteforce": lazy_gettext("quá ngắn hoặc quá đơn giản."),
}
