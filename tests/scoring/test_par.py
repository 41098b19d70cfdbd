"""PAR conversion: seed figures, rounding modes, mapping validation with file:line messages."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pandas as pd
import pytest

from scoring.par import (
    PAR_COLUMNS,
    ParCriterion,
    ParInputError,
    ParMappingError,
    check_mapping,
    convert_points,
    load_par_mapping,
    par_points,
    parse_par_mapping,
)
from scoring.questionnaire import load_questionnaire

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "questionnaires" / "par" / "par-sipas.yaml"


def _criterion(**kw: object) -> ParCriterion:
    base: dict[str, object] = {
        "code": "8.1",
        "label": {"vi": "SIPAS"},
        "questionnaire": "sipas-2023",
        "index": "SIPAS",
        "max_points": Decimal(10),
    }
    base.update(kw)
    return ParCriterion(**base)  # type: ignore[arg-type]


def test_ha_tinh_2021_sipas_91_17_percent_is_9_12_of_10_points() -> None:
    percent, points = convert_points(0.9117, _criterion())
    assert percent == Decimal("91.17")
    # 91.17 x 10 / 100 = 9.117 exactly; a float product would be 9.116999... and round down.
    assert points == Decimal("9.12")


def test_yen_bai_2022_satisfaction_9_21_of_10_points() -> None:
    assert convert_points(0.9210, _criterion())[1] == Decimal("9.21")


def test_ratio_criterion_2000_of_17281_times_half_a_point_is_0_06() -> None:
    crit = _criterion(max_points=Decimal("0.5"), percent_decimals=None)
    percent, points = convert_points(Fraction(2000, 17281), crit)
    assert points == Decimal("0.06")
    assert abs(float(percent) - 100 * 2000 / 17281) < 1e-12


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [("half_up", "9.12"), ("half_even", "9.12"), ("down", "9.11")],
)
def test_rounding_modes_of_9_117(rounding: str, expected: str) -> None:
    assert convert_points(0.9117, _criterion(rounding=rounding))[1] == Decimal(expected)


def test_half_even_and_half_up_differ_on_an_exact_tie() -> None:
    # 91.25 % of 1 point = 0.9125: a tie at 3 decimals.
    up = _criterion(max_points=Decimal(1), decimals=3, rounding="half_up")
    even = _criterion(max_points=Decimal(1), decimals=3, rounding="half_even")
    assert convert_points(0.9125, up)[1] == Decimal("0.913")
    assert convert_points(0.9125, even)[1] == Decimal("0.912")


def test_percent_is_rounded_as_published_before_conversion_unless_disabled() -> None:
    # 91.149 % is published as 91.15 %, which gives 9.115 -> 9.12; unrounded 9.1149 -> 9.11.
    assert convert_points(0.91149, _criterion())[1] == Decimal("9.12")
    assert convert_points(0.91149, _criterion(percent_decimals=None))[1] == Decimal("9.11")


def test_shipped_mapping_loads_and_names_nodes_of_sipas_2023() -> None:
    mapping = load_par_mapping(SHIPPED)
    crit = mapping.criterion("8.1")
    assert crit.max_points == Decimal(10)
    assert crit.questionnaire == "sipas-2023"
    check_mapping(mapping, [load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")])


def test_par_points_table_per_agency() -> None:
    mapping = load_par_mapping(SHIPPED)
    table = pd.DataFrame(
        {
            "agency": ["HT", "HT", "YB", "ZZ"],
            "questionnaire": ["sipas-2023"] * 4,
            "node": ["SIPAS", "II", "SIPAS", "II"],
            "estimate": [0.9117, 0.5, 0.9210, 0.7],
            "se": [0.01, 0.02, 0.01, 0.03],
        }
    )
    out = par_points(mapping, table)
    assert list(out.columns) == list(PAR_COLUMNS)
    assert out["agency"].tolist() == ["HT", "YB", "ZZ"]
    assert out["points"].tolist()[:2] == [9.12, 9.21]
    assert out["index_percent"].tolist()[:2] == [91.17, 92.10]
    assert out["label"].iloc[0] == "Chỉ số hài lòng về sự phục vụ hành chính (SIPAS)"
    # ZZ has no SIPAS row: the gap shows as missing points, not as zero.
    assert pd.isna(out["points"].iloc[2])


def test_ratio_rows_given_as_numerator_and_denominator() -> None:
    mapping = parse_par_mapping(
        """
schema: 1
id: par-ratio
title: {vi: Tỷ lệ hồ sơ trực tuyến}
criteria:
  - code: "6.3"
    label: {vi: Tỷ lệ hồ sơ trực tuyến}
    questionnaire: dossiers
    index: online
    max_points: 0.5
    percent_decimals: null
""",
        "ratio.yaml",
    )
    table = pd.DataFrame(
        {
            "agency": ["A"],
            "questionnaire": ["dossiers"],
            "node": ["online"],
            "numerator": [2000],
            "denominator": [17281],
        }
    )
    assert par_points(mapping, table)["points"].tolist() == [0.06]


def test_a_percent_given_where_a_share_is_expected_is_refused() -> None:
    table = pd.DataFrame(
        {"agency": ["A"], "questionnaire": ["sipas-2023"], "node": ["SIPAS"], "estimate": [91.17]}
    )
    with pytest.raises(ParInputError, match=r"agency 'A' node 'SIPAS'.*not percents"):
        par_points(load_par_mapping(SHIPPED), table)


def test_index_table_without_estimate_column_is_refused_naming_it() -> None:
    table = pd.DataFrame({"agency": ["A"], "questionnaire": ["q"], "node": ["n"]})
    with pytest.raises(ParInputError, match="no column 'estimate'"):
        par_points(load_par_mapping(SHIPPED), table)


def test_duplicate_rows_are_refused_naming_agency_and_node() -> None:
    table = pd.DataFrame(
        {
            "agency": ["A", "A"],
            "questionnaire": ["sipas-2023"] * 2,
            "node": ["SIPAS", "SIPAS"],
            "estimate": [0.9, 0.8],
        }
    )
    with pytest.raises(ParInputError, match="agency 'A'.*node 'SIPAS'"):
        par_points(load_par_mapping(SHIPPED), table)


BAD = """\
schema: 1
id: par-bad
title: {vi: Sai}
criteria:
  - code: 8.1
    label: {vi: SIPAS}
    questionnaire: sipas-2023
    index: SIPAS
    max_points: -10
    rounding: ceiling
  - code: "8.2"
    label: {en: no Vietnamese}
    questionnaire: sipas-2023
    index: II
    max_points: 5
    decimals: 2.5
    colour: red
"""


def test_invalid_mapping_lists_every_problem_with_file_line_and_path() -> None:
    with pytest.raises(ParMappingError) as info:
        parse_par_mapping(BAD, "par-bad.yaml")
    problems = info.value.problems
    assert problems == [
        'par-bad.yaml:5 criteria[0].code: expected a string, got a number (quote it: "8.1")',
        "par-bad.yaml:9 criteria[0].max_points: expected a positive number, got an integer -10",
        "par-bad.yaml:10 criteria[0].rounding: unknown rounding 'ceiling' "
        "(expected one of: half_up, half_even, down)",
        "par-bad.yaml:12 criteria[1].label: missing language 'vi' (official texts are Vietnamese)",
        "par-bad.yaml:16 criteria[1].decimals: expected a whole number of decimals 0..6, "
        "got a number 2.5",
        "par-bad.yaml:17 criteria[1].colour: unknown key 'colour' (expected one of: code, "
        "label, questionnaire, index, max_points, decimals, rounding, percent_decimals, "
        "index_max)",
    ]


def test_unknown_schema_version_is_refused() -> None:
    with pytest.raises(ParMappingError, match=r"x\.yaml:1 schema: unknown schema version 2"):
        parse_par_mapping("schema: 2\nid: x\n", "x.yaml")


def test_unknown_index_node_is_reported_with_the_criterion_line() -> None:
    text = SHIPPED.read_text(encoding="utf-8").replace("index: SIPAS", "index: SIPASS")
    mapping = parse_par_mapping(text, "par-sipas.yaml")
    sipas = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    with pytest.raises(ParMappingError, match=r"par-sipas\.yaml:\d+ criterion '8\.1'.*'SIPASS'"):
        check_mapping(mapping, [sipas])


@pytest.mark.parametrize(
    "path", sorted((ROOT / "questionnaires" / "par").glob("*.yaml")), ids=lambda p: p.name
)
def test_every_shipped_mapping_names_index_nodes_of_shipped_questionnaires(path: Path) -> None:
    mapping = load_par_mapping(path)
    questionnaires = [load_questionnaire(q) for q in (ROOT / "questionnaires").glob("*.yaml")]
    known = {q.id for q in questionnaires}
    assert {c.questionnaire for c in mapping.criteria} <= known
    check_mapping(mapping, questionnaires)
