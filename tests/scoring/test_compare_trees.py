"""Walk-in versus sampled: the index tree of two independent samples, one table of tests."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring.compare import compare_index_trees, difference_table, difference_test
from scoring.design import SurveyDesign
from scoring.errors import ScoringError
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import Questionnaire, load_questionnaire

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


@cache
def questionnaire() -> Questionnaire:
    return load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")


def walk_in() -> SurveyDesign:
    """QR answers: a convenience sample, every answer weight 1, one PSU each."""
    data = pd.read_csv(FIXTURES / "sipas_tree_data.csv")
    data["agency"] = data["agency"].map({"X": "A", "Y": "B", "Z": "C"})
    return SurveyDesign.from_dataframe(data)


def sampled() -> SurveyDesign:
    data = pd.read_csv(FIXTURES / "sampling_sample.csv")
    data = data[(data["responded"] == 1) & (data["agency"] != "D")]
    return SurveyDesign.from_dataframe(data, strata="stratum", probs="pi", fpc="N")


def test_every_node_and_agency_is_tested_as_difference_test_does() -> None:
    table = compare_index_trees(questionnaire(), walk_in(), sampled(), [None, "agency"])
    first = compute_index_tree(questionnaire(), walk_in(), [None, "agency"])
    second = compute_index_tree(questionnaire(), sampled(), [None, "agency"])
    assert len(table) == len(first) == 42 * 4
    assert list(table.columns[:5]) == ["node", "parent", "depth", "domain", "level"]
    keyed = table.set_index(["node", "domain", "level"])
    for a, b in zip(first.itertuples(), second.itertuples(), strict=True):
        row = keyed.loc[(a.node, a.domain, a.level)]
        want = difference_test(a.estimate, a.se, b.estimate, b.se, a.df, b.df)
        assert row["estimate_walk_in"] == a.estimate and row["n_sample"] == b.n
        for field, value in (
            ("difference", want.difference),
            ("se", want.se),
            ("statistic", want.statistic),
            ("df", want.df),
            ("p_value", want.p_value),
        ):
            assert row[field] == pytest.approx(value, rel=1e-12), (a.node, a.level, field)


def test_one_row_by_hand() -> None:
    first = pd.DataFrame(
        {"node": ["SIPAS"], "estimate": [0.85], "se": [0.01], "df": [40], "n": [300]}
    )
    second = pd.DataFrame(
        {"node": ["SIPAS"], "estimate": [0.80], "se": [0.02], "df": [50], "n": [120]}
    )
    row = difference_table(first, second, ["node"], labels=("walk_in", "sample")).iloc[0]
    # d = 0.05, se = sqrt(0.0005), df = 0.0005^2 / (0.01^4/40 + 0.02^4/50) = 72.463768.
    df = 0.0005**2 / (0.01**4 / 40 + 0.02**4 / 50)
    assert row["difference"] == pytest.approx(0.05, rel=1e-12)
    assert row["se"] == pytest.approx(math.sqrt(0.0005), rel=1e-12)
    assert row["df"] == pytest.approx(df, rel=1e-12)
    t = 0.05 / math.sqrt(0.0005)
    assert row["p_value"] == pytest.approx(2 * stats.t.sf(t, df), rel=1e-12)
    assert (row["n_walk_in"], row["n_sample"]) == (300, 120)


def test_rows_in_one_table_only_have_no_test() -> None:
    first = pd.DataFrame({"node": ["a", "b"], "estimate": [0.5, 0.6], "se": [0.1, 0.1]})
    second = pd.DataFrame({"node": ["a"], "estimate": [0.4], "se": [0.0]})
    table = difference_table(first, second, ["node"]).set_index("node")
    assert table.loc["a", "df"] == np.inf  # no df given: the normal
    assert table.loc["a", "p_value"] == pytest.approx(2 * stats.norm.sf(1.0), rel=1e-12)
    assert np.isnan(table.loc["b", "difference"]) and np.isnan(table.loc["b", "p_value"])
    with pytest.raises(ScoringError, match="second estimates have no column 'se'"):
        difference_table(first, second.drop(columns="se"), ["node"])
