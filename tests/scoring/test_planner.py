"""The sample planner against closed forms written out here, and against simulated samples.

R's survey has no allocation function: Neyman and cost-optimal allocation are checked
against their closed forms (Cochran 1977, 5.5 and 5.9), and the margin a plan promises
is checked by drawing Poisson samples with its probabilities and estimating the shares'
standard errors with scoring's own estimator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from scoring.design import SurveyDesign
from scoring.errors import PlanError
from scoring.estimators import estimate_shares
from scoring.planner import plan_sample, precision_gauge
from scoring.weighting import post_stratify

Z = float(stats.norm.ppf(0.975))


def one_domain(**extra: list[float]) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "domain": ["A", "A", "A"],
            "stratum": ["A.1", "A.2", "A.3"],
            "N": [1000.0, 2000.0, 3000.0],
            "p": [0.8, 0.7, 0.9],
            "deff": [1.0, 1.0, 1.0],
            "response_rate": [1.0, 1.0, 1.0],
        }
    )
    for column, values in extra.items():
        frame[column] = values
    return frame


def test_neyman_allocation_equals_its_closed_form() -> None:
    plan = plan_sample(one_domain(), target_moe=0.03)
    n = plan.strata["respondents"].to_numpy()
    big_n = np.array([1000.0, 2000.0, 3000.0])
    s = np.sqrt(np.array([0.8 * 0.2, 0.7 * 0.3, 0.9 * 0.1]))
    w = big_n / big_n.sum()
    # Cochran (5.5, 5.9): n_h = n W_h S_h / sum W S, n = (sum W S)^2 / (V + sum W S^2 / N).
    total = (w @ s) ** 2 / ((0.03 / Z) ** 2 + (w @ s**2) / big_n.sum())
    np.testing.assert_allclose(n, total * w * s / (w @ s), rtol=1e-12)
    domain = plan.domains.iloc[0]
    assert domain["moe"] == pytest.approx(0.03, rel=1e-12)
    assert bool(domain["reached"])
    np.testing.assert_allclose(plan.strata["probability"], n / big_n, rtol=1e-12)
    assert domain["invitations"] == pytest.approx(total, rel=1e-12)


def test_costs_and_response_rates_weight_the_allocation() -> None:
    """Minimising sum c n / r: n_h proportional to W_h S_h sqrt(deff_h r_h / c_h)."""
    frame = one_domain(cost=[1.0, 4.0, 2.0], response_rate=[0.5, 0.8, 0.4], deff=[1.5, 1.0, 2.0])
    plan = plan_sample(frame, target_moe=0.03, cost="cost", fpc=False)
    n = plan.strata["respondents"].to_numpy()
    w = frame["N"].to_numpy() / 6000
    a = w**2 * frame["p"] * (1 - frame["p"]) * frame["deff"]
    price = frame["cost"] / frame["response_rate"]
    v = (0.03 / Z) ** 2
    expected = np.sqrt(a / price) * np.sum(np.sqrt(a * price)) / v
    np.testing.assert_allclose(n, expected, rtol=1e-12)
    np.testing.assert_allclose(
        plan.strata["invitations"], expected / frame["response_rate"], rtol=1e-12
    )
    assert plan.domains["cost"].iloc[0] == pytest.approx(
        float(np.sum(expected / frame["response_rate"] * frame["cost"])), rel=1e-12
    )


def test_a_small_stratum_is_taken_whole_and_the_rest_redistributed() -> None:
    rates = [0.5, 0.9, 0.9]
    frame = one_domain(N=[300.0, 2000.0, 3000.0], p=[0.5, 0.95, 0.97], response_rate=rates)
    plan = plan_sample(frame, target_moe=0.009)
    strata = plan.strata.set_index("stratum")
    small = strata.loc["A.1"]
    assert small["probability"] == 1.0 and bool(small["certainty"]) and small["bound"] == "all"
    assert small["respondents"] == pytest.approx(0.5 * 300)
    # The others satisfy the optimality condition n_h = lambda sqrt(A_h r_h) with one lambda,
    # and together they reach the target exactly.
    w = frame["N"].to_numpy() / frame["N"].sum()
    a = w**2 * frame["p"].to_numpy() * (1 - frame["p"].to_numpy())
    n = strata["respondents"].to_numpy()
    ratio = n / np.sqrt(a * np.array(rates))
    assert ratio[1] == pytest.approx(ratio[2], rel=1e-12)
    variance = np.sum(a / n) - np.sum(a / frame["N"].to_numpy())
    assert Z * np.sqrt(variance) == pytest.approx(0.009, rel=1e-12)
    # Taking the small stratum whole is optimal: at that lambda it would want more.
    assert ratio[1] * np.sqrt(a[0] * 0.5) > 0.5 * 300


def test_a_domain_that_cannot_reach_the_target_invites_everyone_and_says_so() -> None:
    frame = pd.DataFrame(
        {
            "domain": ["big", "big", "tiny"],
            "stratum": ["b1", "b2", "t1"],
            "N": [5000, 4000, 60],
            "p": [0.8, 0.85, 0.5],
            "deff": 1.3,
            "response_rate": 0.4,
        }
    )
    plan = plan_sample(frame, target_moe=0.03, deff=1.3, response_rate=0.4)
    domains = plan.domains.set_index("domain")
    assert bool(domains.loc["big", "reached"]) and not bool(domains.loc["tiny", "reached"])
    tiny = plan.strata.set_index("stratum").loc["t1"]
    assert tiny["probability"] == 1.0 and tiny["invitations"] == pytest.approx(60)
    # All invited, 24 answers expected: margin = z sqrt(1.3 * 0.25 (1/24 - 1/60)).
    assert domains.loc["tiny", "moe"] == pytest.approx(
        Z * np.sqrt(1.3 * 0.25 * (1 / 24 - 1 / 60)), rel=1e-12
    )
    assert domains.loc["big", "moe"] == pytest.approx(0.03, rel=1e-12)


def test_every_stratum_keeps_its_minimum() -> None:
    frame = one_domain(p=[0.999, 0.7, 0.0])
    plan = plan_sample(frame, target_moe=0.05, min_respondents=5)
    strata = plan.strata.set_index("stratum")
    assert strata.loc["A.3", "respondents"] == 5 and strata.loc["A.3", "bound"] == "minimum"
    assert strata.loc["A.1", "respondents"] >= 5
    assert plan.domains["moe"].iloc[0] == pytest.approx(0.05, rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(20, 5000),
            st.floats(0.02, 0.98),
            st.floats(0.8, 3.0),
            st.floats(0.1, 1.0),
            st.floats(0.5, 5.0),
        ),
        min_size=1,
        max_size=6,
    ),
    st.floats(0.01, 0.1),
)
def test_plans_meet_the_target_or_invite_everyone(
    rows: list[tuple[int, float, float, float, float]], target: float
) -> None:
    """For any strata: limits hold, and the margin is the target unless everyone is invited."""
    frame = pd.DataFrame(rows, columns=["N", "p", "deff", "response_rate", "cost"])
    frame["domain"] = "d"
    frame["stratum"] = [f"s{i}" for i in range(len(frame))]
    plan = plan_sample(frame, target_moe=target, cost="cost")
    s = plan.strata
    assert (s["probability"] <= 1).all() and (s["respondents"] > 0).all()
    cap = s["response_rate"] * s["N"]
    assert (s["respondents"] <= cap * (1 + 1e-12)).all()
    domain = plan.domains.iloc[0]
    if domain["reached"]:
        assert domain["moe"] <= target * (1 + 1e-9)
        if (s["bound"] != "minimum").any():
            assert domain["moe"] == pytest.approx(target, rel=1e-9)
    else:
        np.testing.assert_allclose(s["respondents"], cap, rtol=1e-12)


def test_the_planned_margin_is_what_simulated_samples_give() -> None:
    """Poisson samples drawn with the plan's probabilities: the SE our estimator gives
    averages to the target, and the estimates spread as the target says."""
    rng = np.random.default_rng(20261208)
    strata = pd.DataFrame(
        {
            "domain": ["A", "A", "A", "B", "B"],
            "stratum": ["A1", "A2", "A3", "B1", "B2"],
            "N": [1500, 800, 120, 2500, 900],
            "p": [0.82, 0.65, 0.5, 0.9, 0.75],
            "response_rate": [0.5, 0.6, 0.7, 0.45, 0.55],
        }
    )
    plan = plan_sample(strata, target_moe=0.04, deff=1.0)
    pi = plan.strata.set_index("stratum")["probability"]
    frame = strata.loc[strata.index.repeat(strata["N"])].reset_index(drop=True)
    frame["pi"] = frame["stratum"].map(pi)
    moe, est = {"A": [], "B": []}, {"A": [], "B": []}
    population = strata.set_index("stratum")["N"].astype(float)
    for _ in range(200):
        picked = frame[rng.random(len(frame)) < frame["pi"]]
        answered = picked[rng.random(len(picked)) < picked["response_rate"]].copy()
        answered["q"] = np.where(rng.random(len(answered)) < answered["p"], 5, 2)
        design = SurveyDesign.from_dataframe(
            answered, strata="stratum", probs="pi", fpc="N", lonely_psu="certainty"
        )
        design = post_stratify(design, "stratum", population)  # W_h known, as the plan assumes
        table = estimate_shares(design, ["q"], by="domain").set_index("level")
        for d in ("A", "B"):
            moe[d].append(Z * table.loc[d, "se"])
            est[d].append(table.loc[d, "estimate"])
    for d in ("A", "B"):
        assert np.mean(moe[d]) == pytest.approx(0.04, rel=0.04)
        assert Z * np.std(est[d]) == pytest.approx(0.04, rel=0.12)


def test_precision_gauge_says_how_many_more_answers() -> None:
    estimates = pd.DataFrame(
        {"agency": ["A", "B", "C"], "se": [0.02, 0.01, np.nan], "n": [150, 400, 0]}
    )
    got = precision_gauge(estimates, 0.03, response_rate=0.5).set_index("agency")
    # A: moe 1.96 * 0.02 = 0.0392 > 0.03; needs 150 (0.0392/0.03)^2 = 256.1 answers: 107 more.
    assert got.loc["A", "moe"] == pytest.approx(Z * 0.02, rel=1e-15)
    assert not bool(got.loc["A", "met"])
    assert got.loc["A", "n_needed"] == pytest.approx(150 * (Z * 0.02 / 0.03) ** 2, rel=1e-15)
    assert got.loc["A", "more_needed"] == 107 and got.loc["A", "invitations_needed"] == 214
    assert bool(got.loc["B", "met"]) and got.loc["B", "more_needed"] == 0
    assert np.isnan(got.loc["C", "more_needed"])


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("N", 0, "stratum 'A.2' \\(domain 'A'\\) needs a frame size above 0"),
        ("p", 1.2, "stratum 'A.2'.*share in \\[0, 1\\]"),
        ("deff", -1, "stratum 'A.2'.*design effect"),
        ("response_rate", 0, "stratum 'A.2'.*response rate"),
        ("stratum", "A.1", "stratum 'A.1' appears twice"),
    ],
)
def test_bad_strata_are_refused_naming_the_stratum(column: str, value: object, match: str) -> None:
    frame = one_domain()
    frame.loc[1, column] = value
    with pytest.raises(PlanError, match=match):
        plan_sample(frame)


def test_bad_targets_and_columns_are_refused() -> None:
    with pytest.raises(PlanError, match="target margin"):
        plan_sample(one_domain(), target_moe=3)
    with pytest.raises(PlanError, match="'cost'"):
        plan_sample(one_domain(), cost="cost")
    with pytest.raises(PlanError, match="'se'"):
        precision_gauge(pd.DataFrame({"n": [3]}))
