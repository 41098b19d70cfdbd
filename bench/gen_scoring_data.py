"""Generate the scoring benchmark's synthetic SIPAS sample (not a test).

1,000,000 respondents x 35 item columns of questionnaires/sipas-2023.yaml (the 30 index items,
II.4.0 and four respondent items), 63 strata x 100 PSUs = 6,300 PSUs, 11 agency domains
crossing the strata, and weights that vary by PSU and respondent.

Answers are correlated within a PSU (a desk's service quality is shared by its respondents): a
latent satisfaction ``z = u_psu + a_agency + e`` with ``u_psu ~ N(0, 0.6^2)`` is cut into the
five levels with item-specific thresholds; 3 % answer 9 "Không có ý kiến / Không biết" and 2 %
leave an item blank. II.4.1-II.4.3 are blank unless II.4.0 is 1 (skip logic), as the form does.

Writes ``bench/out/scoring_data.csv`` (for R, svy and the CLI) and ``scoring_data.npz`` (the
same columns, for loading without CSV parsing). Usage::

    .venv/bin/python bench/gen_scoring_data.py [--respondents 1000000] [--seed 20261123]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.questionnaire import load_questionnaire

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
N_STRATA = 63
PSU_PER_STRATUM = 100
N_AGENCIES = 11
INVALID_SHARE = 0.03
BLANK_SHARE = 0.02
EXTRA_ITEMS = {"II.4.0": 2, "gender": 2, "age_group": 5, "ethnicity": 2, "education": 6}


def generate(n: int, seed: int) -> pd.DataFrame:
    """The benchmark sample as a DataFrame (item columns Int8 with <NA> for blanks)."""
    rng = np.random.default_rng(seed)
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    assert questionnaire.index is not None
    index_items = list(questionnaire.index.item_codes())

    n_psu = N_STRATA * PSU_PER_STRATUM
    psu = np.sort(rng.integers(0, n_psu, n)).astype(np.int32)
    stratum = (psu // PSU_PER_STRATUM + 1).astype(np.int16)
    # Each desk (PSU) belongs to one agency; agencies cut across the strata (districts).
    psu_agency = rng.integers(0, N_AGENCIES, n_psu)
    agency = np.array([f"S{a + 1:02d}" for a in range(N_AGENCIES)])[psu_agency[psu]]
    psu_weight = rng.uniform(40, 160, n_psu)
    weight = psu_weight[psu] * rng.uniform(0.8, 1.25, n)

    agency_effect = rng.normal(0.0, 0.35, N_AGENCIES)
    u = rng.normal(0.0, 0.6, n_psu)
    base = u[psu] + agency_effect[psu_agency[psu]] + rng.normal(0.0, 0.5, n)

    frame = pd.DataFrame(
        {
            "id": np.arange(1, n + 1, dtype=np.int32),
            "stratum": stratum,
            "psu": psu + 1,
            "agency": agency,
            "weight": np.round(weight, 4),
        }
    )
    feedback = rng.random(n) < 0.3
    cuts = np.array([-2.2, -1.4, -0.6, 0.9])
    for j, code in enumerate(index_items):
        z = base + rng.normal(0.0, 0.8, n) + 0.15 * np.sin(j)
        level = (np.searchsorted(cuts, z) + 1).astype(np.int8)
        r = rng.random(n)
        level[r < INVALID_SHARE] = 9
        values = pd.array(level, dtype="Int8")
        values[r > 1 - BLANK_SHARE] = pd.NA
        if code.startswith("II.4."):
            values[~feedback] = pd.NA
        frame[code] = values
    for code, k in EXTRA_ITEMS.items():
        if code == "II.4.0":
            frame[code] = pd.array(np.where(feedback, 1, 2).astype(np.int8), dtype="Int8")
        else:
            frame[code] = pd.array(rng.integers(1, k + 1, n).astype(np.int8), dtype="Int8")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    frame = generate(args.respondents, args.seed)
    t1 = time.perf_counter()
    csv_path = args.out / "scoring_data.csv"
    frame.to_csv(csv_path, index=False)
    arrays: dict[str, np.ndarray] = {}
    for c in frame.columns:
        column = frame[c]
        if column.dtype == "Int8":
            arrays[c] = column.to_numpy(dtype=np.float32, na_value=np.nan)
        elif pd.api.types.is_numeric_dtype(column):
            arrays[c] = column.to_numpy()
        else:
            arrays[c] = column.to_numpy().astype("U")  # fixed-width text: no pickle needed
    np.savez(args.out / "scoring_data.npz", **arrays)
    t2 = time.perf_counter()
    items = [c for c in frame.columns if c[0] in "I" or c in EXTRA_ITEMS]
    print(
        f"{len(frame):,} respondents x {len(items)} items, {frame['stratum'].nunique()} strata, "
        f"{frame['psu'].nunique():,} PSUs, {frame['agency'].nunique()} agencies; "
        f"generated in {t1 - t0:.1f} s, written in {t2 - t1:.1f} s to {csv_path} "
        f"({csv_path.stat().st_size / 1e6:.0f} MB)"
    )


if __name__ == "__main__":
    main()
