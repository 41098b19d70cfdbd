"""Text entering the app, under :mod:`scoring.text`'s rules, with messages in Vietnamese.

- Forms that store text check their fields themselves, with a message at the field
  that names the refused character (:func:`refusal`; the services check too, so the
  command line follows the same rules).
- Everything else a request carries (the URL path, the query string, form field names,
  and the values of the fields no form checks) passes :func:`guard` before any view
  runs: a refused character there (a NUL from ``%00``, which PostgreSQL text cannot
  hold, nor even compare) answers 400 with a Vietnamese page, or JSON under ``/api/``,
  before anything reaches the database. A view names the fields it checks itself with
  :func:`checks_own_text`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest
from wtforms.validators import ValidationError

from scoring.text import TextError, clean_text, find_refused
from survey_app import messages
from survey_app.services.errors import Problem, ServiceError

F = TypeVar("F", bound=Callable[..., Any])


def refused(error: TextError, what: str, field: str | None = None) -> Problem:
    """The problem of a refused character in the text given as ``what`` (a field's name)."""
    code = "text.line_break_in" if error.reason == "line_break" else "text.refused_in"
    params = {"what": what, "character": error.character, "position": error.position}
    return Problem(code, MappingProxyType(params), field)


def refusal(error: TextError, what: str) -> str:
    """'Câu trả lời có ký tự không được phép (U+001B) ở vị trí 12; vui lòng xóa ký tự này.'"""
    return messages.text(refused(error, what))


class TextRefused(ServiceError):
    """Text with a refused character (codes ``text.*``, the character and its position)."""


def clean_line(value: str, what: str, *, field: str | None = None) -> str:
    """A single-line field (name, code, username) as stored: NFC, no line break, no control.

    Raises :class:`TextRefused` naming ``what`` (the field's name, a lazy text).
    """
    try:
        return clean_text(value, multiline=False)
    except TextError as error:
        raise TextRefused(refused(error, what, field)) from None


class SingleLine:
    """WTForms validator: the field's text (stripped) under :func:`clean_line`'s rules."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, form: object, field: Any) -> None:
        if isinstance(field.data, str):
            error = find_refused(field.data.strip(), multiline=False)
            if error is not None:
                raise ValidationError(refusal(error, self.what))


class RefusedInRequest(BadRequest):
    """A refused character in the URL or a form field no form checks (400)."""

    def __init__(self, where: str, error: TextError) -> None:
        self.message = (
            f"{where} có ký tự không được phép ({error.character}) ở vị trí {error.position}. "
            "Không có gì được lưu; vui lòng kiểm tra lại đường dẫn hoặc nội dung vừa gửi."
        )
        super().__init__(self.message)


def checks_own_text(*fields: str, prefix: str | None = None) -> Callable[[F], F]:
    """Mark a view whose form checks these fields' text itself (and those whose names begin
    with ``prefix``): :func:`guard` leaves their values to it. Put it under the route."""

    def mark(view: F) -> F:
        view.own_text_fields = (frozenset(fields), prefix)  # type: ignore[attr-defined]
        return view

    return mark


def _first_refused(texts: Iterable[str], multiline: bool) -> tuple[str, TextError] | None:
    for text in texts:
        error = find_refused(text, multiline=multiline)
        if error is not None:
            return text, error
    return None


def guard() -> None:
    """Refuse a request whose URL or unchecked form fields hold a refused character."""
    error = find_refused(request.path, multiline=False)
    if error is not None:
        raise RefusedInRequest("Đường dẫn", error)
    found = _first_refused(request.args.keys(), multiline=False)
    if found is not None:
        raise RefusedInRequest("Tên tham số của đường dẫn", found[1])
    for name, value in request.args.items(multi=True):
        error = find_refused(value, multiline=False)
        if error is not None:
            raise RefusedInRequest(f"Tham số “{name}” của đường dẫn", error)
    # The JSON API checks the strings of its own bodies; it never reads a form.
    if request.path.startswith("/api/"):
        return
    if request.method not in ("POST", "PUT", "PATCH") or not request.form and not request.files:
        return
    found = _first_refused([*request.form.keys(), *request.files.keys()], multiline=False)
    if found is not None:
        raise RefusedInRequest("Tên một trường của biểu mẫu", found[1])
    view = current_app.view_functions.get(request.endpoint or "")
    own, prefix = getattr(view, "own_text_fields", (frozenset(), None))
    for name, value in request.form.items(multi=True):
        if name in own or (prefix is not None and name.startswith(prefix)):
            continue
        error = find_refused(value, multiline=True)
        if error is not None:
            raise RefusedInRequest(f"Trường “{name}” của biểu mẫu", error)


def init_app(app: Flask) -> None:
    # After the size limits' hook (create_app registers those first), before CSRFProtect's,
    # the first to read a form otherwise.
    app.before_request(guard)
