"""The officials' dashboard (bảng điều khiển): indices, weighting settings, exports.

URL rules under ``/staff/campaigns/<code>/...`` and the JSON API under
``/api/v1/``. Views parse and authorise; :mod:`survey_app.services.analysis`
and :mod:`survey_app.services.index_export` do the work.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    jsonify,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, gettext
from flask_login import current_user
from markupsafe import Markup

from survey_app import charts
from survey_app.access import (
    ANALYSIS_ROLES,
    READ_ROLES,
    campaign_or_404,
    has_role,
    role_required,
)
from survey_app.extensions import db
from survey_app.messages import texts
from survey_app.models import Agency, Campaign, Desk
from survey_app.services import (
    analysis,
    comments,
    index_export,
    plans,
    sample_estimates,
    survey_report,
)
from survey_app.services.errors import ServiceError
from survey_app.staff import problems
from survey_app.staff.data import CSV_MIME, XLSX_MIME, download

bp = Blueprint("dashboard", __name__)


def init_app(app: Flask) -> None:
    # Responses kept on disk between restarts (see analysis.FrameCache); off in tests
    # unless a test asks for it. An empty ANALYSIS_CACHE_DIR turns it off.
    default = None if app.testing else os.path.join(app.instance_path, "analysis-cache")
    app.config.setdefault("ANALYSIS_CACHE_DIR", os.environ.get("ANALYSIS_CACHE_DIR", default))
    app.register_blueprint(bp)
    app.jinja_env.globals.setdefault("fmt", charts.fmt)
    app.jinja_env.globals.setdefault("p_value", charts.p_value)
    app.add_template_global(period_label)
    app.add_template_global(comparison_label)
    app.add_template_global(trend_label)
    app.add_template_global(charts.heat_band)
    app.add_template_global(scope_args)


def period_label(period: analysis.Period) -> str:
    """A period's name in the page's language (``Quý 1/2026``, ``Q1 2026``)."""
    year = period.start.year
    if period.kind == "year":
        return str(gettext("Năm %(year)s", year=year))
    if period.kind == "quarter":
        return str(gettext("Quý %(quarter)s/%(year)s", quarter=period.code[-1], year=year))
    if period.kind == "month":
        return str(gettext("Tháng %(month)s/%(year)s", month=period.start.month, year=year))
    return str(gettext("Toàn đợt khảo sát"))


def comparison_label(comparison: analysis.Comparison) -> str:
    """What a period is compared with, in the page's language."""
    if comparison.same_campaign:
        return period_label(comparison.period)
    return f"{comparison.campaign.name} ({period_label(comparison.period).lower()})"


def trend_label(point: analysis.TrendPoint) -> str:
    """A trend point's name: the period of this campaign, or the earlier campaign's name."""
    return period_label(point.period) if point.same_campaign else point.campaign.name


def _trend_chart(trend: analysis.Trend, code: str, title: str) -> Markup:
    """The node's trend: each earlier campaign apart, this campaign's periods joined."""
    segments: list[list[charts.CIRow]] = []
    last = None
    for point, node in zip(trend.points, trend.series(code), strict=True):
        if point.campaign.id != last:
            segments.append([])
            last = point.campaign.id
        label = trend_label(point)
        if node is None or node.n == 0:
            row = charts.CIRow(label, float("nan"), float("nan"), float("nan"), 0)
        else:
            row = _ci_row(label, node)
        segments[-1].append(row)
    return charts.for_screen(partial(charts.trend_chart, segments, title))


def _trend(view: analysis.View) -> analysis.Trend:
    return analysis.trend(view, request.args.get("trend"))


def _view(campaign: Campaign) -> analysis.View:
    """The period, agency and desk asked for (``?period=&agency=&desk=``), within what the
    user may see: an unknown or hidden code is a 404 that names only that code."""
    return survey_report.report_scope(
        campaign,
        request.args.get("period"),
        request.args.get("agency") or None,
        current_user,
        request.args.get("desk") or None,
    )


def scope_args(view: analysis.View, *, desk: bool = True) -> dict[str, str]:
    """The query arguments that keep a page's period, agency and desk in its links
    (``desk=False``: for downloads that take no desk, the report and the evidence pack)."""
    args = {"period": view.period.code}
    agency = request.args.get("agency")
    if agency:
        args["agency"] = agency
    if desk and view.desk_code:
        args["desk"] = view.desk_code
    return args


def _ci_row(label: str, node: analysis.NodeResult) -> charts.CIRow:
    return charts.CIRow(
        label, node.pct(), node.pct("ci_low"), node.pct("ci_high"), node.n, node.wide
    )


def _ci_chart(rows: list[charts.CIRow], title: str) -> Markup:
    """Interval bars in both layouts (laptop and phone)."""
    return charts.for_screen(partial(charts.ci_bars, rows, title))


def _group_chart(rows: list[analysis.GroupRow], title: str) -> Markup:
    return _ci_chart([_ci_row(r.label, r.result) for r in rows], title)


@bp.errorhandler(analysis.AnalysisError)
def _error_page(error: analysis.AnalysisError) -> tuple[str, int]:
    """A campaign whose answers cannot be analysed as set: its page says why (nothing was
    stored); the one place the dashboard's pages show an analysis refusal."""
    campaign = campaign_or_404(str((request.view_args or {}).get("code", "")))
    message = "\n".join(texts(error))
    return render_template("staff/dashboard_error.html", campaign=campaign, message=message), 200


# Any other refusal of a service on these pages: the staff error page, as in staff.
bp.register_error_handler(ServiceError, problems.refused)


@bp.get("/staff/campaigns/<code>/dashboard")
@role_required(*READ_ROLES)
def show(code: str) -> Any:
    campaign = campaign_or_404(code)
    # ?compare=own: the comparison period with its campaign's own weighting (default: ours).
    own_settings = request.args.get("compare") == "own"
    data = analysis.dashboard(_view(campaign), own_settings=own_settings)
    agencies, desks = survey_report.scope_choices(campaign, current_user)
    page = request.args.get("page", 1, type=int) or 1
    agency = request.args.get("agency") or None  # known and visible: _view checked it
    found = comments.find_comments(
        campaign,
        current_user,
        data.view.period,
        comments.Filters(agency=agency, desk=data.view.desk_code),
        page,
    )
    tree = data.tree
    group_chart = _ci_chart(
        [_ci_row(f"{n.code} {n.label}", n) for n in tree.children], gettext("Chỉ số theo nhóm")
    )
    weakest_chart = _ci_chart(
        [_ci_row(f"{n.code} {n.label}", n) for n in data.weakest],
        gettext("Chỉ số các tiêu chí"),
    )
    desk_chart = _group_chart(data.desks, gettext("Theo quầy"))
    agency_chart = _group_chart(data.agencies, gettext("Theo cơ quan"))
    breakdown_charts = [
        (label, _group_chart(rows, gettext("Theo %(group)s", group=label)))
        for label, rows in data.breakdowns
    ]
    change_chart = None
    if data.previous is not None and data.comparison is not None:
        change_chart = charts.for_screen(
            partial(
                charts.paired_ci_bars,
                [
                    (_ci_row(f"{c.code} {c.label}", c.current), _ci_row(c.label, c.previous))
                    for c in data.changes
                    if c.current.depth <= 1
                ],
                gettext("So sánh với kỳ trước"),
                (period_label(data.view.period), comparison_label(data.comparison)),
            )
        )
    timeline_chart = charts.for_screen(
        partial(charts.count_bars, data.timeline, gettext("Số phiếu theo thời gian"))
    )
    sample_rates = None
    if sample_estimates.has_sample(campaign):
        sample_rates = sample_estimates.campaign_rates(campaign, data.view.agency_codes)
    trend = _trend(data.view)
    trend_chart = _trend_chart(trend, tree.code, gettext("Xu hướng của %(node)s", node=tree.label))
    return render_template(
        "staff/dashboard.html",
        sample_rates=sample_rates,
        campaign=campaign,
        data=data,
        tree=tree,
        group_chart=group_chart,
        weakest_chart=weakest_chart,
        desk_chart=desk_chart,
        agency_chart=agency_chart,
        breakdown_charts=breakdown_charts,
        change_chart=change_chart,
        timeline_chart=timeline_chart,
        comments=found,
        trend=trend,
        trend_chart=trend_chart,
        trend_nodes=[n for n in tree.walk() if not n.is_leaf],
        wide_warning=analysis.WIDE_WARNING,
        can_weight=has_role(*ANALYSIS_ROLES),
        agencies=agencies,
        desks=desks,
        agency=request.args.get("agency") or "",
        own_settings=own_settings,
    )


@bp.get("/staff/campaigns/<code>/criteria/<node_code>")
@role_required(*READ_ROLES)
def criterion(code: str, node_code: str) -> Any:
    """The criterion's action page: where it is weak (desks, agencies), its trend, what
    citizens who scored it low wrote, and how far it is from the plan's target."""
    campaign = campaign_or_404(code)
    view = _view(campaign)
    try:
        node, items = analysis.criterion_detail(view, node_code)
    except KeyError:
        abort(404)
    chart = _ci_chart([_ci_row(f"{i.node.code} {i.node.label}", i.node) for i in items], node.label)
    frame = view.frame[view.mask]
    desks = analysis.heat_rows(view, node, "desk", analysis.names(Desk, frame["desk"].unique()))
    agencies = analysis.heat_rows(
        view, node, "agency", analysis.names(Agency, frame["agency"].unique())
    )
    trend = _trend(view)
    low_comments, low_total = analysis.low_score_comments(view, node)
    scope = plans.default_scope(current_user, campaign)
    target = plans.target_row(campaign, scope, node.code) if scope is not None else None
    verdict = None
    if target is not None and target.target is not None:
        verdict = plans.verdict(node.ci_low, node.ci_high, float(target.target) / 100)
    return render_template(
        "staff/dashboard_criterion.html",
        campaign=campaign,
        view=view,
        node=node,
        items=items,
        chart=chart,
        desks=desks,
        agencies=agencies,
        trend=trend,
        trend_chart=_trend_chart(
            trend, node.code, gettext("Xu hướng của %(node)s", node=node.label)
        ),
        columns=[node, *node.children],
        low_comments=low_comments,
        low_total=low_total,
        low_score=analysis.LOW_SCORE,
        comments_url=_comments_url(campaign, view, node),
        scope=scope,
        target=target,
        verdict=verdict,
        verdict_labels=plans.VERDICT_LABELS,
        min_n=analysis.MIN_N,
        weighted=view.settings.weighted,
        wide_warning=analysis.WIDE_WARNING,
    )


def _comments_url(campaign: Campaign, view: analysis.View, node: analysis.NodeResult) -> str:
    """All the low-score comments of the criterion on the comments page."""
    return url_for(
        "dashboard.comments",
        code=campaign.code,
        criterion=node.code,
        max_score=analysis.LOW_SCORE,
        period=view.period.code,
    )


@bp.get("/staff/campaigns/<code>/indices.<fmt>")
@role_required(*READ_ROLES)
def export_indices(code: str, fmt: str) -> Any:
    campaign = campaign_or_404(code)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    view = _view(campaign)
    tree = analysis.view_tree(view)
    return _table_file(
        f"chi-so-{campaign.code}-{view.period.code}",
        fmt,
        lambda: index_export.indices_csv(view, tree),
        lambda: index_export.indices_xlsx(view, tree),
    )


@bp.get("/staff/campaigns/<code>/par.<fmt>")
@role_required(*READ_ROLES)
def export_par(code: str, fmt: str) -> Any:
    campaign = campaign_or_404(code)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    view = _view(campaign)
    agencies = view.frame.loc[view.mask, "agency"].unique()
    table = index_export.par_table(view, analysis.names(Agency, agencies))
    return _table_file(
        f"diem-cchc-{campaign.code}-{view.period.code}",
        fmt,
        lambda: index_export.par_csv(view, table),
        lambda: index_export.par_xlsx(view, table),
    )


def _table_file(
    stem: str, fmt: str, as_csv: Callable[[], bytes], as_xlsx: Callable[[], bytes]
) -> Any:
    """An export as CSV or XLSX; the audit event the export recorded commits with it.

    Files are written in Vietnamese whatever the page language: they are the province's
    records (the settings line and period names in them come from the catalogue)."""
    with force_locale("vi"):
        if fmt == "csv":
            body, mimetype = as_csv(), CSV_MIME
        else:
            body, mimetype = as_xlsx(), XLSX_MIME
    db.session.commit()
    return download(body, mimetype, f"{stem}.{fmt}")


@bp.get("/api/v1/campaigns/<code>/indices")
@role_required(*READ_ROLES, json=True)
def api_indices(code: str) -> Any:
    """JSON for signed-in staff; same per-record rules and ``?period=&agency=&desk=`` as the
    pages (404 outside, with the refusal in words)."""
    campaign = campaign_or_404(code)
    try:
        view = _view(campaign)
        tree = analysis.view_tree(view)
    except ServiceError as error:
        status = 409 if isinstance(error, analysis.AnalysisError) else error.status
        return jsonify(error="\n".join(texts(error))), status
    body = index_export.indices_json(view, tree)
    db.session.commit()
    return jsonify(body)
