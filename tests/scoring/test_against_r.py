"""Every figure of the scoring core agrees with R's survey package to 1e-8 relative.

The reference values come from ``tests/scoring/r/make_fixtures.R`` (R survey 4.1-1):
estimates, standard errors, confidence bounds, degrees of freedom, n and design
effects, overall and by domain.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scoring.estimators import estimate_mean, estimate_ratio, estimate_shares, estimate_total
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import IndexNode
from tests.scoring.conftest import (
    assert_matches_r,
    build_design,
    expected,
    expected_table,
    r_weights,
)

ITEMS = [f"q{k}" for k in range(1, 7)]
BASE_FIELDS = {
    "estimate": "estimate",
    "se": "se",
    "df": "df",
    "n": "n",
    "deff": "deff",
}


def _share_fields(want: pd.DataFrame, method: str, level: float) -> dict[str, str]:
    low, high = f"ci_low_{method}_{level}", f"ci_high_{method}_{level}"
    fields = {}
    if (want["field"] == low).any():
        fields = {low: "ci_low", high: "ci_high"}
    return fields


def _shares(design_name: str, method: str, level: float, deff: str = "replace") -> pd.DataFrame:
    design = build_design(design_name)
    frames = []
    if design_name.startswith("api"):
        threshold = 700 if design_name == "apistrat" else 650
        design.data["hi"] = (design.data["api00"] > threshold).astype(int)
        items, valid, by = (
            ["hi"],
            [0, 1],
            ["overall", "awards" if design_name == "apistrat" else "stype"],
        )
        satisfied = [1]
    else:
        items, valid, by, satisfied = ITEMS, [1, 2, 3, 4, 5], ["overall", "agency"], [4, 5]
    for b in by:
        frames.append(
            estimate_shares(
                design,
                items,
                satisfied=satisfied,
                valid=valid,
                by=None if b == "overall" else b,
                level=level,
                method=method,  # type: ignore[arg-type]
                deff=deff,  # type: ignore[arg-type]
            )
        )
    return pd.concat(frames, ignore_index=True)


def _methods_levels(want: pd.DataFrame) -> list[tuple[str, float]]:
    out = set()
    for field in want["field"].unique():
        if field.startswith("ci_low_"):
            method, level = field.removeprefix("ci_low_").rsplit("_", 1)
            out.add((method, float(level)))
    return sorted(out)


SHARE_DESIGNS = sorted(expected_table().query("case == 'share'")["design"].unique())


@pytest.mark.parametrize("design_name", SHARE_DESIGNS)
def test_item_shares_match_svyciprop(design_name: str) -> None:
    """Share satisfied among valid answers: estimate, SE, df, n, deff and every CI method."""
    want = expected("share", design_name)
    compared = 0
    got = _shares(design_name, "logit", 0.95)
    compared += assert_matches_r(got, want, BASE_FIELDS)
    got_wor = _shares(design_name, "logit", 0.95, deff="srswor")
    compared += assert_matches_r(got_wor, want, {"deff_srswor": "deff"})
    for method, level in _methods_levels(want):
        got = _shares(design_name, method, level)
        compared += assert_matches_r(got, want, _share_fields(want, method, level))
    assert compared == len(want)


NUMERIC = [
    (case, design)
    for case, design in expected_table()[["case", "design"]]
    .drop_duplicates()
    .itertuples(index=False)
    if case in ("mean", "total", "ratio")
]


@pytest.mark.parametrize(("case", "design_name"), NUMERIC)
def test_means_totals_ratios_match_r(case: str, design_name: str) -> None:
    """svymean / svytotal / svyratio with deff and confint(df=degf) on the domain design."""
    want = expected(case, design_name)
    design = build_design(design_name)
    name = want["name"].iloc[0]
    compared = 0
    for deff, fields in (("replace", BASE_FIELDS), ("srswor", {"deff_srswor": "deff"})):
        for level in (0.95, 0.9):
            frames = []
            for by in want["domain"].unique():
                b = None if by == "overall" else by
                if case == "mean":
                    frames.append(estimate_mean(design, name, b, level=level, deff=deff))  # type: ignore[arg-type]
                elif case == "total":
                    frames.append(estimate_total(design, name, b, level=level, deff=deff))  # type: ignore[arg-type]
                else:
                    num, den = name.split("/")
                    frames.append(estimate_ratio(design, num, den, b, level=level, deff=deff))  # type: ignore[arg-type]
            got = pd.concat(frames, ignore_index=True)
            if level == 0.95:
                compared += assert_matches_r(got, want, fields)
            if deff == "replace":
                compared += assert_matches_r(
                    got,
                    want,
                    {f"ci_low_wald_{level}": "ci_low", f"ci_high_wald_{level}": "ci_high"},
                )
    assert compared == len(want)


def test_apistrat_mean_reproduces_lumleys_published_example() -> None:
    """svydesign(id=~1, strata=~stype, weights=~pw, fpc=~fpc): mean api00 662.29, SE 9.41."""
    got = estimate_mean(build_design("apistrat"), "api00").iloc[0]
    assert round(got["estimate"], 2) == 662.29
    assert round(got["se"], 2) == 9.41


@pytest.mark.parametrize("design_name", ["A", "B", "C", "P", "K", "T", "PT", "L_adjust"])
def test_design_degrees_of_freedom_match_degf(design_name: str) -> None:
    want = expected("degf", design_name)
    assert build_design(design_name).degf() == int(want["value"].iloc[0])


@pytest.mark.parametrize("column", ["P", "K", "T", "TS", "PT", "P2", "PK"])
def test_calibrated_and_trimmed_weights_match_r(column: str) -> None:
    """postStratify, rake, trimWeights (plain, strict, after post-stratification)."""
    np.testing.assert_allclose(
        build_design(column).weights, r_weights()[column].to_numpy(), rtol=1e-10, atol=0
    )


class _Item:
    codes = frozenset({1, 2, 3, 4, 5, 9})
    valid_codes = frozenset({1, 2, 3, 4, 5})


class _Questionnaire:
    def __init__(self, index: IndexNode) -> None:
        self.index = index

    def item(self, code: str) -> _Item:
        return _Item()


def _leaf(code: str, weight: float | None = None) -> IndexNode:
    return IndexNode(
        code=code,
        label={"vi": code},
        aggregate="item",
        item=code,
        weight=weight,
        satisfied=frozenset({4, 5}),
    )


def composite_tree() -> IndexNode:
    """The composites of make_fixtures.R over items q1..q3, under one root."""
    sat = frozenset({4, 5})
    label = {"vi": "x"}
    plain = tuple(_leaf(c) for c in ("q1", "q2", "q3"))
    weighted = tuple(_leaf(c, w) for c, w in (("q1", 0.5), ("q2", 0.3), ("q3", 0.2)))
    return IndexNode(
        code="root",
        label=label,
        aggregate="sum",
        satisfied=sat,
        children=(
            IndexNode("mean", label, "mean", plain, satisfied=sat),
            IndexNode("wmean", label, "weighted_mean", weighted, satisfied=sat),
            IndexNode("sum", label, "sum", plain, satisfied=sat),
            IndexNode("pooled", label, "pooled", plain, satisfied=sat),
            IndexNode("range", label, "mean", plain, satisfied=sat, range=(1 / 3, 10 / 3)),
            IndexNode(
                "nested",
                label,
                "mean",
                (
                    IndexNode("q12", label, "mean", plain[:2], satisfied=sat),
                    plain[2],
                    IndexNode("q45", label, "pooled", (_leaf("q4"), _leaf("q5")), satisfied=sat),
                ),
                satisfied=sat,
                range=(0.0, 100.0),
            ),
        ),
    )


COMPOSITE_DESIGNS = sorted(expected_table().query("case == 'composite'")["design"].unique())


@pytest.mark.parametrize("design_name", COMPOSITE_DESIGNS)
def test_composite_and_pooled_indices_match_svycontrast_and_svyratio(design_name: str) -> None:
    """Mean, weighted mean, sum, range, nesting (svycontrast) and pooled ratio (svyratio)."""
    want = expected("composite", design_name)
    design = build_design(design_name)
    q = _Questionnaire(composite_tree())
    compared = 0
    for deff, level in (("replace", 0.95), ("srswor", 0.95), ("replace", 0.9)):
        got = compute_index_tree(
            q,
            design,
            [None, "agency"],
            level=level,
            deff=deff,  # type: ignore[arg-type]
        ).rename(columns={"node": "name"})
        got = got[got["name"] != "root"].drop_duplicates(["name", "domain", "level"])
        if deff == "srswor":
            compared += assert_matches_r(got, want, {"deff_srswor": "deff"})
            continue
        if level == 0.95:
            mapped = ["range", "nested"]  # R gives estimate and SE only for these
            compared += assert_matches_r(
                got[~got["name"].isin(mapped)], want[~want["name"].isin(mapped)], BASE_FIELDS
            )
            compared += assert_matches_r(
                got[got["name"].isin(mapped)],
                want[want["name"].isin(mapped)],
                {"estimate": "estimate", "se": "se"},
            )
        for kind in ("wald", "logit"):
            fields = {f"ci_low_{kind}_{level}": "ci_low", f"ci_high_{kind}_{level}": "ci_high"}
            compared += assert_matches_r(got, want, fields)
    assert compared == len(want)


@pytest.mark.parametrize("design_name", ["A", "K"])
def test_mean_score_over_valid_answers_matches_svymean(design_name: str) -> None:
    """Mean score 1-5 of an item, code 9 and blanks left out, plain and raked."""
    want = expected("mean_score", design_name)
    design = build_design(design_name)
    got = pd.concat(
        [estimate_mean(design, "q2", by, valid=[1, 2, 3, 4, 5]) for by in (None, "agency")],
        ignore_index=True,
    )
    fields = dict(BASE_FIELDS, **{"ci_low_wald_0.95": "ci_low", "ci_high_wald_0.95": "ci_high"})
    assert assert_matches_r(got, want, fields) == len(want)


@pytest.mark.parametrize("design_name", ["A", "K", "PK", "LF_average"])
def test_results_do_not_depend_on_chunking_of_the_rows(
    design_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Passes over many small chunks (and many domain batches) still match R."""
    import scoring.estimators as est

    monkeypatch.setattr(est, "CHUNK_ROWS", 37)
    want = expected("share", design_name)
    got = _shares(design_name, "logit", 0.95)
    fields = dict(BASE_FIELDS)
    if (want["field"] == "ci_low_logit_0.95").any():
        fields.update({"ci_low_logit_0.95": "ci_low", "ci_high_logit_0.95": "ci_high"})
    assert assert_matches_r(got, want, fields) > 0
    monkeypatch.setattr(est, "MAX_DOMAIN_CELLS", 1)
    got = _shares(design_name, "logit", 0.95)
    assert assert_matches_r(got, want, fields) > 0
    if design_name in COMPOSITE_DESIGNS:
        want = expected("composite", design_name)
        got = compute_index_tree(
            _Questionnaire(composite_tree()), build_design(design_name), [None, "agency"]
        ).rename(columns={"node": "name"})
        got = got[got["name"] != "root"].drop_duplicates(["name", "domain", "level"])
        assert assert_matches_r(got, want, {"estimate": "estimate", "se": "se"}) > 0
