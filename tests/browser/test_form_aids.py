"""Length, orientation and aids of the citizen form on a 360x740 phone (issue 14, parts 4, 7).

Debian's chromium through Playwright, against the real app served live with SIPAS 2023
and the demo province: the first question's options without scrolling, the review step
(see the answers, go back to a part, change it, return, send, stored once) with
JavaScript on and off, the error summary (question texts, links, focus), the larger-text
switch, and "Nghe câu hỏi" (hidden without a voice; with a voice stubbed into the page,
the question and its options spoken in the form's language). Screenshots go to
/tmp/aids-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from survey_app.services import organisation
from tests.browser.test_phone_flow import (  # noqa: F401  (live_server is a fixture)
    DESK,
    LiveServer,
    answer_step,
    live_server,
    stored,
)

SCREENSHOTS = Path("/tmp")
WIDTH, HEIGHT = 360, 740

# A phone's speech synthesis with one voice per given language: it records what it is
# asked to say, and says nothing.
VOICES = """
(function (langs) {
  window.__spoken = [];
  window.SpeechSynthesisUtterance = function (text) { this.text = text; this.lang = ""; };
  var voices = langs.map(function (l) { return {lang: l, name: "stub " + l, localService: true}; });
  Object.defineProperty(window, "speechSynthesis", {configurable: true, value: {
    getVoices: function () { return voices; },
    speak: function (u) {
      window.__spoken.push({text: u.text, lang: u.lang, voice: u.voice && u.voice.lang});
    },
    cancel: function () {},
    addEventListener: function () {}
  }});
})(%s);
"""
NO_SPEECH = "delete window.speechSynthesis; delete window.SpeechSynthesisUtterance;"


def phone(browser, *, javascript: bool = True, init_script: str | None = None):  # type: ignore[no-untyped-def]
    """A 360x740 touch phone in Vietnamese; a new page in it."""
    context = browser.new_context(
        viewport={"width": WIDTH, "height": HEIGHT},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        java_script_enabled=javascript,
    )
    if init_script:
        context.add_init_script(init_script)
    return context, context.new_page()


def desk_url(server: LiveServer) -> str:
    with server.app.app_context():
        return f"{server.base_url}/s/{organisation.desk_by_code(DESK).public_id}"


def in_view(page, selector: str) -> bool:  # type: ignore[no-untyped-def]
    """Whether the whole element is inside the viewport as the page is (not scrolled)."""
    return bool(
        page.eval_on_selector(
            selector,
            """el => { const r = el.getBoundingClientRect();
                       return r.top >= 0 && r.bottom <= window.innerHeight &&
                              r.left >= 0 && r.right <= window.innerWidth; }""",
        )
    )


def fits_width(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("voice", [False, True], ids=["no-voice", "voice"])
def test_the_first_questions_options_show_without_scrolling(
    browser,
    live_server: LiveServer,  # noqa: F811
    voice: bool,
) -> None:
    init = VOICES % '["vi-VN"]' if voice else None
    context, page = phone(browser, init_script=init)
    try:
        page.goto(desk_url(live_server))
        assert page.evaluate("window.scrollY") == 0
        page.screenshot(
            path=str(SCREENSHOTS / f"aids-first-page-{'voice' if voice else 'plain'}.png")
        )
        # With a voice the "Nghe câu hỏi" button takes a row: the worst case.
        assert page.locator("button.speak").first.is_visible() is voice
        options = page.locator("fieldset.item").first.locator("label.opt")
        assert options.count() == 6
        for n in range(options.count()):
            assert in_view(page, f"fieldset.item:first-of-type label.opt >> nth={n}"), n
        text = page.locator("main").inner_text()
        assert "35 câu hỏi, khoảng 8 phút" in text
        assert fits_width(page)
    finally:
        context.close()


def to_review(page) -> None:  # type: ignore[no-untyped-def]
    """Answer every part and go on until the review shows."""
    for _ in range(20):
        if page.locator("form.review").count():
            return
        answer_step(page)
        with page.expect_navigation():
            page.locator('form.survey button[value="next"]').click()
        assert page.locator("#errors").count() == 0, page.locator("#errors").inner_text()
    raise AssertionError("no review")


def review_answer(page, question: str) -> str:  # type: ignore[no-untyped-def]
    """The answer the review lists under a question's text."""
    return str(
        page.evaluate(
            """q => { for (const dt of document.querySelectorAll('.review dt'))
                        if (dt.textContent.trim() === q)
                          return dt.nextElementSibling.textContent.trim();
                      return null; }""",
            question,
        )
    )


I21 = "Chính quyền tổ chức nhiều hình thức để người dân dễ dàng tham gia ý kiến xây dựng chính sách"


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_review_lists_the_answers_and_a_part_changed_from_it_is_sent_once(
    browser,
    live_server: LiveServer,  # noqa: F811
    javascript: bool,
) -> None:
    context, page = phone(browser, javascript=javascript)
    try:
        page.goto(desk_url(live_server))
        to_review(page)
        assert page.locator("h1").inner_text() == "Xem lại phiếu trước khi gửi"
        parts = page.locator("section.part h2")
        assert parts.count() == 11
        assert parts.nth(0).inner_text().startswith("I.1.")
        # The comment and respondent parts say they are optional.
        assert "(không bắt buộc)" in parts.nth(9).inner_text()
        assert "(không bắt buộc)" in parts.nth(10).inner_text()
        assert "(không bắt buộc)" not in parts.nth(0).inner_text()
        assert review_answer(page, I21) == "Hài lòng"
        assert review_answer(page, "Giới tính") == "Nam"
        assert fits_width(page)
        if javascript:
            page.screenshot(path=str(SCREENSHOTS / "aids-review.png"))
            page.screenshot(path=str(SCREENSHOTS / "aids-review-full.png"), full_page=True)
        # Back to part I.2, which shows its answers and now returns to the review.
        with page.expect_navigation():
            page.locator("section.part").nth(1).get_by_role("button", name="Sửa").click()
        assert page.locator("h1").inner_text().startswith("I.2.")
        assert page.locator("#q-I\\.2\\.1-4").is_checked()
        save = page.locator('form.survey button[value="review"]')
        assert save.inner_text() == "Lưu và xem lại phiếu"
        page.locator('label[for="q-I.2.1-5"]').click()
        with page.expect_navigation():
            save.click()
        assert page.locator("form.review").count() == 1
        assert review_answer(page, I21) == "Rất hài lòng"
        with page.expect_navigation():
            page.locator('form.review button[value="next"]').click()
        assert "/r/" in page.url
        receipt = page.locator(".receipt strong").inner_text().strip()
    finally:
        context.close()
    rows = stored(live_server)
    assert len(rows) == 1 and rows[0].receipt == receipt
    assert rows[0].answers["I.2.1"] == 5 and rows[0].answers["I.1.1"] == 4


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "nojs"])
def test_the_error_summary_names_the_questions_and_takes_the_focus(
    browser,
    live_server: LiveServer,  # noqa: F811
    javascript: bool,
) -> None:
    context, page = phone(browser, javascript=javascript)
    try:
        page.goto(desk_url(live_server))
        page.locator('label[for="q-I.1.1-4"]').click()
        with page.expect_navigation():
            page.locator('form.survey button[value="next"]').click()
        summary = page.locator("#errors")
        assert summary.get_attribute("role") == "alert"
        text = summary.inner_text()
        assert "Có 1 câu cần sửa" in text
        assert (
            "Chính quyền cung cấp thông tin chính sách đầy đủ, nội dung dễ hiểu: "
            "Vui lòng trả lời câu hỏi này." in text
        )
        assert "I.1.2" not in text
        # The summary has the focus, so a screen reader reads it first (autofocus without
        # JavaScript), and it is in view.
        assert page.evaluate("document.activeElement.id") == "errors"
        assert in_view(page, "#errors h2")
        page.screenshot(path=str(SCREENSHOTS / f"aids-errors-{'js' if javascript else 'nojs'}.png"))
        summary.locator("a").first.click()
        assert page.evaluate("document.activeElement.id") == "q-I.1.2-1"
        assert in_view(page, "#q-I\\.1\\.2-1")
    finally:
        context.close()


def test_the_larger_text_switch_is_remembered_on_every_page_and_fits_360_px(
    browser,
    live_server: LiveServer,  # noqa: F811
) -> None:
    context, page = phone(browser)
    try:
        page.goto(desk_url(live_server))
        switch = page.locator("#textsize")
        assert switch.is_visible() and switch.get_attribute("aria-pressed") == "false"
        size = "parseFloat(getComputedStyle(document.querySelector('.opt span')).fontSize)"
        normal = page.evaluate(size)
        switch.click()
        assert switch.get_attribute("aria-pressed") == "true"
        assert page.evaluate(size) == pytest.approx(normal * 1.25)
        assert fits_width(page)
        page.screenshot(path=str(SCREENSHOTS / "aids-large-text.png"))
        # The next step, a newly opened form and the landing page keep it.
        answer_step(page)
        with page.expect_navigation():
            page.locator('form.survey button[value="next"]').click()
        assert page.evaluate("document.documentElement.classList.contains('large-text')")
        assert page.locator("#textsize").get_attribute("aria-pressed") == "true"
        assert fits_width(page)
        to_review(page)
        assert page.evaluate("document.documentElement.classList.contains('large-text')")
        assert fits_width(page)
        page.screenshot(path=str(SCREENSHOTS / "aids-large-text-review.png"))
        with page.expect_navigation():
            page.locator('form.review button[value="next"]').click()
        assert fits_width(page)
        page.screenshot(path=str(SCREENSHOTS / "aids-large-text-receipt.png"))
        other = context.new_page()
        other.goto(live_server.base_url + "/")
        assert other.evaluate("document.documentElement.classList.contains('large-text')")
        other.locator("#textsize").click()  # and off again
        other.goto(desk_url(live_server))
        assert not other.evaluate("document.documentElement.classList.contains('large-text')")
    finally:
        context.close()
    # Without JavaScript there is nothing to switch: no dead button.
    context, page = phone(browser, javascript=False)
    try:
        page.goto(desk_url(live_server))
        assert not page.locator("#textsize").is_visible()
    finally:
        context.close()


@pytest.mark.parametrize(
    ("init", "lang"),
    [
        (NO_SPEECH, "vi"),
        (VOICES % "[]", "vi"),
        (VOICES % '["en-US"]', "vi"),
        (VOICES % '["vi-VN"]', "en"),
    ],
    ids=["no-speech", "no-voices", "vi-form-en-voice", "en-form-vi-voice"],
)
def test_read_aloud_is_hidden_without_a_voice_for_the_forms_language(
    browser,
    live_server: LiveServer,  # noqa: F811
    init: str,
    lang: str,
) -> None:
    context, page = phone(browser, init_script=init)
    try:
        page.goto(desk_url(live_server) + f"?lang={lang}")
        assert page.locator("button.speak").count() == 2  # one per question of the page
        assert page.locator("button.speak:visible").count() == 0
    finally:
        context.close()


@pytest.mark.parametrize(
    ("voices", "lang", "speech_lang", "question", "option"),
    [
        (
            '["en-US", "vi-VN"]',
            "vi",
            "vi-VN",
            "Chính quyền cung cấp, giải thích thông tin chính sách theo nhiều hình thức, "
            "dễ tìm, dễ thấy",
            "Rất không hài lòng",
        ),
        (
            '["vi-VN", "en-GB"]',
            "en",
            "en",
            "The government provides and explains policy information in many ways, "
            "easy to find and see",
            "Very dissatisfied",
        ),
    ],
    ids=["vi", "en"],
)
def test_read_aloud_speaks_the_question_and_its_options_in_the_forms_language(
    browser,
    live_server: LiveServer,  # noqa: F811
    voices: str,
    lang: str,
    speech_lang: str,
    question: str,
    option: str,
) -> None:
    context, page = phone(browser, init_script=VOICES % voices)
    try:
        page.goto(desk_url(live_server) + f"?lang={lang}")
        button = page.locator("button.speak").first
        assert button.is_visible()
        # The button does not push the first question's options below the fold.
        assert in_view(page, "fieldset.item:first-of-type .other label.opt")
        button.click()
        spoken = page.evaluate("window.__spoken")
        assert len(spoken) == 1
        assert spoken[0]["lang"] == speech_lang
        assert spoken[0]["voice"].split("-")[0] == lang
        text = spoken[0]["text"]
        assert text.startswith(question + ". ")
        assert option in text and "I.1.1" not in text and "(" not in text
        # The button's own label is not read out.
        assert "Nghe" not in text and "Listen" not in text
        assert page.evaluate("document.documentElement.lang") == lang
    finally:
        context.close()
