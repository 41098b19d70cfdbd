"""AAPOR response rates: hand calculations written out, and the class of inputs they hold for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.errors import ResponseCountError
from scoring.response_rates import DISPOSITIONS, disposition_counts, response_rates


def desk_counts() -> pd.DataFrame:
    """Two agencies, three desks; counts as the application keeps them."""
    return pd.DataFrame(
        {
            "agency": ["A", "A", "B"],
            "desk": ["A1", "A2", "B1"],
            "selected": [120, 80, 50],
            "ineligible": [4, 6, 0],
            "unknown": [6, 0, 10],
            "delivered": [100, 70, 30],
            "complete": [52, 31, 12],
            "partial": [3, 2, 0],
        }
    )


def test_rates_per_agency_equal_the_hand_calculation() -> None:
    got = response_rates(desk_counts(), by="agency", e=0.5).set_index("agency")
    # Agency A: selected 200, ineligible 10, unknown 6, delivered 170, I = 83, P = 5.
    # Eligible E = 200 - 10 - 6 = 184; R + O = 170 - 88 = 82; NC = 184 - 170 = 14.
    a = got.loc["A"]
    assert (a["complete"], a["partial"], a["no_answer"], a["not_delivered"]) == (83, 5, 82, 14)
    assert (a["unknown"], a["ineligible"], a["eligible"]) == (6, 10, 184)
    assert a["RR1"] == pytest.approx(83 / 190, rel=1e-15)
    assert a["RR2"] == pytest.approx(88 / 190, rel=1e-15)
    assert a["RR3"] == pytest.approx(83 / 187, rel=1e-15)  # 184 + 0.5 * 6
    assert a["RR4"] == pytest.approx(88 / 187, rel=1e-15)
    assert a["COOP1"] == pytest.approx(83 / 170, rel=1e-15)
    assert a["COOP2"] == pytest.approx(88 / 170, rel=1e-15)
    assert a["CON1"] == pytest.approx(170 / 190, rel=1e-15)
    # Agency B: selected 50, unknown 10: E = 40, delivered 30, I = 12, P = 0.
    b = got.loc["B"]
    assert b["RR1"] == pytest.approx(12 / 50, rel=1e-15)
    assert b["RR3"] == pytest.approx(12 / 45, rel=1e-15)
    assert b["COOP1"] == pytest.approx(12 / 30, rel=1e-15)
    assert b["CON1"] == pytest.approx(30 / 50, rel=1e-15)


def test_overall_and_per_desk_rates() -> None:
    overall = response_rates(desk_counts())
    assert len(overall) == 1
    assert overall["RR1"].iloc[0] == pytest.approx(95 / 240, rel=1e-15)  # 250 - 10 ineligible
    per_desk = response_rates(desk_counts(), by=["agency", "desk"])
    assert list(per_desk["desk"]) == ["A1", "A2", "B1"]
    assert per_desk["RR2"].iloc[1] == pytest.approx(33 / 74, rel=1e-15)


def test_disposition_rows_give_the_same_rates() -> None:
    dossiers = pd.DataFrame(
        {
            "stratum": ["s1"] * 6 + ["s2"] * 4,
            "status": [
                "complete",
                "complete",
                "partial",
                "no_answer",
                "not_delivered",
                "ineligible",
                "complete",
                "unknown",
                "no_answer",
                "no_answer",
            ],
        }
    )
    counts = disposition_counts(dossiers, "status", by="stratum")
    assert counts.set_index("stratum").loc["s1", list(DISPOSITIONS)].tolist() == [2, 1, 1, 1, 0, 1]
    rates = response_rates(counts, by="stratum").set_index("stratum")
    assert rates.loc["s1", "RR1"] == pytest.approx(2 / 5, rel=1e-15)
    assert rates.loc["s1", "RR2"] == pytest.approx(3 / 5, rel=1e-15)
    assert rates.loc["s1", "COOP1"] == pytest.approx(2 / 4, rel=1e-15)
    assert rates.loc["s2", "RR1"] == pytest.approx(1 / 4, rel=1e-15)
    assert rates.loc["s2", "RR3"] == pytest.approx(1 / 4, rel=1e-15)  # e = 1: RR3 = RR1
    assert response_rates(counts, by="stratum", e=0.5).set_index("stratum").loc[
        "s2", "RR3"
    ] == pytest.approx(1 / 3.5, rel=1e-15)


def test_a_group_with_nobody_eligible_has_no_rate() -> None:
    frame = pd.DataFrame({"selected": [3], "ineligible": [3], "delivered": [0], "complete": [0]})
    got = response_rates(frame)
    assert np.isnan(got["RR1"].iloc[0]) and np.isnan(got["COOP1"].iloc[0])


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"complete": [101]}, "agency='A': complete \\+ partial exceed delivered"),
        ({"delivered": [200]}, "delivered exceeds selected"),
        ({"complete": [-1]}, "'complete' at row 0 .*-1"),
        ({"complete": [2.5]}, "'complete' at row 0"),
        ({"complete": ["many"]}, "'complete' at row 0 .*'many'"),
    ],
)
def test_inconsistent_counts_are_refused_naming_the_group(
    change: dict[str, list[object]], match: str
) -> None:
    frame = pd.DataFrame(
        {
            "agency": ["A"],
            "selected": [120],
            "ineligible": [4],
            "delivered": [100],
            "complete": [52],
        }
    )
    for column, values in change.items():
        frame[column] = values
    with pytest.raises(ResponseCountError, match=match):
        response_rates(frame, by="agency")


def test_unknown_columns_and_dispositions_are_named() -> None:
    with pytest.raises(ResponseCountError, match="counts need the columns"):
        response_rates(pd.DataFrame({"invited": [3]}))
    with pytest.raises(ResponseCountError, match="'refused' at row 1"):
        disposition_counts(pd.DataFrame({"s": ["complete", "refused"]}), "s")
    with pytest.raises(ResponseCountError, match="grouping column 'office'"):
        response_rates(desk_counts(), by="office")


counts_strategy = st.tuples(*(st.integers(0, 40) for _ in DISPOSITIONS))


@settings(deadline=None, max_examples=60)
@given(st.lists(counts_strategy, min_size=1, max_size=6), st.floats(0, 1))
def test_rates_are_ordered_and_both_inputs_agree(rows: list[tuple[int, ...]], e: float) -> None:
    """For any counts: RR1 <= RR3, RR1 <= RR2 <= RR4 ... and the two input forms agree."""
    frame = pd.DataFrame(rows, columns=list(DISPOSITIONS))
    frame["desk"] = [f"d{i % 2}" for i in range(len(frame))]
    got = response_rates(frame, by="desk", e=e)
    derived = pd.DataFrame(
        {
            "desk": frame["desk"],
            "selected": frame[list(DISPOSITIONS)].sum(axis=1),
            "ineligible": frame["ineligible"],
            "unknown": frame["unknown"],
            "delivered": frame["complete"] + frame["partial"] + frame["no_answer"],
            "complete": frame["complete"],
            "partial": frame["partial"],
        }
    )
    again = response_rates(derived, by="desk", e=e)
    pd.testing.assert_frame_equal(got, again, check_dtype=False)
    for _, row in got.iterrows():
        if row["eligible"] + row["unknown"] == 0:
            continue
        assert 0 <= row["RR1"] <= row["RR2"] <= 1
        assert row["RR1"] <= row["RR3"] + 1e-12 and row["RR2"] <= row["RR4"] + 1e-12
        if row["complete"] + row["partial"] + row["no_answer"] > 0:
            assert row["RR1"] <= row["COOP1"] + 1e-12
