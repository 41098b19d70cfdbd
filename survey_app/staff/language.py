"""The staff interface's language switch (Tiếng Việt / English) in every page header."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from werkzeug.exceptions import NotFound

from survey_app.i18n import LANGUAGES, remember_staff_language
from survey_app.staff import bp


class LanguageForm(FlaskForm):
    """Only the CSRF token: the language is in the URL."""


def _local_target(target: str | None) -> str:
    """Where to go back to: a path of this site, never another site (open redirect)."""
    parts = urlsplit(target or "")
    if not target or parts.scheme or parts.netloc or not parts.path.startswith("/staff"):
        return url_for("staff.home")
    return target


@bp.post("/language/<language>")
def switch_language(language: str) -> ResponseReturnValue:
    """Show the staff pages in ``language`` from now on in this session."""
    if language not in LANGUAGES:
        raise NotFound()
    if LanguageForm().validate_on_submit():
        remember_staff_language(language)
    return redirect(_local_target(request.args.get("next")))


@bp.app_context_processor
def _language_form() -> dict[str, object]:
    return {"language_form": lambda: LanguageForm(formdata=None)}
