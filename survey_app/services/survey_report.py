"""The survey report (báo cáo kết quả khảo sát) of a campaign, period and agency scope.

``report_pdf(view)`` and ``report_docx(view)`` lay out one :class:`~.report.content.Report`
(the dashboard's figures for the view) as a Vietnamese administrative document: the PDF
from the Jinja template ``reports/survey_report.html`` printed by WeasyPrint, with the
dashboard's SVG charts; the DOCX with python-docx, for officials who edit it in Word.
Both are always in Vietnamese (the province's record, as the index exports are) with
numbers written the Vietnamese way (``72,50``).

``report_scope`` turns what a page or the command line names (campaign code, period
code, agency code) into the view, within what the user may see; unknown codes are
refused with :class:`ReportError`.
"""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Agency, Campaign, StaffUser
from survey_app.services import audit
from survey_app.services.analysis import (
    Period,
    View,
    campaign_periods,
    find_period,
    scope_view,
    subtree_codes,
    visible_agency_codes,
)
from survey_app.services.errors import NotFound
from survey_app.services.report import content
from survey_app.services.report.docx_writer import write_docx
from survey_app.services.report.figures import report_charts

FORMATS = ("pdf", "docx")
MIMETYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class ReportError(NotFound):
    """A campaign, period or agency the report cannot be made for (codes ``report.*``,
    texts in ``survey_app.messages.report``); 404 as the dashboard answers."""


def period_of(campaign: Campaign, code: str | None) -> Period:
    """The campaign's period with this code (``all`` when none); an unknown code is refused
    with the list of the valid ones."""
    period = find_period(campaign, code)
    if period is None:
        raise ReportError.of(
            "report.unknown_period",
            code=code,
            campaign=campaign.code,
            periods=", ".join(p.code for p in campaign_periods(campaign)),
        )
    return period


def report_scope(
    campaign: Campaign, period_code: str | None, agency_code: str | None, user: StaffUser | None
) -> View:
    """The view a report covers: the period (``all`` when not given) and the agency's
    subtree, or everything ``user`` may see (``None``: the command line, every agency).

    An agency outside what the user may see is refused as if it did not exist.
    """
    period = period_of(campaign, period_code)
    visible = None if user is None else visible_agency_codes(user)
    codes = visible
    if agency_code:
        agency = db.session.scalar(select(Agency).filter_by(code=agency_code))
        if agency is None or (visible is not None and agency.code not in visible):
            raise ReportError.of("report.unknown_agency", code=agency_code)
        codes = subtree_codes(agency)
    return scope_view(campaign, period, codes)


def report_pdf(view: View) -> bytes:
    """The report as PDF (A4, Times New Roman metrics, the dashboard's charts)."""
    from weasyprint import HTML  # heavy: loaded when a PDF is asked for

    with force_locale("vi"):
        report = content.build(view)
        html = render_template("reports/survey_report.html", r=report, charts=report_charts(report))
    return bytes(HTML(string=html).write_pdf())


def report_docx(view: View) -> bytes:
    """The report as a Word document an official can edit (tables, no charts)."""
    with force_locale("vi"):
        return write_docx(content.build(view))


def render(view: View, fmt: str) -> bytes:
    """The report in ``fmt`` (``pdf`` or ``docx``)."""
    if fmt == "pdf":
        return report_pdf(view)
    if fmt == "docx":
        return report_docx(view)
    raise ReportError.of("report.unknown_format", format=fmt)


def file_name(view: View, fmt: str) -> str:
    scope = "" if view.agency_codes is None else f"-{content.issuer(view).agency.code}"
    return f"bao-cao-{view.campaign.code}-{view.period.code}{scope}.{fmt}"


def record_download(view: View, fmt: str) -> None:
    """Audit the report's delivery (the caller commits), as the index exports do."""
    audit.record(
        "export.report",
        view.campaign.code,
        format=fmt,
        period=view.period.code,
        settings=view.settings_text,
        agencies=None if view.agency_codes is None else sorted(view.agency_codes),
    )
