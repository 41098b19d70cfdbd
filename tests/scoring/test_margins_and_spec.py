"""One margins format and one design specification (issue 11 item 4).

Expected weights are written out by hand: post-stratification gives each respondent
``N_g / n_g`` (R ``postStratify`` with equal starting weights).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.design import DesignColumns, DesignSpec, SurveyDesign
from scoring.errors import CalibrationError, DesignColumnError, MarginsError, ScoringError
from scoring.margins import Margin, parse_margins, read_margins
from scoring.weighting import rake

SAMPLE = pd.DataFrame(
    {
        "gender": ["1", "1", "1", "2", "2", "2", "1", "2"],
        "age": ["1", "2", "1", "2", "1", "2", "2", "1"],
        "y": [1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0],
    }
)


def test_a_wide_table_is_one_margin_with_the_line_of_each_cell() -> None:
    (margin,) = parse_margins("\ufeffgender,age,count\n1,1,1 200\n1,2,800\n\n2,1,500\n2,2,500\n")
    assert margin.variables == ("gender", "age")
    assert dict(margin.cells) == {
        ("1", "1"): 1200.0,
        ("1", "2"): 800.0,
        ("2", "1"): 500.0,
        ("2", "2"): 500.0,
    }
    assert margin.lines[("2", "1")] == 5  # the blank line 4 is skipped, not renumbered
    assert margin.by == ["gender", "age"] and margin.total() == 3000.0


def test_a_long_table_is_one_margin_per_variable_in_order() -> None:
    margins = parse_margins("variable,value,N\nage,1,40\ngender,1,60\ngender,2,40\nage,2,60\n")
    assert [m.variables for m in margins] == [("age",), ("gender",)]
    assert margins[1].population() == {"1": 60.0, "2": 40.0}
    assert margins[0].lines == {("1",): 2, ("2",): 5}


@pytest.mark.parametrize(
    ("text", "code", "params"),
    [
        ("", "empty", {}),
        ("gender,people\n1,5\n", "no_count", {}),
        ("gender,count\n1,5\n2\n", "row_width", {"line": 3, "found": 1, "expected": 2}),
        ("gender,count\n1,năm\n", "count_not_number", {"line": 2, "value": "năm"}),
        ("gender,count\n1,5\n2,-1\n", "count_not_positive", {"line": 3, "value": "-1"}),
        ("gender,count\n1,5\n1,6\n", "duplicate_cell", {"line": 3, "cell": ("1",)}),
        ("variable,value,count\ngender,1,5\ngender,1,6\n", "duplicate_cell", {"line": 3}),
        ("gender,count\n,5\n", "empty_value", {"line": 2, "column": "gender"}),
        ("count\n5\n", "no_variables", {}),
        ("gender,count\n\n", "empty", {}),
    ],
)
def test_a_bad_margins_table_says_what_and_where_with_a_code(
    text: str, code: str, params: dict[str, object]
) -> None:
    with pytest.raises(MarginsError) as raised:
        parse_margins(text, "m.csv")
    assert isinstance(raised.value, ScoringError)
    assert raised.value.code == code
    assert params.items() <= raised.value.params.items()
    assert str(raised.value).startswith("m.csv")


def test_csv_xlsx_and_json_files_give_the_same_margins(tmp_path: Path) -> None:
    text = "gender,N\n1,5200\n2,4800\n"
    (tmp_path / "m.csv").write_text(text, encoding="utf-8")
    table = pd.DataFrame({"gender": [1, 2], "N": [5200.0, 4800.0]})
    table.to_excel(tmp_path / "m.xlsx", index=False)
    table.to_json(tmp_path / "m.json", orient="records")
    expected = parse_margins(text)
    for name in ("m.csv", "m.xlsx", "m.json"):
        assert read_margins(tmp_path / name) == expected, name


def test_a_spec_post_stratifies_each_respondent_to_n_over_n_of_the_cell() -> None:
    margins = parse_margins("gender,count\n1,700\n2,300\n")
    design = DesignSpec(calibration="poststratify", margins=margins).build(SAMPLE)
    # 4 men stand for 700 people, 4 women for 300.
    expected = np.where(SAMPLE["gender"] == "1", 700 / 4, 300 / 4)
    np.testing.assert_allclose(design.weights, expected, rtol=1e-12)
    assert design.is_calibrated


def test_a_spec_rakes_as_scorings_rake_to_every_margin() -> None:
    margins = parse_margins("variable,value,count\ngender,1,60\ngender,2,40\nage,1,30\nage,2,70\n")
    got = DesignSpec(calibration="rake", margins=margins).build(SAMPLE)
    base = SurveyDesign.from_dataframe(SAMPLE)
    expected = rake(base, [("gender", {"1": 60.0, "2": 40.0}), ("age", {"1": 30.0, "2": 70.0})])
    np.testing.assert_allclose(got.weights, expected.weights, rtol=1e-12)


def test_a_spec_without_calibration_or_margins_is_svydesign_alone() -> None:
    margins = (Margin(("gender",), {("1",): 1.0, ("2",): 1.0}),)
    plain = DesignSpec(calibration="none", margins=margins).build(SAMPLE)
    np.testing.assert_array_equal(plain.weights, np.ones(len(SAMPLE)))
    assert DesignColumns is DesignSpec  # the former name still builds the same designs


def test_a_spec_refuses_an_unknown_calibration_and_two_post_strata_tables() -> None:
    with pytest.raises(CalibrationError, match="calibration must be one of"):
        DesignSpec(calibration="trim")  # type: ignore[arg-type]
    two = parse_margins("variable,value,count\ngender,1,6\ngender,2,4\nage,1,3\nage,2,7\n")
    with pytest.raises(CalibrationError, match="one margin table, not 2"):
        DesignSpec(calibration="poststratify", margins=two)


def test_with_columns_adds_domains_and_keeps_the_weights() -> None:
    margins = parse_margins("gender,count\n1,700\n2,300\n")
    design = DesignSpec(calibration="poststratify", margins=margins).build(SAMPLE)
    wider = design.with_columns(old=pd.Series(SAMPLE["age"] == "2"), flag=np.arange(8))
    assert list(wider.data.columns) == ["gender", "age", "y", "old", "flag"]
    assert "old" not in design.data  # the original design is unchanged
    np.testing.assert_array_equal(wider.weights, design.weights)
    assert wider.calibration == design.calibration
    with pytest.raises(DesignColumnError, match="'age' is already"):
        design.with_columns(age=np.zeros(8))
    with pytest.raises(DesignColumnError, match="3 values for 8 rows"):
        design.with_columns(short=np.zeros(3))
