"""Fixtures for the scoring tests: R's reference values and the designs they came from.

The reference values are produced by ``tests/scoring/r/make_fixtures.R`` (R survey
4.1-1) and committed, so the suite never needs R.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.design import SurveyDesign
from scoring.weighting import post_stratify, rake, trim_weights

FIXTURES = Path(__file__).parent / "fixtures"
RTOL = 1e-8
TREE_FIELDS = ("estimate", "se", "df", "ci_low", "ci_high", "deff", "n")


@cache
def expected_table() -> pd.DataFrame:
    """R's reference values: case, design, name, domain, level, field, value."""
    table = pd.read_csv(FIXTURES / "expected.csv", dtype={"level": str}, keep_default_na=False)
    table["value"] = table["value"].astype(float)
    return table


def expected(case: str, design: str) -> pd.DataFrame:
    table = expected_table()
    return table[(table["case"] == case) & (table["design"] == design)]


@cache
def synth() -> pd.DataFrame:
    """The synthetic SIPAS sample, with nsat / nval (satisfied / valid answers to q1..q3)."""
    data = pd.read_csv(FIXTURES / "synth.csv")
    items = data[["q1", "q2", "q3"]]
    data["nsat"] = items.isin([4, 5]).sum(axis=1)
    data["nval"] = items.isin([1, 2, 3, 4, 5]).sum(axis=1)
    return data


@cache
def margins() -> dict[str, pd.Series]:
    table = pd.read_csv(FIXTURES / "margins.csv", dtype={"value": str})
    out = {}
    for var, group in table.groupby("variable"):
        values = group["value"].to_numpy()
        if var != "agency":
            values = values.astype(int)
        out[str(var)] = pd.Series(group["Freq"].to_numpy(float), index=values)
    cross = pd.read_csv(FIXTURES / "margins_cross.csv")
    out["gender x agegrp"] = pd.Series(
        cross["Freq"].to_numpy(float),
        index=pd.MultiIndex.from_arrays([cross["gender"], cross["agegrp"]]),
    )
    return out


@cache
def r_weights() -> pd.DataFrame:
    return pd.read_csv(FIXTURES / "weights.csv")


def _bound(design: str, which: str) -> float:
    rows = expected("trim", design)
    return float(rows.loc[rows["field"] == which, "value"].iloc[0])


@cache
def build_design(name: str) -> SurveyDesign:
    """The Python design matching the R design ``name`` of make_fixtures.R."""
    if name == "apistrat":
        data = pd.read_csv(FIXTURES / "apistrat.csv")
        return SurveyDesign.from_dataframe(data, weights="pw", strata="stype", fpc="fpc")
    if name == "apiclus1":
        data = pd.read_csv(FIXTURES / "apiclus1.csv")
        return SurveyDesign.from_dataframe(data, weights="pw", psu="dnum", fpc="fpc")
    if name == "apiclus1_nofpc":
        data = pd.read_csv(FIXTURES / "apiclus1.csv")
        return SurveyDesign.from_dataframe(data, weights="pw", psu="dnum")
    data = synth()
    base: dict[str, Callable[[], SurveyDesign]] = {
        "A": lambda: SurveyDesign.from_dataframe(data, weights="w", strata="stratum", psu="psu"),
        "B": lambda: SurveyDesign.from_dataframe(
            data, weights="w", strata="stratum", psu="psu", fpc="fpc_count"
        ),
        "C": lambda: SurveyDesign.from_dataframe(
            data, weights="w", strata="stratum", psu="psu", fpc="fpc_frac"
        ),
        "P": lambda: post_stratify(build_design("A"), "gender", margins()["gender"]),
        "K": lambda: rake(
            build_design("A"), [("gender", margins()["gender"]), ("agegrp", margins()["agegrp"])]
        ),
        "T": lambda: trim_weights(
            build_design("A"), lower=_bound("T", "lower"), upper=_bound("T", "upper")
        ),
        "P2": lambda: post_stratify(
            build_design("A"), ["gender", "agegrp"], margins()["gender x agegrp"]
        ),
        "PK": lambda: rake(
            post_stratify(build_design("A"), "agency", margins()["agency"]),
            [("gender", margins()["gender"]), ("agegrp", margins()["agegrp"])],
        ),
        "TS": lambda: trim_weights(build_design("A"), lower=30, upper=100, strict=True),
        "PT": lambda: trim_weights(build_design("P"), upper=_bound("PT", "upper")),
    }
    if name in base:
        return base[name]()
    prefix, policy = name.split("_", 1)
    if prefix == "LP":
        return post_stratify(build_design(f"L_{policy}"), "gender", margins()["gender"])
    if prefix in ("L", "LF"):
        return SurveyDesign.from_dataframe(
            data,
            weights="w",
            strata="stratum_l",
            psu="psu",
            fpc="fpc_count" if prefix == "LF" else None,
            lonely_psu=policy,  # type: ignore[arg-type]
        )
    raise KeyError(name)


def assert_matches_r(
    got: pd.DataFrame, want: pd.DataFrame, fields: dict[str, str], rtol: float = RTOL
) -> int:
    """Compare Python results (name, domain, level, <cols>) with R's long table.

    ``fields`` maps R field names to Python columns. Returns the number of values compared.
    """
    indexed = got.assign(level=got["level"].astype(str)).set_index(["name", "domain", "level"])
    compared = 0
    for r_field, column in fields.items():
        rows = want[want["field"] == r_field]
        assert len(rows), f"R fixture has no field {r_field}"
        for row in rows.itertuples():
            key = (row.name, row.domain, row.level)
            value = indexed.loc[key, column]
            np.testing.assert_allclose(
                float(value),
                row.value,
                rtol=rtol,
                atol=0,
                err_msg=f"{row.case}/{row.design} {key} {r_field}",
            )
            compared += 1
    return compared


@pytest.fixture(scope="session")
def synth_data() -> pd.DataFrame:
    return synth().copy()


def assert_tree_matches_r(got: pd.DataFrame, want: pd.DataFrame, label: str) -> float:
    """Every field of every R row; returns the largest relative difference."""
    indexed = got.assign(level=got["level"].astype(str)).set_index(["node", "domain", "level"])
    worst = 0.0
    compared = 0
    for row in want.itertuples():
        for field in TREE_FIELDS:
            value = getattr(row, field)
            if pd.isna(value):
                continue  # no interval where svyciprop's glm does not fit
            mine = float(indexed.loc[(row.node, row.domain, row.level), field])  # type: ignore[arg-type]
            np.testing.assert_allclose(
                mine,
                float(value),
                rtol=1e-8,
                atol=0,
                err_msg=f"{label} {row.node} {row.domain}={row.level} {field}",
            )
            if value != 0:
                worst = max(worst, abs(mine - float(value)) / abs(float(value)))
            compared += 1
    assert compared >= len(want) * (len(TREE_FIELDS) - 1)
    return worst


def assert_estimates_match_r(got: pd.DataFrame, want: pd.DataFrame, label: str) -> None:
    """Estimator tables (name, domain, level, ...) against R's rows, estimate to deff, 1e-8."""
    indexed = got.assign(level=got["level"].astype(str)).set_index(["name", "domain", "level"])
    for row in want.itertuples():
        for field in ("estimate", "se", "df", "deff"):
            np.testing.assert_allclose(
                float(indexed.loc[(row.name, row.domain, row.level), field]),  # type: ignore[arg-type]
                float(getattr(row, field)),
                rtol=RTOL,
                atol=0,
                err_msg=f"{label} {row.name} {row.domain}={row.level} {field}",
            )
