"""Dossier codes at the counter, in a browser: an official prints a day's slips, a citizen
types one slip's code on a phone (in lowercase, with spaces, after a typo) and answers.

Debian's chromium through Playwright against the live app; the PDF downloaded is drawn by
pdftoppm and its QR codes read by zxing-cpp. Screenshots go to /tmp/counter-*.png.
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Submission
from survey_app.services import accounts, dossier_codes
from tests.browser import test_phone_flow
from tests.browser.test_phone_flow import (
    DESK,
    SCREENSHOTS,
    LiveServer,
    answer_every_step,
    phone_context,
)
from tests.pdf_support import page_images, pdf_text, qr_codes

live_server = test_phone_flow.live_server  # the same live app, as a fixture of this module

REFS = ["000.00.23.H23-251203-0101", "000.00.23.H23-251203-0102", "000.00.23.H23-251203-0103"]
CODE = re.compile(r"[2-9B-X]{5}-[2-9B-X]{5}")


def test_an_official_prints_slips_and_a_citizen_types_a_code_on_a_phone(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
    tmp_path: Path,
) -> None:
    with live_server.app.app_context():
        accounts.create_user("canbo", "mat-khau-thu-nghiem", "officer", "HT-STP")
        db.session.commit()
    desk_page = f"{live_server.base_url}/staff/desks/{DESK}"

    staff = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    try:
        page = staff.new_page()
        page.goto(f"{live_server.base_url}/staff/login")
        page.fill("#username", "canbo")
        page.fill("#password", "mat-khau-thu-nghiem")
        page.click("form button[type=submit]")
        page.goto(desk_page)
        page.fill("#dossier_ref", "000.00.23.H23-251203-0001")
        page.get_by_role("button", name="Phát mã", exact=True).click()
        shown = page.locator(".slip-code").inner_text()
        assert CODE.fullmatch(shown)
        assert page.locator("#dossier_ref").input_value() == ""  # ready for the next one
        # The link is there to read, not to click: no anchor leads to it.
        assert page.locator(f'a[href*="/c/{shown}"]').count() == 0
        assert page.locator(f'code:has-text("/c/{shown}")').count() == 1
        page.screenshot(path=str(SCREENSHOTS / "counter-desk-slip.png"), full_page=True)

        page.get_by_role("link", name="In phiếu cho danh sách hồ sơ trong ngày").click()
        page.fill("#dossiers", "\n".join(REFS))
        with page.expect_download() as download:
            page.get_by_role("button", name="Phát mã và tải phiếu (PDF)").click()
        pdf = Path(download.value.path()).read_bytes()
        page.screenshot(path=str(SCREENSHOTS / "counter-batch-form.png"), full_page=True)
    finally:
        staff.close()

    [png] = page_images(pdf, tmp_path, name="counter")
    (SCREENSHOTS / "counter-slips.png").write_bytes(png.read_bytes())
    urls = qr_codes(png)
    assert len(urls) == 3
    printed = CODE.findall(pdf_text(pdf, tmp_path))
    assert sorted(printed) == sorted(url.rsplit("/", 1)[1] for url in urls)
    code = urls[1].rsplit("/", 1)[1]
    with live_server.app.app_context():
        assert dossier_codes.verify(code).code == dossier_codes.stored_hash(REFS[1])

    phone = phone_context(browser)
    try:
        page = phone.new_page()
        page.goto(live_server.base_url + "/")
        box = page.locator("#ma")
        # The box and its button are on the first screen of a phone, with no scrolling.
        button = page.get_by_role("button", name="Mở phiếu đánh giá").bounding_box()
        assert button is not None and button["y"] + button["height"] <= 727
        page.screenshot(path=str(SCREENSHOTS / "counter-phone-landing.png"))
        # A typo first: the same page says so, keeping what was typed.
        typo = code[:2] + ("3" if code[2] != "3" else "4") + code[3:]
        box.fill(typo)
        page.get_by_role("button", name="Mở phiếu đánh giá").click()
        assert "có thể một ký tự bị gõ nhầm" in page.locator("#ma-err").inner_text()
        assert page.locator("#ma").input_value() == typo
        page.screenshot(path=str(SCREENSHOTS / "counter-phone-typo.png"), full_page=True)
        # Then as people type it: lowercase, with spaces.
        page.locator("#ma").fill(" ".join(code.replace("-", "").lower()))
        page.get_by_role("button", name="Mở phiếu đánh giá").click()
        page.wait_for_selector("form.survey")
        assert page.url == urls[1]
        page.screenshot(path=str(SCREENSHOTS / "counter-phone-form.png"))
        receipt = answer_every_step(page, "counter")
    finally:
        phone.close()
    with live_server.app.app_context():
        submission = db.session.scalars(select(Submission).filter_by(receipt=receipt)).one()
        assert submission.dossier_code == dossier_codes.stored_hash(REFS[1])
