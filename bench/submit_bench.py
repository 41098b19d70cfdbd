"""Submit benchmark: the real citizen submit endpoint against a bare one-INSERT endpoint.

Both run under gunicorn with the same settings, on the same PostgreSQL, in the same run,
driven by the same load tool (wrk, 100 connections = 100 concurrent submitters, each
posting a complete valid SIPAS 2023 form with a fresh submission id per request).
Reports submissions per second, p50 and p99 latency and the ratio of throughputs.

Not a test: run ``make bench-submit`` (or ``.venv/bin/python bench/submit_bench.py``).
See bench/README.md for the method and the figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

from scoring.questionnaire import Questionnaire

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_sipas"
DESK = "HT-STP-01"


@dataclass
class Result:
    name: str
    phase: str
    round: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx_3xx: int
    socket_errors: int
    rows_stored: int


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- database


def recreate_database(url: str) -> None:
    """Drop and create the dedicated benchmark database (never the test or app database)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"bench_\w+", name):
        raise SystemExit(f"refusing to drop {name!r}: the benchmark database name starts bench_")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def prepare_schema(url: str) -> None:
    env = {**os.environ, "DATABASE_URL": url}
    cli = str(BIN / "survey-app")
    questionnaires = sorted(str(p) for p in (ROOT / "questionnaires").glob("*.yaml"))
    for args in (["db", "upgrade"], ["questionnaire", "load", *questionnaires], ["demo", "load"]):
        subprocess.run([cli, *args], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    with psycopg.connect(url, autocommit=True) as conn:
        from bench.bare_app import CREATE

        conn.execute(CREATE)


def count_rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        assert row is not None
        return int(row[0])


# --------------------------------------------------------------------------- the form body


def valid_raw_answers(q: Questionnaire) -> dict[str, list[str]]:
    """A valid answer to every item of ``q``, as form values (item code -> values)."""
    raw: dict[str, list[str]] = {}
    for n, item in enumerate(q.items):
        valid = sorted(item.valid_codes) if item.options else []
        if item.type in ("single", "multiple"):
            # Mostly satisfied answers, as in real data: the top two valid codes in turn.
            value = str(valid[-1 - n % 2] if len(valid) > 1 else valid[0])
        elif item.type == "number":
            value = str(int(item.minimum if item.minimum is not None else 1) + 1)
        else:
            value = "Cán bộ hướng dẫn tận tình, thủ tục nhanh gọn."
        raw[item.code] = [value]
    return raw


def build_form(check: bool) -> tuple[str, str]:
    """(path of the real submit endpoint, urlencoded final-step body with __UID__).

    With ``check``, one submission is posted through the real endpoint first: it must
    answer 303 to the receipt, or the benchmark would time error pages.
    """
    from survey_app import create_app
    from survey_app.services import desk_surveys, organisation, submissions

    app = create_app({"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False})
    with app.app_context():
        desk = organisation.desk_by_code(DESK)
        survey = desk_surveys.desk_survey(desk.public_id, dt.date.today())
        campaign, q = survey.campaign, survey.questionnaire
        fields: list[tuple[str, str]] = [
            ("uid", "__UID__"),
            ("campaign", str(campaign.id)),
            ("lang", q.default_language),
            ("step", str(len(q.sections) + (1 if q.respondent else 0) - 1)),
            ("action", "submit"),
        ]
        raw = valid_raw_answers(q)
        try:
            answers = submissions.validate_answers(q, raw)
        except submissions.AnswersRefused as refused:
            raise SystemExit(f"benchmark form does not validate: {refused}") from None
        for code in answers:
            fields.extend(("a_" + code, v) for v in raw[code])
        path = f"/s/{desk.public_id}/submit"
        log(f"form: {q.id} {q.version}, {len(answers)} answers, desk {desk.code}")
        body = urlencode(fields).replace("__UID__", submissions.new_uid())
        response = app.test_client().post(
            path, data=body, content_type="application/x-www-form-urlencoded"
        )
        if check and response.status_code != 303:
            raise SystemExit(
                f"real endpoint answered {response.status_code}, not 303: "
                f"{response.get_data(as_text=True)[:500]}"
            )
    from survey_app.extensions import db

    with app.app_context():
        db.engine.dispose()
    return path, urlencode(fields)


# --------------------------------------------------------------------------- servers and load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_gunicorn(
    app_spec: str, url: str, args: argparse.Namespace
) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--backlog",
            "2048",
            # Keep idle connections open through a submitter's pause (default 2 s), as a
            # reverse proxy in front would.
            "--keep-alive",
            "30",
            # Import the app once, before forking: the workers of the real app would
            # otherwise each import pandas and scipy (the dashboard) while the load
            # generator already waits, and the first seconds would measure imports.
            "--preload",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            app_spec,
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"gunicorn {app_spec} exited with {process.returncode}") from None
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn {app_spec} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"unreadable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_wrk(
    url: str, body_file: Path, seconds: int, connections: int, threads: int, think_ms: int = 0
) -> tuple[dict[str, float], str]:
    nonce = secrets.token_hex(4)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(ROOT / "bench" / "submit.lua"),
        url,
        "--",
        str(body_file),
        nonce,
        str(think_ms),
    ]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = {}
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+(\S+)", output, re.M)
        assert match, output
        figures[f"p{pct}"] = _ms(match.group(1))
    match = re.search(r"(\d+) requests in ([\d.]+)(\w+)", output)
    assert match, output
    figures["requests"] = int(match.group(1))
    figures["seconds"] = _ms(match.group(2) + match.group(3)) / 1000
    match = re.search(r"Requests/sec:\s+([\d.]+)", output)
    assert match, output
    figures["rps"] = float(match.group(1))
    match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    figures["bad"] = int(match.group(1)) if match else 0
    match = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    figures["socket_errors"] = sum(int(g) for g in match.groups()) if match else 0
    return figures, output


# --------------------------------------------------------------------------- main


def machine(url: str) -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    with psycopg.connect(url) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    pg = row[0] if row else "?"
    return (
        f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, "
        f"PostgreSQL {pg}, {platform.system()} {platform.release()}"
    )


def cpu_per_request(real_path: str, body: str, n: int) -> dict[str, tuple[float, float]]:
    """Python CPU and SQL statements per submission, in-process and one at a time.

    CPU time of this process only, so it is steadier than throughput on a shared machine:
    the ratio of the two is what the throughputs tend to when the CPU is the limit.
    """
    import uuid

    from sqlalchemy import event

    from bench import bare_app
    from bench.bench_app import app as real_app
    from survey_app.extensions import db
    from survey_app.services import submissions

    counts = {"n": 0}

    def count(*_args: object) -> None:
        counts["n"] += 1

    with real_app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
    event.listen(bare_app.engine, "before_cursor_execute", count)
    # The citizen INSERT runs on the driver's cursor, out of SQLAlchemy's events' sight.
    driver_scalar = submissions.DriverStatement.scalar

    def counted_scalar(*args: object) -> object:
        count()
        return driver_scalar(*args)  # type: ignore[arg-type]

    submissions.DriverStatement.scalar = counted_scalar  # type: ignore[method-assign]
    out: dict[str, tuple[float, float]] = {}
    for name, client, path in (
        ("bare", bare_app.app.test_client(), "/bare/submit"),
        ("real", real_app.test_client(), real_path),
    ):

        def post() -> None:
            response = client.post(  # noqa: B023  (used within this iteration only)
                path,  # noqa: B023
                data=body.replace("__UID__", str(uuid.uuid4())),
                content_type="application/x-www-form-urlencoded",
            )
            assert response.status_code == 303, response.status_code

        for _ in range(20):  # warm caches: parsed questionnaire, compiled SQL, pool
            post()
        # As gunicorn.conf.py does in each worker: the loaded heap out of the collector's
        # reach (otherwise a full collection over pandas and scipy lands in the measurement).
        gc.freeze()
        counts["n"] = 0
        started = time.process_time()
        for _ in range(n):
            post()
        out[name] = ((time.process_time() - started) / n * 1000, counts["n"] / n)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--connections", type=int, default=100, help="concurrent submitters")
    parser.add_argument("--duration", type=int, default=30, help="seconds per measured run")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, default=2, help="bare/real pairs, alternating")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (both apps)")
    # gthread keeps each open keep-alive connection on a thread: with fewer threads than
    # connections per worker, a waiting connection stalls for seconds (measured: p99
    # 1-3 s at 100 paced submitters with 4 threads, 31 ms with 32).
    parser.add_argument("--threads", type=int, default=32, help="gunicorn threads per worker")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument(
        "--think-ms",
        type=int,
        default=1000,
        help="mean pause of each submitter in the paced phase (0: skip that phase)",
    )
    parser.add_argument(
        "--cpu-requests",
        type=int,
        default=300,
        help="in-process submissions for the CPU measurement (0: skip)",
    )
    parser.add_argument("--only", choices=["bare", "real"], help="run one side only")
    parser.add_argument("--verbose", action="store_true", help="show wrk's own reports")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: `make wrk` (apt-get install wrk)")
    sys.path.insert(0, str(ROOT))
    url = args.database_url
    os.environ["DATABASE_URL"] = url
    load_before = os.getloadavg()[0]
    log(f"preparing {url}")
    recreate_database(url)
    prepare_schema(url)
    order = [args.only] if args.only else ["bare", "real"]
    real_path, body = build_form(check="real" in order)
    cpu = cpu_per_request(real_path, body, args.cpu_requests) if args.cpu_requests else {}
    phases = [("saturated", 0)] + ([("paced", args.think_ms)] if args.think_ms else [])

    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        body_file = Path(tmp) / "body.txt"
        body_file.write_text(body, encoding="utf-8")
        sides = {
            "bare": ("bench.bare_app:app", "/bare/submit", "bare_submissions"),
            "real": ("bench.bench_app:app", real_path, "submissions"),
        }
        for n in range(args.rounds):
            # Alternate which side goes first: a shared machine's load drifts.
            for name in order if n % 2 == 0 else list(reversed(order)):
                spec, path, table = sides[name]
                process, port = start_gunicorn(spec, url, args)
                try:
                    target = f"http://127.0.0.1:{port}{path}"
                    warm, warm_output = run_wrk(
                        target, body_file, args.warmup, args.connections, args.wrk_threads
                    )
                    if args.verbose:
                        log(f"warm-up: {warm_output}")
                    time.sleep(2)  # requests the warm-up left in flight drain first
                    for phase, think in phases:
                        before = count_rows(url, table)
                        figures, output = run_wrk(
                            target,
                            body_file,
                            args.duration,
                            args.connections,
                            args.wrk_threads,
                            think,
                        )
                        time.sleep(2)  # requests in flight at the end finish and count
                        stored = count_rows(url, table) - before
                        if args.verbose:
                            log(f"rows before {before}, stored {stored}")
                        result = Result(
                            name=name,
                            phase=phase,
                            round=n + 1,
                            requests=int(figures["requests"]),
                            seconds=figures["seconds"],
                            rps=figures["rps"],
                            p50_ms=figures["p50"],
                            p90_ms=figures["p90"],
                            p99_ms=figures["p99"],
                            non_2xx_3xx=int(figures["bad"]),
                            socket_errors=int(figures["socket_errors"]),
                            rows_stored=stored,
                        )
                        results.append(result)
                        if args.verbose:
                            log(output)
                        log(
                            f"{name} {phase} round {n + 1}: {result.rps:.0f}/s "
                            f"p50 {result.p50_ms:.1f} ms p99 {result.p99_ms:.1f} ms, "
                            f"{result.requests} requests, {stored} rows, "
                            f"{result.non_2xx_3xx + result.socket_errors} errors"
                        )
                finally:
                    stop(process)

    load_after = os.getloadavg()[0]
    print(f"machine: {machine(url)}; load average before/after: {load_before:.1f}/{load_after:.1f}")
    print(
        f"load: wrk, {args.connections} connections, {args.duration} s per run after "
        f"{args.warmup} s warm-up; gunicorn gthread {args.workers} workers x "
        f"{args.threads} threads; paced phase: mean think time {args.think_ms} ms"
    )
    print()
    print(
        "| endpoint | phase | round | submissions/s | p50 ms | p90 ms | p99 ms | requests "
        "| rows | errors |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r.name} | {r.phase} | {r.round} | {r.rps:.0f} | {r.p50_ms:.1f} | "
            f"{r.p90_ms:.1f} | {r.p99_ms:.1f} | {r.requests} | {r.rows_stored} | "
            f"{r.non_2xx_3xx + r.socket_errors} |"
        )
    for phase, _think in phases:
        bare = [r.rps for r in results if r.name == "bare" and r.phase == phase]
        real = [r for r in results if r.name == "real" and r.phase == phase]
        if bare and real and sum(bare) > 0:
            ratio = (sum(r.rps for r in real) / len(real)) / (sum(bare) / len(bare))
            print(
                f"{phase}: throughput real/bare {ratio:.0%}; real p99 worst round "
                f"{max(r.p99_ms for r in real):.1f} ms"
            )
    if cpu:
        print()
        for name, (ms, statements) in cpu.items():
            print(
                f"in-process {name}: {ms:.2f} ms Python CPU, {statements:.1f} SQL statements "
                "per submission"
            )
        if len(cpu) == 2:
            print(f"CPU-bound throughput bound real/bare ~ {cpu['bare'][0] / cpu['real'][0]:.0%}")
    if args.json:
        args.json.write_text(
            json.dumps({"results": [asdict(r) for r in results], "cpu_ms": cpu}, indent=2)
        )


if __name__ == "__main__":
    main()
