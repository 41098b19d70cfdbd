"""The survey report (báo cáo kết quả khảo sát): which campaign, period and agency."""

from flask_babel import lazy_gettext

MESSAGES = {
    "report.unknown_period": lazy_gettext(
        "Kỳ “%(code)s” không có trong đợt khảo sát %(campaign)s. Các kỳ hợp lệ: %(periods)s "
        "(all: toàn đợt; năm: 2026; quý: 2026-Q2; tháng: 2026-05)."
    ),
    "report.unknown_agency": lazy_gettext(
        "Không có cơ quan mã “%(code)s” trong phạm vi bạn được xem."
    ),
    "report.unknown_desk": lazy_gettext(
        "Không có quầy mã “%(code)s” trong đợt khảo sát %(campaign)s, trong phạm vi bạn được xem."
    ),
    "report.desk_outside_agency": lazy_gettext(
        "Quầy “%(desk)s” không thuộc cơ quan “%(agency)s”: chọn một quầy của cơ quan đó, "
        "hoặc bỏ chọn cơ quan."
    ),
    "report.unknown_format": lazy_gettext(
        "Định dạng báo cáo “%(format)s” không hợp lệ: chọn docx hoặc pdf."
    ),
}
