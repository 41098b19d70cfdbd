"""The dashboard's agency and desk lists in a real browser, at a phone's width: choosing one
shows the narrowed page at once, and choosing another agency drops the desk chosen before
(it may not be one of that agency's desks)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from flask import Flask

from tests.browser.conftest import serve
from tests.dashboard_setup import PASSWORD, province


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey_app.extensions import db

    with app.app_context():
        db.create_all()
    province(app, 120)
    with serve(app) as url:
        yield url


def test_desk_then_another_agency_narrows_and_drops_the_desk(base_url: str, browser) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 360, "height": 740}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base_url}/staff/campaigns/SIPAS-2026/dashboard")
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard")
    with page.expect_navigation():
        page.select_option("#desk", "STP-02")
    assert page.url.endswith("desk=STP-02")
    assert "Quầy: Quầy STP-02" in page.locator(".settings").inner_text()
    with page.expect_navigation():
        page.select_option("#agency", "HT-SXD")
    assert "agency=HT-SXD" in page.url and "desk=STP-02" not in page.url
    assert page.locator("#desk").input_value() == ""
    assert "Sở Xây dựng" in page.locator(".settings").inner_text()
    # The lists stay within the phone's width.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360
    context.close()
