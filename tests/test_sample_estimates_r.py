"""The app's estimates of a probability sample of dossiers equal R's ``survey``, to 1e-8.

A campaign is built in the app's database (tests/sample_support.py): selected dossiers
with their strata, probabilities and dispositions, answers through spent dossier codes,
frame counts, walk-in answers. The tables the app reads back are the ones R read: they
equal the committed ``tests/scoring/fixtures/sample_estimates_dossiers.csv`` and
``sample_estimates_frame.csv``, from which ``tests/scoring/r/make_sample_estimates_fixture.R``
computed every design's weights and every node of the SIPAS tree (overall and by agency):
``svydesign(ids=~1, strata=~stratum, probs=~probability, fpc=~N)`` -> ``postStratify(~class)``
-> ``calibrate(formula, population, calfun, bounds)`` -> ``trimWeights`` -> ``svyby`` /
``svyciprop``.

To regenerate after changing the data: ``WRITE_SAMPLE_FIXTURE=1 pytest
tests/test_sample_estimates_r.py -k sqlite`` writes the two tables, then run the R script.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from flask import Flask

from survey_app.services import sample_estimates
from survey_app.services.sample_estimates.service import load
from tests.sample_support import LINEAR, RAKING, campaign, province, set_design
from tests.scoring.conftest import assert_tree_matches_r

FIXTURES = Path(__file__).parent / "scoring" / "fixtures"
DESIGNS = {"raking": RAKING, "linear": LINEAR}


@cache
def expected() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "sample_estimates_expected.csv", dtype={"level": str})


@cache
def r_weights() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "sample_estimates_weights.csv")


def committed(name: str) -> pd.DataFrame:
    return pd.read_csv(
        FIXTURES / f"sample_estimates_{name}.csv", keep_default_na=False, na_values=[""]
    )


def as_read(table: pd.DataFrame) -> pd.DataFrame:
    """A table as it reads back from CSV (what R read)."""
    from io import StringIO

    return pd.read_csv(StringIO(table.to_csv(index=False)), keep_default_na=False, na_values=[""])


def test_the_tables_r_read_are_the_tables_the_app_sees(app: Flask) -> None:
    province(app, RAKING)
    with app.app_context():
        sample = load(campaign())
        dossiers, frame = sample.dossiers, sample.frame
        if os.environ.get("WRITE_SAMPLE_FIXTURE"):
            dossiers.to_csv(FIXTURES / "sample_estimates_dossiers.csv", index=False)
            frame.to_csv(FIXTURES / "sample_estimates_frame.csv", index=False)
        pd.testing.assert_frame_equal(as_read(dossiers), committed("dossiers"))
        pd.testing.assert_frame_equal(as_read(frame), committed("frame"))
        # Respondents answered through their codes; walk-in answers stay out of the sample.
        assert int(dossiers["responded"].sum()) == 655
        assert len(sample.walk_in) == 300
        counts = dossiers["disposition"].value_counts().to_dict()
        assert counts["complete"] == 655
        assert counts["ineligible"] == counts["unknown"] == counts["not_delivered"] == 44


@pytest.mark.parametrize("name", DESIGNS)
def test_estimates_equal_r(app: Flask, name: str) -> None:
    province(app, DESIGNS[name])
    with app.app_context():
        result = sample_estimates.campaign_estimates(campaign(), None)
        np.testing.assert_allclose(
            np.sort(result.weighted.design.weights),
            np.sort(r_weights()[name].to_numpy()),
            rtol=1e-8,
            atol=0,
        )
        assert result.weighted.fpc
        want = expected()[expected()["design"] == name]
        assert len(want) == 42 * 5
        worst = assert_tree_matches_r(result.table, want, name)
        assert worst < 1e-8


def test_an_officer_sees_the_same_figures_for_their_agency(app: Flask) -> None:
    """An officer's agency is a domain of the whole design: the same figures as R's."""
    province(app, RAKING)
    with app.app_context():
        result = sample_estimates.campaign_estimates(campaign(), frozenset({"A"}))
        assert result.agencies() == ["A"]
        want = expected()[(expected()["design"] == "raking") & (expected()["domain"] == "agency")]
        want = want[want["level"] == "A"]
        assert_tree_matches_r(result.table, want, "officer A")
        tree = result.tree(None)
        agency_a = result.tree("A")
        assert tree.estimate == pytest.approx(agency_a.estimate, rel=1e-12)


def test_design_changes_are_seen_at_once(app: Flask) -> None:
    province(app, RAKING)
    with app.app_context():
        first = sample_estimates.campaign_estimates(campaign(), None)
        set_design(campaign(), LINEAR)
        second = sample_estimates.campaign_estimates(campaign(), None)
        assert second is not first
        np.testing.assert_allclose(
            np.sort(second.weighted.design.weights), np.sort(r_weights()["linear"]), rtol=1e-8
        )
