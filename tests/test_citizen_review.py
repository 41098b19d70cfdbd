"""The review step (xem lại) and optional parts over HTTP, in Vietnamese and English."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Submission
from tests.citizen_support import full_answers, read_form, running_survey, walk


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Submission)) or 0


def _review_rows(html: str) -> dict[str, str]:
    """Question text -> the answer the review shows."""
    return {
        q.strip(): re.sub(r"<[^>]+>", "", a).strip()
        for q, a in re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", html, re.DOTALL)
    }


def test_the_review_lists_every_answer_by_its_label_and_sends_from_there(
    app: Flask, client: FlaskClient
) -> None:
    survey = running_survey(app)
    answers = full_answers()
    del answers["comment"]  # optional: the review says it was not answered
    response, review = walk(client, f"/s/{survey.public_id}", answers, submit=False)
    html = response.get_data(as_text=True)
    assert review.action.endswith("/submit") and review.field("step") == "11"
    assert "Xem lại phiếu trước khi gửi" in html
    rows = _review_rows(html)
    assert rows["Giới tính"] == "Nữ"
    assert rows["Độ tuổi"] == "Từ 36 đến 45 tuổi"
    assert rows[
        "Công chức ở Bộ phận một cửa có thái độ giao tiếp lịch sự, tôn trọng người dân"
    ] == ("Rất hài lòng")
    assert rows["Ông/Bà có góp ý gì thêm để cơ quan hành chính nhà nước phục vụ tốt hơn?"] == (
        "Chưa trả lời"
    )
    # II.4.1-3 follow "Có" at II.4.0, which was "Không": not listed.
    assert "Bộ phận một cửa bố trí hình thức tiếp nhận phản ánh" not in html
    # One Edit button per part, posting to the step URL with the part's number.
    edits = [b for b in review.buttons if b[1].startswith("part:")]
    assert [b[1] for b in edits] == [f"part:{n}" for n in range(11)]
    assert all(b[2] and not b[2].endswith("/submit") for b in edits)
    assert html.count("(không bắt buộc)") == 2  # the comment and the respondent block
    assert _count(app) == 0
    sent = client.post(review.action, data=review.data({}))
    assert sent.status_code == 303 and _count(app) == 1


def test_a_part_opened_from_the_review_keeps_every_answer_and_returns_to_it(
    app: Flask, client: FlaskClient
) -> None:
    survey = running_survey(app)
    _response, review = walk(client, f"/s/{survey.public_id}", full_answers(), submit=False)
    opened = client.post(review.url_for("part:4"), data=review.data({}, "part:4"))
    html = opened.get_data(as_text=True)
    part = read_form(opened)
    assert part.field("step") == "4" and part.field("review") == "1"
    assert re.search(r'id="q-II.0.1-4" name="a_II.0.1" value="4" checked', html)
    assert 'value="review"' in html and "Lưu và xem lại phiếu" in html
    # Every other answer is carried along, hidden.
    assert ("a_gender", "2") in part.hidden and ("a_I.1.1", "4") in part.hidden
    back = client.post(part.action, data=part.data(full_answers(**{"II.0.1": "2"}), "review"))
    again = read_form(back)
    assert again.field("step") == "11"
    assert _review_rows(back.get_data(as_text=True))[
        "Nơi đón tiếp, hướng dẫn và ngồi chờ tại Bộ phận một cửa có đủ chỗ ngồi"
    ] == ("Không hài lòng")


def test_optional_parts_say_so_and_required_parts_do_not(app: Flask, client: FlaskClient) -> None:
    survey = running_survey(app)
    first = client.get(f"/s/{survey.public_id}").get_data(as_text=True)
    assert "Phần này không bắt buộc" not in first
    page = read_form(client.get(f"/s/{survey.public_id}"))
    for _ in range(9):  # to the comment, the tenth part
        response = client.post(page.action, data=page.data(full_answers()))
        page = read_form(response)
    assert page.field("step") == "9"
    assert "Phần này không bắt buộc: Ông/Bà có thể bỏ qua." in response.get_data(as_text=True)


def test_the_english_form_has_an_english_review(app: Flask, client: FlaskClient) -> None:
    survey = running_survey(app)
    response, review = walk(client, f"/s/{survey.public_id}?lang=en", full_answers(), submit=False)
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Review your answers before sending" in html
    assert ">Edit</button>" in html and "(optional)" in html and ">Send</button>" in html
    rows = _review_rows(html)
    assert rows["Gender"] == "Female"
    assert rows["Officials at the one-stop desk were polite and respectful"] == "Very satisfied"
    assert "Xem lại" not in html and "Sửa" not in html
