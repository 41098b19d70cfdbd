"""How the staff pages show a service's refusal (:class:`ServiceError`), in one place.

A view that re-shows its form catches the error and puts each problem next to its field
(:func:`field_errors`) or flashes it (:func:`flash_problems`); any other refusal reaching
a staff page (this blueprint or the dashboard's) is answered by :func:`refused`: nothing
is stored, and the problems are shown on the error page with the error's status.
"""

from __future__ import annotations

from collections.abc import Container

from flask import flash, render_template
from flask_babel import lazy_gettext

from survey_app.extensions import db
from survey_app.messages import text, texts
from survey_app.services.errors import ServiceError
from survey_app.staff import bp

Errors = dict[str, list[str]]
# The heading of the error page by status; the problems are its message.
HEADINGS = {
    400: lazy_gettext("Yêu cầu không hợp lệ"),
    403: lazy_gettext("Không có quyền"),
    404: lazy_gettext("Không tìm thấy"),
    409: lazy_gettext("Xung đột dữ liệu"),
}


def flash_problems(error: ServiceError) -> None:
    """Each problem of ``error`` as an error message above the page."""
    for line in texts(error):
        flash(line, "error")


def field_errors(error: ServiceError, fields: Container[str], into: Errors | None = None) -> Errors:
    """The problems in words by form field; those of no field in ``fields`` under ``""``."""
    errors: Errors = {} if into is None else into
    for problem in error.problems:
        field = problem.field if problem.field is not None and problem.field in fields else ""
        errors.setdefault(field, []).append(text(problem))
    return errors


def refused(error: ServiceError) -> tuple[str, int]:
    db.session.rollback()
    heading = HEADINGS.get(error.status, HEADINGS[400])
    return render_template(
        "staff/error.html", heading=heading, message="\n".join(texts(error))
    ), error.status


bp.register_error_handler(ServiceError, refused)
