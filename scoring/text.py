"""What text may hold, wherever it enters: a citizen's answer, a paper cell, a staff form,
a questionnaire YAML, a URL part.

Text is Unicode in NFC. Line breaks of every kind (CR LF, CR, vertical tab, which is
Word's manual line break, form feed, NEL, U+2028, U+2029) become LF in multi-line text,
and tabs are kept there. Everything else that prints as nothing and has no place in a
survey answer is refused: the other C0 and C1 control characters and DEL (spreadsheets
cannot hold them, since XML 1.0 has no way to write them, and PostgreSQL text cannot hold
NUL), lone surrogates, Unicode noncharacters, and the controls that silently reverse the
direction of the text that follows them (U+202A-U+202E, U+2066-U+2069), which can make a
comment read differently on screen than it is stored.

:func:`clean_text` returns the normalised text or raises :class:`TextError`, which names
the first refused character and its position, so each caller words the message for its
own reader (Vietnamese for citizens and officials).
"""

from __future__ import annotations

import re
import unicodedata

from scoring.errors import ScoringError

# Line breaks as phones, Word and other systems write them; CR LF first, as one break.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")
_DIRECTION_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class TextError(ScoringError):
    """A character that text may not hold.

    ``codepoint`` is the character's code point, ``position`` its 1-based place in the
    text as given, ``reason`` one of ``control``, ``line_break`` (in single-line text),
    ``surrogate``, ``noncharacter``, ``direction``.
    """

    def __init__(self, codepoint: int, position: int, reason: str) -> None:
        self.codepoint = codepoint
        self.position = position
        self.reason = reason
        super().__init__(f"character U+{codepoint:04X} at position {position} ({reason})")

    @property
    def character(self) -> str:
        """``U+001B``: how messages name the character (it may not print)."""
        return f"U+{self.codepoint:04X}"


def _refusal(char: str, multiline: bool) -> str | None:
    code = ord(char)
    if char == "\n" or char == "\t":
        return None if multiline else "line_break" if char == "\n" else "control"
    if code < 0x20 or 0x7F <= code <= 0x9F:
        return "control"
    if 0xD800 <= code <= 0xDFFF:
        return "surrogate"
    if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
        return "noncharacter"
    if char in _DIRECTION_CONTROLS:
        return "direction"
    return None


# Every character find_refused may stop at (and some it lets through): text without any
# is answered by one regular expression search, not a loop over its characters; every
# request's fields go through here.
_MAYBE_REFUSED = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef"
    "\ufffe\uffff\U0001fffe-\U0010ffff]"
)


def find_refused(text: str, *, multiline: bool = True) -> TextError | None:
    """The first character of ``text`` (as given) that :func:`clean_text` refuses, or None."""
    if _MAYBE_REFUSED.search(text) is None:
        return None
    for index, char in enumerate(text):
        if char in "\r\x0b\x0c\x85\u2028\u2029":
            if multiline:
                continue
            return TextError(ord(char), index + 1, "line_break")
        reason = _refusal(char, multiline)
        if reason is not None:
            return TextError(ord(char), index + 1, reason)
    return None


def clean_text(text: str, *, multiline: bool = True) -> str:
    """``text`` as stored: NFC, every line break as LF; raises :class:`TextError`.

    Single-line text (names, codes, usernames: ``multiline=False``) may hold no line
    break and no tab. Leading and trailing white space is the caller's to strip.
    """
    refused = find_refused(text, multiline=multiline)
    if refused is not None:
        raise refused
    if multiline:
        text = _LINE_BREAKS.sub("\n", text)
    return unicodedata.normalize("NFC", text)


_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\u202a-\u202e\u2066-\u2069]"
)


def printable(text: str) -> str:
    """``text`` with its line breaks as LF and every other character :func:`clean_text`
    refuses replaced by U+FFFD.

    For output of text stored before these rules (an export must never fail on what is
    stored). Noncharacters outside the Basic Multilingual
    Plane are left alone: they are rare, and XML and spreadsheets accept them.
    """
    return _UNPRINTABLE.sub("\ufffd", _LINE_BREAKS.sub("\n", text))
