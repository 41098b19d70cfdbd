"""One campaign per desk and day (một quầy, một đợt khảo sát mỗi ngày).

A desk's QR poster opens the form of the campaign running there today. Two campaigns of
one desk whose periods overlap would leave the choice to a rule no one sees (the later
one took the poster over): :func:`overlap_problems` refuses them when a campaign is added
or edited, naming the other campaign and the days in common, and :func:`poster_campaign`
says on the desk page which campaign the poster opens today, until when, and what
comes next.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Campaign, Desk, campaign_desks
from survey_app.services.errors import Problem


def overlapping(
    desks: Sequence[Desk],
    starts_on: dt.date,
    ends_on: dt.date,
    campaign_id: int | None = None,
) -> set[tuple[int, int]]:
    """(desk id, other campaign id) of every campaign other than ``campaign_id`` that
    runs at one of ``desks`` on a day from ``starts_on`` to ``ends_on``."""
    if not desks or ends_on < starts_on:
        return set()
    query = (
        select(campaign_desks.c.desk_id, Campaign.id)
        .join(campaign_desks, campaign_desks.c.campaign_id == Campaign.id)
        .where(campaign_desks.c.desk_id.in_([d.id for d in desks]))
        .where(Campaign.starts_on <= ends_on, Campaign.ends_on >= starts_on)
    )
    if campaign_id is not None:
        query = query.where(Campaign.id != campaign_id)
    return {(desk_id, other_id) for desk_id, other_id in db.session.execute(query)}


def lock_desks(desks: Iterable[Desk]) -> None:
    """Lock the desks' rows (PostgreSQL) so that two campaigns added at once for one desk
    are checked one after the other, not both against the state before either."""
    ids = [d.id for d in desks if d.id is not None]
    if ids:
        db.session.execute(select(Desk.id).where(Desk.id.in_(ids)).with_for_update())


def overlap_problems(
    pairs: Iterable[tuple[int, int]],
    desks: Sequence[Desk],
    starts_on: dt.date,
    ends_on: dt.date,
) -> list[Problem]:
    """One ``setup.campaign_overlap`` per other campaign: its code, name and period, the
    desks in common and the first and last day the two would both run."""
    by_other: dict[int, list[int]] = {}
    for desk_id, other_id in sorted(pairs):
        by_other.setdefault(other_id, []).append(desk_id)
    names = {d.id: f"{d.code} ({d.name})" for d in desks}
    problems = []
    for other_id, desk_ids in by_other.items():
        other = db.session.get_one(Campaign, other_id)
        problems.append(
            Problem(
                "setup.campaign_overlap",
                MappingProxyType(
                    {
                        "other": other.code,
                        "other_name": other.name,
                        "other_starts": other.starts_on,
                        "other_ends": other.ends_on,
                        "first": max(starts_on, other.starts_on),
                        "last": min(ends_on, other.ends_on),
                        "desks": ", ".join(names[i] for i in desk_ids),
                    }
                ),
                "desks",
            )
        )
    return problems


@dataclass(frozen=True)
class PosterToday:
    """What a desk's poster opens today (``running``, None for nothing) and the
    campaign that comes next at the desk (None for none)."""

    running: Campaign | None
    following: Campaign | None


def poster_campaign(campaigns: Sequence[Campaign], today: dt.date) -> PosterToday:
    """From a desk's campaigns: the one running today (the most recently started, as the
    poster picks it) and the next one to start after it, or after today."""
    running = max(
        (c for c in campaigns if c.starts_on <= today <= c.ends_on),
        key=lambda c: (c.starts_on, c.id),
        default=None,
    )
    after = running.ends_on if running is not None else today
    following = min(
        (c for c in campaigns if c.starts_on > after),
        key=lambda c: (c.starts_on, c.id),
        default=None,
    )
    return PosterToday(running, following)
