"""Text refused under :mod:`scoring.text`'s rules, and the names of the fields it is in."""

from flask_babel import lazy_gettext

MESSAGES = {
    "text.refused_in": lazy_gettext(
        "%(what)s có ký tự không được phép (%(character)s) ở vị trí %(position)s; "
        "vui lòng xóa ký tự này."
    ),
    "text.line_break_in": lazy_gettext(
        "%(what)s phải viết trên một dòng: có ký tự xuống dòng (%(character)s) ở vị trí "
        "%(position)s; vui lòng xóa ký tự này."
    ),
}

# What a refused text was given as (the ``what`` of a refusal).
USERNAME = lazy_gettext("Tên đăng nhập")
AGENCY_KIND = lazy_gettext("Loại cơ quan")
