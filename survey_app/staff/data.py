"""Raw-response export and paper-survey import for a campaign."""

from __future__ import annotations

from flask import Response

from survey_app import access
from survey_app.extensions import db
from survey_app.services import audit, raw_export
from survey_app.staff import bp
from survey_app.staff.auth import DATA_ROLES, role_required

CSV_MIME = "text/csv; charset=utf-8"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download(body: bytes, mimetype: str, filename: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Microdata must not linger in shared or browser caches.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/campaigns/<code>/responses.csv")
@role_required(*DATA_ROLES)
def responses_csv(code: str) -> Response:
    campaign = access.campaign_or_404(code)
    body = raw_export.responses_csv(campaign)
    audit.record("export.responses", campaign.code, format="csv")
    db.session.commit()
    return download(body, CSV_MIME, f"{campaign.code}-responses.csv")


@bp.get("/campaigns/<code>/responses.xlsx")
@role_required(*DATA_ROLES)
def responses_xlsx(code: str) -> Response:
    campaign = access.campaign_or_404(code)
    body = raw_export.responses_xlsx(campaign)
    audit.record("export.responses", campaign.code, format="xlsx")
    db.session.commit()
    return download(body, XLSX_MIME, f"{campaign.code}-responses.xlsx")


@bp.get("/campaigns/<code>/codebook.csv")
@role_required(*DATA_ROLES)
def codebook_csv(code: str) -> Response:
    campaign = access.campaign_or_404(code)
    return download(raw_export.codebook_csv(campaign), CSV_MIME, f"{campaign.code}-codebook.csv")
