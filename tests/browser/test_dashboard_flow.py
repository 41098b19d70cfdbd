"""An official's path: sign in, open the dashboard, drill into a criterion, export XLSX.

Drives Debian's chromium (never a downloaded browser) through Playwright against the
real application served live, on SQLite and on PostgreSQL. Screenshots (laptop and
phone widths) go to /tmp/dashboard-*.png.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from tests.browser.conftest import serve
from tests.dashboard_setup import PASSWORD, province

SCREENSHOTS = Path("/tmp")


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey_app.extensions import db

    with app.app_context():
        db.create_all()
    province(app, 300, previous=200)
    with serve(app) as url:
        yield url


def test_official_opens_dashboard_drills_down_and_exports_xlsx(
    base_url: str,
    browser,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="vi-VN", accept_downloads=True
    )
    page = context.new_page()
    page.goto(f"{base_url}/staff/campaigns/SIPAS-2026/dashboard")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/campaigns/SIPAS-2026/dashboard")
    assert page.locator("h2#weak-h").inner_text() == "Tiêu chí thấp điểm"
    big = page.locator(".overall .big").inner_text()
    assert big.endswith("%") and "," in big
    groups_chart = page.locator("section[aria-labelledby=groups-h] svg.chart title").first
    assert groups_chart.text_content() == "Chỉ số theo nhóm"
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-laptop-{backend}.png"), full_page=True)

    page.locator("#weak-h ~ table a").first.click()
    page.wait_for_url("**/criteria/**")
    assert "Phân bố câu trả lời" in page.content()
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-criterion-{backend}.png"), full_page=True)

    page.go_back()
    with page.expect_download() as download_info:
        page.click("text=Xuất chỉ số (XLSX)")
    download = download_info.value
    assert download.suggested_filename == "chi-so-SIPAS-2026-all.xlsx"
    book = load_workbook(io.BytesIO(Path(download.path()).read_bytes()))
    assert book.sheetnames[:4] == ["Tổng thể", "Nhóm", "Tiêu chí", "Câu hỏi"]
    overall = book["Tổng thể"]["D2"].value
    assert f"{overall * 100:.2f}".replace(".", ",") + "%" == big

    page.click("text=Cài đặt trọng số")
    page.check("input[name=calibration][value=poststratify]")
    page.set_input_files(
        "input[name=margins]",
        files=[
            {
                "name": "gioi-tinh.csv",
                "mimeType": "text/csv",
                "buffer": b"gender,count\n1,51000\n2,49000\n",
            }
        ],
    )
    page.select_option("select[name=level]", "0.99")
    page.click("form.weighting button[type=submit]")
    # Nothing is saved before the analyst has seen what changes and confirmed.
    assert "Xem trước: cài đặt mới thay đổi gì" in page.content()
    page.screenshot(
        path=str(SCREENSHOTS / f"dashboard-weighting-preview-{backend}.png"), full_page=True
    )
    page.click("form.confirm button[type=submit]")
    assert "Đã lưu cài đặt" in page.content()
    assert "hậu phân tầng theo giới tính; KTC 99% logit" in page.content()
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-weighting-{backend}.png"), full_page=True)
    context.close()

    phone = browser.new_context(
        viewport={"width": 393, "height": 851},
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
        locale="vi-VN",
    )
    mobile = phone.new_page()
    mobile.goto(f"{base_url}/staff/login")
    mobile.fill("input[name=username]", "stp")
    mobile.fill("input[name=password]", PASSWORD)
    mobile.click("button[type=submit]")
    mobile.goto(f"{base_url}/staff/campaigns/SIPAS-2026/dashboard")
    # Nothing wider than the screen but the tables' own scroll boxes.
    width = mobile.evaluate("document.documentElement.scrollWidth")
    assert width <= 393 + 1
    assert "Quầy SXD-01" not in mobile.content()
    mobile.screenshot(path=str(SCREENSHOTS / f"dashboard-phone-{backend}.png"), full_page=True)
    phone.close()
