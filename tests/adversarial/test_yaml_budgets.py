"""Questionnaire YAML within budgets: size, aliases, depth, nodes; a clean error, always.

Before: a 400-byte alias bomb took gigabytes (MemoryError after 36 s under a 3 GB cap),
deep nesting raised RecursionError (500 on the staff page, a traceback from the CLI).
"""

from __future__ import annotations

import io
import resource
from pathlib import Path

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scoring.questionnaire import Questionnaire, QuestionnaireError, parse_questionnaire
from scoring.yaml_source import MAX_YAML_DEPTH, YamlSyntaxError, load_plain
from survey_app.cli.questionnaire import questionnaire_validate
from tests.staff_support import add_user, csrf_token, login, seed_province

ROOT = Path(__file__).resolve().parents[2]
ALIAS_BOMB = "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi", strict=True)
)
CASES = {
    "alias-bomb": (ALIAS_BOMB, "không được dùng bí danh YAML"),
    "one-alias": ("x: &v 1\ny: *v\n", "không được dùng bí danh YAML (*v)"),
    "merge-key": ("base: &b {a: 1}\nx:\n  <<: *b\n", "không được dùng bí danh YAML"),
    "deep-flow": ("[" * 50_000 + "]" * 50_000, "lồng nhau quá sâu"),
    "deep-block": ("".join("  " * i + "a:\n" for i in range(200)), "lồng nhau quá sâu"),
    "many-nodes": ("[" + ",".join(["1"] * 150_000) + "]", "quá nhiều phần tử"),
    "huge": ("a: " + "x" * 1_100_000 + "\n", "tệp quá lớn"),
}


def _problems(text: str) -> list[str]:
    with pytest.raises(QuestionnaireError) as error:
        parse_questionnaire(text, "x.yaml")
    return error.value.problems


@pytest.mark.parametrize("name", CASES)
def test_hostile_yaml_is_refused_within_budget_with_one_clear_line(name: str) -> None:
    text, expected = CASES[name]
    # The work is bounded by the budgets (characters, nodes, depth), not by a clock: a
    # slow machine takes longer to reach a budget, and no test fails for that.
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    problems = _problems(text)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 300_000  # KiB
    assert len(problems) == 1 and problems[0].startswith("x.yaml:") and expected in problems[0]


def test_the_shipped_questionnaires_fit_the_budgets() -> None:
    for path in [*ROOT.joinpath("questionnaires").glob("*.yaml")]:
        parse_questionnaire(path.read_text(encoding="utf-8"), path.name)
    load_plain((ROOT / "survey_app" / "demo_province.yaml").read_text("utf-8"), "demo.yaml")


def test_the_cli_exits_non_zero_with_one_line_and_no_traceback(tmp_path: Path) -> None:
    from click.testing import CliRunner

    for name, (text, expected) in CASES.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(questionnaire_validate, [str(path)])
        assert result.exit_code == 1, name
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert "Traceback" not in result.output and expected in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.fixture
def admin(app: Flask) -> FlaskClient:
    with app.app_context():
        seed_province()
        add_user("quantri", "admin")
    client = app.test_client()
    login(client, "quantri")
    return client


@pytest.mark.parametrize("name", ["alias-bomb", "deep-flow", "deep-block", "many-nodes"])
def test_the_staff_upload_page_answers_422_in_vietnamese(admin: FlaskClient, name: str) -> None:
    token = csrf_token(admin, "/staff/questionnaires")
    response = admin.post(
        "/staff/questionnaires",
        data={"csrf_token": token, "file": (io.BytesIO(CASES[name][0].encode()), "q.yaml")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (413, 422)
    assert CASES[name][1] in response.get_data(as_text=True)


# --------------------------------------------------------------------------- properties

_scalars = st.one_of(
    st.text(max_size=20), st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()
)
_documents = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=60,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_documents)
def test_any_yaml_document_ends_in_a_questionnaire_or_a_clean_error(document: object) -> None:
    text = yaml.safe_dump(document, allow_unicode=True)
    try:
        result = parse_questionnaire(text, "x.yaml")
    except QuestionnaireError as error:
        assert error.problems and all(p.startswith("x.yaml") for p in error.problems)
    else:
        assert isinstance(result, Questionnaire)


@settings(max_examples=150, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("[]{}&*ab:-, \n\t'\"!#|>%@`"), max_size=300))
def test_any_text_ends_in_a_clean_error_or_a_value_within_budgets(text: str) -> None:
    try:
        load_plain(text, "x.yaml")
    except YamlSyntaxError as error:
        assert str(error).startswith("x.yaml:")


@settings(max_examples=50, deadline=None)
@given(depth=st.integers(MAX_YAML_DEPTH + 1, 3_000), flow=st.booleans())
def test_any_nesting_beyond_the_budget_is_refused(depth: int, flow: bool) -> None:
    text = "[" * depth + "]" * depth if flow else "".join(" " * i + "a:\n" for i in range(depth))
    with pytest.raises(YamlSyntaxError):
        load_plain(text, "x.yaml")
