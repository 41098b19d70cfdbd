"""A desk's QR poster (áp phích mã QR): its preview page, the SVG and a printable PDF."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request

from survey_app.access import READ_ROLES, desk_or_404, role_required
from survey_app.services.posters import (
    PAPER_SIZES,
    desk_url,
    poster_filename,
    poster_pdf,
    poster_svg,
)

bp = Blueprint("posters", __name__, url_prefix="/staff")


@bp.get("/desks/<code>/poster")
@role_required(*READ_ROLES)
def desk_poster_preview(code: str) -> str:
    """Xem trước áp phích: the poster as it prints, with its downloads."""
    desk = desk_or_404(code)
    return render_template(
        "staff/desk_poster.html", desk=desk, sizes=list(PAPER_SIZES), survey_url=desk_url(desk)
    )


@bp.get("/desks/<code>/poster.svg")
@role_required(*READ_ROLES)
def desk_poster(code: str) -> Response:
    """The A4 SVG poster of a desk the official may see (404 otherwise)."""
    desk = desk_or_404(code)
    return Response(
        poster_svg(desk),
        mimetype="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="{poster_filename(desk)}"'},
    )


@bp.get("/desks/<code>/poster.pdf")
@role_required(*READ_ROLES)
def desk_poster_pdf(code: str) -> Response:
    """The poster as a PDF to print, on A4 (``?size=A4``, the default) or A5."""
    desk = desk_or_404(code)
    size = request.args.get("size", "A4").upper()
    if size not in PAPER_SIZES:
        abort(404)
    filename = poster_filename(desk, "pdf", size)
    return Response(
        poster_pdf(desk, size),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
