"""Question kinds (loại câu hỏi): one class per item ``type`` of the questionnaire YAML.

A questionnaire item (``scoring.questionnaire.Item``) is data; what differs between a single
choice, a multiple choice, a number and a text lives here, once, instead of in branches on
``item.type`` across the app (after indico's ``surveys/fields``). Each kind knows

- how to read the values a citizen's form sends for the item (``parse_form``),
- how to read a cell of a paper-survey file (``read_paper_cell``),
- how to lay out its answer in the raw export and describe it in the codebooks,
- whether the analysis reads it, and which input the form shows.

Kinds are stateless; ``kind_of(item)`` gives the one for an item. A refused value comes back
as a :class:`~survey_app.services.errors.Problem` (an ``answer.*`` code with parameters):
the caller words it for its reader (``survey_app.messages.citizen``; the paper import words
the ``answer.*`` codes particular to paper cells itself).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Literal

from scoring.io import MULTI_SEPARATOR
from scoring.questionnaire import DEFAULT_TEXT_MAX_LENGTH, Item
from scoring.text import TextError, clean_text
from survey_app.services.errors import Problem

__all__ = [
    "KINDS",
    "AnswerValue",
    "ChoiceKind",
    "CodebookEntry",
    "MultipleChoice",
    "NumberKind",
    "PaperCheck",
    "Problem",
    "QuestionKind",
    "SingleChoice",
    "TextKind",
    "kind_of",
]

AnswerValue = int | list[int] | Decimal | str
Cell = int | float | str | None
Widget = Literal["radio", "checkbox", "number", "textarea"]

# Numbers keep 6 decimals (quantized below) and at most 12 digits before the point.
NUMBER_LIMIT = Decimal("1e12")
# On paper, several codes are written 1;3 (or with commas or spaces).
PAPER_SEPARATORS = re.compile(r"[;,\s]+")


@dataclass(frozen=True)
class CodebookEntry:
    """One row of the raw export's codebook: a column value and what it means."""

    column: str
    code: int | str
    label: str
    valid: str


Parsed = tuple[AnswerValue | None, Problem | None]


@dataclass(frozen=True)
class PaperCheck:
    """How a spreadsheet checks a paper template cell as it is typed (Excel's data
    validation): ``kind`` ``list`` (a drop-down of ``first``, codes separated by commas),
    ``whole``, ``decimal`` or ``textLength`` compared by ``operator`` with ``first`` (and
    ``second``); None: no check, the cell only says how to fill it."""

    kind: Literal["list", "whole", "decimal", "textLength"] | None = None
    operator: Literal["between", "greaterThanOrEqual", "lessThanOrEqual"] | None = None
    first: str | None = None
    second: str | None = None


class QuestionKind:
    """What an item of one ``type`` does; subclasses set the class attributes."""

    #: the ``type`` in the questionnaire YAML
    name: ClassVar[str]
    #: the type as the Vietnamese codebooks name it
    label: ClassVar[str]
    #: the answer is one or more of the item's options
    has_options: ClassVar[bool] = False
    #: the form input: radio buttons, check boxes, a number field or a text area
    widget: ClassVar[Widget]
    #: the answer is a column of the analysis frame (index input, breakdown and
    #: weighting variable)
    analysed: ClassVar[bool] = False
    #: the answer is read by the analysis as a free-text comment
    comment: ClassVar[bool] = False
    #: pandas dtype of the item's columns in the raw export
    export_dtype: ClassVar[Literal["Int64", "Float64", "string"]]

    def max_fields(self, item: Item) -> int:
        """The most form fields a browser sends for the item."""
        return 1

    def parse_form(self, item: Item, values: Sequence[str]) -> Parsed:
        """(answer, problem) for the item's non-empty submitted values (at least one)."""
        if len(values) > 1:
            return None, Problem("answer.one_choice")
        return self.parse_value(item, values[0])

    def parse_value(self, item: Item, value: str) -> Parsed:
        """(answer, problem) for the one value of a single-valued item."""
        raise NotImplementedError

    def read_paper_cell(self, item: Item, text: str) -> tuple[list[str], Problem | None]:
        """The form values a non-empty, stripped paper cell stands for, or a problem that
        is particular to paper (the form's rules then apply to the values)."""
        return [text], None

    def export_columns(self, item: Item) -> list[str]:
        """The item's column names in the raw export."""
        return [item.code]

    def export_cells(self, item: Item, stored: Any) -> dict[str, Cell]:
        """Column -> cell for a stored answer (a JSON value, None when unanswered)."""
        return {item.code: stored}

    def codebook(self, item: Item, lang: str) -> list[CodebookEntry]:
        """The codebook rows of the item's columns (Vietnamese)."""
        raise NotImplementedError

    def paper_guide(self, item: Item, lang: str) -> str:
        """How to fill the item's cell in the paper template (Vietnamese)."""
        raise NotImplementedError

    def paper_check(self, item: Item) -> PaperCheck:
        """How the XLSX paper template checks the item's cells as they are typed."""
        return PaperCheck()


def _number_limits(item: Item) -> list[str]:
    limits = []
    if item.minimum is not None:
        limits.append(f"từ {item.minimum:g}")
    if item.maximum is not None:
        limits.append(f"đến {item.maximum:g}")
    return limits


def _code(item: Item, value: str) -> int | None:
    try:
        code = int(value.strip())
    except ValueError:
        return None
    return code if code in item.codes else None


def _valid_text(valid: bool) -> str:
    return "có" if valid else "không"


class ChoiceKind(QuestionKind):
    """Shared by the choice kinds: answers are option codes."""

    has_options = True
    export_dtype = "Int64"

    def paper_codes(self, text: str) -> list[str]:
        """The codes written in a cell."""
        return [text]

    def read_paper_cell(self, item: Item, text: str) -> tuple[list[str], Problem | None]:
        parts = self.paper_codes(text)
        allowed = tuple(sorted(item.codes))
        for part in parts:
            try:
                code = int(part)
            except ValueError:
                return [], Problem("answer.not_a_code", {"value": part, "allowed": allowed})
            if code not in item.codes:
                return [], Problem("answer.unknown_code", {"value": str(code), "allowed": allowed})
        return parts, None

    def paper_guide(self, item: Item, lang: str) -> str:
        return "; ".join(
            f"{o.code} = {o.label.get(lang, '')}{'' if o.valid else ' (không hợp lệ)'}"
            for o in item.options
        )


class SingleChoice(ChoiceKind):
    """One option (a radio button): the SIPAS rating items and the respondent profile."""

    name = "single"
    label = "Chọn một"
    widget = "radio"
    analysed = True

    def parse_value(self, item: Item, value: str) -> Parsed:
        code = _code(item, value)
        return (code, None) if code is not None else (None, Problem("answer.not_option"))

    def read_paper_cell(self, item: Item, text: str) -> tuple[list[str], Problem | None]:
        values, problem = super().read_paper_cell(item, text)
        if problem is None and PAPER_SEPARATORS.search(text.strip()):
            return [], Problem("answer.one_code")
        return values, problem

    def codebook(self, item: Item, lang: str) -> list[CodebookEntry]:
        return [
            CodebookEntry(item.code, o.code, o.label.get(lang, ""), _valid_text(o.valid))
            for o in item.options
        ]

    def paper_check(self, item: Item) -> PaperCheck:
        # A drop-down of the codes (several codes, 1;3, are typed: no list for those).
        return PaperCheck("list", first=",".join(str(o.code) for o in item.options))


class MultipleChoice(ChoiceKind):
    """Any number of options (check boxes); exported as one 0/1 column per option."""

    name = "multiple"
    label = "Chọn nhiều"
    widget = "checkbox"

    def max_fields(self, item: Item) -> int:
        return len(item.options)

    def parse_form(self, item: Item, values: Sequence[str]) -> Parsed:
        codes = [_code(item, v) for v in values]
        if any(c is None for c in codes):
            return None, Problem("answer.not_option")
        return sorted({c for c in codes if c is not None}), None

    def parse_value(self, item: Item, value: str) -> Parsed:
        return self.parse_form(item, [value])

    def paper_codes(self, text: str) -> list[str]:
        return [p for p in PAPER_SEPARATORS.split(text) if p]

    def export_columns(self, item: Item) -> list[str]:
        return [f"{item.code}{MULTI_SEPARATOR}{o.code}" for o in item.options]

    def export_cells(self, item: Item, stored: Any) -> dict[str, Cell]:
        chosen = set(stored or ())
        return {
            f"{item.code}{MULTI_SEPARATOR}{o.code}": (
                (1 if o.code in chosen else 0) if chosen else None
            )
            for o in item.options
        }

    def codebook(self, item: Item, lang: str) -> list[CodebookEntry]:
        return [
            CodebookEntry(
                f"{item.code}{MULTI_SEPARATOR}{o.code}",
                "1 = có chọn; 0 = không chọn",
                o.label.get(lang, ""),
                _valid_text(o.valid),
            )
            for o in item.options
        ]

    def paper_guide(self, item: Item, lang: str) -> str:
        return (
            super().paper_guide(item, lang)
            + " · Ghi nhiều mã, cách nhau bằng dấu chấm phẩy, ví dụ 1;3"
        )


def _bound(limit: float | None) -> Decimal | None:
    return None if limit is None else Decimal(str(limit))


def _out_of_range(low: Decimal | None, high: Decimal | None) -> Problem:
    if low is not None and high is not None:
        return Problem("answer.out_of_range", {"minimum": low, "maximum": high})
    if low is not None:
        return Problem("answer.below_minimum", {"minimum": low})
    return Problem("answer.above_maximum", {"maximum": high})


class NumberKind(QuestionKind):
    """A number, with a comma as the decimal separator as Vietnamese writes it."""

    name = "number"
    label = "Số"
    widget = "number"
    export_dtype = "Float64"

    def parse_value(self, item: Item, value: str) -> Parsed:
        text = value.strip().replace(" ", "").replace(",", ".")
        try:
            number = Decimal(text)
        except InvalidOperation:
            return None, Problem("answer.not_number")
        if not number.is_finite() or abs(number) >= NUMBER_LIMIT:
            return None, Problem("answer.not_number")
        if item.integer and number != number.to_integral_value():
            return None, Problem("answer.not_integer")
        low = _bound(item.minimum)
        high = _bound(item.maximum)
        if (low is not None and number < low) or (high is not None and number > high):
            return None, _out_of_range(low, high)
        return number.quantize(Decimal("0.000001")).normalize(), None

    def export_cells(self, item: Item, stored: Any) -> dict[str, Cell]:
        return {item.code: None if stored is None else float(stored)}

    def codebook(self, item: Item, lang: str) -> list[CodebookEntry]:
        limits = _number_limits(item) + (["số nguyên"] if item.integer else [])
        return [CodebookEntry(item.code, " ".join(limits), "", "")]

    def paper_guide(self, item: Item, lang: str) -> str:
        return "Số " + " ".join(_number_limits(item)) + (" (số nguyên)" if item.integer else "")

    def paper_check(self, item: Item) -> PaperCheck:
        kind: Literal["whole", "decimal"] = "whole" if item.integer else "decimal"
        low = f"{item.minimum:g}" if item.minimum is not None else None
        high = f"{item.maximum:g}" if item.maximum is not None else None
        if low is not None and high is not None:
            return PaperCheck(kind, "between", low, high)
        if low is not None:
            return PaperCheck(kind, "greaterThanOrEqual", low)
        if high is not None:
            return PaperCheck(kind, "lessThanOrEqual", high)
        # Any number: still a number, within what the form stores.
        return PaperCheck(kind, "between", f"{-NUMBER_LIMIT:f}", f"{NUMBER_LIMIT:f}")


class TextKind(QuestionKind):
    """A free text (ý kiến khác), at most ``max_length`` characters."""

    name = "text"
    label = "Văn bản"
    widget = "textarea"
    comment = True
    export_dtype = "string"

    def parse_value(self, item: Item, value: str) -> Parsed:
        # Browsers send CRLF line breaks but count them as one character against maxlength;
        # positions in messages are counted the same way.
        try:
            text = clean_text(value.replace("\r\n", "\n")).strip()
        except TextError as error:
            return None, Problem(
                "answer.bad_text", {"character": error.character, "position": error.position}
            )
        limit = item.max_length or DEFAULT_TEXT_MAX_LENGTH
        if len(text) > limit:
            return None, Problem("answer.too_long", {"length": len(text), "limit": limit})
        return text, None

    def codebook(self, item: Item, lang: str) -> list[CodebookEntry]:
        return [CodebookEntry(item.code, "", "", "")]

    def paper_guide(self, item: Item, lang: str) -> str:
        return f"Văn bản, tối đa {item.max_length or DEFAULT_TEXT_MAX_LENGTH} ký tự"

    def paper_check(self, item: Item) -> PaperCheck:
        limit = item.max_length or DEFAULT_TEXT_MAX_LENGTH
        return PaperCheck("textLength", "lessThanOrEqual", str(limit))


KINDS: Mapping[str, QuestionKind] = {
    kind.name: kind for kind in (SingleChoice(), MultipleChoice(), NumberKind(), TextKind())
}


def kind_of(item: Item) -> QuestionKind:
    """The kind of an item (every ``type`` the questionnaire loader accepts has one)."""
    return KINDS[item.type]
