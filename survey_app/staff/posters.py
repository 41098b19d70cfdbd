"""Staff download of a desk's QR poster (áp phích mã QR)."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_login import login_required

from survey_app.access import desk_or_404
from survey_app.services.posters import poster_filename, poster_svg

bp = Blueprint("posters", __name__, url_prefix="/staff")


@bp.get("/desks/<code>/poster.svg")
@login_required
def desk_poster(code: str) -> Response:
    """The A4 SVG poster of a desk the official may see (404 otherwise)."""
    desk = desk_or_404(code)
    return Response(
        poster_svg(desk),
        mimetype="image/svg+xml",
        headers={"Content-Disposition": f'inline; filename="{poster_filename(desk)}"'},
    )
