"""Defined behaviour at the edges: named errors, degenerate shares, empty domains.

Values here are hand calculations written out in the test (no R needed).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring.ci import share_interval, t_quantile, wald_interval
from scoring.design import SurveyDesign
from scoring.errors import (
    AnswerCodeError,
    CalibrationError,
    ConvergenceError,
    DesignColumnError,
    FPCError,
    LonelyPSUError,
    ScoringError,
    WeightError,
)
from scoring.estimators import estimate_mean, estimate_shares
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import load_questionnaire
from scoring.weighting import design_weights, post_stratify, rake, trim_weights
from tests.scoring.conftest import build_design, margins

ROOT = Path(__file__).resolve().parents[2]


def small_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "stratum": ["a", "a", "a", "a", "b", "b", "b", "b"],
            "psu": [1, 1, 2, 2, 3, 3, 4, 4],
            "w": [10.0, 12.0, 9.0, 11.0, 20.0, 18.0, 22.0, 19.0],
            "q": [5, 4, 4, 5, 4, 5, 5, 4],
            "g": ["x", "y", "x", "y", "x", "y", "x", "y"],
        }
    )


# ------------------------------------------------------------------ errors
def test_errors_are_value_errors_with_one_base_class() -> None:
    assert issubclass(ScoringError, ValueError)
    for cls in (DesignColumnError, WeightError, LonelyPSUError, AnswerCodeError, ConvergenceError):
        assert issubclass(cls, ScoringError)


def test_missing_design_column_is_named() -> None:
    with pytest.raises(DesignColumnError, match="'stratum_x'"):
        SurveyDesign.from_dataframe(small_frame(), weights="w", strata="stratum_x", psu="psu")


def test_missing_values_in_a_design_column_are_named() -> None:
    frame = small_frame()
    frame.loc[3, "psu"] = np.nan
    with pytest.raises(DesignColumnError, match="'psu'.*1 missing.*row 3"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf])
def test_non_positive_or_infinite_weights_are_refused(bad: float) -> None:
    frame = small_frame()
    frame.loc[2, "w"] = bad
    with pytest.raises(WeightError, match="'w'.*row 2"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")


def test_nan_weight_is_refused_as_missing() -> None:
    frame = small_frame()
    frame.loc[2, "w"] = np.nan
    with pytest.raises(DesignColumnError, match="'w'"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")


def test_lonely_psu_under_fail_names_the_stratum() -> None:
    frame = small_frame()
    frame.loc[4:5, "stratum"] = "c"  # stratum c now holds only PSU 3
    with pytest.raises(LonelyPSUError, match="'c'"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")


def test_lonely_psu_in_a_census_stratum_is_not_an_error() -> None:
    """R's onestrat() returns 0 for a stratum with sampling fraction 1 before failing."""
    frame = small_frame()
    frame.loc[5, ["stratum", "psu"]] = ["c", 5]  # stratum c holds only PSU 5, all of its population
    frame["fpc"] = np.where(frame["stratum"] == "c", 1, 10)
    design = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu", fpc="fpc")
    assert design.fpc_factor[design.stratum_labels.index("c")] == 0.0


def test_psu_in_two_strata_is_refused_unless_nested() -> None:
    frame = small_frame()
    frame["psu"] = [1, 1, 2, 2, 1, 1, 2, 2]
    with pytest.raises(DesignColumnError, match="more than one stratum"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")
    design = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu", nest=True)
    assert design.n_psu == 4


def test_fpc_mixing_counts_and_fractions_is_refused() -> None:
    frame = small_frame()
    frame["fpc"] = np.where(frame["stratum"] == "a", 10, 0.5)
    with pytest.raises(FPCError, match="all population counts"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu", fpc="fpc")


def test_fpc_smaller_than_the_sample_names_the_stratum() -> None:
    frame = small_frame()
    frame["fpc"] = np.where(frame["stratum"] == "a", 10, 1.5)
    with pytest.raises(FPCError, match="stratum 'b'"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu", fpc="fpc")


def test_fpc_varying_within_a_stratum_is_refused() -> None:
    frame = small_frame()
    frame["fpc"] = [10, 10, 11, 11, 10, 10, 10, 10]
    with pytest.raises(FPCError, match="varies within stratum 'a'"):
        SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu", fpc="fpc")


def test_fpc_count_and_fraction_give_the_same_design() -> None:
    frame = small_frame()
    frame["count"] = 8
    frame["fraction"] = 2 / 8
    a = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu", fpc="count")
    b = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu", fpc="fraction")
    np.testing.assert_allclose(a.fpc_factor, [0.75, 0.75])
    np.testing.assert_allclose(b.fpc_factor, a.fpc_factor)


def test_degrees_of_freedom_are_psus_minus_strata() -> None:
    design = SurveyDesign.from_dataframe(small_frame(), weights="w", strata="stratum", psu="psu")
    assert design.degf() == 4 - 2
    # a subset touching PSUs 1 and 3 only: 2 PSUs - 2 strata
    assert design.degf(np.array([True, False, False, False, True, False, False, False])) == 0


# ------------------------------------------------------------ answer codes
class _Item:
    codes = frozenset({1, 2, 3, 4, 5, 9})
    valid_codes = frozenset({1, 2, 3, 4, 5})


def test_answer_code_outside_the_scale_names_item_and_code() -> None:
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    assert questionnaire.index is not None
    items = questionnaire.index.item_codes()
    frame = pd.DataFrame({item: [4, 5, 3, 4] for item in items})
    frame["s"] = [1, 1, 2, 2]
    frame["p"] = [1, 2, 3, 4]
    frame.loc[2, items[3]] = 7
    design = SurveyDesign.from_dataframe(frame, strata="s", psu="p")
    with pytest.raises(AnswerCodeError, match=rf"item '{items[3]}'.*code\(s\) 7 "):
        compute_index_tree(questionnaire, design)


# --------------------------------------------------------- empty domains
def test_domain_without_valid_answers_gives_an_explicit_row() -> None:
    """q6 is blank for every respondent of agency C in the synthetic sample."""
    design = build_design("A")
    table = estimate_shares(design, ["q6"], valid=[1, 2, 3, 4, 5], by="agency")
    row = table.set_index("level").loc["C"]
    assert row["n"] == 0
    assert np.isnan(row["estimate"]) and np.isnan(row["ci_low"])
    assert row["note"] == "no valid answers in domain"
    others = table[table["level"] != "C"]
    assert others["estimate"].notna().all() and (others["note"] == "").all()


def test_composite_over_an_empty_item_is_explicitly_undefined() -> None:
    from scoring.questionnaire import IndexNode

    sat = frozenset({4, 5})
    leaves = tuple(
        IndexNode(code=c, label={"vi": c}, aggregate="item", item=c, satisfied=sat)
        for c in ("q5", "q6")
    )
    tree = IndexNode("crit", {"vi": "c"}, "mean", leaves, satisfied=sat)

    class Q:
        index = tree

        def item(self, code: str) -> _Item:
            return _Item()

    table = compute_index_tree(Q(), build_design("A"), ["agency"])
    crit_c = table[(table["node"] == "crit") & (table["level"] == "C")].iloc[0]
    assert np.isnan(crit_c["estimate"]) and crit_c["note"] == "no valid answers in domain"
    crit_a = table[(table["node"] == "crit") & (table["level"] == "A")].iloc[0]
    assert np.isfinite(crit_a["estimate"])


@pytest.mark.parametrize("path", ["answer_states", "psu_totals"])
@pytest.mark.parametrize("calibrated", [False, True])
def test_n_of_a_composite_counts_the_respondents_who_answer_an_item_beneath_it(
    calibrated: bool, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """II.4 (feedback handling) is answered by few: its n is theirs, not the domain's.

    df and the design effect stay those of the whole domain; n_eff is n / deff.
    """
    import scoring.index_tree as index_tree

    if path == "psu_totals":
        monkeypatch.setattr(index_tree, "state_tables", index_tree.psu_total_tables)
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    assert questionnaire.index is not None
    data = pd.read_csv(ROOT / "tests" / "scoring" / "fixtures" / "sipas_tree_data.csv")
    design = SurveyDesign.from_dataframe(data, weights="w", strata="stratum", psu="psu")
    if calibrated:
        design = post_stratify(design, "agency", {"X": 9000.0, "Y": 8000.0, "Z": 7000.0})
    table = compute_index_tree(questionnaire, design, [None, "agency"])
    valid = data[list(questionnaire.index.item_codes())].isin([1, 2, 3, 4, 5])
    domains = {("overall", "all"): np.ones(len(data), dtype=bool)}
    domains.update({("agency", a): (data["agency"] == a).to_numpy() for a in "XYZ"})
    for node in questionnaire.index.walk():
        beneath = list(node.item_codes())
        answered = valid[beneath].any(axis=1).to_numpy()
        for (domain, level), rows in domains.items():
            got = table[
                (table["node"] == node.code)
                & (table["domain"] == domain)
                & (table["level"] == level)
            ].iloc[0]
            assert got["n"] == int((rows & answered).sum()), (node.code, domain, level)
            assert got["n_eff"] == pytest.approx(got["n"] / got["deff"], rel=1e-12)
    overall = table[table["domain"] == "overall"].set_index("node")
    assert overall.loc["II.4", "n"] < 0.8 * overall.loc["SIPAS", "n"]
    assert overall.loc["II.4", "df"] == overall.loc["SIPAS", "df"] == design.degf()
    assert overall.loc["II.4", "n"] == valid[["II.4.1", "II.4.2", "II.4.3"]].any(axis=1).sum()


# ------------------------------------------------------ degenerate shares
@pytest.mark.parametrize("method", ["logit", "xlogit", "asin", "beta", "mean", "wilson"])
def test_share_of_zero_or_one_gets_the_clopper_pearson_interval(method: str) -> None:
    n, alpha = 40, 0.05
    low, high = share_interval(
        [0.0, 1.0],
        [0.0, 0.0],
        [10, 10],
        0.95,
        method,
        n_rows=[n, n],
        n_valid=[n, n],  # type: ignore[arg-type]
    )
    # Clopper-Pearson with x = 0 and x = n written out: 1 - (alpha/2)^(1/n)
    np.testing.assert_allclose(low, [0.0, (alpha / 2) ** (1 / n)], rtol=1e-12)
    np.testing.assert_allclose(high, [1 - (alpha / 2) ** (1 / n), 1.0], rtol=1e-12)


def test_share_with_zero_standard_error_inside_zero_one_is_a_point() -> None:
    low, high = share_interval([0.3], [0.0], [5], 0.9, "logit", n_rows=[10])
    assert low[0] == high[0] == 0.3


def test_all_satisfied_item_gives_a_finite_interval_end_to_end() -> None:
    frame = small_frame()
    design = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")
    table = estimate_shares(design, ["q"], valid=[1, 2, 3, 4, 5])
    row = table.iloc[0]
    assert row["estimate"] == 1.0 and row["se"] == 0.0
    assert row["ci_low"] == pytest.approx(0.025 ** (1 / 8), rel=1e-12) and row["ci_high"] == 1.0


def test_no_degrees_of_freedom_gives_no_interval_and_says_so() -> None:
    frame = small_frame()
    design = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")
    frame_dom = design.data.assign(one=np.where(design.data["psu"].isin([1, 3]), "yes", "no"))
    design = SurveyDesign.from_dataframe(frame_dom, weights="w", strata="stratum", psu="psu")
    table = estimate_mean(design, "w", by="one").set_index("level")
    assert table.loc["yes", "df"] == 0
    assert np.isnan(table.loc["yes", "ci_low"])
    assert "no degrees of freedom" in table.loc["yes", "note"]


# ---------------------------------------------------------------- intervals
def test_wilson_interval_uses_kish_effective_sample_size() -> None:
    p, se, df = 0.8, 0.03, 25
    t = stats.t.ppf(0.975, df)
    n_eff = p * (1 - p) / se**2  # 177.78
    centre = (p + t**2 / (2 * n_eff)) / (1 + t**2 / n_eff)
    half = t / (1 + t**2 / n_eff) * np.sqrt(p * (1 - p) / n_eff + t**2 / (4 * n_eff**2))
    low, high = share_interval([p], [se], [df], 0.95, "wilson")
    np.testing.assert_allclose([low[0], high[0]], [centre - half, centre + half], rtol=1e-14)


def test_wald_interval_uses_the_t_quantile_on_design_df() -> None:
    low, high = wald_interval([10.0], [2.0], [4], 0.9)
    t = 2.1318467863266495  # qt(0.95, 4) in R
    np.testing.assert_allclose([low[0], high[0]], [10 - 2 * t, 10 + 2 * t], rtol=1e-14)
    assert np.isnan(t_quantile(0.95, [0])[0])


@pytest.mark.parametrize("level", [0.0, 1.0, 1.5])
def test_confidence_level_outside_zero_one_is_refused(level: float) -> None:
    with pytest.raises(ScoringError, match="confidence level"):
        share_interval([0.5], [0.1], [10], level)


def test_unknown_interval_method_is_refused() -> None:
    with pytest.raises(ScoringError, match="likelihood"):
        share_interval([0.5], [0.1], [10], 0.95, "likelihood")  # type: ignore[arg-type]


# ---------------------------------------------------------------- weighting
def test_design_weights_are_inverse_products_of_stage_probabilities() -> None:
    np.testing.assert_allclose(design_weights([0.5, 0.1], [0.2, 1.0]), [10.0, 10.0])
    with pytest.raises(WeightError, match="stage 2"):
        design_weights([0.5], [1.5])


def test_post_stratification_hits_the_population_counts() -> None:
    design = post_stratify(build_design("A"), "gender", margins()["gender"])
    got = pd.Series(design.weights).groupby(design.data["gender"].to_numpy()).sum()
    np.testing.assert_allclose(got.to_numpy(), margins()["gender"].to_numpy(), rtol=1e-12)


def test_post_stratum_missing_from_population_is_named() -> None:
    with pytest.raises(CalibrationError, match="cell 2 of gender.*no population count"):
        post_stratify(build_design("A"), "gender", {1: 1000.0})


def test_population_cell_without_respondents_is_named() -> None:
    with pytest.raises(CalibrationError, match="cell 3 of gender.*no respondent"):
        post_stratify(build_design("A"), "gender", {1: 1000.0, 2: 900.0, 3: 50.0})


def test_raking_that_does_not_converge_names_margin_and_cell() -> None:
    with pytest.raises(ConvergenceError, match="margin (gender|agegrp), cell"):
        rake(
            build_design("A"),
            [("gender", margins()["gender"]), ("agegrp", margins()["agegrp"])],
            max_iter=1,
            epsilon=1e-12,
        )


def test_raking_hits_every_margin() -> None:
    design = rake(
        build_design("A"), [("gender", margins()["gender"]), ("agegrp", margins()["agegrp"])]
    )
    for var in ("gender", "agegrp"):
        got = pd.Series(design.weights).groupby(design.data[var].to_numpy()).sum()
        np.testing.assert_allclose(got.to_numpy(), margins()[var].to_numpy(), rtol=1e-6)


def test_trimming_keeps_the_weight_total() -> None:
    base = build_design("A")
    trimmed = trim_weights(base, lower=30, upper=100)
    assert trimmed.weights.sum() == pytest.approx(base.weights.sum(), rel=1e-12)


def test_trimming_every_weight_away_is_refused() -> None:
    with pytest.raises(CalibrationError, match="every weight"):
        trim_weights(build_design("A"), lower=500, upper=600)


# ---------------------------------------------------------------- index tree
def test_sipas_tree_parents_are_the_means_of_their_children() -> None:
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    assert questionnaire.index is not None
    items = questionnaire.index.item_codes()
    rng = np.random.default_rng(7)
    n = 600
    frame = pd.DataFrame(
        {
            item: rng.choice([1, 2, 3, 4, 5, 9], n, p=[0.05, 0.1, 0.2, 0.35, 0.25, 0.05])
            for item in items
        }
    )
    frame["stratum"] = np.repeat(np.arange(6), n // 6)
    frame["psu"] = np.repeat(np.arange(30), n // 30)
    frame["w"] = rng.uniform(10, 50, n)
    frame["gender"] = rng.choice([1, 2], n)
    design = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")
    table = compute_index_tree(questionnaire, design, [None, "gender"])
    assert set(table["node"]) >= {"SIPAS", "I", "II"}
    for (domain, level), part in table.groupby(["domain", "level"]):
        est = part.drop_duplicates("node").set_index("node")["estimate"]
        for node in questionnaire.index.walk():
            if node.aggregate == "mean" and node.children:
                kids = [est[c.code] for c in node.children]
                assert est[node.code] == pytest.approx(np.mean(kids), rel=1e-12), (domain, level)
    assert (table["se"] > 0).all() and table["ci_low"].lt(table["estimate"]).all()


def test_weights_default_to_population_over_sampled_psus_with_fpc_counts() -> None:
    """R: svydesign without weights but with fpc counts uses N_h / n_h."""
    frame = small_frame()
    frame["fpc"] = np.where(frame["stratum"] == "a", 10, 30)
    design = SurveyDesign.from_dataframe(frame, strata="stratum", psu="psu", fpc="fpc")
    np.testing.assert_allclose(design.weights, np.where(frame["stratum"] == "a", 5.0, 15.0))


def test_crossed_domains_equal_a_combined_domain_column() -> None:
    design = build_design("K")
    crossed = estimate_shares(design, ["q1", "q2"], valid=[1, 2, 3, 4, 5], by=["agency", "gender"])
    design.data["agency_gender"] = design.data["agency"] + "-" + design.data["gender"].astype(str)
    combined = estimate_shares(design, ["q1", "q2"], valid=[1, 2, 3, 4, 5], by="agency_gender")
    assert crossed["domain"].iloc[0] == "agency x gender"
    assert [f"{a}-{g}" for a, g in crossed["level"]] == list(combined["level"])
    columns = ["estimate", "se", "ci_low", "ci_high", "df", "n", "deff"]
    np.testing.assert_allclose(
        crossed[columns].to_numpy(float), combined[columns].to_numpy(float), rtol=1e-12
    )


def test_text_in_an_answer_column_names_item_and_row() -> None:
    frame = small_frame().astype({"q": object})
    frame.loc[6, "q"] = "rất hài lòng"
    design = SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")
    with pytest.raises(AnswerCodeError, match="item 'q'.*'rất hài lòng' at row 6"):
        estimate_shares(design, ["q"])


def test_design_variance_of_psu_totals_is_the_standard_error_of_a_total() -> None:
    design = build_design("B")
    y = design.data["score"].to_numpy(float)
    totals = design.psu_totals((design.weights * y)[:, None])
    se = np.sqrt(design.variance(totals[:, 0, :]))[0]
    from scoring.estimators import estimate_total

    assert se == pytest.approx(estimate_total(design, "score")["se"].iloc[0], rel=1e-12)


@pytest.mark.parametrize("design_name", ["A", "K", "PK", "LF_average"])
def test_domains_in_memory_sized_batches_give_the_same_results(
    design_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many domains (every desk) are computed in batches over their own rows only."""
    import scoring.estimators as est

    design = build_design(design_name)
    questionnaire = _SynthQuestionnaire()
    whole = compute_index_tree(questionnaire, design, ["psu", "agency"])
    monkeypatch.setattr(est, "MAX_DOMAIN_CELLS", 1)  # one domain per batch
    batched = compute_index_tree(questionnaire, design, ["psu", "agency"])
    key = ["node", "domain", "level"]
    whole = whole.sort_values(key).reset_index(drop=True)
    batched = batched.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(whole[key], batched[key])
    columns = ["estimate", "se", "ci_low", "ci_high", "df", "n", "deff"]
    # atol: a domain inside one PSU has SE 0 up to rounding (1e-17), which differs by batch
    np.testing.assert_allclose(
        batched[columns].to_numpy(float), whole[columns].to_numpy(float), rtol=1e-10, atol=1e-12
    )


class _SynthQuestionnaire:
    """q1..q3 under one mean criterion and a pooled one."""

    def __init__(self) -> None:
        from scoring.questionnaire import IndexNode

        sat = frozenset({4, 5})
        leaves = tuple(
            IndexNode(code=c, label={"vi": c}, aggregate="item", item=c, satisfied=sat)
            for c in ("q1", "q2", "q3")
        )
        self.index = IndexNode(
            "root",
            {"vi": "r"},
            "mean",
            (
                IndexNode("m", {"vi": "m"}, "mean", leaves, satisfied=sat),
                IndexNode("p", {"vi": "p"}, "pooled", leaves, satisfied=sat),
            ),
            satisfied=sat,
        )

    def item(self, code: str) -> _Item:
        return _Item()
