"""`python -m scoring` reads the app's own raw export (CSV with BOM, XLSX) and gives the
numbers scoring gives on the same answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from flask import Flask

from scoring.cli import main
from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import load_questionnaire
from survey_app.services import raw_export
from tests.dashboard_setup import ROOT, campaign, province

SIPAS = ROOT / "questionnaires" / "sipas-2023.yaml"


def _export(app: Flask, tmp_path: Path) -> tuple[Path, Path, pd.DataFrame]:
    province(app, 240)
    with app.app_context():
        c = campaign("SIPAS-2026")
        csv_path = tmp_path / "responses.csv"
        csv_path.write_bytes(raw_export.responses_csv(c))
        xlsx_path = tmp_path / "responses.xlsx"
        xlsx_path.write_bytes(raw_export.responses_xlsx(c))
        frame = raw_export.responses_frame(c)
    return csv_path, xlsx_path, frame


def test_index_of_the_raw_export_csv_and_xlsx_equals_scoring_on_the_export_frame(
    app: Flask, tmp_path: Path
) -> None:
    csv_path, xlsx_path, frame = _export(app, tmp_path)
    assert csv_path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel's BOM
    argv = ["--strata", "agency", "--psu", "desk", "--lonely-psu", "adjust", "--domain", "agency"]
    outs = []
    for path in (csv_path, xlsx_path):
        out = tmp_path / f"{path.suffix[1:]}.csv"
        assert main(["index", str(SIPAS), str(path), *argv, "-o", str(out)]) == 0
        outs.append(pd.read_csv(out, dtype={"agency": str}))

    design = SurveyDesign.from_dataframe(frame, strata="agency", psu="desk", lonely_psu="adjust")
    expected = compute_index_tree(load_questionnaire(SIPAS), design, ["agency"])
    for got in outs:
        assert got["node"].tolist() == expected["node"].tolist()
        assert got["agency"].tolist() == [str(v) for v in expected["level"]]
        assert got["n"].tolist() == expected["n"].tolist()
        for column in ("estimate", "se", "ci_low", "ci_high", "deff"):
            np.testing.assert_allclose(
                got[column].to_numpy(dtype=float),
                expected[column].to_numpy(dtype=float),
                rtol=1e-12,
                err_msg=column,
            )


def test_shares_of_the_raw_export_by_desk(app: Flask, tmp_path: Path) -> None:
    csv_path, _, frame = _export(app, tmp_path)
    out = tmp_path / "shares.json"
    argv = ["shares", str(csv_path), "--items", "II.2.1", "--invalid", "9", "--domain", "desk"]
    assert main([*argv, "-o", str(out)]) == 0
    got = pd.read_json(out, dtype={"desk": str})
    answered = frame[frame["II.2.1"].isin([1, 2, 3, 4, 5])]
    by_hand = answered.groupby("desk")["II.2.1"].apply(lambda s: float((s >= 4).mean()))
    assert got["desk"].tolist() == by_hand.index.tolist()
    np.testing.assert_allclose(got["estimate"], by_hand.to_numpy(), rtol=1e-12)
    assert got["n"].tolist() == answered.groupby("desk").size().tolist()
