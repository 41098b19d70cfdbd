"""Fault trial: citizens keep submitting while the server and the database are hurt.

Under load on gunicorn (the production gunicorn.conf.py: preload, gthread) and PostgreSQL,
simulated citizens fill in complete SIPAS 2023 forms through the real form flow (the first
page, every step with its CSRF token, the final POST, the receipt page), while the script

1. ``kill -9``s one gunicorn worker (its master starts another),
2. terminates every database connection of the application (``pg_terminate_backend``),
3. ``kill -9``s the gunicorn master (its workers go with it) and starts gunicorn again,
4. terminates the database connections once more, on the new server.

A citizen whose request fails (connection refused or reset, a 5xx) sends the same request
again after a pause, as a phone's browser resends a form: the same submission id, so
storing it stays idempotent. At the end the script counts the acknowledged receipts (a
303 to ``/r/<receipt>``, then the receipt page answering 200) against the stored rows:
lost (acknowledged, not stored), duplicated (one citizen's form stored twice, told by a
marker in its comment), and every 5xx a citizen saw, by the exception the server logged.
Target: 0 lost, 0 duplicated, no 500 from a dead pooled connection.

Not a test: ``make bench-faults`` or ``.venv/bin/python bench/fault_bench.py``
(``--smoke`` for a few seconds with one worker kill and one termination). Uses its own
database ``bench_faults`` (dropped and created afresh). See bench/README.md.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import http.client
import json
import os
import random
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import submit_bench as sb  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_faults"
APP_NAME = "sipas-fault-bench"  # application_name of the server's connections: the ones killed
DESK = "HT-STP-01"
# Exceptions in the server's log that mean a request ran on a connection the database had
# closed (what this trial must never show a citizen).
DEAD_CONNECTION = re.compile(
    r"AdminShutdown|terminating connection|server closed the connection|"
    r"connection is (closed|lost)|consuming input failed|OperationalError"
)

# The line of a traceback that names the exception raised ("psycopg.OperationalError: ...").
EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Shutdown)\b.*")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the server


class Server:
    """gunicorn serving the application from the repository, as in production."""

    def __init__(self, url: str, workers: int, threads: int, log_file: Path) -> None:
        self.url = url
        self.limits_store = os.environ.get("BENCH_RATELIMIT_STORAGE_URI", _limits_store())
        if self.limits_store.startswith("memory://") and workers > 1:
            # Each worker would count limits of its own: gunicorn.conf.py refuses to start.
            log(f"no redis: {self.limits_store} rate limits, so one worker instead of {workers}")
            workers = 1
        self.workers = workers
        self.threads = threads
        self.log_file = log_file
        self.port = sb.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        parts = urlsplit(self.url)
        query = "&".join(q for q in (parts.query, f"application_name={APP_NAME}") if q)
        return {
            **os.environ,
            "DATABASE_URL": urlunsplit(parts._replace(query=query)),
            "PYTHONPATH": str(ROOT),
            # Limits shared by the workers, as in production, but far above this load:
            # every citizen here comes from 127.0.0.1.
            "RATELIMIT_STORAGE_URI": self.limits_store,
            "RATELIMIT_KEY_PREFIX": f"fault-bench-{secrets.token_hex(4)}",
            "RATELIMIT_CLIENT": "1000000 per minute",
            "RATELIMIT_SUBMIT": "1000000 per minute",
            "RATELIMIT_DESK": "1000000 per minute",
            "RATELIMIT_FORM": "1000000 per minute",
            "RATELIMIT_REFUSED": "1000000 per minute",
        }

    def start(self) -> None:
        with self.log_file.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    str(sb.BIN / "gunicorn"),
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(self.threads),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--log-level",
                    "warning",
                    "survey_app:create_app()",
                ],
                cwd=ROOT,  # gunicorn reads gunicorn.conf.py from here
                env=self.env(),
                stdout=out,
                stderr=out,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited with {self.process.returncode}")
            if len(self.worker_pids()) >= self.workers and self._answers():
                return
            time.sleep(0.2)
        raise SystemExit("gunicorn did not start within 120 s")

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        """The master's children, read from /proc."""
        assert self.process is not None
        children = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                children.append(int(stat.parent.name))
        return sorted(children)

    def kill_worker(self) -> int:
        pid = random.choice(self.worker_pids())
        os.kill(pid, signal.SIGKILL)
        return pid

    def kill_master(self) -> str:
        """kill -9 the master, then restart as a supervisor would: workers that have not
        noticed their parent is gone within 5 s are killed too (systemd's default
        KillMode=control-group kills them at once), or they hold the listening port."""
        assert self.process is not None
        workers = self.worker_pids()
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() for p in workers):
            time.sleep(0.1)
        left = [pid for pid in workers if Path(f"/proc/{pid}").exists()]
        for pid in left:  # ours: the workers of the master we started
            os.kill(pid, signal.SIGKILL)
        exited = len(workers) - len(left)
        return f"{exited} of its {len(workers)} workers exited, {len(left)} killed"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            workers = self.worker_pids()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            for pid in workers:
                if Path(f"/proc/{pid}").exists():
                    os.kill(pid, signal.SIGKILL)


def _limits_store() -> str:
    """Redis on this machine when it answers (production's shared store), else memory."""
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return "memory://"
    return "redis://127.0.0.1:6379"


def terminate_connections(url: str) -> int:
    """pg_terminate_backend on every connection of the application to its database."""
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000)) "
            "FROM pg_stat_activity WHERE application_name = %s AND datname = %s",
            (APP_NAME, name),
        ).fetchone()
    return int(row[0]) if row else 0


# --------------------------------------------------------------------------- citizens


class _FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.hidden: list[tuple[str, str]] = []
        self.in_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and "survey" in a.get("class", ""):
            self.in_form = True
            self.action = a["action"]
        elif self.in_form and tag == "input" and a.get("type") == "hidden":
            if not a["name"].startswith("a_"):  # answers travel as our own fields
                self.hidden.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False


@dataclass
class Tally:
    """What the citizens saw, shared by their threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    server_errors: list[tuple[float, str, int]] = field(default_factory=list)
    forms_started: int = 0
    acknowledged: dict[str, str] = field(default_factory=dict)  # receipt -> uid
    abandoned: int = 0

    def count(self, what: str, counter: str = "statuses") -> None:
        with self.lock:
            getattr(self, counter)[what] += 1


class Citizen(threading.Thread):
    """Fills in forms one after another until told to stop, retrying what fails."""

    def __init__(
        self,
        number: int,
        target: Target,
        tally: Tally,
        stop: threading.Event,
        *,
        give_up_after: float,
        started: float,
    ) -> None:
        super().__init__(daemon=True)
        self.number = number
        self.target = target
        self.tally = tally
        self.stop_event = stop
        self.give_up_after = give_up_after
        self.started = started
        self.cookie = ""
        self.conn: http.client.HTTPConnection | None = None

    def run(self) -> None:
        form = 0
        while not self.stop_event.is_set():
            form += 1
            self.cookie = ""  # a new phone each time
            with self.tally.lock:
                self.tally.forms_started += 1
            if not self.fill_in(f"{self.target.marker} citizen {self.number} form {form}"):
                with self.tally.lock:
                    self.tally.abandoned += 1

    def fill_in(self, marker: str) -> bool:
        answers = [(f"a_{code}", v) for code, values in self.target.answers.items() for v in values]
        answers = [(k, marker if k == "a_comment" else v) for k, v in answers]
        page = self.request("GET", self.target.form_path)
        if page is None:
            return False
        status, _location, html = page
        reader = _FormReader()
        reader.feed(html)
        for _ in range(30):
            body = urlencode([*reader.hidden, *answers, ("action", "next")])
            response = self.request("POST", reader.action, body)
            if response is None:
                return False
            status, location, html = response
            if status == 303:
                receipt_page = self.request("GET", location)
                if receipt_page is None or receipt_page[0] != 200:
                    return False
                with self.tally.lock:
                    self.tally.acknowledged[location.removeprefix("/r/")] = dict(reader.hidden)[
                        "uid"
                    ]
                return True
            if status != 200:
                return False  # a page that is no step of the form: counted, not retried
            reader = _FormReader()
            reader.feed(html)
        return False

    def request(
        self, method: str, path: str, body: str | None = None
    ) -> tuple[int, str, str] | None:
        """One request, sent again after a pause while it fails (no answer or a 5xx), for
        at most ``give_up_after`` seconds. None when the citizen gives up."""
        deadline = time.monotonic() + self.give_up_after
        while True:
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        "127.0.0.1", self.target.port(), timeout=30
                    )
                headers = {"Cookie": self.cookie} if self.cookie else {}
                if body is not None:
                    headers["Content-Type"] = "application/x-www-form-urlencoded"
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                html = response.read().decode("utf-8", "replace")
                cookie = response.getheader("Set-Cookie")
                if cookie:
                    self.cookie = cookie.split(";", 1)[0]
                status = response.status
                kind = "final POST" if path.endswith("/submit") else method
                self.tally.count(f"{kind} {status}")
                if status < 500:
                    return status, response.getheader("Location") or "", html
                with self.tally.lock:
                    self.tally.server_errors.append((time.monotonic() - self.started, path, status))
            except (OSError, http.client.HTTPException) as error:
                self.tally.count(type(error).__name__, "errors")
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
            if time.monotonic() > deadline:
                return None
            time.sleep(random.uniform(0.2, 0.6))


@dataclass
class Target:
    server: Server
    form_path: str
    answers: dict[str, list[str]]
    marker: str

    def port(self) -> int:
        return self.server.port


def health_monitor(target: Target, tally: Tally, stop: threading.Event, started: float) -> None:
    """/healthz every 0.25 s: a database the application cannot reach answers 503."""
    while not stop.is_set():
        try:
            conn = http.client.HTTPConnection("127.0.0.1", target.port(), timeout=5)
            conn.request("GET", "/healthz")
            status = conn.getresponse().status
            tally.count(f"healthz {status}")
            if status >= 500:
                with tally.lock:
                    tally.server_errors.append((time.monotonic() - started, "/healthz", status))
            conn.close()
        except OSError as error:
            tally.count(f"healthz {type(error).__name__}", "errors")
        time.sleep(0.25)


# --------------------------------------------------------------------------- set-up and counts


def prepare(url: str) -> tuple[str, dict[str, list[str]]]:
    """A fresh database with the demo province; the desk's form path and valid answers."""
    sb.recreate_database(url)
    env = {**os.environ, "DATABASE_URL": url}
    cli = str(sb.BIN / "survey-app")
    questionnaires = sorted(str(p) for p in (ROOT / "questionnaires").glob("*.yaml"))
    for args in (
        ["db", "upgrade"],
        ["questionnaire", "load", *questionnaires],
        ["demo", "load", "--responses", "0"],
    ):
        subprocess.run([cli, *args], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    os.environ["DATABASE_URL"] = url
    from survey_app import create_app
    from survey_app.extensions import db
    from survey_app.services import desk_surveys, organisation, submissions

    app = create_app()
    with app.app_context():
        desk = organisation.desk_by_code(DESK)
        survey = desk_surveys.desk_survey(desk.public_id, dt.date.today())
        raw = sb.valid_raw_answers(survey.questionnaire)
        try:
            answers = submissions.validate_answers(survey.questionnaire, raw)
        except submissions.AnswersRefused as refused:
            raise SystemExit(f"the trial's answers do not validate: {refused}") from None
        path = f"/s/{desk.public_id}"
        db.engine.dispose()
    return path, {code: raw[code] for code in answers}


def stored(url: str, marker: str) -> tuple[dict[str, str], collections.Counter[str]]:
    """Rows of this run: receipt -> uid, and how many rows each citizen's form has."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT receipt, uid, answers->>'comment' FROM submissions "
            "WHERE answers->>'comment' LIKE %s",
            (marker + " %",),
        ).fetchall()
    return {r[0]: r[1] for r in rows}, collections.Counter(r[2] for r in rows)


def server_errors(log_file: Path) -> collections.Counter[str]:
    """The requests that failed with an exception in the server's log (Flask logs
    "Exception on <path> [<method>]", gunicorn "Error handling request <method> <path>",
    then the traceback, chained ones included), by page and cause: a closed database
    connection, or anything else."""
    found: collections.Counter[str] = collections.Counter()
    text = log_file.read_text(encoding="utf-8", errors="replace")
    # One log record per "[date ...]" line; a traceback belongs to the record above it.
    for record in re.split(r"\n(?=\[\d{4}-\d\d-\d\d )", text):
        flask = re.search(r"Exception on (?P<path>\S+) \[(?P<method>\w+)\]", record)
        # gunicorn's own record of an exception that left the application (its teardown).
        wsgi = re.search(r"Error handling request (?P<method>\w+) (?P<path>\S+)", record)
        where = flask or wsgi
        if where is None:
            continue
        cause = "closed database connection" if DEAD_CONNECTION.search(record) else "other"
        raised = [line for line in record.splitlines() if EXCEPTION_LINE.match(line)]
        last = raised[-1][:120] if raised else "?"
        found[f"{where['method']} {_page_kind(where['path'])}: {cause} ({last})"] += 1
    return found


def _page_kind(path: str) -> str:
    for pattern, kind in (
        (r"/[sc]/[^/]+/submit", "final step"),
        (r"/[sc]/[^/]+", "form"),
        (r"/r/\w+", "receipt"),
    ):
        if re.fullmatch(pattern, path):
            return kind
    return path


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default_url = os.environ.get("BENCH_FAULTS_DATABASE_URL", DEFAULT_URL)
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--citizens", type=int, default=24, help="concurrent citizens")
    parser.add_argument(
        "--duration", type=float, default=60, help="seconds of load, besides restarts"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--give-up-after", type=float, default=120, help="seconds per request")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="a few seconds, 4 citizens, one worker kill and one termination",
    )
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--log", type=Path, help="keep gunicorn's log here")
    args = parser.parse_args()
    if args.smoke:
        args.citizens, args.duration, args.workers, args.threads = 4, 8, 2, 8
    url = args.database_url
    if not re.fullmatch(r"bench_\w+", urlsplit(url).path.lstrip("/")):
        raise SystemExit("the trial's database name must start with bench_ (it is dropped)")
    load_before = os.getloadavg()[0]
    log(f"preparing {url}")
    form_path, answers = prepare(url)
    marker = f"faults-{secrets.token_hex(4)}"
    events: list[tuple[float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        log_file = args.log or Path(tmp) / "gunicorn.log"
        server = Server(url, args.workers, args.threads, log_file)
        log("starting gunicorn")
        server.start()
        target = Target(server, form_path, answers, marker)
        tally = Tally()
        stop = threading.Event()
        started = time.monotonic()

        def pause() -> None:
            time.sleep(args.duration / (3 if args.smoke else 6))

        def event(what: str) -> None:
            events.append((time.monotonic() - started, what))
            log(what)

        citizens = [
            Citizen(n + 1, target, tally, stop, give_up_after=args.give_up_after, started=started)
            for n in range(args.citizens)
        ]
        monitor = threading.Thread(
            target=health_monitor, args=(target, tally, stop, started), daemon=True
        )
        for citizen in citizens:
            citizen.start()
        monitor.start()
        try:
            # Each fault a fixed pause after the previous one is over (a restart takes what
            # it takes on a loaded machine), so every fault meets a server under load.
            pause()
            event(f"kill -9 worker {server.kill_worker()}")
            pause()
            event(f"pg_terminate_backend: {terminate_connections(url)} connections")
            if not args.smoke:
                pause()
                event(f"kill -9 master {server.process.pid if server.process else '?'}")
                event(f"{server.kill_master()}; starting gunicorn again")
                server.start()
                event("gunicorn answers again")
                pause()
                event(f"pg_terminate_backend: {terminate_connections(url)} connections")
                pause()
                event(f"kill -9 worker {server.kill_worker()}")
            pause()
            event("load stops; citizens finish the form they are on")
            stop.set()
            for citizen in citizens:
                citizen.join(args.give_up_after + 60)
            monitor.join(10)
        finally:
            stop.set()
            server.stop()
        exceptions = server_errors(log_file)
        rows, per_form = stored(url, marker)

    acknowledged = tally.acknowledged
    lost = sorted(r for r in acknowledged if rows.get(r) != acknowledged[r])
    duplicated = {form: n for form, n in per_form.items() if n > 1}
    dead = sum(n for kind, n in exceptions.items() if "closed database connection" in kind)
    figures = {
        "machine": sb.machine(url),
        "load average before/after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "settings": {
            "citizens": args.citizens,
            "seconds": args.duration,
            "workers": args.workers,
            "threads": args.threads,
        },
        "events": [(round(t, 1), what) for t, what in events],
        "forms started": tally.forms_started,
        "receipts acknowledged": len(acknowledged),
        "rows stored": len(rows),
        "stored but not acknowledged": len(set(rows) - set(acknowledged)),
        "forms abandoned": tally.abandoned,
        "lost": len(lost),
        "duplicated": len(duplicated),
        "responses": dict(sorted(tally.statuses.items())),
        "connection errors": dict(sorted(tally.errors.items())),
        "5xx seen by citizens (second, page, status)": [
            (round(t, 1), _page_kind(path) if path != "/healthz" else path, s)
            for t, path, s in tally.server_errors
        ],
        "requests failed with an exception (server log)": dict(exceptions),
        "of them on a closed database connection": dead,
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    if lost or duplicated or dead:
        raise SystemExit(
            f"FAILED: {len(lost)} lost, {len(duplicated)} duplicated, {dead} dead-connection errors"
        )


if __name__ == "__main__":
    main()
