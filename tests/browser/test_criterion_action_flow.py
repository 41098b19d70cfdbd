"""From the dashboard's weak criteria to a criterion's action page, on a laptop and a phone.

Screenshots go to /tmp/criterion-action-*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.browser.conftest import serve
from tests.dashboard_setup import PASSWORD, province

SCREENSHOTS = Path("/tmp")
URL = "/staff/campaigns/SIPAS-2026"


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey_app.extensions import db

    with app.app_context():
        db.create_all()
    province(app, 300, previous=200)
    with serve(app) as url:
        yield url


def sign_in(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}{URL}/dashboard")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{URL}/dashboard")


def test_weakest_criterion_leads_to_its_action_page(
    base_url: str,
    browser,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN")
    page = context.new_page()
    sign_in(page, base_url)
    assert page.locator("#trend-h").inner_text() == "Xu hướng của chỉ số"
    assert page.locator("svg.chart.trend").count() == 1

    weakest = page.locator("#weak-h ~ table a").first
    name = weakest.inner_text()
    weakest.click()
    page.wait_for_url("**/criteria/**")
    assert page.locator("h1").inner_text() == name
    for heading in ("#target-h", "#heat-h", "#trend-h", "#low-h", "#items-h"):
        assert page.locator(heading).is_visible()
    # Every desk's cell has its value printed, whatever its colour.
    cells = page.locator("table.heat").first.locator("tbody tr td.num")
    assert cells.count() >= 5
    assert all("," in text and "n=" in text for text in cells.all_inner_texts())
    # The laptop page does not scroll sideways; wide tables scroll in their own regions.
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    page.screenshot(
        path=str(SCREENSHOTS / f"criterion-action-laptop-{backend}.png"), full_page=True
    )

    page.click("text=quý")
    page.wait_for_url("**trend=quarter**")
    assert "Quý 2/2026" in page.locator("table.trend-table thead").inner_text()
    context.close()

    phone = browser.new_context(
        viewport={"width": 360, "height": 740}, locale="vi-VN", is_mobile=True, has_touch=True
    )
    page = phone.new_page()
    sign_in(page, base_url)
    page.goto(f"{base_url}{URL}/criteria/II.2")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    regions = page.locator("div.scroll[role=region][tabindex='0']")
    assert regions.count() == 4
    heat = regions.first
    assert heat.get_attribute("aria-label")
    assert heat.evaluate("e => e.scrollWidth > e.clientWidth")  # it scrolls, nothing is cut
    heat.focus()
    page.keyboard.press("ArrowRight")
    page.screenshot(path=str(SCREENSHOTS / f"criterion-action-phone-{backend}.png"), full_page=True)
    phone.close()
