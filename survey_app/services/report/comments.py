"""Citizens' comments as the report quotes them: nothing that identifies the citizen or
pins the desk and the minute.

The dashboard lists every comment with its desk and time for the officials who run the
desks; a report travels further (to the province, into the PAR evidence), so it quotes a
selection under these rules:

- no desk, agency, date or time beside a comment, and an order that says nothing of them
  (a hash of the text, not the submission order);
- no quotes at all when the scope has fewer than :data:`MIN_RESPONSES` responses (a small
  desk's few respondents are known to its staff);
- in the text, whatever can point at a person, a desk or a moment is replaced by
  :data:`MASK`: e-mail and web addresses, runs of digits that can be a phone, ID card or
  dossier number, clock times and dates, a desk's number ("quầy 3") and the campaign's
  desk codes and names, and a name after a
  form of address or an introduction ("chị Lan", "tôi là Nguyễn Văn A");
- at most :data:`MAX_QUOTED` comments, each cut to :data:`MAX_CHARS` characters.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import pandas as pd

MASK = "[…]"
MIN_RESPONSES = 10
MAX_QUOTED = 15
MAX_CHARS = 400

_UPPER = "A-ZÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬĐÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴ"
_NAME = rf"[{_UPPER}][\w]*(?:\s+[{_UPPER}][\w]*)*"
# Forms of address and introductions that a name follows (case-insensitive).
_ADDRESS = (
    r"anh|chị|chi|ông|bà|cô|chú|bác|em|bạn|cán bộ|công chức|nhân viên|đồng chí|"
    r"tôi là|tên tôi là|tên tôi|tên là|tôi tên là|tôi tên"
)
# (pattern, replacement, whether it pins a desk or a moment rather than a person)
_RULES: tuple[tuple[re.Pattern[str], str, bool], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), MASK, False),
    (re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE), MASK, False),
    # Clock times: 9h30, 9 giờ 30, 14:05, 8h.
    (
        re.compile(r"\b\d{1,2}\s*(?:h|g|giờ|:)\s*\d{0,2}(?:\s*phút)?\b", re.IGNORECASE),
        MASK,
        True,
    ),
    # Dates: 12/3, 12/03/2026, 12-3-2026, ngày 12 tháng 3.
    (re.compile(r"\b\d{1,2}\s*[/.-]\s*\d{1,2}(?:\s*[/.-]\s*\d{2,4})?\b"), MASK, True),
    (
        re.compile(r"\bngày\s+\d{1,2}(?:\s+tháng\s+\d{1,2})?(?:\s+năm\s+\d{4})?", re.IGNORECASE),
        MASK,
        True,
    ),
    # Phone, ID card, dossier numbers: five digits or more, spaces and dots allowed between.
    (re.compile(r"(?<!\w)\+?\d(?:[\s.-]?\d){4,}(?!\w)"), MASK, False),
    # A desk's or a counter's number: "quầy 3", "quầy số 2", "bàn số 4", "cửa A1", "quầy STP-01".
    (
        re.compile(r"\b(quầy|bàn|cửa|phòng)(\s+số)?\s+[\w-]*\d[\w-]*", re.IGNORECASE),
        rf"\1 {MASK}",
        True,
    ),
)
_NAMED = re.compile(rf"\b((?i:{_ADDRESS}))\s+({_NAME})")


def mask(
    text: str, desks: Iterable[str] = (), *, moments: bool = True, limit: int | None = MAX_CHARS
) -> str:
    """The comment with what can identify a person, a desk or a moment replaced by ``[…]``;
    ``desks`` are the campaign's desk codes and names, masked wherever they appear.

    ``moments=False`` masks the person only (addresses, numbers, names) and leaves desks,
    dates and times in the text; ``limit`` cuts the text to that many characters (None:
    the whole text).
    """
    out = " ".join(text.split())
    if moments:
        for desk in sorted({d for d in desks if d.strip()}, key=len, reverse=True):
            out = re.sub(re.escape(desk), MASK, out, flags=re.IGNORECASE)
    for pattern, replacement, pins_moment in _RULES:
        if moments or not pins_moment:
            out = pattern.sub(replacement, out)

    # The form of address in any case, the name capitalised: "chị Lan", "Tôi là Nguyễn Văn A".
    out = _NAMED.sub(rf"\1 {MASK}", out)
    if limit is not None and len(out) > limit:
        out = out[: limit - 1].rstrip() + "…"
    return out


def _order(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def quoted_comments(
    comments: pd.DataFrame, submission_ids: pd.Series, responses: int, desks: Iterable[str] = ()
) -> list[str]:
    """The comments the report quotes: of these submissions, masked, in hash order.

    ``comments`` has columns ``submission_id`` and ``text`` (the view's free texts);
    ``responses`` is the number of responses in the report's scope; ``desks`` the desk
    codes and names to mask.
    """
    if responses < MIN_RESPONSES or comments.empty:
        return []
    inside = comments[comments["submission_id"].isin(submission_ids)]
    texts = [str(t) for t in inside["text"].fillna("") if str(t).strip()]
    desks = list(desks)
    masked = sorted({mask(t, desks) for t in texts}, key=_order)
    return masked[:MAX_QUOTED]
