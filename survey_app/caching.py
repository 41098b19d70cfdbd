"""The one way this app keeps computed things in memory: a bounded, thread-safe memo.

A :class:`Cache` holds at most ``size`` entries, dropping the least recently used
first; with a ``ttl`` (a callable, so a setting changed on a running app applies), an
entry is made again once it is older than that many seconds. Caches whose content
depends on the database belong to one app (:func:`app_cache`), so two apps in one
process (the tests) never see each other's entries; caches keyed by content that never
changes (a questionnaire's hash) are module-level.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from flask import Flask, current_app

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Cache(Generic[K, V]):
    """At most ``size`` entries, least recently used dropped first, each kept for at most
    ``ttl()`` seconds when ``ttl`` is given (0 or less: nothing is kept)."""

    def __init__(self, size: int, ttl: Callable[[], float] | None = None) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one entry")
        self.size = size
        self._ttl = ttl
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The entry under ``key`` if it is there and fresh, else None."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] <= now:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: K, value: V) -> V:
        """Keep ``value`` under ``key`` (unless the ttl is 0 or less); return it."""
        ttl = float("inf") if self._ttl is None else self._ttl()
        if ttl > 0:
            with self._lock:
                self._entries[key] = (time.monotonic() + ttl, value)
                self._entries.move_to_end(key)
                while len(self._entries) > self.size:
                    self._entries.popitem(last=False)
        return value

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The entry under ``key``, made by ``make()`` and kept when missing or stale.

        ``make`` runs outside the lock: two threads missing at once both make it, and
        the later one's value is kept, which is harmless for what is cached here.
        """
        found = self.get(key)
        if found is not None:
            return found
        return self.put(key, make())

    def pop(self, key: K) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def app_cache(name: str, size: int, ttl: Callable[[], float] | None = None) -> Cache[K, V]:
    """The current app's cache called ``name`` (``app.extensions[name]``), made on first use."""
    extensions = current_app.extensions
    cache = extensions.get(name)
    if cache is None:
        cache = extensions.setdefault(name, Cache(size, ttl))
    return cache  # type: ignore[no-any-return]


def clear_app_caches(app: Flask) -> None:
    """Empty every cache of ``app`` (a set-up change was committed)."""
    for extension in app.extensions.values():
        if isinstance(extension, Cache):
            extension.clear()
