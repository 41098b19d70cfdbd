"""The submission service: answer validation and exactly-once storage (both databases)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from scoring.questionnaire import parse_questionnaire
from survey_app.extensions import db
from survey_app.messages import citizen as citizen_messages
from survey_app.messages import text
from survey_app.models import Campaign, Desk, Submission
from survey_app.services import organisation, questionnaires, submissions
from survey_app.services.submissions import (
    AnswersRefused,
    DossierCodeSpent,
    SubmissionConflict,
    record_submission,
    stored_answers,
    validate_answers,
)
from tests.citizen_support import SMALL

SMALL_Q = parse_questionnaire(SMALL, "small.yaml")


def _errors(raw: dict[str, str | list[str]]) -> dict[str, str]:
    """Item code -> the citizen's message, for answers that must be refused."""
    with pytest.raises(AnswersRefused) as refused:
        validate_answers(SMALL_Q, raw)
    return {code: text(problem) for code, problem in refused.value.by_item().items()}


def test_valid_answers_are_typed_and_hidden_items_dropped() -> None:
    answers = validate_answers(
        SMALL_Q,
        {"a": "2", "why": "1", "m": ["3", "1"], "visits": "3", "hours": "1,5", "t": " ổn "},
    )
    # "why" is asked only after a = 1: its answer is ignored, never stored.
    assert answers == {
        "a": 2,
        "m": [1, 3],
        "visits": Decimal("3"),
        "hours": Decimal("1.5"),
        "t": "ổn",
    }


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ({"a": "1"}, "why", "Vui lòng trả lời câu hỏi này."),
        ({}, "a", "Vui lòng trả lời câu hỏi này."),
        ({"a": "7"}, "a", "Lựa chọn không hợp lệ, vui lòng chọn lại."),
        ({"a": "một"}, "a", "Lựa chọn không hợp lệ, vui lòng chọn lại."),
        ({"a": ["1", "2"]}, "a", "Chỉ được chọn một phương án."),
        ({"a": "2", "m": ["1", "4"]}, "m", "Lựa chọn không hợp lệ, vui lòng chọn lại."),
        ({"a": "2", "visits": "21"}, "visits", "Vui lòng nhập số từ 0 đến 20."),
        ({"a": "2", "visits": "-1"}, "visits", "Vui lòng nhập số từ 0 đến 20."),
        ({"a": "2", "visits": "2,5"}, "visits", citizen_messages.MESSAGES["answer.not_integer"]),
        ({"a": "2", "visits": "hai"}, "visits", "Vui lòng nhập một số (ví dụ: 3)."),
        ({"a": "2", "hours": "NaN"}, "hours", "Vui lòng nhập một số (ví dụ: 3)."),
        ({"a": "2", "hours": "101"}, "hours", "Vui lòng nhập số không lớn hơn 100."),
        ({"a": "2", "t": "x" * 11}, "t", "Câu trả lời dài quá 10 ký tự (hiện có 11 ký tự)."),
        ({"a": "2", "nope": "1"}, "nope", "Câu hỏi này không có trong phiếu khảo sát."),
    ],
)
def test_invalid_answers_get_a_vietnamese_message_on_their_item(
    raw: dict[str, str | list[str]], code: str, message: str
) -> None:
    errors = _errors(raw)
    assert errors == {code: message}


def test_text_length_counts_a_browser_line_break_once() -> None:
    # Browsers send CRLF but their maxlength counts a line break as one character.
    answers = validate_answers(SMALL_Q, {"a": "2", "t": "abcd\r\nefgh"})
    assert answers["t"] == "abcd\nefgh"


def test_stored_document_ignores_order_of_keys_and_of_multiple_choice_codes() -> None:
    one = {"a": 1, "m": [3, 1], "visits": Decimal("2.000000")}
    two = {"visits": Decimal("2"), "m": [1, 3], "a": 1}
    assert stored_answers(one) == stored_answers(two) == {"a": 1, "m": [1, 3], "visits": "2"}
    assert stored_answers(one) != stored_answers({**two, "a": 2})


@pytest.fixture
def setup(app: Flask, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    with app.app_context():
        questionnaires.load_file(path)
        organisation.add_agency("P", "Tỉnh", "province")
        desk = organisation.add_desk("D", "Quầy", "P")
        today = dt.date.today()
        campaign = organisation.add_campaign(
            "C", "Đợt", "P", "small", "1", today, today + dt.timedelta(days=9), ["D"]
        )
        ids = {"desk": desk.id, "campaign": campaign.id}
        db.session.commit()
    return ids


def _record(
    ids: dict[str, int], uid: str, answers: dict, **kwargs: object
) -> submissions.StoredSubmission:
    return record_submission(
        db.session.connection(),
        uid=uid,
        campaign=db.session.get(Campaign, ids["campaign"]),
        desk=db.session.get(Desk, ids["desk"]),
        route=kwargs.pop("route", "desk_qr"),
        answers=answers,
        language="vi",
        **kwargs,
    )


def test_answers_are_stored_as_one_json_document_of_codes_decimal_strings_and_texts(
    app: Flask, setup: dict[str, int]
) -> None:
    answers = validate_answers(
        SMALL_Q, {"a": "1", "why": "2", "m": ["3", "1"], "hours": "2,250", "t": "tốt"}
    )
    with app.app_context():
        submission = _record(setup, submissions.new_uid(), answers)
        db.session.commit()
        submission_id = submission.id
        db.session.expunge_all()
        stored = db.session.get(Submission, (setup["campaign"], submission_id))
        assert stored is not None and submissions.is_receipt(stored.receipt)
        assert stored.answers == {"a": 1, "why": 2, "m": [1, 3], "hours": "2.25", "t": "tốt"}


def test_the_database_refuses_answers_that_are_not_a_json_object(
    app: Flask, setup: dict[str, int]
) -> None:
    with app.app_context():
        _record(setup, submissions.new_uid(), {"a": 2})
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(update(Submission).values(answers=[1, 2]))
        db.session.rollback()
        assert db.session.scalars(select(Submission.answers)).all() == [{"a": 2}]


def test_same_uid_same_answers_returns_the_stored_submission(
    app: Flask, setup: dict[str, int]
) -> None:
    uid = submissions.new_uid()
    with app.app_context():
        first = _record(setup, uid, {"a": 2})
        db.session.commit()
        again = _record(setup, uid, {"a": 2})
        db.session.commit()
        assert again.id == first.id and again.receipt == first.receipt
        assert db.session.scalar(select(func.count(Submission.id))) == 1


def test_same_uid_other_answers_is_a_conflict_and_changes_nothing(
    app: Flask, setup: dict[str, int]
) -> None:
    uid = submissions.new_uid()
    with app.app_context():
        _record(setup, uid, {"a": 2})
        db.session.commit()
        with pytest.raises(SubmissionConflict):
            _record(setup, uid, {"a": 1, "why": 1})
        db.session.rollback()
        assert db.session.scalars(select(Submission.answers)).all() == [{"a": 2}]


def _spy_existing(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the read-backs of what blocked an INSERT."""
    real = submissions._existing
    calls: list[int] = []

    def counted(*args: object) -> Submission | None:
        calls.append(1)
        return real(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(submissions, "_existing", counted)
    return calls


def test_a_lost_race_on_the_uid_ends_on_the_winners_submission(
    app: Flask, setup: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request stored the uid first: no check before the INSERT, which skips the
    row (UNIQUE uid), and only then is the winner read back."""
    uid = submissions.new_uid()
    with app.app_context():
        winner = _record(setup, uid, {"a": 2})
        db.session.commit()
        winner_id = winner.id
        calls = _spy_existing(monkeypatch)
        loser = _record(setup, uid, {"a": 2})
        db.session.commit()
        assert loser.id == winner_id
        assert db.session.scalar(select(func.count(Submission.id))) == 1
        assert len(calls) == 1


def test_a_lost_race_on_a_dossier_code_means_it_is_spent(
    app: Flask, setup: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        _record(setup, submissions.new_uid(), {"a": 2}, route="dossier", dossier_code="X1")
        db.session.commit()
        calls = _spy_existing(monkeypatch)
        with pytest.raises(DossierCodeSpent):
            _record(
                setup, submissions.new_uid(), {"a": 1, "why": 2}, route="dossier", dossier_code="X1"
            )
        db.session.rollback()
        assert db.session.scalar(select(func.count(Submission.id))) == 1
        assert len(calls) == 1


def test_a_taken_uid_rolls_nothing_back_in_the_callers_transaction(
    app: Flask, setup: dict[str, int]
) -> None:
    """The paper import stores its batch and many rows in one transaction: a refused row
    must not take the earlier ones with it."""
    uid = submissions.new_uid()
    with app.app_context():
        _record(setup, uid, {"a": 2})
        db.session.commit()
        earlier = _record(setup, submissions.new_uid(), {"a": 1, "why": 1})
        with pytest.raises(SubmissionConflict):
            _record(setup, uid, {"a": 1, "why": 1})
        db.session.commit()
        stored = db.session.scalars(select(Submission.id)).all()
        assert len(stored) == 2 and earlier.id in stored
        assert db.session.get(Submission, (setup["campaign"], earlier.id)).answers == {
            "a": 1,
            "why": 1,
        }


def test_receipts_use_every_symbol_in_every_position() -> None:
    receipts = [submissions.new_receipt() for _ in range(3000)]
    assert all(submissions.is_receipt(r) for r in receipts)
    for position in range(submissions.RECEIPT_LENGTH):
        seen = {r[position] for r in receipts}
        assert seen == set(submissions.RECEIPT_ALPHABET)


def test_a_receipt_collision_is_retried_with_a_new_receipt(
    app: Flask, setup: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.app_context():
        first = _record(setup, submissions.new_uid(), {"a": 2})
        db.session.commit()
        receipts = iter([first.receipt, "23456789"])
        monkeypatch.setattr(submissions, "new_receipt", lambda: next(receipts))
        second = _record(setup, submissions.new_uid(), {"a": 3})
        db.session.commit()
        assert second.receipt == "23456789" and second.id != first.id


def test_a_dossier_code_needs_the_dossier_route(app: Flask, setup: dict[str, int]) -> None:
    with app.app_context(), pytest.raises(ValueError):
        _record(setup, submissions.new_uid(), {"a": 2}, dossier_code="X2")
