"""The citizen form's limits with their real settings (memory storage): a centre behind one
address is served, a script is not (survey_app.citizen_limits).

Time is the limiter's: a clock the tests move on (``clock``), so "an hour" of traffic runs
in seconds and the windows are the real ones.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator
from dataclasses import dataclass

import limits.storage.memory
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from survey_app.extensions import db
from survey_app.models import Submission
from tests.citizen_support import FormPage, Survey, full_answers, read_form, running_survey

CENTRE = "203.0.113.50"  # one public address: the centre's Wi-Fi
LAST_STEP = "10"  # SIPAS 2023: ten criteria groups, then the respondent block
RATE_NOTICE = "Các câu trả lời vẫn được giữ nguyên"


@dataclass
class Clock:
    """What ``time.time()`` answers in the limiter's memory storage."""

    now: float

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock(time.time())
    monkeypatch.setattr(limits.storage.memory, "time", fake)
    return fake


@pytest.fixture
def limited(make_app: Callable[..., Flask], clock: Clock) -> tuple[Flask, Survey]:
    """An app with the rate limits on, at their defaults, and a SIPAS 2023 desk."""
    app = make_app(RATELIMIT_ENABLED=True)
    with app.app_context():
        db.create_all()
    return app, running_survey(app)


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Submission.id))) or 0


def _phone(app: Flask, address: str = CENTRE) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _citizen(
    client: FlaskClient, url: str, answers: dict[str, str | list[str]]
) -> Generator[None, None, TestResponse]:
    """One citizen filling the whole form, one request per ``next()``: every page opened
    and sent as a browser does, ending with the final POST's response."""
    response = client.get(url)
    yield
    page = read_form(response)
    while True:
        response = client.post(page.action, data=page.data(answers))
        yield
        if response.status_code != 200:
            return response
        page = read_form(response)


def test_200_complete_forms_from_one_address_within_an_hour_are_all_stored(
    limited: tuple[Flask, Survey], clock: Clock
) -> None:
    """A busy centre: 20 phones behind one address, each filling forms one after another,
    200 complete SIPAS 2023 forms (every page, the review, the send) within the hour,
    all at one desk.
    Every request is answered as a browser expects and every form is stored."""
    app, survey = limited
    url = f"/s/{survey.public_id}"
    phones = [_phone(app) for _ in range(20)]
    running: dict[int, Generator[None, None, TestResponse]] = {}
    started = finished = requests = 0
    codes: list[int] = []
    start = clock.now
    while finished < 200:
        for n, phone in enumerate(phones):
            if n not in running and started < 200:
                running[n] = _citizen(phone, url, full_answers())
                started += 1
            if n not in running:
                continue
            try:
                next(running[n])
            except StopIteration as end:
                codes.append(end.value.status_code)
                finished += 1
                del running[n]
            requests += 1
            clock.advance(1.25)  # 2,800 requests (14 a form with the review) in 58 minutes
    assert clock.now - start < 3600
    assert requests >= 200 * 12
    assert codes == [303] * 200
    assert _count(app) == 200


def _step_post(
    client: FlaskClient, survey: Survey, answers: dict[str, str], **fields: str
) -> TestResponse:
    """What a script posts to a form's first page (``fields`` overrides hidden fields)."""
    page = read_form(client.get(f"/s/{survey.public_id}"))
    return client.post(page.action, data=_data(page, answers, **fields))


def _data(page: FormPage, answers: dict[str, str], **fields: str) -> MultiDict[str, str]:
    data = MultiDict([(k, v) for k, v in page.hidden if k not in fields])
    for key, value in fields.items():
        data[key] = value
    for code, value in answers.items():
        data.add("a_" + code, value)
    data["action"] = "next"
    return data


# Posts no page of the form sends, counted per address: each is refused on its own, but
# a question the form does not have, which a page before the last only drops (200).
JUNK: dict[str, Callable[[FlaskClient, Survey], TestResponse]] = {
    "bad_uid": lambda c, s: _step_post(c, s, {"I.1.1": "4", "I.1.2": "4"}, uid="x"),
    "no_csrf": lambda c, s: _step_post(c, s, {"I.1.1": "4", "I.1.2": "4"}, csrf_token=""),
    "bad_option": lambda c, s: _step_post(c, s, {"I.1.1": "7", "I.1.2": "4"}),
    "unknown_item": lambda c, s: _step_post(c, s, {"I.1.1": "4", "I.1.2": "4", "Z.9": "1"}),
    "skipped_pages": lambda c, s: _step_post(c, s, {"gender": "1"}, step=LAST_STEP),
}
JUNK_STATUS = {"bad_uid": 400, "no_csrf": 400, "bad_option": 422}
JUNK_STATUS |= {"unknown_item": 200, "skipped_pages": 422, "too_many_fields": 413}


def _too_many_fields(client: FlaskClient, survey: Survey) -> TestResponse:
    """More values than every option of every question ticked: no browser sends them."""
    page = read_form(client.get(f"/s/{survey.public_id}"))
    data = _data(page, {})
    for _ in range(300):
        data.add("a_I.1.1", "4")
    return client.post(page.action, data=data)


JUNK["too_many_fields"] = _too_many_fields


@pytest.mark.parametrize("kind", sorted(JUNK))
def test_junk_is_refused_and_its_address_stopped_after_ten_a_minute(
    limited: tuple[Flask, Survey], clock: Clock, kind: str
) -> None:
    app, survey = limited
    script = _phone(app, "198.51.100.66")
    codes = [JUNK[kind](script, survey).status_code for _ in range(12)]
    assert codes == [JUNK_STATUS[kind]] * 10 + [429] * 2
    assert _count(app) == 0
    # Another address is not affected, and this one is served again a minute later.
    assert _step_post(_phone(app), survey, {"I.1.1": "4", "I.1.2": "4"}).status_code == 200
    clock.advance(61)
    assert JUNK[kind](script, survey).status_code == JUNK_STATUS[kind]


def test_a_forgotten_answer_is_no_junk(limited: tuple[Flask, Survey]) -> None:
    """A citizen who presses "next" with the page's own answers missing is shown the page
    again as often as it takes, and never counted as a script."""
    app, survey = limited
    phone = _phone(app)
    codes = [_step_post(phone, survey, {"I.1.1": "4"}).status_code for _ in range(30)]
    assert codes == [422] * 30


def test_thousands_of_posts_of_one_form_are_stopped_at_100_an_hour(
    limited: tuple[Flask, Survey], clock: Clock
) -> None:
    app, survey = limited
    script = _phone(app, "198.51.100.67")
    page = read_form(script.get(f"/s/{survey.public_id}"))
    data = _data(page, {"I.1.1": "4", "I.1.2": "4"})
    codes = []
    for _ in range(150):
        codes.append(script.post(page.action, data=data).status_code)
        clock.advance(20)  # slowly, under every per-minute limit: 50 minutes in all
    assert codes == [200] * 100 + [429] * 50
    # The same address's other forms go on.
    assert _step_post(script, survey, {"I.1.1": "4", "I.1.2": "4"}).status_code == 200


def test_a_flood_of_fresh_forms_from_one_address_is_stopped_at_300_a_minute(
    limited: tuple[Flask, Survey],
) -> None:
    """A script that takes a new submission id for every post is stopped by the
    per-address ceiling, which is all that is left to count it by."""
    app, survey = limited
    script = _phone(app, "198.51.100.68")
    page = read_form(script.get(f"/s/{survey.public_id}"))
    codes = []
    for n in range(305):
        uid = f"00000000-0000-4000-8000-{n:012d}"
        codes.append(script.post(page.action, data=_data(page, {}, uid=uid)).status_code)
    assert codes == [422] * 300 + [429] * 5


def _stuff(client: FlaskClient, survey: Survey) -> TestResponse:
    """A complete form posted straight to the final step, as a script does."""
    page = read_form(client.get(f"/s/{survey.public_id}"))
    data = MultiDict([(k, v) for k, v in page.hidden if k != "step"])
    data["step"] = LAST_STEP
    for code, value in full_answers().items():
        for v in [value] if isinstance(value, str) else value:
            data.add("a_" + code, v)
    return client.post(f"/s/{survey.public_id}/submit", data=data)


def test_stuffing_one_desk_is_stopped_at_300_stored_an_hour(
    limited: tuple[Flask, Survey], clock: Clock
) -> None:
    """Valid forms from a fresh address each, 6 a minute (under every per-minute
    limit): the desk stores 300 in the hour and refuses the rest until the hour ends."""
    app, survey = limited
    codes = []
    for n in range(330):
        codes.append(_stuff(_phone(app, f"10.{n // 250}.{n % 250}.1"), survey).status_code)
        clock.advance(10)
    assert codes[:300] == [303] * 300
    assert codes[300:] == [429] * 30
    assert _count(app) == 300


def test_stuffing_one_desk_in_a_minute_is_stopped_at_30(limited: tuple[Flask, Survey]) -> None:
    app, survey = limited
    codes = [_stuff(_phone(app, f"10.1.{n}.1"), survey).status_code for n in range(35)]
    assert codes == [303] * 30 + [429] * 5
    assert _count(app) == 30


def test_a_limit_hit_shows_the_same_page_with_the_answers_and_a_vietnamese_message(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    """Over the per-address ceiling: the page the citizen was on, their answers ticked,
    a 429 with a message to press again in a minute, never a "press Back" page."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CLIENT="2 per minute")
    with app.app_context():
        db.create_all()
    survey = running_survey(app)
    phone = _phone(app)
    page = read_form(phone.get(f"/s/{survey.public_id}"))
    answers = {"I.1.1": "5", "I.1.2": "2"}
    for _ in range(2):
        _step_post(_phone(app), survey, {})
    limited = phone.post(page.action, data=page.data(answers))
    html = limited.get_data(as_text=True)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "60"
    assert RATE_NOTICE in html and "Quay lại của trình duyệt" not in html
    again = read_form(limited)
    assert (again.field("step"), again.field("uid")) == ("0", page.field("uid"))
    assert 'id="q-I.1.1-5" name="a_I.1.1" value="5" checked' in html
    assert 'id="q-I.1.2-2" name="a_I.1.2" value="2" checked' in html
    clock.advance(61)
    pressed_again = phone.post(again.action, data=again.data(answers))
    assert read_form(pressed_again).field("step") == "1"


def test_a_full_desk_keeps_the_last_page_with_every_answer_until_it_opens(
    make_app: Callable[..., Flask], clock: Clock
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_DESK="1 per minute")
    with app.app_context():
        db.create_all()
    survey = running_survey(app)
    assert _stuff(_phone(app, "198.51.100.1"), survey).status_code == 303
    phone = _phone(app)
    page = read_form(phone.get(f"/s/{survey.public_id}"))
    while not page.action.endswith("/submit"):
        page = read_form(phone.post(page.action, data=page.data(full_answers())))
    refused = phone.post(page.action, data=page.data(full_answers()))
    assert refused.status_code == 429
    kept = read_form(refused)
    assert kept.action == page.action and kept.field("uid") == page.field("uid")
    assert dict(kept.hidden)["a_I.1.1"] == "4" and dict(kept.hidden)["a_II.2.1"] == "5"
    assert RATE_NOTICE in refused.get_data(as_text=True)
    clock.advance(61)
    stored = phone.post(kept.action, data=kept.data(full_answers()))
    assert stored.status_code == 303
    assert _count(app) == 2
