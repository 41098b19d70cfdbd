"""The whole SIPAS 2023 index tree on calibrated designs agrees with R, node by node.

R's values come from ``tests/scoring/r/make_calibrated_tree_fixture.R``: post-stratified
(gender x age group, 10 cells; or gender) and raked (gender, age group) designs with
strata and clusters, clusters only, one respondent per PSU with and without strata;
overall, by agency and by gender (a calibration margin). Both paths are checked: the
answer-state sums with cell tables (what ``compute_index_tree`` takes) and the PSU
totals of every domain.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scoring.index_tree as index_tree
from scoring.calibrated_states import joint_cells
from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import Questionnaire, load_questionnaire
from scoring.weighting import post_stratify, rake

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
FIELDS = ["estimate", "se", "df", "ci_low", "ci_high", "deff", "n"]


@cache
def questionnaire() -> Questionnaire:
    return load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")


@cache
def expected() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "calibrated_tree_expected.csv", dtype={"level": str})


def populations() -> dict[str, pd.Series]:
    table = pd.read_csv(FIXTURES / "calibrated_tree_margins.csv")
    cross = table[table["margin"] == "gender x agegrp"]
    gender = table[table["margin"] == "gender"]
    age = table[table["margin"] == "agegrp"]
    return {
        "cross": pd.Series(
            cross["Freq"].to_numpy(float),
            index=pd.MultiIndex.from_arrays(
                [cross["gender"].astype(int), cross["agegrp"].astype(int)]
            ),
        ),
        "gender": pd.Series(gender["Freq"].to_numpy(float), index=gender["gender"].astype(int)),
        "agegrp": pd.Series(age["Freq"].to_numpy(float), index=age["agegrp"].astype(int)),
    }


def design(name: str) -> SurveyDesign:
    """The Python design matching design ``name`` of make_calibrated_tree_fixture.R."""
    data = pd.read_csv(FIXTURES / "calibrated_tree_data.csv")
    pop = populations()
    margins = [("gender", pop["gender"]), ("agegrp", pop["agegrp"])]
    if name == "post_psu":
        base = SurveyDesign.from_dataframe(data, weights="w", psu="psu")
        return post_stratify(base, "gender", pop["gender"])
    strata = None if name == "post_rows" else "stratum"
    psu = "psu" if name.endswith("clustered") else None
    base = SurveyDesign.from_dataframe(data, weights="w", strata=strata, psu=psu)
    if name.startswith("post"):
        return post_stratify(base, ["gender", "agegrp"], pop["cross"])
    return rake(base, margins)


DESIGNS = ["post_clustered", "rake_clustered", "post_psu", "post_rows", "rake_rows"]


@pytest.mark.parametrize("path", ["answer_states", "psu_totals"])
@pytest.mark.parametrize("name", DESIGNS)
def test_every_node_on_calibrated_designs_matches_r(
    name: str, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    tested = design(name)
    assert joint_cells(tested) is not None
    if path == "psu_totals":
        monkeypatch.setattr(index_tree, "state_tables", index_tree.psu_total_tables)
    got = compute_index_tree(questionnaire(), tested, [None, "agency", "gender"])
    got = got.assign(level=got["level"].astype(str)).set_index(["node", "domain", "level"])
    want = expected()[expected()["design"] == name]
    assert len(want) == 42 * 6
    compared = 0
    for row in want.itertuples():
        for field in FIELDS:
            value = getattr(row, field)
            if pd.isna(value):
                continue  # no interval where svyciprop's glm does not fit
            np.testing.assert_allclose(
                float(got.loc[(row.node, row.domain, row.level), field]),  # type: ignore[arg-type]
                float(value),
                rtol=1e-8,
                atol=0,
                err_msg=f"{name} {row.node} {row.domain}={row.level} {field}",
            )
            compared += 1
    assert compared >= len(want) * (len(FIELDS) - 1)
