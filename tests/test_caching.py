"""survey_app.caching: the bounded, expiring memo every in-memory cache of the app uses."""

import threading
from types import SimpleNamespace

import pytest
from flask import Flask

from survey_app import caching
from survey_app.caching import Cache, app_cache, clear_app_caches


def test_least_recently_used_entry_goes_first() -> None:
    cache: Cache[str, int] = Cache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)


def test_entries_expire_after_ttl(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(caching, "time", SimpleNamespace(monotonic=lambda: now[0]))
    cache: Cache[str, str] = Cache(size=10, ttl=lambda: 30)
    cache.put("desk", "form")
    now[0] = 129.9
    assert cache.get("desk") == "form"
    now[0] = 130.0
    assert cache.get("desk") is None
    assert len(cache) == 0


def test_ttl_of_zero_keeps_nothing_and_follows_the_setting() -> None:
    ttl = [0.0]
    cache: Cache[str, int] = Cache(size=10, ttl=lambda: ttl[0])
    made = []
    assert cache.get_or_make("k", lambda: made.append(1) or 1) == 1
    assert cache.get_or_make("k", lambda: made.append(2) or 2) == 2
    ttl[0] = 60
    cache.get_or_make("k", lambda: made.append(3) or 3)
    assert cache.get_or_make("k", lambda: made.append(4) or 4) == 3
    assert made == [1, 2, 3]


def test_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Cache(size=0)


def test_threads_never_see_more_than_size_entries() -> None:
    cache: Cache[int, int] = Cache(size=50)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for i in range(2000):
                cache.get_or_make((offset + i) % 300, lambda value=i: value)
                assert len(cache) <= 50
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n * 7,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(cache) == 50


def test_app_caches_belong_to_their_app() -> None:
    first, second = Flask("first"), Flask("second")
    with first.app_context():
        app_cache("things", size=4).put("k", "first")
    with second.app_context():
        assert app_cache("things", size=4).get("k") is None
    with first.app_context():
        assert app_cache("things", size=4).get("k") == "first"
    clear_app_caches(first)
    with first.app_context():
        assert app_cache("things", size=4).get("k") is None
