"""The questionnaire YAML loader: shipped instruments, the README contract, and its messages."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from scoring.questionnaire import (
    IndexNode,
    Item,
    Questionnaire,
    QuestionnaireError,
    ShowIf,
    load_questionnaire,
    parse_questionnaire,
)

ROOT = Path(__file__).resolve().parents[2]
QUESTIONNAIRES = ROOT / "questionnaires"
BAD = Path(__file__).resolve().parent / "bad_yaml"
SHIPPED = ["sipas-2023.yaml", "sipas-2017.yaml", "tt01-quick.yaml", "papi-2023.yaml"]


def _readme_example() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Questionnaire YAML format", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert match, "README has no yaml example under 'Questionnaire YAML format'"
    return match.group(1)


@pytest.fixture(scope="module")
def sipas2023() -> Questionnaire:
    return load_questionnaire(QUESTIONNAIRES / "sipas-2023.yaml")


@pytest.fixture(scope="module")
def papi() -> Questionnaire:
    return load_questionnaire(QUESTIONNAIRES / "papi-2023.yaml")


def _problems(text: str, filename: str = "t.yaml") -> list[str]:
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire(text, filename)
    return info.value.problems


# ------------------------------------------------------------------ shipped instruments


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_questionnaire_loads_with_vietnamese_first(name: str) -> None:
    q = load_questionnaire(QUESTIONNAIRES / name)
    assert q.schema == 1
    assert q.id == name.removesuffix(".yaml")
    assert q.default_language == "vi"
    assert q.languages == ("vi", "en")
    assert q.index is not None
    assert q.filename == name
    assert len(q.content_hash) == 64


@pytest.mark.parametrize("path", sorted(QUESTIONNAIRES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_yaml_in_questionnaires_loads(path: Path) -> None:
    assert load_questionnaire(path).id == path.stem


def test_the_four_instruments_are_shipped() -> None:
    assert set(SHIPPED) <= {p.name for p in QUESTIONNAIRES.glob("*.yaml")}


def test_sipas_2023_has_every_item_of_the_seed_plan(sipas2023: Questionnaire) -> None:
    group_one = [f"I.1.{i}" for i in (1, 2)] + [f"I.2.{i}" for i in (1, 2)]
    group_one += [f"I.3.{i}" for i in range(1, 7)] + [f"I.4.{i}" for i in range(1, 5)]
    group_two = [f"II.0.{i}" for i in range(1, 5)]
    group_two += [f"II.{c}.{i}" for c in range(1, 5) for i in range(1, 4)]
    assert sipas2023.index is not None
    assert list(sipas2023.index.item_codes()) == group_one + group_two
    assert sipas2023.item("II.2.1").text["vi"] == (
        "Công chức ở Bộ phận một cửa có thái độ giao tiếp lịch sự, tôn trọng người dân"
    )


def test_sipas_2023_index_is_mean_of_groups_of_mean_criteria(sipas2023: Questionnaire) -> None:
    index = sipas2023.index
    assert index is not None
    assert [g.code for g in index.children] == ["I", "II"]
    assert [c.code for c in index.children[1].children] == ["II.0", "II.1", "II.2", "II.3", "II.4"]
    assert {n.aggregate for n in index.walk() if not n.is_leaf} == {"mean"}
    assert {n.satisfied for n in index.walk()} == {frozenset({4, 5})}


def test_sipas_2023_rating_items_are_required_and_allow_no_opinion(
    sipas2023: Questionnaire,
) -> None:
    assert sipas2023.index is not None
    for code in sipas2023.index.item_codes():
        item = sipas2023.item(code)
        assert item.required
        assert item.valid_codes == {1, 2, 3, 4, 5}
        assert item.invalid_codes == {9}
        assert item.option(9).label["vi"] == "Không có ý kiến / Không biết"
    assert all(not i.required for i in sipas2023.respondent)
    assert [i.code for i in sipas2023.respondent] == [
        "gender", "age_group", "ethnicity", "education", "occupation", "field",
    ]  # fmt: skip


def test_sipas_2023_feedback_items_are_shown_only_to_those_who_filed_feedback(
    sipas2023: Questionnaire,
) -> None:
    for code in ("II.4.1", "II.4.2", "II.4.3"):
        item = sipas2023.item(code)
        assert item.show_if == ShowIf(item="II.4.0", codes=frozenset({1}))
        assert item.is_shown({"II.4.0": 1})
        assert not item.is_shown({"II.4.0": 2})
        assert not item.is_shown({})


def test_sipas_2017_has_22_criteria_in_5_elements() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "sipas-2017.yaml")
    assert q.index is not None
    assert [len(list(e.leaves())) for e in q.index.children] == [4, 5, 6, 3, 4]
    assert len(list(q.index.leaves())) == 22


def test_tt01_codes_are_the_points_and_1_or_2_counts_as_satisfied() -> None:
    q = load_questionnaire(QUESTIONNAIRES / "tt01-quick.yaml")
    assert q.index is not None
    leaves = list(q.index.leaves())
    assert len(leaves) == 9
    for leaf in leaves:
        item = q.item(leaf.code)
        assert [(o.code, o.label["vi"]) for o in item.options] == [
            (2, "Rất hài lòng"), (1, "Hài lòng"), (0, "Không hài lòng"),
        ]  # fmt: skip
        assert leaf.satisfied == {1, 2}
    # 9 criteria x 2 points
    assert sum(max(q.item(leaf.code).valid_codes) for leaf in leaves) == 18


def test_papi_dimensions_sum_sub_dimensions_onto_1_to_10(papi: Questionnaire) -> None:
    index = papi.index
    assert index is not None
    assert index.aggregate == "sum"
    assert len(index.children) == 8
    for dimension in index.children:
        k = len(dimension.children)
        assert dimension.aggregate == "sum"
        for sub in dimension.children:
            assert sub.range == pytest.approx((1 / k, 10 / k))
        assert sum(s.range[0] for s in dimension.children if s.range) == pytest.approx(1)
        assert sum(s.range[1] for s in dimension.children if s.range) == pytest.approx(10)


def test_papi_satisfied_is_inherited_and_overridable(papi: Questionnaire) -> None:
    assert papi.index is not None
    nodes = {n.code: n for n in papi.index.walk()}
    assert nodes["D2.1.1"].satisfied == {1}  # inherited from the root
    assert nodes["D4.1.1"].satisfied == {2}  # "Không" is the good answer
    assert nodes["D6.1.1"].satisfied == {4, 5}  # from the dimension
    assert nodes["D6.3.1"].satisfied == {1}  # overridden again below it


# ------------------------------------------------------------------ README contract


def test_readme_example_loads() -> None:
    q = parse_questionnaire(_readme_example(), "readme.yaml")
    assert q.id == "sipas-2023"
    assert q.version == "2023.1"
    assert [i.code for i in q.items] == [
        "II.2.1",
        "II.4.0",
        "II.4.1",
        "comment",
        "visits",
        "gender",
    ]
    comment, visits = q.item("comment"), q.item("visits")
    assert comment.type == "text" and comment.max_length == 1000
    assert (visits.minimum, visits.maximum, visits.integer) == (0, 20, True)
    assert q.item("II.2.1").scale == "satisfaction5"
    assert q.item("II.2.1").invalid_codes == {9}
    assert q.index == IndexNode(
        code="SIPAS",
        label={"vi": "Chỉ số SIPAS", "en": "SIPAS index"},
        aggregate="mean",
        satisfied=frozenset({4, 5}),
        children=(
            IndexNode(
                code="II.2",
                label={"vi": "Công chức", "en": "Civil servants"},
                aggregate="mean",
                satisfied=frozenset({4, 5}),
                children=(
                    IndexNode(
                        code="II.2.1",
                        label=q.item("II.2.1").text,
                        aggregate="item",
                        item="II.2.1",
                        satisfied=frozenset({4, 5}),
                    ),
                ),
            ),
        ),
    )


def test_text_items_default_to_500_characters() -> None:
    text = _readme_example().replace("        max_length: 1000       # text: default 500\n", "")
    assert parse_questionnaire(text, "t.yaml").item("comment").max_length == 500


def test_unknown_item_lookup_names_the_questionnaire() -> None:
    q = parse_questionnaire(_readme_example(), "readme.yaml")
    with pytest.raises(KeyError, match="'sipas-2023' version '2023.1' has no item 'II.9.9'"):
        q.item("II.9.9")


def test_model_is_frozen() -> None:
    q = parse_questionnaire(_readme_example(), "readme.yaml")
    with pytest.raises(dataclasses.FrozenInstanceError):
        q.item("II.2.1").required = False  # type: ignore[misc]


# ------------------------------------------------------------------ bad files


BAD_FILES = {
    "unknown_scale.yaml": [
        "unknown_scale.yaml:28 sections[0].items[1].scale: unknown scale 'likert7'",
    ],
    "unknown_schema_version.yaml": [
        "unknown_schema_version.yaml:1 schema: unknown schema version 2 (this program reads 1)",
    ],
    "missing_language.yaml": [
        "missing_language.yaml:26 sections[0].items[1].text: missing language 'en'",
    ],
    "show_if_forward_reference.yaml": [
        "show_if_forward_reference.yaml:33 sections[0].items[2].show_if.item: item 'A.4' does not"
        " come earlier in the form (show_if may only refer to earlier items)",
    ],
    "duplicate_item_code.yaml": [
        "duplicate_item_code.yaml:29 sections[0].items[2].code: duplicate item code 'A.1'"
        " (first at line 21)",
        # The duplicate replaced A.3, so the index now names a missing item too.
        "duplicate_item_code.yaml:39 index.items[1]: unknown item 'A.3'",
    ],
    "unknown_key.yaml": [
        "unknown_key.yaml:33 sections[0].items[2].requried: unknown key 'requried' (expected one"
        " of: code, text, type, scale, options, required, show_if, min, max, integer,"
        " max_length, help)",
    ],
    "index_unknown_item.yaml": [
        "index_unknown_item.yaml:39 index.items[1]: unknown item 'A.9'",
    ],
    "weighted_mean_without_weight.yaml": [
        "weighted_mean_without_weight.yaml:41 index.items[1]: missing 'weight' (weighted_mean"
        " needs a weight on every child; write {item: CODE, weight: W})",
    ],
    "yaml_syntax_error.yaml": [
        "yaml_syntax_error.yaml:26: while parsing a flow mapping: expected ',' or '}', but got"
        " '?' (quote texts that contain ',', ':', '?' or '#')",
    ],
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_reports_file_line_path_and_message(name: str) -> None:
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(BAD / name)
    assert info.value.problems == BAD_FILES[name]
    assert str(info.value).endswith("\n".join(BAD_FILES[name]))


def test_every_bad_fixture_has_expected_messages() -> None:
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(BAD_FILES)


def test_whole_file_is_validated_and_problems_come_in_file_order() -> None:
    text = _readme_example()
    text = text.replace('version: "2023.1" ', "version: 2023.1   ")
    text = text.replace(
        "        scale: satisfaction5   # or inline", "        scale: likert7  # or"
    )
    text = text.replace("        min: 0 ", "        min: 30")
    text = text.replace("text: {vi: Giới tính, en: Gender}", "text: {vi: Giới tính}")
    text = text.replace("  aggregate: mean              #", "  aggregate: median            #")
    assert _problems(text) == [
        't.yaml:3 version: expected a string, got a number (quote it: "2023.1")',
        "t.yaml:29 sections[0].items[0].scale: unknown scale 'likert7'",
        "t.yaml:48 sections[0].items[4].max: max 20 is below min 30",
        "t.yaml:53 respondent[0].text: missing language 'en'",
        "t.yaml:62 index.aggregate: unknown aggregate 'median'"
        " (expected one of: mean, weighted_mean, pooled, sum)",
    ]


def test_satisfied_codes_must_be_valid_codes_of_each_item() -> None:
    text = _readme_example().replace("satisfied: [4, 5]", "satisfied: [5, 9]")
    assert _problems(text) == [
        "t.yaml:68 index.children[0].items[0]: satisfied code 9 not among the valid codes of"
        " item 'II.2.1' (1, 2, 3, 4, 5)",
    ]


def test_duplicate_node_code_is_reported_with_first_line() -> None:
    text = _readme_example().replace("    - code: II.2\n", "    - code: SIPAS\n")
    assert _problems(text) == [
        "t.yaml:65 index.children[0].code: duplicate node code 'SIPAS' (first at line 60)",
    ]


def test_show_if_codes_must_be_options_of_the_controlling_item() -> None:
    text = _readme_example().replace(
        "show_if: {item: II.4.0, in: [1]}", "show_if: {item: II.4.0, in: [1, 3]}"
    )
    assert _problems(text) == [
        "t.yaml:39 sections[0].items[2].show_if.in[1]: code 3 is not an option of item 'II.4.0'",
    ]


def test_duplicate_yaml_keys_are_errors_not_silently_overwritten() -> None:
    text = _readme_example().replace(
        "        required: true         # default false\n",
        "        required: true         # default false\n        required: false\n",
    )
    assert _problems(text) == [
        "t.yaml:31 sections[0].items[0].required: duplicate key 'required' (first at line 30)",
    ]


def test_unquoted_yes_is_reported_as_a_boolean_with_a_hint() -> None:
    text = _readme_example().replace('en: "Yes"', "en: Yes")
    assert _problems(text) == [
        "t.yaml:18 scales.yes_no.options[0].label.en: expected a non-empty text, got a boolean"
        ' (quote it: "Yes")',
    ]


def test_missing_schema_is_refused() -> None:
    assert _problems("id: x\n") == [
        "t.yaml:1: missing required key 'schema' (this program reads 1)"
    ]


def test_recursive_alias_is_reported_not_followed() -> None:
    problems = _problems("schema: 1\nid: &a [*a]\n")
    assert "t.yaml:2 id[0]: an alias refers to a node that contains it" in problems


def test_empty_file_is_refused() -> None:
    assert _problems("# nothing\n") == ["t.yaml:1: empty file, expected a questionnaire mapping"]


# ------------------------------------------------------------------ content hash


def test_content_hash_ignores_comments_whitespace_and_spelled_out_defaults() -> None:
    text = _readme_example()
    base = parse_questionnaire(text, "a.yaml").content_hash
    edited = "# a new comment\n\n" + text.replace("# stable questionnaire id", "# the id")
    edited = edited.replace("        required: true         # default false\n",
                            "        required: true\n\n")  # fmt: skip
    edited = edited.replace(
        "        type: text\n", "        type: text   \n        required: false\n"
    )
    assert parse_questionnaire(edited, "b.yaml").content_hash == base


def test_content_hash_changes_with_wording() -> None:
    text = _readme_example()
    base = parse_questionnaire(text, "a.yaml").content_hash
    reworded = text.replace("Số lần đi lại", "Số lần phải đi lại")
    assert parse_questionnaire(reworded, "a.yaml").content_hash != base


def test_content_hash_changes_with_an_option_validity() -> None:
    text = _readme_example()
    base = parse_questionnaire(text, "a.yaml").content_hash
    changed = text.replace("Don't know}, valid: false}", "Don't know}, valid: true}")
    assert parse_questionnaire(changed, "a.yaml").content_hash != base


def test_source_keeps_the_text_as_read() -> None:
    text = _readme_example()
    assert parse_questionnaire(text, "a.yaml").source == text


# ------------------------------------------------------------------ skip logic


def _item_shown_if(codes: set[int]) -> Item:
    return Item(
        code="x",
        text={"vi": "x"},
        type="single",
        show_if=ShowIf(item="c", codes=frozenset(codes)),
    )


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ({"c": 1}, True),
        ({"c": 2}, False),
        ({"c": None}, False),
        ({}, False),
        ({"c": [2, 3]}, True),  # multiple choice: any chosen code shows it
        ({"c": [2]}, False),
        ({"c": []}, False),
        ({"c": True}, False),  # a boolean is not an answer code
    ],
)
def test_is_shown_evaluates_show_if(answers: dict[str, object], shown: bool) -> None:
    assert _item_shown_if({1, 3}).is_shown(answers) is shown


def test_item_without_show_if_is_always_shown() -> None:
    assert Item(code="x", text={"vi": "x"}, type="text").is_shown({})


def test_papi_multiple_choice_controls_service_ratings(papi: Questionnaire) -> None:
    used = {"D5.0": [1, 3]}
    shown = [c for c in ("D5.1.1", "D5.2.1", "D5.3.1", "D5.4.1") if papi.item(c).is_shown(used)]
    assert shown == ["D5.1.1", "D5.3.1"]


def test_shown_items_ignores_answers_of_hidden_items() -> None:
    text = _readme_example().replace(
        "      - code: comment\n",
        "      - code: II.4.9\n"
        "        text: {vi: Câu phụ, en: Follow-up}\n"
        "        type: single\n"
        "        scale: satisfaction5\n"
        "        show_if: {item: II.4.1, in: [1, 2]}\n"
        "      - code: comment\n",
    )
    q = parse_questionnaire(text, "t.yaml")

    def shown(answers: dict[str, object]) -> list[str]:
        return [i.code for i in q.shown_items(answers) if i.code.startswith("II.4")]

    assert shown({"II.4.0": 1, "II.4.1": 2}) == ["II.4.0", "II.4.1", "II.4.9"]
    assert shown({"II.4.0": 1, "II.4.1": 5}) == ["II.4.0", "II.4.1"]
    # II.4.1 is hidden once II.4.0 says "no", so its stale answer no longer shows II.4.9.
    assert shown({"II.4.0": 2, "II.4.1": 2}) == ["II.4.0"]
