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
    answer_every_step,
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
