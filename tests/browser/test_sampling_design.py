"""An analyst's path on the sampling design page: sign in, see the frame of returned
dossiers, stratify by agency, set the probabilities, save, and see the next returned
dossiers selected. Debian's chromium through Playwright, on SQLite and PostgreSQL;
screenshots go to /tmp/sampling-*.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from survey_app.extensions import db
from survey_app.models import SampledDossier
from survey_app.services import organisation, sampling
from tests.browser.conftest import serve
from tests.sampling_support import API_SECRET, event, post_ok, seed_sampling
from tests.staff_support import PASSWORD, add_user

SCREENSHOTS = Path("/tmp")


@pytest.fixture
def live(make_app: Callable[..., Flask]) -> Iterator[tuple[Flask, str]]:
    app = make_app(WTF_CSRF_ENABLED=True, ONESTOP_API_SECRET=API_SECRET)
    with app.app_context():
        db.create_all()
    seed_sampling(app)
    with app.app_context():
        add_user("analyst", "analyst")
    post_ok(
        app.test_client(),
        [
            event("HS-1"),
            event("HS-2", desk="TP-2", channel="online"),
            event("HS-3", desk="XD-1", field="Xây dựng"),
        ],
    )
    with serve(app) as url:
        yield app, url


def test_analyst_stratifies_sets_probabilities_and_saves_the_design(
    live: tuple[Flask, str],
    browser,  # type: ignore[no-untyped-def]
    database_url: str,
) -> None:
    app, base_url = live
    backend = "pg" if database_url.startswith("postgresql") else "sqlite"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{base_url}/staff/campaigns/C")
    page.fill("input[name=username]", "analyst")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/campaigns/C")
    page.get_by_role("link", name="Thiết kế chọn mẫu").click()
    page.wait_for_url("**/staff/campaigns/C/sampling")
    assert page.locator("h1").inner_text() == "Thiết kế chọn mẫu hồ sơ"
    # No strata yet: the frame is one stratum of the three dossiers returned.
    assert page.locator("#strata-table tbody tr").count() == 1
    assert "3" in page.locator("#strata-table tbody tr").inner_text()
    seed = page.input_value("#seed")
    assert sampling.SEED_PATTERN.fullmatch(seed)

    page.check("#strata-agency")
    page.get_by_role("button", name="Vẽ lại bảng tầng").click()
    page.wait_for_load_state()
    rows = page.locator("#strata-table tbody tr")
    assert rows.count() == 2
    assert "Sở Tư pháp (P-TP)" in rows.nth(0).inner_text()
    assert rows.nth(0).locator("td.num").first.inner_text() == "2"
    page.fill("input[data-stratum='P-TP']", "1")
    page.fill("#default_probability", "0,25")
    page.check("#method-systematic")
    page.check("#class-on_time")
    page.fill("#calibration_formula", "~agency + channel")
    page.select_option("#calibration_calfun", "raking")
    page.fill("#trim_low", "0,5")
    page.fill("#trim_high", "3")
    page.screenshot(path=str(SCREENSHOTS / f"sampling-form-{backend}.png"), full_page=True)
    page.get_by_role("button", name="Kiểm tra và lưu").click()
    page.wait_for_load_state()
    assert "Đã lưu thiết kế chọn mẫu." in page.content()
    assert page.input_value("input[data-stratum='P-TP']") == "1"
    assert page.input_value("#default_probability") == "0,25"
    assert page.is_checked("#method-systematic") and page.is_checked("#class-on_time")
    assert page.input_value("#seed") == seed

    with app.app_context():
        design = sampling.current(organisation.campaign_by_code("C"))
        assert design is not None
        assert design.to_json() == {
            "strata": ["agency"],
            "probabilities": {"P-TP": 1.0},
            "default_probability": 0.25,
            "method": "systematic",
            "seed": seed,
            "nonresponse_classes": ["on_time"],
            "calibration": {"formula": "~agency + channel", "calfun": "raking", "bounds": None},
            "trim": [0.5, 3.0],
        }
    # The design now selects: a dossier of P-TP (pi = 1) is invited.
    answer = post_ok(app.test_client(), event("HS-4", desk="TP-2"))
    assert answer["selected"] is True and answer["inclusion_probability"] == 1.0
    page.reload()
    first = page.locator("#strata-table tbody tr").nth(0).inner_text()
    assert "Sở Tư pháp (P-TP)" in first and "\t3\t1\t" in first
    with app.app_context():
        assert db.session.query(SampledDossier).count() == 1

    # A bad probability is refused next to the table, and nothing changes.
    page.fill("input[data-stratum='P-XD']", "1,5")
    page.get_by_role("button", name="Kiểm tra và lưu").click()
    page.wait_for_load_state()
    assert "Chưa lưu: vui lòng sửa 1 lỗi dưới đây" in page.content()
    assert "Xác suất chọn của tầng “P-XD” phải là một số lớn hơn 0" in page.content()
    page.screenshot(path=str(SCREENSHOTS / f"sampling-refused-{backend}.png"), full_page=True)
    context.close()
