"""The answer-state path of the index tree gives the tables of the general path.

``compute_index_tree`` takes :func:`scoring.answer_states.state_tables` for
uncalibrated designs and for calibrated ones whose weights fit
(:func:`scoring.calibrated_states.joint_cells`);
:func:`scoring.index_tree.psu_total_tables` (PSU totals of every domain, the path
checked against R in ``test_against_r.py``) must give the same table, up to
rounding, on every kind of design: clustered or one respondent per PSU, strata,
fpc (counts, fractions, a census stratum), lonely PSUs under each policy,
post-stratification (one or crossed columns), raking, both, trimmed weights,
domains absent from strata, empty domains and rows in no domain.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scoring.index_tree as index_tree
from scoring.calibrated_states import joint_cells
from scoring.design import LonelyPSU, SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import load_questionnaire
from scoring.weighting import post_stratify, rake, trim_weights
from tests.scoring.conftest import build_design, margins, synth
from tests.scoring.test_against_r import _Questionnaire, composite_tree

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
BY: list[str | list[str] | None] = [None, "agency", "psu", ["agency", "gender"], "desk", "stratum"]


def synth_rows() -> pd.DataFrame:
    """synth.csv with one-respondent-PSU fpc columns, lonely strata and a patchy domain."""
    data = synth().copy()
    size = data.groupby("stratum")["w"].transform("size")
    data["fpc_rows"] = np.where(data["stratum"] == "S2", size, 3 * size)  # S2: a census
    data["fpc_rowfrac"] = np.where(data["stratum"] == "S2", 1.0, 0.25)
    data["stratum_lonely"] = data["stratum"]
    data.loc[[0, 5, 17], "stratum_lonely"] = ["X", "Y", "Z"]
    data["fpc_lonely"] = np.where(data["stratum_lonely"] == "Y", 1, 500)  # Y: a census
    # A domain column with missing values (rows in no desk) and desks in few strata.
    desk = pd.Series(data["psu"].str[-2:], dtype=object)
    desk[data["gender"] == 2] = None
    data["desk"] = desk
    return data


def one_row_design(kind: str, lonely_psu: LonelyPSU = "fail") -> SurveyDesign:
    data = synth_rows()
    options: dict[str, dict[str, str]] = {
        "weights": {"weights": "w"},
        "unweighted": {},
        "strata": {"weights": "w", "strata": "stratum"},
        "fpc": {"weights": "w", "strata": "stratum", "fpc": "fpc_rows"},
        "fpc_fraction": {"weights": "w", "strata": "stratum", "fpc": "fpc_rowfrac"},
        "lonely": {"weights": "w", "strata": "stratum_lonely"},
        "lonely_fpc": {"weights": "w", "strata": "stratum_lonely", "fpc": "fpc_lonely"},
    }
    return SurveyDesign.from_dataframe(data, **options[kind], lonely_psu=lonely_psu)  # type: ignore[arg-type]


def clustered_design(name: str) -> SurveyDesign:
    """Design ``name`` of conftest.build_design, on the data of :func:`synth_rows`."""
    fpc = {"B": "fpc_count", "C": "fpc_frac", "LF": "fpc_count"}.get(name.split("_")[0])
    return SurveyDesign.from_dataframe(
        synth_rows(),
        weights="w",
        strata="stratum_l" if name.startswith("L") else "stratum",
        psu="psu",
        fpc=fpc,
        lonely_psu=build_design(name).lonely_psu,  # type: ignore[arg-type]
    )


def general_path(
    monkeypatch: pytest.MonkeyPatch, compute: Callable[[], pd.DataFrame]
) -> pd.DataFrame:
    with monkeypatch.context() as patch:
        patch.setattr(index_tree, "state_tables", index_tree.psu_total_tables)
        return compute()


def assert_same_tables(fast: pd.DataFrame, general: pd.DataFrame) -> None:
    """Same rows in the same order, same counts and notes, figures equal to rounding.

    A domain inside one PSU (or one respondent) has variance 0: both paths give
    rounding noise there (SE ~1e-16 of the estimate), hence deff and n_eff too.
    """
    assert list(fast.columns) == list(general.columns)
    exact = ["node", "parent", "depth", "aggregate", "domain", "df", "n", "note"]
    pd.testing.assert_frame_equal(fast[exact], general[exact])
    assert (fast["level"].astype(str) == general["level"].astype(str)).all()
    scale = np.maximum(np.abs(general["estimate"].to_numpy(float)), 1.0)
    for column in ["estimate", "se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(
            fast[column].to_numpy(float),
            general[column].to_numpy(float),
            rtol=1e-10,
            atol=1e-12,
            err_msg=column,
        )
    noise = np.nan_to_num(general["se"].to_numpy(float)) <= 1e-12 * scale
    for column in ["deff", "n_eff"]:
        np.testing.assert_allclose(
            fast[column].to_numpy(float)[~noise],
            general[column].to_numpy(float)[~noise],
            rtol=1e-10,
            err_msg=column,
        )


LONELY = ("adjust", "certainty", "remove", "average")
ONE_ROW = [
    ("weights", "fail"),
    ("unweighted", "fail"),
    ("strata", "fail"),
    ("fpc", "fail"),
    ("fpc_fraction", "fail"),
    *[("lonely", policy) for policy in LONELY],
    *[("lonely_fpc", policy) for policy in LONELY],
]


@pytest.mark.parametrize(("kind", "lonely_psu"), ONE_ROW)
def test_one_respondent_psus_give_the_general_path_tables(
    kind: str, lonely_psu: LonelyPSU, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = one_row_design(kind, lonely_psu)
    assert design.n_psu == design.n
    questionnaire = _Questionnaire(composite_tree())

    def compute() -> pd.DataFrame:
        return compute_index_tree(questionnaire, design, BY)

    assert_same_tables(compute(), general_path(monkeypatch, compute))


CLUSTERED = ["A", "B", "C", *[f"{p}_{lonely}" for p in ("L", "LF") for lonely in LONELY]]


@pytest.mark.parametrize("name", CLUSTERED)
def test_clustered_designs_give_the_general_path_tables(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    design = clustered_design(name)
    questionnaire = _Questionnaire(composite_tree())

    def compute() -> pd.DataFrame:
        return compute_index_tree(questionnaire, design, BY)

    assert_same_tables(compute(), general_path(monkeypatch, compute))


@pytest.mark.parametrize("psu", [None, "psu"])
@pytest.mark.parametrize(("deff", "method"), [("replace", "logit"), ("srswor", "beta")])
def test_the_sipas_tree_gives_the_general_path_tables(
    psu: str | None, deff: str, method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    data = pd.read_csv(FIXTURES / "sipas_tree_data.csv")
    design = SurveyDesign.from_dataframe(data, weights="w", strata="stratum", psu=psu)

    def compute() -> pd.DataFrame:
        return compute_index_tree(
            questionnaire,
            design,
            [None, "agency", "psu"],
            level=0.9,
            deff=deff,  # type: ignore[arg-type]
            method=method,  # type: ignore[arg-type]
        )

    assert_same_tables(compute(), general_path(monkeypatch, compute))


@pytest.mark.parametrize("calibration", [None, "post_rake"])
@pytest.mark.parametrize("psu", [None, "psu"])
def test_domains_all_satisfied_none_satisfied_or_without_answers_give_the_general_path_tables(
    psu: str | None, calibration: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = synth_rows()
    data.loc[data["agency"] == "B", ["q1", "q2", "q3"]] = 5
    data.loc[data["agency"] == "C", "q1"] = 1
    data.loc[data["agency"] == "A", "q4"] = np.nan
    design = SurveyDesign.from_dataframe(data, weights="w", strata="stratum", psu=psu)
    if calibration is not None:
        design = calibrate(design, calibration)
    questionnaire = _Questionnaire(composite_tree())

    def compute() -> pd.DataFrame:
        return compute_index_tree(questionnaire, design, [None, "agency", "psu"])

    fast = compute()
    assert_same_tables(fast, general_path(monkeypatch, compute))
    agency = fast[fast["domain"] == "agency"].set_index(["node", "level"])
    assert (agency.loc[[("q1", "B"), ("q2", "B"), ("q3", "B")], "se"] == 0).all()
    assert agency.loc[("q4", "A"), "n"] == 0
    assert agency.loc[("q4", "A"), "note"] == "no valid answers in domain"


def calibrate(design: SurveyDesign, kind: str) -> SurveyDesign:
    """Post-stratified, raked, both, or calibrated then trimmed, as in make_fixtures.R."""
    gender = ("gender", margins()["gender"])
    agegrp = ("agegrp", margins()["agegrp"])
    if kind == "post":
        return post_stratify(design, *gender)
    if kind == "post_cross":
        return post_stratify(design, ["gender", "agegrp"], margins()["gender x agegrp"])
    if kind == "rake":
        return rake(design, [gender, agegrp])
    if kind == "post_rake":
        return rake(post_stratify(design, "agency", margins()["agency"]), [gender, agegrp])
    if kind == "post_trim":
        return trim_weights(post_stratify(design, *gender), upper=110)
    if kind == "rake_trim":
        return trim_weights(rake(design, [gender, agegrp]), upper=110)
    raise KeyError(kind)


CALIBRATIONS = ["post", "post_cross", "rake", "post_rake", "post_trim", "rake_trim"]
# The answer-state path needs, within each joint cell, h w proportional to w or constant
# (trimming a raked design breaks it) and, with one respondent per PSU, psw proportional
# to w (any trimming breaks it).
GENERAL = {("psu", "rake_trim"), ("rows", "post_trim"), ("rows", "rake_trim")}


@pytest.mark.parametrize("kind", CALIBRATIONS)
@pytest.mark.parametrize("units", ["psu", "rows"])
def test_calibrated_designs_give_the_general_path_tables(
    units: str, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    psu = "psu" if units == "psu" else None
    base = SurveyDesign.from_dataframe(synth_rows(), weights="w", strata="stratum", psu=psu)
    design = calibrate(base, kind)
    assert (joint_cells(design) is None) == ((units, kind) in GENERAL)
    questionnaire = _Questionnaire(composite_tree())

    def compute() -> pd.DataFrame:
        return compute_index_tree(questionnaire, design, BY)

    assert_same_tables(compute(), general_path(monkeypatch, compute))


@pytest.mark.parametrize("lonely_psu", LONELY)
@pytest.mark.parametrize(
    ("strata", "fpc", "psu"),
    [
        ("stratum_l", "fpc_count", "psu"),
        ("stratum_lonely", "fpc_lonely", None),
        ("stratum", "fpc_rowfrac", None),
    ],
)
def test_calibrated_designs_with_lonely_psus_and_fpc_give_the_general_path_tables(
    strata: str, fpc: str, psu: str | None, lonely_psu: LonelyPSU, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = SurveyDesign.from_dataframe(
        synth_rows(), weights="w", strata=strata, psu=psu, fpc=fpc, lonely_psu=lonely_psu
    )
    design = calibrate(base, "rake")
    questionnaire = _Questionnaire(composite_tree())

    def compute() -> pd.DataFrame:
        return compute_index_tree(questionnaire, design, BY)

    assert_same_tables(compute(), general_path(monkeypatch, compute))


@pytest.mark.parametrize("psu", [None, "psu"])
def test_the_sipas_tree_on_calibrated_designs_gives_the_general_path_tables(
    psu: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    data = pd.read_csv(FIXTURES / "sipas_tree_data.csv")
    data["stratum"] = data["stratum"].astype(str)
    design = SurveyDesign.from_dataframe(data, weights="w", strata="stratum", psu=psu)
    size = data.groupby(["stratum", "agency"]).size()
    design = post_stratify(design, ["stratum", "agency"], size * 40.0)

    def compute() -> pd.DataFrame:
        return compute_index_tree(questionnaire, design, [None, "agency", "psu"], deff="srswor")

    assert_same_tables(compute(), general_path(monkeypatch, compute))
