"""An administrator and an officer switch the staff pages to English in a real browser.

Debian's chromium through Playwright against the application served live. Each page's
visible text (``inner_text`` of the body, so what a reader sees) must read English except
data: agency, desk and campaign names, the questionnaire's texts, citizens' comments.
Screenshots go to /tmp/staff_en_*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.browser.conftest import serve
from tests.dashboard_setup import PASSWORD, province
from tests.english_support import data_values, vietnamese_left

SCREENSHOTS = Path("/tmp")
CAMPAIGN = "/staff/campaigns/SIPAS-2026"


@pytest.fixture
def served(make_app: Callable[..., Flask]) -> Iterator[tuple[str, list[str]]]:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey_app.extensions import db

    with app.app_context():
        db.create_all()
    province(app, 300, previous=200)
    with app.app_context():
        values = data_values()
    with serve(app) as url:
        yield url, values


def _sign_in_in_english(browser, base_url: str, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base_url}/staff/login")
    assert page.locator("h1").inner_text() == "Đăng nhập"
    page.click(".languages button[lang=en]")
    page.wait_for_selector("html[lang=en]")
    assert page.locator("h1").inner_text() == "Sign in"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/staff/")
    return context, page


def _check(page, values: list[str], name: str, heading: str) -> None:  # type: ignore[no-untyped-def]
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").first.inner_text() == heading
    left = vietnamese_left(page.locator("body").inner_text().splitlines(), values)
    assert left == [], f"{name} still reads Vietnamese"
    page.screenshot(path=str(SCREENSHOTS / f"staff_en_{name}.png"), full_page=True)


def test_an_administrator_works_in_english(served: tuple[str, list[str]], browser) -> None:  # type: ignore[no-untyped-def]
    base_url, values = served
    context, page = _sign_in_in_english(browser, base_url, "admin")
    _check(page, values, "home", "Staff area")
    assert page.locator("nav.menu").inner_text().split() == [
        "Home",
        "Agencies",
        "Questionnaires",
        "Accounts",
        "Audit",
        "log",
    ]
    assert "1 Jan 2026 – 30 Jun 2026" in page.locator("main").inner_text()

    page.click("nav.menu >> text=Agencies")
    _check(page, values, "agencies", "Agencies")
    assert "Department, board, sector" in page.locator("table").inner_text()

    page.goto(f"{base_url}{CAMPAIGN}")
    _check(page, values, "campaign", "Khảo sát SIPAS năm 2026")
    assert "QR code at the desk" in page.locator("table").inner_text()

    page.click("text=Results and indices")
    page.wait_for_url("**/dashboard")
    _check(page, values, "dashboard", "Khảo sát SIPAS năm 2026")
    assert page.locator("h2#weak-h").inner_text() == "Lowest-scoring criteria"
    big = page.locator(".overall .big").inner_text()
    assert big.endswith("%") and "." in big and "," not in big
    groups_chart = page.locator("section[aria-labelledby=groups-h] svg.chart title").first
    assert groups_chart.text_content() == "Index by group"

    page.locator("#weak-h ~ table a").first.click()
    page.wait_for_url("**/criteria/**")
    _check(page, values, "criterion", page.locator("h1").inner_text())
    assert "Distribution of answers" in page.locator("main").inner_text()

    page.goto(f"{base_url}{CAMPAIGN}/import")
    _check(page, values, "import", "Import paper survey forms")
    assert page.locator("label[for=file]").inner_text() == "Paper forms file (.xlsx or .csv)"

    page.click("nav.menu >> text=Accounts")
    _check(page, values, "users", "Staff accounts")
    assert "System administrator" in page.locator("table").inner_text()
    assert page.locator("label[for=role]").inner_text() == "Role"

    page.click(".languages button[lang=vi]")
    page.wait_for_selector("html[lang=vi]")
    assert page.locator("h1").inner_text() == "Tài khoản cán bộ"
    context.close()


def test_an_officer_works_in_english(served: tuple[str, list[str]], browser) -> None:  # type: ignore[no-untyped-def]
    base_url, values = served
    context, page = _sign_in_in_english(browser, base_url, "stp")
    _check(page, values, "officer_home", "Staff area")
    assert "Agency officer" in page.locator("header").inner_text()
    page.goto(f"{base_url}{CAMPAIGN}/dashboard?period=2026-Q1")
    _check(page, values, "officer_dashboard", "Khảo sát SIPAS năm 2026")
    assert "Scope: your agency and the units under it" in page.locator("main").inner_text()
    assert page.locator("#period option:checked").inner_text() == "Q1 2026"
    page.goto(f"{base_url}{CAMPAIGN}/import")
    _check(page, values, "officer_import", "Import paper survey forms")
    page.goto(f"{base_url}/staff/users")
    _check(page, values, "officer_forbidden", "Access denied")
    context.close()
