"""Index trees from answer sums per group equal the microdata path's tables.

:func:`scoring.answer_sums.index_tree_from_sums` must give every figure of
:func:`scoring.index_tree.compute_index_tree` (itself checked against R) on the
respondents behind the sums, to 1e-10: one respondent per PSU or clustered,
strata or none, weights or none, lonely PSUs under each policy, the SIPAS
tree, and random samples of the designs the app offers (hypothesis). Sums of
disjoint batches add up, and the sums of several provinces, stacked, are
those of the pooled sample with provinces as strata.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.answer_sums import concat_sums, index_tree_from_sums, sum_answers
from scoring.design import DesignSpec, LonelyPSU
from scoring.errors import CalibrationError, DesignColumnError, LonelyPSUError, WeightError
from scoring.index_tree import compute_index_tree
from scoring.margins import Margin
from scoring.questionnaire import load_questionnaire
from tests.scoring.conftest import margins
from tests.scoring.test_against_r import _Questionnaire, composite_tree
from tests.scoring.test_answer_states import BY, LONELY, synth_rows
from tests.scoring.test_answer_states import assert_same_tables as assert_same_rows

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
SIPAS = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
# Every column a design or domain of these tests reads: the groups of the sums.
KEYS = ["w", "stratum", "stratum_lonely", "stratum_l", "psu", "agency", "gender", "agegrp", "desk"]


def assert_same_tables(from_sums: pd.DataFrame, microdata: pd.DataFrame) -> None:
    """:func:`tests.scoring.test_answer_states.assert_same_tables`, where a variance that is 0
    but for rounding (a domain of identical respondents) may be another rounding: its SE, the
    square root of ~1e-19, is ~1e-10 instead of ~1e-17; so is the interval's width."""
    # The note says whether the design effect is defined: with a variance of 0 but for
    # rounding, that is rounding too; compared where the variance is not (assert_same_rows).
    exact = ["node", "parent", "depth", "aggregate", "domain", "df", "n"]
    pd.testing.assert_frame_equal(from_sums[exact], microdata[exact])
    scale = np.maximum(np.abs(microdata["estimate"].to_numpy(float)), 1.0)
    noise = np.nan_to_num(microdata["se"].to_numpy(float)) <= 1e-12 * scale
    for column in ["se", "ci_low", "ci_high"]:
        np.testing.assert_allclose(
            from_sums[column].to_numpy(float)[noise],
            microdata[column].to_numpy(float)[noise],
            atol=1e-8,
            err_msg=column,
        )
    assert_same_rows(
        from_sums[~noise].reset_index(drop=True), microdata[~noise].reset_index(drop=True)
    )


def both_paths(
    questionnaire: object,
    data: pd.DataFrame,
    spec: DesignSpec,
    by: list[str | list[str] | None],
    keys: list[str],
    **options: object,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    microdata = compute_index_tree(questionnaire, spec.build(data), by, **options)  # type: ignore[arg-type]
    sums = sum_answers(questionnaire, data, keys)  # type: ignore[arg-type]
    assert sums.n == len(data)
    from_sums = index_tree_from_sums(questionnaire, sums, spec, by, **options)  # type: ignore[arg-type]
    return from_sums, microdata


ONE_ROW = [
    ({"weights": "w"}, "fail"),
    ({}, "fail"),
    ({"weights": "w", "strata": "stratum"}, "fail"),
    *[({"weights": "w", "strata": "stratum_lonely"}, policy) for policy in LONELY],
]


@pytest.mark.parametrize(("options", "lonely_psu"), ONE_ROW)
def test_one_respondent_psus(options: dict[str, str], lonely_psu: LonelyPSU) -> None:
    spec = DesignSpec(**options, lonely_psu=lonely_psu)  # type: ignore[arg-type]
    questionnaire = _Questionnaire(composite_tree())
    assert_same_tables(*both_paths(questionnaire, synth_rows(), spec, BY, KEYS))


@pytest.mark.parametrize("lonely_psu", ["fail", *LONELY])
def test_clustered_designs(lonely_psu: LonelyPSU) -> None:
    strata = "stratum" if lonely_psu == "fail" else "stratum_l"
    spec = DesignSpec(weights="w", strata=strata, psu="psu", lonely_psu=lonely_psu)
    questionnaire = _Questionnaire(composite_tree())
    assert_same_tables(*both_paths(questionnaire, synth_rows(), spec, BY, KEYS))


def margin(name: str) -> Margin:
    """A margin of conftest's populations (a variable, or two crossed) as the app gives them."""
    population = margins()[name]
    variables = tuple(name.split(" x "))
    cells = {
        (key if isinstance(key, tuple) else (key,)): float(count)
        for key, count in population.items()
    }
    return Margin(variables, cells)


CALIBRATED = {
    "post": DesignSpec(weights="w", calibration="poststratify", margins=(margin("gender"),)),
    "post_cross": DesignSpec(
        weights="w", calibration="poststratify", margins=(margin("gender x agegrp"),)
    ),
    "rake": DesignSpec(
        weights="w", calibration="rake", margins=(margin("gender"), margin("agegrp"))
    ),
    "rake_unweighted": DesignSpec(calibration="rake", margins=(margin("gender"), margin("agegrp"))),
}


@pytest.mark.parametrize("kind", list(CALIBRATED))
@pytest.mark.parametrize(
    "design", [{}, {"strata": "stratum"}, {"strata": "stratum", "psu": "psu"}, {"psu": "psu"}]
)
def test_calibrated_designs(kind: str, design: dict[str, str]) -> None:
    spec = DesignSpec(**{**CALIBRATED[kind].__dict__, **design})
    questionnaire = _Questionnaire(composite_tree())
    keys = [key for key in KEYS if key in {"w", "stratum", "psu", "agency", "gender", "agegrp"}]
    if "w" not in spec.__dict__.values():
        keys.remove("w")
    by: list[str | list[str] | None] = [None, "agency", ["agency", "gender"]]
    assert_same_tables(*both_paths(questionnaire, synth_rows(), spec, by, keys))


def test_unweighted_groups_merge_respondents_and_give_the_same_tables() -> None:
    """Without weights in the keys, groups hold many respondents each: the state Grams
    carry the covariances between items."""
    data = synth_rows()
    keys = ["stratum", "psu", "agency", "gender"]
    spec = DesignSpec(strata="stratum", psu="psu")
    by: list[str | list[str] | None] = [None, "agency", ["agency", "gender"]]
    questionnaire = _Questionnaire(composite_tree())
    from_sums, microdata = both_paths(questionnaire, data, spec, by, keys)
    assert_same_tables(from_sums, microdata)
    one_row = DesignSpec(strata="stratum")
    from_sums, microdata = both_paths(questionnaire, data, one_row, by, keys)
    assert_same_tables(from_sums, microdata)
    assert len(sum_answers(questionnaire, data, keys).keys) < len(data) / 2


@pytest.mark.parametrize("psu", [None, "psu"])
@pytest.mark.parametrize(("deff", "method"), [("replace", "logit"), ("srswor", "beta")])
def test_the_sipas_tree(psu: str | None, deff: str, method: str) -> None:
    data = pd.read_csv(FIXTURES / "sipas_tree_data.csv")
    spec = DesignSpec(weights="w", strata="stratum", psu=psu)
    keys = ["w", "stratum", "agency"] + (["psu"] if psu else [])
    from_sums, microdata = both_paths(
        SIPAS, data, spec, [None, "agency"], keys, level=0.9, deff=deff, method=method
    )
    assert_same_tables(from_sums, microdata)


def sipas_sample(seed: int, n: int, missing: float) -> pd.DataFrame:
    """A walk-in sample of the SIPAS 2023 questionnaire: desks in agencies, months, genders."""
    rng = np.random.default_rng(seed)
    desks = rng.integers(0, 7, n)
    frame = pd.DataFrame(
        {
            "desk": [f"D{d}" for d in desks],
            "agency": [f"A{d % 3}" for d in desks],
            "month": rng.choice(["2026-01", "2026-02", "2026-03"], n),
            "gender": rng.choice([1.0, 2.0, np.nan], n, p=[0.45, 0.45, 0.1]),
            "age": rng.choice([1, 2, 3], n, p=[0.2, 0.5, 0.3]),
        }
    )
    for item in SIPAS.items:
        codes = sorted(item.valid_codes) if item.valid_codes else []
        if not codes or item.code not in {leaf for leaf, _ in _sipas_leaves()}:
            continue
        # Respondents lean on one side per desk, so items covary.
        lean = rng.random(7)[desks]
        values = np.where(rng.random(n) < lean, max(codes), rng.choice(codes, n)).astype(float)
        values[rng.random(n) < missing] = np.nan
        frame[item.code] = values
    return frame


def _sipas_leaves() -> tuple[tuple[str, frozenset[int]], ...]:
    from scoring.index_tree import index_structure

    return index_structure(SIPAS).leaves


AGE = Margin(("age",), {(1,): 2000.0, (2,): 5000.0, (3,): 3000.0})
MONTHS = Margin(("month",), {("2026-01",): 3000.0, ("2026-02",): 3500.0, ("2026-03",): 3500.0})
DESIGNS = [
    DesignSpec(),
    DesignSpec(calibration="poststratify", margins=(MONTHS,)),
    DesignSpec(strata="agency", psu="desk", calibration="rake", margins=(MONTHS, AGE)),
    DesignSpec(strata="desk", lonely_psu="adjust", calibration="rake", margins=(MONTHS, AGE)),
    DesignSpec(strata="desk", lonely_psu="adjust"),
    DesignSpec(strata="agency"),
    DesignSpec(psu="desk"),
    DesignSpec(strata="agency", psu="desk", lonely_psu="adjust"),
    DesignSpec(psu="agency"),
]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(12, 400),
    missing=st.sampled_from([0.0, 0.2, 0.7]),
    design=st.sampled_from(range(len(DESIGNS))),
    method=st.sampled_from(["logit", "beta", "wilson"]),
)
def test_random_walk_in_samples_of_the_app_designs(
    seed: int, n: int, missing: float, design: int, method: str
) -> None:
    data = sipas_sample(seed, n, missing)
    spec = DesignSpec(**{**DESIGNS[design].__dict__})
    by: list[str | list[str] | None] = [None, "desk", "agency", "gender", ["month", "agency"]]
    keys = ["desk", "agency", "month", "gender", "age"]
    try:
        microdata = compute_index_tree(SIPAS, spec.build(data), by, method=method)  # type: ignore[arg-type]
    except (DesignColumnError, LonelyPSUError, CalibrationError) as error:
        with pytest.raises(type(error)):
            index_tree_from_sums(SIPAS, sum_answers(SIPAS, data, keys), spec, by)
        return
    sums = sum_answers(SIPAS, data, keys)
    assert_same_tables(index_tree_from_sums(SIPAS, sums, spec, by, method=method), microdata)  # type: ignore[arg-type]


def test_sums_of_batches_add_up_to_the_sums_of_all() -> None:
    data = sipas_sample(7, 300, 0.2)
    keys = ["desk", "agency", "month", "gender"]
    whole = sum_answers(SIPAS, data, keys)
    cuts = [0, 70, 71, 200, 300]
    batches = concat_sums(
        sum_answers(SIPAS, data.iloc[lo:hi], keys) for lo, hi in zip(cuts, cuts[1:], strict=False)
    )
    pd.testing.assert_frame_equal(batches.keys, whole.keys)
    for name in ["rows", "states", "reached", "gram"]:
        np.testing.assert_array_equal(getattr(batches, name), getattr(whole, name))


def test_provinces_stacked_give_the_pooled_sample_with_provinces_as_strata() -> None:
    """A national index from each province's sums equals the pooled microdata's."""
    provinces = []
    for p, seed in enumerate([11, 12, 13]):
        frame = sipas_sample(seed, 120 + 40 * p, 0.1)
        frame["province"] = f"P{p}"
        frame["desk"] = f"P{p}-" + frame["desk"]
        provinces.append(frame)
    pooled = pd.concat(provinces, ignore_index=True)
    keys = ["province", "desk", "agency", "gender"]
    stacked = concat_sums(sum_answers(SIPAS, frame, keys) for frame in provinces)
    for spec in [DesignSpec(strata="province"), DesignSpec(strata="province", psu="desk")]:
        by: list[str | list[str] | None] = [None, "province", "gender"]
        microdata = compute_index_tree(SIPAS, spec.build(pooled), by)
        assert_same_tables(index_tree_from_sums(SIPAS, stacked, spec, by), microdata)


def test_what_sums_cannot_give_is_refused_by_name() -> None:
    data = synth_rows()
    questionnaire = _Questionnaire(composite_tree())
    sums = sum_answers(questionnaire, data, ["w", "stratum", "psu", "gender", "fpc_count"])
    margin = Margin(("agegrp",), {(1,): 100.0, (2,): 120.0})
    with pytest.raises(DesignColumnError, match="agegrp"):
        index_tree_from_sums(
            questionnaire, sums, DesignSpec(calibration="poststratify", margins=(margin,))
        )
    with pytest.raises(DesignColumnError, match="one stage"):
        index_tree_from_sums(questionnaire, sums, DesignSpec(psu="psu", fpc="fpc_count"))
    with pytest.raises(DesignColumnError, match="another index tree"):
        index_tree_from_sums(SIPAS, sums, DesignSpec())
    with pytest.raises(DesignColumnError, match="'desk'"):
        index_tree_from_sums(questionnaire, sums, DesignSpec(strata="desk"))
    with pytest.raises(LonelyPSUError, match="only one PSU"):
        index_tree_from_sums(questionnaire, sums, DesignSpec(strata="psu", psu="psu"))
    bad = sums.keys.copy()
    bad.loc[0, "w"] = -1.0
    with pytest.raises(WeightError):
        index_tree_from_sums(
            questionnaire, type(sums)(bad, *list(sums.__dict__.values())[1:]), DesignSpec("w")
        )
