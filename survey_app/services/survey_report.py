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
from survey_app.models import Agency, Campaign, Desk, StaffUser
from survey_app.services import audit
from survey_app.services.analysis import (
    Period,
    View,
    campaign_periods,
    find_period,
    frames,
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
    campaign: Campaign,
    period_code: str | None,
    agency_code: str | None,
    user: StaffUser | None,
    desk_code: str | None = None,
) -> View:
    """The view a report or a dashboard page covers: the period (``all`` when not given),
    the agency's subtree, or everything ``user`` may see (``None``: the command line, every
    agency); and within it one desk of the campaign when ``desk_code`` is given.

    An agency or desk outside what the user may see is refused as if it did not exist,
    and the refusal names only the code that was asked for.
    """
    period = period_of(campaign, period_code)
    visible = None if user is None else visible_agency_codes(user)
    codes = visible
    if agency_code:
        agency = db.session.scalar(select(Agency).filter_by(code=agency_code))
        if agency is None or (visible is not None and agency.code not in visible):
            raise ReportError.of("report.unknown_agency", code=agency_code)
        codes = subtree_codes(agency)
    desk = None
    if desk_code:
        desk = _campaign_desk(campaign, desk_code, visible)
        if codes is not None and desk.agency.code not in codes:
            raise ReportError.of("report.desk_outside_agency", desk=desk.code, agency=agency_code)
    return scope_view(campaign, period, codes, None if desk is None else desk.code)


def _campaign_desk(campaign: Campaign, code: str, visible: frozenset[str] | None) -> Desk:
    """A desk of the campaign (or one that answered it) that the user may see."""
    desk = db.session.scalar(select(Desk).filter_by(code=code))
    if (
        desk is None
        or (visible is not None and desk.agency.code not in visible)
        or desk.code not in _desk_codes(campaign)
    ):
        raise ReportError.of("report.unknown_desk", code=code, campaign=campaign.code)
    return desk


def _desk_codes(campaign: Campaign) -> set[str]:
    """The campaign's desks, and any desk removed from it after it collected answers (read
    from the cached responses the page analyses anyway, not from every stored row)."""
    answered = frames.get(campaign)["desk"].unique()
    return {d.code for d in campaign.desks} | {str(code) for code in answered}


def scope_choices(
    campaign: Campaign, user: StaffUser
) -> tuple[list[tuple[Agency, int]], list[Desk]]:
    """What a user may narrow a campaign's pages to: the agencies (tree order: each after
    its parent) that hold a desk of the campaign, with the agencies above them, and those
    desks, all within what the user may see. Each agency comes with its depth in that list
    (0: the topmost shown), for indenting."""
    visible = visible_agency_codes(user)
    desks = [
        d
        for d in db.session.scalars(
            select(Desk).where(Desk.code.in_(_desk_codes(campaign))).order_by(Desk.code)
        )
        if visible is None or d.agency.code in visible
    ]
    wanted: dict[int, Agency] = {}
    for desk in desks:
        agency: Agency | None = desk.agency
        while agency is not None and (visible is None or agency.code in visible):
            wanted[agency.id] = agency
            agency = agency.parent
    children: dict[int | None, list[Agency]] = {}
    for agency in wanted.values():
        parent = agency.parent_id if agency.parent_id in wanted else None
        children.setdefault(parent, []).append(agency)
    ordered: list[tuple[Agency, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for agency in sorted(children.get(parent, []), key=lambda a: a.name):
            ordered.append((agency, depth))
            walk(agency.id, depth + 1)

    walk(None, 0)
    return ordered, desks


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
