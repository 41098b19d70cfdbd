"""Scoring benchmark: the whole SIPAS 2023 index tree on a million respondents (not a test).

Compares, on the same data in the same run:

- **ours**: ``SurveyDesign.from_dataframe`` + ``compute_index_tree`` for the 42 nodes of
  questionnaires/sipas-2023.yaml (30 items, 9 criteria, 2 groups, SIPAS) with logit intervals,
  for the whole sample and 11 agency domains. Timed in a fresh subprocess once the data are in
  memory (the ``.npz`` load is reported apart); peak memory is the process's ``ru_maxrss`` (data,
  interpreter and libraries included) and, in a separate untimed run, the tracemalloc peak of
  the computation alone. Best and median of ``--repeat`` runs.
- **R survey**: ``bench/scoring_r.R`` (svydesign + svyby(svyciprop) per item on the valid
  subset). R needs seconds per item, so ``--r-items`` items are run and the total is
  extrapolated as design time + mean per-item time x 30 items (stated as such in the output).
  R only computes the 30 item shares, not the composite nodes.
- **svy** (PyPI ``svy``, the ``bench`` extra): ``Sample.estimation.prop`` of the 30 satisfied
  indicators (null when not valid) by agency, logit intervals. Also items only.

The estimates are cross-checked: ours against R on the sampled items and against svy on all
30. Results go to ``bench/out/scoring_results.json`` and a summary to stdout.

Usage::

    .venv/bin/python bench/scoring_bench.py [--repeat 3] [--r-items 3] [--skip-r] [--skip-svy]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
DATA_CSV = OUT / "scoring_data.csv"
DATA_NPZ = OUT / "scoring_data.npz"
SIPAS = ROOT / "questionnaires" / "sipas-2023.yaml"
DOMAIN = "agency"


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _index_items() -> list[str]:
    from scoring.questionnaire import load_questionnaire

    q = load_questionnaire(SIPAS)
    assert q.index is not None
    return list(q.index.item_codes())


# --------------------------------------------------------------------------- workers


def worker_ours(repeat: int) -> dict[str, Any]:
    import tracemalloc

    import numpy as np
    import pandas as pd

    from scoring.design import SurveyDesign
    from scoring.index_tree import compute_index_tree
    from scoring.questionnaire import load_questionnaire

    t0 = time.perf_counter()
    with np.load(DATA_NPZ) as z:
        frame = pd.DataFrame({k: z[k] for k in z.files})
    load_seconds = time.perf_counter() - t0
    rss_loaded = _rss_mb()
    questionnaire = load_questionnaire(SIPAS)

    def run() -> pd.DataFrame:
        design = SurveyDesign.from_dataframe(frame, weights="weight", strata="stratum", psu="psu")
        return compute_index_tree(questionnaire, design, [None, DOMAIN], method="logit")

    times = []
    cpu = []
    table = None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        table = run()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    peak_rss = _rss_mb()
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert table is not None
    items = table[(table["aggregate"] == "item") & (table["domain"] == DOMAIN)]
    return {
        "rows": len(frame),
        "load_seconds": load_seconds,
        "compute_seconds": times,
        # CPU time of all threads: on a machine shared with other work, the wall time
        # an idle machine would give is at most this (single-threaded BLAS).
        "compute_cpu_seconds": cpu,
        "rss_after_load_mb": rss_loaded,
        "peak_rss_mb": peak_rss,
        "compute_traced_peak_mb": traced_peak / 2**20,
        "nodes": int(table["node"].nunique()),
        "result_rows": len(table),
        "estimates": [
            {
                "item": r.node,
                "agency": r.level,
                "estimate": r.estimate,
                "se": r.se,
                "ci_low": r.ci_low,
                "ci_high": r.ci_high,
            }
            for r in items.itertuples()
        ],
    }


def worker_svy(repeat: int) -> dict[str, Any]:
    import polars as pl
    import svy

    items = _index_items()
    t0 = time.perf_counter()
    # Every column's type stated: none inferred from the first rows of the file.
    schema = {"stratum": pl.Int32, "psu": pl.Int32, "agency": pl.String, "weight": pl.Float64}
    raw = pl.read_csv(
        DATA_CSV,
        columns=[*schema, *items],
        schema_overrides={**schema, **dict.fromkeys(items, pl.Int8)},
        infer_schema=False,
    )
    load_seconds = time.perf_counter() - t0
    rss_loaded = _rss_mb()

    def run() -> list[Any]:
        # The satisfied indicator, null outside the valid answers 1..5 (9 and blanks).
        data = raw.with_columns(
            [
                pl.when(pl.col(c).is_in([1, 2, 3, 4, 5]))
                .then(pl.col(c).is_in([4, 5]).cast(pl.Int8))
                .otherwise(None)
                .alias(f"s_{c}")
                for c in items
            ]
        )
        sample = svy.Sample(
            data=data, design=svy.Design(stratum="stratum", psu="psu", wgt="weight")
        )
        out = sample.estimation.prop(
            y=[f"s_{c}" for c in items], by=DOMAIN, ci_method="logit", drop_nulls=True, deff="wr"
        )
        return list(out)

    times = []
    cpu = []
    result: list[Any] = []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = run()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    estimates = []
    for item, est in zip(items, result, strict=True):
        frame = est.to_polars().filter(pl.col(f"s_{item}") == 1)
        for r in frame.iter_rows(named=True):
            estimates.append(
                {
                    "item": item,
                    "agency": r[DOMAIN],
                    "estimate": r["est"],
                    "se": r["se"],
                    "ci_low": r["lci"],
                    "ci_high": r["uci"],
                }
            )
    return {
        "svy_version": svy.__version__,
        "load_seconds": load_seconds,
        "compute_seconds": times,
        "compute_cpu_seconds": cpu,
        "rss_after_load_mb": rss_loaded,
        "peak_rss_mb": _rss_mb(),
        "estimates": estimates,
    }


# --------------------------------------------------------------------------- driver


def _subprocess(kind: str, repeat: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--worker", kind, "--repeat", str(repeat)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"{kind} worker failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _run_r(items: list[str]) -> dict[str, Any]:
    out = OUT / "scoring_r.json"
    t0 = time.perf_counter()
    subprocess.run(
        ["Rscript", str(ROOT / "bench" / "scoring_r.R"), str(DATA_CSV), str(out), *items],
        check=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - t0
    result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    result["wall_seconds"] = wall
    return result


def _max_diff(ours: list[dict[str, Any]], other: list[dict[str, Any]]) -> dict[str, float]:
    key = {(e["item"], str(e["agency"])): e for e in ours}
    diffs: dict[str, float] = {"estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    matched = 0
    for e in other:
        mine = key.get((e["item"], str(e["agency"])))
        if mine is None:
            continue
        matched += 1
        for k in diffs:
            diffs[k] = max(diffs[k], abs(float(mine[k]) - float(e[k])))
    diffs["matched"] = matched
    return diffs


def _cli_seconds() -> float:
    """End-to-end ``python -m scoring index`` on the CSV (parsing and writing included)."""
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable, "-m", "scoring", "index", str(SIPAS), str(DATA_CSV),
            "--weights", "weight", "--strata", "stratum", "--psu", "psu",
            "--domain", DOMAIN, "-o", str(OUT / "scoring_index.csv"),
        ],
        check=True,
        cwd=ROOT,
    )  # fmt: skip
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description="SIPAS index tree benchmark")
    parser.add_argument("--worker", choices=("ours", "svy"), help=argparse.SUPPRESS)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--svy-repeat", type=int, default=1, help="svy runs (it is slow)")
    parser.add_argument("--r-items", type=int, default=3, help="items R runs (extrapolated)")
    parser.add_argument("--skip-r", action="store_true")
    parser.add_argument("--skip-svy", action="store_true")
    args = parser.parse_args()
    if args.worker == "ours":
        print(json.dumps(worker_ours(args.repeat)))
        return
    if args.worker == "svy":
        print(json.dumps(worker_svy(args.repeat)))
        return

    if not DATA_CSV.exists() or not DATA_NPZ.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "gen_scoring_data.py")], check=True)
    items = _index_items()
    load_start = os.getloadavg()
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": _cpu_name(),
            "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
            "load_average_at_start": load_start,
        },
        "items": len(items),
    }
    results["ours"] = _subprocess("ours", args.repeat)
    _progress("ours", results["ours"])
    results["ours_blas1"] = _subprocess("ours", args.repeat, {"OPENBLAS_NUM_THREADS": "1"})
    _progress("ours, OPENBLAS_NUM_THREADS=1", results["ours_blas1"])
    results["cli_end_to_end_seconds"] = _cli_seconds()
    print(f"CLI end to end: {results['cli_end_to_end_seconds']:.1f} s", flush=True)
    if not args.skip_svy:
        results["svy"] = _subprocess("svy", args.svy_repeat)
        results["svy"]["diff_vs_ours"] = _max_diff(
            results["ours"]["estimates"], results["svy"]["estimates"]
        )
        _progress("svy", results["svy"])
    if not args.skip_r:
        step = max(1, len(items) // args.r_items)
        sample = items[::step][: args.r_items]
        r = _run_r(sample)
        per_item = statistics.mean(r["item_seconds"].values())
        per_item_cpu = statistics.mean(r["item_cpu_seconds"].values())
        r["sampled_items"] = sample
        r["extrapolated_seconds"] = r["design_seconds"] + per_item * len(items)
        r["extrapolated_cpu_seconds"] = r["design_cpu_seconds"] + per_item_cpu * len(items)
        r["mean_item_seconds"] = per_item
        r["mean_item_cpu_seconds"] = per_item_cpu
        print(
            f"R: design {r['design_seconds']:.1f} s, {per_item:.1f} s per item (CPU "
            f"{per_item_cpu:.1f} s), extrapolated {r['extrapolated_seconds']:.0f} s",
            flush=True,
        )
        r["diff_vs_ours"] = _max_diff(results["ours"]["estimates"], r["estimates"])
        results["r"] = r
    results["machine"]["load_average_at_end"] = os.getloadavg()
    for part in ("ours", "ours_blas1", "svy"):
        if part in results:
            results[part].pop("estimates", None)
    if "r" in results:
        results["r"].pop("estimates", None)
    (OUT / "scoring_results.json").write_text(json.dumps(results, indent=1) + "\n")
    _summary(results)
    # A fast wrong answer is no result: the estimates must agree with the references (R's
    # svyciprop logit estimate comes from an IRLS fit, converged to about 1e-9).
    worst = {
        name: max(results[name]["diff_vs_ours"][k] for k in ("estimate", "se", "ci_low"))
        for name in ("svy", "r")
        if name in results
    }
    if any(diff > 1e-6 for diff in worst.values()):
        raise SystemExit(f"estimates disagree with the references: {worst}")


def _progress(name: str, part: dict[str, Any]) -> None:
    times = ", ".join(f"{t:.2f}" for t in part["compute_seconds"])
    cpu = ", ".join(f"{t:.2f}" for t in part.get("compute_cpu_seconds", []))
    print(
        f"{name}: compute {times} s (CPU {cpu or '-'} s); peak RSS {part['peak_rss_mb']:.0f} MB",
        flush=True,
    )


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _summary(res: dict[str, Any]) -> None:
    ours = res["ours"]
    best = min(ours["compute_seconds"])
    med = statistics.median(ours["compute_seconds"])
    b1 = res["ours_blas1"]
    print(f"machine: {res['machine']}")
    runs = [round(t, 2) for t in ours["compute_seconds"]]
    print(
        f"ours: {ours['rows']:,} rows, {ours['nodes']} nodes x (overall + 11 agencies); best "
        f"{best:.2f} s, median {med:.2f} s (runs {runs}); "
        f"with OPENBLAS_NUM_THREADS=1 best {min(b1['compute_seconds']):.2f} s; npz load "
        f"{ours['load_seconds']:.2f} s; peak RSS {ours['peak_rss_mb']:.0f} MB (after load "
        f"{ours['rss_after_load_mb']:.0f} MB); compute tracemalloc peak "
        f"{ours['compute_traced_peak_mb']:.0f} MB"
    )
    print(f"CLI end to end (CSV parse + compute + write): {res['cli_end_to_end_seconds']:.1f} s")
    best_cpu = min(ours["compute_cpu_seconds"])
    print(f"ours CPU time: best {best_cpu:.2f} s")
    if "svy" in res:
        s = res["svy"]
        sb, sc = min(s["compute_seconds"]), min(s["compute_cpu_seconds"])
        print(
            f"svy {s['svy_version']}: best {sb:.2f} s, CPU {sc:.2f} s (30 item shares only); "
            f"peak RSS {s['peak_rss_mb']:.0f} MB; ours is {sb / best:.1f}x faster (wall), "
            f"{sc / best_cpu:.1f}x (CPU); max |diff| vs ours {s['diff_vs_ours']}"
        )
    if "r" in res:
        r = res["r"]
        print(
            f"R survey {r['survey_version']}: design {r['design_seconds']:.1f} s, "
            f"{r['mean_item_seconds']:.1f} s per item (measured on {r['sampled_items']}), "
            f"extrapolated x {res['items']} items = {r['extrapolated_seconds']:.0f} s "
            f"(CPU {r['extrapolated_cpu_seconds']:.0f} s); ours is "
            f"{r['extrapolated_seconds'] / best:.0f}x faster (wall), "
            f"{r['extrapolated_cpu_seconds'] / best_cpu:.0f}x (CPU); max |diff| vs ours "
            f"{r['diff_vs_ours']}"
        )


if __name__ == "__main__":
    main()
