"""Periods (kỳ): the campaign, its years, quarters and months, and what each is compared with."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import Select, select

from survey_app.extensions import db
from survey_app.models import Campaign, QuestionnaireVersion


@dataclass(frozen=True)
class Period:
    """A bucket of submitted_at: the whole campaign, a year, a quarter or a month."""

    code: str
    label: str
    start: dt.date
    end: dt.date  # inclusive
    kind: str  # campaign | year | quarter | month


def _month_end(year: int, month: int) -> dt.date:
    if month == 12:
        return dt.date(year, 12, 31)
    return dt.date(year, month + 1, 1) - dt.timedelta(days=1)


def campaign_periods(campaign: Campaign) -> list[Period]:
    """The campaign, its years, quarters and months (clipped to the campaign's dates)."""
    start, end = campaign.starts_on, campaign.ends_on
    out = [Period("all", "Toàn đợt khảo sát", start, end, "campaign")]
    years = range(start.year, end.year + 1)
    if len(years) > 1:
        for y in years:
            out.append(
                Period(
                    str(y),
                    f"Năm {y}",
                    max(start, dt.date(y, 1, 1)),
                    min(end, dt.date(y, 12, 31)),
                    "year",
                )
            )
    for y in years:
        for q in range(1, 5):
            q_start, q_end = dt.date(y, 3 * q - 2, 1), _month_end(y, 3 * q)
            if q_end >= start and q_start <= end:
                out.append(
                    Period(
                        f"{y}-Q{q}", f"Quý {q}/{y}", max(start, q_start), min(end, q_end), "quarter"
                    )
                )
    for y in years:
        for m in range(1, 13):
            m_start, m_end = dt.date(y, m, 1), _month_end(y, m)
            if m_end >= start and m_start <= end:
                out.append(
                    Period(
                        f"{y}-{m:02d}",
                        f"Tháng {m}/{y}",
                        max(start, m_start),
                        min(end, m_end),
                        "month",
                    )
                )
    return out


def find_period(campaign: Campaign, code: str | None) -> Period | None:
    """The period with this code; None if the code is unknown."""
    for period in campaign_periods(campaign):
        if period.code == (code or "all"):
            return period
    return None


@dataclass(frozen=True)
class Comparison:
    """What a period is compared with: an earlier bucket, or the previous campaign."""

    campaign: Campaign
    period: Period
    same_campaign: bool

    @property
    def label(self) -> str:
        if self.same_campaign:
            return self.period.label
        return f"{self.campaign.name} ({self.period.label.lower()})"


def same_series(campaign: Campaign) -> Select[Campaign]:
    """The other campaigns of the same scope (kỳ trước, kỳ sau): the same agency's
    campaigns of the same questionnaire (any version)."""
    return (
        select(Campaign)
        .join(QuestionnaireVersion, QuestionnaireVersion.id == Campaign.questionnaire_version_id)
        .where(
            Campaign.id != campaign.id,
            Campaign.agency_id == campaign.agency_id,
            QuestionnaireVersion.questionnaire_id
            == campaign.questionnaire_version.questionnaire_id,
        )
    )


def previous_period(campaign: Campaign, period: Period) -> Comparison | None:
    """The bucket before ``period`` in this campaign, else the previous campaign.

    The previous campaign is the same scope's previous period (kỳ trước): the
    latest campaign of the same agency with the same questionnaire (any version)
    that ended before this one started. Another agency's campaign is never
    compared with, whoever looks; an officer sees the previous one only through
    the same domain rules as this one.
    """
    if period.kind != "campaign":
        same_kind = [p for p in campaign_periods(campaign) if p.kind == period.kind]
        earlier = [p for p in same_kind if p.end < period.start]
        if earlier:
            return Comparison(campaign, earlier[-1], True)
    other = db.session.scalar(
        same_series(campaign)
        .where(Campaign.ends_on < campaign.starts_on)
        .order_by(Campaign.ends_on.desc(), Campaign.id.desc())
        .limit(1)
    )
    return None if other is None else Comparison(other, campaign_periods(other)[0], False)


def in_period(frame: pd.DataFrame, period: Period) -> NDArray[np.bool_]:
    """Rows submitted within the period (inclusive dates)."""
    stamps = frame["submitted_at"]
    start = pd.Timestamp(period.start)
    stop = pd.Timestamp(period.end) + pd.Timedelta(days=1)
    return ((stamps >= start) & (stamps < stop)).to_numpy()
