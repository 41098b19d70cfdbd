"""Views: what one user may see of one campaign in one period, and its index tables.

An officer's view is a *domain* of the whole campaign design (the period, the
officer's agency subtree), never a design built on fewer rows, so its standard
errors match R's ``subset()``. Tables are computed by scoring, every domain
partition in one call, and kept per app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sqlalchemy import select

from scoring.compare import Difference, difference_test
from scoring.design import SurveyDesign
from scoring.errors import ScoringError
from scoring.index_tree import compute_index_tree
from scoring.questionnaire import Questionnaire
from survey_app.access import visible_agency_ids
from survey_app.caching import Cache
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, StaffUser
from survey_app.services.analysis.cache import campaign_lock, frames, memo
from survey_app.services.analysis.designs import build_design, design_for
from survey_app.services.analysis.periods import Comparison, Period, in_period
from survey_app.services.analysis.results import (
    AnalysisError,
    NodeResult,
    empty_table,
    tree_from_table,
)
from survey_app.services.organisation import subtree_ids
from survey_app.services.questionnaires import definition
from survey_app.services.weighting_settings import WeightingSettings
from survey_app.services.weighting_settings import current as current_settings

T = TypeVar("T")
Key = tuple[object, ...]
# Name prefix of the domain columns a view adds to the design's data.
VIEW = "_view"
# Results kept per app: index tables, trees, group rows and comment lists of recent views.
TABLES_KEPT = 64
RESULTS_KEPT = 32


@dataclass
class View:
    """What one user sees of one campaign in one period."""

    campaign: Campaign
    questionnaire: Questionnaire
    settings: WeightingSettings
    period: Period
    agency_codes: frozenset[str] | None  # None: every agency
    frame: pd.DataFrame
    mask: NDArray[np.bool_]
    comments: pd.DataFrame = field(default_factory=pd.DataFrame)
    desk_code: str | None = None  # one desk of the agencies (quầy), None: all of them

    @property
    def settings_text(self) -> str:
        return self.settings.describe(self.questionnaire)

    @property
    def n(self) -> int:
        return int(self.mask.sum())

    def key(self, *parts: object) -> Key:
        return self.scope_key(self.period.code, *parts)

    def scope_mask(self) -> NDArray[np.bool_]:
        """The rows of the view's scope (its agencies, its desk) in any period."""
        mask = np.ones(len(self.frame), dtype=bool)
        if self.agency_codes is not None:
            mask &= self.frame["agency"].isin(self.agency_codes).to_numpy()
        if self.desk_code is not None:
            mask &= (self.frame["desk"] == self.desk_code).to_numpy()
        return mask

    def same_scope(self, campaign: Campaign, period: Period) -> View:
        """The view's scope in another period or campaign."""
        return scope_view(campaign, period, self.agency_codes, self.desk_code)

    def scope_key(self, *parts: object) -> Key:
        """A cache key of the view's data, settings and scope (agencies, desk), whatever the
        period."""
        return (
            self.campaign.id,
            id(self.frame),
            self.settings.key(),
            None if self.agency_codes is None else tuple(sorted(self.agency_codes)),
            self.desk_code,
            *parts,
        )


@dataclass
class GroupRow:
    """A desk, an agency or a respondent group, with its overall index."""

    code: str
    label: str
    result: NodeResult
    group: int = 0  # rows with the same number do not differ significantly

    @property
    def tier(self) -> str:
        """The overlap group as a letter (mức A, B, ..., Z, AA, ...): named apart from the
        questionnaire's groups of criteria (nhóm I, II, ...), which are numbered."""
        return tier_letter(self.group)


def tier_letter(group: int) -> str:
    """1 -> A, 26 -> Z, 27 -> AA (bijective base 26)."""
    letters = ""
    while group > 0:
        group, rest = divmod(group - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


@dataclass
class Change:
    """A node's change since the comparison period."""

    code: str
    label: str
    current: NodeResult
    previous: NodeResult
    test: Difference


def _tables() -> Cache[Key, pd.DataFrame]:
    return memo("tables", TABLES_KEPT)


def _trees() -> Cache[Key, NodeResult]:
    return memo("trees", RESULTS_KEPT)


def _groups() -> Cache[Key, list[GroupRow]]:
    return memo("groups", RESULTS_KEPT)


def cached(cache: Cache[Key, T], key: Key, compute: Callable[[], T]) -> T:
    """The value under ``key``, computed and kept when missing."""
    value = cache.get(key)
    if value is None:
        value = cache.put(key, compute())
    return value


def visible_agency_codes(user: StaffUser) -> frozenset[str] | None:
    """Codes of the agencies a user may see; None for every agency (admin, analyst)."""
    ids = visible_agency_ids(user)
    if ids is None:
        return None
    if not ids:
        return frozenset()
    return frozenset(db.session.scalars(select(Agency.code).where(Agency.id.in_(ids))))


def subtree_codes(agency: Agency) -> frozenset[str]:
    """Codes of an agency and every agency below it: the scope of its reports and plans."""
    ids = subtree_ids(agency.id)
    return frozenset(db.session.scalars(select(Agency.code).where(Agency.id.in_(ids))))


def make_view(campaign: Campaign, user: StaffUser, period: Period) -> View:
    return scope_view(campaign, period, visible_agency_codes(user))


def scope_view(
    campaign: Campaign, period: Period, codes: frozenset[str] | None, desk: str | None = None
) -> View:
    """The campaign in one period, restricted to the agencies ``codes`` (None: all of them)
    and to one ``desk`` of theirs (None: every desk): a domain of the whole design."""
    responses = frames.responses(campaign)
    frame = responses.frame
    mask = in_period(frame, period)
    if codes is not None:
        mask = mask & frame["agency"].isin(codes).to_numpy()
    if desk is not None:
        mask = mask & (frame["desk"] == desk).to_numpy()
    return View(
        campaign=campaign,
        questionnaire=definition(campaign.questionnaire_version),
        settings=current_settings(campaign),
        period=period,
        agency_codes=codes,
        frame=frame,
        mask=mask,
        comments=responses.comments,
        desk_code=desk,
    )


def index_table(
    design: SurveyDesign, questionnaire: Questionnaire, bys: list[str], settings: WeightingSettings
) -> pd.DataFrame:
    """The index tree of every domain of each ``bys`` column: a row per (node, domain, value).

    Columns: node, domain, level, estimate, se, ci_low, ci_high, df, n, deff, note.
    """
    try:
        return compute_index_tree(
            questionnaire,
            design,
            list(bys),
            level=settings.level,
            method=settings.ci_method,  # type: ignore[arg-type]
        )
    except ScoringError as error:
        raise AnalysisError.of("analysis.indices_failed", detail=str(error)) from None


def view_tree(view: View) -> NodeResult:
    """The index tree of the view's domain (period and agency subtree) of the campaign design."""

    def compute() -> NodeResult:
        table = view_tables(view, [None])[None]
        level = table["level"].iloc[0] if len(table) else None
        return tree_from_table(table, view.questionnaire, level)

    return cached(_trees(), view.key("tree"), compute)


def view_table(view: View, by: str | None = None) -> pd.DataFrame:
    """Scoring's long index table for the view (and per ``by`` domain within it)."""
    return view_tables(view, [by])[by]


def view_tables(view: View, bys: Iterable[str | None]) -> dict[str | None, pd.DataFrame]:
    """Index tables of the view split by each of ``bys`` (None: the view as one domain).

    Whatever is not cached yet is computed by scoring in one call (one pass
    over the rows for all the domain partitions).
    """
    bys = list(dict.fromkeys(bys))
    tables = _tables()
    out: dict[str | None, pd.DataFrame] = {}
    for by in bys:
        found = tables.get(view.key("table", by))
        if found is not None:
            out[by] = found
    if len(out) == len(bys):
        return out
    with campaign_lock(view.campaign.id):
        return _compute_tables(view, bys, out)


def _compute_tables(
    view: View, bys: list[str | None], out: dict[str | None, pd.DataFrame]
) -> dict[str | None, pd.DataFrame]:
    tables = _tables()
    missing = []
    for by in bys:
        found = tables.get(view.key("table", by))  # another thread may have computed it
        if found is None:
            missing.append(by)
        else:
            out[by] = found
    if not missing:
        return out
    design = design_for(view.frame, view.settings) if view.n else None
    for by, table in fresh_tables(view, missing, design).items():
        out[by] = tables.put(view.key("table", by), table)
    return out


def fresh_tables(
    view: View, bys: list[str | None], design: SurveyDesign | None = None
) -> dict[str | None, pd.DataFrame]:
    """Index tables of the view split by each of ``bys``, computed now and kept nowhere
    (``design``: the view's design when the caller has it, else built for its settings).

    One scoring call for every partition: one pass over the rows.
    """
    if view.n == 0:
        return {by: empty_table() for by in bys}
    if design is None:
        design = build_design(view.frame, view.settings)
    inside = pd.Series(view.mask, index=view.frame.index)
    columns = {}
    for by in bys:
        column = view.frame[by] if by else pd.Series(1.0, index=view.frame.index)
        columns[f"{VIEW}:{by or ''}"] = column.where(inside)
    table = index_table(
        design.with_columns(**columns), view.questionnaire, list(columns), view.settings
    )
    return {
        by: table[table["domain"] == name].reset_index(drop=True)
        for by, name in zip(bys, columns, strict=True)
    }


def group_rows(view: View, by: str, labels: Mapping[object, str]) -> list[GroupRow]:
    """Overall index per desk / agency / respondent group, with overlap groups."""

    def compute() -> list[GroupRow]:
        table = view_table(view, by)
        assert view.questionnaire.index is not None
        root = view.questionnaire.index
        label = root.label.get("vi", root.code)
        rows = []
        # Only the overall node of each group is shown: no need to build whole trees.
        for r in table[table["node"] == root.code].to_dict("records"):
            key = label_key(r["level"])
            node = NodeResult.from_row(r, root.code, label, depth=0, is_leaf=False)
            rows.append(GroupRow(str(key), labels.get(key, str(key)), node))
        rows.sort(key=lambda r: -r.result.estimate if np.isfinite(r.result.estimate) else 1e9)
        return overlap_groups(rows)

    return cached(_groups(), view.key("groups", by), compute)


def label_key(value: object) -> object:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def in_answer_order(rows: list[GroupRow], labels: Mapping[object, str]) -> list[GroupRow]:
    """Respondent groups in the questionnaire's order of the answers (age bands from the
    youngest), answers the questionnaire does not list last; overlap groups are kept."""
    order = {str(key): k for k, key in enumerate(labels)}
    return sorted(rows, key=lambda r: (order.get(r.code, len(order)), r.code))


def overlap_groups(rows: list[GroupRow]) -> list[GroupRow]:
    """Number rows (best first) into groups whose intervals overlap the group's leader.

    Nhóm "không khác biệt có ý nghĩa": within a group no ranking is claimed.
    Overlapping intervals are a conservative display rule, not a test.
    """
    group, leader = 0, None
    for row in rows:
        r = row.result
        if leader is None or not (np.isfinite(r.ci_high) and r.ci_high >= leader.ci_low):
            group += 1
            leader = r
        row.group = group
    return rows


def changes(current: NodeResult, previous: NodeResult | None) -> list[Change]:
    """Change of the overall index, the groups and the criteria since the comparison period."""
    if previous is None:
        return []
    out = []
    for node in current.walk():
        if node.is_leaf:
            continue
        before = previous.find(node.code)
        if before is None:
            continue
        test = difference_test(
            node.estimate, node.se, before.estimate, before.se, node.df, before.df
        )
        out.append(Change(node.code, node.label, node, before, test))
    return out


@dataclass(frozen=True)
class ComparedSettings:
    """The weighting and interval settings the comparison period was computed with.

    Like with like by default: a previous campaign weighted otherwise (or not at all) is
    computed again with this period's settings, so a change is not an artefact of the
    weighting. ``own`` keeps its saved settings, ``used`` says what was applied;
    ``refused``: this period's settings could not be applied to its answers (a margin
    cell nobody answered in), so its own were used.
    """

    current: WeightingSettings
    own: WeightingSettings
    used: WeightingSettings
    refused: bool = False

    @property
    def differ(self) -> bool:
        """The two campaigns are set to be computed differently."""
        return not same_computation(self.own, self.current)

    @property
    def like_with_like(self) -> bool:
        return same_computation(self.used, self.current)


def same_computation(a: WeightingSettings, b: WeightingSettings) -> bool:
    """Whether two settings compute the same figures (the margins file's name aside)."""
    return replace(a, margins_file=None).key() == replace(b, margins_file=None).key()


@dataclass(frozen=True)
class Compared:
    """The comparison period's index tree (None: no answers there) and how it was computed."""

    tree: NodeResult | None
    settings: ComparedSettings


def compare_with(view: View, comparison: Comparison, *, own_settings: bool = False) -> Compared:
    """The comparison period in the same scope as ``view``, computed with ``view``'s
    settings (like with like), or with its campaign's own when ``own_settings``."""
    other = view.same_scope(comparison.campaign, comparison.period)
    own = other.settings
    refused = False
    if other.n and not own_settings and not same_computation(own, view.settings):
        recomputed = replace(other, settings=view.settings)
        try:
            design_for(recomputed.frame, view.settings)
        except AnalysisError:
            refused = True
        else:
            other = recomputed
    settings = ComparedSettings(view.settings, own, other.settings, refused)
    if other.n == 0:
        return Compared(None, settings)
    try:
        return Compared(view_tree(other), settings)
    except AnalysisError:
        return Compared(None, settings)


def comparison_tree(view: View, comparison: Comparison | None) -> NodeResult | None:
    """The index tree of the comparison period, like with like (see :func:`compare_with`)."""
    if comparison is None:
        return None
    return compare_with(view, comparison).tree
