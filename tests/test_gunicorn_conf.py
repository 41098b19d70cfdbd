"""The production server settings (gunicorn.conf.py at the repository root)."""

import os
import runpy
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


def test_started_workers_keep_their_loaded_heap_out_of_the_cyclic_collector() -> None:
    code = (
        f"import gc, runpy; conf = runpy.run_path({str(CONF)!r}); "
        "assert gc.get_freeze_count() == 0; "
        "conf['post_worker_init'](None); print(gc.get_freeze_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 50_000  # scoring, numpy, scipy and pandas among them


def test_the_app_is_loaded_once_before_forking_threaded_workers() -> None:
    conf = runpy.run_path(str(CONF))
    assert conf["preload_app"] is True and conf["worker_class"] == "gthread"


# --------------------------------------------------------------------------- rate limits

ROOT = CONF.parent


def _gunicorn(tmp_path: Path, workers: int, **env: str) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("RATELIMIT_")}
    environment.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'g.sqlite3'}",
        SECRET_KEY="s" * 48,
        CLIENT_HASH_SALT="c" * 48,
        ANALYSIS_CACHE_DIR="",
        **env,
    )
    port = _free_port()
    command = [str(Path(sys.executable).with_name("gunicorn")), "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "survey_app:create_app()"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=environment, stderr=subprocess.PIPE, text=True
    )
    process.port = port  # type: ignore[attr-defined]
    return process


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serves(process: subprocess.Popen[str]) -> bool:
    """Whether gunicorn answers /healthz (False if it exited); it is stopped afterwards."""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            try:
                url = f"http://127.0.0.1:{process.port}/healthz"  # type: ignore[attr-defined]
                with urllib.request.urlopen(url, timeout=2) as response:
                    return response.status == 200
            except OSError:
                time.sleep(0.2)
        return False
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_several_workers_on_in_memory_rate_limits_refuse_to_start(tmp_path: Path) -> None:
    process = _gunicorn(tmp_path, 2)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "Error: RATELIMIT_STORAGE_URI is memory://" in stderr
    assert "redis://" in stderr and "-w 1" in stderr


@pytest.mark.parametrize(
    ("workers", "env"),
    [
        (1, {}),
        (2, {"RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}),
    ],
)
def test_one_worker_or_a_shared_storage_starts(
    tmp_path: Path, workers: int, env: dict[str, str]
) -> None:
    assert _serves(_gunicorn(tmp_path, workers, **env))


class _Server:
    """What the hooks use of gunicorn's arbiter."""

    def __init__(self, app: Flask, workers: int) -> None:
        self.app = SimpleNamespace(wsgi=lambda: app)
        self.cfg = SimpleNamespace(workers=workers)
        self.log = SimpleNamespace(error=lambda *args: self.errors.append(args[0] % args[1:]))
        self.errors: list[str] = []
        self._workers = workers

    @property
    def num_workers(self) -> int:
        return self._workers

    @num_workers.setter
    def num_workers(self, value: int) -> None:
        old, self._workers = self._workers, value
        self.hooks["nworkers_changed"](self, value, old)

    hooks: dict[str, Any] = {}


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379"])
def test_more_workers_at_run_time_are_refused_on_in_memory_rate_limits(
    make_app: Callable[..., Flask], storage: str
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=storage)
    _Server.hooks = runpy.run_path(str(CONF))
    server = _Server(app, 1)
    server.num_workers = 3  # kill -TTIN, twice
    if storage == "memory://":
        assert server.num_workers == 1
        assert "not raising the workers to 3: RATELIMIT_STORAGE_URI" in server.errors[0]
    else:
        assert server.num_workers == 3 and server.errors == []


def test_an_app_without_rate_limits_may_run_any_number_of_workers(
    make_app: Callable[..., Flask],
) -> None:
    """The submit benchmark's apps: the real one with limits off, and a bare Flask app."""
    problem = runpy.run_path(str(CONF))["rate_limit_problem"]
    assert problem(4, make_app(RATELIMIT_ENABLED=False)) is None
    assert problem(4, Flask("bare")) is None
    assert problem(4, make_app(RATELIMIT_ENABLED=True)).startswith("RATELIMIT_STORAGE_URI")
