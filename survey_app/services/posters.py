"""QR posters for one-stop desks (áp phích mã QR tại bộ phận một cửa) and receipt QR codes.

The poster is an A4 SVG whose coordinates are millimetres. It is vector
throughout, so it prints sharp at any DPI from any browser or office printer.
The printable PDF is that same SVG placed on an A4 or A5 page by WeasyPrint (as the
slips are made, services/slips.py): one layout, scaled, never a second one.
"""

from __future__ import annotations

import base64
import io
import re
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
import qrcode.image.svg

from survey_app import localtime
from survey_app.models import Desk
from survey_app.services import desk_surveys
from survey_app.services.form_length import form_length
from survey_app.settings import settings

PAGE_WIDTH = 210  # mm, A4 portrait
PAGE_HEIGHT = 297
QR_SIZE = 140  # mm including the quiet zone: scans from arm's length on old phone cameras
MARGIN = 15
FONT = "sans-serif"
INSTRUCTION = "Quét mã QR bằng camera điện thoại để đánh giá mức độ hài lòng của Ông/Bà"
NO_LOGIN = "Không cần đăng nhập, không cần cài ứng dụng"
HEADING = "ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG"
# Average advance of a sans-serif glyph as a share of the font size; Vietnamese
# text with diacritics averages a little over half an em.
GLYPH_WIDTH = 0.56
BOLD_GLYPH_WIDTH = 0.62
THANKS = "Ý kiến của Ông/Bà giúp chúng tôi phục vụ tốt hơn. Xin cảm ơn!"
LENGTH = "Phiếu có {questions} câu hỏi, trả lời trong khoảng {minutes} phút"


def desk_url(desk: Desk) -> str:
    """The survey URL a desk's QR code carries (the desk's random public id, not its code)."""
    return f"{settings().public_base_url}/s/{desk.public_id}"


def _qr_path(data: str, error_correction: int) -> tuple[str, int]:
    """The QR code of ``data`` as one SVG path; returns (path d, modules per side with border)."""
    qr = qrcode.QRCode(
        error_correction=error_correction,
        border=4,  # the quiet zone the QR standard asks for
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    qr.add_data(data)
    qr.make(fit=True)
    root = ET.fromstring(qr.make_image().to_string(encoding="unicode"))
    path = root.find("{http://www.w3.org/2000/svg}path")
    assert path is not None
    side = qr.modules_count + 2 * qr.border
    return path.attrib["d"], side


def qr_svg(data: str, size_mm: int = 30) -> str:
    """A standalone SVG QR code, e.g. for the survey link printed on a dossier receipt.

    Error correction M: receipts are printed fresh and kept flat, so the smaller
    code is worth more than the extra redundancy.
    """
    d, side = _qr_path(data, qrcode.constants.ERROR_CORRECT_M)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{size_mm}mm" height="{size_mm}mm" viewBox="0 0 {side} {side}">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{d}" fill="#000" shape-rendering="crispEdges"/></svg>'
    )


def _wrap(text: str, font_size: float, width: float, glyph_width: float) -> list[str]:
    """Break text into lines that fit ``width`` mm at ``font_size`` mm (estimated widths)."""
    per_line = max(1, int(width / (font_size * glyph_width)))
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        if len(candidate) <= per_line or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _text_block(
    text: str,
    y: float,
    font_size: float,
    *,
    bold: bool = False,
    fill: str = "#111",
    max_lines: int = 3,
) -> tuple[str, float]:
    """Centred, wrapped, escaped lines from baseline ``y``; returns (SVG, y after the block)."""
    width = PAGE_WIDTH - 2 * MARGIN
    lines = _wrap(text, font_size, width, BOLD_GLYPH_WIDTH if bold else GLYPH_WIDTH)
    if len(lines) > max_lines:
        # A name too long for the poster still prints whole, only smaller.
        return _text_block(text, y, font_size * 0.85, bold=bold, fill=fill, max_lines=max_lines)
    weight = ' font-weight="bold"' if bold else ""
    out = []
    for line in lines:
        out.append(
            f'<text x="{PAGE_WIDTH / 2}" y="{y:.1f}" font-size="{font_size:.2f}"{weight} '
            f'fill="{fill}">{escape(line)}</text>'
        )
        y += font_size * 1.3
    return "".join(out), y


def length_line(desk: Desk) -> str | None:
    """How long the form the poster opens today is, or None when it opens none today.

    A poster hangs longer than a campaign: the figures are today's questionnaire's, and
    a poster printed for a new questionnaire shows its own.
    """
    try:
        survey = desk_surveys.desk_survey(desk.public_id, localtime.today())
    except desk_surveys.SurveyUnavailable:
        return None
    length = form_length(survey.questionnaire)
    return LENGTH.format(questions=length.questions, minutes=length.minutes)


def poster_svg(desk: Desk) -> str:
    """A printable A4 poster: agency and desk names, the QR code, the URL, how to use it and
    how long the form takes.

    Error correction Q: a poster hangs for months and gets scuffed, folded and
    photographed at an angle; Q still reads with a quarter of the code damaged.
    """
    url = desk_url(desk)
    d, side = _qr_path(url, qrcode.constants.ERROR_CORRECT_Q)
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{PAGE_WIDTH}mm" height="{PAGE_HEIGHT}mm" '
        f'viewBox="0 0 {PAGE_WIDTH} {PAGE_HEIGHT}" '
        f'font-family="{FONT}" text-anchor="middle">',
        f"<title>{escape(desk.agency.name)}: {escape(desk.name)}</title>",
        f'<rect width="{PAGE_WIDTH}" height="{PAGE_HEIGHT}" fill="#fff"/>',
        f'<rect x="0" y="0" width="{PAGE_WIDTH}" height="8" fill="#b71c1c"/>',
    ]
    block, y = _text_block(desk.agency.name, 24, 8.5, bold=True, max_lines=2)
    parts.append(block)
    block, y = _text_block(desk.name, y + 1, 6.5, fill="#333", max_lines=2)
    parts.append(block)
    parts.append(
        f'<line x1="{MARGIN}" y1="{y:.1f}" x2="{PAGE_WIDTH - MARGIN}" y2="{y:.1f}" '
        'stroke="#b71c1c" stroke-width="0.6"/>'
    )
    block, y = _text_block(HEADING, y + 13, 10, bold=True, fill="#b71c1c", max_lines=1)
    parts.append(block)
    qr_top = y - 6
    qr_left = (PAGE_WIDTH - QR_SIZE) / 2
    parts.append(
        f'<svg x="{qr_left}" y="{qr_top:.1f}" width="{QR_SIZE}" height="{QR_SIZE}" '
        f'viewBox="0 0 {side} {side}">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{d}" fill="#000" shape-rendering="crispEdges"/></svg>'
    )
    y = qr_top + QR_SIZE + 4
    # The URL for whoever cannot scan, large enough to type from.
    block, y = _text_block(url, y, 5.5, fill="#000", max_lines=2)
    parts.append(block)
    block, y = _text_block(INSTRUCTION, y + 6, 6.5, bold=True, max_lines=2)
    parts.append(block)
    length = length_line(desk)
    if length is not None:
        block, y = _text_block(length, y + 1, 5.5, bold=True, fill="#0b4f8a", max_lines=1)
        parts.append(block)
    block, y = _text_block(NO_LOGIN, y + 1, 5.5, fill="#333", max_lines=1)
    parts.append(block)
    block, y = _text_block(THANKS, PAGE_HEIGHT - 16, 4.5, fill="#555", max_lines=1)
    parts.append(block)
    parts.append(
        f'<rect x="0" y="{PAGE_HEIGHT - 8}" width="{PAGE_WIDTH}" height="8" fill="#b71c1c"/>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


# Paper sizes the poster prints on (portrait, millimetres): A4 for a wall, A5 for a counter.
PAPER_SIZES = {"A4": (210, 297), "A5": (148, 210)}


def poster_pdf(desk: Desk, size: str = "A4") -> bytes:
    """The poster as a one-page PDF on A4 or A5, the SVG scaled to the page, edge to edge."""
    # Imported here, as in services.slips: loading WeasyPrint looks its C libraries up.
    from weasyprint import HTML

    width, height = PAPER_SIZES[size]
    source = base64.b64encode(poster_svg(desk).encode("utf-8")).decode("ascii")
    html = (
        '<!doctype html><html lang="vi"><head><meta charset="utf-8">'
        f"<title>{escape(desk.agency.name)}: {escape(desk.name)}</title>"
        f"<style>@page {{ size: {width}mm {height}mm; margin: 0; }}"
        "html, body { margin: 0; }"
        f"img {{ display: block; width: {width}mm; height: {height}mm; }}</style></head>"
        f'<body><img src="data:image/svg+xml;base64,{source}" alt=""></body></html>'
    )
    out = io.BytesIO()
    HTML(string=html).write_pdf(out)
    return out.getvalue()


def poster_filename(desk: Desk, extension: str = "svg", size: str | None = None) -> str:
    """``poster-<desk code>[-A5].svg``, safe as a file name and in a Content-Disposition
    header. Desk codes are checked when typed, but a file name must hold whatever is stored.
    """
    stem = f"poster-{re.sub(r'[^A-Za-z0-9_.-]', '_', desk.code)}"
    return f"{stem}-{size}.{extension}" if size else f"{stem}.{extension}"
