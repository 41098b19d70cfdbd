"""Problem codes and their texts: every code a service raises has words, in both languages."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask

from survey_app import i18n
from survey_app.messages import CATALOGUE, text, texts
from survey_app.services.errors import Conflict, Grouped, NotFound, Problem, ServiceError
from survey_app.services.paper_import import paper_cell_code

ROOT = Path(__file__).resolve().parent.parent / "survey_app"


# Problems of a paper cell (survey_app.questions): the paper import words them as its own
# paper.cell.* (services/paper_import.py ``paper_cell_code``), with the row and column.
WORDED_BY_THE_PAPER_IMPORT = {"answer.not_a_code", "answer.unknown_code", "answer.one_code"}


def _raised_codes() -> set[str]:
    """Literal codes in ``XError.of("code", ...)`` and ``Problem("code", ...)`` calls."""
    codes: set[str] = set()
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Only the services' Problem (a module may still have a class of that name).
        problem = any(
            isinstance(node, ast.ImportFrom)
            and node.module == "survey_app.services.errors"
            and any(alias.name == "Problem" and alias.asname is None for alias in node.names)
            for node in tree.body
        )
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first, function = node.args[0], node.func
            raising = (
                isinstance(function, ast.Attribute)
                and function.attr == "of"
                and isinstance(function.value, ast.Name)
                and function.value.id.endswith(("Error", "NotFound", "Conflict"))
            ) or (problem and isinstance(function, ast.Name) and function.id == "Problem")
            if raising and isinstance(first, ast.Constant) and isinstance(first.value, str):
                codes.add(first.value)
            # The paper import's helpers: _problem("code", ...) and _at(line, column, "code").
            named = function.id if isinstance(function, ast.Name) else None
            if named == "_problem" and isinstance(first, ast.Constant):
                codes.add(str(first.value))
            if named == "_at" and len(node.args) > 2 and isinstance(node.args[2], ast.Constant):
                codes.add(str(node.args[2].value))
    return codes


def test_every_raised_code_has_a_message() -> None:
    assert sorted(_raised_codes() - set(CATALOGUE) - WORDED_BY_THE_PAPER_IMPORT) == []


def test_the_scan_reads_problem_literals() -> None:
    codes = _raised_codes()
    assert {"answer.required", "answer.not_option", "citizen.conflict"} <= codes
    assert WORDED_BY_THE_PAPER_IMPORT <= codes


def test_a_citizen_message_reads_in_the_form_language(app: Flask) -> None:
    """Answers are refused with codes; the citizen reads them in the form's language, the
    numbers written the locale's way."""
    too_long = Problem("answer.too_long", {"limit": 10, "length": 11}, "t")
    range_ = Problem("answer.out_of_range", {"minimum": Decimal("0.5"), "maximum": Decimal("20")})
    with app.test_request_context("/s/x"):
        assert text(too_long) == "Câu trả lời dài quá 10 ký tự (hiện có 11 ký tự)."
        assert text(range_) == "Vui lòng nhập số từ 0,5 đến 20."
        i18n.use_language("en")
        assert text(too_long) == "The answer is longer than 10 characters (11 now)."
        assert text(range_) == "Please enter a number from 0.5 to 20."


def test_a_problem_reads_in_the_current_language(app: Flask) -> None:
    problem = Problem("text.refused", {"codepoint": "U+001B", "position": 12})
    with app.test_request_context("/staff/"):
        assert text(problem) == (
            "Có ký tự không được phép (U+001B) ở vị trí 12; vui lòng xóa ký tự này."
        )
        i18n.use_language("en")
        assert text(problem) == (
            "There is a character that is not allowed (U+001B) at position 12; please delete it."
        )


def test_service_errors_carry_problems_and_a_status() -> None:
    error = ServiceError.of("text.refused", field="name", codepoint="U+0000", position=1)
    assert (error.status, error.problem.field, error.problem.params["position"]) == (400, "name", 1)
    assert (NotFound.of("x").status, Conflict.of("x").status) == (404, 409)
    assert list(error.by_field()) == ["name"]
    with pytest.raises(ValueError, match="at least one problem"):
        ServiceError()


def test_an_unknown_code_is_a_programming_error(app: Flask) -> None:
    with app.test_request_context("/"), pytest.raises(KeyError, match="no message"):
        texts(ServiceError.of("no.such.code"))


def test_every_refusal_of_a_form_value_has_its_paper_cell_text() -> None:
    """The paper import says every refusal of a question kind (``answer.*``) of a cell, as
    ``paper.cell.*``."""
    answer_codes = {code for code in _raised_codes() if code.startswith("answer.")}
    assert WORDED_BY_THE_PAPER_IMPORT | {"answer.required", "answer.bad_text"} <= answer_codes
    missing = {paper_cell_code(code) for code in answer_codes} - set(CATALOGUE)
    assert missing == set()


def test_counts_are_grouped_and_bounds_keep_their_decimals(app: Flask) -> None:
    rows = Problem("paper.too_many_rows", {"rows": Grouped(20_000)})
    bounds = Problem("paper.cell.between", {"minimum": Decimal("2.5"), "maximum": Decimal(10)})
    line = Problem("paper.at_cell", {"line": 1234, "column": "Q1", "problem": bounds})
    with app.test_request_context("/staff/"):
        assert text(rows).startswith("Tệp có quá nhiều dòng: tối đa 20.000 dòng phiếu")
        assert text(line) == "Dòng 1234, cột Q1: vui lòng nhập số từ 2,5 đến 10"
        i18n.use_language("en")
        assert "at most 20,000 form lines" in text(rows)
        assert text(line) == "Line 1234, column Q1: please enter a number from 2.5 to 10"
