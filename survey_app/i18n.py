"""The interface's languages (Flask-Babel): Vietnamese first, English complete.

Texts in code and templates are written in Vietnamese and marked with ``_()`` /
``gettext``; ``survey_app/translations/en/LC_MESSAGES/messages.po`` holds their English
(``make messages`` collects new texts into it, ``make catalogues`` compiles it, as
``make install`` does). Which language a request gets:

- a citizen page: the language of the form the citizen chose (``use_language``), which
  must be one of the questionnaire's languages;
- a staff page or the staff JSON API: the language the official chose with the switch
  in the page header (kept in the session), Vietnamese until then;
- anything else: Vietnamese.

Numbers and dates are written by the locale's rules (Babel), never by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.numbers import format_decimal
from flask import Flask, g, has_request_context, request, session
from flask_babel import Babel, format_date, get_locale, refresh

from survey_app import localtime

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
STAFF_PREFIXES = ("/staff", "/api/")


def select_language() -> str:
    """Flask-Babel's locale selector: see the module docstring."""
    if not has_request_context():
        return DEFAULT_LANGUAGE
    chosen = g.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    if request.path.startswith(STAFF_PREFIXES):
        remembered = session.get("lang")
        if remembered in LANGUAGES:
            return str(remembered)
    return DEFAULT_LANGUAGE


def use_language(language: str) -> None:
    """This request's pages and messages in ``language`` (a citizen's choice of form language)."""
    g.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
    refresh()  # Flask-Babel keeps the locale it selected first for the whole request


def remember_staff_language(language: str) -> str:
    """Keep an official's choice of interface language in the session; return what is kept."""
    kept = language if language in LANGUAGES else DEFAULT_LANGUAGE
    session["lang"] = kept
    refresh()
    return kept


def current_language() -> str:
    locale = get_locale()
    return DEFAULT_LANGUAGE if locale is None else str(locale)


def number(value: float | Decimal, decimals: int = 1, *, signed: bool = False) -> str:
    """``value`` with ``decimals`` decimals in the locale's way (``72,5`` in Vietnamese,
    ``72.5`` in English), without grouping so that indices read alike in both."""
    pattern = "0" + ("." + "0" * decimals if decimals > 0 else "")
    if signed:
        pattern = f"+{pattern};-{pattern}"
    # The float's exact value, as f"{value:.1f}" rounds it: Babel would round its shortest
    # repr, so 72.45 (stored as 72.4500000000000028...) would read 72,4 instead of 72,5.
    return format_decimal(Decimal(float(value)), format=pattern, locale=current_language())


def day(value: dt.date | dt.datetime) -> str:
    """A date as officials write it: ``15/03/2026`` in Vietnamese, ``15 Mar 2026`` in English.

    A stored moment (UTC) is first put in the surveys' time zone."""
    if isinstance(value, dt.datetime):
        value = localtime.to_local(value).date()
    if current_language() == "vi":
        return value.strftime("%d/%m/%Y")
    return str(format_date(value, format="d MMM yyyy"))


def moment(value: dt.datetime, *, seconds: bool = False) -> str:
    """A stored instant (naive UTC) in the surveys' time zone, as officials write it:
    ``03/12/2026 18:04`` in Vietnamese, ``3 Dec 2026 18:04`` in English. The one way a
    time is shown: the column header or the sentence names the zone (``zone_label()``)."""
    local = localtime.to_local(value)
    return f"{day(local.date())} {local.strftime('%H:%M:%S' if seconds else '%H:%M')}"


def labelled_moment(value: dt.datetime) -> str:
    """A stored instant with its zone, for a sentence: ``03/12/2026 18:04 (giờ Việt Nam)``."""
    return f"{moment(value)} ({localtime.zone_label()})"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    Babel(app, locale_selector=select_language)
    app.add_template_global(current_language)
    app.jinja_env.globals["language_names"] = LANGUAGE_NAMES
    app.add_template_filter(number)
    app.add_template_filter(day)
    app.add_template_filter(moment)
