"""Checks of the XLSX paper template as it is typed (kiểm tra dữ liệu khi nhập phiếu giấy).

Excel's data validation on the rows of the "Phiếu" sheet: a drop-down of the codes of
each single-choice column (and of the campaign's desk codes), number ranges, text
lengths, and on every column an input message that says what to write. Typing a code that
is not on the list is refused as it is typed; the import still checks every cell
(``paper_import.validate_rows``), for files made by other means. What each question kind
allows is its own (``QuestionKind.paper_check``); here it becomes openpyxl's objects.
"""

from __future__ import annotations

from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from scoring.questionnaire import Questionnaire
from survey_app.questions import kind_of

# Excel's limits: an input message's title and text, and a list written in the formula.
PROMPT_TITLE_CHARS, PROMPT_CHARS, LIST_FORMULA_CHARS = 32, 255, 255


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def check(
    kind: str | None,
    title: str,
    prompt: str,
    *,
    operator: str | None = None,
    first: str | None = None,
    second: str | None = None,
) -> DataValidation:
    """One column's check: a drop-down or a range, refused with a message when broken, and
    an input message saying how to fill the cell (``kind`` None: the message only)."""
    return DataValidation(
        type=kind,
        operator=operator,
        formula1=first,
        formula2=second,
        allow_blank=True,  # an empty cell is "no answer"; the import says what is required
        showInputMessage=True,
        showErrorMessage=kind is not None,
        promptTitle=_shortened(title, PROMPT_TITLE_CHARS),
        prompt=_shortened(prompt, PROMPT_CHARS),
        errorTitle="Giá trị không hợp lệ" if kind is not None else None,
        error=_shortened(f"Chỉ nhận: {prompt}", PROMPT_CHARS) if kind is not None else None,
        errorStyle="stop",
    )


def item_checks(questionnaire: Questionnaire) -> list[DataValidation]:
    """A check per item column, in the template's order."""
    lang = questionnaire.default_language
    checks = []
    for item in questionnaire.items:
        kind = kind_of(item)
        rule = kind.paper_check(item)
        prompt = f"{item.text.get(lang, '')} — {kind.paper_guide(item, lang)}"
        first = rule.first
        if rule.kind == "list":
            first = f'"{rule.first}"'
            if len(first) > LIST_FORMULA_CHARS:  # too many codes for a drop-down: say them
                checks.append(check(None, item.code, prompt))
                continue
        checks.append(
            check(
                rule.kind,
                item.code,
                prompt,
                operator=rule.operator,
                first=first,
                second=rule.second,
            )
        )
    return checks


def apply(sheet: Worksheet, checks: list[DataValidation], last_row: int) -> None:
    """``checks[n]`` on column n + 1, rows 2 to ``last_row``."""
    for column, rule in enumerate(checks, start=1):
        letter = get_column_letter(column)
        rule.add(f"{letter}2:{letter}{last_row}")
        sheet.add_data_validation(rule)
