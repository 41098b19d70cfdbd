"""Checks that a staff page shown in English has no Vietnamese left but data.

Data (agency, desk and campaign names, the questionnaire's Vietnamese texts, citizens'
comments) is shown as stored; everything else on an English page must be English. A
Vietnamese text is recognised by its letters with diacritics (ă, ơ, ư, đ, tones).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, Submission

ROOT = Path(__file__).resolve().parents[1]
VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)
# Shown on purpose: the switch's own name, and the XLSX template's sheet names (the file
# stays Vietnamese, the page names its sheets so they can be found).
ALWAYS_ALLOWED = ("Tiếng Việt", "Hướng dẫn", "Bộ phận một cửa")


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def data_values(questionnaire: str = "sipas-2023") -> list[str]:
    """Names and texts stored as data (call within an app context), longest first."""
    values: set[str] = set(ALWAYS_ALLOWED)
    for model in (Agency, Desk, Campaign):
        values.update(db.session.scalars(select(model.name)))
    for answers in db.session.scalars(select(Submission.answers)):
        values.update(v for v in answers.values() if isinstance(v, str))
    document = yaml.safe_load((ROOT / "questionnaires" / f"{questionnaire}.yaml").read_text())
    for text in _strings(document):
        values.update({text, text[:1].lower() + text[1:], " ".join(text.split())})
    return sorted((v for v in values if VIETNAMESE.search(v)), key=len, reverse=True)


class _Text(HTMLParser):
    """The text a reader sees or hears: text nodes, titles, labels, placeholders. An SVG
    ``<text>`` (a chart's label wrapped over ``<tspan>`` lines) is one piece."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0
        self._svg_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "text":
            self._svg_text = []
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder", "alt") and value:
                self.parts.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "text" and self._svg_text is not None:
            self.parts.append(" ".join(self._svg_text))
            self._svg_text = None

    def handle_data(self, data: str) -> None:
        if self._skip or not data.strip():
            return
        if self._svg_text is not None:
            self._svg_text.append(data.strip())
        else:
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    return parser.parts


def vietnamese_left(texts: Iterable[str], values: list[str]) -> list[str]:
    """The pieces of text that still read Vietnamese once data values are taken out."""
    left = []
    for text in texts:
        rest = " ".join(text.split())
        for value in values:
            if value in rest:
                rest = rest.replace(value, " ")
        if VIETNAMESE.search(rest):
            left.append(rest.strip())
    return left
