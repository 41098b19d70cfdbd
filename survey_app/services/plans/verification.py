"""Verification at the next period (đánh giá kết quả thực hiện kế hoạch).

When a later period of the plan's campaign, or the next campaign of the same agency and
questionnaire, has answers in the plan's scope, each row shows its criterion there: the
index and its interval, the change since the plan's period with the dashboard's test
(:func:`scoring.compare.difference_test`, as ``analysis.views.changes`` applies it), and
whether the target was reached.

Like with like, as the dashboard compares periods (:func:`analysis.views.compare_with`):
the plan's period is computed again with the follow-up's weighting settings, so that a
change is not an artefact of a new weighting; with its own campaign's settings when those
cannot be applied to its answers, or when asked (``own_settings``).

The verdict rule (:func:`verdict`), on the follow-up index's confidence interval
``[low, high]`` and the target ``t``:

- đạt (reached): ``low >= t``, the whole interval at or above the target;
- chưa đạt (not reached): ``high < t``, the whole interval below it;
- chưa đủ cơ sở kết luận (inconclusive): the interval contains the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext
from scipy import stats

from scoring.compare import Difference, difference_test
from scoring.questionnaire import Questionnaire
from survey_app.extensions import db
from survey_app.models import Campaign, PlanRow, RemediationPlan
from survey_app.services.analysis import (
    AnalysisError,
    ComparedSettings,
    Comparison,
    NodeResult,
    Period,
    View,
    campaign_periods,
    compare_with,
    same_series,
    scope_view,
    subtree_codes,
    view_tree,
)
from survey_app.services.plans.editing import plan_period

REACHED, NOT_REACHED, INCONCLUSIVE = "reached", "not_reached", "inconclusive"
VERDICT_LABELS = {
    REACHED: lazy_gettext("Đạt"),
    NOT_REACHED: lazy_gettext("Chưa đạt"),
    INCONCLUSIVE: lazy_gettext("Chưa đủ cơ sở kết luận"),
}
RULE = lazy_gettext(
    "Đạt: cả khoảng tin cậy của chỉ số kỳ sau nằm từ mục tiêu trở lên. Chưa đạt: cả khoảng "
    "tin cậy nằm dưới mục tiêu. Chưa đủ cơ sở kết luận: khoảng tin cậy chứa mục tiêu (số "
    "phiếu chưa đủ để khẳng định). Thay đổi so với kỳ lập kế hoạch được kiểm định như trên "
    "bảng điều khiển: chênh lệch / √(SE₁² + SE₂²), hai phía, mức ý nghĩa 5%."
)


def verdict(ci_low: float, ci_high: float, target: float) -> str | None:
    """Reached, not reached or inconclusive, by the interval (shares) and the target
    (share); None when the interval is unknown."""
    if not (math.isfinite(ci_low) and math.isfinite(ci_high)):
        return None
    if ci_low >= target:
        return REACHED
    if ci_high < target:
        return NOT_REACHED
    return INCONCLUSIVE


def difference_interval(test: Difference, level: float) -> tuple[float, float]:
    """The change's interval: ``d ± q·se(d)``, ``q`` from Student's t with the test's
    degrees of freedom (the normal when they are infinite), as the test's reference."""
    tail = 1 - (1 - level) / 2
    q = stats.norm.ppf(tail) if not math.isfinite(test.df) else stats.t.ppf(tail, test.df)
    return test.difference - q * test.se, test.difference + q * test.se


@dataclass(frozen=True)
class FollowUp:
    """Where the plan is checked: a campaign and period with answers in its scope, and the
    plan's period as it is compared with it (``settings``: how it was computed)."""

    campaign: Campaign
    period: Period
    same_campaign: bool
    level: float
    tree: NodeResult
    baseline: NodeResult
    settings: ComparedSettings
    questionnaire: Questionnaire

    @property
    def comparison(self) -> Comparison:
        """The follow-up as the dashboard names a compared period."""
        return Comparison(self.campaign, self.period, self.same_campaign)


@dataclass(frozen=True)
class RowCheck:
    row: PlanRow
    baseline: NodeResult | None
    current: NodeResult | None
    test: Difference | None
    interval: tuple[float, float] | None
    verdict: str | None

    @property
    def verdict_label(self) -> str:
        return str(VERDICT_LABELS[self.verdict]) if self.verdict else ""


def _answered(campaign: Campaign, period: Period, codes: frozenset[str]) -> View | None:
    """The scope's view of the period when it has answers and its indices can be computed."""
    view = scope_view(campaign, period, codes)
    if view.n == 0:
        return None
    try:
        view_tree(view)
    except AnalysisError:
        return None
    return view


def next_campaign(campaign: Campaign) -> Campaign | None:
    """The same agency's next campaign of the same questionnaire (any version)."""
    return db.session.scalar(
        same_series(campaign)
        .where(Campaign.starts_on > campaign.ends_on)
        .order_by(Campaign.starts_on, Campaign.id)
        .limit(1)
    )


def _later(plan: RemediationPlan, base: Period, codes: frozenset[str]) -> View | None:
    """The first later period of the plan's kind with answers in its scope, else the next
    campaign (whole span)."""
    if base.kind != "campaign":
        for period in campaign_periods(plan.campaign):
            if period.kind == base.kind and period.start > base.end:
                found = _answered(plan.campaign, period, codes)
                if found is not None:
                    return found
    other = next_campaign(plan.campaign)
    if other is None:
        return None
    return _answered(other, campaign_periods(other)[0], codes)


def follow_up(plan: RemediationPlan, *, own_settings: bool = False) -> FollowUp | None:
    """The plan's follow-up (see :func:`_later`), its period computed with the follow-up's
    settings unless ``own_settings``; None while the plan's period or the follow-up has no
    answers in its scope."""
    base = plan_period(plan)
    codes = subtree_codes(plan.agency)
    if scope_view(plan.campaign, base, codes).n == 0:
        return None
    later = _later(plan, base, codes)
    if later is None:
        return None
    same_campaign = later.campaign.id == plan.campaign.id
    compared = compare_with(
        later, Comparison(plan.campaign, base, same_campaign), own_settings=own_settings
    )
    if compared.tree is None:
        return None
    return FollowUp(
        campaign=later.campaign,
        period=later.period,
        same_campaign=same_campaign,
        level=later.settings.level,
        tree=view_tree(later),
        baseline=compared.tree,
        settings=compared.settings,
        questionnaire=later.questionnaire,
    )


def check_row(row: PlanRow, follow: FollowUp) -> RowCheck:
    before = follow.baseline.find(row.criterion)
    now = follow.tree.find(row.criterion)
    test = interval = None
    if before is not None and now is not None:
        test = difference_test(now.estimate, now.se, before.estimate, before.se, now.df, before.df)
        if math.isfinite(test.se):
            interval = difference_interval(test, follow.level)
    result = None
    if now is not None and row.target is not None:
        result = verdict(now.ci_low, now.ci_high, float(row.target / Decimal(100)))
    return RowCheck(row, before, now, test, interval, result)


def verify(
    plan: RemediationPlan, *, own_settings: bool = False
) -> tuple[FollowUp | None, list[RowCheck]]:
    """The follow-up and each row's check (empty while there is no follow-up); the plan's
    period with the follow-up's settings unless ``own_settings``."""
    follow = follow_up(plan, own_settings=own_settings)
    if follow is None:
        return None, []
    return follow, [check_row(row, follow) for row in plan.rows]
