"""The citizen form (phiếu khảo sát trực tuyến): QR poster and dossier-code links.

The form is multi-step, one criteria group per step, with the respondent block last.
No server session holds the answers: each step posts every answer so far (earlier steps
as hidden inputs), so a phone that drops off mobile data loses nothing it has posted.
Only the final step posts to ``.../submit``, which stores the submission exactly once.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from flask import (
    Blueprint,
    abort,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_wtf.csrf import CSRFError
from limits import RateLimitItem, parse_many
from markupsafe import Markup
from sqlalchemy import Connection, text
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import TooManyRequests

from scoring.questionnaire import Item, Questionnaire
from survey_app import localtime
from survey_app.caching import Cache
from survey_app.connections import close_session, in_autocommit, retry_read
from survey_app.extensions import db, limiter
from survey_app.models import Desk
from survey_app.privacy import client_key
from survey_app.questions import kind_of
from survey_app.services import dossier_codes, submissions
from survey_app.settings import settings
from survey_app.text_input import checks_own_text

bp = Blueprint("citizen", __name__)

FIELD_PREFIX = "a_"
# What a step of the form sends besides the answers (templates/citizen/form.html).
CONTROL_FIELDS = ("csrf_token", "uid", "campaign", "lang", "step", "action")
# Official numbering (I.1.1, II.4.0) is shown to citizens; plain codes (gender) are not.
NUMBERED = re.compile(r"^[A-Z0-9]+(\.[0-9A-Za-z]+)+$")
STATIC = Path(__file__).with_name("static")

# Interface texts; question texts come from the questionnaire YAML.
UI: dict[str, dict[str, str]] = {
    "vi": {
        "step": "Phần {n}/{total}",
        "next": "Tiếp tục",
        "back": "Quay lại",
        "submit": "Gửi phiếu",
        "required": "bắt buộc",
        "respondent": "Thông tin về Ông/Bà",
        "respondent_note": "Thông tin này chỉ dùng để tổng hợp theo nhóm người trả lời.",
        "errors": "Có {n} câu cần sửa",
        "show_if": "Chỉ trả lời câu này nếu ở câu {code} Ông/Bà chọn: {labels}.",
        "no_opinion": "Hoặc",
        "chars": "Tối đa {n} ký tự.",
        "language": "Ngôn ngữ",
        "anonymous": "Phiếu không ghi tên. Câu trả lời chỉ dùng để tổng hợp chỉ số hài lòng.",
        "csrf": "Trang đã để quá lâu nên cần xác nhận lại. Các câu trả lời vẫn được giữ; "
        "vui lòng bấm nút một lần nữa.",
    },
    "en": {
        "step": "Part {n} of {total}",
        "next": "Continue",
        "back": "Back",
        "submit": "Send",
        "required": "required",
        "respondent": "About you",
        "respondent_note": "Used only to summarise results by group of respondents.",
        "errors": "{n} answers need fixing",
        "show_if": "Answer only if you chose {labels} at question {code}.",
        "no_opinion": "Or",
        "chars": "At most {n} characters.",
        "language": "Language",
        "anonymous": "This form is anonymous; answers are only used to compute the index.",
        "csrf": "This page was open for a long time and needs confirming again. Your answers "
        "are kept; please press the button once more.",
    },
}
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "fr": "Français", "zh": "中文"}

# Pages shown instead of the form: (HTTP status, title, explanation).
PAGES: dict[str, tuple[int, str, str]] = {
    "unknown_desk": (
        404,
        "Không tìm thấy phiếu khảo sát",
        "Mã QR hoặc đường dẫn này không ứng với quầy tiếp nhận nào. Vui lòng kiểm tra lại "
        "hoặc hỏi cán bộ tại Bộ phận một cửa.",
    ),
    "inactive_desk": (
        410,
        "Quầy này không còn nhận đánh giá",
        "Quầy tiếp nhận này đã ngừng khảo sát. Vui lòng quét mã QR đang dán tại quầy "
        "Ông/Bà vừa làm thủ tục.",
    ),
    "no_campaign": (
        200,
        "Hiện chưa có đợt khảo sát",
        "Quầy tiếp nhận này hiện không có đợt khảo sát nào đang diễn ra. "
        "Cảm ơn Ông/Bà đã quan tâm.",
    ),
    "campaign_changed": (
        410,
        "Đợt khảo sát đã kết thúc",
        "Đợt khảo sát của phiếu này đã kết thúc hoặc đã thay đổi trong lúc Ông/Bà trả lời. "
        "Vui lòng quét lại mã QR để mở phiếu mới.",
    ),
    "code_invalid": (
        400,
        "Mã đánh giá không hợp lệ",
        "Đường dẫn hoặc mã QR trên phiếu hẹn không đúng hoặc không đầy đủ. Vui lòng quét lại "
        "mã QR trên phiếu hẹn, hoặc quét mã QR dán tại quầy tiếp nhận.",
    ),
    "code_expired": (
        410,
        "Mã đánh giá đã hết hạn",
        "Mã đánh giá trên phiếu hẹn chỉ dùng được trong một thời gian nhất định và nay đã hết "
        "hạn. Ông/Bà vẫn có thể đánh giá bằng mã QR dán tại quầy tiếp nhận.",
    ),
    "code_spent": (
        409,
        "Mã này đã được dùng để đánh giá",
        "Mỗi hồ sơ chỉ được đánh giá một lần và mã trên phiếu hẹn này đã được dùng. "
        "Cảm ơn Ông/Bà đã tham gia khảo sát.",
    ),
    "conflict": (
        409,
        "Phiếu này đã được gửi trước đó",
        "Phiếu khảo sát này đã được gửi với các câu trả lời khác; các câu trả lời đã gửi "
        "được giữ nguyên. Nếu muốn đánh giá một lần khác, vui lòng quét lại mã QR để mở "
        "phiếu mới.",
    ),
    "bad_form": (
        400,
        "Không đọc được phiếu",
        "Dữ liệu gửi lên không đầy đủ. Vui lòng quét lại mã QR để mở phiếu mới.",
    ),
    "csrf": (
        400,
        "Trang đã hết hạn",
        "Trang khảo sát đã để quá lâu hoặc trình duyệt chặn cookie, nên chưa gửi được. "
        "Vui lòng tải lại trang (quét lại mã QR) và thử lại.",
    ),
    "rate_limited": (
        429,
        "Gửi quá nhiều lần",
        "Có quá nhiều lần gửi từ thiết bị hoặc quầy này trong thời gian ngắn. Vui lòng đợi "
        "một phút rồi bấm gửi lại; các câu trả lời vẫn còn nếu Ông/Bà bấm nút Quay lại "
        "của trình duyệt.",
    ),
    "receipt_unknown": (
        404,
        "Không tìm thấy biên nhận",
        "Không có phiếu khảo sát nào với mã biên nhận này.",
    ),
}


@cache
def _inline(name: str) -> Markup:
    """A small static file inlined into every page: one request on slow mobile data."""
    return Markup((STATIC / name).read_text(encoding="utf-8").strip())  # noqa: S704


@bp.app_context_processor
def _assets() -> dict[str, object]:
    return {"inline_asset": _inline}


# --------------------------------------------------------------------------- rate limits


def _client_limit() -> str:
    return settings().rate_limit_client


def _submit_limit() -> str:
    return settings().rate_limit_submit


def _submit_key() -> str:
    """Rate-limit key of a client's final submits, apart from its page-to-page POSTs."""
    return f"submit:{client_key()}"


# Rate-limit counter of the submissions a desk stored (by its public id).
DESK_SCOPE = "citizen-desk-stored"


def _desk_limits() -> list[RateLimitItem]:
    return _parsed_limits(settings().rate_limit_desk)


@cache
def _parsed_limits(limits: str) -> list[RateLimitItem]:
    return parse_many(limits)


def _desk_open(desk: submissions.DeskRef) -> bool:
    """Whether the desk may store another submission under ``RATELIMIT_DESK``.

    The desk's count is of stored submissions only (``_count_stored``), so junk posted to
    its form, which the per-client limits refuse, never closes it to genuine citizens.
    The count is checked here and raised after the INSERT, so submissions in flight when
    the limit is reached are all stored: the overshoot is at most the requests in flight.
    """
    if not limiter.enabled:
        return True
    key = _desk_key(desk)
    return all(limiter.limiter.test(item, *key) for item in _desk_limits())


def _count_stored(desk: submissions.DeskRef) -> None:
    if limiter.enabled:
        key = _desk_key(desk)
        for item in _desk_limits():
            limiter.limiter.hit(item, *key)


def _desk_key(desk: submissions.DeskRef) -> tuple[str, ...]:
    # flask-limiter's own keys start with RATELIMIT_KEY_PREFIX when one is set.
    prefix = settings().rate_limit_key_prefix
    return (prefix, DESK_SCOPE, desk.public_id) if prefix else (DESK_SCOPE, desk.public_id)


client_limit = limiter.limit(_client_limit, methods=["POST"])
submit_limit = limiter.limit(_submit_limit, key_func=_submit_key, methods=["POST"])


# --------------------------------------------------------------------------- the form


@dataclass(frozen=True)
class Step:
    """One page of the form: a criteria group, or the respondent block (``section`` None)."""

    title: str
    description: str | None
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Target:
    """What a form is for: desk, campaign, route, and where its steps post."""

    desk: submissions.DeskRef
    campaign: submissions.CampaignRef
    questionnaire: Questionnaire
    route: str
    dossier: dossier_codes.DossierClaim | None
    # The endpoints' common URL argument (``public_id`` or ``token``) and its value.
    url_arg: tuple[str, str]

    @property
    def dossier_code(self) -> str | None:
        """What a submission through this form stores as its dossier code."""
        return self.dossier.code if self.dossier is not None else None

    @property
    def step_url(self) -> str:
        return url_for(f"citizen.{self._kind}_form", **dict([self.url_arg]))

    @property
    def submit_url(self) -> str:
        return url_for(f"citizen.{self._kind}_submit", **dict([self.url_arg]))

    @property
    def _kind(self) -> str:
        return "dossier" if self.route == "dossier" else "desk"


def _today() -> dt.date:
    return localtime.today()


def _ui(lang: str) -> dict[str, str]:
    return UI.get(lang, UI["vi"])


# A form's pages and field budget, by questionnaire content (and language): never stale.
_STEPS: Cache[tuple[str, str], tuple[Step, ...]] = Cache(size=256)
_MAX_FIELDS: Cache[str, int] = Cache(size=256)


def _steps(q: Questionnaire, lang: str) -> tuple[Step, ...]:
    """The pages of a questionnaire's form in one language, built once per process."""

    def build() -> tuple[Step, ...]:
        steps = tuple(
            Step(s.title[lang], s.description[lang] if s.description else None, s.items)
            for s in q.sections
        )
        if q.respondent:
            ui = _ui(lang)
            steps += (Step(ui["respondent"], ui["respondent_note"], q.respondent),)
        return steps

    return _STEPS.get_or_make((q.content_hash, lang), build)


def _max_fields(q: Questionnaire) -> int:
    """The most fields a browser can send for this questionnaire: every answer given,
    every option of a multiple choice item ticked, and the form's own fields."""

    def count() -> int:
        answers = sum(kind_of(i).max_fields(i) for i in q.items)
        return answers + len(CONTROL_FIELDS)

    return _MAX_FIELDS.get_or_make(q.content_hash, count)


def _language(q: Questionnaire, requested: str | None) -> str:
    return requested if requested in q.languages else q.default_language


def _raw_answers(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """Item code -> submitted values, from the ``a_<code>`` fields of the request."""
    return {
        key[len(FIELD_PREFIX) :]: values
        for key, values in form.lists()
        if key.startswith(FIELD_PREFIX)
    }


def _page(reason: str, desk: Desk | submissions.DeskRef | None = None) -> tuple[str, int]:
    status, title, body = PAGES[reason]
    return render_template(
        "citizen/message.html", title=title, body=body, desk=desk, lang="vi"
    ), status


# The service words its messages in Vietnamese; other interface languages get English.
ENGLISH_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), english)
    for pattern, english in (
        (r"^Câu hỏi này không có trong phiếu khảo sát\.$", "This question is not on the form."),
        (r"^Vui lòng trả lời câu hỏi này\.$", "Please answer this question."),
        (
            r"^Lựa chọn không hợp lệ, vui lòng chọn lại\.$",
            "Not a valid choice; please choose again.",
        ),
        (r"^Chỉ được chọn một phương án\.$", "Please choose only one answer."),
        (r"^Vui lòng nhập một số \(ví dụ: 3\)\.$", "Please enter a number (e.g. 3)."),
        (r"^Vui lòng nhập số nguyên .*$", "Please enter a whole number."),
        (
            r"^Câu trả lời dài quá (\d+) ký tự \(hiện có (\d+) ký tự\)\.$",
            r"The answer is longer than \1 characters (\2 now).",
        ),
        (r"^Vui lòng nhập số từ (\S+) đến (\S+)\.$", r"Please enter a number from \1 to \2."),
        (r"^Vui lòng nhập số không nhỏ hơn (\S+)\.$", r"Please enter a number of at least \1."),
        (r"^Vui lòng nhập số không lớn hơn (\S+)\.$", r"Please enter a number of at most \1."),
        (
            r"^Câu trả lời có ký tự không được phép \((U\+[0-9A-F]+)\) ở vị trí (\d+); "
            r"vui lòng xóa ký tự này\.$",
            r"The answer contains a character that is not allowed (\1) at position \2; "
            r"please delete it.",
        ),
    )
)


def _translate(message: str, lang: str) -> str:
    if lang == "vi":
        return message
    for pattern, english in ENGLISH_MESSAGES:
        if pattern.match(message):
            return pattern.sub(english, message)
    return message


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
        note = _ui(lang)["show_if"].format(code=_label(controller, lang), labels=labels)
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


def _render(
    target: Target,
    *,
    uid: str,
    lang: str,
    step: int,
    raw: Mapping[str, list[str]],
    errors: Mapping[str, str] | None = None,
    notice: str | None = None,
    status: int = 200,
) -> tuple[str, int]:
    q = target.questionnaire
    steps = _steps(q, lang)
    step = max(0, min(step, len(steps) - 1))
    current = steps[step]
    errors = dict(errors or {})
    # Answers parsed leniently, to decide which items an earlier page's answer hides.
    lenient, _ = submissions.validate_answers(q, raw)
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
        {"href": f"#q-{code}", "code": _label(q.item(code), lang), "message": message}
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
    last = step == len(steps) - 1
    html = render_template(
        "citizen/form.html",
        target=target,
        q=q,
        lang=lang,
        ui=_ui(lang),
        uid=uid,
        step=step,
        total=len(steps),
        last=last,
        current=current,
        items=items,
        summary=summary,
        hidden=hidden,
        notice=notice,
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in q.languages],
        first_visit=request.method == "GET",
    )
    return html, status


def _show_first_step(target: Target) -> tuple[str, int]:
    lang = _language(target.questionnaire, request.args.get("lang"))
    return _render(target, uid=submissions.new_uid(), lang=lang, step=0, raw={})


def _step_of(steps: tuple[Step, ...], code: str) -> int | None:
    for n, step in enumerate(steps):
        if any(i.code == code for i in step.items):
            return n
    return None


def _handle_post(target: Target, *, final: bool, csrf_failed: bool = False) -> object:
    """One POST of the form: change language, go back, go forward, or (final) submit."""
    form = request.form
    q = target.questionnaire
    if sum(len(values) for _, values in form.lists()) > _max_fields(q):
        abort(413)  # no browser sends more; nothing is read or stored
    uid = submissions.parse_uid(form.get("uid"))
    if uid is None:
        return _page("bad_form", target.desk)
    if form.get("campaign") != str(target.campaign.id):
        return _page("campaign_changed", target.desk)
    lang = _language(q, form.get("lang"))
    raw = _raw_answers(form)
    steps = _steps(q, lang)
    try:
        step = int(form.get("step", "0"))
    except ValueError:
        step = 0
    step = max(0, min(step, len(steps) - 1))
    action = form.get("action", "next")

    def show(n: int, errors: Mapping[str, str] | None = None, status: int = 200) -> object:
        shown = {c: _translate(m, lang) for c, m in (errors or {}).items()}
        return _render(target, uid=uid, lang=lang, step=n, raw=raw, errors=shown, status=status)

    if csrf_failed:
        return _render(
            target, uid=uid, lang=lang, step=step, raw=raw, notice=_ui(lang)["csrf"], status=400
        )
    if action.startswith("lang:"):
        lang = _language(q, action.removeprefix("lang:"))
        return show(step)
    if action == "back":
        return show(step - 1)
    # On the final step the INSERT itself decides (DossierCodeSpent below), in its own
    # transaction: a request never holds two pooled connections at once. Only a code
    # issued before keyed codes may have been spent under a value the INSERT cannot see.
    dossier = target.dossier
    if dossier is not None and (not final or dossier.legacy_code is not None):
        spent = submissions.dossier_code_spent(dossier)
        if spent is not None and spent.uid != uid:
            return _page("code_spent", target.desk)

    answers, errors = submissions.validate_answers(q, raw)
    known_errors = {
        code: (n, message)
        for code, message in errors.items()
        if (n := _step_of(steps, code)) is not None and (final or n <= step)
    }
    if known_errors:
        first = min(n for n, _ in known_errors.values())
        return show(first, {c: m for c, (n, m) in known_errors.items() if n == first}, 422)
    if not final:
        return show(step + 1)
    if errors:  # only codes that are in no step: fields the form never had
        return show(step, errors, 422)
    # The INSERT takes a connection of its own, not the ORM session's. The session is used
    # only when this desk's form was not cached yet: it gives its connection back first, so
    # a request never holds two pooled connections (a burst of first requests would
    # otherwise take them all and wait for each other). The INSERT is one statement, so it
    # runs in autocommit: one round trip to the database, not BEGIN, INSERT and COMMIT.
    close_session()

    def store(connection: Connection) -> submissions.StoredSubmission:
        if not _desk_open(target.desk):
            # A retry of a submission stored before the desk reached its limit still ends
            # on its receipt; anything new waits.
            stored = submissions.stored_retry(connection, uid, answers)
            if stored is None:
                raise TooManyRequests()
            return stored
        return submissions.record_submission(
            connection,
            uid=uid,
            campaign=target.campaign,
            desk=target.desk,
            route=target.route,
            answers=answers,
            language=lang,
            dossier_code=target.dossier_code,
            client_hash=client_key(),
        )

    try:
        # Storing under the uid is idempotent, so a dropped connection is retried once.
        stored = in_autocommit(store)
    except submissions.SubmissionConflict:
        return _page("conflict", target.desk)
    except submissions.DossierCodeSpent:
        return _page("code_spent", target.desk)
    if stored.new:
        _count_stored(target.desk)
    # Post/redirect/get: the receipt appears only once the answers are committed.
    return redirect(url_for("citizen.receipt", receipt=stored.receipt), 303)


def _desk_target(public_id: str) -> Target:
    survey = submissions.desk_survey(public_id, _today())
    return Target(
        desk=survey.desk,
        campaign=survey.campaign,
        questionnaire=survey.questionnaire,
        route="desk_qr",
        dossier=None,
        url_arg=("public_id", public_id),
    )


def _dossier_target(token: str) -> Target:
    survey, claim = submissions.dossier_survey(token, _today())
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


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    try:
        retry_read(lambda: db.session.execute(text("SELECT 1")))
    except Exception:  # noqa: BLE001  (any database failure means "not healthy")
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}, 200


@bp.route("/s/<public_id>", methods=["GET", "POST"])
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
def desk_form(public_id: str) -> object:
    """The form of a desk's QR poster (route 'desk_qr')."""
    try:
        target = _desk_target(public_id)
    except submissions.SurveyUnavailable as error:
        return _page(error.reason, error.desk)
    if request.method == "GET":
        return _show_first_step(target)
    return _handle_post(target, final=False)


@bp.post("/s/<public_id>/submit")
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
@submit_limit
def desk_submit(public_id: str) -> object:
    try:
        target = _desk_target(public_id)
    except submissions.SurveyUnavailable as error:
        return _page(error.reason, error.desk)
    return _handle_post(target, final=True)


@bp.route("/c/<token>", methods=["GET", "POST"])
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
def dossier_form(token: str) -> object:
    """The form of a dossier receipt's code (route 'dossier'): answerable once."""
    try:
        target = _dossier_target(token)
    except submissions.SurveyUnavailable as error:
        return _page(error.reason, error.desk)
    if request.method == "GET":
        assert target.dossier is not None
        if submissions.dossier_code_spent(target.dossier) is not None:
            return _page("code_spent", target.desk)
        return _show_first_step(target)
    return _handle_post(target, final=False)


@bp.post("/c/<token>/submit")
@checks_own_text(prefix=FIELD_PREFIX)
@client_limit
@submit_limit
def dossier_submit(token: str) -> object:
    try:
        target = _dossier_target(token)
    except submissions.SurveyUnavailable as error:
        return _page(error.reason, error.desk)
    return _handle_post(target, final=True)


@bp.get("/r/<receipt>")
def receipt(receipt: str) -> object:
    """Thank-you page (biên nhận): the receipt code, never the answers."""
    submission = (
        submissions.submission_by_receipt(receipt) if submissions.is_receipt(receipt) else None
    )
    if submission is None:
        return _page("receipt_unknown")
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


@bp.errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> object:
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
        except submissions.SurveyUnavailable as unavailable:
            return _page(unavailable.reason, unavailable.desk)
        return _handle_post(target, final=final, csrf_failed=True)
    return _page("csrf")


@bp.errorhandler(TooManyRequests)
def rate_limited(error: TooManyRequests) -> object:
    html, status = _page("rate_limited")
    response = make_response(html, status)
    response.headers["Retry-After"] = "60"
    return response
