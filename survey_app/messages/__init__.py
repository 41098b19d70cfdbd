"""Texts of the services' problem codes, in the reader's language (one catalogue).

Each area of the app has a module here mapping its codes to a Vietnamese text marked
for translation (``lazy_gettext``), with ``%(name)s`` placeholders filled from the
problem's parameters; the English is in the Flask-Babel catalogue like every other
text. Numbers among the parameters are written by the locale's rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask_babel import LazyString

from survey_app.i18n import current_language, day, labelled_moment, number
from survey_app.messages import (
    accounts,
    analysis,
    citizen,
    comments,
    common,
    dossier_codes,
    evidence,
    paper,
    plans,
    questionnaires,
    report,
    sample,
    sampling,
    setup,
    weighting,
)
from survey_app.messages import text as text_area
from survey_app.services.errors import Grouped, Problem, ServiceError

AREAS = (
    common,
    text_area,
    accounts,
    setup,
    dossier_codes,
    citizen,
    paper,
    questionnaires,
    weighting,
    analysis,
    report,
    sample,
    evidence,
    plans,
    sampling,
    comments,
)
CATALOGUE: Mapping[str, LazyString] = {
    code: text for area in AREAS for code, text in area.MESSAGES.items()
}


def _param(value: Any) -> Any:
    # A problem inside another (a cell's problem in "Dòng 7, cột II.2.1: ...") is its text.
    if isinstance(value, Problem):
        return text(value)
    if isinstance(value, dt.datetime):  # a stored instant: its time where the surveys run
        return labelled_moment(value)
    if isinstance(value, dt.date):
        return day(value)
    if isinstance(value, Decimal):
        # Exact: as many decimals as the number has (a limit of 0,5 reads 0,5, not 0,50).
        exponent = value.normalize().as_tuple().exponent
        return number(value, max(0, -exponent) if isinstance(exponent, int) else 0)
    if isinstance(value, Grouped):
        return format_decimal(value, format="#,##0", locale=current_language())
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    return number(value, 0) if isinstance(value, int) or value.is_integer() else number(value, 2)


def text(problem: Problem) -> str:
    """The problem in words, in the current language."""
    template = CATALOGUE.get(problem.code)
    if template is None:
        raise KeyError(f"no message for problem code {problem.code!r}")
    if not problem.params:
        return str(template)
    return str(template) % {name: _param(value) for name, value in problem.params.items()}


def texts(error: ServiceError) -> list[str]:
    """Every problem of ``error`` in words."""
    return [text(problem) for problem in error.problems]
