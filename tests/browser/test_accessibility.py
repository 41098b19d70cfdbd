"""axe-core on every staff page, for every role, on a laptop (1366x768) and a phone (360x740).

Debian's chromium through Playwright against the application served live (SQLite: the pages
do not depend on the database). The pages are every GET rule of ``app.url_map`` under
``/staff/`` with its arguments from ``tests.http_support``, so a new page is checked without
being listed here; a rule naming a file (``report.<fmt>``, ``poster.svg``) is a download and
is left out, as is any page that answers with something other than HTML or an error. axe-core comes
from the npm registry (``make install`` runs ``npm ci``, see package-lock.json) and is added
to each page by the browser before the page's own scripts (an init script is not subject to
the page's Content-Security-Policy, which stays on). A page fails on any violation of the
WCAG 2.1 A/AA rules whose impact is serious or critical (and on an empty table header), and
a phone page also fails when something is cut off: wider than the screen, or clipped by its
box, except inside a scroll region the keyboard reaches.

``AXE_SCREENSHOTS=/some/folder`` writes a full-page PNG of every page checked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask

from survey_app.extensions import db
from survey_app.services import organisation, plans
from tests.browser.conftest import serve
from tests.http_support import every_route, records
from tests.plan_support import agency, campaign, seed_plans, user
from tests.staff_support import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 360, "height": 740}}
# The users of tests.plan_support: one of each role (the officer's and the viewer's agency
# is Sở Tư pháp, whose campaign STP-2026 the pages show).
ROLES = ("admin", "analyst", "stp", "viewer")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# axe's empty-table-header is a best practice of minor impact, asked for all the same.
RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: "tag", values: tags},
    rules: {"empty-table-header": {enabled: true}},
    resultTypes: ["violations"],
  });
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact) || v.id === "empty-table-header")
    .flatMap((v) => v.nodes.map(
      (n) => `${v.id} (${v.impact}) at ${n.target.join(" ")}: ${v.help}`));
}"""
# What ends past the right edge of the screen, or is cut off by a box that scrolls or clips,
# except in a scroll region the keyboard reaches (role=region, tabindex=0).
CLIPPED = """(width) => {
  const region = (e) => e && e.closest('[role="region"][tabindex="0"]');
  const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
    + (typeof e.className === "string" && e.className.trim()
       ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  const found = [];
  const page = document.documentElement.scrollWidth;
  if (page > width + 1) found.push(`the page scrolls sideways: ${page} px`);
  for (const e of document.querySelectorAll("body *")) {
    if (!e.getClientRects().length || region(e.parentElement)) continue;
    const right = e.getBoundingClientRect().right;
    const style = getComputedStyle(e);
    if (right > width + 1) {
      found.push(`${name(e)} ends at ${Math.round(right)} px`);
    } else if (style.overflowX !== "visible" && e.clientWidth > 1 && !region(e)
               && e.scrollWidth > e.clientWidth + 1
               && !/^(INPUT|SELECT|TEXTAREA)$/.test(e.tagName)) {
      found.push(`${name(e)} cuts off ${e.scrollWidth - e.clientWidth} px`);
    }
  }
  return found.slice(0, 5);
}"""

pytestmark = [
    pytest.mark.skipif(not AXE.exists(), reason="axe-core is not installed (`make install`)"),
    # The pages are the same on PostgreSQL; one database keeps the run short.
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@dataclass(frozen=True)
class Site:
    base_url: str
    pages: list[str]  # paths of the staff GET pages


@pytest.fixture
def site(make_app: Callable[..., Flask]) -> Iterator[Site]:
    """The province of the plan tests (two periods of answers, so the dashboard compares)
    with a remediation plan row, served live."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        seed_plans()
        plan = plans.add_rows(
            campaign("STP-2026"), agency("HT-STP"), "2026-Q1", ["II.2"], "85", user("stp")
        )
        # Names as long as real ones: a list or a cell never widens a phone's page.
        organisation.desk_by_code("HT-STP-01").name = (
            "Bộ phận tiếp nhận và trả kết quả giải quyết thủ tục hành chính Sở Tư pháp tại "
            "Trung tâm Phục vụ hành chính công tỉnh"
        )
        db.session.commit()
        named = records("STP-2026", "HT-STP-01", plan.rows[0].id)
    pages = [
        route.url
        for route in every_route(app, named)
        if route.method == "GET"
        and route.rule.startswith("/staff/")
        and "." not in route.rule.rsplit("/", 1)[-1]
    ]
    with serve(app) as url:
        yield Site(url, pages)


def _check(page, base_url: str, path: str, viewport: str, name: str) -> list[str] | None:  # type: ignore[no-untyped-def]
    """axe's serious and critical violations on the page at ``path``, and on a phone what
    is wider than the screen; None when it is not an HTML page the role may see."""
    response = page.goto(base_url + path)
    if response is None or not response.ok or response.request.redirected_from is not None:
        return None  # not for this role, or a page checked under its own address
    if not response.headers.get("content-type", "").startswith("text/html"):
        return None
    found = [f"{path} [{viewport}]: {v}" for v in page.evaluate(RUN_AXE, TAGS)]
    if viewport == "phone":
        width = VIEWPORTS["phone"]["width"]
        found += [f"{path} [phone]: {e}" for e in page.evaluate(CLIPPED, width)]
    folder = os.environ.get("AXE_SCREENSHOTS")
    if folder:
        stem = path.removeprefix("/staff/").split("?")[0].strip("/").replace("/", "_") or "home"
        page.screenshot(path=f"{folder}/{name}-{viewport}-{stem}.png", full_page=True)
    return found


def _phone_folds(page, base_url: str) -> None:  # type: ignore[no-untyped-def]
    """On a phone the menu opens from its button, and the dashboard's folded sections from
    their headings; open, they hold nothing axe objects to or that is cut off."""
    page.goto(f"{base_url}/staff/campaigns/STP-2026/dashboard")
    toggle = page.locator(".menu-toggle")
    assert page.locator("nav.menu").is_hidden() and toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    assert page.locator("nav.menu").is_visible() and toggle.get_attribute("aria-expanded") == "true"
    tree = page.locator("#tree-h button.fold")
    assert page.locator("table.tree").is_hidden()
    tree.click()
    assert page.locator("table.tree").is_visible() and tree.get_attribute("aria-expanded") == "true"
    assert page.evaluate(RUN_AXE, TAGS) == []
    assert page.evaluate(CLIPPED, VIEWPORTS["phone"]["width"]) == []


@pytest.mark.parametrize("username", ROLES)
def test_every_staff_page_has_no_serious_accessibility_violation(
    site: Site,
    browser,  # type: ignore[no-untyped-def]
    username: str,
) -> None:
    found: list[str] = []
    checked: list[str] = []
    for viewport, size in VIEWPORTS.items():
        context = browser.new_context(viewport=size, locale="vi-VN")
        context.add_init_script(path=str(AXE))
        page = context.new_page()
        found += _check(page, site.base_url, "/staff/login", viewport, "anonymous") or []
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url("**/staff/")
        for path in site.pages:
            result = _check(page, site.base_url, path, viewport, username)
            if result is not None:
                checked.append(path)
                found += result
        if viewport == "phone":
            _phone_folds(page, site.base_url)
        context.close()
    # Every role sees its home, the agencies, the campaign and its dashboard at least.
    assert {"/staff/", "/staff/agencies", "/staff/campaigns/STP-2026/dashboard"} <= set(checked)
    assert found == [], "\n".join(found)
