"""What analysis keeps between requests: responses (memory and disk), designs and results.

:class:`FrameCache` is the one cache here that is not a plain :class:`~survey_app.caching.Cache`
memo: it keeps each campaign's responses in step with the database by appending
new submissions, and copies them to disk so a restarted server need not read
every answer again. Designs and results are memos of the current app
(:func:`memo`), keyed by the frame they were computed from.
"""

from __future__ import annotations

import os
import pickle
import threading
import weakref
from collections.abc import Hashable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from flask import has_app_context
from sqlalchemy import select

from survey_app.caching import Cache, app_cache
from survey_app.extensions import db
from survey_app.models import Campaign, Submission
from survey_app.services.analysis import loading
from survey_app.services.analysis.loading import Responses, Version, data_version
from survey_app.settings import settings

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_campaign_locks: dict[int, threading.RLock] = {}
_campaign_locks_guard = threading.Lock()


def campaign_lock(campaign_id: int) -> threading.RLock:
    """One lock per campaign: concurrent requests wait for one load or computation
    instead of each doing it (gunicorn runs many threads per worker)."""
    with _campaign_locks_guard:
        return _campaign_locks.setdefault(campaign_id, threading.RLock())


class FrameCache:
    """The responses of the last few campaigns, kept in step with the database.

    Checked on every use against :func:`~.loading.data_version`: unchanged data
    reuse the frame; new submissions only (ids above the cached newest, count
    grown by as many, the cached newest still there) are loaded and appended;
    anything else (a deletion) reloads all. A new frame object means new designs
    and results, so nothing stale is shown.

    With ``ANALYSIS_CACHE_DIR`` set (the app sets it to ``instance/analysis-cache``
    outside tests) the responses are also kept on disk, so a restarted server
    reads a pickle and the few submissions since, not millions of answer rows.
    One per process (:data:`frames`): the data version, with the newest
    submission's random uid, tells one app's database from another's.
    """

    # Rewrite the disk copy when this many submissions were appended since (or 5%).
    DISK_REWRITE_ROWS = 1000

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: Cache[int, tuple[Version, Responses]] = Cache(size)
        self._written: dict[int, int] = {}  # rows in each campaign's disk copy

    def responses(self, campaign: Campaign) -> Responses:
        with campaign_lock(campaign.id):
            return self._responses(campaign)

    def _responses(self, campaign: Campaign) -> Responses:
        version = data_version(campaign)
        cached = self._items.get(campaign.id)
        if cached is None:
            cached = self._read_disk(campaign)
        if cached is not None and cached[0] == version:
            self._remember(campaign, version, cached[1])
            return cached[1]
        loaded = None
        if (
            cached is not None
            and version[0] > cached[0][0]
            and self._still_there(campaign, cached[0])
        ):
            (old_latest, old_count, _), old = cached
            new = loading.load_responses(campaign, after_id=old_latest, until_id=version[0])
            if old_count + len(new.frame) == version[1]:
                loaded = Responses(
                    pd.concat([old.frame, new.frame], ignore_index=True),
                    pd.concat([old.comments, new.comments], ignore_index=True),
                )
        if loaded is None:
            loaded = loading.load_responses(campaign, until_id=version[0])
            self._written.pop(campaign.id, None)
        self._remember(campaign, version, loaded)
        return loaded

    def get(self, campaign: Campaign) -> pd.DataFrame:
        return self.responses(campaign).frame

    def clear(self) -> None:
        self._items.clear()
        self._written.clear()

    # -------------------------------------------------------------- internals
    @staticmethod
    def _still_there(campaign: Campaign, version: Version) -> bool:
        latest, _, uid = version
        found = db.session.scalar(
            select(Submission.uid).where(
                Submission.campaign_id == campaign.id, Submission.id == latest
            )
        )
        return found == uid

    def _remember(self, campaign: Campaign, version: Version, responses: Responses) -> None:
        self._items.put(campaign.id, (version, responses))
        written = self._written.get(campaign.id)
        rows = len(responses.frame)
        if written is None or rows - written >= max(self.DISK_REWRITE_ROWS, written // 20):
            self._write_disk(campaign, version, responses)

    @staticmethod
    def _path(campaign: Campaign) -> Path | None:
        if not has_app_context():
            return None
        directory = settings().analysis_cache_dir
        if not directory:
            return None
        return Path(directory) / f"campaign-{campaign.id}.pkl"

    def _read_disk(self, campaign: Campaign) -> tuple[Version, Responses] | None:
        path = self._path(campaign)
        if path is None or not path.exists():
            return None
        try:
            with path.open("rb") as handle:
                stored = pickle.load(handle)
            content_hash = stored.get("content_hash")
            latest, count, uid = stored["version"]
            version: Version = (int(latest), int(count), str(uid))
            responses = stored["responses"]
        except Exception:  # a damaged cache file is simply ignored
            return None
        if content_hash != campaign.questionnaire_version.content_hash:
            return None
        if not isinstance(responses, Responses):
            return None
        self._written[campaign.id] = len(responses.frame)
        return version, responses

    def _write_disk(self, campaign: Campaign, version: Version, responses: Responses) -> None:
        path = self._path(campaign)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        with temporary.open("wb") as handle:
            pickle.dump(
                {
                    "version": version,
                    "responses": responses,
                    "content_hash": campaign.questionnaire_version.content_hash,
                },
                handle,
                protocol=pickle.HIGHEST_PROTOCOL,
            )
        os.replace(temporary, path)
        self._written[campaign.id] = len(responses.frame)


frames = FrameCache()

# Every analysis memo of every app in this process, so clear_caches() reaches them all.
_memos: weakref.WeakSet[Cache[Any, Any]] = weakref.WeakSet()


def memo(name: str, size: int) -> Cache[K, V]:
    """The current app's analysis memo called ``name``, at most ``size`` entries."""
    cache: Cache[K, V] = app_cache(f"analysis.{name}", size)
    _memos.add(cache)
    return cache


def clear_caches() -> None:
    """Forget every campaign's responses, designs and results, as a new process would."""
    frames.clear()
    for cache in list(_memos):
        cache.clear()
