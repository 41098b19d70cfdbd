"""Trends (xu hướng): the index tree of one agency scope over the campaign's months or
quarters and over the previous campaigns of the same series, each with its interval.

The campaign's periods are domains of its one design (as the dashboard's period
filter makes them), all computed by scoring in one call; a previous campaign is
its own design as its dashboard shows it (its whole span, its weighting settings).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from survey_app.caching import Cache
from survey_app.extensions import db
from survey_app.models import Campaign
from survey_app.services.analysis.cache import campaign_lock, memo
from survey_app.services.analysis.designs import design_for
from survey_app.services.analysis.periods import (
    Period,
    campaign_periods,
    find_period,
    in_period,
    same_series,
)
from survey_app.services.analysis.results import AnalysisError, NodeResult, tree_from_table
from survey_app.services.analysis.views import (
    RESULTS_KEPT,
    Key,
    View,
    cached,
    index_table,
    view_tree,
)
from survey_app.services.weighting_settings import WeightingSettings

TREND_KINDS = ("month", "quarter")
# A campaign up to this many months long is followed month by month, a longer one by quarter.
MONTHLY_UP_TO = 12
# Previous campaigns shown (their responses are loaded too: the frame cache keeps a few).
PREVIOUS_CAMPAIGNS = 3
# The domain column the periods are in, in the design's data.
PERIOD_COLUMN = "_trend:period"


@dataclass
class TrendPoint:
    """One point of the trend: a period of this campaign or a previous campaign."""

    campaign: Campaign
    period: Period
    same_campaign: bool
    settings: WeightingSettings
    tree: NodeResult | None  # None: no responses in the scope

    def find(self, code: str) -> NodeResult | None:
        return None if self.tree is None else self.tree.find(code)


@dataclass
class Trend:
    """The points in time order (previous campaigns first), and what they were split by."""

    kind: str  # month | quarter
    points: list[TrendPoint]

    def series(self, code: str) -> list[NodeResult | None]:
        """The node's result at each point (None: no responses, or not in that questionnaire)."""
        return [p.find(code) for p in self.points]

    @property
    def mixed_settings(self) -> list[TrendPoint]:
        """One point per campaign whose weighting settings differ from this campaign's
        (empty when every point was computed the same way)."""
        own = self.points[-1].settings.key() if self.points else ""
        seen: set[int] = set()
        out = []
        for point in self.points:
            if point.settings.key() != own and point.campaign.id not in seen:
                seen.add(point.campaign.id)
                out.append(point)
        return out


def default_kind(campaign: Campaign) -> str:
    """Months for a campaign up to a year long, else quarters."""
    months = [p for p in campaign_periods(campaign) if p.kind == "month"]
    return "month" if len(months) <= MONTHLY_UP_TO else "quarter"


def trend(view: View, kind: str | None = None) -> Trend:
    """The view's agency scope over the campaign's periods of ``kind`` (default:
    :func:`default_kind`) and over up to :data:`PREVIOUS_CAMPAIGNS` earlier campaigns of
    the same series. The view's own period does not restrict the trend.

    The periods are kept per frame, settings and scope (not per period asked for); an
    earlier campaign's tree is its dashboard's, kept under its own data version.
    """
    kind = kind if kind in TREND_KINDS else default_kind(view.campaign)
    assert kind is not None
    earlier = [_campaign_point(view, c) for c in _previous(view.campaign)]
    key = view.scope_key("trend", kind)
    kept: Cache[Key, list[TrendPoint]] = memo("trends", RESULTS_KEPT)
    periods = kept.get(key)
    if periods is None:
        # Concurrent requests wait for one computation (the cache is checked again inside).
        with campaign_lock(view.campaign.id):
            periods = cached(kept, key, lambda: _period_points(view, kind))
    return Trend(kind, [*earlier, *periods])


def _previous(campaign: Campaign) -> list[Campaign]:
    """The latest campaigns of the series that started before this one, oldest first."""
    found = db.session.scalars(
        same_series(campaign)
        .where(Campaign.starts_on < campaign.starts_on)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(PREVIOUS_CAMPAIGNS)
    )
    return list(reversed(list(found)))


def _campaign_point(view: View, campaign: Campaign) -> TrendPoint:
    """A previous campaign over its whole span, in the view's scope."""
    period = find_period(campaign, "all")
    assert period is not None
    other = view.same_scope(campaign, period)
    tree = None
    if other.n:
        try:
            tree = view_tree(other)
        except AnalysisError:  # its answers cannot be analysed as set: no point
            tree = None
    return TrendPoint(campaign, period, False, other.settings, tree)


def _period_points(view: View, kind: str) -> list[TrendPoint]:
    """Each period of ``kind`` as a domain of the campaign design, in one scoring call."""
    periods = [p for p in campaign_periods(view.campaign) if p.kind == kind]
    frame = view.frame
    scope = view.scope_mask()
    column = pd.Series(None, index=frame.index, dtype=object)
    present = []
    for period in periods:
        inside = scope & in_period(frame, period)
        if inside.any():
            column[inside] = period.code
            present.append(period.code)
    trees: dict[str, NodeResult] = {}
    if present:
        design = design_for(frame, view.settings).with_columns(**{PERIOD_COLUMN: column})
        table = index_table(design, view.questionnaire, [PERIOD_COLUMN], view.settings)
        for code in present:
            trees[code] = tree_from_table(table, view.questionnaire, code)
    return [TrendPoint(view.campaign, p, True, view.settings, trees.get(p.code)) for p in periods]
