"""Question kinds (survey_app.questions): form values, paper cells and export cells per kind.

Expected values are written out by hand from the rules in the module docstrings of
``services/submissions.py``, ``services/paper_import.py`` and ``services/raw_export.py``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scoring.questionnaire import Item, ItemType, Option, load_questionnaire
from survey_app.questions import (
    KINDS,
    MultipleChoice,
    NumberKind,
    Problem,
    SingleChoice,
    TextKind,
    kind_of,
)
from survey_app.services.submissions import stored_answers

SCALE = (
    Option(1, {"vi": "Rất không hài lòng"}),
    Option(2, {"vi": "Không hài lòng"}),
    Option(3, {"vi": "Bình thường"}),
    Option(4, {"vi": "Hài lòng"}),
    Option(5, {"vi": "Rất hài lòng"}),
    Option(9, {"vi": "Không có ý kiến"}, valid=False),
)
SINGLE = Item("II.2.1", {"vi": "Thái độ"}, "single", options=SCALE)
MULTIPLE = Item("II.0.1", {"vi": "Kênh"}, "multiple", options=SCALE[:3])
NUMBER = Item("age", {"vi": "Tuổi"}, "number", minimum=15, maximum=100, integer=True)
DECIMAL = Item("km", {"vi": "Quãng đường"}, "number", minimum=0)
TEXT = Item("comment", {"vi": "Ý kiến"}, "text", max_length=10)


def test_every_questionnaire_type_has_exactly_one_kind() -> None:
    assert set(KINDS) == set(get_args(ItemType))
    assert {type(kind_of(i)) for i in (SINGLE, MULTIPLE, NUMBER, TEXT)} == {
        SingleChoice,
        MultipleChoice,
        NumberKind,
        TextKind,
    }


def test_only_single_choices_enter_the_analysis_frame_and_only_texts_are_comments() -> None:
    assert [k.name for k in KINDS.values() if k.analysed] == ["single"]
    assert [k.name for k in KINDS.values() if k.comment] == ["text"]
    assert [k.name for k in KINDS.values() if k.has_options] == ["single", "multiple"]
    assert {k.name: k.widget for k in KINDS.values()} == {
        "single": "radio",
        "multiple": "checkbox",
        "number": "number",
        "text": "textarea",
    }


@pytest.mark.parametrize(
    "path",
    sorted((Path(__file__).resolve().parent.parent / "questionnaires").glob("*.yaml")),
    ids=lambda p: p.name,
)
def test_every_index_leaf_of_a_shipped_questionnaire_is_read_by_the_analysis(path: Path) -> None:
    # The loader lets only single choices be index leaves; the analysis frame must hold them.
    questionnaire = load_questionnaire(path)
    assert questionnaire.index is not None
    leaves = questionnaire.index.item_codes()
    assert leaves and all(kind_of(questionnaire.item(code)).analysed for code in leaves)


def test_a_browser_sends_one_field_per_item_or_one_per_option_of_a_multiple_choice() -> None:
    assert [kind_of(i).max_fields(i) for i in (SINGLE, MULTIPLE, NUMBER, TEXT)] == [1, 3, 1, 1]


# ------------------------------------------------------------------ form values


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["4"], (4, None)),
        ([" 4 "], (4, None)),
        (["9"], (9, None)),  # "no opinion" is an answer, just not a valid one
        (["6"], (None, Problem("answer.not_option"))),
        (["0"], (None, Problem("answer.not_option"))),
        (["-1"], (None, Problem("answer.not_option"))),
        (["4.0"], (None, Problem("answer.not_option"))),
        (["bốn"], (None, Problem("answer.not_option"))),
        (["9" * 5000], (None, Problem("answer.not_option"))),
        (["4", "5"], (None, Problem("answer.one_choice"))),
        (["4", "4"], (None, Problem("answer.one_choice"))),
    ],
)
def test_single_choice_form_values(values: list[str], expected: object) -> None:
    assert kind_of(SINGLE).parse_form(SINGLE, values) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["3", "1"], ([1, 3], None)),
        (["2", "2"], ([2], None)),
        (["1", "5"], (None, Problem("answer.not_option"))),
        (["1", "x"], (None, Problem("answer.not_option"))),
    ],
)
def test_multiple_choice_form_values(values: list[str], expected: object) -> None:
    assert kind_of(MULTIPLE).parse_form(MULTIPLE, values) == expected


@pytest.mark.parametrize(
    ("item", "value", "expected"),
    [
        (NUMBER, "42", (Decimal(42), None)),
        (NUMBER, " 4 2 ", (Decimal(42), None)),
        (NUMBER, "15", (Decimal(15), None)),
        (NUMBER, "100", (Decimal(100), None)),
        (NUMBER, "14", (None, Problem("answer.out_of_range", {"minimum": 15, "maximum": 100}))),
        (NUMBER, "100,5", (None, Problem("answer.not_integer"))),
        (NUMBER, "42,0", (Decimal(42), None)),
        (NUMBER, "bốn mươi", (None, Problem("answer.not_number"))),
        (NUMBER, "1.000.000", (None, Problem("answer.not_number"))),
        (DECIMAL, "2,5", (Decimal("2.5"), None)),
        (DECIMAL, "0,0000004", (Decimal(0), None)),  # six decimals are kept
        (DECIMAL, "1e3", (Decimal(1000), None)),
        (DECIMAL, "999999999999", (Decimal(999999999999), None)),
        (DECIMAL, "1000000000000", (None, Problem("answer.not_number"))),
        (DECIMAL, "1e400", (None, Problem("answer.not_number"))),
        (DECIMAL, "NaN", (None, Problem("answer.not_number"))),
        (DECIMAL, "Infinity", (None, Problem("answer.not_number"))),
        (DECIMAL, "-0,5", (None, Problem("answer.below_minimum", {"minimum": 0}))),
    ],
)
def test_number_form_values(item: Item, value: str, expected: object) -> None:
    assert kind_of(item).parse_form(item, [value]) == expected


def test_a_number_takes_one_value() -> None:
    assert kind_of(NUMBER).parse_form(NUMBER, ["1", "2"]) == (None, Problem("answer.one_choice"))


def test_text_form_values() -> None:
    kind = kind_of(TEXT)
    assert kind.parse_form(TEXT, ["  tốt  "]) == ("tốt", None)
    # A CRLF counts as one character, as the browser counted it against maxlength.
    assert kind.parse_form(TEXT, ["12345\r\n789"]) == ("12345\n789", None)
    assert kind.parse_form(TEXT, ["12345678901"]) == (
        None,
        Problem("answer.too_long", {"length": 11, "limit": 10}),
    )
    answer, problem = kind.parse_form(TEXT, ["ab\x1bc"])
    assert answer is None and problem is not None and problem.code == "answer.bad_text"
    assert problem.params == {"character": "U+001B", "position": 3}
    assert kind.parse_form(TEXT, ["a", "b"]) == (None, Problem("answer.one_choice"))


def test_a_text_without_max_length_takes_500_characters() -> None:
    item = Item("c", {"vi": "Ý kiến"}, "text")
    assert kind_of(item).parse_form(item, ["x" * 500]) == ("x" * 500, None)
    assert kind_of(item).parse_form(item, ["x" * 501])[1] == Problem(
        "answer.too_long", {"length": 501, "limit": 500}
    )


# ------------------------------------------------------------------ paper cells

ALLOWED = (1, 2, 3, 4, 5, 9)


@pytest.mark.parametrize(
    ("item", "text", "expected"),
    [
        (SINGLE, "4", (["4"], None)),
        (SINGLE, "7", ([], Problem("answer.unknown_code", {"value": "7", "allowed": ALLOWED}))),
        (SINGLE, "04", (["04"], None)),
        (SINGLE, "a", ([], Problem("answer.not_a_code", {"value": "a", "allowed": ALLOWED}))),
        (SINGLE, "1;3", ([], Problem("answer.not_a_code", {"value": "1;3", "allowed": ALLOWED}))),
        (MULTIPLE, "1;3", (["1", "3"], None)),
        (MULTIPLE, "1, 3", (["1", "3"], None)),
        (MULTIPLE, "1 3;;", (["1", "3"], None)),
        (
            MULTIPLE,
            "1;4",
            ([], Problem("answer.unknown_code", {"value": "4", "allowed": (1, 2, 3)})),
        ),
        (MULTIPLE, "1;x", ([], Problem("answer.not_a_code", {"value": "x", "allowed": (1, 2, 3)}))),
        (NUMBER, "1;3", (["1;3"], None)),  # the form's rules refuse it afterwards
        (TEXT, "1;3", (["1;3"], None)),
    ],
)
def test_paper_cells(item: Item, text: str, expected: object) -> None:
    assert kind_of(item).read_paper_cell(item, text) == expected


@given(st.lists(st.sampled_from([1, 2, 3]), min_size=1), st.sampled_from([";", ",", " ", "; "]))
def test_a_multiple_choice_cell_reads_as_the_form_reads_the_same_boxes(
    codes: list[int], separator: str
) -> None:
    values, problem = kind_of(MULTIPLE).read_paper_cell(MULTIPLE, separator.join(map(str, codes)))
    assert problem is None
    assert kind_of(MULTIPLE).parse_form(MULTIPLE, values) == (sorted(set(codes)), None)


# ------------------------------------------------------------------ export


def test_export_columns_and_cells() -> None:
    assert kind_of(SINGLE).export_columns(SINGLE) == ["II.2.1"]
    assert kind_of(MULTIPLE).export_columns(MULTIPLE) == ["II.0.1__1", "II.0.1__2", "II.0.1__3"]
    assert kind_of(SINGLE).export_cells(SINGLE, 9) == {"II.2.1": 9}
    assert kind_of(SINGLE).export_cells(SINGLE, None) == {"II.2.1": None}
    assert kind_of(MULTIPLE).export_cells(MULTIPLE, [1, 3]) == {
        "II.0.1__1": 1,
        "II.0.1__2": 0,
        "II.0.1__3": 1,
    }
    # Nothing chosen is "not answered", not "answered no to every option".
    none = {"II.0.1__1": None, "II.0.1__2": None, "II.0.1__3": None}
    assert kind_of(MULTIPLE).export_cells(MULTIPLE, None) == none
    assert kind_of(MULTIPLE).export_cells(MULTIPLE, []) == none
    assert kind_of(NUMBER).export_cells(NUMBER, "42") == {"age": 42.0}
    assert kind_of(NUMBER).export_cells(NUMBER, None) == {"age": None}
    assert kind_of(TEXT).export_cells(TEXT, "tốt") == {"comment": "tốt"}
    assert [k.export_dtype for k in KINDS.values()] == ["Int64", "Int64", "Float64", "string"]


@given(st.sampled_from([o.code for o in SCALE]))
def test_a_single_choice_exports_the_code_it_read(code: int) -> None:
    answer, _ = kind_of(SINGLE).parse_form(SINGLE, [str(code)])
    stored = stored_answers({SINGLE.code: answer})  # type: ignore[dict-item]
    assert kind_of(SINGLE).export_cells(SINGLE, stored[SINGLE.code]) == {SINGLE.code: code}


@given(st.sets(st.sampled_from([1, 2, 3]), min_size=1))
def test_a_multiple_choice_exports_one_for_each_box_ticked(codes: set[int]) -> None:
    answer, _ = kind_of(MULTIPLE).parse_form(MULTIPLE, [str(c) for c in codes])
    stored = stored_answers({MULTIPLE.code: answer})  # type: ignore[dict-item]
    cells = kind_of(MULTIPLE).export_cells(MULTIPLE, stored[MULTIPLE.code])
    assert cells == {f"II.0.1__{c}": int(c in codes) for c in (1, 2, 3)}


@given(st.decimals(min_value=-(10**11), max_value=10**11, places=6, allow_nan=False))
def test_a_number_exports_the_value_it_read(number: Decimal) -> None:
    written = format(number, "f").replace(".", ",")
    answer, problem = kind_of(DECIMAL).parse_form(DECIMAL, [written])
    if number < 0:
        assert problem == Problem("answer.below_minimum", {"minimum": 0})
        return
    stored = stored_answers({DECIMAL.code: answer})  # type: ignore[dict-item]
    assert kind_of(DECIMAL).export_cells(DECIMAL, stored[DECIMAL.code]) == {"km": float(number)}


# ------------------------------------------------------------------ codebooks


def test_codebook_entries() -> None:
    single = kind_of(SINGLE).codebook(SINGLE, "vi")
    assert [(e.column, e.code, e.label, e.valid) for e in single][-2:] == [
        ("II.2.1", 5, "Rất hài lòng", "có"),
        ("II.2.1", 9, "Không có ý kiến", "không"),
    ]
    multiple = kind_of(MULTIPLE).codebook(MULTIPLE, "vi")
    assert [(e.column, e.code) for e in multiple][0] == (
        "II.0.1__1",
        "1 = có chọn; 0 = không chọn",
    )
    assert [e.code for e in kind_of(NUMBER).codebook(NUMBER, "vi")] == ["từ 15 đến 100 số nguyên"]
    assert [e.code for e in kind_of(DECIMAL).codebook(DECIMAL, "vi")] == ["từ 0"]
    assert [e.code for e in kind_of(TEXT).codebook(TEXT, "vi")] == [""]


def test_paper_guides() -> None:
    assert kind_of(MULTIPLE).paper_guide(MULTIPLE, "vi") == (
        "1 = Rất không hài lòng; 2 = Không hài lòng; 3 = Bình thường"
        " · Ghi nhiều mã, cách nhau bằng dấu chấm phẩy, ví dụ 1;3"
    )
    assert (
        kind_of(SINGLE).paper_guide(SINGLE, "vi").endswith("; 9 = Không có ý kiến (không hợp lệ)")
    )
    assert kind_of(NUMBER).paper_guide(NUMBER, "vi") == "Số từ 15 đến 100 (số nguyên)"
    assert kind_of(DECIMAL).paper_guide(DECIMAL, "vi") == "Số từ 0"
    assert kind_of(TEXT).paper_guide(TEXT, "vi") == "Văn bản, tối đa 10 ký tự"


# ------------------------------------------------------------------ one place

_BRANCH = re.compile(r"\.type\s*(==|!=|in\b|not\s+in\b)")


def test_no_module_of_the_app_branches_on_the_item_type() -> None:
    root = Path(__file__).resolve().parent.parent / "survey_app"
    found = [
        f"{path.relative_to(root)}:{n}: {line.strip()}"
        for path in sorted(root.rglob("*"))
        if path.suffix in (".py", ".html") and path.name != "questions.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if _BRANCH.search(line)
    ]
    assert found == []
