"""Phones behind one address on a real browser, with the citizen form's limits on.

Every phone here is 127.0.0.1, as phones on a centre's Wi-Fi share its public address.
The limiter's clock is moved by the test (the server runs in this process), so "a minute
later" takes no time. Screenshots go to /tmp/limits-*.png.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import limits.storage.memory
import pytest
from flask import Flask
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Submission
from tests.browser.conftest import serve
from tests.citizen_support import Survey, running_survey

SCREENSHOTS = Path("/tmp")
SEND = "Gửi phiếu"


@dataclass
class Clock:
    now: float

    def time(self) -> float:
        return self.now


@dataclass
class Live:
    app: Flask
    url: str
    survey: Survey
    clock: Clock


def _live(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch, **limits_: str):  # type: ignore[no-untyped-def]
    clock = Clock(time.time())
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    app = make_app(WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True, **limits_)
    with app.app_context():
        db.create_all()
    return app, running_survey(app), clock


@pytest.fixture
def busy_desk(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """The real limits, but a desk that stores one form a minute."""
    app, survey, clock = _live(make_app, monkeypatch, RATELIMIT_DESK="1 per minute")
    with serve(app) as base_url:
        yield Live(app, f"{base_url}/s/{survey.public_id}", survey, clock)


@pytest.fixture
def centre(make_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """The real limits, at their defaults."""
    app, survey, clock = _live(make_app, monkeypatch)
    with serve(app) as base_url:
        yield Live(app, f"{base_url}/s/{survey.public_id}", survey, clock)


def _phone(browser):  # type: ignore[no-untyped-def]
    return browser.new_context(
        viewport={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
    )


def _answer_page(page) -> None:  # type: ignore[no-untyped-def]
    """Tick "4" (or the first option) for every visible choice question, fill the rest."""
    for _ in range(5):  # skip logic may reveal questions as answers are picked
        open_names = page.evaluate(
            """() => {
              const form = document.querySelector('form.survey');
              const names = new Set();
              for (const el of form.querySelectorAll('input[type=radio], input[type=checkbox]'))
                if (el.getClientRects().length) names.add(el.name);
              return [...names].filter(n => !form.querySelector(`input[name="${n}"]:checked`));
            }"""
        )
        if not open_names:
            break
        for name in open_names:
            values = page.locator(f'form.survey input[name="{name}"]').evaluate_all(
                "els => els.map(e => e.value)"
            )
            choice = "4" if "4" in values else values[0]
            page.locator(f'label[for="{name.replace("a_", "q-", 1)}-{choice}"]').tap()
    for box in page.locator("form.survey input[inputmode]").all():
        if box.is_visible() and not box.input_value():
            box.fill("1")


def _to_last_page(page, url: str):  # type: ignore[no-untyped-def]
    """Open the form and answer every page up to the one that sends (the review); return
    its send button."""
    page.goto(url)
    for _ in range(30):
        _answer_page(page)
        button = page.locator('form.survey button[value="next"]')
        if button.inner_text().strip() == SEND:
            return button
        with page.expect_navigation():
            button.tap()
        assert page.locator("#errors").count() == 0
    raise AssertionError("the form has no last page")


def _stored(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Submission.id))) or 0


def test_a_full_desk_keeps_the_citizen_on_the_review_with_every_answer(
    browser,  # type: ignore[no-untyped-def]
    busy_desk: Live,
) -> None:
    context = _phone(browser)
    try:
        first = context.new_page()
        send = _to_last_page(first, busy_desk.url)
        with first.expect_navigation():
            send.tap()
        assert "/r/" in first.url
        page = context.new_page()
        send = _to_last_page(page, busy_desk.url)
        with page.expect_navigation():
            send.tap()
        assert page.locator(".notice").inner_text().startswith("Có quá nhiều phiếu")
        page.screenshot(path=str(SCREENSHOTS / "limits-desk-full.png"), full_page=True)
        # Still the page with the send button (the review), every answer carried.
        assert page.locator('form.survey button[value="next"]').inner_text().strip() == SEND
        assert page.locator('form.survey input[type=hidden][name^="a_"]').count() >= 33
        assert page.locator('form.survey input[type=hidden][name="a_I.1.1"]').count() == 1
        assert "Quay lại của trình duyệt" not in page.content()
        busy_desk.clock.now += 61
        with page.expect_navigation():
            page.locator('form.survey button[value="next"]').tap()
        assert "/r/" in page.url
        page.screenshot(path=str(SCREENSHOTS / "limits-desk-full-then-stored.png"))
    finally:
        context.close()
    assert _stored(busy_desk.app) == 2


def test_phones_behind_one_address_all_send_their_forms(
    browser,  # type: ignore[no-untyped-def]
    centre: Live,
) -> None:
    """Four phones on one address, each filling the whole form, page by page in turn."""
    contexts = [_phone(browser) for _ in range(4)]
    try:
        pages = [context.new_page() for context in contexts]
        sends = [_to_last_page(page, centre.url) for page in pages]
        for page, send in zip(pages, sends, strict=True):
            with page.expect_navigation():
                send.tap()
            assert "/r/" in page.url, page.content()
    finally:
        for context in contexts:
            context.close()
    assert _stored(centre.app) == 4
