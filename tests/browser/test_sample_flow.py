"""An analyst's path through the probability sample: the dashboard's block, the sample page,
an agency's tree chosen from the list (the page's script submits it), walk-in against
sampled, the planner with a new target, and the copy of the plan into the design.

Debian's chromium through Playwright against the live application, on SQLite and
PostgreSQL; screenshots go to /tmp/sample-*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.browser.conftest import serve
from tests.dashboard_setup import PASSWORD
from tests.sample_support import CAMPAIGN, province

SCREENSHOTS = Path("/tmp")


@pytest.fixture
def served(make_app: Callable[..., Flask]) -> Iterator[tuple[Flask, str]]:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey_app.extensions import db

    with app.app_context():
        db.create_all()
    province(app)
    with serve(app) as url:
        yield app, url


def test_analyst_reads_the_sample_and_copies_the_plan(
    served: tuple[Flask, str],
    browser,
    database_url: str,  # type: ignore[no-untyped-def]
) -> None:
    app, base_url = served
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base_url}/staff/campaigns/{CAMPAIGN}/dashboard")
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/{CAMPAIGN}/dashboard")
    assert "62,5%" in page.locator("#sample-h + p").inner_text()

    page.click("text=Chỉ số ước lượng từ mẫu và tỷ lệ trả lời theo cơ quan, quầy, tầng")
    page.wait_for_url("**/sample")
    assert page.locator(".overall .big").inner_text() == "62,5%"
    page.select_option("select#agency", "B")
    page.wait_for_url("**/sample?agency=B")
    assert page.locator("h2#tree-h").inner_text() == "Cây chỉ số của Sở B"
    page.screenshot(path=str(SCREENSHOTS / f"sample-page-{backend}.png"), full_page=True)

    page.click("text=So sánh phiếu tự nguyện với mẫu")
    page.wait_for_url("**/sample/compare")
    assert page.locator("tr.flag").count() >= 4
    page.screenshot(path=str(SCREENSHOTS / f"sample-compare-{backend}.png"), full_page=True)

    page.goto(f"{base_url}/staff/campaigns/{CAMPAIGN}/sample/plan")
    page.fill("input[name=target]", "4")
    page.click("text=Tính lại")
    page.wait_for_url("**/sample/plan?target=4**")
    page.screenshot(path=str(SCREENSHOTS / f"sample-plan-{backend}.png"), full_page=True)
    page.click("text=Chép xác suất theo kế hoạch vào thiết kế chọn mẫu")
    page.wait_for_url("**/sample/plan?target=4**")
    assert "Đã chép xác suất chọn theo kế hoạch" in page.locator(".flash").first.inner_text()

    from survey_app.extensions import db
    from survey_app.models import SamplingDesign

    with app.app_context():
        design = db.session.scalar(select(SamplingDesign))
        assert design is not None and len(design.probabilities) == 12
