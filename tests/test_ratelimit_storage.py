"""The in-memory rate-limit storage under many threads (gunicorn's gthread workers).

The race: limits' MemoryStorage replaces its finished expiry timer and starts
``self.timer``; freeing the old timer runs Python code (a weak reference callback), so
another thread can slip its own timer in between and see it started twice. The timer here
takes a little longer to be freed, which widens that window: without the fix, 7 runs in 8
of the hammering test failed ('threads can only be started once').
"""

from __future__ import annotations

import threading
import time

import pytest
from limits.storage import MemoryStorage, storage_from_string

import survey_app.extensions  # noqa: F401  (puts the thread-safe class behind memory://)
from survey_app.ratelimit_storage import ThreadSafeMemoryStorage


class _SlowlyFreedTimer(threading.Timer):
    def __del__(self) -> None:
        time.sleep(0.001)  # lets other threads run, as threading's own callback may


def _hammer(storage: MemoryStorage, threads: int = 32, seconds: float = 2.0) -> list[str]:
    """Hits from ``threads`` threads for ``seconds``; the errors they met. Every hit that
    did not fail must have been counted."""
    errors: list[str] = []
    hits = [0] * threads
    start = threading.Barrier(threads)
    deadline = time.monotonic() + seconds

    def hit(n: int) -> None:
        start.wait()
        while time.monotonic() < deadline:
            try:
                storage.incr(f"login-client:{n % 4}", 60)
                hits[n] += 1
            except RuntimeError as error:
                errors.append(str(error))

    workers = [threading.Thread(target=hit, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(storage.get(f"login-client:{k}") for k in range(4)) == sum(hits)
    return errors


def test_memory_uris_get_the_thread_safe_storage() -> None:
    assert type(storage_from_string("memory://")) is ThreadSafeMemoryStorage


def test_the_in_memory_storage_takes_hits_from_many_threads_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threading, "Timer", _SlowlyFreedTimer)
    assert _hammer(storage_from_string("memory://")) == []  # type: ignore[arg-type]
