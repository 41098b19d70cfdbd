"""A citizen on a phone whose network drops: nothing answered is lost, nothing is stored twice.

Debian's chromium on a 360x740 phone viewport drives the live application (SQLite and
PostgreSQL). Offline mode (``context.set_offline``) cuts the network at a step and at the
final send; citizen.js keeps the answers on the phone, says so, and sends again with the
same submission id when the network is back. Re-opening the desk's poster address
mid-form offers to resume; Back from the receipt loads the form's address with a GET and
never re-posts. Without JavaScript the form works as before. Screenshots go to
/tmp/offline-*.png.
"""

from __future__ import annotations

import json
from pathlib import Path

from survey_app.services import dossier_codes
from tests.browser.conftest import press
from tests.browser.test_phone_flow import (
    DESK,
    LiveServer,
    answer_every_step,
    answer_step,
    live_server,
    scan_poster,
    stored,
)

__all__ = ["live_server"]  # the fixture, imported to be used here

SCREENSHOTS = Path("/tmp")
PROGRESS = "sipas-progress:"
VISIBLE = {"state": "visible", "timeout": 15000}


def phone_360(browser, *, javascript: bool = True):  # type: ignore[no-untyped-def]
    """A small Android phone: 360x740 CSS pixels, touch, Vietnamese locale."""
    return browser.new_context(
        viewport={"width": 360, "height": 740},
        screen={"width": 360, "height": 740},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        user_agent=(
            "Mozilla/5.0 (Linux; Android 10; SM-A105F) AppleWebKit/537.36 "
            "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
        ),
        locale="vi-VN",
        java_script_enabled=javascript,
    )


def step_of(page) -> int:  # type: ignore[no-untyped-def]
    return int(page.locator("form.survey input[name=step]").get_attribute("value"))


def wait_for_step(page, n: int) -> None:  # type: ignore[no-untyped-def]
    """Wait until step ``n`` (0-based) is drawn (a selector: the page's CSP forbids eval)."""
    page.wait_for_selector(f"form.survey input[name=step][value='{n}']", state="attached")


def kept(page) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    """What citizen.js keeps in the phone's storage, by key."""
    raw = page.evaluate(
        f"""() => Object.fromEntries(Object.keys(localStorage)
              .filter(k => k.startsWith({json.dumps(PROGRESS)}))
              .map(k => [k, localStorage.getItem(k)]))"""
    )
    return {k: json.loads(v) for k, v in raw.items()}


def answers_sent(page) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every answer the form on the page would send (item code -> values)."""
    pairs = page.evaluate(
        """() => [...new FormData(document.querySelector('form.survey'))]
              .filter(([n, v]) => n.startsWith('a_') && v.trim() !== '')"""
    )
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name[2:], []).append(value)
    return {code: sorted(values) for code, values in out.items()}


def as_sent(stored_answers: dict[str, object]) -> dict[str, list[str]]:
    """A stored answers document in the form's terms (what the browser posted)."""
    return {
        code: sorted(str(v) for v in value) if isinstance(value, list) else [str(value)]
        for code, value in stored_answers.items()
    }


def go_to_step(page, n: int) -> None:  # type: ignore[no-untyped-def]
    """Answer and go on until step ``n`` (0-based) is shown."""
    while step_of(page) < n:
        answer_step(page)
        press(page, page.locator('form.survey button[value="next"]'))
        assert page.locator("#errors").count() == 0


def record_posts(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The URLs of the page's navigations that carry a POST body, as they happen."""
    posts: list[str] = []
    page.on(
        "request",
        lambda r: posts.append(r.url) if r.method == "POST" and r.is_navigation_request() else None,
    )
    return posts


def test_network_drops_at_a_step_and_at_the_send_and_every_answer_is_stored_once(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser)
    try:
        page = context.new_page()
        navigations = record_posts(page)
        page.goto(url)
        go_to_step(page, 4)
        answer_step(page)
        before = answers_sent(page)
        context.set_offline(True)
        page.locator('form.survey button[value="next"]').tap()
        offline = page.wait_for_selector("#offline", **VISIBLE)
        assert offline is not None
        assert "mất kết nối mạng" in offline.inner_text()
        assert "tự gửi lại" in offline.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "offline-step.png"))
        # Still on the same step with every answer; the buttons work again.
        assert step_of(page) == 4
        assert answers_sent(page) == before
        assert page.locator('form.survey button[value="next"]').is_enabled()
        [record] = kept(page).values()
        assert record["step"] == 4
        assert len(record["fields"]) == sum(len(v) for v in before.values())  # type: ignore[arg-type]

        context.set_offline(False)  # the network is back: the step goes through by itself
        wait_for_step(page, 5)
        assert page.locator("#offline").is_hidden()

        while page.locator("form.review").count() == 0:  # to the review, where "Gửi phiếu" is
            go_to_step(page, step_of(page) + 1)
        answer_step(page)
        final = answers_sent(page)
        context.set_offline(True)
        page.locator('form.survey button[value="next"]').tap()
        page.wait_for_selector("#offline [data-offline-final]", **VISIBLE)
        assert page.locator("#offline [data-offline-step]").is_hidden()
        page.screenshot(path=str(SCREENSHOTS / "offline-send.png"))
        assert stored(live_server) == []
        assert answers_sent(page) == final

        context.set_offline(False)
        page.wait_for_url("**/r/*", timeout=15000)
        receipt = page.locator(".receipt strong").inner_text().strip()
        assert kept(page) == {}  # nothing of the answers stays on the phone

        # Back from the receipt: the form's own address, fetched with a GET, a new form.
        page.go_back()
        page.wait_for_selector("form.survey")
        assert page.url == url
        assert step_of(page) == 0
        assert page.locator("#resume").is_hidden()
        assert page.locator("form.survey input:checked").count() == 0
        assert navigations == []  # no POST was ever a navigation: nothing to resend
    finally:
        context.close()

    [row] = stored(live_server)
    assert row.receipt == receipt
    assert as_sent(row.answers) == final
    assert len(row.answers) >= 33


def test_reopening_the_poster_mid_form_offers_to_resume_every_answer(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser)
    try:
        page = context.new_page()
        page.goto(url)
        go_to_step(page, 3)
        first = page.locator("form.survey input[type=radio][value='2']").first
        first.check()  # one answer on this step, not sent yet
        before = answers_sent(page)
        uid = page.locator("form.survey input[name=uid]").get_attribute("value")

        page.goto(url)  # the poster scanned again
        page.wait_for_selector("#resume", **VISIBLE)
        assert step_of(page) == 0
        assert "phần 4/" in page.locator("#resume").inner_text()
        page.screenshot(path=str(SCREENSHOTS / "offline-resume-offer.png"))
        # The offer is seen without scrolling on a 360x740 phone.
        box = page.locator("#resume [data-resume-yes]").bounding_box()
        assert box is not None and box["y"] + box["height"] <= 740
        press(page, page.locator("#resume [data-resume-yes]"))
        assert step_of(page) == 3
        assert page.locator("form.survey input[name=uid]").get_attribute("value") == uid
        assert answers_sent(page) == before

        page.reload()  # a reload resumes by itself
        wait_for_step(page, 3)
        assert answers_sent(page) == before

        # Back and Forward move between steps, keeping every answer, without a POST page.
        navigations = record_posts(page)
        page.go_back()
        wait_for_step(page, 2)
        page.go_forward()
        wait_for_step(page, 3)
        assert answers_sent(page) == before
        # Two Backs in a row, the second while the first step is still on its way.
        page.go_back()
        page.go_back()
        wait_for_step(page, 1)
        page.go_forward()
        page.go_forward()
        wait_for_step(page, 3)
        assert page.evaluate("history.state.step") == 3
        assert answers_sent(page) == before
        assert navigations == []

        receipt = answer_every_step(page, "offline-resumed")
        assert kept(page) == {}
    finally:
        context.close()
    [row] = stored(live_server)
    assert row.receipt == receipt
    assert row.uid == uid
    assert all(as_sent(row.answers)[code] == values for code, values in before.items())


def test_starting_again_from_the_offer_forgets_the_unfinished_answers(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser)
    try:
        page = context.new_page()
        page.goto(url)
        go_to_step(page, 2)
        page.goto(url)
        page.wait_for_selector("#resume", **VISIBLE)
        page.locator("#resume [data-resume-no]").tap()
        assert page.locator("#resume").is_hidden()
        assert kept(page) == {}
        page.reload()
        assert page.locator("#resume").is_hidden()
        assert step_of(page) == 0
    finally:
        context.close()
    assert stored(live_server) == []


def test_without_javascript_the_phone_form_works_as_before(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser, javascript=False)
    try:
        page = context.new_page()
        page.goto(url)
        # The boxes only the script uses stay hidden; the form posts page by page.
        assert page.locator("#resume").is_hidden()
        assert page.locator("#offline").is_hidden()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        receipt = answer_every_step(page, "offline-nojs")
    finally:
        context.close()
    [row] = stored(live_server)
    assert row.receipt == receipt


def test_progress_older_than_a_day_is_forgotten(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser)
    try:
        page = context.new_page()
        page.goto(url)
        go_to_step(page, 2)
        [name] = kept(page)
        page.evaluate(
            """name => {
              const record = JSON.parse(localStorage.getItem(name));
              record.saved = Date.now() - 25 * 3600 * 1000;
              localStorage.setItem(name, JSON.stringify(record));
            }""",
            name,
        )
        page.goto(url)
        page.wait_for_selector("form.survey")
        assert page.locator("#resume").is_hidden()
        assert kept(page) == {}
    finally:
        context.close()


def test_the_english_form_says_it_in_english_and_a_dossier_code_resumes_too(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    with live_server.app.app_context():
        token = dossier_codes.issue(DESK, "000.00.23.H23-251203-0007")
        url = dossier_codes.survey_url(token)
        code = dossier_codes.verify(token).code
    context = phone_360(browser)
    try:
        page = context.new_page()
        page.goto(url + "?lang=en")
        go_to_step(page, 1)
        answer_step(page)
        context.set_offline(True)
        page.locator('form.survey button[value="next"]').tap()
        offline = page.wait_for_selector("#offline", **VISIBLE)
        assert offline is not None
        assert "network connection was lost" in offline.inner_text()
        assert "kept on this phone" in offline.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "offline-step-en.png"))
        before = answers_sent(page)
        context.set_offline(False)
        wait_for_step(page, 2)

        page.goto(url)  # the same dossier code opened again
        page.wait_for_selector("#resume", **VISIBLE)
        press(page, page.locator("#resume [data-resume-yes]"))
        assert step_of(page) == 2
        assert page.locator("html").get_attribute("lang") == "en"  # the form's own language
        assert all(answers_sent(page)[c] == v for c, v in before.items())
        receipt = answer_every_step(page, "offline-dossier")
        assert kept(page) == {}
        page.goto(url)  # spent: no form, nothing offered
        assert page.locator("form.survey").count() == 0
        assert page.locator("#resume").count() == 0
    finally:
        context.close()
    [row] = stored(live_server)
    assert (row.receipt, row.dossier_code, row.language) == (receipt, code, "en")


def test_a_step_with_problems_is_drawn_in_place_with_its_summary_in_focus(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser)
    try:
        page = context.new_page()
        navigations = record_posts(page)
        page.goto(url)
        length = page.evaluate("history.length")
        press(page, page.locator('form.survey button[value="next"]'))
        assert step_of(page) == 0
        assert page.locator("#errors").is_visible()
        assert page.evaluate("document.activeElement.id") == "errors"
        assert page.evaluate("history.length") == length  # the same step: no new entry
        answer_step(page)
        press(page, page.locator('form.survey button[value="next"]'))
        assert step_of(page) == 1
        assert page.locator("#errors").count() == 0
        assert page.evaluate("history.length") == length + 1
        assert navigations == []
    finally:
        context.close()
    assert stored(live_server) == []


def test_a_slow_send_says_it_is_sending_and_takes_one_press(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser)
    try:
        page = context.new_page()
        page.goto(url)
        answer_step(page)
        # The issue's link: 400 kbps, 400 ms round trips; slower still here, to look at it.
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": 1500,
                "downloadThroughput": 50_000,
                "uploadThroughput": 50_000,
            },
        )
        navigations = record_posts(page)
        button = page.locator('form.survey button[value="next"]')
        button.tap()
        page.wait_for_selector("#sending", **VISIBLE)
        assert button.is_disabled()  # a second press cannot send the step twice
        page.screenshot(path=str(SCREENSHOTS / "offline-sending.png"))
        wait_for_step(page, 1)
        assert page.locator("#sending").is_hidden()
        assert navigations == []
    finally:
        context.close()


def test_a_form_left_at_the_review_resumes_at_the_review(
    browser,  # type: ignore[no-untyped-def]
    live_server: LiveServer,
) -> None:
    url = scan_poster(browser, live_server)
    context = phone_360(browser)
    try:
        page = context.new_page()
        page.goto(url)
        while page.locator("form.review").count() == 0:
            go_to_step(page, step_of(page) + 1)
        before = answers_sent(page)
        page.goto(url)
        page.wait_for_selector("#resume", **VISIBLE)
        assert "phần 11/11" in page.locator("#resume").inner_text()
        press(page, page.locator("#resume [data-resume-yes]"))
        assert page.locator("form.review").count() == 1
        assert answers_sent(page) == before
        press(page, page.locator('form.review button[value="next"]'))
        assert "/r/" in page.url
    finally:
        context.close()
    [row] = stored(live_server)
    assert as_sent(row.answers) == before
