"""Remediation plan pages (kế hoạch khắc phục): the plan of a campaign for an agency scope,
its editor, the verification at the next period and the DOCX / XLSX downloads.

URL rules under ``/staff/campaigns/<code>/plan``; the scope is ``?agency=CODE`` (default:
the campaign's agency when the user may see it, else the user's own). Who may do what
(``services.plans.editing``): everyone who may see the scope's agency reads its plan
(others: 404); admins and analysts change every row, an officer the rows led within the
own subtree (others: 403); viewers read.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from survey_app.access import (
    READ_ROLES,
    SETUP_ROLES,
    campaign_or_404,
    role_required,
    visible_agency_ids,
)
from survey_app.extensions import db
from survey_app.models import PLAN_STATUSES, Agency, Campaign, PlanRow
from survey_app.services import analysis, plans, weighting_settings
from survey_app.services.plans.editing import EDITABLE, campaign_scopes, in_campaign
from survey_app.staff import bp
from survey_app.staff.data import XLSX_MIME, download
from survey_app.staff.problems import Errors, field_errors, flash_problems
from survey_app.text_input import checks_own_text

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class ConfirmForm(FlaskForm):
    """A CSRF-protected button (add rows, delete a row)."""


def _scope(campaign: Campaign) -> Agency:
    """The agency whose subtree the page is about (404 if not the user's to see)."""
    code = request.args.get("agency") or request.form.get("agency")
    if code:
        agency = db.session.scalar(select(Agency).filter_by(code=code))
    else:
        agency = plans.default_scope(current_user, campaign)
    if agency is None or not plans.can_see_plan(current_user, agency):
        abort(404)
    if not in_campaign(campaign, agency):
        abort(404)
    return agency


def _row_or_404(campaign: Campaign, row_id: int) -> PlanRow:
    row = db.session.get(PlanRow, row_id)
    if row is None or row.plan.campaign_id != campaign.id:
        abort(404)
    if not plans.can_see_plan(current_user, row.plan.agency):
        abort(404)
    return row


def _plan_url(campaign: Campaign, agency: Agency) -> str:
    return url_for("staff.plan", code=campaign.code, agency=agency.code)


def _scopes(campaign: Campaign) -> list[Agency]:
    """The agencies of the campaign whose plans the user may open, by code."""
    ids = campaign_scopes(campaign)
    visible = visible_agency_ids(current_user)
    if visible is not None:
        ids &= visible
    return list(db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.code)))


@bp.get("/campaigns/<code>/plan")
@role_required(*READ_ROLES)
def plan(code: str) -> str:
    campaign = campaign_or_404(code)
    agency = _scope(campaign)
    found = plans.find_plan(campaign, agency)
    if found is not None:
        period = plans.plan_period(found)
    else:
        chosen = analysis.find_period(campaign, request.args.get("period"))
        if chosen is None:
            abort(404)
        period = chosen
    can_add = plans.can_plan(current_user, agency)
    present = {r.criterion for r in found.rows} if found is not None else set()
    candidates = []
    if can_add:
        candidates = [
            n for n in plans.candidates(campaign, agency, period) if n.code not in present
        ]
    own_settings = request.args.get("compare") == "own"
    follow, checks = (
        plans.verify(found, own_settings=own_settings) if found is not None else (None, [])
    )
    by_row = {c.row.id: c for c in checks}
    rows = [] if found is None else [r for g in plans.documents.groups(found) for r in g.rows]
    return render_template(
        "staff/plan.html",
        campaign=campaign,
        agency=agency,
        plan=found,
        period=period,
        periods=analysis.campaign_periods(campaign),
        rows=rows,
        checks=by_row,
        follow=follow,
        own_settings=own_settings,
        candidates=candidates,
        can_add=can_add,
        can_edit=lambda row: plans.can_edit_row(current_user, row),
        scopes=_scopes(campaign),
        statuses=plans.STATUS_LABELS,
        rule=plans.RULE,
        wide_warning=analysis.WIDE_WARNING,
        level=weighting_settings.current(campaign).level,
        form=ConfirmForm(),
    )


@bp.post("/campaigns/<code>/plan/rows")
@role_required(*SETUP_ROLES)
def plan_add_rows(code: str) -> Response:
    campaign = campaign_or_404(code)
    agency = _scope(campaign)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        plans.add_rows(
            campaign,
            agency,
            request.form.get("period"),
            request.form.getlist("criteria"),
            request.form.get("target", ""),
            current_user,
        )
    except plans.PlanForbidden:
        raise
    except plans.PlanError as error:
        db.session.rollback()
        flash_problems(error)
    else:
        db.session.commit()
        flash(gettext("Đã thêm tiêu chí vào kế hoạch."), "success")
    return redirect(_plan_url(campaign, agency))


@bp.route("/campaigns/<code>/plan/rows/<int:row_id>", methods=["GET", "POST"])
@checks_own_text(*EDITABLE)
@role_required(*SETUP_ROLES)
def plan_row(code: str, row_id: int) -> Response | tuple[str, int]:
    campaign = campaign_or_404(code)
    row = _row_or_404(campaign, row_id)
    if not plans.can_edit_row(current_user, row):
        abort(403)
    form = ConfirmForm()
    errors: Errors = {}
    values: dict[str, Any] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        values = {name: request.form.get(name, "") for name in EDITABLE}
        try:
            changes = plans.update_row(row, values, current_user)
        except plans.PlanForbidden:
            raise
        except plans.PlanError as error:
            db.session.rollback()
            field_errors(error, EDITABLE, errors)
        else:
            db.session.commit()
            if changes:
                flash(gettext("Đã lưu dòng “%(criterion)s”.", criterion=row.criterion), "success")
            else:
                flash(gettext("Không có gì thay đổi."), "info")
            return redirect(_plan_url(campaign, row.plan.agency))
    return render_template(
        "staff/plan_row.html",
        campaign=campaign,
        row=row,
        form=form,
        errors=errors,
        values=values,
        leads=plans.lead_choices(current_user, row.plan.agency),
        statuses=[(s, plans.STATUS_LABELS[s]) for s in PLAN_STATUSES],
        limits=plans.editing.TEXT_LIMITS,
    ), (422 if errors else 200)


@bp.route("/campaigns/<code>/plan/rows/<int:row_id>/delete", methods=["GET", "POST"])
@role_required(*SETUP_ROLES)
def plan_row_delete(code: str, row_id: int) -> Response | str:
    """Xóa một dòng, after a confirmation page that names it."""
    campaign = campaign_or_404(code)
    row = _row_or_404(campaign, row_id)
    if not plans.can_edit_row(current_user, row):
        abort(403)
    form = ConfirmForm()
    if form.validate_on_submit():
        agency = row.plan.agency
        criterion = row.criterion
        plans.delete_row(row, current_user)
        db.session.commit()
        flash(gettext("Đã xóa dòng “%(criterion)s” khỏi kế hoạch.", criterion=criterion), "success")
        return redirect(_plan_url(campaign, agency))
    return render_template("staff/plan_row_delete.html", campaign=campaign, row=row, form=form)


@bp.get("/campaigns/<code>/plan.<any(docx, xlsx):fmt>")
@role_required(*READ_ROLES)
def plan_export(code: str, fmt: str) -> Response:
    campaign = campaign_or_404(code)
    agency = _scope(campaign)
    found = plans.plan_or_missing(campaign, agency)
    with force_locale("vi"):
        body = plans.plan_docx(found) if fmt == "docx" else plans.plan_xlsx(found)
    db.session.commit()
    mimetype = DOCX_MIME if fmt == "docx" else XLSX_MIME
    return download(body, mimetype, f"ke-hoach-khac-phuc-{campaign.code}-{agency.code}.{fmt}")
