"""Local time of the surveys (giờ Việt Nam by default): calendar days and times shown.

Instants are stored in UTC (naive, ``models.utcnow``). Everything that is a calendar day
for people (a campaign's dates, "today", dashboard periods, ``submitted_on`` in exports,
the date of a paper form) and every time shown is in the ``TIMEZONE`` setting's zone,
``Asia/Ho_Chi_Minh`` unless configured: a form answered at 00:30 on 1 January in Hà Tĩnh
belongs to January, though it is stored as 17:30 on 31 December UTC.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from flask import Flask, current_app
from flask_babel import gettext

from survey_app.settings import Settings


def init_app(app: Flask) -> None:
    name = Settings(app.config).timezone
    try:
        app.extensions["timezone"] = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"TIMEZONE {name!r} is not a time zone name such as 'Asia/Ho_Chi_Minh'"
        ) from None
    app.add_template_global(zone_label)


def zone() -> ZoneInfo:
    return current_app.extensions["timezone"]  # type: ignore[no-any-return]


# The zone names of Vietnam's time: its pages say "giờ Việt Nam" rather than an offset.
VIETNAM_ZONES = frozenset({"Asia/Ho_Chi_Minh", "Asia/Saigon"})


def zone_label() -> str:
    """How a column header or a sentence names the zone its times are in: ``giờ Việt Nam``
    (``Vietnam time``) by default, else the offset (``giờ UTC+5:30``)."""
    if zone().key in VIETNAM_ZONES:
        return str(gettext("giờ Việt Nam"))
    return str(gettext("giờ %(offset)s", offset=zone_offset()))


def zone_offset() -> str:
    """The zone's offset from UTC now, e.g. ``UTC+7``."""
    offset = dt.datetime.now(zone()).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def today() -> dt.date:
    """Today's date where the surveys run."""
    return dt.datetime.now(zone()).date()


def to_local(at: dt.datetime) -> dt.datetime:
    """A stored instant (naive UTC) as naive local time."""
    return at.replace(tzinfo=dt.UTC).astimezone(zone()).replace(tzinfo=None)


def to_utc(at: dt.datetime) -> dt.datetime:
    """A naive local time as a stored instant (naive UTC)."""
    return at.replace(tzinfo=zone()).astimezone(dt.UTC).replace(tzinfo=None)


def day_start(day: dt.date) -> dt.datetime:
    """The stored instant (naive UTC) at which a local calendar day begins."""
    return to_utc(dt.datetime.combine(day, dt.time()))


def local_series(stored: pd.Series) -> pd.Series:
    """Stored instants (naive UTC, a datetime64 column) as naive local times.

    The column must already be datetime64: text is never parsed here, since a format
    inferred from its first value fails on (or misreads) the others. Readers convert
    with an explicit format or unit first.
    """
    if not pd.api.types.is_datetime64_dtype(stored.dtype):
        raise TypeError(f"stored instants must be datetime64, not {stored.dtype}")
    local: pd.Series = stored.dt.tz_localize("UTC").dt.tz_convert(zone()).dt.tz_localize(None)
    return local
