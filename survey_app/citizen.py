"""The citizen form (phiếu khảo sát trực tuyến): QR poster and dossier-code links.

The view parses a POST into a ``citizen_form.FormState``, asks ``citizen_form.advance``
what comes next, and renders that step or redirects to the receipt; the steps, the
checks and the exactly-once storage are the service's (services/citizen_form.py).
A refusal (``ServiceError``) is shown as a page of its own, in one handler.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import LazyString, gettext, lazy_gettext
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from sqlalchemy import text
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, TooManyRequests

from scoring.questionnaire import Item, Questionnaire
from survey_app import citizen_limits, localtime, messages
from survey_app.caching import Cache
from survey_app.citizen_limits import client_limit, code_miss_limit, submit_limit
from survey_app.connections import retry_read
from survey_app.extensions import db
from survey_app.i18n import use_language
from survey_app.models import Desk
from survey_app.privacy import client_key
from survey_app.questions import kind_of
from survey_app.services import citizen_form, desk_surveys, dossier_codes, form_length, submissions
from survey_app.services.citizen_form import FormState, FormTarget, ShowStep, Stored
from survey_app.services.errors import Problem, ServiceError
from survey_app.settings import settings
from survey_app.text_input import checks_own_text

bp = Blueprint("citizen", __name__)

FIELD_PREFIX = "a_"
# What a step of the form sends besides the answers (templates/citizen/form.html).
CONTROL_FIELDS = ("csrf_token", "uid", "campaign", "lang", "step", "review", "action")
# Official numbering (I.1.1, II.4.0) is shown to citizens; plain codes (gender) are not.
NUMBERED = re.compile(r"^[A-Z0-9]+(\.[0-9A-Za-z]+)+$")
STATIC = Path(__file__).with_name("static")

# Each language named in itself; question texts come from the questionnaire YAML.
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "fr": "Français", "zh": "中文"}
CSRF_NOTICE = lazy_gettext(
    "Trang đã để quá lâu nên cần xác nhận lại. Các câu trả lời vẫn được giữ; "
    "vui lòng bấm nút một lần nữa."
)
RATE_LIMITED_NOTICE = lazy_gettext(
    "Có quá nhiều phiếu được gửi cùng lúc nên trang này chưa được nhận. Các câu trả lời "
    "vẫn được giữ nguyên; vui lòng đợi khoảng một phút rồi bấm nút một lần nữa."
)

# Pages shown instead of the form, by problem code: (HTTP status, title); the
# explanation is the problem's text (survey_app/messages/citizen.py).
PAGES: dict[str, tuple[int, LazyString]] = {
    "citizen.unknown_desk": (404, lazy_gettext("Không tìm thấy phiếu khảo sát")),
    "citizen.inactive_desk": (410, lazy_gettext("Quầy này không còn nhận đánh giá")),
    "citizen.no_campaign": (200, lazy_gettext("Hiện chưa có đợt khảo sát")),
    "citizen.campaign_changed": (410, lazy_gettext("Đợt khảo sát đã kết thúc")),
    "citizen.code_invalid": (400, lazy_gettext("Mã đánh giá không hợp lệ")),
    "citizen.code_expired": (410, lazy_gettext("Mã đánh giá đã hết hạn")),
    "citizen.code_spent": (409, lazy_gettext("Mã này đã được dùng để đánh giá")),
    "citizen.conflict": (409, lazy_gettext("Phiếu này đã được gửi trước đó")),
    "citizen.bad_form": (400, lazy_gettext("Không đọc được phiếu")),
    "citizen.csrf": (400, lazy_gettext("Trang đã hết hạn")),
    "citizen.rate_limited": (429, lazy_gettext("Gửi quá nhiều lần")),
    "citizen.receipt_unknown": (404, lazy_gettext("Không tìm thấy biên nhận")),
}


_INLINED: Cache[str, Markup] = Cache(size=16)


def _inline(name: str) -> Markup:
    """A small static file inlined into every page: one request on slow mobile data."""
    return _INLINED.get_or_make(
        name, lambda: Markup((STATIC / name).read_text(encoding="utf-8").strip())
    )


@bp.app_context_processor
def _assets() -> dict[str, object]:
    return {"inline_asset": _inline}


# --------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class Target(FormTarget):
    """A form and where its steps post."""

    # The endpoints' common URL argument (``public_id`` or ``token``) and its value.
    url_arg: tuple[str, str] = ("public_id", "")

    @property
    def step_url(self) -> str:
        return url_for(f"citizen.{self._kind}_form", **self._url_values)

    @property
    def submit_url(self) -> str:
        return url_for(f"citizen.{self._kind}_submit", **self._url_values)

    @property
    def _url_values(self) -> dict[str, Any]:
        return dict([self.url_arg])

    @property
    def _kind(self) -> str:
        return "dossier" if self.route == "dossier" else "desk"


def _today() -> dt.date:
    return localtime.today()


_MAX_FIELDS: Cache[str, int] = Cache(size=256)


def _max_fields(q: Questionnaire) -> int:
    """The most fields a browser can send for this questionnaire: every answer given,
    every option of a multiple choice item ticked, and the form's own fields."""

    def count() -> int:
        answers = sum(kind_of(i).max_fields(i) for i in q.items)
        return answers + len(CONTROL_FIELDS)

    return _MAX_FIELDS.get_or_make(q.content_hash, count)


def _raw_answers(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """Item code -> submitted values, from the ``a_<code>`` fields of the request."""
    return {
        key[len(FIELD_PREFIX) :]: values
        for key, values in form.lists()
        if key.startswith(FIELD_PREFIX)
    }


def _page(code: str, desk: Desk | desk_surveys.DeskRef | None = None) -> tuple[str, int]:
    """The page shown instead of the form for problem ``code`` (always in Vietnamese)."""
    use_language("vi")
    status, title = PAGES[code]
    return render_template(
        "citizen/message.html",
        title=title,
        body=messages.text(Problem(code)),
        desk=desk,
        lang="vi",
    ), status


def _question(item: Item, lang: str) -> str:
    """How the error summary names an item: by its text, as the citizen read it."""
    text = item.text[lang]
    return text if len(text) <= 120 else text[:119].rstrip() + "…"


def _first_field(item: Item) -> str:
    """The id of an item's first input, where a link to the item puts the focus."""
    options = [o for o in item.options if o.valid] + [o for o in item.options if not o.valid]
    return f"q-{item.code}-{options[0].code}" if options else f"q-{item.code}"


def _label(item: Item, lang: str) -> str:
    """How messages name an item: its official number, else its (shortened) text."""
    if NUMBERED.match(item.code):
        return item.code
    text = item.text[lang]
    return text if len(text) <= 40 else text[:39] + "…"


def _item_view(
    item: Item,
    q: Questionnaire,
    lang: str,
    raw: Mapping[str, list[str]],
    error: str | None,
    same_step: set[str],
) -> dict[str, object]:
    """What the template needs to draw one item."""
    note = None
    if item.show_if is not None:
        controller = q.item(item.show_if.item)
        labels = ", ".join(
            f"“{o.label[lang]}”" for o in controller.options if o.code in item.show_if.codes
        )
        note = gettext(
            "Chỉ trả lời câu này nếu ở câu %(code)s Ông/Bà chọn: %(labels)s.",
            code=_label(controller, lang),
            labels=labels,
        )
    return {
        "item": item,
        "kind": kind_of(item),
        "number": item.code if NUMBERED.match(item.code) else None,
        "text": item.text[lang],
        "name": FIELD_PREFIX + item.code,
        "id": "q-" + item.code,
        "values": [v for v in raw.get(item.code, []) if v.strip()],
        "error": error,
        "options": [o for o in item.options if o.valid],
        "other_options": [o for o in item.options if not o.valid],
        "note": note,
        # JavaScript hides the item only when its controlling question is on the same page.
        "toggle": item.show_if is not None and item.show_if.item in same_step,
        "max_length": item.max_length or 500,
    }


def render_step(
    target: Target,
    state: FormState,
    show: ShowStep,
    *,
    notice: str | LazyString | None = None,
) -> tuple[str, int]:
    """Step ``show.step`` of the form with ``state``'s answers, in ``show.lang``; the
    form's own texts in its interface language."""
    q = target.questionnaire
    lang = show.lang
    use_language(citizen_form.interface_language(lang))
    steps = citizen_form.steps(q, lang)
    step = citizen_form.clamp(q, show.step)
    if step == citizen_form.review_step(q):
        return _render_review(target, state, show, notice), show.status
    current = steps[step]
    raw = state.raw
    errors = {code: messages.text(problem) for code, problem in show.problems.items()}
    # Answers parsed leniently, to decide which items an earlier page's answer hides.
    lenient, _ = citizen_form.read_answers(q, raw)
    on_page = {i.code for i in current.items}
    shown = [
        i
        for i in current.items
        if i.show_if is None or i.show_if.item in on_page or i.is_shown(lenient)
    ]
    items = [_item_view(i, q, lang, raw, errors.get(i.code), on_page) for i in shown]
    shown_codes = {i.code for i in shown}
    known = {i.code for i in q.items}
    summary = [
        {
            "href": "#" + _first_field(q.item(code)),
            "code": _question(q.item(code), lang),
            "message": message,
        }
        for code, message in errors.items()
        if code in shown_codes
    ] + [
        {"href": None, "code": code, "message": message}
        for code, message in errors.items()
        if code not in known
    ]
    hidden = [
        (FIELD_PREFIX + code, value)
        for code in (i.code for i in q.items)
        if code not in shown_codes
        for value in raw.get(code, [])
        if value.strip()
    ]
    html = render_template(
        "citizen/form.html",
        target=target,
        q=q,
        lang=lang,
        uid=state.uid,
        step=step,
        total=len(steps),
        reviewing=show.reviewing,
        length=form_length.form_length(q, lang),
        current=current,
        items=items,
        summary=summary,
        hidden=hidden,
        notice=notice,
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in q.languages],
        first_visit=request.method == "GET",
    )
    return html, show.status


def _render_review(
    target: Target, state: FormState, show: ShowStep, notice: str | LazyString | None
) -> str:
    """The review (xem lại): each part's questions with the answers given, a button back
    to each part, and "Gửi phiếu"."""
    q = target.questionnaire
    lang = show.lang
    answers, _ = citizen_form.read_answers(q, state.raw)
    shown = {i.code for i in q.shown_items(answers)}
    parts = [
        {
            "n": n,
            "step": page,
            "answers": [
                (item.text[lang], _answer_text(item, answers.get(item.code), lang))
                for item in page.items
                if item.code in shown
            ],
        }
        for n, page in enumerate(citizen_form.steps(q, lang))
    ]
    hidden = [
        (FIELD_PREFIX + code, value)
        for code, values in state.raw.items()
        if q.has_item(code)
        for value in values
        if value.strip()
    ]
    return render_template(
        "citizen/review.html",
        target=target,
        q=q,
        lang=lang,
        uid=state.uid,
        step=citizen_form.review_step(q),
        parts=parts,
        hidden=hidden,
        notice=notice,
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in q.languages],
    )


def _answer_text(item: Item, answer: object, lang: str) -> str | None:
    """An answer as the citizen gave it: option labels, or the number or text typed."""
    if answer is None or answer == [] or answer == "":
        return None
    if item.options:
        codes = answer if isinstance(answer, list) else [answer]
        return "; ".join(item.option(c).label[lang] for c in codes if c in item.codes)
    return str(answer)


def _show_first_step(target: Target) -> ResponseReturnValue:
    q = target.questionnaire
    state = citizen_form.start(q, target.campaign, request.args.get("lang"))
    return render_step(target, state, ShowStep(0, state.lang))


def posted_state(target: Target) -> FormState | None:
    """What the POST carries, or None when it has no valid submission id."""
    form = request.form
    q = target.questionnaire
    if sum(len(values) for _, values in form.lists()) > _max_fields(q):
        abort(413)  # no browser sends more; nothing is read or stored
    uid = submissions.parse_uid(form.get("uid"))
    if uid is None:
        return None
    try:
        step = int(form.get("step", "0"))
    except ValueError:
        step = 0
    return FormState(
        uid=uid,
        campaign=form.get("campaign"),
        lang=citizen_form.language(q, form.get("lang")),
        step=citizen_form.clamp(q, step),
        raw=_raw_answers(form),
        reviewing=form.get("review") == "1",
    )


def _handle_post(target: Target, *, final: bool, csrf_failed: bool = False) -> ResponseReturnValue:
    """One POST of the form: change language, go back, go forward, or (final) submit."""
    citizen_limits.check_address()
    try:
        state = posted_state(target)
    except RequestEntityTooLarge:
        citizen_limits.count_refused()
        raise
    if state is None:
        citizen_limits.count_refused()
        return _page("citizen.bad_form", target.desk)
    if csrf_failed:
        citizen_limits.count_refused()
        if state.campaign != str(target.campaign.id):
            return _page("citizen.campaign_changed", target.desk)
        show = ShowStep(state.step, state.lang, status=400, reviewing=state.reviewing)
        return render_step(target, state, show, notice=CSRF_NOTICE)
    citizen_limits.count_form_post(state.uid)
    outcome = citizen_form.advance(
        target,
        state,
        request.form.get("action", citizen_form.NEXT),
        final=final,
        desk_limit=citizen_limits.DESK_LIMIT,
        client_hash=client_key() if final else None,
    )
    if isinstance(outcome, Stored):
        # Post/redirect/get: the receipt appears only once the answers are committed.
        return redirect(url_for("citizen.receipt", receipt=outcome.receipt), 303)
    if citizen_limits.is_refused_post(target.questionnaire, state, outcome):
        citizen_limits.count_refused()
    return render_step(target, state, outcome)


def _desk_target(public_id: str) -> Target:
    survey = desk_surveys.desk_survey(public_id, _today())
    return Target(
        desk=survey.desk,
        campaign=survey.campaign,
        questionnaire=survey.questionnaire,
        route="desk_qr",
        dossier=None,
        url_arg=("public_id", public_id),
    )


def _dossier_target(token: str) -> Target:
    survey, claim = desk_surveys.dossier_survey(token, _today())
    return Target(
        desk=survey.desk,
        campaign=survey.campaign,
        questionnaire=survey.questionnaire,
        route="dossier",
        dossier=claim,
        url_arg=("token", token),
    )


# --------------------------------------------------------------------------- routes


@bp.get("/")
def landing() -> str:
    return render_template("citizen/landing.html", lang="vi")


@bp.get("/c")
@code_miss_limit
def dossier_lookup() -> ResponseReturnValue:
    """The code typed on the landing page (``?ma=``): to its form, or the page again with
    what was typed and why it is not a code."""
    typed = request.args.get("ma", "")
    try:
        code = dossier_codes.find_short(typed)
    except ServiceError as error:
        g.dossier_code_missed = error.problem.code == "dossier.short_unknown"
        problem = messages.text(error.problem)
        page = render_template("citizen/landing.html", lang="vi", typed=typed, problem=problem)
        return page, 400
    return redirect(url_for("citizen.dossier_form", token=code), 303)


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        retry_read(lambda: db.session.execute(text("SELECT 1")))
    except Exception:  # any database failure means "not healthy"
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200


@bp.route("/s/<public_id>", methods=["GET", "POST"])
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
def desk_form(public_id: str) -> ResponseReturnValue:
    """The form of a desk's QR poster (route 'desk_qr')."""
    target = _desk_target(public_id)
    if request.method != "POST":  # GET, and HEAD (link checkers, previews)
        return _show_first_step(target)
    return _handle_post(target, final=False)


@bp.post("/s/<public_id>/submit")
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
@submit_limit
def desk_submit(public_id: str) -> ResponseReturnValue:
    return _handle_post(_desk_target(public_id), final=True)


@bp.route("/c/<token>", methods=["GET", "POST"])
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
@code_miss_limit
def dossier_form(token: str) -> ResponseReturnValue:
    """The form of a dossier receipt's code (route 'dossier'): answerable once."""
    target = _dossier_target(token)
    if request.method != "POST":  # GET, and HEAD (link checkers, previews)
        assert target.dossier is not None
        if submissions.dossier_code_spent(target.dossier) is not None:
            return _page("citizen.code_spent", target.desk)
        return _show_first_step(target)
    return _handle_post(target, final=False)


@bp.post("/c/<token>/submit")
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
@submit_limit
def dossier_submit(token: str) -> ResponseReturnValue:
    return _handle_post(_dossier_target(token), final=True)


@bp.get("/r/<receipt>")
def receipt(receipt: str) -> ResponseReturnValue:
    """Thank-you page (biên nhận): the receipt code, never the answers."""
    submission = (
        submissions.submission_by_receipt(receipt) if submissions.is_receipt(receipt) else None
    )
    if submission is None:
        return _page("citizen.receipt_unknown")
    return render_template(
        "citizen/receipt.html", submission=submission, receipt=receipt, lang="vi"
    )


# --------------------------------------------------------------------------- errors

FORM_ENDPOINTS = {
    "citizen.desk_form": (_desk_target, "public_id", False),
    "citizen.desk_submit": (_desk_target, "public_id", True),
    "citizen.dossier_form": (_dossier_target, "token", False),
    "citizen.dossier_submit": (_dossier_target, "token", True),
}


@bp.errorhandler(ServiceError)
def refused(error: ServiceError) -> ResponseReturnValue:
    """Every refusal of the citizen services, as the page its code names: no form for
    this link (SurveyUnavailable), a campaign that changed, a spent dossier code, a
    conflicting resubmission, or a desk at its limit."""
    code = error.problem.code
    if code == "citizen.rate_limited":
        return _rate_limited_page()
    if isinstance(error, desk_surveys.SurveyUnavailable):
        g.dossier_code_missed = code == "citizen.code_invalid"
        return _page(code, error.desk)
    return _page(code, _known_desk())


def _known_desk() -> desk_surveys.DeskRef | None:
    """The desk of the form this request was for, when the form could be drawn."""
    endpoint = FORM_ENDPOINTS.get(request.endpoint or "")
    if endpoint is None or not request.view_args:
        return None
    make_target, arg, _final = endpoint
    try:
        return make_target(request.view_args[arg]).desk  # where forms land is cached
    except ServiceError:
        return None


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> ResponseReturnValue:
    """A stale or missing CSRF token: show the same step again with a fresh token.

    Nothing is stored; the answers posted come back so the citizen only presses again.
    """
    endpoint = FORM_ENDPOINTS.get(request.endpoint or "")
    # Without the session cookie the token can never match: pressing again would loop.
    has_cookie = settings().session_cookie_name in request.cookies
    if endpoint is not None and request.view_args and has_cookie:
        make_target, arg, final = endpoint
        try:
            target = make_target(request.view_args[arg])
        except desk_surveys.SurveyUnavailable as unavailable:
            return _page(unavailable.problem.code, unavailable.desk)
        try:
            return _handle_post(target, final=final, csrf_failed=True)
        except TooManyRequests:
            return _rate_limited_page()
    citizen_limits.count_refused()
    return _page("citizen.csrf")


@bp.errorhandler(TooManyRequests)
def rate_limited(error: TooManyRequests) -> ResponseReturnValue:
    return _rate_limited_page()


def _rate_limited_page() -> ResponseReturnValue:
    """429: the page the citizen was on again, with every answer posted and a message to
    press once more in a minute; a page of its own only when the POST was no form's."""
    html, status = _rate_limited_form() or _page("citizen.rate_limited")
    response = make_response(html, status)
    response.headers["Retry-After"] = "60"
    return response


def _rate_limited_form() -> tuple[str, int] | None:
    endpoint = FORM_ENDPOINTS.get(request.endpoint or "")
    if request.method != "POST" or endpoint is None or not request.view_args:
        return None
    make_target, arg, _final = endpoint
    try:
        target = make_target(request.view_args[arg])
        state = posted_state(target)
    except (ServiceError, HTTPException):
        return None
    if state is None or state.campaign != str(target.campaign.id):
        return None
    show = ShowStep(state.step, state.lang, status=429, reviewing=state.reviewing)
    return render_step(target, state, show, notice=RATE_LIMITED_NOTICE)
