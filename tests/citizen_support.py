"""Helpers for the citizen form tests: a running SIPAS 2023 campaign and a tiny form reader."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict
from werkzeug.test import TestResponse

from survey_app import localtime
from survey_app.extensions import db
from survey_app.services import organisation, questionnaires

ROOT = Path(__file__).resolve().parents[1]
SIPAS_2023 = ROOT / "questionnaires" / "sipas-2023.yaml"

SATISFACTION_ITEMS = (
    [f"I.1.{i}" for i in (1, 2)]
    + [f"I.2.{i}" for i in (1, 2)]
    + [f"I.3.{i}" for i in range(1, 7)]
    + [f"I.4.{i}" for i in range(1, 5)]
    + [f"II.0.{i}" for i in range(1, 5)]
    + [f"II.{g}.{i}" for g in (1, 2, 3) for i in (1, 2, 3)]
)

# A one-page questionnaire with every item type: single, skip logic, multiple, number, text.
SMALL = """\
schema: 1
id: small
version: "1"
title: {vi: Phiếu nhỏ}
languages: [vi]
sections:
  - code: S
    title: {vi: Phần một}
    items:
      - code: a
        text: {vi: "Hài lòng không?"}
        type: single
        required: true
        options:
          - {code: 1, label: {vi: Có}}
          - {code: 2, label: {vi: Không}}
          - {code: 9, label: {vi: Không biết}, valid: false}
      - code: why
        text: {vi: "Vì sao hài lòng?"}
        type: single
        required: true
        show_if: {item: a, in: [1]}
        options:
          - {code: 1, label: {vi: Nhanh}}
          - {code: 2, label: {vi: Lịch sự}}
      - code: m
        text: {vi: "Ông/Bà đã dùng kênh nào?"}
        type: multiple
        options:
          - {code: 1, label: {vi: Trực tiếp}}
          - {code: 2, label: {vi: Bưu chính}}
          - {code: 3, label: {vi: Trực tuyến}}
      - code: visits
        text: {vi: Số lần đi lại}
        type: number
        min: 0
        max: 20
        integer: true
      - code: hours
        text: {vi: Số giờ chờ}
        type: number
        max: 100
      - code: t
        text: {vi: Góp ý}
        type: text
        max_length: 10
"""


def full_answers(**changes: str | list[str]) -> dict[str, str | list[str]]:
    """A complete, valid SIPAS 2023 response (no feedback filed, so II.4.1-3 are skipped)."""
    answers: dict[str, str | list[str]] = {code: "4" for code in SATISFACTION_ITEMS}
    answers.update(
        {
            "I.3.4": "9",  # "Không có ý kiến": an answer, though not a valid one
            "II.2.1": "5",
            "II.4.0": "2",
            "comment": "Cán bộ nhiệt tình.",
            "gender": "2",
            "age_group": "3",
            "ethnicity": "1",
            "education": "5",
            "occupation": "4",
            "field": "2",
        }
    )
    answers.update(changes)
    return answers


@dataclass
class Survey:
    public_id: str
    desk_code: str
    campaign_id: int
    version_id: int


def running_survey(app: Flask, *, today: dt.date | None = None, desk: str = "D1") -> Survey:
    """SIPAS 2023 loaded, one province, one desk, a campaign running today."""
    with app.app_context():
        today = today or localtime.today()  # the surveys' date, not the machine's
        version, _ = questionnaires.load_file(SIPAS_2023)
        organisation.add_agency("P", "Tỉnh Thử", "province")
        organisation.add_agency("P-S", "Sở Tư pháp", "department", "P")
        row = organisation.add_desk(desk, "Quầy Sở Tư pháp", "P-S")
        campaign = organisation.add_campaign(
            "C",
            "Khảo sát SIPAS thử",
            "P",
            "sipas-2023",
            "2023.1",
            today - dt.timedelta(days=30),
            today + dt.timedelta(days=30),
            [desk],
        )
        survey = Survey(row.public_id, row.code, campaign.id, version.id)
        db.session.commit()
    return survey


@dataclass
class FormPage:
    """What a rendered form step holds: where it posts, hidden fields, visible questions."""

    action: str = ""
    hidden: list[tuple[str, str]] = field(default_factory=list)
    visible: dict[str, list[str]] = field(default_factory=dict)
    buttons: list[tuple[str, str, str | None]] = field(default_factory=list)

    @property
    def token(self) -> str:
        return dict(self.hidden)["csrf_token"]

    def field(self, name: str) -> str:
        return dict(self.hidden)[name]

    def data(
        self, answers: dict[str, str | list[str]], action: str = "next"
    ) -> MultiDict[str, str]:
        """The POST body a browser sends: hidden fields, answers to visible items, a button."""
        out = list(self.hidden)
        for code, value in answers.items():
            if "a_" + code in self.visible:
                for v in [value] if isinstance(value, str) else value:
                    out.append(("a_" + code, v))
        out.append(("action", action))
        return MultiDict(out)

    def url_for(self, action: str) -> str:
        for _name, value, formaction in self.buttons:
            if value == action and formaction:
                return formaction
        return self.action


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = FormPage()
        self.in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "survey" in a.get("class", ""):
            self.in_form = True
            self.page.action = a["action"]
        if not self.in_form:
            return
        if tag == "input" and a.get("type") == "hidden":
            self.page.hidden.append((a["name"], a.get("value", "")))
        elif tag in ("input", "textarea") and a.get("name"):
            self.page.visible.setdefault(a["name"], []).append(a.get("value", ""))
        elif tag == "button":
            self.page.buttons.append((a.get("name", ""), a.get("value", ""), a.get("formaction")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False


def read_form(response: TestResponse) -> FormPage:
    reader = _Reader()
    reader.feed(response.get_data(as_text=True))
    assert reader.page.action, "no survey form on the page"
    return reader.page


def walk(
    client: FlaskClient,
    url: str,
    answers: dict[str, str | list[str]],
    *,
    submit: bool = True,
    max_steps: int = 30,
) -> tuple[TestResponse, FormPage]:
    """Open a form and press "next" on every step with ``answers``; stop on the first
    response that is not a plain next step (a redirect, an error page, a form with errors),
    or, with ``submit=False``, on the last step before pressing "send"."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    page = read_form(response)
    for _ in range(max_steps):
        step = page.field("step")
        if not submit and page.action.endswith("/submit"):
            return response, page
        response = client.post(page.action, data=page.data(answers))
        if response.status_code != 200:
            return response, page
        page = read_form(response)
        if page.field("step") == step:
            return response, page
    raise AssertionError("the form never ended")
