"""A probability sample of dossiers agrees with R: designs from inclusion probabilities,
nonresponse adjustment by weighting classes, and calibration (linear, raking, bounds).

R's values come from ``tests/scoring/r/make_sampling_fixture.R`` (R survey 4.1-1): a
Poisson sample with unequal probabilities within agency x field strata, answered by
citizens at rates that differ by agency and channel. Every design's weights, the means,
totals and ratios of two dossier variables, and every node of the SIPAS 2023 tree
(overall, by agency and by channel) are compared to 1e-8; the tree through both paths
of :func:`compute_index_tree` (answer-state sums with calibration cell tables, and PSU
totals of every domain, which a design trimmed after calibration falls back to).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scoring.index_tree as index_tree
from scoring.calibrated_states import joint_cells
from scoring.calibration import calibrate, model_columns
from scoring.cli import main
from scoring.design import DesignColumns, SurveyDesign
from scoring.errors import CalibrationError, ConvergenceError, DesignColumnError
from scoring.estimators import estimate_mean, estimate_ratio, estimate_total
from scoring.index_tree import compute_index_tree
from scoring.nonresponse import adjust_nonresponse
from scoring.questionnaire import Questionnaire, load_questionnaire
from scoring.weighting import trim_weights
from tests.scoring.conftest import assert_estimates_match_r, assert_tree_matches_r

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
DRAWN = DesignColumns(strata="stratum", probs="pi", fpc="N")


@cache
def questionnaire() -> Questionnaire:
    return load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")


@cache
def sample() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "sampling_sample.csv")


def respondents() -> pd.DataFrame:
    data = sample()
    return data[data["responded"] == 1].reset_index(drop=True)


@cache
def frame() -> pd.DataFrame:
    """Frame dossiers by agency, field and channel: the calibration totals."""
    return pd.read_csv(FIXTURES / "sampling_frame.csv")


def agency_field() -> pd.DataFrame:
    return frame().groupby(["agency", "field"], as_index=False)["N"].sum()


@cache
def design(name: str) -> SurveyDesign:
    """The Python design matching design ``name`` of make_sampling_fixture.R."""
    builders: dict[str, Callable[[], SurveyDesign]] = {
        "probs": lambda: SurveyDesign.from_dataframe(respondents(), strata="stratum", probs="pi"),
        "probs_fpc": lambda: DRAWN.build(respondents()),
        "nonresponse": lambda: adjust_nonresponse(sample(), "responded", "class", DRAWN),
        "cal_linear": lambda: calibrate(design("nonresponse"), "~agency + field", agency_field()),
        "cal_raking": lambda: calibrate(
            design("nonresponse"), "~agency + field + channel", frame(), calfun="raking"
        ),
        "cal_bounded": lambda: calibrate(
            design("nonresponse"), "~agency + field + channel", frame(), bounds=(0.925, 1.025)
        ),
        "cal_rake_bounded": lambda: calibrate(
            design("nonresponse"),
            "~agency + field + channel",
            frame(),
            calfun="raking",
            bounds=(0.925, 1.025),
        ),
        "cal_cross": lambda: calibrate(design("probs_fpc"), "~agency:field - 1", agency_field()),
        "cal_cross_raking": lambda: calibrate(
            design("probs_fpc"), "~agency:field", agency_field(), calfun="raking"
        ),
        "cal_trimmed": lambda: trim_weights(
            calibrate(
                design("probs_fpc"),
                "~agency",
                agency_field().groupby("agency", as_index=False)["N"].sum(),
            ),
            upper=20,
        ),
    }
    return builders[name]()


DESIGNS = [
    "probs",
    "probs_fpc",
    "nonresponse",
    "cal_linear",
    "cal_raking",
    "cal_bounded",
    "cal_rake_bounded",
    "cal_cross",
    "cal_cross_raking",
    "cal_trimmed",
]


@pytest.mark.parametrize("name", DESIGNS)
def test_weights_match_r(name: str) -> None:
    want = pd.read_csv(FIXTURES / "sampling_weights.csv")[name].to_numpy()
    np.testing.assert_allclose(design(name).weights, want, rtol=1e-12, atol=0)


def test_bounds_bind_on_both_sides() -> None:
    for name in ("cal_bounded", "cal_rake_bounded"):
        g = design(name).weights / design("nonresponse").weights
        assert np.isclose(g, 0.925, rtol=1e-12).any() and np.isclose(g, 1.025, rtol=1e-12).any()
        assert g.min() >= 0.925 * (1 - 1e-12) and g.max() <= 1.025 * (1 + 1e-12)


def test_calibrated_totals_equal_the_frame() -> None:
    for name in ("cal_linear", "cal_raking", "cal_bounded", "cal_cross"):
        data = design(name).data.assign(w=design(name).weights)
        got = data.groupby("agency")["w"].sum()
        want = frame().groupby("agency")["N"].sum()
        np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", DESIGNS)
def test_means_totals_and_ratios_match_r(name: str) -> None:
    want = pd.read_csv(FIXTURES / "sampling_estimates_expected.csv", dtype={"level": str})
    want = want[want["design"] == name]
    tested = design(name)
    frames = []
    for by in (None, "agency"):
        frames += [
            estimate_mean(tested, "days", by),
            estimate_total(tested, "late", by),
            estimate_ratio(tested, "late", "one", by),
        ]
    assert len(want) == 15
    assert_estimates_match_r(pd.concat(frames), want, name)


@cache
def expected() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "sampling_expected.csv", dtype={"level": str})


@pytest.mark.parametrize("path", ["answer_states", "psu_totals"])
@pytest.mark.parametrize("name", DESIGNS)
def test_every_node_matches_r(name: str, path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    tested = design(name)
    if tested.is_calibrated:
        # Weights changed after calibration leave the answer-state path for the general one.
        assert (joint_cells(tested) is None) == (name == "cal_trimmed")
    if path == "psu_totals":
        monkeypatch.setattr(index_tree, "state_tables", index_tree.psu_total_tables)
    got = compute_index_tree(questionnaire(), tested, [None, "agency", "channel"])
    want = expected()[expected()["design"] == name]
    assert len(want) == 42 * 7
    assert_tree_matches_r(got, want, f"{name}/{path}")


def test_an_interaction_with_an_intercept_calibrates_as_without() -> None:
    """R's linear calibration cannot solve ~agency:field (its model matrix has one column
    too many); the column space is that of ~agency:field - 1, and so are the weights."""
    with_intercept = calibrate(design("probs_fpc"), "~agency:field", agency_field())
    np.testing.assert_allclose(with_intercept.weights, design("cal_cross").weights, rtol=1e-12)
    got = compute_index_tree(questionnaire(), with_intercept, ["agency"])
    want = expected()[(expected()["design"] == "cal_cross") & (expected()["domain"] == "agency")]
    assert_tree_matches_r(got, want, "cal_cross with intercept")


def test_totals_by_model_column_give_the_same_calibration() -> None:
    columns = model_columns(design("nonresponse"), "~agency + field")
    assert columns == ["(Intercept)", "agencyB", "agencyC", "agencyD", "fieldF2", "fieldF3"]
    counts = agency_field()
    totals = {
        "(Intercept)": counts["N"].sum(),
        **{f"agency{a}": counts.loc[counts["agency"] == a, "N"].sum() for a in "BCD"},
        **{f"field{f}": counts.loc[counts["field"] == f, "N"].sum() for f in ("F2", "F3")},
    }
    got = calibrate(design("nonresponse"), "~agency + field", totals)
    np.testing.assert_allclose(got.weights, design("cal_linear").weights, rtol=1e-12)
    margins = [
        counts.groupby("agency", as_index=False)["N"].sum(),
        counts.groupby("field", as_index=False)["N"].sum(),
    ]
    again = calibrate(design("nonresponse"), "~agency + field", margins)
    np.testing.assert_allclose(again.weights, design("cal_linear").weights, rtol=1e-12)


def test_bounds_that_cannot_be_met_fail_as_in_r() -> None:
    """R: calibrate(nonresponse, ~agency + field, bounds = c(0.97, 1.03)) stops with
    'Calibration failed' (the R script asserts it)."""
    with pytest.raises(ConvergenceError, match="bounds 0.97 to 1.03.*~agency \\+ field.*agency"):
        calibrate(design("nonresponse"), "~agency + field", agency_field(), bounds=(0.97, 1.03))


def test_nonresponse_weights_carry_each_class_to_its_sampled_total() -> None:
    adjusted = design("nonresponse")
    data = sample()
    sampled = (1 / data["pi"]).groupby(data["class"]).sum()
    got = pd.Series(adjusted.weights).groupby(adjusted.data["class"].to_numpy()).sum()
    np.testing.assert_allclose(got.to_numpy(), sampled.to_numpy(), rtol=1e-12)
    # w_i * sum_sampled w / sum_respondents w, by hand for the first respondent's class:
    first = adjusted.data.iloc[0]
    mates = adjusted.data["class"] == first["class"]
    by_hand = (
        (1 / first["pi"]) * sampled[first["class"]] / (1 / adjusted.data.loc[mates, "pi"]).sum()
    )
    assert adjusted.weights[0] == pytest.approx(by_hand, rel=1e-13)


def test_a_class_without_respondents_is_named() -> None:
    data = sample().copy()
    data.loc[data["class"] == "D.online", "responded"] = 0
    with pytest.raises(CalibrationError, match="class 'D.online'.*selected units.*no respondent"):
        adjust_nonresponse(data, "responded", "class", DRAWN)
    data = sample().copy()
    data.loc[3, "responded"] = 2
    with pytest.raises(DesignColumnError, match="'responded'.*row 3 has 2"):
        adjust_nonresponse(data, "responded", "class", DRAWN)


@pytest.mark.parametrize(
    ("formula", "population", "match"),
    [
        ("~agency + office", None, "'office' is not in the data"),
        ("~agency + log(field)", None, "'log\\(field\\)' is not a column name"),
        ("~agency - field", None, "only '- 1' can be removed"),
        ("~agency", pd.DataFrame({"agency": ["A", "B", "C"], "N": [1.0, 2, 3]}), "'D' is in "),
        (
            "~agency",
            pd.DataFrame({"agency": list("ABCDE"), "N": [1.0, 2, 3, 4, 5]}),
            "agency 'E' has population 5 but no respondent",
        ),
        (
            "~agency + field",
            [
                pd.DataFrame({"agency": list("ABCD"), "N": [1.0, 2, 3, 4]}),
                pd.DataFrame({"field": ["F1", "F2", "F3"], "N": [1.0, 2, 3]}),
            ],
            "different totals: 10, 6",
        ),
        ("~agency", {"(Intercept)": 10.0}, "lack column\\(s\\) agencyB"),
    ],
)
def test_bad_calibration_inputs_are_named(formula: str, population: object, match: str) -> None:
    pop = agency_field() if population is None else population
    with pytest.raises((CalibrationError, DesignColumnError), match=match):
        calibrate(design("probs_fpc"), formula, pop)  # type: ignore[arg-type]


def test_linear_calibration_that_needs_negative_weights_is_refused() -> None:
    counts = agency_field().copy()
    counts.loc[counts["agency"] == "A", "N"] = 1.0  # agency A nearly empty in the frame
    with pytest.raises(CalibrationError, match="not positive.*agency='A'.*set bounds"):
        calibrate(design("probs_fpc"), "~agency + field", counts)


def test_the_command_line_reads_inclusion_probabilities(tmp_path: Path) -> None:
    respondents().to_csv(tmp_path / "respondents.csv", index=False)
    out = tmp_path / "index.csv"
    argv = ["index", str(ROOT / "questionnaires" / "sipas-2023.yaml")]
    argv += [str(tmp_path / "respondents.csv"), "--strata", "stratum", "--probs", "pi"]
    argv += ["--fpc", "N", "--domain", "agency", "-o", str(out)]
    assert main(argv) == 0
    got = pd.read_csv(out).assign(domain="agency").rename(columns={"agency": "level"})
    want = expected()[(expected()["design"] == "probs_fpc") & (expected()["domain"] == "agency")]
    assert_tree_matches_r(got, want, "cli probs_fpc")
