"""The comments page (góp ý của người dân): filters, the handled mark and the exports.

On the dashboard's blueprint, with its access rules: the campaign must be visible (404),
an officer's or viewer's list covers their agency subtree. Every role reads; officers
(in their subtree), analysts and administrators mark a comment handled; a comment they
may not see answers 404. :mod:`survey_app.services.comments` says who sees what.
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user

from survey_app.access import (
    DATA_ROLES,
    READ_ROLES,
    campaign_or_404,
    has_role,
    role_required,
)
from survey_app.extensions import db
from survey_app.services import comment_export, comments, survey_report
from survey_app.services.analysis import campaign_periods
from survey_app.services.questionnaires import definition
from survey_app.staff import problems
from survey_app.staff.dashboard import bp
from survey_app.staff.data import CSV_MIME, XLSX_MIME, download

# The query parameters the page keeps from one request to the next.
FILTERS = ("period", "criterion", "max_score", "agency", "desk", "q", "handled")
KEPT = (*FILTERS, "page")


def _kept(source: Any) -> dict[str, str]:
    return {k: source[k] for k in KEPT if source.get(k)}


@bp.get("/staff/campaigns/<code>/comments", endpoint="comments")
@role_required(*READ_ROLES)
def comments_page(code: str) -> Any:
    campaign = campaign_or_404(code)
    questionnaire = definition(campaign.questionnaire_version)
    errors: problems.Errors = {}
    found = None
    try:
        period, filters = comments.parse_filters(campaign, current_user, request.args)
    except comments.CommentError as error:
        errors = problems.field_errors(error, FILTERS)
    else:
        page = request.args.get("page", 1, type=int) or 1
        found = comments.find_comments(campaign, current_user, period, filters, page)
    agencies, desks = survey_report.scope_choices(campaign, current_user)
    nodes = comments.index_nodes(questionnaire)
    scores = sorted({s for n in nodes for s in comments.valid_scores(questionnaire, n)})
    return render_template(
        "staff/comments.html",
        campaign=campaign,
        found=found,
        errors=errors,
        args=request.args,
        periods=campaign_periods(campaign),
        nodes=nodes,
        scores=scores,
        agencies=agencies,
        desks=desks,
        can_mark=has_role(*DATA_ROLES),
        kept=_kept(request.args),
        max_note=comments.MAX_NOTE,
    ), (400 if errors else 200)


@bp.get("/staff/campaigns/<code>/comments.<fmt>")
@role_required(*READ_ROLES)
def comments_export(code: str, fmt: str) -> Any:
    campaign = campaign_or_404(code)
    if fmt not in ("csv", "xlsx"):
        abort(404)
    period, filters = comments.parse_filters(campaign, current_user, request.args)
    found = comments.find_comments(campaign, current_user, period, filters, page=None)
    # Files are written in Vietnamese whatever the page language, as the other exports.
    with force_locale("vi"):
        if fmt == "csv":
            body, mimetype = comment_export.comments_csv(found), CSV_MIME
        else:
            body, mimetype = comment_export.comments_xlsx(found), XLSX_MIME
    db.session.commit()
    return download(body, mimetype, f"gop-y-{campaign.code}-{found.view.period.code}.{fmt}")


@bp.post("/staff/campaigns/<code>/comments/<uid>/handled")
@role_required(*DATA_ROLES)
def comment_handled(code: str, uid: str) -> Any:
    campaign = campaign_or_404(code)
    handled = request.form.get("handled") == "yes"
    try:
        comments.set_handled(campaign, current_user, uid, handled, request.form.get("note", ""))
    except comments.CommentError as error:
        db.session.rollback()
        problems.flash_problems(error)
    else:
        db.session.commit()
        flash(
            gettext("Đã đánh dấu góp ý là đã xử lý.")
            if handled
            else gettext("Đã bỏ đánh dấu đã xử lý của góp ý."),
            "success",
        )
    values: dict[str, Any] = {"code": campaign.code, **_kept(request.form)}
    back = url_for("dashboard.comments", **values)
    return redirect(f"{back}#c-{uid}", 303)
