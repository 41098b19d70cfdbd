"""A citizen's whole path on a phone: scan the desk poster, answer SIPAS 2023, get a receipt.

Drives Debian's chromium (never a downloaded browser) through Playwright against the real
application served live, on SQLite and on PostgreSQL. The poster's QR code is decoded
from a rendered image of the poster, as a phone camera would, to get the survey URL.
Screenshots go to /tmp/phone-*.png.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from survey_app.demo import load_demo
from survey_app.extensions import db
from survey_app.models import Desk, QuestionnaireVersion, Submission
from survey_app.services import dossier_codes, organisation, posters, questionnaires
from tests.browser.conftest import press, serve

zxingcpp = pytest.importorskip("zxingcpp")

ROOT = Path(__file__).resolve().parents[2]
DESK = "HT-STP-01"
SCREENSHOTS = Path("/tmp")


@dataclass
class LiveServer:
    app: Flask
    base_url: str


@pytest.fixture
def live_server(make_app: Callable[..., Flask]) -> Iterator[LiveServer]:
    """The real app (CSRF on) with the questionnaires and the demo province, served live."""
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        db.create_all()
        for path in sorted((ROOT / "questionnaires").glob("*.yaml")):
            questionnaires.load_file(path)
        load_demo()
        db.session.commit()
    with serve(app) as base_url:
        # The poster and dossier links must point at this server, as they point at the
        # public address in production.
        app.config["PUBLIC_BASE_URL"] = base_url
        yield LiveServer(app, base_url)


def phone_context(browser, *, javascript: bool = True):  # type: ignore[no-untyped-def]
    """A Pixel 5 sized, touch, Vietnamese-locale browser context."""
    return browser.new_context(
        viewport={"width": 393, "height": 727},
        screen={"width": 393, "height": 851},
        device_scale_factor=2.75,
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (Linux; Android 11; Pixel 5) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
        ),
        locale="vi-VN",
        java_script_enabled=javascript,
    )


def scan_poster(browser, server: LiveServer) -> str:  # type: ignore[no-untyped-def]
    """Render the desk's poster in the browser, photograph it and decode its QR code."""
    with server.app.app_context():
        desk = organisation.desk_by_code(DESK)
        svg = posters.poster_svg(desk)
    page = browser.new_page(viewport={"width": 794, "height": 1123})  # A4 at 96 DPI
    try:
        page.set_content(
            '<html><body style="margin:0">'
            + svg.split("?>", 1)[1].replace(
                'width="210mm" height="297mm"', 'width="794" height="1123"'
            )
            + "</body></html>"
        )
        shot = SCREENSHOTS / "phone-poster.png"
        page.screenshot(path=str(shot))
    finally:
        page.close()
    from PIL import Image

    decoded = [r.text for r in zxingcpp.read_barcodes(Image.open(shot))]
    assert len(decoded) == 1, decoded
    return decoded[0]


def answer_step(page) -> None:  # type: ignore[no-untyped-def]
    """Answer each visible question of the step shown (skip logic may reveal more)."""
    for _ in range(5):
        unanswered = page.evaluate(
            """() => {
              const form = document.querySelector('form.survey');
              const visible = el => !!(el.offsetWidth || el.offsetHeight ||
                                       el.getClientRects().length);
              const names = new Set();
              for (const el of form.querySelectorAll('input[type=radio], input[type=checkbox]'))
                if (visible(el)) names.add(el.name);
              const open = [];
              for (const n of names)
                if (!form.querySelector(`input[name="${n}"]:checked`)) open.push(n);
              return open;
            }"""
        )
        if not unanswered:
            break
        for field in unanswered:
            options = page.locator(f'form.survey input[name="{field}"]')
            values = options.evaluate_all("els => els.map(e => e.value)")
            # Mostly satisfied (4), "Có" (1) for yes/no so follow-up questions appear.
            choice = "4" if "4" in values else values[0]
            page.locator(f'label[for="{field.replace("a_", "q-", 1)}-{choice}"]').tap()
    for box in page.locator("form.survey input[inputmode]").all():
        if box.is_visible() and not box.input_value():
            box.fill("1")
    for area in page.locator("form.survey textarea").all():
        if area.is_visible() and not area.input_value():
            area.fill("Cán bộ hướng dẫn tận tình, chu đáo.")


def answer_every_step(page, name: str) -> str:  # type: ignore[no-untyped-def]
    """Answer each visible question on each step, pass the review (where every part is
    listed) and send; return the receipt."""
    for step in range(1, 30):
        page.wait_for_selector("form.survey")
        answer_step(page)
        button = page.locator('form.survey button[value="next"]')
        if page.locator("form.review").count():
            assert button.inner_text().strip() in ("Gửi phiếu", "Send")  # the form's language
            assert page.locator("form.review section.part").count() == 11
        if step == 1 or page.locator("form.review").count():
            # First and last steps only: full-page shots at 2.75 DPR are slow.
            shot = SCREENSHOTS / f"phone-{name}-step{step}.png"
            page.screenshot(path=str(shot), full_page=True)
        press(page, button)
        if "/r/" in page.url:
            page.screenshot(path=str(SCREENSHOTS / f"phone-{name}-receipt.png"), full_page=True)
            return page.locator(".receipt strong").inner_text().strip()
        assert page.locator("#errors").count() == 0, page.locator("#errors").inner_text()
    raise AssertionError("the form never reached the receipt")


def stored(server: LiveServer) -> list[Submission]:
    with server.app.app_context():
        rows = db.session.scalars(select(Submission)).all()
        for row in rows:
            # Load what the assertions read before the session closes.
            _ = (row.desk.code, row.questionnaire_version.version, len(row.answers))
        db.session.expunge_all()
        return list(rows)


def assert_one_sipas_submission(
    server: LiveServer, receipt: str, route: str, dossier_code: str | None = None
) -> None:
    rows = stored(server)
    assert len(rows) == 1
    row = rows[0]
    assert row.receipt == receipt
    assert row.route == route
    assert row.desk.code == DESK
    assert row.dossier_code == dossier_code
    with server.app.app_context():
        version = db.session.get(QuestionnaireVersion, row.questionnaire_version_id)
        assert version is not None
        assert (version.questionnaire_id, version.version) == ("sipas-2023", "2023.1")
    assert len(row.answers) >= 33  # the national SIPAS 2023 form has 33-39 items


def test_citizen_scans_the_poster_and_submits_sipas_on_a_phone(
    browser,
    live_server: LiveServer,  # type: ignore[no-untyped-def]
) -> None:
    url = scan_poster(browser, live_server)
    with live_server.app.app_context():
        assert url == posters.desk_url(organisation.desk_by_code(DESK))
    context = phone_context(browser)
    try:
        page = context.new_page()
        page.goto(url)
        assert page.locator("html").get_attribute("lang") == "vi"
        # Fits the phone: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 393
        receipt = answer_every_step(page, "qr")
    finally:
        context.close()
    assert_one_sipas_submission(live_server, receipt, "desk_qr")


def test_citizen_without_javascript_submits_the_same_form(
    browser,
    live_server: LiveServer,  # type: ignore[no-untyped-def]
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_context(browser, javascript=False)
    try:
        page = context.new_page()
        page.goto(url)
        receipt = answer_every_step(page, "nojs")
    finally:
        context.close()
    assert_one_sipas_submission(live_server, receipt, "desk_qr")


def test_citizen_answers_through_a_dossier_code_once(
    browser,
    live_server: LiveServer,  # type: ignore[no-untyped-def]
) -> None:
    with live_server.app.app_context():
        token = dossier_codes.issue(DESK, "000.00.23.H23-251123-0001")
        db.session.commit()
        url = dossier_codes.survey_url(token)
        code = dossier_codes.verify(token).code
        receipt_qr = posters.qr_svg(url)
        assert db.session.scalar(select(Desk.code).filter_by(code=DESK)) == DESK
    context = phone_context(browser)
    try:
        page = context.new_page()
        # The receipt's QR, photographed, gives the same link.
        page.set_content(f'<body style="margin:0;background:#fff">{receipt_qr}</body>')
        page.screenshot(path=str(SCREENSHOTS / "phone-receipt-qr.png"))
        from PIL import Image

        decoded = [
            r.text for r in zxingcpp.read_barcodes(Image.open(SCREENSHOTS / "phone-receipt-qr.png"))
        ]
        assert decoded == [url]
        page.goto(url)
        receipt = answer_every_step(page, "dossier")
        # The code is spent: opening the link again says so and offers no form.
        page.goto(url)
        assert page.locator("form.survey").count() == 0
        assert "đã được dùng" in page.content()
        page.screenshot(path=str(SCREENSHOTS / "phone-dossier-spent.png"), full_page=True)
    finally:
        context.close()
    assert_one_sipas_submission(live_server, receipt, "dossier", code)
