"""The pages render under their Content-Security-Policy: no violation, nothing unstyled.

Debian's chromium loads the citizen form (its inlined CSS and skip-logic JS carry the
response's nonce), the staff home, the agency tree, a dashboard (charts, interval bars,
the period list that submits itself) and a criterion page, and fails on any
``securitypolicyviolation`` event or console error. Screenshots go to /tmp/csp-*.png.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from survey_app import localtime
from survey_app.extensions import db
from survey_app.services import organisation
from tests.browser.conftest import press, serve
from tests.dashboard_setup import PASSWORD, province

SCREENSHOTS = Path("/tmp")
# Recorded before any script of the page runs, so nothing the page does escapes it.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


@pytest.fixture
def server(make_app: Callable[..., Flask]) -> Iterator[tuple[str, str]]:
    """The live app with the dashboard's province and a form running today at TS-01:
    its base URL and that desk's public id."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
    province(app, 120)
    with app.app_context():
        today = localtime.today()  # the surveys' date, not the machine's
        organisation.add_campaign(
            "NOW",
            "Khảo sát đang diễn ra",
            "HT",
            "sipas-2023",
            "2023.1",
            today - dt.timedelta(days=1),
            today + dt.timedelta(days=30),
            ["TS-01"],
        )
        db.session.commit()
        public_id = organisation.desk_by_code("TS-01").public_id
    with serve(app) as url:
        yield url, public_id


def _watched(browser, problems: list[str], **options):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="vi-VN", **options)
    context.add_init_script(WATCH)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text} ({message.location['url']})")
            if message.type == "error"  # the site icon too: it is served now
            else None
        ),
    )
    return page


def _visit(page, url: str, name: str, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    page.goto(url)
    page.wait_for_load_state("load")
    problems += [f"{name}: {v}" for v in page.evaluate("window.__violations")]
    page.screenshot(path=str(SCREENSHOTS / f"csp-{name}.png"), full_page=True)


def _css(page, selector: str, prop: str) -> str:  # type: ignore[no-untyped-def]
    return str(
        page.eval_on_selector(selector, f"e => getComputedStyle(e).getPropertyValue('{prop}')")
    )


def test_citizen_and_staff_pages_render_under_their_policy(
    server: tuple[str, str],
    browser,  # type: ignore[no-untyped-def]
) -> None:
    base, public_id = server
    problems: list[str] = []

    phone = _watched(browser, problems, viewport={"width": 393, "height": 727}, is_mobile=True)
    _visit(phone, f"{base}/s/{public_id}", "citizen-form", problems)
    assert _css(phone, "header.top", "background-color") != "rgba(0, 0, 0, 0)"  # CSS applied
    while phone.locator("[data-show-item]").count() == 0:  # to the step with skip logic
        for radio in phone.locator("input[type=radio][value='4']").all():
            radio.check()
        press(phone, phone.locator("button[value=next]"), tap=False)
    dependent = phone.locator("[data-show-item]").first
    assert dependent.is_hidden()  # the nonce'd script ran
    phone.locator("input[name='a_II.4.0'][value='1']").check()
    assert dependent.is_visible()
    problems += [f"citizen step: {v}" for v in phone.evaluate("window.__violations")]
    phone.screenshot(path=str(SCREENSHOTS / "csp-citizen-skip.png"), full_page=True)

    staff = _watched(browser, problems, viewport={"width": 1280, "height": 900})
    staff.goto(f"{base}/staff/login")
    staff.fill("input[name=username]", "admin")
    staff.fill("input[name=password]", PASSWORD)
    staff.click("button[type=submit]")
    staff.wait_for_url("**/staff/")
    _visit(staff, f"{base}/staff/", "staff-home", problems)
    assert _css(staff, "header.topbar", "background-color") == "rgb(17, 34, 51)"
    _visit(staff, f"{base}/staff/agencies", "agencies", problems)
    assert _css(staff, ".indent1", "padding-left") == "24px"

    _visit(staff, f"{base}/staff/campaigns/SIPAS-2026/dashboard", "dashboard", problems)
    groups_chart = staff.locator("section[aria-labelledby=groups-h] svg.chart").first
    assert groups_chart.bounding_box()["width"] > 300  # type: ignore[index]
    bars = staff.locator("table.tree svg.cibar rect")
    assert bars.count() > 30 and bars.first.bounding_box()["width"] > 0  # type: ignore[index]
    cell = "table.tree tr.depth3 td.label"
    indent = float(_css(staff, cell, "padding-left").removesuffix("px"))
    assert indent / float(_css(staff, cell, "font-size").removesuffix("px")) == pytest.approx(2.1)
    last = staff.locator("#period option").last.get_attribute("value")
    staff.select_option("#period", last)  # dashboard.js submits the form
    staff.wait_for_url(f"**/dashboard?period={last}&*")  # the agency and desk lists follow

    _visit(staff, f"{base}/staff/campaigns/SIPAS-2026/criteria/II.2", "criterion", problems)
    widths = [b.bounding_box()["width"] for b in staff.locator("svg.bar rect").all()]  # type: ignore[index]
    assert widths and max(widths) > 50 and min(widths) >= 0

    assert problems == []
