"""Problems any area can raise."""

from flask_babel import lazy_gettext

MESSAGES = {
    "text.refused": lazy_gettext(
        "Có ký tự không được phép (%(codepoint)s) ở vị trí %(position)s; vui lòng xóa ký tự này."
    ),
}
