"""What checking pooled connections costs the citizen submit: served side by side.

Variants of the real application (bench/bench_app.py), each under its own gunicorn at the
same time, each driven by its own wrk with half the connections, so both see the same
machine (its speed drifts on a shared host):

- ``none``: no check when a connection leaves the pool (the code before issue 10);
- ``socket``: the application as it is: a dead connection is recognised without a round
  trip (survey_app/connections.py);
- ``pre_ping``: SQLAlchemy's ``pool_pre_ping``, one statement to the server per checkout.

Not a test: ``.venv/bin/python bench/pool_check_bench.py --pairs none:socket,none:pre_ping``.
Uses the database of bench/submit_bench.py (``bench_sipas``, dropped and created afresh).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import event

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import submit_bench as sb  # noqa: E402
from survey_app import create_app  # noqa: E402
from survey_app.config import load_config  # noqa: E402
from survey_app.extensions import db  # noqa: E402

BENCH = {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def _variant(name: str):  # type: ignore[no-untyped-def]
    """The application of one variant (module attributes below are gunicorn's targets)."""
    if name == "socket":
        return create_app(BENCH)
    options = dict(load_config(str(ROOT / "instance"))["SQLALCHEMY_ENGINE_OPTIONS"])  # type: ignore[call-overload]
    options["pool_pre_ping"] = name == "pre_ping"
    app = create_app({**BENCH, "SQLALCHEMY_ENGINE_OPTIONS": options})
    with app.app_context():
        checks = app.extensions["pool_checks"]
        event.remove(db.engine, "checkout", checks.checkout)
        event.remove(db.engine, "connect", checks.opened)
    return app


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    # gunicorn imports "bench.pool_check_bench:none_app" and so on, after the fork's preload.
    if name.endswith("_app") and name[: -len("_app")] in ("none", "socket", "pre_ping"):
        return _variant(name[: -len("_app")])
    raise AttributeError(name)


def _load(
    figures: dict[str, dict[str, float]],
    name: str,
    url: str,
    body_file: Path,
    *,
    seconds: int,
    args: argparse.Namespace,
) -> None:
    figures[name], _ = sb.run_wrk(url, body_file, seconds, args.connections // 2, args.wrk_threads)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default=os.environ.get("BENCH_DATABASE_URL", sb.DEFAULT_URL)
    )
    parser.add_argument("--pairs", default="none:socket,none:pre_ping,socket:pre_ping")
    parser.add_argument("--connections", type=int, default=100, help="split between the two")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per variant")
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--wrk-threads", type=int, default=1)
    args = parser.parse_args()
    url = args.database_url
    os.environ["DATABASE_URL"] = url
    sb.recreate_database(url)
    sb.prepare_schema(url)
    path, body = sb.build_form(check=True)
    rows: list[tuple[str, str, int, float, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.txt"
        body_file.write_text(body, encoding="utf-8")
        for pair in args.pairs.split(","):
            left, right = pair.split(":")
            for n in range(args.rounds):
                # Alternate which variant starts (and is loaded) first.
                order = (left, right) if n % 2 == 0 else (right, left)
                servers = {
                    name: sb.start_gunicorn(f"bench.pool_check_bench:{name}_app", url, args)
                    for name in order
                }
                try:
                    figures: dict[str, dict[str, float]] = {}

                    for seconds in (3, args.duration):  # a warm-up, then the measurement
                        threads = [
                            threading.Thread(
                                target=_load,
                                args=(figures, name, f"http://127.0.0.1:{port}{path}", body_file),
                                kwargs={"seconds": seconds, "args": args},
                            )
                            for name, (_process, port) in servers.items()
                        ]
                        for thread in threads:
                            thread.start()
                        for thread in threads:
                            thread.join()
                        time.sleep(1)
                finally:
                    for process, _port in servers.values():
                        sb.stop(process)
                for name in (left, right):
                    f = figures[name]
                    rows.append((pair, name, n + 1, f["rps"], f["p50"], f["p99"]))
                ratio = figures[right]["rps"] / figures[left]["rps"]
                sb.log(
                    f"{pair} round {n + 1}: {left} {figures[left]['rps']:.0f}/s, "
                    f"{right} {figures[right]['rps']:.0f}/s ({ratio:.0%})"
                )
    print(f"machine: {sb.machine(url)}; load average now {os.getloadavg()[0]:.1f}")
    print("| pair | variant | round | submissions/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|")
    for pair, name, n, rps, p50, p99 in rows:
        print(f"| {pair} | {name} | {n} | {rps:.0f} | {p50:.1f} | {p99:.1f} |")
    for pair in args.pairs.split(","):
        left, right = pair.split(":")
        mean = {
            name: sum(r[3] for r in rows if r[0] == pair and r[1] == name)
            / max(1, sum(1 for r in rows if r[0] == pair and r[1] == name))
            for name in (left, right)
        }
        print(f"{pair}: {right} / {left} = {mean[right] / mean[left]:.1%}")


if __name__ == "__main__":
    main()
