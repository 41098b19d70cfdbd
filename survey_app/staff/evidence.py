"""The evidence pack download (tài liệu kiểm chứng) from the dashboard.

On the dashboard's blueprint, with its access rules: an officer gets only packs of their
agency subtree; ``?agency=CODE`` narrows the scope to a subtree they may see (404 outside).
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_babel import force_locale
from flask_login import current_user
from sqlalchemy import select

from survey_app.access import READ_ROLES, campaign_or_404, role_required
from survey_app.extensions import db
from survey_app.models import Agency
from survey_app.services import analysis
from survey_app.services.evidence import evidence_pack, folder_name
from survey_app.services.survey_report import report_pdf
from survey_app.staff.dashboard import bp
from survey_app.staff.data import download

ZIP_MIME = "application/zip"


def _scope() -> frozenset[str] | None:
    """The agency codes of the pack: the user's own scope, or a subtree of it they chose."""
    visible = analysis.visible_agency_codes(current_user)
    code = request.args.get("agency")
    if not code:
        return visible
    agency = db.session.scalar(select(Agency).where(Agency.code == code))
    if agency is None:
        abort(404)
    codes = analysis.subtree_codes(agency)
    if visible is not None and not codes <= visible:
        abort(404)
    return codes


@bp.get("/staff/campaigns/<code>/evidence.zip")
@role_required(*READ_ROLES)
def export_evidence(code: str) -> Any:
    campaign = campaign_or_404(code)
    period = analysis.find_period(campaign, request.args.get("period"))
    if period is None:
        abort(404)
    view = analysis.scope_view(campaign, period, _scope())
    # The pack is the province's record: in Vietnamese whatever the page language.
    with force_locale("vi"):
        body = evidence_pack(view, report_pdf(view))
    db.session.commit()
    return download(body, ZIP_MIME, f"{folder_name(view)}.zip")
