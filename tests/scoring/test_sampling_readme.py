"""The README section on probability samples stays true: its examples run and agree with R."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.cli import main
from tests.scoring.test_multistage_against_r import design as multistage_design
from tests.scoring.test_sampling_against_r import design as sampling_design

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
TITLE = "\n## Scoring: probability samples, calibration and planning\n"


def section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index(TITLE)
    end = text.find("\n## ", start + 1)
    return text[start:end]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """The files the examples name, from the R fixtures."""
    (tmp_path / "questionnaires").symlink_to(ROOT / "questionnaires")
    shutil.copy(FIXTURES / "sampling_sample.csv", tmp_path / "sample.csv")
    shutil.copy(FIXTURES / "sampling_frame.csv", tmp_path / "frame.csv")
    shutil.copy(FIXTURES / "multistage_data.csv", tmp_path / "households.csv")
    walk_in = pd.read_csv(FIXTURES / "sipas_tree_data.csv")
    walk_in["agency"] = walk_in["agency"].map({"X": "A", "Y": "B", "Z": "C"})
    walk_in.to_csv(tmp_path / "walk_in.csv", index=False)
    return tmp_path


def test_the_python_example_runs(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocks = re.findall(r"```python\n(.*?)```", section(), flags=re.S)
    assert len(blocks) == 1
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        namespace: dict[str, object] = {}
        exec(compile(blocks[0], "README.md", "exec"), namespace)
    finally:
        os.chdir(cwd)
    assert "invitations" in capsys.readouterr().out
    # The calibrated design hits the frame's agency totals; the raking without these bounds
    # is R's cal_raking, and they do not bind here.
    design = namespace["design"]
    np.testing.assert_allclose(
        design.weights,  # type: ignore[attr-defined]
        sampling_design("cal_raking").weights,
        rtol=1e-12,
    )
    domains = namespace["plan"].domains.set_index("domain")  # type: ignore[attr-defined]
    reached = domains["reached"].astype(bool)
    assert reached.tolist() == [True, True, True, False]  # agency D: 445 dossiers, 60% answer
    assert domains.loc[reached, "moe"].tolist() == pytest.approx([0.03] * 3, rel=1e-9)
    assert domains.loc["D", "moe"] > 0.03
    rates = namespace["rates"]
    sample = pd.read_csv(FIXTURES / "sampling_sample.csv")
    assert rates["RR1"].tolist() == pytest.approx(  # type: ignore[index]
        sample.groupby("agency")["responded"].mean().tolist(), rel=1e-15
    )
    versus = namespace["versus"]
    assert set(versus["level"]) == {"A", "B", "C", "D"}  # type: ignore[index]
    papi = namespace["papi"]
    np.testing.assert_allclose(
        papi.weights,  # type: ignore[attr-defined]
        multistage_design("two_stage").weights,
        rtol=1e-15,
    )


def test_the_command_line_example_runs(workdir: Path) -> None:
    block = re.search(r"```sh\n(.*?)```", section(), flags=re.S)
    assert block is not None
    command = block.group(1).replace("\\\n", " ").strip()
    cwd = os.getcwd()
    os.chdir(workdir)
    try:
        assert main(command.split()[3:]) == 0
    finally:
        os.chdir(cwd)
    table = pd.read_csv(workdir / "households-index.csv")
    assert sorted(table["province"].unique()) == ["P1", "P2", "P3"]
