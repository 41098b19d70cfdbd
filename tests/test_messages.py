"""Problem codes and their texts: every code a service raises has words, in both languages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from flask import Flask

from survey_app import i18n
from survey_app.messages import CATALOGUE, text, texts
from survey_app.services.errors import Conflict, NotFound, Problem, ServiceError

ROOT = Path(__file__).resolve().parent.parent / "survey_app"


def _raised_codes() -> set[str]:
    """Literal codes in ``XError.of("code", ...)`` calls."""
    codes: set[str] = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            first, function = node.args[0], node.func
            raising = (
                isinstance(function, ast.Attribute)
                and function.attr == "of"
                and isinstance(function.value, ast.Name)
                and function.value.id.endswith(("Error", "NotFound", "Conflict"))
            )
            if raising and isinstance(first, ast.Constant) and isinstance(first.value, str):
                codes.add(first.value)
    return codes


def test_every_raised_code_has_a_message() -> None:
    assert sorted(_raised_codes() - set(CATALOGUE)) == []


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
