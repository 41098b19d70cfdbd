"""The staff basics in a real browser, at 1366x768 and 360x740: the weighting preview and its
confirmation, an administrator's password reset, a questionnaire previewed as a citizen
(steps drawn in place, nothing kept in the browser), the poster preview and an import
undone. Screenshots go to /tmp/staff-basics-*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.browser.conftest import press, serve
from tests.dashboard_setup import PASSWORD, province

SCREENSHOTS = Path("/tmp")
SIZES = {"laptop": (1366, 768), "phone": (360, 740)}


@pytest.fixture
def base_url(make_app: Callable[..., Flask]) -> Iterator[str]:
    app = make_app(WTF_CSRF_ENABLED=True)
    from survey_app.extensions import db
    from survey_app.models import Campaign
    from survey_app.services import paper_import
    from tests.staff_support import paper_csv

    with app.app_context():
        db.create_all()
    province(app, 120)
    with app.app_context():
        campaign = db.session.scalars(db.select(Campaign).filter_by(code="SIPAS-2026")).one()
        body = paper_csv("SIPAS-2026", [("1", "STP-01"), ("2", "STP-02")], "2026-03-02")
        paper_import.import_file(campaign, "phieu-giay.csv", body)
        db.session.commit()
    with serve(app) as url:
        yield url


def _sign_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.context.clear_cookies()
    page.goto(f"{base_url}/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _fits(page) -> None:  # type: ignore[no-untyped-def]
    width = page.evaluate("window.innerWidth")
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1


@pytest.mark.parametrize("size", list(SIZES))
def test_staff_basics_work_in_a_browser_at_laptop_and_phone_sizes(
    base_url: str,
    browser,
    size: str,  # type: ignore[no-untyped-def]
) -> None:
    width, height = SIZES[size]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="vi-VN")
    page = context.new_page()
    campaign = f"{base_url}/staff/campaigns/SIPAS-2026"

    # The weighting preview, then the confirmation.
    _sign_in(page, base_url, "analyst")
    page.goto(f"{campaign}/weighting")
    page.check("input[name=calibration][value=poststratify]")
    page.set_input_files(
        "input[name=margins]",
        files=[
            {"name": "g.csv", "mimeType": "text/csv", "buffer": b"gender,count\n1,7000\n2,3000\n"}
        ],
    )
    page.click("form.weighting button[type=submit]")
    assert "Xem trước: cài đặt mới thay đổi gì (chưa lưu)" in page.content()
    _fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"staff-basics-weighting-{size}.png"), full_page=True)
    page.click("form.confirm button[type=submit]")
    assert "Đã lưu cài đặt" in page.content()

    # The questionnaire as a citizen sees it: a step drawn in place, nothing kept.
    page.goto(f"{base_url}/staff/questionnaires")
    page.click("text=Xem trước như người dân")
    assert "Xem trước — không lưu" in page.content()
    page.screenshot(path=str(SCREENSHOTS / f"staff-basics-preview-{size}.png"), full_page=True)
    for radio in page.query_selector_all("fieldset.item input[type=radio][value='4']"):
        radio.check()
    press(page, page.locator("button[value=next]"), tap=False)
    assert "Phần 2/" in page.content() and "Xem trước — không lưu" in page.content()
    kept = page.evaluate(
        "Object.keys(localStorage).filter(k => k.indexOf('sipas-progress:') === 0)"
    )
    assert kept == []

    # The poster, and an import undone.
    page.goto(f"{base_url}/staff/desks/STP-01/poster")
    page.wait_for_function("document.querySelector('img.poster-preview').naturalWidth > 0")
    _fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"staff-basics-poster-{size}.png"), full_page=True)
    _sign_in(page, base_url, "admin")
    page.goto(f"{campaign}/import")
    page.click("text=Hoàn tác…")
    assert "Hoàn tác sẽ xoá hẳn 2 phiếu giấy" in page.content()
    _fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"staff-basics-undo-{size}.png"), full_page=True)
    page.click("text=Xoá 2 phiếu của lần nhập này")
    assert "đã xoá 2 phiếu giấy" in page.content()

    # An administrator resets the analyst's password: shown once.
    page.goto(f"{base_url}/staff/users/analyst/password")
    page.click("form button.danger")
    assert page.locator("code.temporary-password").inner_text().count("-") == 3
    _fits(page)
    page.screenshot(path=str(SCREENSHOTS / f"staff-basics-reset-{size}.png"), full_page=True)
    context.close()
