"""The citizen form's steps (phiếu khảo sát nhiều phần), apart from HTTP.

The form is multi-step, one criteria group per step, with the respondent block last and
then a review step (xem lại) that lists every answer, with a way back to each part; a
part opened from the review returns to it (``FormState.reviewing``).
No server session holds the answers: each step posts every answer so far (earlier steps
as hidden inputs), so a phone that drops off mobile data loses nothing it has posted.
:func:`advance` takes what one POST carries (:class:`FormState`) and the button pressed,
and says what comes next: a step to show (:class:`ShowStep`, with the problems to fix) or,
after the final step, the stored submission (:class:`Stored`). A form that cannot go on
raises a :class:`~survey_app.services.errors.ServiceError` whose code names the page to
show (``citizen.campaign_changed``, ``citizen.code_spent``, ``citizen.conflict``,
``citizen.rate_limited``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from flask_babel import LazyString, lazy_gettext

from scoring.questionnaire import Item, Questionnaire
from survey_app.caching import Cache
from survey_app.services import dossier_codes, submissions
from survey_app.services.desk_surveys import CampaignRef, DeskRef
from survey_app.services.errors import Conflict, Problem
from survey_app.services.submissions import Answers, AnswersRefused

RESPONDENT_TITLE = lazy_gettext("Thông tin về Ông/Bà")
RESPONDENT_NOTE = lazy_gettext("Thông tin này chỉ dùng để tổng hợp theo nhóm người trả lời.")

#: What the buttons of a step send as ``action``: go on, go back, show the form in
#: another of the questionnaire's languages (``lang:en``), open part n from the review
#: (``part:3``) or return to the review. Anything else means go on.
NEXT = "next"
BACK = "back"
LANGUAGE_PREFIX = "lang:"
PART_PREFIX = "part:"
REVIEW = "review"


@dataclass(frozen=True)
class Step:
    """One page of the form: a criteria group, or the respondent block."""

    title: str | LazyString
    description: str | LazyString | None
    items: tuple[Item, ...]

    @property
    def optional(self) -> bool:
        """No question of the part must be answered (không bắt buộc)."""
        return not any(i.required for i in self.items)


@dataclass(frozen=True)
class FormTarget:
    """What a form is for: the desk, its running campaign and questionnaire, the route
    ('desk_qr' or 'dossier') and, on the dossier route, the dossier code's claim."""

    desk: DeskRef
    campaign: CampaignRef
    questionnaire: Questionnaire
    route: str
    dossier: dossier_codes.DossierClaim | None

    @property
    def dossier_code(self) -> str | None:
        """What a submission through this form stores as its dossier code."""
        return self.dossier.code if self.dossier is not None else None


@dataclass(frozen=True)
class FormState:
    """What one POST of the form carries: its submission id, the campaign it was drawn
    for, the language and step it was shown in, every answer given so far (item
    code -> the values sent) and whether the step was opened from the review."""

    uid: str
    campaign: str | None
    lang: str
    step: int
    raw: Mapping[str, list[str]] = field(default_factory=dict)
    reviewing: bool = False


@dataclass(frozen=True)
class ShowStep:
    """Show step ``step`` (0-based; ``review_step`` is the review) in ``lang``, with the
    problems of its items (item code -> problem; a code that is on no step is the whole
    form's); ``reviewing``: the step returns to the review."""

    step: int
    lang: str
    problems: Mapping[str, Problem] = field(default_factory=dict)
    status: int = 200
    reviewing: bool = False


@dataclass(frozen=True)
class Stored:
    """The submission is stored (``new``) or was already (an exact retry)."""

    receipt: str
    new: bool


Outcome = ShowStep | Stored


class DeskLimit(Protocol):
    """How many submissions a desk may store for now (``RATELIMIT_DESK``)."""

    def open(self, desk: DeskRef) -> bool:
        """Whether the desk may store another submission."""

    def count(self, desk: DeskRef) -> None:
        """Count one more submission stored by the desk."""


class NoDeskLimit:
    """Every desk open (rate limiting switched off)."""

    def open(self, desk: DeskRef) -> bool:
        return True

    def count(self, desk: DeskRef) -> None:
        return None


class CampaignChanged(Conflict):
    """The form was drawn for a campaign that is no longer the desk's running one."""

    def __init__(self) -> None:
        super().__init__(Problem("citizen.campaign_changed"))


# A form's pages by questionnaire content and language: never stale.
_STEPS: Cache[tuple[str, str], tuple[Step, ...]] = Cache(size=256)


def language(questionnaire: Questionnaire, requested: str | None) -> str:
    """The form language: the one asked for when the questionnaire has it."""
    return requested if requested in questionnaire.languages else questionnaire.default_language


def interface_language(form_language: str) -> str:
    """The language of the form's own texts (buttons, messages): Vietnamese for a
    Vietnamese form, English for a form in any other language; the questions themselves
    come from the questionnaire in the form's language."""
    return "vi" if form_language == "vi" else "en"


def steps(questionnaire: Questionnaire, lang: str) -> tuple[Step, ...]:
    """The pages of a questionnaire's form in one language, built once per process."""

    def build() -> tuple[Step, ...]:
        pages = tuple(
            Step(s.title[lang], s.description[lang] if s.description else None, s.items)
            for s in questionnaire.sections
        )
        if questionnaire.respondent:
            pages += (Step(RESPONDENT_TITLE, RESPONDENT_NOTE, questionnaire.respondent),)
        return pages

    return _STEPS.get_or_make((questionnaire.content_hash, lang), build)


def step_of(pages: tuple[Step, ...], code: str) -> int | None:
    """The step that asks item ``code``; None for a code on no step."""
    for n, page in enumerate(pages):
        if any(i.code == code for i in page.items):
            return n
    return None


def read_answers(
    questionnaire: Questionnaire, raw: Mapping[str, list[str]]
) -> tuple[Answers, dict[str, Problem]]:
    """The answers that pass and the problems of the others (item code -> problem)."""
    try:
        return submissions.validate_answers(questionnaire, raw), {}
    except AnswersRefused as refused:
        return refused.answers, refused.by_item()


def start(questionnaire: Questionnaire, campaign: CampaignRef, requested: str | None) -> FormState:
    """A new form: a fresh submission id, on its first step."""
    return FormState(
        uid=submissions.new_uid(),
        campaign=str(campaign.id),
        lang=language(questionnaire, requested),
        step=0,
    )


def review_step(questionnaire: Questionnaire) -> int:
    """The review's step number: the one after the questions' pages."""
    return len(steps(questionnaire, questionnaire.default_language))


def clamp(questionnaire: Questionnaire, step: int) -> int:
    """``step`` as a step the form has (the review included)."""
    return max(0, min(step, review_step(questionnaire)))


def advance(
    target: FormTarget,
    state: FormState,
    action: str,
    *,
    final: bool,
    desk_limit: DeskLimit,
    client_hash: str | None = None,
) -> Outcome:
    """What follows one POST of the form.

    ``final`` is the review's POST, which stores the submission (exactly once under
    ``state.uid``: a retry ends on the same receipt). A language change shows the same
    step again; ``back`` the step before, keeping every answer; ``part:n`` step n, which
    then returns to the review; ``next`` checks the answers up to this step and shows
    the first step with a problem, else the next one (after the last part, the review);
    ``review`` (or ``next`` on a part opened from the review) checks every answer and
    shows the review. The final POST checks every answer and stores them on a database
    connection of its own (``submissions.store_citizen_submission``), within the desk's
    limit. A final POST from a part's page (a form drawn before the review existed)
    stores as well.

    Raises CampaignChanged, DossierCodeSpent, SubmissionConflict or DeskFull (all
    ServiceError), whose code names the page to show instead.
    """
    q = target.questionnaire
    if state.campaign != str(target.campaign.id):
        raise CampaignChanged()
    lang = language(q, state.lang)
    step = clamp(q, state.step)
    reviewing = state.reviewing and not final
    if action.startswith(LANGUAGE_PREFIX):
        new_lang = language(q, action.removeprefix(LANGUAGE_PREFIX))
        return ShowStep(step, new_lang, reviewing=reviewing)
    if action == BACK:
        return ShowStep(clamp(q, step - 1), lang, reviewing=reviewing)
    if action.startswith(PART_PREFIX) and not final:
        part = action.removeprefix(PART_PREFIX)
        # isdecimal: int() reads no other digits; a few: int() refuses thousands.
        number = int(part) if part.isdecimal() and len(part) <= 4 else 0
        return ShowStep(min(number, review_step(q) - 1), lang, reviewing=True)
    to_review = not final and (action == REVIEW or reviewing)
    # On the final step the INSERT itself decides (DossierCodeSpent), in its own
    # transaction: a request never holds two pooled connections at once. Only a code
    # issued before keyed codes may have been spent under a value the INSERT cannot see.
    dossier = target.dossier
    if dossier is not None and (not final or dossier.legacy_code is not None):
        spent = submissions.dossier_code_spent(dossier)
        if spent is not None and spent.uid != state.uid:
            raise submissions.DossierCodeSpent(dossier.code)

    pages = steps(q, lang)
    answers, problems = read_answers(q, state.raw)
    on_steps = {
        code: (n, problem)
        for code, problem in problems.items()
        if (n := step_of(pages, code)) is not None and (final or to_review or n <= step)
    }
    if on_steps:
        first = min(n for n, _ in on_steps.values())
        problems_here = {c: p for c, (n, p) in on_steps.items() if n == first}
        return ShowStep(first, lang, problems_here, status=422, reviewing=reviewing)
    if to_review:
        return ShowStep(review_step(q), lang)
    if not final:
        return ShowStep(clamp(q, step + 1), lang)
    if problems:  # only codes that are on no step: fields the form never had
        return ShowStep(min(step, review_step(q) - 1), lang, problems, status=422)
    stored = submissions.store_citizen_submission(
        uid=state.uid,
        campaign=target.campaign,
        desk=target.desk,
        route=target.route,
        answers=answers,
        language=lang,
        dossier_code=target.dossier_code,
        client_hash=client_hash,
        desk_open=_opener(desk_limit, target.desk),
    )
    if stored.new:
        desk_limit.count(target.desk)
    return Stored(stored.receipt, stored.new)


def _opener(desk_limit: DeskLimit, desk: DeskRef) -> Callable[[], bool]:
    return lambda: desk_limit.open(desk)
