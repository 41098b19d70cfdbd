"""The dashboard's charts read on a laptop (1366x768) and on a phone (360x740).

The demo province is served live and drawn by Debian's chromium: every chart on screen
has its text at 11 px or more and fits the screen's width. Screenshots go to
/tmp/plain-dashboard-*.png to be looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from survey_app.extensions import db
from survey_app.services import accounts, analysis, questionnaires
from tests.browser.conftest import serve

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "mat-khau-rat-dai-2026"
SIZES = {"laptop": (1366, 768), "phone": (360, 740)}
MIN_TEXT_PX = 11

# The smallest text of the charts on screen (font size times the SVG's scale), and
# whether each chart on screen fits the window's width.
MEASURE = """() => {
  const sizes = [], overflow = [];
  let figures = 0;
  for (const svg of document.querySelectorAll('svg.chart')) {
    const box = svg.getBoundingClientRect();
    if (!box.width) continue;  // the other layout, or a closed <details>
    if (box.right > window.innerWidth + 0.5) overflow.push(svg.querySelector('title').textContent);
    for (const el of svg.querySelectorAll('text, tspan')) {
      if (!el.textContent.trim()) continue;
      sizes.push(parseFloat(getComputedStyle(el).fontSize) * el.getScreenCTM().a);
      if (el.tagName === 'text' && el.textContent.includes('%')) figures += 1;
    }
  }
  return {min: Math.min(...sizes), count: sizes.length, figures, overflow};
}"""


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    from survey_app.demo import load_demo, load_demo_responses

    app = make_app()
    analysis.clear_caches()
    with app.app_context():
        db.create_all()
        questionnaires.load_file(ROOT / "questionnaires" / "sipas-2023.yaml")
        load_demo()
        db.session.commit()
        load_demo_responses(300)
        accounts.create_user("admin", PASSWORD, "admin")
        db.session.commit()
    with serve(app) as url:
        yield url


def test_chart_text_stays_readable_on_a_laptop_and_a_phone(
    base_url: str,
    browser,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    for name, (width, height) in SIZES.items():
        context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
        page = context.new_page()
        page.goto(f"{base_url}/staff/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state()
        for path, shot in (("dashboard", "dashboard"), ("criteria/II.0", "criterion")):
            page.goto(f"{base_url}/staff/campaigns/SIPAS-2026/{path}")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            measured = page.evaluate(MEASURE)
            page.screenshot(
                path=f"/tmp/plain-{shot}-{name}-{backend}.png",
                full_page=True,
                animations="disabled",
            )
            assert measured["count"] > 0 and measured["figures"] > 0, (name, path, measured)
            assert measured["min"] >= MIN_TEXT_PX, (name, path, measured)
            assert measured["overflow"] == [], (name, path, measured)
        # The three equipment items start alike: each label reads in full.
        layout = "chart-compact" if name == "phone" else "chart-wide"
        texts = page.evaluate(
            "(layout) => Array.from(document.querySelectorAll(`svg.${layout} text.label`), "
            "t => Array.from(t.querySelectorAll('tspan'), s => s.textContent).join(' '))",
            layout,
        )
        assert len(set(texts)) == len(texts) >= 4, texts
        assert all(not t.endswith("…") for t in texts)
        context.close()
