"""Computing the indices (tính chỉ số) of a campaign's answers."""

from flask_babel import lazy_gettext

MESSAGES = {
    "analysis.too_few_answers": lazy_gettext(
        "Đợt khảo sát chưa có đủ phiếu để tính chỉ số (cần ít nhất 2 phiếu)."
    ),
    "analysis.weights_failed": lazy_gettext(
        "Không tính được trọng số với cài đặt hiện tại: %(detail)s"
    ),
    "analysis.indices_failed": lazy_gettext("Không tính được chỉ số: %(detail)s"),
}
