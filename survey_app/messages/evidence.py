"""Evidence packs (tài liệu kiểm chứng) of a campaign, period and scope."""

from flask_babel import lazy_gettext

MESSAGES = {
    "evidence.no_answers": lazy_gettext(
        "Chưa có phiếu nào trong kỳ %(period)s và phạm vi này: chưa lập được tài liệu kiểm chứng."
    ),
}
