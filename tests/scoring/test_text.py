"""What text may hold: scoring.text.clean_text and printable, on arbitrary Unicode."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.text import TextError, clean_text, find_refused, printable

# XML 1.0's Char production: what an XLSX cell can hold.
XML_CHAR = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")
anything = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Cán bộ\r\nnhiệt tình", "Cán bộ\nnhiệt tình"),
        ("dòng 1\rdòng 2", "dòng 1\ndòng 2"),
        ("Word\x0bline break", "Word\nline break"),
        ("para\u2029graph", "para\ngraph"),
        ("tab\tkept", "tab\tkept"),
        ("Nguye\u0302\u0303n", "Nguyễn"),  # decomposed input stored composed (NFC)
    ],
)
def test_line_breaks_become_lf_and_text_is_nfc(given: str, stored: str) -> None:
    assert clean_text(given) == stored


@pytest.mark.parametrize(
    ("text", "codepoint", "position", "reason"),
    [
        ("a\x00b", 0x00, 2, "control"),
        ("\x1b[31m", 0x1B, 1, "control"),
        ("x\x7f", 0x7F, 2, "control"),
        ("x\x9b", 0x9B, 2, "control"),
        ("abc\ud800", 0xD800, 4, "surrogate"),
        ("\ufffe", 0xFFFE, 1, "noncharacter"),
        ("safe\u202eexe.txt", 0x202E, 5, "direction"),
    ],
)
def test_refused_characters_are_named_with_their_position(
    text: str, codepoint: int, position: int, reason: str
) -> None:
    with pytest.raises(TextError) as caught:
        clean_text(text)
    assert (caught.value.codepoint, caught.value.position, caught.value.reason) == (
        codepoint,
        position,
        reason,
    )
    assert caught.value.character == f"U+{codepoint:04X}"


@pytest.mark.parametrize("text", ["two\nlines", "a\r\nb", "tab\there", "v\x0bt"])
def test_single_line_text_refuses_breaks_and_tabs(text: str) -> None:
    with pytest.raises(TextError):
        clean_text(text, multiline=False)


@given(anything)
def test_clean_text_stores_only_what_it_accepts_and_is_idempotent(text: str) -> None:
    try:
        stored = clean_text(text)
    except TextError as error:
        assert 1 <= error.position <= len(text)
        assert ord(text[error.position - 1]) == error.codepoint
        return
    assert find_refused(stored) is None
    assert "\r" not in stored
    assert unicodedata.is_normalized("NFC", stored)
    assert clean_text(stored) == stored


@given(anything)
def test_printable_output_fits_a_spreadsheet_cell(text: str) -> None:
    shown = printable(text)
    assert XML_CHAR.match(shown)
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", shown)


def test_printable_keeps_clean_text_unchanged() -> None:
    text = "Thủ tục nhanh.\nCán bộ\tnhiệt tình 😀"
    assert printable(text) == text


@given(anything, st.booleans())
def test_find_refused_is_the_first_character_refused_one_by_one(text: str, multiline: bool) -> None:
    from scoring.text import _refusal

    breaks = "\r\x0b\x0c\x85\u2028\u2029"

    def refused(char: str) -> bool:
        return not multiline if char in breaks else _refusal(char, multiline) is not None

    first = next(((i + 1, char) for i, char in enumerate(text) if refused(char)), None)
    found = find_refused(text, multiline=multiline)
    assert (None if found is None else (found.position, chr(found.codepoint))) == first
