"""Short dossier codes (mã đánh giá): ten characters a person reads off a slip and types.

Nine random characters and a check character, written in two groups of five
(``BKQ7M-X4T2J``). The alphabet is the digits 2-9 and the consonants B C F G H J K L M N
P Q R T V X: no 0/O, 1/I, S/5 or Z/2 to confuse, and no vowel, D or W, so the Vietnamese
keyboards of most phones (Telex, VNI) cannot turn what is typed into a Vietnamese letter
(``AS`` into ``Á``, ``DD`` into ``Đ``, ``W`` into ``Ư``, ``A1`` into ``Á``), and no code
spells a word. 24^9 codes (41 bits) make guessing a live one hopeless.

The check character is Luhn mod 24: it catches every single mistyped character and most
swaps of two neighbours, so a typo is told as a typo before anything is looked up.
Pure functions, no database: the codes issued are in ``dossier_codes``.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from survey_app.services.errors import ServiceError

ALPHABET = "23456789BCFGHJKLMNPQRTVX"
BODY_LENGTH = 9
LENGTH = BODY_LENGTH + 1
GROUP = 5
# What people put between groups, or around the code, when they type or paste it.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212._·,/]+")


class ShortCodeError(ServiceError):
    """What was typed is not a short code (``dossier.short_*``), said in the citizen's terms."""


def new_code() -> str:
    """A fresh random code in canonical form (ten characters, no separator)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return body + check_character(body)


def code_from(digest: bytes) -> str:
    """The code in canonical form that a keyed digest (32 bytes) stands for: the same
    digest, the same code, for a code that must be found again rather than drawn anew."""
    value = int.from_bytes(digest, "big")
    body = []
    for _ in range(BODY_LENGTH):
        value, index = divmod(value, len(ALPHABET))
        body.append(ALPHABET[index])
    return "".join(body) + check_character("".join(body))


def check_character(body: str) -> str:
    """The Luhn mod N check character of ``body`` (characters of ALPHABET)."""
    n = len(ALPHABET)
    total = 0
    double = True  # the rightmost character of the body is doubled
    for char in reversed(body):
        value = ALPHABET.index(char)
        if double:
            value *= 2
            value = value // n + value % n
        total += value
        double = not double
    return ALPHABET[(n - total % n) % n]


def grouped(code: str) -> str:
    """``BKQ7MX4T2J`` as printed and shown: ``BKQ7M-X4T2J``."""
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def parse(typed: str) -> str:
    """The canonical code of what a person typed or pasted, or ShortCodeError saying why not.

    Forgives case, spaces and dashes, full-width characters and a whole pasted link
    (``https://.../c/BKQ7M-X4T2J``).
    """
    text = unicodedata.normalize("NFKC", typed).strip()
    if "/" in text.rstrip("/"):
        text = text.rstrip("/").rsplit("/", 1)[1]
    text = _SEPARATORS.sub("", text).upper()
    if not text:
        raise ShortCodeError.of("dossier.short_empty", field="ma")
    foreign = "".join(dict.fromkeys(c for c in text if c not in ALPHABET))
    if foreign:
        raise ShortCodeError.of(
            "dossier.short_characters", field="ma", characters=" ".join(foreign)
        )
    if len(text) != LENGTH:
        raise ShortCodeError.of(
            "dossier.short_length", field="ma", expected=LENGTH, length=len(text)
        )
    if check_character(text[:-1]) != text[-1]:
        raise ShortCodeError.of("dossier.short_check", field="ma")
    return text
