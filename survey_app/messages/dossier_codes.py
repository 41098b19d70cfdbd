"""Dossier codes (mã khảo sát theo hồ sơ) issued at desks and by the one-stop API."""

from flask_babel import lazy_gettext

MESSAGES = {
    "dossier.ref_empty": lazy_gettext("Số hồ sơ đang để trống."),
    "dossier.ref_too_long": lazy_gettext("Số hồ sơ dài quá %(maximum)s ký tự."),
    "dossier.unknown_desk": lazy_gettext("Không có bộ phận một cửa đang hoạt động mã %(desk)r."),
    "dossier.code_invalid": lazy_gettext("Mã khảo sát không hợp lệ."),
    "dossier.code_expired": lazy_gettext("Mã khảo sát đã hết hạn."),
}
