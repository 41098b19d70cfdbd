"""Multistage designs with a finite population correction at each stage agree with R.

R's values come from ``tests/scoring/r/make_multistage_fixture.R`` (R survey 4.1-1, the
default ``multistage`` variance): districts in provinces (one province taken whole, so
its districts are certainty units), communes in districts, households in communes;
two and three stages, the first stage only without fpc, a calibrated two-stage design,
and a lonely commune at the second stage under every ``lonely_psu`` policy. Means and
totals, and every node of the SIPAS 2023 tree (overall, by province and by sex), are
compared to 1e-8; the index tree also through the command line.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.calibration import calibrate
from scoring.cli import main
from scoring.design import SurveyDesign
from scoring.errors import DesignColumnError, FPCError, LonelyPSUError, WeightError
from scoring.estimators import estimate_mean, estimate_total
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import Questionnaire, load_questionnaire
from tests.scoring.conftest import assert_estimates_match_r, assert_tree_matches_r

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
QUESTIONNAIRE = ROOT / "questionnaires" / "sipas-2023.yaml"
LONELY = ("adjust", "certainty", "remove", "average")


@cache
def questionnaire() -> Questionnaire:
    return load_questionnaire(QUESTIONNAIRE)


@cache
def data() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "multistage_data.csv")


@cache
def design(name: str) -> SurveyDesign:
    """The Python design matching design ``name`` of make_multistage_fixture.R."""
    frame = data()
    two = ["district", "commune"]
    if name == "two_stage":
        return SurveyDesign.from_dataframe(
            frame, weights="w", strata="province", psu=two, fpc=["N1", "N2"]
        )
    if name == "three_stage":
        return SurveyDesign.from_dataframe(
            frame, strata="province", psu=[*two, "household"], fpc=["N1", "N2", "N3"]
        )
    if name == "ultimate":
        return SurveyDesign.from_dataframe(frame, weights="w", strata="province", psu=two)
    if name == "calibrated":
        total = round(frame["w"].sum())
        totals = {"(Intercept)": total, "sexM": round(0.48 * frame["w"].sum())}
        return calibrate(design("two_stage"), "~sex", totals)
    policy = name.removeprefix("lonely_")
    return SurveyDesign.from_dataframe(
        frame,
        weights="w",
        strata=["province", "area"],
        psu=two,
        fpc=["N1", "N2a"],
        lonely_psu=policy,  # type: ignore[arg-type]
    )


DESIGNS = ["two_stage", "three_stage", "ultimate", "calibrated"] + [f"lonely_{p}" for p in LONELY]


def test_the_stages_are_read_as_r_reads_them() -> None:
    two = design("two_stage")
    assert len(two.stages) == 1 and two.n_units == data().groupby(["district", "commune"]).ngroups
    certainty = two.stratum_labels.index("P1")
    assert two.fpc_factor[certainty] == 0.0  # P1: all 3 districts taken
    stage = two.stages[0]
    # The stage-2 variance of a district is scaled by its province's sampling fraction:
    # P1 3/3 (certainty), P2 4/12, P3 3/9.
    rows = stage.frame.stratum_first_row
    province = two.data["province"].to_numpy()[rows]
    fraction = {"P1": 1.0, "P2": 4 / 12, "P3": 3 / 9}
    np.testing.assert_allclose(stage.multiplier, [fraction[p] for p in province], rtol=1e-15)
    assert len(design("three_stage").stages) == 2
    assert design("ultimate").stages == ()
    np.testing.assert_allclose(design("three_stage").weights, data()["w"], rtol=1e-12)


@pytest.mark.parametrize("name", DESIGNS)
def test_means_and_totals_match_r(name: str) -> None:
    want = pd.read_csv(FIXTURES / "multistage_estimates_expected.csv", dtype={"level": str})
    want = want[want["design"] == name]
    tested = design(name)
    frames = []
    for by in (None, "province"):
        frames.append(estimate_mean(tested, "age", by))
        frames.append(estimate_total(tested, "age", by).assign(name="total:age"))
    assert len(want) == 8
    assert_estimates_match_r(pd.concat(frames), want, name)


@cache
def expected() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "multistage_expected.csv", dtype={"level": str})


@pytest.mark.parametrize("name", DESIGNS)
def test_every_node_matches_r(name: str) -> None:
    got = compute_index_tree(questionnaire(), design(name), [None, "province", "sex"])
    want = expected()[expected()["design"] == name]
    assert len(want) == 42 * 6
    assert_tree_matches_r(got, want, name)


def test_the_later_stages_add_variance() -> None:
    """The recursion is there: with fpc the SE differs from the first stage's alone, and a
    certainty province's SE comes from its second stage only."""
    two = compute_index_tree(questionnaire(), design("two_stage"), ["province"])
    first_only = SurveyDesign.from_dataframe(
        data(), weights="w", strata="province", psu="district", fpc="N1"
    )
    one = compute_index_tree(questionnaire(), first_only, ["province"])
    p1 = (two["level"] == "P1") & (two["node"] == "SIPAS")
    assert float(one.loc[p1, "se"].iloc[0]) == 0.0
    assert float(two.loc[p1, "se"].iloc[0]) > 0.0


def test_the_command_line_takes_one_column_per_stage(tmp_path: Path) -> None:
    out = tmp_path / "index.csv"
    status = main(
        [
            "index",
            str(QUESTIONNAIRE),
            str(FIXTURES / "multistage_data.csv"),
            "--weights",
            "w",
            "--strata",
            "province",
            "--psu",
            "district",
            "commune",
            "--fpc",
            "N1",
            "N2",
            "--domain",
            "province",
            "--overall",
            "-o",
            str(out),
        ]
    )
    assert status == 0
    got = pd.read_csv(out, dtype={"province": str})
    got["domain"] = np.where(got["province"].isna(), "overall", "province")
    got["level"] = got["province"].fillna("all")
    want = expected()[(expected()["design"] == "two_stage") & (expected()["domain"] != "sex")]
    assert_tree_matches_r(got, want, "cli two_stage")


def test_a_lonely_commune_fails_by_default_naming_it() -> None:
    """R: svymean(~age, design) stops: 'Stratum (...) has only one PSU at stage 2'."""
    with pytest.raises(LonelyPSUError, match="stage 2: stratum \\(district='P2-D2', area='urban'"):
        design("lonely_fail")


def test_average_with_nothing_to_average_is_refused() -> None:
    """A district whose one stage-2 stratum holds one commune: R's variance is NaN."""
    frame = data().copy()
    lonely = frame["district"] == "P2-D2"
    frame.loc[lonely, "commune"] = "C1"
    with pytest.raises(LonelyPSUError, match="nothing to average within district='P2-D2'"):
        SurveyDesign.from_dataframe(
            frame,
            weights="w",
            strata="province",
            psu=["district", "commune"],
            fpc=["N1", "N2"],
            lonely_psu="average",
        )


def test_fpc_must_give_one_column_per_stage() -> None:
    """R: svydesign(ids=~district+commune, fpc=~N1) fails ('non-conformable arrays')."""
    with pytest.raises(FPCError, match="1 column\\(s\\) \\(N1\\) for a 2-stage design"):
        SurveyDesign.from_dataframe(
            data(), strata="province", psu=["district", "commune"], fpc="N1"
        )
    frame = data().copy()
    frame.loc[0, "N2"] = 1
    with pytest.raises(FPCError, match="stage 2: fpc column 'N2' varies within stratum"):
        SurveyDesign.from_dataframe(
            frame, strata="province", psu=["district", "commune"], fpc=["N1", "N2"]
        )


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"weights": "w", "probs": "p"}, DesignColumnError, "'w'.*\\('p'\\), not both"),
        ({"probs": ["p", "p_bad"]}, WeightError, "column 'p_bad' must be in \\(0, 1\\].*row 2"),
        ({"strata": ["province", "area", "sex"]}, DesignColumnError, "3 strata columns"),
        ({"psu": ["district", "nowhere"]}, DesignColumnError, "'nowhere' is not in the data"),
        ({"fpc": ["N1", "small"]}, FPCError, "stage 2: fpc column 'small' implies more than"),
    ],
)
def test_bad_stage_arguments_are_named(
    options: dict[str, object], error: type[Exception], match: str
) -> None:
    frame = data().assign(p=0.5, p_bad=0.5, small=1.5)
    frame.loc[2, "p_bad"] = 1.5
    arguments: dict[str, object] = {"strata": "province", "psu": ["district", "commune"]}
    arguments.update(options)
    with pytest.raises(error, match=match):
        SurveyDesign.from_dataframe(frame, **arguments)  # type: ignore[arg-type]
