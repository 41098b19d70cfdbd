"""A criterion's action page (trang hành động theo tiêu chí): where it is weak and what
the citizens who scored it low wrote.

The desk and agency tables are the dashboard's own index tables of the view
(:func:`~.views.view_table` by desk, by agency), read for the criterion and its
items: a desk's criterion index here is the one its dashboard row is computed from.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Desk
from survey_app.services.analysis.cache import memo
from survey_app.services.analysis.results import MIN_N, NodeResult
from survey_app.services.analysis.views import (
    RESULTS_KEPT,
    GroupRow,
    View,
    cached,
    label_key,
    overlap_groups,
    tier_letter,
    view_table,
)
from survey_app.services.report.comments import MIN_RESPONSES, mask

# Answers at or below this score (of 1-5) are "low" on the action page.
LOW_SCORE = 2
# Low-score comments quoted on the action page (the comments page lists them all).
QUOTED = 5


@dataclass
class HeatRow:
    """A desk or an agency: the criterion's and each item's result there."""

    code: str
    label: str
    cells: list[NodeResult]  # the criterion first, then its items
    group: int | None  # overlap group of the criterion index; None: too few answers to rank

    @property
    def criterion(self) -> NodeResult:
        return self.cells[0]

    @property
    def tier(self) -> str | None:
        """The overlap group as the dashboard names it (mức A, B, ...); None: not ranked."""
        return None if self.group is None else tier_letter(self.group)


def heat_rows(view: View, node: NodeResult, by: str, labels: Mapping[object, str]) -> list[HeatRow]:
    """The criterion ``node`` and its items per ``by`` (desk, agency) in the view.

    Rows with at least :data:`~.results.MIN_N` answers to the criterion are ranked
    by its index, best first, in overlap groups as the dashboard numbers desks;
    smaller ones follow, unranked, by name.
    """

    def compute() -> list[HeatRow]:
        codes = [node.code, *(c.code for c in node.children)]
        table = view_table(view, by)
        table = table[table["node"].isin(codes)]
        found: dict[object, dict[str, NodeResult]] = {}
        for r in table.to_dict("records"):
            cells = found.setdefault(r["level"], {})
            template = node if r["node"] == node.code else node.find(str(r["node"]))
            assert template is not None
            cells[str(r["node"])] = NodeResult.from_row(
                r, template.code, template.label, template.depth, template.is_leaf
            )
        rows = []
        for level, cells in found.items():
            key = label_key(level)
            ordered = [cells.get(code) or _empty(node, code) for code in codes]
            rows.append(HeatRow(str(key), labels.get(key, str(key)), ordered, None))
        ranked = [r for r in rows if r.criterion.n >= MIN_N and np.isfinite(r.criterion.estimate)]
        ranked.sort(key=lambda r: -r.criterion.estimate)
        groups = overlap_groups([GroupRow(r.code, r.label, r.criterion) for r in ranked])
        for row, grouped in zip(ranked, groups, strict=True):
            row.group = grouped.group
        small = sorted((r for r in rows if r.group is None), key=lambda r: r.label)
        return ranked + small

    return cached(memo("heat_rows", RESULTS_KEPT), view.key("heat", node.code, by), compute)


def _empty(node: NodeResult, code: str) -> NodeResult:
    """A node without answers in a domain (shown as a dash, n = 0)."""
    template = node.find(code)
    assert template is not None
    return NodeResult.from_row({}, code, template.label, template.depth, template.is_leaf)


@dataclass
class LowComment:
    day: dt.date
    text: str


def low_score_comments(
    view: View, node: NodeResult, max_score: int = LOW_SCORE, limit: int = QUOTED
) -> tuple[list[LowComment], int]:
    """Comments of the respondents who gave one of the criterion's items a valid score at
    or below ``max_score``: the newest ``limit`` of them, masked as the survey report
    masks quotes (no desk, and the day only: never the desk and the minute together),
    and how many there are in all. None are quoted when the view has fewer than the
    report's minimum of responses (a small desk's few respondents are known to its staff).
    """

    def compute() -> pd.DataFrame:
        frame = view.frame[view.mask]
        low = np.zeros(len(frame), dtype=bool)
        for leaf in (n for n in node.walk() if n.is_leaf and n.code in frame):
            item = view.questionnaire.item(leaf.code)
            valid = [o.code for o in item.options if o.valid and o.code <= max_score]
            low |= frame[leaf.code].isin(valid).to_numpy()
        chosen = frame.loc[low, ["submission_id", "submitted_at"]]
        if view.comments.empty or chosen.empty:
            return chosen.iloc[0:0].assign(text="")
        found = view.comments.merge(chosen, on="submission_id")
        found = found[found["text"].fillna("").str.strip() != ""]
        return found.sort_values(["submitted_at", "submission_id"], ascending=False)

    if view.n < MIN_RESPONSES:
        return [], 0
    key = view.key("low comments", node.code, max_score)
    found = cached(memo("low_comments", RESULTS_KEPT), key, compute)
    desks = _desk_words(view)
    quoted = [
        LowComment(pd.Timestamp(at).date(), mask(str(text), desks))
        for at, text in zip(found["submitted_at"][:limit], found["text"][:limit], strict=True)
    ]
    return quoted, len(found)


def _desk_words(view: View) -> list[str]:
    """The campaign's desk codes and names, masked wherever a comment names them."""
    rows = db.session.execute(
        select(Desk.code, Desk.name).where(Desk.code.in_(list(view.frame["desk"].unique())))
    )
    return [word for pair in rows for word in pair]
