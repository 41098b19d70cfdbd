"""Index tables from answer sums against the microdata path, in one run (not a test).

On the scoring benchmark's synthetic SIPAS 2023 sample (``bench/gen_scoring_data.py``: 30
index items, 6,300 desks in 63 districts, 11 agencies; walk-in respondents, so unweighted),
for three designs the app offers:

- ``default``: no strata, no clusters (one respondent per PSU), the app's default;
- ``clustered``: strata = district, clusters = desk;
- ``raked``: the default raked to gender and age group.

Each design's index tree (42 nodes) for the whole sample, per agency and per gender:

- **microdata**: ``DesignSpec.build`` + ``compute_index_tree`` on the respondents' frame, what
  the app does on every new submission today;
- **reduce**: ``sum_answers``, the respondents reduced to sums per group of equal values of
  what each table needs, and no more: the domain column (agency, gender) with the design's
  columns (district and desk when clustered, gender and age group when raked). What a
  database would give a page, summing out the rest of what it keeps;
- **from sums**: ``index_tree_from_sums`` on those sums, per domain column.

Each group carries a state Gram of 60 x 60 (30 leaves, two states each), 28.8 KB as float64:
sums pay off when groups hold many respondents each, and cost more than the microdata when
they do not (a group per desk and gender with clusters).

Wall time (best of ``--repeat``) and the tracemalloc peak of each step, the groups and the
largest difference between the two paths' estimates and SEs. Usage::

    .venv/bin/python bench/answer_sums_bench.py [--respondents 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from scoring.answer_sums import index_tree_from_sums, sum_answers
from scoring.design import DesignSpec
from scoring.index_tree import compute_index_tree
from scoring.margins import Margin
from scoring.questionnaire import load_questionnaire

ROOT = Path(__file__).resolve().parents[1]
T = TypeVar("T")
BY: list[str | None] = [None, "agency", "gender"]
DESIGN_KEYS = {"default": [], "clustered": ["stratum", "psu"], "raked": ["gender", "age_group"]}


def measured(run: Callable[[], T], repeat: int) -> tuple[T, float, float]:
    """The result, the best wall time (s) and the tracemalloc peak (MB) of one more run."""
    best = float("inf")
    result = run()
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return result, best, peak


def margin(frame: pd.DataFrame, column: str) -> Margin:
    """A population margin 1,000 times the sample's counts, shifted so the raking works."""
    counts = frame[column].value_counts().sort_index()
    shifted = counts * 1000.0 * np.linspace(0.9, 1.1, len(counts))
    shifted *= counts.sum() * 1000.0 / shifted.sum()
    return Margin((column,), {(float(k),): float(v) for k, v in shifted.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

    import sys

    sys.path.insert(0, str(ROOT / "bench"))
    from gen_scoring_data import generate

    questionnaire = load_questionnaire(ROOT / "questionnaires" / "sipas-2023.yaml")
    frame = generate(args.respondents, 20261123).drop(columns=["weight"])
    for column in frame.columns:
        if str(frame[column].dtype) == "Int8":
            frame[column] = frame[column].astype("float64")
    designs = {
        "default": DesignSpec(lonely_psu="adjust"),
        "clustered": DesignSpec(strata="stratum", psu="psu", lonely_psu="adjust"),
        "raked": DesignSpec(
            lonely_psu="adjust",
            calibration="rake",
            margins=(margin(frame, "gender"), margin(frame, "age_group")),
        ),
    }
    load = os.getloadavg()
    print(
        f"{args.respondents:,} respondents, {os.cpu_count()} cores, load average "
        f"{load[0]:.1f}; best of {args.repeat}, peak = tracemalloc of one more run"
    )
    print(
        "| design | microdata s | microdata MB | groups | reduce s | from sums s "
        "| from sums MB | max diff |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, spec in designs.items():
        micro, micro_s, micro_mb = measured(
            lambda spec=spec: compute_index_tree(questionnaire, spec.build(frame), BY),
            args.repeat,
        )
        groups, reduce_s, from_s, from_mb, parts = 0, 0.0, 0.0, 0.0, []
        for by in BY:
            keys = list(dict.fromkeys(([by] if by else []) + DESIGN_KEYS[name]))
            start = time.perf_counter()
            sums = sum_answers(questionnaire, frame, keys)
            seconds = time.perf_counter() - start
            table, fast_s, fast_mb = measured(
                lambda sums=sums, by=by, spec=spec: index_tree_from_sums(
                    questionnaire, sums, spec, [by]
                ),
                args.repeat,
            )
            groups += len(sums.keys)
            reduce_s += seconds
            from_s += fast_s
            from_mb = max(from_mb, fast_mb)
            parts.append(table)
        fast = pd.concat(parts, ignore_index=True)
        diff = max(
            float(np.nanmax(np.abs(fast[c].to_numpy(float) - micro[c].to_numpy(float))))
            for c in ["estimate", "se"]
        )
        print(
            f"| {name} | {micro_s:.2f} | {micro_mb:.0f} | {groups:,} | {reduce_s:.2f} | "
            f"{from_s:.3f} | {from_mb:.0f} | {diff:.1e} |"
        )


if __name__ == "__main__":
    main()
