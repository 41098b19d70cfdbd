"""The one exception root of the services, with one payload shape.

A service refuses by raising :class:`ServiceError` (or a subclass saying which HTTP
status fits) carrying one or more :class:`Problem`: a code naming the rule that was
broken, its parameters, and the field it concerns if any. Services never word
messages: ``survey_app.messages`` turns a problem into text in the reader's language,
and each blueprint handles ``ServiceError`` in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Self


@dataclass(frozen=True)
class Problem:
    """What is wrong: ``code`` (e.g. ``"paper.too_many_rows"``), its ``params``, and the
    ``field`` (form field, item code or column) it is about, if any."""

    code: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    field: str | None = None

    @property
    def message(self) -> str:
        """The problem in words, in the current language."""
        from survey_app.messages import text  # the messages import this module

        return text(self)


class Grouped(int):
    """A count written with its thousands grouped in a message (20.000 in Vietnamese,
    20,000 in English), as budgets and limits are; other integers are written plainly."""


class ServiceError(Exception):
    """A request a service refuses; nothing was written. ``status`` is the HTTP status."""

    status = 400

    def __init__(self, *problems: Problem) -> None:
        if not problems:
            raise ValueError("a ServiceError names at least one problem")
        super().__init__(", ".join(problem.code for problem in problems))
        self.problems: tuple[Problem, ...] = problems

    @classmethod
    def of(cls, code: str, /, *, field: str | None = None, **params: Any) -> Self:
        """One problem: ``raise ServiceError.of("account.unknown", username=name)``."""
        return cls(Problem(code, MappingProxyType(dict(params)), field))

    def __str__(self) -> str:
        """The problems in words, in the current language (Vietnamese outside a request), for
        logs, the command line and tests; a code without a message stays a code."""
        from survey_app.messages import CATALOGUE, text  # the messages import this module

        return "\n".join(
            text(problem) if problem.code in CATALOGUE else problem.code
            for problem in self.problems
        )

    @property
    def problem(self) -> Problem:
        """The first (often the only) problem."""
        return self.problems[0]

    def by_field(self) -> dict[str | None, list[Problem]]:
        """The problems grouped by the field they concern (None: the whole request)."""
        grouped: dict[str | None, list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.field, []).append(problem)
        return grouped


class NotFound(ServiceError):
    """The record asked for does not exist (or is not the caller's to see)."""

    status = 404


class Conflict(ServiceError):
    """The request clashes with what is stored (a duplicate, a newer version)."""

    status = 409
