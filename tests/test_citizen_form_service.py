"""The citizen form's steps as a service: every transition, without a request."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import Submission
from survey_app.services import (
    citizen_form,
    desk_surveys,
    organisation,
    questionnaires,
    submissions,
)
from survey_app.services.citizen_form import (
    CampaignChanged,
    FormState,
    FormTarget,
    NoDeskLimit,
    ShowStep,
    Stored,
)
from survey_app.services.desk_surveys import DeskRef
from survey_app.services.errors import Problem, ServiceError
from survey_app.services.submissions import DeskFull, SubmissionConflict

# Two criteria groups and the respondent block: three steps. "why" (step 2) is asked only
# when "a" (step 1) is 1; "gender" (step 3) is required.
STEPS = """\
schema: 1
id: steps
version: "1"
title: {vi: Phiếu ba phần, en: Three parts, fr: Trois parties}
languages: [vi, en, fr]
sections:
  - code: A
    title: {vi: Phần A, en: Part A, fr: Partie A}
    items:
      - code: a
        text: {vi: "Hài lòng không?", en: "Satisfied?", fr: "Satisfait ?"}
        type: single
        required: true
        options:
          - {code: 1, label: {vi: Có, en: "Yes", fr: Oui}}
          - {code: 2, label: {vi: Không, en: "No", fr: Non}}
  - code: B
    title: {vi: Phần B, en: Part B, fr: Partie B}
    items:
      - code: why
        text: {vi: "Vì sao?", en: "Why?", fr: "Pourquoi ?"}
        type: single
        required: true
        show_if: {item: a, in: [1]}
        options:
          - {code: 1, label: {vi: Nhanh, en: Fast, fr: Rapide}}
          - {code: 2, label: {vi: Lịch sự, en: Polite, fr: Poli}}
      - code: visits
        text: {vi: Số lần đi lại, en: Visits, fr: Visites}
        type: number
        min: 0
        max: 20
        integer: true
respondent:
  - code: gender
    text: {vi: Giới tính, en: Gender, fr: Sexe}
    type: single
    required: true
    options:
      - {code: 1, label: {vi: Nam, en: Male, fr: Homme}}
      - {code: 2, label: {vi: Nữ, en: Female, fr: Femme}}
"""

COMPLETE = {"a": ["2"], "visits": ["3"], "gender": ["1"]}


class CountingLimit:
    """A desk limit a test opens and closes, counting what was stored."""

    def __init__(self, open_: bool = True) -> None:
        self.is_open = open_
        self.counted: list[str] = []

    def open(self, desk: DeskRef) -> bool:
        return self.is_open

    def count(self, desk: DeskRef) -> None:
        self.counted.append(desk.public_id)


@pytest.fixture
def target(app: Flask, tmp_path: Path) -> FormTarget:
    path = tmp_path / "steps.yaml"
    path.write_text(STEPS, encoding="utf-8")
    with app.app_context():
        questionnaires.load_file(path)
        organisation.add_agency("P", "Tỉnh", "province")
        desk = organisation.add_desk("D", "Quầy", "P")
        today = dt.date.today()
        organisation.add_campaign(
            "C",
            "Đợt",
            "P",
            "steps",
            "1",
            today - dt.timedelta(days=1),
            today + dt.timedelta(days=1),
            ["D"],
        )
        db.session.commit()
        survey = desk_surveys.desk_survey(desk.public_id, today)
    return FormTarget(survey.desk, survey.campaign, survey.questionnaire, "desk_qr", None)


def _state(target: FormTarget, step: int, raw: dict[str, list[str]], lang: str = "vi") -> FormState:
    return FormState(
        uid=submissions.new_uid(), campaign=str(target.campaign.id), lang=lang, step=step, raw=raw
    )


def _advance(
    target: FormTarget, state: FormState, action: str = "next", *, final: bool = False, **kw: object
) -> citizen_form.Outcome:
    kw.setdefault("desk_limit", NoDeskLimit())
    return citizen_form.advance(target, state, action, final=final, **kw)  # type: ignore[arg-type]


def _count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Submission.id))) or 0


# --------------------------------------------------------------------------- steps


def test_a_form_starts_on_its_first_step_with_a_fresh_id_in_a_language_it_has(
    target: FormTarget,
) -> None:
    first = citizen_form.start(target.questionnaire, target.campaign, "en")
    again = citizen_form.start(target.questionnaire, target.campaign, "xx")
    assert (first.step, first.lang, dict(first.raw)) == (0, "en", {})
    assert again.lang == "vi" and submissions.parse_uid(first.uid) == first.uid != again.uid


def test_the_steps_are_the_groups_then_the_respondent_block(app: Flask, target: FormTarget) -> None:
    with app.test_request_context("/"):
        pages = citizen_form.steps(target.questionnaire, "fr")
        assert [str(p.title) for p in pages] == ["Partie A", "Partie B", "Thông tin về Ông/Bà"]
        assert [[i.code for i in p.items] for p in pages] == [["a"], ["why", "visits"], ["gender"]]
        assert citizen_form.step_of(pages, "visits") == 1
        assert citizen_form.step_of(pages, "nope") is None


def test_next_with_the_steps_answers_shows_the_next_step(app: Flask, target: FormTarget) -> None:
    with app.app_context():
        assert _advance(target, _state(target, 0, {"a": ["2"]})) == ShowStep(1, "vi")
        assert _advance(target, _state(target, 1, {"a": ["2"]})) == ShowStep(2, "vi")


def test_next_on_the_last_part_shows_the_review_and_the_review_stays_without_the_final_post(
    app: Flask, target: FormTarget
) -> None:
    with app.app_context():
        assert citizen_form.review_step(target.questionnaire) == 3
        assert _advance(target, _state(target, 2, COMPLETE)) == ShowStep(3, "vi")
        assert _advance(target, _state(target, 3, COMPLETE)) == ShowStep(3, "vi")
        assert _advance(target, _state(target, 3, COMPLETE), "back") == ShowStep(2, "vi")
        assert _count(app) == 0


def test_a_part_opened_from_the_review_returns_to_it(app: Flask, target: FormTarget) -> None:
    with app.app_context():
        review = _state(target, 3, COMPLETE)
        assert _advance(target, review, "part:1") == ShowStep(1, "vi", reviewing=True)
        assert _advance(target, review, "part:9") == ShowStep(2, "vi", reviewing=True)
        assert _advance(target, review, "part:x") == ShowStep(0, "vi", reviewing=True)
        assert _advance(target, review, "part:²") == ShowStep(0, "vi", reviewing=True)
        assert _advance(target, review, "part:" + "9" * 5000) == ShowStep(0, "vi", reviewing=True)
        editing = replace(review, step=1, reviewing=True)
        # "next" on a part opened from the review goes back to the review, not to part 3.
        assert _advance(target, editing) == ShowStep(3, "vi")
        assert _advance(target, editing, "review") == ShowStep(3, "vi")
        assert _advance(target, editing, "lang:en") == ShowStep(1, "en", reviewing=True)
        assert _advance(target, editing, "back") == ShowStep(0, "vi", reviewing=True)
        assert _count(app) == 0


def test_returning_to_the_review_checks_every_part(app: Flask, target: FormTarget) -> None:
    # The edit on part 0 is fine, but part 2's "gender" is missing: the review is not
    # shown with a hole in it; part 2 is, with its problem, still returning to the review.
    with app.app_context():
        answers = {k: v for k, v in COMPLETE.items() if k != "gender"}
        editing = replace(_state(target, 0, answers), reviewing=True)
        outcome = _advance(target, editing, "review")
    assert outcome == ShowStep(
        2, "vi", {"gender": Problem("answer.required", field="gender")}, 422, reviewing=True
    )


def test_an_unknown_action_means_next(app: Flask, target: FormTarget) -> None:
    with app.app_context():
        assert _advance(target, _state(target, 0, {"a": ["2"]}), "whatever") == ShowStep(1, "vi")


def test_back_shows_the_step_before_without_checking_anything(
    app: Flask, target: FormTarget
) -> None:
    # Answers stay in the state the view draws the step from: going back loses none, and
    # a wrong answer on the step being left is no reason to stay.
    with app.app_context():
        state = _state(target, 2, {"a": ["7"], "visits": ["99"]})
        assert _advance(target, state, "back") == ShowStep(1, "vi")
        assert _advance(target, replace(state, step=0), "back") == ShowStep(0, "vi")


def test_a_language_change_shows_the_same_step_in_that_language(
    app: Flask, target: FormTarget
) -> None:
    with app.app_context():
        state = _state(target, 1, {"a": ["1"]})
        assert _advance(target, state, "lang:fr") == ShowStep(1, "fr")
        assert _advance(target, state, "lang:de") == ShowStep(1, "vi")  # not on the form


def test_a_step_out_of_range_is_read_as_the_nearest_step(app: Flask, target: FormTarget) -> None:
    with app.app_context():
        assert _advance(target, _state(target, -5, {}), "lang:en") == ShowStep(0, "en")
        assert _advance(target, _state(target, 99, {}), "back") == ShowStep(2, "vi")


def test_a_non_vietnamese_form_has_an_english_interface() -> None:
    assert [citizen_form.interface_language(lang) for lang in ("vi", "en", "fr", "zh")] == [
        "vi",
        "en",
        "en",
        "en",
    ]


# --------------------------------------------------------------------------- checks


def test_a_required_item_left_empty_keeps_the_citizen_on_its_step(
    app: Flask, target: FormTarget
) -> None:
    with app.app_context():
        outcome = _advance(target, _state(target, 0, {}))
    assert outcome == ShowStep(0, "vi", {"a": Problem("answer.required", field="a")}, 422)


def test_next_checks_this_and_earlier_steps_only(app: Flask, target: FormTarget) -> None:
    # "gender" (step 3) is missing, but it is not asked yet; "a" (step 1) is wrong.
    with app.app_context():
        assert _advance(target, _state(target, 0, {"a": ["2"]})) == ShowStep(1, "vi")
        outcome = _advance(target, _state(target, 1, {"a": ["5"], "visits": ["1"]}))
    assert outcome == ShowStep(0, "vi", {"a": Problem("answer.not_option", field="a")}, 422)


def test_skip_logic_asks_a_shown_item_and_drops_a_hidden_one(
    app: Flask, target: FormTarget
) -> None:
    with app.app_context():
        # a = 1 shows "why", which is required.
        shown = _advance(target, _state(target, 1, {"a": ["1"]}))
        assert shown == ShowStep(1, "vi", {"why": Problem("answer.required", field="why")}, 422)
        # a = 2 hides it: no answer needed, and one given is neither checked nor stored.
        hidden = _advance(target, _state(target, 1, {"a": ["2"], "why": ["7"]}))
        assert hidden == ShowStep(2, "vi")
        stored = _advance(target, _state(target, 2, {**COMPLETE, "why": ["1"]}), final=True)
        assert isinstance(stored, Stored)
        row = db.session.scalars(select(Submission)).one()
        assert row.answers == {"a": 2, "visits": "3", "gender": 1}


def test_the_final_post_shows_the_first_step_with_a_problem(app: Flask, target: FormTarget) -> None:
    with app.app_context():
        raw = {"a": ["1"], "visits": ["21"]}
        outcome = _advance(target, _state(target, 2, raw), final=True)
    assert outcome == ShowStep(
        1,
        "vi",
        {
            "why": Problem("answer.required", field="why"),
            "visits": Problem("answer.out_of_range", {"minimum": 0, "maximum": 20}, "visits"),
        },
        422,
    )
    assert _count(app) == 0


def test_a_field_the_form_never_had_stops_the_final_post_on_its_step(
    app: Flask, target: FormTarget
) -> None:
    with app.app_context():
        state = _state(target, 2, {**COMPLETE, "nope": ["1"]})
        assert _advance(target, state) == ShowStep(3, "vi")  # not the final POST: goes on
        outcome = _advance(target, state, final=True)
    assert outcome == ShowStep(2, "vi", {"nope": Problem("answer.unknown", field="nope")}, 422)
    assert _count(app) == 0


def test_a_form_of_another_campaign_is_refused(app: Flask, target: FormTarget) -> None:
    with app.app_context():
        state = replace(_state(target, 0, COMPLETE), campaign=str(target.campaign.id + 1))
        with pytest.raises(CampaignChanged) as refused:
            _advance(target, state, final=True)
    assert isinstance(refused.value, ServiceError)
    assert refused.value.problem.code == "citizen.campaign_changed"
    assert _count(app) == 0


# --------------------------------------------------------------------------- storing


def test_the_final_post_stores_once_and_a_retry_gets_the_same_receipt(
    app: Flask, target: FormTarget
) -> None:
    state = _state(target, 2, COMPLETE)
    limit = CountingLimit()
    with app.app_context():
        first = _advance(target, state, final=True, desk_limit=limit, client_hash="h")
        again = _advance(target, state, final=True, desk_limit=limit, client_hash="h")
        row = db.session.scalars(select(Submission)).one()
        assert (row.uid, row.route, row.language, row.client_hash) == (
            state.uid,
            "desk_qr",
            "vi",
            "h",
        )
    assert first == Stored(row.receipt, new=True)
    assert again == Stored(row.receipt, new=False)
    assert limit.counted == [target.desk.public_id]  # the retry is not counted
    assert _count(app) == 1


def test_the_form_language_is_stored(app: Flask, target: FormTarget) -> None:
    with app.app_context():
        _advance(target, _state(target, 2, COMPLETE, lang="fr"), final=True)
        assert db.session.scalars(select(Submission.language)).one() == "fr"


def test_the_same_id_with_other_answers_is_a_conflict(app: Flask, target: FormTarget) -> None:
    state = _state(target, 2, COMPLETE)
    with app.app_context():
        _advance(target, state, final=True)
        other = replace(state, raw={**COMPLETE, "gender": ["2"]})
        with pytest.raises(SubmissionConflict) as refused:
            _advance(target, other, final=True)
        assert refused.value.problem.code == "citizen.conflict"
        assert db.session.scalars(select(Submission.answers)).one()["gender"] == 1


def test_a_desk_at_its_limit_stores_nothing_new_but_a_retry_keeps_its_receipt(
    app: Flask, target: FormTarget
) -> None:
    earlier = _state(target, 2, COMPLETE)
    limit = CountingLimit()
    with app.app_context():
        stored = _advance(target, earlier, final=True, desk_limit=limit)
        limit.is_open = False
        with pytest.raises(DeskFull) as refused:
            _advance(target, _state(target, 2, COMPLETE), final=True, desk_limit=limit)
        assert (refused.value.status, refused.value.problem.code) == (429, "citizen.rate_limited")
        retried = _advance(target, earlier, final=True, desk_limit=limit)
    assert isinstance(stored, Stored) and retried == Stored(stored.receipt, new=False)
    assert limit.counted == [target.desk.public_id]
    assert _count(app) == 1


def test_a_closed_desk_still_refuses_a_conflicting_retry(app: Flask, target: FormTarget) -> None:
    earlier = _state(target, 2, COMPLETE)
    with app.app_context():
        _advance(target, earlier, final=True)
        other = replace(earlier, raw={**COMPLETE, "visits": ["4"]})
        with pytest.raises(SubmissionConflict):
            _advance(target, other, final=True, desk_limit=CountingLimit(open_=False))
    assert _count(app) == 1
