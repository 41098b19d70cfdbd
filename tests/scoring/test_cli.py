"""`python -m scoring`: the numbers equal the Python API's, in every layout and format; bad
input gives one line on stderr and exit status 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring.cli import INDEX_COLUMNS, SHARES_COLUMNS, main
from scoring.design import SurveyDesign
from scoring.estimators import estimate_shares
from scoring.index_tree import compute_index_tree
from scoring.par import load_par_mapping, par_points
from scoring.questionnaire import load_questionnaire
from scoring.weighting import post_stratify

ROOT = Path(__file__).resolve().parents[2]
SIPAS = ROOT / "questionnaires" / "sipas-2023.yaml"
PAR = ROOT / "questionnaires" / "par" / "par-sipas.yaml"
DESIGN = ["--weights", "w", "--strata", "stratum", "--psu", "psu"]
NUMBERS = ["estimate", "se", "ci_low", "ci_high", "deff"]


def _sample(n: int = 900, seed: int = 7) -> pd.DataFrame:
    """A clustered SIPAS 2023 sample in the wide layout: 3 strata x 8 PSUs, 3 agencies."""
    rng = np.random.default_rng(seed)
    questionnaire = load_questionnaire(SIPAS)
    assert questionnaire.index is not None
    psu = rng.integers(0, 24, n)
    frame = pd.DataFrame(
        {
            "stratum": (psu // 8 + 1).astype(int),
            "psu": psu + 1,
            "w": rng.uniform(1.0, 3.0, n).round(3),
            "agency": np.array(["S01", "S02", "S03"])[psu % 3],
            "gender": rng.integers(1, 3, n),
        }
    )
    effect = rng.normal(0, 0.6, 24)[psu]
    for code in questionnaire.index.item_codes():
        z = effect + rng.normal(0, 1, n)
        level = np.searchsorted([-1.8, -1.0, -0.3, 1.0], z) + 1
        values = pd.array(level, dtype="Int64")
        r = rng.random(n)
        values[r < 0.04] = 9
        values[r > 0.97] = pd.NA
        frame[code] = values
    return frame


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    return _sample()


@pytest.fixture
def responses(tmp_path: Path, sample: pd.DataFrame) -> Path:
    path = tmp_path / "responses.csv"
    sample.to_csv(path, index=False)
    return path


def _design(frame: pd.DataFrame) -> SurveyDesign:
    return SurveyDesign.from_dataframe(frame, weights="w", strata="stratum", psu="psu")


def _assert_numbers_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    for column in NUMBERS:
        np.testing.assert_allclose(
            got[column].to_numpy(dtype=float),
            expected[column].to_numpy(dtype=float),
            rtol=1e-12,
            err_msg=column,
        )
    assert got["n"].tolist() == expected["n"].tolist()
    assert got["df"].tolist() == expected["df"].tolist()


def test_shares_writes_exactly_the_documented_columns_with_the_api_numbers(
    tmp_path: Path, responses: Path, sample: pd.DataFrame
) -> None:
    out = tmp_path / "shares.csv"
    items = ["II.2.1", "II.2.2", "II.2.3"]
    argv = ["shares", str(responses), "--items", *items, "--invalid", "9", *DESIGN]
    assert main([*argv, "--domain", "agency", "-o", str(out)]) == 0
    got = pd.read_csv(out)
    assert list(got.columns) == ["agency", *SHARES_COLUMNS]

    data = sample.copy()
    for item in items:
        data[item] = data[item].mask(data[item] == 9)
    expected = estimate_shares(_design(data), items, satisfied=[4, 5], by="agency")
    assert got["agency"].tolist() == expected["level"].tolist()
    assert got["item"].tolist() == expected["name"].tolist()
    _assert_numbers_equal(got, expected)


def test_shares_deff_srswor_is_r_deff_true_from_the_api(
    tmp_path: Path, responses: Path, sample: pd.DataFrame
) -> None:
    out = tmp_path / "shares.csv"
    argv = ["shares", str(responses), "--items", "II.2.1", *DESIGN, "--deff", "srswor"]
    assert main([*argv, "-o", str(out)]) == 0
    expected = estimate_shares(_design(sample), ["II.2.1"], satisfied=[4, 5], deff="srswor")
    replace = estimate_shares(_design(sample), ["II.2.1"], satisfied=[4, 5])
    got = pd.read_csv(out)
    np.testing.assert_allclose(got["deff"], expected["deff"], rtol=1e-12)
    assert not np.allclose(got["deff"], replace["deff"])


def test_shares_items_like_selects_matching_item_columns(tmp_path: Path, responses: Path) -> None:
    out = tmp_path / "shares.json"
    assert main(["shares", str(responses), "--items-like", "II.4.*", *DESIGN, "-o", str(out)]) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [r["item"] for r in rows] == ["II.4.1", "II.4.2", "II.4.3"]
    assert set(rows[0]) == set(SHARES_COLUMNS)


def test_shares_crossed_domains_equal_one_combined_domain_column(
    tmp_path: Path, responses: Path, sample: pd.DataFrame
) -> None:
    out = tmp_path / "crossed.csv"
    argv = ["shares", str(responses), "--items", "II.1.1", *DESIGN]
    assert main([*argv, "--domain", "agency", "gender", "-o", str(out)]) == 0
    got = pd.read_csv(out, dtype={"gender": str})
    data = sample.assign(cell=sample["agency"] + "/" + sample["gender"].astype(str))
    expected = estimate_shares(_design(data), ["II.1.1"], by="cell")
    assert (got["agency"] + "/" + got["gender"]).tolist() == expected["level"].tolist()
    _assert_numbers_equal(got, expected)


def test_poststratified_shares_equal_the_api_post_stratify(
    tmp_path: Path, responses: Path, sample: pd.DataFrame
) -> None:
    margins = tmp_path / "gender.csv"
    pd.DataFrame({"gender": [1, 2], "N": [5200.0, 4800.0]}).to_csv(margins, index=False)
    out = tmp_path / "ps.csv"
    argv = ["shares", str(responses), "--items", "II.3.1", *DESIGN, "--poststratify", str(margins)]
    assert main([*argv, "-o", str(out)]) == 0
    design = post_stratify(
        _design(sample.assign(gender=sample["gender"].astype(str))),
        "gender",
        {"1": 5200.0, "2": 4800.0},
    )
    _assert_numbers_equal(pd.read_csv(out), estimate_shares(design, ["II.3.1"]))


def test_index_writes_the_whole_tree_per_agency_with_the_api_numbers(
    tmp_path: Path, responses: Path, sample: pd.DataFrame
) -> None:
    out = tmp_path / "index.json"
    argv = ["index", str(SIPAS), str(responses), *DESIGN, "--domain", "agency", "-o", str(out)]
    assert main(argv) == 0
    got = pd.DataFrame(json.loads(out.read_text(encoding="utf-8")))
    assert list(got.columns) == ["agency", *INDEX_COLUMNS]
    questionnaire = load_questionnaire(SIPAS)
    expected = compute_index_tree(questionnaire, _design(sample), ["agency"])
    assert got["node"].tolist() == expected["node"].tolist()
    assert got["agency"].tolist() == expected["level"].tolist()
    assert set(got["questionnaire"]) == {"sipas-2023"}
    assert got.loc[got["node"] == "SIPAS", "label"].iloc[0].startswith("Chỉ số hài lòng")
    _assert_numbers_equal(got, expected)


def test_index_reads_the_app_export_layout_from_xlsx_like_the_wide_csv(
    tmp_path: Path, responses: Path, sample: pd.DataFrame
) -> None:
    # The staff raw export: meta columns first, multiple choice as CODE__OPTION 0/1 columns,
    # data on the sheet "Dữ liệu" beside the codebook.
    export = sample.copy()
    export.insert(0, "response_id", range(1, len(export) + 1))
    export.insert(1, "desk", "D" + export["psu"].astype(str))
    export.insert(3, "route", "desk_qr")
    export.insert(4, "submitted_on", "2026-11-02")
    export.insert(5, "language", "vi")
    export["II.0.1__3"] = 0
    xlsx = tmp_path / "export.xlsx"
    with pd.ExcelWriter(xlsx, engine="openpyxl") as writer:
        pd.DataFrame({"cot": ["desk"]}).to_excel(writer, sheet_name="Mã hóa", index=False)
        export.to_excel(writer, sheet_name="Dữ liệu", index=False)
    common = [*DESIGN, "--domain", "agency"]
    out_x, out_c = tmp_path / "x.csv", tmp_path / "c.csv"
    assert main(["index", str(SIPAS), str(xlsx), *common, "-o", str(out_x)]) == 0
    assert main(["index", str(SIPAS), str(responses), *common, "-o", str(out_c)]) == 0
    x, c = pd.read_csv(out_x), pd.read_csv(out_c)
    assert x["node"].tolist() == c["node"].tolist()
    _assert_numbers_equal(x, c)


def test_par_points_from_the_index_output_equal_the_api(
    tmp_path: Path, responses: Path, sample: pd.DataFrame
) -> None:
    index_out, par_out = tmp_path / "index.csv", tmp_path / "par.xlsx"
    argv = ["index", str(SIPAS), str(responses), *DESIGN, "--domain", "agency"]
    assert main([*argv, "-o", str(index_out)]) == 0
    assert main(["par", str(PAR), str(index_out), "-o", str(par_out)]) == 0
    got = pd.read_excel(par_out)
    tree = compute_index_tree(load_questionnaire(SIPAS), _design(sample), ["agency"])
    tree = tree.rename(columns={"level": "agency"}).assign(questionnaire="sipas-2023")
    expected = par_points(load_par_mapping(PAR), tree)
    assert got["agency"].tolist() == ["S01", "S02", "S03"]
    assert got["points"].tolist() == expected["points"].tolist()
    assert got["index_percent"].tolist() == expected["index_percent"].tolist()


def _fails(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err


def test_missing_design_column_is_one_line_naming_the_column(
    tmp_path: Path, responses: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = str(tmp_path / "o.csv")
    err = _fails(
        capsys, ["shares", str(responses), "--items", "II.1.1", "--psu", "desk", "-o", out]
    )
    assert "'desk'" in err
    err = _fails(capsys, ["shares", str(responses), "--items", "II.9.9", "-o", out])
    assert "item column 'II.9.9'" in err
    err = _fails(capsys, ["index", str(SIPAS), str(responses), "--domain", "region", "-o", out])
    assert "domain column 'region'" in err


def test_lonely_psu_names_the_stratum(
    tmp_path: Path, sample: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample.copy()
    data.loc[data["stratum"] == 3, "psu"] = 99
    path = tmp_path / "lonely.csv"
    data.to_csv(path, index=False)
    out = str(tmp_path / "o.csv")
    err = _fails(capsys, ["shares", str(path), "--items", "II.1.1", *DESIGN, "-o", out])
    assert "stratum '3'" in err
    argv = ["shares", str(path), "--items", "II.1.1", *DESIGN, "--lonely-psu", "adjust"]
    assert main([*argv, "-o", out]) == 0


def test_answer_code_off_the_scale_names_item_and_code(
    tmp_path: Path, sample: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    data = sample.copy()
    data.loc[5, "II.2.2"] = 7
    path = tmp_path / "bad.csv"
    data.to_csv(path, index=False)
    err = _fails(capsys, ["index", str(SIPAS), str(path), *DESIGN, "-o", str(tmp_path / "o.csv")])
    assert "II.2.2" in err and "7" in err


def test_unknown_output_extension_fails_before_computing(
    tmp_path: Path, responses: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = _fails(capsys, ["shares", str(responses), "--items", "II.1.1", "-o", str(tmp_path / "o")])
    assert "--format" in err


def test_invalid_par_mapping_is_reported_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mapping = tmp_path / "par.yaml"
    mapping.write_text(PAR.read_text(encoding="utf-8").replace("max_points: 10", "max_points: 0"))
    indices = tmp_path / "i.csv"
    indices.write_text("agency,questionnaire,node,estimate\nA,sipas-2023,SIPAS,0.9\n")
    assert main(["par", str(mapping), str(indices), "-o", str(tmp_path / "o.csv")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "par.yaml:" in err and "criteria[0].max_points" in err


def test_python_m_scoring_runs_as_a_program(tmp_path: Path, responses: Path) -> None:
    out = tmp_path / "shares.csv"
    argv = ["shares", str(responses), "--items", "II.1.1", *DESIGN, "--domain", "agency"]
    done = subprocess.run(
        [sys.executable, "-m", "scoring", *argv, "-o", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert pd.read_csv(out)["n"].sum() > 0
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "scoring",
            "shares",
            str(responses),
            "--items",
            "nope",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == (
        "python -m scoring shares: error: item column 'nope' is not in the data"
    )


def test_par_reads_the_index_json_output_and_keeps_the_overall_row(
    tmp_path: Path, responses: Path
) -> None:
    index_out, par_out = tmp_path / "index.json", tmp_path / "par.json"
    argv = ["index", str(SIPAS), str(responses), *DESIGN, "--domain", "agency", "--overall"]
    assert main([*argv, "-o", str(index_out)]) == 0
    assert main(["par", str(PAR), str(index_out), "-o", str(par_out)]) == 0
    rows = json.loads(par_out.read_text(encoding="utf-8"))
    # The whole sample comes first, with no agency.
    assert [r["agency"] for r in rows] == [None, "S01", "S02", "S03"]
    assert all(0 <= r["points"] <= 10 for r in rows)


def test_domain_shares_do_not_depend_on_row_order_past_one_chunk_of_rows(
    tmp_path: Path,
) -> None:
    # More rows than one 65,536-row chunk: a domain's rows must be found again in every chunk
    # (a loop variable once overwrote the row selection after the first chunk).
    rng = np.random.default_rng(3)
    n = 70_000
    psu = rng.integers(0, 60, n)
    frame = pd.DataFrame(
        {
            "stratum": psu // 20,
            "psu": psu,
            "w": rng.uniform(1, 2, n),
            "agency": np.array(["A", "B", "C"])[psu % 3],
            "q1": rng.integers(1, 6, n),
        }
    ).sort_values("psu", kind="stable")
    outs = []
    for name, data in [("sorted", frame), ("shuffled", frame.sample(frac=1, random_state=2))]:
        path = tmp_path / f"{name}.csv"
        data.to_csv(path, index=False)
        out = tmp_path / f"{name}_out.csv"
        argv = ["shares", str(path), "--items", "q1", *DESIGN, "--domain", "agency"]
        assert main([*argv, "-o", str(out)]) == 0
        outs.append(pd.read_csv(out))
    _assert_numbers_equal(outs[0], outs[1])
    by_hand = (
        frame.assign(sat=frame["q1"] >= 4)
        .groupby("agency")[["sat", "w"]]
        .apply(lambda g: (g["sat"] * g["w"]).sum() / g["w"].sum())
    )
    np.testing.assert_allclose(outs[0]["estimate"], by_hand.to_numpy(), rtol=1e-12)
