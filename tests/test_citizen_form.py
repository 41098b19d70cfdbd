"""The citizen form over HTTP, as a phone uses it: every step, CSRF tokens from the HTML."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app import caching, localtime
from survey_app.extensions import db
from survey_app.models import Desk, Submission
from survey_app.services import organisation, questionnaires, submissions
from tests.citizen_support import (
    SMALL,
    Survey,
    full_answers,
    read_form,
    running_survey,
    walk,
)


@pytest.fixture
def survey(app: Flask) -> Survey:
    return running_survey(app)


def _count(app: Flask, model: type = Submission) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def _stored(app: Flask) -> dict[str, list[object]]:
    """Every stored answer value, by item code, over all submissions."""
    with app.app_context():
        documents = db.session.scalars(select(Submission.answers)).all()
    out: dict[str, list[object]] = {}
    for document in documents:
        for code, value in document.items():
            out.setdefault(code, []).extend(value if isinstance(value, list) else [value])
    return out


def test_full_sipas_2023_response_lands_once_with_its_questionnaire_version(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    response, last = walk(client, f"/s/{survey.public_id}", full_answers())

    assert response.status_code == 303
    # 10 criteria groups, the respondent block, then the review (step 11) sends.
    assert last.field("step") == "11" and last.action.endswith("/submit")
    location = response.headers["Location"]
    assert re.fullmatch(r"/r/[2-9A-HJKMNP-Z]{8}", location)
    thanks = client.get(location)
    page = thanks.get_data(as_text=True)
    assert thanks.status_code == 200
    assert location.removeprefix("/r/") in page
    assert "Cảm ơn Ông/Bà đã tham gia khảo sát" in page
    assert "Cán bộ nhiệt tình" not in page  # the receipt never shows answers
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        assert submission.questionnaire_version_id == survey.version_id
        assert submission.campaign_id == survey.campaign_id
        assert (submission.route, submission.language) == ("desk_qr", "vi")
        assert submission.receipt == location.removeprefix("/r/")
    stored = _stored(app)
    assert stored["I.3.4"] == [9] and stored["II.2.1"] == [5] and stored["gender"] == [2]
    assert stored["comment"] == ["Cán bộ nhiệt tình."]
    # 27 rated items, II.4.0 and the comment, 6 respondent items; II.4.1-3 skipped.
    assert len(stored) == 35
    assert not {"II.4.1", "II.4.2", "II.4.3"} & set(stored)


def test_exact_retry_of_the_final_post_gives_the_same_receipt_and_stores_nothing(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    answers = full_answers()
    response, last = walk(client, f"/s/{survey.public_id}", answers)
    again = client.post(last.action, data=last.data(answers))
    assert again.status_code == 303
    assert again.headers["Location"] == response.headers["Location"]
    assert _count(app) == 1
    assert len(_stored(app)) == 35


def test_same_submission_id_with_other_answers_is_refused_and_keeps_the_stored_ones(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    answers = full_answers()
    _response, last = walk(client, f"/s/{survey.public_id}", answers)
    before = _stored(app)
    data = last.data(answers)
    data.setlist("a_gender", ["1"])
    conflict = client.post(last.action, data=data)
    assert conflict.status_code == 409
    assert "Phiếu này đã được gửi trước đó" in conflict.get_data(as_text=True)
    assert _stored(app) == before and _count(app) == 1


def test_a_missing_required_answer_brings_the_step_back_with_answers_kept(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    page = read_form(client.get(f"/s/{survey.public_id}"))
    back = client.post(page.action, data=page.data({"I.1.1": "5"}))
    html = back.get_data(as_text=True)
    assert back.status_code == 422
    assert read_form(back).field("step") == "0"
    assert 'role="alert"' in html and "Có 1 câu cần sửa" in html
    # The summary names the question by its text and links to its first option.
    assert (
        '<a href="#q-I.1.2-1"><q>Chính quyền cung cấp thông tin chính sách đầy đủ, '
        "nội dung dễ hiểu</q>: Vui lòng trả lời câu hỏi này.</a>"
    ) in html
    assert "I.1.2:" not in html
    assert 'id="errors" tabindex="-1" autofocus' in html
    assert 'aria-describedby="q-I.1.2-err"' in html
    assert re.search(r'id="q-I.1.1-5" name="a_I.1.1" value="5" checked', html)
    assert _count(app) == 0


@pytest.mark.parametrize(
    ("change", "step", "message"),
    [
        ({"I.2.1": "7"}, "1", "ý kiến xây dựng chính sách</q>: Lựa chọn không hợp lệ"),
        ({"II.0.2": ["4", "5"]}, "4", "</q>: Chỉ được chọn một phương án."),
        ({"comment": "x" * 1001}, "9", "Câu trả lời dài quá 1000 ký tự"),
        ({"gender": "3"}, "10", "<q>Giới tính</q>: Lựa chọn không hợp lệ, vui lòng chọn lại."),
    ],
)
def test_a_tampered_or_invalid_answer_at_the_final_post_stores_nothing(
    app: Flask,
    client: FlaskClient,
    survey: Survey,
    change: dict[str, str | list[str]],
    step: str,
    message: str,
) -> None:
    answers = full_answers()
    _response, last = walk(client, f"/s/{survey.public_id}", answers, submit=False)
    # A phone that edits the carried answers, or a script posting straight to the end.
    data = last.data(answers)
    for code, value in change.items():
        data.setlist("a_" + code, [value] if isinstance(value, str) else value)
    back = client.post(last.action, data=data)
    assert back.status_code == 422
    assert read_form(back).field("step") == step  # the step that holds the item
    assert message in back.get_data(as_text=True)
    assert _count(app) == 0


def test_too_long_comment_is_kept_in_the_textarea_with_its_message(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    long = "Góp ý " * 200
    response, _page = walk(client, f"/s/{survey.public_id}", full_answers(comment=long))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Câu trả lời dài quá 1000 ký tự (hiện có 1199 ký tự)." in html
    assert long.strip() in html
    assert _count(app) == 0


def test_an_unknown_item_at_the_final_post_is_refused(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    answers = full_answers()
    _response, last = walk(client, f"/s/{survey.public_id}", answers, submit=False)
    data = last.data(answers)
    data.add("a_II.9.9", "5")
    back = client.post(last.action, data=data)
    assert back.status_code == 422
    assert "II.9.9: Câu hỏi này không có trong phiếu khảo sát." in back.get_data(as_text=True)
    assert _count(app) == 0


def test_skip_logic_shows_a_note_without_javascript_and_ignores_hidden_answers(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    # A browser without JavaScript shows II.4.1-3 and the citizen answers them anyway.
    answers = full_answers(**{"II.4.0": "2", "II.4.1": "1", "II.4.2": "1", "II.4.3": "1"})
    response, _last = walk(client, f"/s/{survey.public_id}", answers)
    assert response.status_code == 303
    assert not {"II.4.1", "II.4.2", "II.4.3"} & set(_stored(app))


def test_skip_logic_page_carries_the_condition_for_javascript(
    client: FlaskClient, survey: Survey
) -> None:
    page = read_form(client.get(f"/s/{survey.public_id}"))
    for _ in range(8):  # to II.4, the ninth step
        response = client.post(page.action, data=page.data(full_answers()))
        page = read_form(response)
    html = response.get_data(as_text=True)
    assert page.field("step") == "8"
    assert 'data-show-item="a_II.4.0" data-show-codes="1"' in html
    assert "Chỉ trả lời câu này nếu ở câu II.4.0 Ông/Bà chọn: “Có”." in html
    # Skip logic and the aids (citizen_aids.js): inline, nothing loaded from elsewhere.
    scripts = re.findall(r'<script nonce="[^"]+">(.*?)</script>', html, re.DOTALL)
    assert len(scripts) == 2 and not any("http" in script for script in scripts)
    assert "data-show-item" in scripts[1] and "speechSynthesis" in scripts[0]


def test_a_step_citizen_js_fetches_comes_without_the_script_it_is_drawn_into(
    client: FlaskClient, survey: Survey
) -> None:
    script = re.compile(r'<script nonce="[^"]+">.*?</script>', re.DOTALL)
    first = client.get(f"/s/{survey.public_id}")
    assert script.search(first.get_data(as_text=True))  # every page a browser opens has it
    page = read_form(first)
    plain = client.post(page.action, data=page.data(full_answers()))
    fetched = client.post(
        page.action, data=page.data(full_answers()), headers={"X-Sipas-In-Place": "1"}
    )
    assert script.search(plain.get_data(as_text=True))
    assert not script.search(fetched.get_data(as_text=True))
    assert read_form(fetched).field("step") == read_form(plain).field("step") == "1"


def test_stay_shows_the_posted_step_again_with_every_answer(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    # What citizen.js posts to resume a form kept on the phone: its id, step and answers.
    page = read_form(client.get(f"/s/{survey.public_id}"))
    data = page.data(full_answers(**{"I.1.2": "2"}), action="stay")
    data.setlist("step", ["3"])
    for code, value in full_answers().items():
        if "a_" + code not in page.visible:
            data.add("a_" + code, value if isinstance(value, str) else value[0])
    response = client.post(page.action, data=data)
    resumed = read_form(response)
    assert response.status_code == 200
    assert (resumed.field("step"), resumed.field("uid")) == ("3", page.field("uid"))
    assert dict(resumed.hidden)["a_I.1.2"] == "2"
    assert _count(app) == 0


def test_the_receipt_forgets_the_progress_kept_on_the_phone(
    client: FlaskClient, survey: Survey
) -> None:
    response, page = walk(client, f"/s/{survey.public_id}", full_answers())
    receipt = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'data-sent-uid="{page.field("uid")}"' in receipt
    assert "sipas-progress:" in receipt  # citizen-sent.js, inlined
    assert "I.1.2" not in receipt  # never the answers


def test_an_item_shown_by_skip_logic_becomes_required(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    response, page = walk(client, f"/s/{survey.public_id}", full_answers(**{"II.4.0": "1"}))
    assert response.status_code == 422 and page.field("step") == "8"
    assert (
        "<q>Bộ phận một cửa bố trí hình thức tiếp nhận phản ánh, kiến nghị dễ dàng</q>: "
        "Vui lòng trả lời câu hỏi này."
    ) in response.get_data(as_text=True)
    assert _count(app) == 0


def test_back_button_returns_to_the_previous_step_with_its_answers(
    client: FlaskClient, survey: Survey
) -> None:
    page = read_form(client.get(f"/s/{survey.public_id}"))
    page2 = read_form(client.post(page.action, data=page.data(full_answers(**{"I.1.2": "2"}))))
    back = client.post(page2.url_for("back"), data=page2.data({}, action="back"))
    html = back.get_data(as_text=True)
    assert read_form(back).field("step") == "0"
    assert re.search(r'name="a_I.1.2" value="2" checked', html)
    assert read_form(back).field("uid") == page.field("uid")


def test_raw_client_address_is_stored_nowhere(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    address = "203.0.113.77"
    client.environ_base["REMOTE_ADDR"] = address
    response, _ = walk(client, f"/s/{survey.public_id}", full_answers())
    assert response.status_code == 303
    with app.app_context():
        submission = db.session.scalars(select(Submission)).one()
        assert submission.client_hash and address not in submission.client_hash
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)).all():
                assert not any(address in str(value) for value in row), table.name


def test_a_stale_csrf_token_gets_a_vietnamese_page_and_keeps_the_answers(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    page = read_form(client.get(f"/s/{survey.public_id}"))
    data = page.data({"I.1.1": "3", "I.1.2": "4"})
    data["csrf_token"] = "stale"
    response = client.post(page.action, data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Các câu trả lời vẫn được giữ" in html
    assert re.search(r'name="a_I.1.1" value="3" checked', html)
    fresh = read_form(response)
    assert fresh.token != "stale" and fresh.field("step") == "0"
    retried = client.post(fresh.action, data=fresh.data({"I.1.1": "3", "I.1.2": "4"}))
    assert retried.status_code == 200 and read_form(retried).field("step") == "1"


def test_a_final_post_without_csrf_token_stores_nothing(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    answers = full_answers()
    response, last = walk(client, f"/s/{survey.public_id}", answers)
    assert response.status_code == 303
    _response2, last2 = walk(client, f"/s/{survey.public_id}", answers, submit=False)
    data = last2.data(answers)
    del data["csrf_token"]
    refused = client.post(last2.action, data=data)
    assert refused.status_code == 400
    assert "Trang đã để quá lâu" in refused.get_data(as_text=True)
    assert _count(app) == 1


def test_a_client_over_its_rate_limit_gets_a_vietnamese_429_page(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_CLIENT="3 per minute")
    with app.app_context():
        db.create_all()
    survey = running_survey(app)
    client = app.test_client()
    page = read_form(client.get(f"/s/{survey.public_id}"))
    codes = [client.post(page.action, data=page.data({})).status_code for _ in range(4)]
    assert codes == [422, 422, 422, 429]
    limited = client.post(page.action, data=page.data({}))
    assert "vui lòng đợi khoảng một phút" in limited.get_data(as_text=True)
    assert limited.headers["Retry-After"] == "60"
    assert client.get(f"/s/{survey.public_id}").status_code == 200  # reading stays open


def test_a_desk_over_its_rate_limit_refuses_more_final_posts(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(
        RATELIMIT_ENABLED=True, RATELIMIT_CLIENT="100 per minute", RATELIMIT_DESK="1 per minute"
    )
    with app.app_context():
        db.create_all()
    survey = running_survey(app)
    results = []
    for address in ("198.51.100.1", "198.51.100.2"):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        response, _ = walk(client, f"/s/{survey.public_id}", full_answers())
        results.append(response.status_code)
    assert results == [303, 429]
    assert _count(app) == 1


def test_a_client_over_its_submit_limit_is_refused_apart_from_page_steps(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(
        RATELIMIT_ENABLED=True,
        RATELIMIT_CLIENT="100 per minute",
        RATELIMIT_SUBMIT="1 per minute",
        RATELIMIT_DESK="100 per minute",
    )
    with app.app_context():
        db.create_all()
    survey = running_survey(app)
    client = app.test_client()
    first, _ = walk(client, f"/s/{survey.public_id}", full_answers())
    second, _ = walk(client, f"/s/{survey.public_id}", full_answers())
    assert (first.status_code, second.status_code) == (303, 429)
    assert _count(app) == 1


def test_the_biggest_sipas_2023_page_with_its_css_is_under_60_kb(
    client: FlaskClient, survey: Survey
) -> None:
    sizes = []
    response = client.get(f"/s/{survey.public_id}")
    page = read_form(response)
    sizes.append(len(response.data))
    # Every step, and every step again with all its errors shown (the worst case).
    for _ in range(11):
        with_errors = client.post(page.action, data=page.data({}))
        sizes.append(len(with_errors.data))
        response = client.post(page.action, data=page.data(full_answers(comment="x" * 1000)))
        sizes.append(len(response.data))
        if response.status_code != 200:
            break
        page = read_form(response)
    html = response.get_data(as_text=True)
    assert max(sizes) <= 60 * 1024, sizes
    assert re.search(r'<style nonce="[^"]+">', html) and 'rel="stylesheet"' not in html
    assert not re.search(r'(src|href)="(https?:)?//', html)  # no CDN or third-party assets


@pytest.mark.parametrize("path", ["/s/{public_id}", "/"])
def test_form_pages_are_not_kept_in_caches(client: FlaskClient, survey: Survey, path: str) -> None:
    response = client.get(path.format(public_id=survey.public_id))
    assert response.headers["Cache-Control"] == "no-store"


def test_english_is_offered_and_sets_the_page_language(client: FlaskClient, survey: Survey) -> None:
    vi = client.get(f"/s/{survey.public_id}").get_data(as_text=True)
    assert '<html lang="vi">' in vi and 'href="?lang=en"' in vi
    en = client.get(f"/s/{survey.public_id}?lang=en")
    html = en.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Very satisfied" in html and "Part 1 of 11" in html
    assert read_form(en).field("lang") == "en"
    other = client.get(f"/s/{survey.public_id}?lang=xx").get_data(as_text=True)
    assert '<html lang="vi">' in other


def test_switching_language_mid_form_keeps_the_step_and_answers(
    client: FlaskClient, survey: Survey
) -> None:
    page = read_form(client.get(f"/s/{survey.public_id}"))
    page2 = read_form(client.post(page.action, data=page.data(full_answers())))
    data = page2.data({"I.2.1": "5"}, action="lang:en")
    switched = client.post(page2.url_for("lang:en"), data=data)
    html = switched.get_data(as_text=True)
    assert '<html lang="en">' in html and read_form(switched).field("step") == "1"
    assert re.search(r'name="a_I.2.1" value="5" checked', html)


def test_unknown_desk_gets_a_vietnamese_404_page(client: FlaskClient, survey: Survey) -> None:
    response = client.get("/s/no-such-desk")
    assert response.status_code == 404
    assert "Không tìm thấy phiếu khảo sát" in response.get_data(as_text=True)


def test_inactive_desk_gets_410_and_a_desk_without_campaign_an_explanation(
    app: Flask, client: FlaskClient
) -> None:
    survey = running_survey(app, today=dt.date.today() - dt.timedelta(days=100))
    idle = client.get(f"/s/{survey.public_id}")
    assert idle.status_code == 200
    assert "Hiện chưa có đợt khảo sát" in idle.get_data(as_text=True)
    with app.app_context():
        db.session.scalars(select(Desk)).one().active = False
        db.session.commit()
    gone = client.get(f"/s/{survey.public_id}")
    assert gone.status_code == 410
    assert "Quầy này không còn nhận đánh giá" in gone.get_data(as_text=True)


def test_a_desk_set_up_change_shows_within_the_cache_time(
    app: Flask, client: FlaskClient, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get(f"/s/{survey.public_id}").status_code == 200
    with app.app_context():
        db.session.scalars(select(Desk)).one().active = False
        db.session.commit()
    # Kept by this process for SURVEY_CACHE_SECONDS (the documented delay) ...
    assert client.get(f"/s/{survey.public_id}").status_code == 200
    later = time.monotonic() + app.config["SURVEY_CACHE_SECONDS"] + 1
    monkeypatch.setattr(caching, "time", SimpleNamespace(monotonic=lambda: later))
    # ... then looked up again, and the reason there is no form is never kept.
    assert client.get(f"/s/{survey.public_id}").status_code == 410
    with app.app_context():
        db.session.scalars(select(Desk)).one().active = True
        db.session.commit()
    assert client.get(f"/s/{survey.public_id}").status_code == 200


def test_a_final_submit_reads_nothing_before_it_writes(
    app: Flask, client: FlaskClient, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the form lands is cached per process, and the INSERT of the submission
    decides exactly-once by itself: on PostgreSQL one statement, the claim of its keys and
    the submission with its answers, in autocommit (no BEGIN and COMMIT round trips around
    it), on the driver's cursor; on SQLite (embedded, no round trips) the claim and the row,
    in a transaction of their own."""
    answers = full_answers()
    _response, last = walk(client, f"/s/{survey.public_id}", answers, submit=False)
    through_sqlalchemy: list[str] = []
    on_the_driver: list[str] = []

    def seen(_conn: sa.Connection, _cursor: object, statement: str, *_args: object) -> None:
        through_sqlalchemy.append(statement)

    real_scalar = submissions.DriverStatement.scalar

    def scalar(
        statement: submissions.DriverStatement,
        connection: sa.Connection,
        values: Mapping[str, object],
    ) -> object:
        level = connection.get_execution_options().get("isolation_level")
        on_the_driver.append(" ".join(statement.sql.split()[:3]) + f" ({level})")
        return real_scalar(statement, connection, values)

    monkeypatch.setattr(submissions.DriverStatement, "scalar", scalar)
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        response = client.post(last.action, data=last.data(answers))
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 303
    if engine.dialect.name == "postgresql":
        assert through_sqlalchemy == []
        assert on_the_driver == ["WITH claim AS (AUTOCOMMIT)"]
    else:
        assert through_sqlalchemy == ["BEGIN IMMEDIATE", "COMMIT"]
        assert on_the_driver == [
            "INSERT INTO submission_keys (AUTOCOMMIT)",
            "INSERT INTO submissions (AUTOCOMMIT)",
        ]
    with app.app_context():
        stored = db.session.scalars(select(Submission)).one()
        assert stored.uid == last.data(answers)["uid"] and stored.answers["II.2.1"] == 5


def test_unknown_receipt_is_404(client: FlaskClient, survey: Survey) -> None:
    assert client.get("/r/ABCDEFGH").status_code == 404
    assert client.get("/r/not-a-receipt").status_code == 404


def test_landing_page_links_to_staff_login_and_healthz_answers(client: FlaskClient) -> None:
    landing = client.get("/").get_data(as_text=True)
    assert 'href="/staff/login"' in landing and "Khảo sát mức độ hài lòng" in landing
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok"}


def test_two_identical_final_posts_racing_both_end_on_the_one_receipt(
    app: Flask, client: FlaskClient, survey: Survey, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests reach the storing step together; UNIQUE(uid) lets one INSERT win, and
    the other's INSERT ... ON CONFLICT DO NOTHING skips its row and reads the winner back."""
    answers = full_answers()
    _response, last = walk(client, f"/s/{survey.public_id}", answers, submit=False)
    data = last.data(answers)
    barrier = threading.Barrier(2, timeout=10)
    real = submissions.record_submission

    def store_together(connection: sa.Connection, **kwargs: object) -> submissions.StoredSubmission:
        barrier.wait()
        return real(connection, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(submissions, "record_submission", store_together)
    results: list[tuple[int, str]] = []
    cookie = client.get_cookie("session")
    assert cookie is not None

    def post() -> None:
        phone = app.test_client()  # same browser session (CSRF), separate connection
        phone.set_cookie("session", cookie.value)
        response = phone.post(last.action, data=data)
        results.append((response.status_code, response.headers.get("Location", "")))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2
    assert {status for status, _ in results} == {303}
    assert results[0][1] == results[1][1]
    assert _count(app) == 1 and len(_stored(app)) == 35


@pytest.fixture
def small_survey(app: Flask, tmp_path: Path) -> str:
    """A running campaign of the one-page questionnaire with every item type."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    with app.app_context():
        questionnaires.load_file(path)
        organisation.add_agency("P", "Tỉnh", "province")
        desk = organisation.add_desk("D", "Quầy", "P")
        today = localtime.today()  # the surveys' date, not the machine's
        organisation.add_campaign("C", "Đợt", "P", "small", "1", today, today, ["D"])
        public_id = desk.public_id
        db.session.commit()
    return public_id


def test_every_item_type_renders_as_its_own_control(client: FlaskClient, small_survey: str) -> None:
    html = client.get(f"/s/{small_survey}").get_data(as_text=True)
    assert '<input type="checkbox" id="q-m-1" name="a_m" value="1">' in html
    assert re.search(r'<input type="text" id="q-visits" name="a_visits" inputmode="numeric"', html)
    assert re.search(r'<input type="text" id="q-hours" name="a_hours" inputmode="decimal"', html)
    assert '<textarea id="q-t" name="a_t" rows="4" maxlength="10"' in html
    assert '<label for="q-visits">' in html and "<legend>" in html


def test_a_bad_number_comes_back_with_its_message_and_value_and_stores_nothing(
    app: Flask, client: FlaskClient, small_survey: str
) -> None:
    page = read_form(client.get(f"/s/{small_survey}"))
    assert not page.action.endswith("/submit")  # one page, then the review sends
    back = client.post(
        page.action, data=page.data({"a": "2", "m": ["1", "3"], "visits": "2,5", "t": "ổn"})
    )
    html = back.get_data(as_text=True)
    assert back.status_code == 422
    assert "Vui lòng nhập số nguyên (không có phần thập phân)." in html
    assert 'value="2,5"' in html
    assert 'id="q-m-1" name="a_m" value="1" checked' in html
    assert 'id="q-m-3" name="a_m" value="3" checked' in html
    assert _count(app) == 0
    fixed = read_form(back).data({"a": "2", "m": ["1", "3"], "visits": "2", "t": "ổn"})
    review = client.post(page.action, data=fixed)
    assert review.status_code == 200 and _count(app) == 0
    final = read_form(review)
    assert final.action.endswith("/submit")
    assert client.post(final.action, data=final.data({})).status_code == 303
    assert _stored(app) == {"a": [2], "m": [1, 3], "visits": ["2"], "t": ["ổn"]}


def test_messages_follow_the_form_language(client: FlaskClient, survey: Survey) -> None:
    page = read_form(client.get(f"/s/{survey.public_id}?lang=en"))
    back = client.post(page.action, data=page.data({"I.1.1": "7"}))
    html = back.get_data(as_text=True)
    assert back.status_code == 422
    assert "see</q>: Not a valid choice; please choose again." in html
    assert (
        "<q>The government provides complete policy information that is easy to understand</q>: "
        "Please answer this question." in html
    )
    assert "2 answers need fixing" in html


def test_a_phone_that_refuses_cookies_is_told_why_the_form_cannot_be_sent(
    app: Flask, client: FlaskClient, survey: Survey
) -> None:
    page = read_form(client.get(f"/s/{survey.public_id}"))
    client.delete_cookie("session")
    response = client.post(page.action, data=page.data({"I.1.1": "3", "I.1.2": "4"}))
    assert response.status_code == 400
    assert "trình duyệt chặn cookie" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_a_final_submit_with_a_cold_form_cache_needs_one_pooled_connection(
    make_app: Callable[..., Flask],
) -> None:
    """Resolving the desk's form uses the ORM session; the INSERT takes a connection of its
    own. With a pool of one, holding both at once would wait for ever (a burst of first
    requests on a busy server is the same deadlock, spread over many threads)."""
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0, "pool_timeout": 3})
    with app.app_context():
        db.create_all()
    survey = running_survey(app)
    client = app.test_client()
    answers = full_answers()
    _response, last = walk(client, f"/s/{survey.public_id}", answers, submit=False)
    app.extensions["desk_surveys"].clear()  # the form's landing is no longer cached
    response = client.post(last.action, data=last.data(answers))
    assert response.status_code == 303
    assert _count(app) == 1
