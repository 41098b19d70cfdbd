"""Results: scoring's long index table as a tree of :class:`NodeResult`, shares in [0, 1]."""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from flask_babel import lazy_gettext

from scoring.questionnaire import IndexNode, Questionnaire
from survey_app.services.errors import ServiceError

LEVEL_NAMES = ("Tổng thể", "Nhóm", "Tiêu chí")
LEAF_LEVEL = "Câu hỏi"
# Below these, the dashboard warns that an interval is too wide to conclude.
MIN_N = 30
MAX_HALF_WIDTH = 0.05
WIDE_WARNING = lazy_gettext("Khoảng tin cậy rộng, chưa đủ cơ sở kết luận")
# The columns of scoring's index table (compute_index_tree).
TABLE_COLUMNS = (
    "node",
    "domain",
    "level",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "deff",
    "note",
)


class AnalysisError(ServiceError):
    """The campaign's data cannot be analysed as set (codes ``analysis.*``, texts in
    ``survey_app.messages.analysis``)."""


@dataclass
class NodeResult:
    """One index node in one domain, as scoring computed it (shares in [0, 1])."""

    code: str
    label: str
    depth: int
    is_leaf: bool
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    df: int
    deff: float
    note: str = ""
    children: list[NodeResult] = field(default_factory=list)

    @classmethod
    def from_row(
        cls,
        row: Mapping[Hashable, object],
        code: str,
        label: str,
        depth: int,
        is_leaf: bool,
        children: list[NodeResult] | None = None,
    ) -> NodeResult:
        """The node from a row of scoring's index table (missing figures: NaN and 0)."""
        return cls(
            code=code,
            label=label,
            depth=depth,
            is_leaf=is_leaf,
            estimate=as_float(row.get("estimate")),
            se=as_float(row.get("se")),
            ci_low=as_float(row.get("ci_low")),
            ci_high=as_float(row.get("ci_high")),
            n=as_count(row.get("n")),
            df=as_count(row.get("df")),
            deff=as_float(row.get("deff")),
            note=str(row.get("note") or ""),
            children=children or [],
        )

    @property
    def level_name(self) -> str:
        if self.is_leaf:
            return LEAF_LEVEL
        return LEVEL_NAMES[min(self.depth, len(LEVEL_NAMES) - 1)]

    @property
    def is_criterion(self) -> bool:
        """Tiêu chí: a node whose children are items."""
        return not self.is_leaf and bool(self.children) and all(c.is_leaf for c in self.children)

    @property
    def wide(self) -> bool:
        """Too uncertain to conclude: n < 30 or a half-width above 5 points."""
        if self.n < MIN_N or not (np.isfinite(self.ci_low) and np.isfinite(self.ci_high)):
            return True
        return (self.ci_high - self.ci_low) / 2 > MAX_HALF_WIDTH

    def pct(self, name: str = "estimate") -> float:
        return float(getattr(self, name)) * 100.0

    def walk(self) -> Iterable[NodeResult]:
        yield self
        for child in self.children:
            yield from child.walk()

    def find(self, code: str) -> NodeResult | None:
        return next((n for n in self.walk() if n.code == code), None)


def tree_from_table(
    table: pd.DataFrame, questionnaire: Questionnaire, domain: object
) -> NodeResult:
    """The index tree of one domain, nodes in questionnaire order."""
    assert questionnaire.index is not None
    rows = table[table["level"] == domain] if domain is not None else table
    by_node = {str(r["node"]): r for r in rows.to_dict("records")}

    def build(node: IndexNode, depth: int) -> NodeResult:
        label = node.label.get("vi", node.code)
        if node.is_leaf and node.item is not None:
            label = questionnaire.item(node.item).text.get("vi", node.code)
        children = [build(c, depth + 1) for c in node.children]
        row = by_node.get(node.code, {})
        return NodeResult.from_row(row, node.code, label, depth, node.is_leaf, children)

    return build(questionnaire.index, 0)


def empty_table() -> pd.DataFrame:
    """An index table without rows (a domain with no responses)."""
    return pd.DataFrame(columns=list(TABLE_COLUMNS))


def as_float(value: object) -> float:
    """A figure of the table as a float; NaN when missing or not a number."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")


def as_count(value: object) -> int:
    """A count of the table (n, df) as an int; 0 when missing."""
    v = as_float(value)
    return int(v) if np.isfinite(v) else 0
