"""Xem trước phiếu khảo sát: a loaded questionnaire version as a citizen sees it, before any
campaign uses it, in a sandbox that stores nothing.

The citizen form's own pages and steps (``citizen.render_step``, ``citizen_form.advance``)
run against a target that is no desk and no campaign: every step, the checks of the
answers, the skip logic, the review and the languages work as on a phone; the final
"Gửi phiếu" checks every answer and says the form would be accepted, but nothing is
written (no submission, no receipt, no rate-limit count), and the page's script keeps no
answers in the browser's storage. A banner on every page says "Xem trước — không lưu".
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext, lazy_gettext

from survey_app import citizen
from survey_app.access import READ_ROLES, role_required
from survey_app.extensions import db
from survey_app.models import QuestionnaireVersion
from survey_app.services import citizen_form
from survey_app.services.citizen_form import ShowStep
from survey_app.services.desk_surveys import AgencyRef, CampaignRef, DeskRef
from survey_app.services.questionnaires import definition
from survey_app.staff import bp

PREVIEW_DONE = lazy_gettext(
    "Phiếu đã điền hợp lệ: người dân bấm “Gửi phiếu” lúc này thì phiếu được nhận. "
    "Đây là bản xem trước nên không có gì được lưu."
)


@dataclass(frozen=True)
class PreviewTarget(citizen.Target):
    """A form that is no desk's and no campaign's: its steps post to the preview."""

    @property
    def step_url(self) -> str:
        return url_for(
            "staff.questionnaire_preview", version_id=self.campaign.questionnaire_version_id
        )

    @property
    def submit_url(self) -> str:
        return url_for(
            "staff.questionnaire_preview_submit", version_id=self.campaign.questionnaire_version_id
        )


def _target(version_id: int) -> PreviewTarget:
    row = db.session.get(QuestionnaireVersion, version_id)
    if row is None:
        abort(404)
    name = str(gettext("Xem trước phiếu %(questionnaire)s", questionnaire=row.title))
    g.questionnaire_preview = url_for("staff.questionnaire_list")
    return PreviewTarget(
        desk=DeskRef(0, "", "", name, AgencyRef(str(gettext("Cơ quan của quầy")))),
        campaign=CampaignRef(0, "", f"{row.questionnaire_id} {row.version}", row.id),
        questionnaire=definition(row),
        route="desk_qr",
        dossier=None,
    )


def _post(target: PreviewTarget, *, final: bool) -> tuple[str, int]:
    state = citizen.posted_state(target)
    if state is None:  # no form id: start again
        state = citizen_form.start(target.questionnaire, target.campaign, None)
        return citizen.render_step(target, state, ShowStep(0, state.lang))
    action = request.form.get("action", citizen_form.NEXT)
    if final:
        # Every answer checked as the final POST checks them; nothing is stored.
        action = citizen_form.REVIEW
    outcome = citizen_form.advance(
        target, state, action, final=False, desk_limit=citizen_form.NoDeskLimit()
    )
    assert isinstance(outcome, ShowStep)  # never stored: advance stores only when final
    review = outcome.step == citizen_form.review_step(target.questionnaire)
    notice = PREVIEW_DONE if final and review and not outcome.problems else None
    return citizen.render_step(target, state, outcome, notice=notice)


@bp.route("/questionnaires/<int:version_id>/preview", methods=["GET", "POST"])
@role_required(*READ_ROLES)
def questionnaire_preview(version_id: int) -> ResponseReturnValue:
    """The first step (GET, ``?lang=``), or the step a button of the form asks for."""
    target = _target(version_id)
    if request.method == "POST":
        return _post(target, final=False)
    q = target.questionnaire
    state = citizen_form.start(q, target.campaign, request.args.get("lang"))
    return citizen.render_step(target, state, ShowStep(0, state.lang))


@bp.post("/questionnaires/<int:version_id>/preview/submit")
@role_required(*READ_ROLES)
def questionnaire_preview_submit(version_id: int) -> ResponseReturnValue:
    """ "Gửi phiếu" of the preview: every answer checked, nothing stored."""
    return _post(_target(version_id), final=True)
