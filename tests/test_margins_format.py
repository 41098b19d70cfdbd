"""The weighting page and ``python -m scoring`` read one margins format the same way, and
build the same design from it (issue 11 item 4)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.cli import _parser
from scoring.cli import build_design as cli_design
from scoring.margins import read_margins
from scoring.questionnaire import Questionnaire, load_questionnaire
from survey_app.services.analysis.designs import build_design as app_design
from survey_app.services.weighting_settings import (
    WeightingError,
    WeightingSettings,
    parse_margins,
)

ROOT = Path(__file__).resolve().parents[1]
POSTSTRATIFY = "gender,age_group,count\n1,1,700\n1,2,300\n2,1,550\n2,2,450\n"
RAKE = "variable,value,count\ngender,1,600\ngender,2,400\nage_group,1,250\nage_group,2,750\n"


@pytest.fixture(scope="module")
def sipas() -> Questionnaire:
    return load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame(
        {
            "gender": rng.choice([1.0, 2.0], 60),
            "age_group": np.tile([1.0, 2.0], 30),
            "II.1.1": rng.choice([1.0, 4.0, 5.0], 60),
        }
    )


@pytest.mark.parametrize(("calibration", "text"), [("poststratify", POSTSTRATIFY), ("rake", RAKE)])
def test_the_app_and_the_command_line_read_a_margins_file_identically(
    tmp_path: Path, sipas: Questionnaire, calibration: str, text: str
) -> None:
    path = tmp_path / "margins.csv"
    path.write_text(text, encoding="utf-8")
    app = parse_margins(text, calibration, sipas)
    cli = read_margins(path)
    assert [m.variables for m in app] == [m.variables for m in cli]
    for ours, theirs in zip(app, cli, strict=True):
        assert ours.cells == {tuple(int(c) for c in k): v for k, v in theirs.cells.items()}


@pytest.mark.parametrize(("calibration", "text"), [("poststratify", POSTSTRATIFY), ("rake", RAKE)])
def test_the_app_and_the_command_line_build_the_same_design_from_one_file(
    tmp_path: Path, sipas: Questionnaire, frame: pd.DataFrame, calibration: str, text: str
) -> None:
    path = tmp_path / "margins.csv"
    path.write_text(text, encoding="utf-8")
    settings = WeightingSettings(
        calibration=calibration, margins=parse_margins(text, calibration, sipas)
    )
    option = "--poststratify" if calibration == "poststratify" else "--rake"
    args = _parser().parse_args(
        ["shares", "r.csv", "--items", "II.1.1", option, str(path), "-o", "o.csv"]
    )
    args.lonely_psu = "adjust"  # the app's choice; irrelevant without strata
    ours = app_design(frame, settings)
    theirs = cli_design(frame, args)
    np.testing.assert_allclose(ours.weights, theirs.weights, rtol=1e-12)
    assert ours.weights.sum() == pytest.approx(sum(settings.margins[0].cells.values()))


@pytest.mark.parametrize(
    ("text", "calibration", "message"),
    [
        ("gender,count\n1,năm\n", "poststratify", "Dòng 2: số lượng 'năm' không phải là số."),
        ("gender,count\n1,5\n01,6\n", "poststratify", "Dòng 3: ô gender=1 bị lặp lại."),
        ("gender,N\n1,5\n2,6\n", "rake", "Cân chỉnh lặp (raking) cần ít nhất hai biến biên"),
        (RAKE, "poststratify", "Hậu phân tầng cần một bảng"),
        ("gender,people\n1,5\n", "poststratify", "Tệp CSV thiếu cột 'count'"),
        ("gender,count\n1,5\n2\n", "poststratify", "Dòng 3: có 1 cột, tiêu đề có 2."),
    ],
)
def test_a_bad_margins_file_is_refused_in_vietnamese_naming_the_line(
    sipas: Questionnaire, text: str, calibration: str, message: str
) -> None:
    with pytest.raises(WeightingError) as raised:
        parse_margins(text, calibration, sipas)
    assert message in str(raised.value)
