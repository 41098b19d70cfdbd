"""The form's length (questions, estimated minutes) on the desk poster and the first page."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from scoring.questionnaire import parse_questionnaire
from survey_app.extensions import db
from survey_app.models import Desk
from survey_app.services import organisation, posters
from survey_app.services.form_length import FormLength, form_length
from tests.citizen_support import SIPAS_2023, running_survey

# Two rated statements of 5 words sharing a two-option scale, a conditional follow-up
# (not asked of everyone), a free text of 4 words, and one respondent question.
TINY = """
schema: 1
id: tiny
version: "1"
title: {vi: Thử, en: Test}
languages: [vi, en]
scales:
  yes_no:
    options:
      - {code: 1, label: {vi: Có, en: "Yes"}}
      - {code: 2, label: {vi: Không, en: "No"}}
sections:
  - code: A
    title: {vi: Phần A, en: Part A}
    items:
      - code: a1
        text: {vi: một hai ba bốn năm, en: one two three four five}
        type: single
        scale: yes_no
        required: true
      - code: a2
        text: {vi: sáu bảy tám chín mười, en: six seven eight nine ten}
        type: single
        scale: yes_no
      - code: a3
        text: {vi: chỉ khi có, en: only if yes}
        type: single
        scale: yes_no
        show_if: {item: a1, in: [1]}
  - code: B
    title: {vi: Phần B, en: Part B}
    items:
      - {code: b, text: {vi: góp ý thêm gì không, en: any other comments please}, type: text}
respondent:
  - code: g
    text: {vi: Giới tính, en: Gender}
    type: single
    options:
      - {code: 1, label: {vi: Nam, en: Male}}
      - {code: 2, label: {vi: Nữ, en: Female}}
"""


def test_length_counts_the_questions_everyone_is_asked_and_reading_plus_answering() -> None:
    q = parse_questionnaire(TINY, "tiny.yaml")
    # Asked of everyone: a1, a2, b, g (a3 only after "Có"): 4 questions.
    # Words read (vi): 5 + 5 + 4 + 2 (questions) + 2 (Có, Không: once for a1 and a2)
    # + 2 (Nam, Nữ) = 20 words at 180 a minute = 6.67 s; answering 4 + 4 + 30 + 4 = 42 s;
    # 3 pages x 4 s = 12 s. 60.67 s, rounded up: 2 minutes.
    assert form_length(q, "vi") == FormLength(questions=4, minutes=2)
    # en: "Yes", "No", "Male", "Female" are one word each, the questions 5 + 5 + 4 + 1:
    # 19 words = 6.33 s; 60.33 s: still 2 minutes. An unknown language reads the default.
    assert form_length(q, "en") == FormLength(questions=4, minutes=2)
    assert form_length(q, "fr") == form_length(q, "vi")


def test_sipas_2023_asks_35_questions_of_everyone() -> None:
    q = parse_questionnaire(SIPAS_2023.read_text(encoding="utf-8"), "sipas-2023.yaml")
    # 29 in the criteria groups (II.4.1-3 follow II.4.0 = "Có"), the comment, 5 respondent.
    length = form_length(q)
    assert length.questions == 2 + 2 + 6 + 4 + 4 + 3 + 3 + 3 + 1 + 1 + 6
    assert 5 <= length.minutes <= 12


def test_the_first_page_says_how_many_questions_and_how_long(
    app: Flask, client: FlaskClient
) -> None:
    survey = running_survey(app)
    with app.app_context():
        q = parse_questionnaire(SIPAS_2023.read_text(encoding="utf-8"), "sipas-2023.yaml")
        vi, en = form_length(q, "vi"), form_length(q, "en")
    html = client.get(f"/s/{survey.public_id}").get_data(as_text=True)
    assert f"{vi.questions} câu hỏi, khoảng {vi.minutes} phút" in html
    english = client.get(f"/s/{survey.public_id}?lang=en").get_data(as_text=True)
    assert f"{en.questions} questions, about {en.minutes} min" in english


def test_the_poster_says_how_many_questions_and_how_long(app: Flask) -> None:
    survey = running_survey(app)
    with app.app_context():
        organisation.add_desk("D2", "Quầy chưa có đợt", "P-S")
        db.session.commit()
        q = parse_questionnaire(SIPAS_2023.read_text(encoding="utf-8"), "sipas-2023.yaml")
        length = form_length(q)
        running = db.session.scalar(db.select(Desk).filter_by(code=survey.desk_code))
        idle = db.session.scalar(db.select(Desk).filter_by(code="D2"))
        assert running is not None and idle is not None
        svg = posters.poster_svg(running)
        idle_svg = posters.poster_svg(idle)
    line = f"Phiếu có {length.questions} câu hỏi, trả lời trong khoảng {length.minutes} phút"
    assert f">{line}</text>" in svg
    # A desk without a running campaign gets a poster without figures it cannot know.
    assert "câu hỏi, trả lời trong khoảng" not in idle_svg
