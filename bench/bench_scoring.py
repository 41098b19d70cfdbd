"""Benchmark of the scoring core: the whole SIPAS index tree on 1,000,000 respondents.

Target: <= 5 s compute and <= 2 GB peak memory on 2 cores for 1,000,000 respondents x 35
items, 63 strata, 6,300 PSUs, 11 agency domains plus the whole sample, every node of the
SIPAS 2023 index tree with logit CIs, SEs, df, n and design effects.

Usage (after ``bench/gen_scoring_data.py`` has written ``bench/out/scoring_data.npz``)::

    .venv/bin/python bench/bench_scoring.py [--npz bench/out/scoring_data.npz]
"""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import pandas as pd

from scoring.design import SurveyDesign
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import load_questionnaire

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--npz", type=Path, default=ROOT / "bench" / "out" / "scoring_data.npz")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    with np.load(args.npz, allow_pickle=True) as npz:
        frame = pd.DataFrame({name: npz[name] for name in npz.files})
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for _ in range(args.repeat):
        c0 = time.process_time()
        t0 = time.perf_counter()
        design = SurveyDesign.from_dataframe(frame, weights="weight", strata="stratum", psu="psu")
        t1 = time.perf_counter()
        table = compute_index_tree(questionnaire, design, [None, "agency"], method="logit")
        t2 = time.perf_counter()
        c2 = time.process_time()
        print(
            f"{design.n:,} respondents, {design.n_strata} strata, {design.n_psu:,} PSUs: "
            f"design {t1 - t0:.2f} s, index tree {t2 - t1:.2f} s "
            f"({len(table):,} rows, {table['node'].nunique()} nodes); CPU {c2 - c0:.2f} s"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:,.0f} MB (data loaded: {rss_loaded:,.0f} MB)")
    overall = table[(table["domain"] == "overall") & (table["depth"] <= 1)]
    print(overall[["node", "estimate", "se", "ci_low", "ci_high", "df", "n", "deff"]].to_string())


if __name__ == "__main__":
    main()
