"""QR posters: the printed code scans to the desk's survey URL; names print as written."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from survey_app.extensions import db
from survey_app.models import Desk, StaffUser
from survey_app.services import dossier_codes, organisation, posters
from tests.staff_support import sign_in

SVG = "{http://www.w3.org/2000/svg}"
AWKWARD_NAME = "Sở \"Tư pháp\" & <Hộ tịch> 'A'"


def decode_qr_codes(svg: str, width_px: int = 1240) -> list[str]:
    """Render an SVG as a printer would (cairo) and read its QR codes as a camera app would."""
    try:
        import cairosvg  # needs the system libcairo2 (Debian package; chromium pulls it in)
    except OSError as error:  # pragma: no cover - depends on the machine
        pytest.skip(f"cairosvg cannot load libcairo: {error}")
    import zxingcpp
    from PIL import Image

    png = cairosvg.svg2png(
        bytestring=svg.encode("utf-8"), output_width=width_px, background_color="white"
    )
    image = Image.open(io.BytesIO(png))
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.fixture
def desk_app(app: Flask) -> Flask:
    with app.app_context():
        organisation.add_agency("HT", "Tỉnh Hà Tĩnh", "province")
        organisation.add_agency("HT-STP", AWKWARD_NAME, "department", "HT")
        organisation.add_agency("HT-SXD", "Sở Xây dựng", "department", "HT")
        organisation.add_desk("HT-STP-01", "Quầy <tiếp nhận> & trả kết quả", "HT-STP")
        organisation.add_desk("HT-SXD-01", "Quầy Sở Xây dựng", "HT-SXD")
        db.session.commit()
    return app


def _desk(code: str) -> Desk:
    desk = db.session.scalar(db.select(Desk).filter_by(code=code))
    assert desk is not None
    return desk


def test_poster_qr_decodes_to_the_desk_survey_url(desk_app: Flask) -> None:
    with desk_app.app_context():
        desk = _desk("HT-STP-01")
        svg = posters.poster_svg(desk)
        expected = f"http://survey.test/s/{desk.public_id}"
    assert posters_url_in(svg) == expected
    assert decode_qr_codes(svg) == [expected]


def test_poster_qr_still_decodes_when_printed_small(desk_app: Flask) -> None:
    # A4 rendered at 300 px wide is about 36 DPI: far below any printer, still readable.
    with desk_app.app_context():
        desk = _desk("HT-SXD-01")
        svg = posters.poster_svg(desk)
        assert decode_qr_codes(svg, width_px=300) == [posters.desk_url(desk)]


def posters_url_in(svg: str) -> str:
    """The URL printed as text under the QR code."""
    root = ET.fromstring(svg)
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    urls = [t for t in texts if t.startswith("http")]
    assert len(urls) == 1, texts
    return urls[0]


def test_poster_is_a4_in_millimetres_with_a_large_qr(desk_app: Flask) -> None:
    with desk_app.app_context():
        root = ET.fromstring(posters.poster_svg(_desk("HT-SXD-01")))
    assert (root.get("width"), root.get("height")) == ("210mm", "297mm")
    assert root.get("viewBox") == "0 0 210 297"
    qr = root.find(f"{SVG}svg")
    assert qr is not None
    size = float(qr.get("width", 0))
    assert size >= 120 and float(qr.get("height", 0)) == size
    # Inside the page with margins.
    assert float(qr.get("x", 0)) >= 10 and float(qr.get("x", 0)) + size <= 200
    assert float(qr.get("y", 0)) + size <= 297 - 40


def test_poster_prints_names_and_instructions_escaped(desk_app: Flask) -> None:
    with desk_app.app_context():
        svg = posters.poster_svg(_desk("HT-STP-01"))
    root = ET.fromstring(svg)  # well-formed XML despite <, &, quotes in the names
    text = " ".join(" ".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert AWKWARD_NAME in text or all(w in text for w in AWKWARD_NAME.split())
    assert "Quầy <tiếp nhận> & trả kết quả" in text
    assert "Quét mã QR bằng camera điện thoại" in text
    assert "Không cần đăng nhập, không cần cài ứng dụng" in text
    assert "<Hộ tịch>" not in svg  # only ever as &lt;Hộ tịch&gt;
    assert root.get("font-family") == "sans-serif"


def test_long_names_wrap_instead_of_running_off_the_page(desk_app: Flask) -> None:
    long_name = "Bộ phận tiếp nhận và trả kết quả giải quyết thủ tục hành chính " * 3
    with desk_app.app_context():
        desk = _desk("HT-SXD-01")
        desk.name = long_name.strip()
        root = ET.fromstring(posters.poster_svg(desk))
        db.session.rollback()
    for text in root.iter(f"{SVG}text"):
        content = "".join(text.itertext())
        font_size = float(text.get("font-size", 0))
        em = 0.62 if text.get("font-weight") == "bold" else 0.56
        # Estimated width stays within the 180 mm between the margins.
        assert len(content) * font_size * em <= 180, content


def test_receipt_qr_decodes_to_the_dossier_survey_url(desk_app: Flask) -> None:
    with desk_app.app_context():
        url = dossier_codes.survey_url(dossier_codes.issue("HT-SXD-01", "HS-2026-0001"))
        db.session.commit()
        svg = posters.qr_svg(url)
    assert decode_qr_codes(svg, width_px=400) == [url]


# Staff download ---------------------------------------------------------------------------


def _login(client: FlaskClient, app: Flask, role: str, agency_code: str | None) -> None:
    with app.app_context():
        agency = organisation.agency_by_code(agency_code) if agency_code else None
        username = f"{role}-{agency_code}"
        db.session.add(StaffUser(username=username, password_hash="x", role=role, agency=agency))
        db.session.commit()
    sign_in(client, username)


def test_staff_poster_needs_a_login(desk_app: Flask) -> None:
    response = desk_app.test_client().get("/staff/desks/HT-STP-01/poster.svg")
    assert response.status_code in (302, 401)


def test_officer_downloads_own_desk_poster(desk_app: Flask) -> None:
    client = desk_app.test_client()
    _login(client, desk_app, "officer", "HT-STP")
    response = client.get("/staff/desks/HT-STP-01/poster.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert 'filename="poster-HT-STP-01.svg"' in response.headers["Content-Disposition"]
    with desk_app.app_context():
        assert decode_qr_codes(response.get_data(as_text=True)) == [
            posters.desk_url(_desk("HT-STP-01"))
        ]


def test_officer_gets_404_for_another_agency_desk(desk_app: Flask) -> None:
    client = desk_app.test_client()
    _login(client, desk_app, "officer", "HT-STP")
    assert client.get("/staff/desks/HT-SXD-01/poster.svg").status_code == 404
    assert client.get("/staff/desks/NOPE/poster.svg").status_code == 404


def test_province_officer_gets_every_desk_below(desk_app: Flask) -> None:
    client = desk_app.test_client()
    _login(client, desk_app, "officer", "HT")
    assert client.get("/staff/desks/HT-SXD-01/poster.svg").status_code == 200


# Command line -----------------------------------------------------------------------------


def test_cli_writes_one_desk_poster(desk_app: Flask, tmp_path: Path) -> None:
    out = tmp_path / "poster.svg"
    result = desk_app.test_cli_runner().invoke(args=["desk", "poster", "HT-SXD-01", "-o", str(out)])
    assert result.exit_code == 0, result.output
    with desk_app.app_context():
        assert decode_qr_codes(out.read_text(encoding="utf-8")) == [
            posters.desk_url(_desk("HT-SXD-01"))
        ]


def test_cli_prints_poster_to_stdout_without_output_file(desk_app: Flask) -> None:
    result = desk_app.test_cli_runner().invoke(args=["desk", "poster", "HT-SXD-01"])
    assert result.exit_code == 0
    assert result.output.lstrip().startswith("<?xml")


def test_cli_refuses_an_unknown_desk(desk_app: Flask) -> None:
    result = desk_app.test_cli_runner().invoke(args=["desk", "poster", "NOPE"])
    assert result.exit_code != 0
    assert "NOPE" in result.output


def test_cli_writes_every_desk_poster_into_a_folder(desk_app: Flask, tmp_path: Path) -> None:
    result = desk_app.test_cli_runner().invoke(
        args=["desk", "posters", "--all", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["poster-HT-STP-01.svg", "poster-HT-SXD-01.svg"]


def test_cli_and_staff_page_name_a_poster_file_alike(desk_app: Flask, tmp_path: Path) -> None:
    # A code stored before codes were checked (or by hand in the database) holds a space, a
    # quote and a Vietnamese letter: the page's header and the folder get the same ASCII name.
    with desk_app.app_context():
        _desk("HT-STP-01").code = "HT STP'01đ"
        db.session.commit()
    result = desk_app.test_cli_runner().invoke(
        args=["desk", "posters", "--all", "-o", str(tmp_path / "out")]
    )
    assert result.exit_code == 0, result.output
    client = desk_app.test_client()
    _login(client, desk_app, "officer", "HT-STP")
    response = client.get("/staff/desks/HT%20STP%2701%C4%91/poster.svg")
    assert response.status_code == 200
    assert 'filename="poster-HT_STP_01_.svg"' in response.headers["Content-Disposition"]
    files = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert files == ["poster-HT-SXD-01.svg", "poster-HT_STP_01_.svg"]


def test_cli_issues_a_dossier_code_with_its_qr(desk_app: Flask, tmp_path: Path) -> None:
    qr = tmp_path / "receipt.svg"
    result = desk_app.test_cli_runner().invoke(
        args=["dossier-code", "issue", "HT-SXD-01", "HS-2026-0042", "--qr", str(qr)]
    )
    assert result.exit_code == 0, result.output
    url = result.output.strip().splitlines()[0]
    assert re.fullmatch(r"http://survey\.test/c/[2-9B-X]{5}-[2-9B-X]{5}", url)
    with desk_app.app_context():
        claim = dossier_codes.verify(url.rsplit("/", 1)[1])
        assert claim.desk_id == organisation.desk_by_code("HT-SXD-01").id
        assert claim.code == dossier_codes.stored_hash("HS-2026-0042")
    assert decode_qr_codes(qr.read_text(encoding="utf-8"), width_px=400) == [url]


def test_cli_refuses_a_dossier_code_for_an_unknown_desk(desk_app: Flask) -> None:
    result = desk_app.test_cli_runner().invoke(args=["dossier-code", "issue", "NOPE", "HS-1"])
    assert result.exit_code != 0
    assert "NOPE" in result.output
