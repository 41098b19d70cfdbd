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
    flash,
    jsonify,
    redirect,
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
from survey_app.models import Agency, Campaign
from survey_app.questions import kind_of
from survey_app.request_limits import accepts_upload
from survey_app.services import (
    analysis,
    index_export,
    questionnaires,
    survey_report,
    weighting_settings,
)
from survey_app.services.errors import ServiceError
from survey_app.staff import problems
from survey_app.staff.data import CSV_MIME, XLSX_MIME, download

bp = Blueprint("dashboard", __name__)

# A population margins CSV on the weighting page.
MAX_MARGINS_BYTES = 2_000_000


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


def _period(campaign: Campaign) -> analysis.Period:
    """The period asked for; an unknown code: 404 with the valid ones, in words."""
    return survey_report.period_of(campaign, request.args.get("period"))


def _view(campaign: Campaign) -> analysis.View:
    return analysis.make_view(campaign, current_user, _period(campaign))


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
    period = _period(campaign)
    # ?compare=own: the comparison period with its campaign's own weighting (default: ours).
    own_settings = request.args.get("compare") == "own"
    data = analysis.dashboard(campaign, current_user, period, own_settings=own_settings)
    page = request.args.get("page", 1, type=int) or 1
    comments, pages = analysis.comments(data.view, page)
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
    return render_template(
        "staff/dashboard.html",
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
        comments=comments,
        page=page,
        pages=pages,
        wide_warning=analysis.WIDE_WARNING,
        can_weight=has_role(*ANALYSIS_ROLES),
        own_settings=own_settings,
    )


@bp.get("/staff/campaigns/<code>/criteria/<node_code>")
@role_required(*READ_ROLES)
def criterion(code: str, node_code: str) -> Any:
    campaign = campaign_or_404(code)
    view = _view(campaign)
    try:
        node, items = analysis.criterion_detail(view, node_code)
    except KeyError:
        abort(404)
    chart = _ci_chart([_ci_row(f"{i.node.code} {i.node.label}", i.node) for i in items], node.label)
    return render_template(
        "staff/dashboard_criterion.html",
        campaign=campaign,
        view=view,
        node=node,
        items=items,
        chart=chart,
        weighted=view.settings.weighted,
        wide_warning=analysis.WIDE_WARNING,
    )


@bp.route("/staff/campaigns/<code>/weighting", methods=["GET", "POST"])
@accepts_upload(MAX_MARGINS_BYTES)
@role_required(*ANALYSIS_ROLES)
def weighting(code: str) -> Any:
    campaign = campaign_or_404(code)
    questionnaire = questionnaires.definition(campaign.questionnaire_version)
    settings = weighting_settings.current(campaign)
    error = None
    if request.method == "POST":
        upload = request.files.get("margins")
        text = None
        if upload is not None and upload.filename:
            # One byte more than allowed: a longer file is refused, never cut and used.
            raw = upload.read(MAX_MARGINS_BYTES + 1)
            if len(raw) > MAX_MARGINS_BYTES:
                error = gettext(
                    "Tệp biên tổng thể lớn hơn %(size)s MB: không đọc tệp này (một tệp biên chỉ "
                    "cần vài dòng cho mỗi biến).",
                    size=MAX_MARGINS_BYTES // 1_000_000,
                )
            else:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    error = gettext("Tệp CSV phải được lưu với mã hóa UTF-8.")
        if error is None:
            try:
                new = weighting_settings.build_settings(
                    request.form,
                    text,
                    upload.filename if upload is not None else None,
                    questionnaire,
                    analysis.frames.get(campaign),
                    settings,
                )
                analysis.build_design(analysis.frames.get(campaign), new)
            except (weighting_settings.WeightingError, analysis.AnalysisError) as exc:
                error = "\n".join(texts(exc))
            else:
                weighting_settings.save(campaign, new)
                db.session.commit()
                flash(
                    gettext("Đã lưu cài đặt. %(settings)s", settings=new.describe(questionnaire)),
                    "success",
                )
                return redirect(url_for("dashboard.weighting", code=campaign.code))
    respondent = [i for i in questionnaire.respondent if kind_of(i).analysed]
    return render_template(
        "staff/dashboard_weighting.html",
        campaign=campaign,
        settings=settings,
        description=settings.describe(questionnaire),
        respondent=respondent,
        error=error,
        form=request.form if request.method == "POST" else None,
        ci_methods=weighting_settings.CI_METHODS,
        levels=weighting_settings.LEVELS,
        calibrations=weighting_settings.CALIBRATION_LABELS,
        design_labels=weighting_settings.DESIGN_LABELS,
    ), (400 if error else 200)


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
    """JSON for signed-in staff; same per-record rules as the pages (404 outside)."""
    campaign = campaign_or_404(code)
    period = analysis.find_period(campaign, request.args.get("period"))
    if period is None:
        return jsonify(error=gettext("Kỳ không hợp lệ.")), 404
    view = analysis.make_view(campaign, current_user, period)
    try:
        tree = analysis.view_tree(view)
    except analysis.AnalysisError as error:
        return jsonify(error="\n".join(texts(error))), 409
    body = index_export.indices_json(view, tree)
    db.session.commit()
    return jsonify(body)
