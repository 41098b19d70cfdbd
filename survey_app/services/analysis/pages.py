"""Pages: everything a dashboard page shows, assembled from one view's results."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select

from scoring.questionnaire import Questionnaire
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, StaffUser
from survey_app.services.analysis.designs import design_for
from survey_app.services.analysis.periods import (
    Comparison,
    Period,
    campaign_periods,
    previous_period,
)
from survey_app.services.analysis.results import MIN_N, NodeResult
from survey_app.services.analysis.views import (
    Change,
    ComparedSettings,
    GroupRow,
    View,
    changes,
    compare_with,
    comparison_tree,
    group_rows,
    in_answer_order,
    make_view,
    view_tables,
    view_tree,
)

# Respondent questions the dashboard breaks the index down by, when the questionnaire has them.
BREAKDOWN_VARIABLES = ("gender", "age_group", "field")


def timeline(view: View) -> list[tuple[str, int]]:
    """Responses per week (periods up to ~3 months) or per month."""
    stamps = view.frame.loc[view.mask, "submitted_at"]
    days = (view.period.end - view.period.start).days
    if days <= 100:
        start = pd.Timestamp(view.period.start)
        weeks = ((stamps - start).dt.days // 7).value_counts()
        count = days // 7 + 1
        return [
            ((start + pd.Timedelta(days=7 * k)).strftime("%d/%m"), int(weeks.get(k, 0)))
            for k in range(count)
        ]
    months = stamps.dt.to_period("M").value_counts()
    out = []
    for p in pd.period_range(view.period.start, view.period.end, freq="M"):
        out.append((f"{p.month:02d}/{p.year}", int(months.get(p, 0))))
    return out


def option_labels(questionnaire: Questionnaire, code: str) -> dict[object, str]:
    for item in (*questionnaire.respondent, *questionnaire.items):
        if item.code == code:
            return {o.code: o.label.get("vi", str(o.code)) for o in item.options}
    return {}


def names(model: type[Desk] | type[Agency], codes: Iterable[str]) -> dict[object, str]:
    """Names of the desks or agencies with these codes, by code."""
    rows = db.session.execute(select(model.code, model.name).where(model.code.in_(list(codes))))
    return {code: name for code, name in rows}


def weakest_criteria(tree: NodeResult) -> list[NodeResult]:
    """Tiêu chí thấp điểm: the tree's criteria from the lowest index up (no answers: last)."""
    criteria = [n for n in tree.walk() if n.is_criterion]
    return sorted(criteria, key=lambda n: n.estimate if np.isfinite(n.estimate) else float("inf"))


@dataclass
class Dashboard:
    view: View
    periods: list[Period]
    comparison: Comparison | None
    tree: NodeResult
    previous: NodeResult | None
    weakest: list[NodeResult]
    desks: list[GroupRow]
    agencies: list[GroupRow]
    breakdowns: list[tuple[str, list[GroupRow]]]
    changes: list[Change]
    timeline: list[tuple[str, int]]
    compared: ComparedSettings | None = None


def breakdown_rows(view: View, code: str) -> list[GroupRow]:
    """The index per answer of a respondent question, in the questionnaire's order."""
    labels = option_labels(view.questionnaire, code)
    return in_answer_order(group_rows(view, code, labels), labels)


def dashboard(view: View, *, own_settings: bool = False) -> Dashboard:
    """Everything the dashboard page shows of ``view``, from one frame and one design.

    The comparison period is computed with this period's settings unless ``own_settings``
    (see :func:`~survey_app.services.analysis.views.compare_with`)."""
    campaign, period = view.campaign, view.period
    respondent_codes = {i.code: i for i in view.questionnaire.respondent}
    breakdown_codes = [c for c in BREAKDOWN_VARIABLES if c in respondent_codes]
    view_tables(view, [None, "desk", "agency", *breakdown_codes])
    tree = view_tree(view)
    comparison = previous_period(campaign, period)
    compared = (
        None if comparison is None else compare_with(view, comparison, own_settings=own_settings)
    )
    previous = None if compared is None else compared.tree
    weakest = weakest_criteria(tree)
    frame = view.frame[view.mask]
    desks = group_rows(view, "desk", names(Desk, frame["desk"].unique())) if view.n else []
    agencies = group_rows(view, "agency", names(Agency, frame["agency"].unique())) if view.n else []
    breakdowns = []
    for code in breakdown_codes:
        if view.n:
            label = respondent_codes[code].text.get("vi", code)
            breakdowns.append((label, breakdown_rows(view, code)))
    return Dashboard(
        view=view,
        periods=campaign_periods(campaign),
        comparison=comparison,
        tree=tree,
        previous=previous,
        weakest=weakest,
        desks=desks,
        agencies=agencies,
        breakdowns=breakdowns,
        changes=changes(tree, previous),
        timeline=timeline(view),
        compared=None if compared is None else compared.settings,
    )


# ------------------------------------------------------------------ the staff home page
@dataclass
class Headline:
    """A campaign in a line of the home page: the dashboard's overall index (whole campaign,
    the user's scope), its change since the previous period and the weakest criterion.

    ``overall`` is None when the view has fewer than ``MIN_N`` responses: too few to state
    an index, which the page says instead of a number.
    """

    view: View
    overall: NodeResult | None
    comparison: Comparison | None
    change: Change | None
    weakest: NodeResult | None


def headline(campaign: Campaign, user: StaffUser) -> Headline:
    """The figures of the dashboard's first screen for ``campaign``, from the same cached
    trees (a home page after the dashboard computes nothing new)."""
    period = campaign_periods(campaign)[0]  # the whole campaign, the dashboard's default
    view = make_view(campaign, user, period)
    if view.n < MIN_N:
        return Headline(view, None, None, None, None)
    tree = view_tree(view)
    comparison = previous_period(campaign, period)
    previous = comparison_tree(view, comparison)
    change = next((c for c in changes(tree, previous) if c.code == tree.code), None)
    weakest = next(iter(weakest_criteria(tree)), None)
    return Headline(view, tree, comparison if previous else None, change, weakest)


# ------------------------------------------------------------------ drill-down
@dataclass
class ItemDistribution:
    node: NodeResult
    options: list[tuple[str, int, float, bool]]  # label, count, weighted share, valid


def criterion_detail(view: View, node_code: str) -> tuple[NodeResult, list[ItemDistribution]]:
    """One criterion's items, each with its index and its answers in the view.

    Each option has its count of responses and its share of the item's answers
    weighted by the design's (calibrated) weights, so the distribution agrees
    with the index beside it; without weighting every response weighs 1.
    """
    tree = view_tree(view)
    node = tree.find(node_code)
    if node is None:
        raise KeyError(node_code)
    frame = view.frame[view.mask]
    weights = design_for(view.frame, view.settings).weights[view.mask]
    items = []
    for leaf in [n for n in node.walk() if n.is_leaf]:
        item = view.questionnaire.item(leaf.code)
        codes = frame[leaf.code].to_numpy() if leaf.code in frame else np.array([])
        answered = weights[~np.isnan(codes)].sum() if codes.size else 0.0
        options = []
        for option in item.options:
            chosen = codes == option.code
            options.append(
                (
                    option.label.get("vi", str(option.code)),
                    int(chosen.sum()),
                    float(weights[chosen].sum() / answered) if answered else 0.0,
                    option.valid,
                )
            )
        items.append(ItemDistribution(leaf, options))
    return node, items
