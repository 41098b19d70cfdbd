"""Answer sums computed by the database equal the sums of the loaded frame, on SQLite and
PostgreSQL; the index tree from them equals the table the app computes today.

The campaign mixes routes (QR poster, dossier code, paper form), items skipped by
``show_if``, "no opinion" answers (code 9, not valid), blank answers and respondents who
did not say their gender, and answers on either side of a month boundary in Vietnam's
time: 31 January 17:30 UTC is 1 February 00:30 in Hà Tĩnh.
"""

from __future__ import annotations

import datetime as dt
import uuid

import numpy as np
import pandas as pd
import pytest
from flask import Flask

from scoring.answer_sums import AnswerSums, index_tree_from_sums, sum_answers
from scoring.errors import DesignColumnError
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import Questionnaire
from survey_app.extensions import db
from survey_app.models import Desk
from survey_app.services import analysis
from survey_app.services.analysis.designs import build_design, design_spec
from survey_app.services.analysis.sums import database_sums
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import record_submission
from survey_app.services.weighting_settings import WeightingSettings
from tests.dashboard_setup import campaign, province
from tests.scoring.test_answer_sums import assert_same_tables

N = 300
# (stored instant in UTC, month in Vietnam): either side of local midnight at a month's end.
BOUNDARY = [
    (dt.datetime(2026, 1, 31, 16, 59, 59, 999999), "2026-01"),
    (dt.datetime(2026, 1, 31, 17, 0), "2026-02"),
    (dt.datetime(2026, 1, 31, 17, 30), "2026-02"),
    (dt.datetime(2026, 3, 31, 16, 59, 59), "2026-03"),
    (dt.datetime(2026, 3, 31, 17, 0, 0, 1), "2026-04"),
]


def _record(answers: dict[str, int], at: dt.datetime, route: str = "desk_qr") -> None:
    record_submission(
        db.session.connection(),
        uid=str(uuid.uuid4()),
        campaign=campaign("SIPAS-2026"),
        desk=db.session.scalars(db.select(Desk).filter_by(code="STP-01")).one(),
        route=route,
        answers=answers,
        language="vi",
        submitted_at=at,
    )


def _edge_cases() -> None:
    """Blank and partial answers, no gender, and answers at month boundaries."""
    documents: list[dict[str, int]] = [
        {},
        {"I.1.1": 5},
        {"I.1.1": 9, "I.1.2": 1, "gender": 2},
        {"II.4.0": 1, "I.2.1": 3, "age_group": 5},
        {"I.1.1": 4, "I.1.2": 4, "gender": 1},
    ]
    for (at, _), answers in zip(BOUNDARY, documents, strict=True):
        for route in ("desk_qr", "paper"):
            _record(answers, at, route)
    db.session.commit()


@pytest.fixture
def mixed(app: Flask) -> Flask:
    province(app, N)
    with app.app_context():
        _edge_cases()
    analysis.clear_caches()
    return app


def assert_same_sums(got: AnswerSums, expected: AnswerSums) -> None:
    """Same groups in the same order, same keys (values and types), same counts exactly."""
    pd.testing.assert_frame_equal(got.keys, expected.keys)
    assert got.leaves == expected.leaves
    for name in ("rows", "states", "reached", "gram"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name), err_msg=name)


def _questionnaire() -> Questionnaire:
    return definition(campaign("SIPAS-2026").questionnaire_version)


def _frame() -> pd.DataFrame:
    """The app's analysis frame, with each submission's month in Vietnam's time."""
    frame = analysis.load_responses(campaign("SIPAS-2026")).frame
    return frame.assign(month=frame["submitted_at"].dt.strftime("%Y-%m").astype(object))


BYS = [
    [],
    ["desk"],
    ["agency", "month"],
    ["gender"],
    ["desk", "age_group"],
]


@pytest.mark.parametrize("by", BYS, ids=lambda by: "-".join(by) or "none")
def test_database_sums_equal_the_sums_of_the_loaded_frame(mixed: Flask, by: list[str]) -> None:
    with mixed.app_context():
        c = campaign("SIPAS-2026")
        frame = _frame()
        expected = sum_answers(_questionnaire(), frame, by)
        assert_same_sums(database_sums(c, by), expected)


def test_months_are_vietnams_at_the_boundaries(app: Flask) -> None:
    """Only the boundary answers, a QR and a paper form at each instant of BOUNDARY."""
    province(app, 0)
    with app.app_context():
        _edge_cases()
        sums = database_sums(campaign("SIPAS-2026"), ["month"])
    assert sums.keys["month"].tolist() == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert sums.rows.tolist() == [2.0, 4.0, 2.0, 2.0]


@pytest.mark.parametrize(
    "settings",
    [
        WeightingSettings(),
        WeightingSettings(strata="agency", cluster="desk"),
        WeightingSettings(strata="desk"),
    ],
    ids=["unweighted", "agency-strata-desk-clusters", "desk-strata"],
)
def test_index_tree_from_database_sums_equals_the_apps_table(
    mixed: Flask, settings: WeightingSettings
) -> None:
    domains: list[str | None] = [None, "desk", "gender"]
    with mixed.app_context():
        c = campaign("SIPAS-2026")
        q = _questionnaire()
        frame = analysis.load_responses(c).frame
        today = compute_index_tree(q, build_design(frame, settings), domains, level=settings.level)
        sums = database_sums(c, ["agency", "desk", "gender"])
    from_sums = index_tree_from_sums(q, sums, design_spec(settings), domains, level=settings.level)
    # Figures within 1e-10; deff and n_eff not where the variance is 0 but for rounding.
    assert_same_tables(from_sums, today)


def test_a_pattern_shared_by_many_is_counted_in_full(app: Flask) -> None:
    """123 alike answers and one other: the database sends a pattern's count as digits."""
    province(app, 0)
    alike = {"I.1.1": 5, "I.1.2": 4, "II.4.0": 1, "II.4.1": 3, "gender": 1}
    with app.app_context():
        for _ in range(123):
            _record(alike, dt.datetime(2026, 2, 1, 3))
        _record({"I.1.1": 2}, dt.datetime(2026, 2, 1, 3))
        db.session.commit()
        sums = database_sums(campaign("SIPAS-2026"), ["gender"])
        expected = sum_answers(_questionnaire(), _frame(), ["gender"])
    assert sums.rows.tolist() == [123.0, 1.0]  # gender 1, then no gender
    assert_same_sums(sums, expected)


def test_an_empty_campaign_has_no_groups(app: Flask) -> None:
    province(app, 0)
    with app.app_context():
        sums = database_sums(campaign("SIPAS-2026"), ["desk"])
    assert isinstance(sums, AnswerSums)
    assert sums.n == 0 and len(sums.keys) == 0
    assert sums.gram.shape == (0, 60, 60)
    assert list(sums.keys.columns) == ["desk"]


def test_only_desk_agency_month_and_respondent_items_group(mixed: Flask) -> None:
    """An index item is no grouping column (its answers are the sums' states)."""
    with mixed.app_context(), pytest.raises(DesignColumnError, match="I.1.1"):
        database_sums(campaign("SIPAS-2026"), ["desk", "I.1.1"])
