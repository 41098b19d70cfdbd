"""The evidence pack download (tài liệu kiểm chứng) from the dashboard.

On the dashboard's blueprint, with its access rules: an officer gets only packs of their
agency subtree; ``?agency=CODE`` narrows the scope to a subtree they may see (404 outside).
"""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import force_locale
from flask_login import current_user

from survey_app.access import READ_ROLES, campaign_or_404, role_required
from survey_app.extensions import db
from survey_app.services import survey_report
from survey_app.services.evidence import evidence_pack, folder_name
from survey_app.staff.dashboard import bp
from survey_app.staff.data import download

ZIP_MIME = "application/zip"


@bp.get("/staff/campaigns/<code>/evidence.zip")
@role_required(*READ_ROLES)
def export_evidence(code: str) -> Any:
    campaign = campaign_or_404(code)
    view = survey_report.report_scope(
        campaign, request.args.get("period"), request.args.get("agency") or None, current_user
    )
    # The pack is the province's record: in Vietnamese whatever the page language.
    with force_locale("vi"):
        body = evidence_pack(view, survey_report.report_pdf(view))
    db.session.commit()
    return download(body, ZIP_MIME, f"{folder_name(view)}.zip")
