"""The message catalogue: every text marked in code and templates is in it, in English.

Texts are written in Vietnamese where they are used; the English lives in
``survey_app/translations/en/LC_MESSAGES/messages.po`` (``make messages`` collects new
ones). A text missing here would show in Vietnamese on an English page.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "survey_app/translations/en/LC_MESSAGES/messages.po"
METHODS = [("survey_app/**.py", "python"), ("survey_app/templates/**.html", "jinja2")]
# Babel's default keywords and lazy_gettext, as `make messages` extracts them.
KEYWORDS = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]|\{(\w+)\}")


def _catalogue() -> dict[str, str]:
    with PO.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def _marked_texts() -> set[str]:
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, METHODS, keywords=KEYWORDS, options_map={"survey_app/templates/**.html": {}}
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_marked_text_is_in_the_catalogue_and_nothing_stale_is_left() -> None:
    marked, catalogue = _marked_texts(), _catalogue()
    assert marked, "no texts found: the extraction is broken"
    assert sorted(marked - set(catalogue)) == [], "run `make messages` and translate them"
    assert sorted(set(catalogue) - marked) == [], "run `make messages` to drop stale texts"


def test_every_text_has_its_english() -> None:
    untranslated = [vi for vi, en in _catalogue().items() if not en.strip()]
    assert untranslated == []


def test_english_keeps_the_placeholders_of_the_vietnamese() -> None:
    wrong = {
        vi: en
        for vi, en in _catalogue().items()
        if sorted(PLACEHOLDER.findall(vi)) != sorted(PLACEHOLDER.findall(en))
    }
    assert wrong == {}
