"""Home, desk and campaign pages of the staff workspace."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import flash, render_template
from flask_babel import lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.wrappers import Response
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from survey_app import access, localtime
from survey_app.access import DATA_ROLES, READ_ROLES, SETUP_ROLES, has_role, role_required
from survey_app.extensions import db
from survey_app.messages import texts
from survey_app.models import Campaign, Desk
from survey_app.services import (
    analysis,
    audit,
    campaign_overlaps,
    dossier_codes,
    organisation,
    slips,
)
from survey_app.services.desk_activity import response_counts
from survey_app.services.errors import ServiceError
from survey_app.services.posters import desk_url
from survey_app.staff import bp
from survey_app.staff.problems import flash_problems
from survey_app.text_input import SingleLine, checks_own_text

S = TypeVar("S", bound=Select[Any])


def _visible(query: S, column: InstrumentedAttribute[int]) -> S:
    """``query`` limited to the agencies the signed-in user may see."""
    visible = access.visible_agency_ids(current_user)
    return query if visible is None else query.where(column.in_(visible))


def desk_survey_url(desk: Desk) -> str:
    return str(desk_url(desk))


@bp.get("/")
@role_required(*READ_ROLES)
def home() -> str:
    campaigns = [
        c
        for c in db.session.scalars(
            select(Campaign).order_by(Campaign.starts_on.desc(), Campaign.code)
        )
        if access.can_see_campaign(current_user, c)
    ]
    desks = db.session.scalars(_visible(select(Desk), Desk.agency_id).order_by(Desk.code)).all()
    today = localtime.today()
    running = [_headline(c) for c in campaigns if c.starts_on <= today <= c.ends_on]
    return render_template(
        "staff/home.html",
        campaigns=campaigns,
        desks=desks,
        running=running,
        min_n=analysis.MIN_N,
        wide_warning=analysis.WIDE_WARNING,
        nav_active="home",
    )


def _headline(campaign: Campaign) -> tuple[Campaign, analysis.Headline | None, str | None]:
    """A running campaign's headline, or why its indices cannot be computed as set."""
    try:
        return campaign, analysis.headline(campaign, current_user), None
    except analysis.AnalysisError as error:
        return campaign, None, "\n".join(texts(error))


DOSSIER_REF_MESSAGE = lazy_gettext(
    "Vui lòng nhập số hồ sơ (tối đa %(count)s ký tự).", count=dossier_codes.MAX_DOSSIER_REF
)


class DossierCodeForm(FlaskForm):
    dossier_ref = StringField(
        lazy_gettext("Số hồ sơ (mã biên nhận)"),
        validators=[
            DataRequired(DOSSIER_REF_MESSAGE),
            Length(max=dossier_codes.MAX_DOSSIER_REF, message=DOSSIER_REF_MESSAGE),
            SingleLine("Số hồ sơ"),
        ],
    )


def _desk_page(desk: Desk, form: DossierCodeForm, issued: slips.Slip | None) -> str:
    today = localtime.today()
    at_desk = organisation.campaigns_at_desk(desk)
    campaigns = [(c, c.starts_on <= today <= c.ends_on) for c in at_desk]
    return render_template(
        "staff/desk.html",
        desk=desk,
        poster=campaign_overlaps.poster_campaign(at_desk, today),
        survey_url=desk_survey_url(desk),
        form=form,
        issued=issued,
        campaigns=campaigns,
        answers=organisation.desk_answer_count(desk),
    )


@bp.get("/desks/<code>")
@role_required(*READ_ROLES)
def desk(code: str) -> str:
    return _desk_page(access.desk_or_404(code), DossierCodeForm(), None)


@bp.post("/desks/<code>/dossier-codes")
@checks_own_text("dossier_ref")
@role_required(*DATA_ROLES)
def issue_dossier_code(code: str) -> Response | str:
    """Phát mã khảo sát theo hồ sơ: a single-use code for one dossier's receipt, shown as
    its slip (the link as text, so that trying it does not spend the citizen's code)."""
    desk = access.desk_or_404(code)
    form = DossierCodeForm()
    issued = None
    if form.validate_on_submit():
        try:
            issued = slips.issue_slips(desk.code, [form.dossier_ref.data or ""])[0]
        except ServiceError as error:
            flash_problems(error)
        else:
            # The dossier reference is the citizen's file number: log the desk only.
            audit.record("dossier_code.issue", desk.code)
            db.session.commit()
            form.dossier_ref.data = ""  # ready for the next dossier
    else:
        for message in form.dossier_ref.errors or [DOSSIER_REF_MESSAGE]:
            flash(str(message), "error")
    return _desk_page(desk, form, issued)


@bp.get("/campaigns/<code>")
@role_required(*READ_ROLES)
def campaign(code: str) -> str:
    campaign = access.campaign_or_404(code)
    visible = access.visible_agency_ids(current_user)
    desk_ids = (
        None if visible is None else {d.id for d in access.visible_desks(current_user, campaign)}
    )
    counts = response_counts(campaign, desk_ids)
    return render_template(
        "staff/campaign.html",
        campaign=campaign,
        counts=counts,
        can_edit=(has_role(*SETUP_ROLES) and access.can_manage_campaign(current_user, campaign)),
    )
