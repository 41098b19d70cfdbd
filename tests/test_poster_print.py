"""The poster's preview page and its printable PDF on A4 and A5: one page of the right size,
the QR code scanning to the desk's survey address, the names printed whole."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image

from survey_app.services import organisation
from tests.pdf_support import page_images, pdf_text, qr_codes
from tests.staff_support import add_user, seed_province, sign_in

DESK = "HT-STP-01"


@pytest.fixture
def officer(app: Flask, client: FlaskClient) -> FlaskClient:
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
    sign_in(client, "an")
    return client


def _page_size_mm(pdf: bytes, tmp_path: Path) -> tuple[float, float]:
    if shutil.which("pdfinfo") is None:  # pragma: no cover - depends on the machine
        pytest.skip("pdfinfo (poppler-utils) is not installed")
    source = tmp_path / "size.pdf"
    source.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(source)], check=True, capture_output=True, text=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Page size:"))
    width, height = (float(v) for v in line.split()[2:5:2])
    assert re.search(r"^Pages:\s+1$", info.stdout, re.MULTILINE)
    return round(width * 25.4 / 72), round(height * 25.4 / 72)


def test_the_desk_page_leads_to_a_preview_with_both_sizes(app: Flask, officer: FlaskClient) -> None:
    desk_page = officer.get(f"/staff/desks/{DESK}").text
    assert f"/staff/desks/{DESK}/poster" in desk_page
    page = officer.get(f"/staff/desks/{DESK}/poster")
    assert page.status_code == 200
    assert f'src="/staff/desks/{DESK}/poster.svg"' in page.text
    assert f"/staff/desks/{DESK}/poster.pdf?size=A4" in page.text
    assert f"/staff/desks/{DESK}/poster.pdf?size=A5" in page.text
    with app.app_context():
        url = f"{app.config.get('PUBLIC_BASE_URL', '')}"
        public_id = organisation.desk_by_code(DESK).public_id
    assert f"/s/{public_id}" in page.text and url is not None
    assert officer.get(f"/staff/desks/{DESK}/poster.pdf?size=A3").status_code == 404
    assert officer.get("/staff/desks/HT-SXD-01/poster").status_code == 404
    assert officer.get("/staff/desks/HT-SXD-01/poster.pdf").status_code == 404


@pytest.mark.parametrize(("size", "mm"), [("A4", (210, 297)), ("A5", (148, 210))])
def test_the_pdf_prints_the_poster_on_the_page_size_and_scans(
    app: Flask, officer: FlaskClient, tmp_path: Path, size: str, mm: tuple[int, int]
) -> None:
    response = officer.get(f"/staff/desks/{DESK}/poster.pdf?size={size}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f'filename="poster-{DESK}-{size}.pdf"' in response.headers["Content-Disposition"]
    pdf = response.data
    assert _page_size_mm(pdf, tmp_path) == mm
    (png,) = page_images(pdf, tmp_path, dpi=150, name=f"poster-{size}")
    with Image.open(png) as image:
        assert abs(image.width / image.height - mm[0] / mm[1]) < 0.01
    with app.app_context():
        public_id = organisation.desk_by_code(DESK).public_id
    (scanned,) = qr_codes(png)
    assert scanned.endswith(f"/s/{public_id}")
    text = " ".join(pdf_text(pdf, tmp_path).split())
    assert "ĐÁNH GIÁ MỨC ĐỘ HÀI LÒNG" in text and "Sở Tư pháp" in text
    shutil.copy(png, Path("/tmp") / f"staff-basics-poster-{size}.png")
