"""A sample that cannot be estimated as designed is refused in words that name the class or
the cell (the committed tables of tests/test_sample_estimates_r.py, without the database)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from flask import Flask

from survey_app.messages import text
from survey_app.services.sample_estimates import DesignSettings, SampleError, weigh
from survey_app.services.sample_estimates.tables import class_labels

FIXTURES = Path(__file__).parent / "scoring" / "fixtures"
STRATA = ("agency", "procedure_field")


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    read = {"keep_default_na": False, "na_values": [""]}
    dossiers = pd.read_csv(FIXTURES / "sample_estimates_dossiers.csv", **read)
    frame = pd.read_csv(FIXTURES / "sample_estimates_frame.csv", **read)
    return dossiers, frame


def refusal(
    dossiers: pd.DataFrame, frame: pd.DataFrame, settings: DesignSettings
) -> tuple[str, str]:
    with pytest.raises(SampleError) as caught:
        weigh(dossiers, frame, settings)
    return caught.value.problem.code, text(caught.value.problem)


def test_a_class_without_respondents_is_named(app: Flask) -> None:
    dossiers, frame = tables()
    silent = (dossiers["agency"] == "D") & (dossiers["channel"] == "online")
    dossiers.loc[silent, "responded"] = 0
    dossiers.loc[silent, "disposition"] = "no_answer"
    dossiers["class"] = class_labels(dossiers, ["agency", "channel"])
    with app.test_request_context():
        code, words = refusal(dossiers, frame, DesignSettings(STRATA, ("agency", "channel")))
    assert code == "sample.empty_class"
    assert "“D | online”" in words and f"có {int(silent.sum())} hồ sơ được chọn" in words


def test_calibration_that_cannot_meet_its_bounds_names_the_cell(app: Flask) -> None:
    dossiers, frame = tables()
    settings = DesignSettings(
        STRATA,
        ("agency", "channel"),
        formula="~agency + procedure_field + channel",
        calfun="raking",
        bounds=(0.99, 1.01),
    )
    with app.test_request_context():
        code, words = refusal(dossiers, frame, settings)
    assert code == "sample.calibration_failed"
    assert "Hiệu chỉnh trọng số không hội tụ" in words and "ô “" in words


def test_a_frame_cell_without_respondents_is_named(app: Flask) -> None:
    dossiers, frame = tables()
    extra = frame.iloc[[0]].assign(procedure_field="F9", returned=40, selected=0)
    frame = pd.concat([frame, extra], ignore_index=True)
    settings = DesignSettings(STRATA, (), formula="~agency + procedure_field")
    with app.test_request_context():
        code, words = refusal(dossiers, frame, settings)
    assert code == "sample.cell_without_respondents"
    assert "procedure_field = F9" in words and "40 hồ sơ" in words


def test_a_formula_naming_no_frame_attribute_is_refused(app: Flask) -> None:
    dossiers, frame = tables()
    with app.test_request_context():
        code, words = refusal(dossiers, frame, DesignSettings(STRATA, (), formula="~gender"))
    assert code == "sample.formula_factor" and "“gender”" in words


def test_no_respondents_no_estimates(app: Flask) -> None:
    dossiers, frame = tables()
    dossiers["responded"] = 0
    dossiers["disposition"] = "no_answer"
    with app.test_request_context():
        code, words = refusal(dossiers, frame, DesignSettings(STRATA))
    assert code == "sample.no_respondents" and "1092 hồ sơ" in words


def test_without_every_stratums_size_there_is_no_finite_population_correction() -> None:
    dossiers, frame = tables()
    dossiers.loc[dossiers["stratum"] == "D | F2", "N"] = float("nan")
    dossiers["class"] = "*"
    assert not weigh(dossiers, frame, DesignSettings(STRATA)).fpc
    dossiers, _ = tables()
    dossiers["class"] = "*"
    assert weigh(dossiers, frame, DesignSettings(STRATA)).fpc


def test_classes_and_calibration_may_use_timeliness() -> None:
    dossiers, frame = tables()
    dossiers["class"] = class_labels(dossiers, ["agency", "on_time"])
    settings = DesignSettings(STRATA, ("agency", "on_time"), formula="~agency + on_time")
    # The frame knows only dossiers returned on time: calibration refuses the late ones.
    with pytest.raises(SampleError) as caught:
        weigh(dossiers, frame, settings)
    assert caught.value.problem.code == "sample.cell_without_frame"
    assert caught.value.problem.params["cell"] == "on_time = 0"
    on_time = dossiers.assign(on_time=1)
    on_time["class"] = class_labels(on_time, ["agency", "on_time"])
    weighted = weigh(on_time, frame, settings)
    assert weighted.design.weights.sum() == pytest.approx(frame["returned"].sum())
