"""The in-memory rate-limit storage (``memory://``), safe when threads hit it at once.

limits 5.8's ``MemoryStorage`` restarts its 10 ms expiry timer from every hit that finds
it finished, with no lock: ``if not self.timer.is_alive(): self.timer = Timer(...);
self.timer.start()``. Replacing ``self.timer`` frees the finished timer, whose weak
reference callback in ``threading._dangling`` is Python code, so another thread may run
between the assignment and ``self.timer.start()``, put its own timer in, and have it
started twice: ``RuntimeError: threads can only be started once``, seen under gunicorn's
threads. Starting the storage early does not help (the timer is restarted every 10 ms).
Upstream took a lock around the restart after 5.8.0 (alisaifee/limits#352); until a
release with it is locked, this subclass does the same and takes ``memory://`` over from
limits' own class when this module is imported (``survey_app.extensions`` does). Delete
it with the upgrade.
"""

from __future__ import annotations

import threading
from typing import Any

from limits.storage import MemoryStorage


class ThreadSafeMemoryStorage(MemoryStorage):
    STORAGE_SCHEME = ["memory"]  # limits' registry now builds this class for memory://

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: str):
        self._timer_lock = threading.Lock()
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["_timer_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._timer_lock = threading.Lock()
        super().__setstate__(state)

    def _MemoryStorage__schedule_expiry(self) -> None:  # the parent's private method, locked
        with self._timer_lock:
            if not self.timer.is_alive():
                self.timer = threading.Timer(0.01, self._MemoryStorage__expire_events)  # type: ignore[attr-defined]
                self.timer.start()
