"""Responses per desk of a campaign (số phiếu theo bộ phận một cửa): per route, today, this
week and in all, with the last one, so that a poster that stopped working is seen.

A desk *goes quiet* when, while the campaign runs, an active desk of the campaign has had
no response for ``QUIET_WORKING_DAYS`` working days (Monday to Friday; public holidays are
not known here, so a desk may be flagged after a long holiday).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import case, func, select

from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import ROUTES, Campaign, Desk, Submission
from survey_app.services.raw_export import ROUTE_LABELS

# Working days without a response after which a running desk is flagged.
QUIET_WORKING_DAYS = 3


@dataclass
class DeskCounts:
    desk_id: int
    by_route: dict[str, int]
    total: int
    today: int = 0
    week: int = 0  # since Monday, local time
    last_at: dt.datetime | None = None  # stored instant (UTC) of the newest response


@dataclass
class DeskRow:
    desk: Desk
    counts: DeskCounts
    quiet: bool  # no response for QUIET_WORKING_DAYS working days while it should collect


@dataclass
class ResponseCounts:
    """Số phiếu theo bộ phận một cửa và hình thức thu thập."""

    rows: list[DeskRow]
    by_route: dict[str, int]
    total: int
    today: int
    week: int
    quiet_days: int = QUIET_WORKING_DAYS
    routes: list[tuple[str, str]] = field(
        default_factory=lambda: [(r, ROUTE_LABELS[r]) for r in ROUTES]
    )


def working_days_back(day: dt.date, count: int) -> dt.date:
    """The ``count``-th working day (Monday to Friday) before ``day``."""
    found = 0
    while found < count:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            found += 1
    return day


def response_counts(
    campaign: Campaign, desk_ids: Collection[int] | None = None, today: dt.date | None = None
) -> ResponseCounts:
    """Submissions of a campaign per desk and route, today, this week and the newest one,
    every desk of the campaign listed (``desk_ids`` limits the table to those desks)."""
    today = today or localtime.today()
    day_start = localtime.day_start(today)
    week_start = localtime.day_start(today - dt.timedelta(days=today.weekday()))
    where = [Submission.campaign_id == campaign.id]
    if desk_ids is not None:
        where.append(Submission.desk_id.in_(list(desk_ids)))
    found = db.session.execute(
        select(
            Submission.desk_id,
            Submission.route,
            func.count(Submission.id),
            func.sum(case((Submission.submitted_at >= day_start, 1), else_=0)),
            func.sum(case((Submission.submitted_at >= week_start, 1), else_=0)),
            func.max(Submission.submitted_at),
        )
        .where(*where)
        .group_by(Submission.desk_id, Submission.route)
    ).all()
    tallies: dict[int, DeskCounts] = {}
    for desk_id, route, count, on_day, in_week, last_at in found:
        tally = tallies.setdefault(desk_id, DeskCounts(desk_id, dict.fromkeys(ROUTES, 0), 0))
        tally.by_route[route] = count
        tally.total += count
        tally.today += int(on_day or 0)
        tally.week += int(in_week or 0)
        if tally.last_at is None or last_at > tally.last_at:
            tally.last_at = last_at
    desks = {d.id: d for d in campaign.desks if desk_ids is None or d.id in desk_ids}
    missing = set(tallies) - set(desks)
    if missing:
        # A desk removed from the campaign after it collected answers still counts.
        extra = db.session.scalars(select(Desk).where(Desk.id.in_(missing)))
        desks.update({d.id: d for d in extra})
    running = campaign.starts_on <= today <= campaign.ends_on
    quiet_day = working_days_back(today, QUIET_WORKING_DAYS)
    since = localtime.day_start(quiet_day)
    in_campaign = {d.id for d in campaign.desks}
    out = []
    for desk in sorted(desks.values(), key=lambda d: d.code):
        tally = tallies.get(desk.id, DeskCounts(desk.id, dict.fromkeys(ROUTES, 0), 0))
        # Quiet: a running desk silent since the N-th working day back began, when the
        # campaign had started by then (it has had those days to collect answers).
        quiet = (
            running
            and desk.active
            and desk.id in in_campaign
            and campaign.starts_on <= quiet_day
            and (tally.last_at is None or tally.last_at < since)
        )
        out.append(DeskRow(desk, tally, quiet))
    by_route = {r: sum(row.counts.by_route[r] for row in out) for r in ROUTES}
    return ResponseCounts(
        rows=out,
        by_route=by_route,
        total=sum(by_route.values()),
        today=sum(row.counts.today for row in out),
        week=sum(row.counts.week for row in out),
    )
