"""Printable slips (phiếu mã đánh giá) for dossier codes, one at a time or a day's batch.

A slip carries the QR code of the survey link, the short code a person can type, one
line of instruction, the agency and desk, the last day the code answers and, for the
staff to match slips to receipts, the dossier number (the citizen's own receipt shows it
already; the code and the link never do). Slips are printed eight to an A4 page (2 x 4,
cut along the dashed lines) as a PDF made by WeasyPrint from ``templates/slips/pdf.html``,
always in Vietnamese: citizens read them, whatever language the official works in.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from flask import render_template
from flask_babel import force_locale, gettext
from markupsafe import Markup
from sqlalchemy import select

from scoring.text import find_refused
from survey_app.extensions import db
from survey_app.models import Desk
from survey_app.services import dossier_codes, posters
from survey_app.services.errors import Problem, ServiceError
from survey_app.settings import settings

SLIPS_PER_PAGE = 8
# One request's batch: a large centre receives a few hundred dossiers a day.
MAX_BATCH = 400
# Printed sharp on office laser printers, and scanned by old phone cameras at 20 cm.
QR_MM = 38
# A list pasted or uploaded holds at most this many bytes (MAX_BATCH lines and spare).
MAX_LIST_BYTES = 64 * 1024
# The heading of a spreadsheet's column of dossier numbers ("Số hồ sơ", "Mã hồ sơ", "so_ho_so").
_HEADING = re.compile(r"(?i)h[ồo][\s_]*s[ơo]|dossier")


class ListError(ServiceError):
    """A list of dossier numbers that cannot be printed, with every line's problem."""


@dataclass(frozen=True)
class Slip:
    """What one slip shows; ``code`` as printed (``BKQ7M-X4T2J``)."""

    code: str
    url: str
    qr_svg: str
    dossier_ref: str | None
    agency_name: str
    desk_name: str
    last_day: dt.date

    @property
    def qr_data_uri(self) -> str:
        """The QR code as an image address (WeasyPrint draws it as vector graphics)."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.qr_svg.encode()).decode()

    @property
    def qr(self) -> Markup:
        """The QR code, for a template (an SVG the app drew, nothing of the user's)."""
        return Markup(self.qr_svg)  # drawn by the app: module paths only


def site() -> str:
    """The address a citizen types to enter a code: the public base URL without scheme."""
    return settings().public_base_url.split("://", 1)[-1]


def instruction() -> str:
    """The slip's one line of instruction, in Vietnamese."""
    with force_locale("vi"):
        return str(
            gettext(
                "Quét mã QR, hoặc vào %(site)s và nhập mã, để đánh giá việc giải quyết hồ sơ "
                "của Ông/Bà.",
                site=site(),
            )
        )


def issue_slips(desk_code: str, dossier_refs: Sequence[str]) -> list[Slip]:
    """Issue a code for each dossier (see ``dossier_codes.issue_many``) and its slip."""
    issued = dossier_codes.issue_many(desk_code, dossier_refs)
    desk = db.session.scalar(select(Desk).filter_by(code=desk_code))
    assert desk is not None  # issue_many found it
    return [slip(code, desk) for code in issued]


def slip_of(desk_code: str, code: str, dossier_ref: str) -> Slip:
    """The slip of a code issued before at this desk for this dossier (CodeInvalid when the
    code is not this desk's or not this dossier's, CodeExpired when it no longer answers)."""
    desk = db.session.scalar(select(Desk).filter_by(code=desk_code))
    if desk is None:
        raise dossier_codes.UnknownDesk.of("dossier.unknown_desk", desk=desk_code)
    return slip(dossier_codes.issued(desk, code, dossier_ref), desk)


def slip(code: dossier_codes.IssuedCode, desk: Desk) -> Slip:
    """The slip of a code issued at ``desk``."""
    url = dossier_codes.survey_url(code.shown)
    return Slip(
        code=code.shown,
        url=url,
        qr_svg=posters.qr_svg(url, size_mm=QR_MM),
        dossier_ref=code.dossier_ref,
        agency_name=desk.agency.name,
        desk_name=desk.name,
        last_day=code.last_day,
    )


def read_list(*texts: str) -> list[str]:
    """The dossier numbers of pasted or uploaded lists: one a line, the first column of a
    CSV (comma, semicolon or tab), blank lines and a list's heading line skipped; the lines
    are counted through the lists in turn. See :func:`check_refs`."""
    cells = []
    for text in texts:
        lines = [
            line.replace(";", ",").replace("\t", ",").split(",", 1)[0].strip().strip('"')
            for line in text.splitlines()
        ]
        if lines and _HEADING.search(lines[0]):
            lines[0] = ""  # skipped, but still counted
        cells.extend(lines)
    return check_refs(cells)


def check_refs(refs: Iterable[str]) -> list[str]:
    """Each dossier number once, in first-seen order, blanks skipped.

    Raises ListError naming every bad one by its line (nothing is issued for any of them),
    or when there is none or more than MAX_BATCH.
    """
    problems: list[Problem] = []
    found: dict[str, None] = {}
    for number, ref in enumerate((ref.strip() for ref in refs), start=1):
        if not ref:
            continue
        refused = find_refused(ref, multiline=False)
        if refused is not None:
            problems.append(_line_problem("dossier.list_line_refused", number, refused.character))
        elif len(ref) > dossier_codes.MAX_DOSSIER_REF:
            problems.append(
                Problem(
                    "dossier.list_line_too_long",
                    MappingProxyType({"line": number, "maximum": dossier_codes.MAX_DOSSIER_REF}),
                    "dossiers",
                )
            )
        else:
            found.setdefault(ref)
    if problems:
        raise ListError(*problems)
    if not found:
        raise ListError.of("dossier.list_empty", field="dossiers")
    if len(found) > MAX_BATCH:
        raise ListError.of(
            "dossier.list_too_long", field="dossiers", maximum=MAX_BATCH, count=len(found)
        )
    return list(found)


def _line_problem(code: str, line: int, character: str) -> Problem:
    return Problem(code, MappingProxyType({"line": line, "character": character}), "dossiers")


def decode_list(data: bytes) -> str:
    """An uploaded list's text: UTF-8 (with or without BOM), or ListError."""
    if len(data) > MAX_LIST_BYTES:
        raise ListError.of(
            "dossier.list_too_long", field="dossiers", maximum=MAX_BATCH, count=data.count(b"\n")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ListError.of("dossier.list_file_unreadable", field="dossiers") from None


def pages(slips: Sequence[Slip]) -> list[list[Slip]]:
    """The slips by printed page."""
    return [list(slips[i : i + SLIPS_PER_PAGE]) for i in range(0, len(slips), SLIPS_PER_PAGE)]


def slips_pdf(slips: Sequence[Slip]) -> bytes:
    """The slips as an A4 PDF, eight to a page."""
    # Imported here: loading WeasyPrint looks its C libraries up (find_library runs ld and
    # gcc), which would slow every process's start and spawn children of gunicorn's master.
    from weasyprint import HTML

    with force_locale("vi"):
        html = render_template("slips/pdf.html", pages=pages(slips), instruction=instruction())
    out = io.BytesIO()
    HTML(string=html).write_pdf(out)
    return out.getvalue()


def pdf_filename(desk_code: str, day: dt.date) -> str:
    """``phieu-ma-danh-gia-<desk>-<YYYY-MM-DD>.pdf``, safe in a Content-Disposition header."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", desk_code)
    return f"phieu-ma-danh-gia-{safe}-{day.isoformat()}.pdf"
