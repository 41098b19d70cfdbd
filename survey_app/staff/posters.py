"""Staff download of a desk's QR poster (áp phích mã QR)."""

from __future__ import annotations

from flask import Blueprint, Response

from survey_app.access import READ_ROLES, desk_or_404, role_required
from survey_app.services.posters import poster_filename, poster_svg

bp = Blueprint("posters", __name__, url_prefix="/staff")


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
