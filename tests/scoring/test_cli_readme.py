"""The README "Scoring" section stays true: its Python example runs and agrees with the CLI."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from scoring.cli import main
from tests.scoring.test_cli import _sample

ROOT = Path(__file__).resolve().parents[2]


def _scoring_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## Scoring\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end >= 0 else len(text)]


def _python_example() -> str:
    """The section's Python blocks, run one after the other."""
    blocks = re.findall(r"```python\n(.*?)```", _scoring_section(), flags=re.S)
    assert len(blocks) == 2
    return "\n".join(blocks)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory with the repository's questionnaires and a responses.csv, as the README
    assumes (paths relative to the repository root)."""
    (tmp_path / "questionnaires").symlink_to(ROOT / "questionnaires")
    sample = _sample().rename(columns={"w": "weight"})
    sample.to_csv(tmp_path / "responses.csv", index=False)
    return tmp_path


def test_readme_python_example_runs_and_gives_par_points_per_agency(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        namespace: dict[str, object] = {}
        exec(compile(_python_example(), "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    points = namespace["points"]
    assert isinstance(points, pd.DataFrame)
    assert points["agency"].tolist() == ["S01", "S02", "S03"]
    assert points["points"].between(0, 10).all()
    # The PAR points are the SIPAS share x 10 rounded to 2 decimals.
    sipas = namespace["sipas"]
    assert isinstance(sipas, pd.DataFrame)
    expected = [round(round(100 * e, 2) / 10, 2) for e in sipas["estimate"]]
    assert points["points"].tolist() == pytest.approx(expected, abs=0.0051)
    assert "S01" in capsys.readouterr().out
    # The tree from sums is the tree from the respondents.
    tree, same_tree = namespace["tree"], namespace["same_tree"]
    assert isinstance(tree, pd.DataFrame) and isinstance(same_tree, pd.DataFrame)
    for column in ["estimate", "se", "ci_low", "ci_high", "deff"]:
        assert same_tree[column].to_numpy() == pytest.approx(tree[column].to_numpy(), rel=1e-10)


def test_readme_command_lines_parse_and_run(workdir: Path) -> None:
    section = _scoring_section()
    block = re.search(r"```sh\n(.*?)```", section, flags=re.S)
    assert block is not None
    commands = [
        c.strip()
        for c in block.group(1).replace("\\\n", " ").splitlines()
        if c.strip().startswith("python -m scoring")
    ]
    assert [c.split()[3] for c in commands] == ["index", "shares", "par"]
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        for command in commands:
            argv = [a.strip("'") for a in command.split()[3:]]
            assert main(argv) == 0, command
    finally:
        os.chdir(cwd)
    assert len(pd.read_csv(workdir / "par.csv")) == 3
