"""The probability sample's pages (mẫu xác suất hồ sơ): estimates, rates, walk-in against
sampled, and the sample planner.

On the dashboard's blueprint, so its handlers answer here too. Every role reads (an
officer or viewer sees their agency subtree, as domains of the whole sample's design);
only analysts and administrators copy a plan into the sampling design. A campaign
without a sampling design answers 404, in words; a sample that cannot be estimated
shows why on its page (nothing is stored).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext, lazy_gettext
from flask_login import current_user

from survey_app.access import ANALYSIS_ROLES, READ_ROLES, campaign_or_404, has_role, role_required
from survey_app.extensions import db
from survey_app.services import analysis, sample_estimates
from survey_app.services.errors import NotFound, Problem
from survey_app.services.sample_estimates import SampleError, Targets, apply_plan, plan, plan_files
from survey_app.services.sample_estimates.service import PLAN_SOURCES
from survey_app.staff.dashboard import bp
from survey_app.staff.data import CSV_MIME, XLSX_MIME, download

DEFAULT_TARGETS = Targets()


def _codes() -> frozenset[str] | None:
    return analysis.visible_agency_codes(current_user)


def _agency(codes: frozenset[str] | None, agencies: list[str]) -> str | None:
    """The agency asked for (``?agency=``), within those shown; None for the whole scope."""
    code = request.args.get("agency") or None
    if code is not None and code not in agencies:
        raise NotFound.of("sample.unknown_agency", code=code)
    return code


@bp.get("/staff/campaigns/<code>/sample")
@role_required(*READ_ROLES)
def sample(code: str) -> Any:
    campaign = campaign_or_404(code)
    codes = _codes()
    rates = sample_estimates.campaign_rates(campaign, codes)
    problem: str | None = None
    result, tree, agency = None, None, None
    try:
        result = sample_estimates.campaign_estimates(campaign, codes)
    except SampleError as error:
        problem = _words(error)
    if result is not None:
        agency = _agency(codes, result.agencies())
        tree = result.tree(agency)
    return render_template(
        "staff/sample.html",
        campaign=campaign,
        rates=rates,
        result=result,
        tree=tree,
        agency=agency,
        problem=problem,
        scoped=codes is not None,
        wide_warning=analysis.WIDE_WARNING,
    )


@bp.get("/staff/campaigns/<code>/sample/compare")
@role_required(*READ_ROLES)
def sample_compare(code: str) -> Any:
    campaign = campaign_or_404(code)
    codes = _codes()
    try:
        result = sample_estimates.campaign_estimates(campaign, codes)
    except SampleError as error:
        return render_template(
            "staff/sample_compare.html", campaign=campaign, problem=_words(error)
        )
    agency = _agency(codes, result.agencies())
    if agency is None and result.agencies():
        agency = result.agencies()[0]
    versus = sample_estimates.comparison(result, agency)
    return render_template(
        "staff/sample_compare.html",
        campaign=campaign,
        result=result,
        versus=versus,
        agency=agency,
        problem=versus.problem,
    )


def _words(error: SampleError) -> str:
    return "\n".join(p.message for p in error.problems)


def _number(name: str, default: float, code: str, low: float, high: float) -> float:
    """A percentage field of the planner's form (3 or 3,5), as a fraction."""
    raw = (request.values.get(name) or "").strip().replace(",", ".")
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SampleError(Problem(code, {"value": raw}, name)) from None
    if not low < value <= high:
        raise SampleError(Problem(code, {"value": raw}, name))
    return value / 100.0


def _targets() -> tuple[Targets, str]:
    moe = _number("target", DEFAULT_TARGETS.moe, "sample.bad_target", 0, 50)
    rate = _number("rate", DEFAULT_TARGETS.response_rate, "sample.bad_rate", 0, 100)
    source = request.values.get("source") or PLAN_SOURCES[0]
    return Targets(moe=moe, response_rate=rate), source


SOURCE_LABELS = {
    "sample": lazy_gettext("Mẫu xác suất của đợt này"),
    "walk_in": lazy_gettext("Phiếu tự nguyện của đợt này"),
    "previous": lazy_gettext("Đợt khảo sát kỳ trước"),
}


@bp.get("/staff/campaigns/<code>/sample/plan")
@role_required(*READ_ROLES)
def sample_plan(code: str) -> Any:
    campaign = campaign_or_404(code)
    errors: list[str] = []
    try:
        targets, source = _targets()
    except SampleError as error:
        errors = [p.message for p in error.problems]
        targets, source = DEFAULT_TARGETS, PLAN_SOURCES[0]
    try:
        made = plan(campaign, _codes(), targets, source)
    except SampleError as error:
        return render_template(
            "staff/sample_plan.html",
            campaign=campaign,
            plan=None,
            errors=[*errors, _words(error)],
            sources=SOURCE_LABELS,
            can_apply=False,
            target=_percent(targets.moe),
            rate=_percent(targets.response_rate),
        )
    return render_template(
        "staff/sample_plan.html",
        campaign=campaign,
        plan=made,
        errors=errors,
        sources=SOURCE_LABELS,
        can_apply=has_role(*ANALYSIS_ROLES),
        target=_percent(targets.moe),
        rate=_percent(targets.response_rate),
    )


@bp.post("/staff/campaigns/<code>/sample/plan")
@role_required(*ANALYSIS_ROLES)
def sample_plan_apply(code: str) -> Any:
    """Copy the plan's inclusion probabilities into the campaign's sampling design."""
    campaign = campaign_or_404(code)
    targets, source = _targets()
    made = plan(campaign, None, targets, source)
    if apply_plan(campaign, made, current_user):
        flash(gettext("Đã chép xác suất chọn theo kế hoạch vào thiết kế chọn mẫu."), "success")
    else:
        flash(gettext("Thiết kế chọn mẫu đã có đúng các xác suất này."), "info")
    db.session.commit()
    return redirect(
        url_for(
            "dashboard.sample_plan",
            code=campaign.code,
            target=_percent(targets.moe),
            rate=_percent(targets.response_rate),
            source=source,
        )
    )


def _percent(fraction: float) -> str:
    return f"{fraction * 100:g}"


@bp.get("/staff/campaigns/<code>/sample/plan.<fmt>")
@role_required(*READ_ROLES)
def sample_plan_file(code: str, fmt: str) -> Any:
    """The plan per agency and stratum as CSV or XLSX (Vietnamese headers, full precision)."""
    campaign = campaign_or_404(code)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    targets, source = _targets()
    made = plan(campaign, _codes(), targets, source)
    stem = f"ke-hoach-chon-mau-{campaign.code}"
    with force_locale("vi"):
        if fmt == "csv":
            return download(plan_files.plan_csv(made), CSV_MIME, f"{stem}.csv")
        source = str(SOURCE_LABELS[made.source])
        return download(plan_files.plan_xlsx(campaign, made, source), XLSX_MIME, f"{stem}.xlsx")
