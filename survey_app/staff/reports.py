"""The survey report's downloads from the dashboard (báo cáo kết quả khảo sát, PDF and DOCX).

On the dashboard's blueprint, so its handlers answer here too: an analysis refusal shows
the campaign's error page, an unknown period or agency the staff error page (404, in
words). The access rules are the dashboard's: the campaign must be visible (404), and an
officer's report covers their agency subtree, or an agency within it (another agency: 404).
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from flask_login import current_user

from survey_app.access import READ_ROLES, campaign_or_404, role_required
from survey_app.extensions import db
from survey_app.services import survey_report
from survey_app.staff.dashboard import bp
from survey_app.staff.data import download


@bp.get("/staff/campaigns/<code>/report.<fmt>")
@role_required(*READ_ROLES)
def report(code: str, fmt: str) -> Any:
    campaign = campaign_or_404(code)
    if fmt not in survey_report.FORMATS:
        abort(404)
    view = survey_report.report_scope(
        campaign, request.args.get("period"), request.args.get("agency") or None, current_user
    )
    body = survey_report.render(view, fmt)
    survey_report.record_download(view, fmt)
    db.session.commit()
    return download(body, survey_report.MIMETYPES[fmt], survey_report.file_name(view, fmt))
