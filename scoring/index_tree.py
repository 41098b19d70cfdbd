"""The satisfaction index tree: item > criterion > group > overall, per domain.

Every node of a questionnaire's index tree (``Questionnaire.index``) gets an
estimate, standard error, confidence interval, n, df and design effect for
every domain asked, from a wide DataFrame (one row per respondent, one column
per item code) and a :class:`~scoring.design.SurveyDesign` built on it.

Nodes are linear in a small set of *base ratios*: one per item leaf (share
satisfied among valid answers) and one per ``pooled`` node (all satisfied
answers beneath it over all valid answers beneath it). ``mean``,
``weighted_mean``, ``sum`` and ``range`` are linear maps of their children,
so each node is ``c0 + c' theta`` over the base ratios and its variance
``c' Sigma c`` carries every covariance between items (R: ``svycontrast`` on
a joint ``svyratio``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from scoring.answer_states import TreeAlgebra, state_tables
from scoring.calibrated_states import joint_cells
from scoring.ci import ShareMethod
from scoring.design import FloatArray, RowSelection, SurveyDesign
from scoring.errors import AnswerCodeError, DesignColumnError, IndexTreeError
from scoring.estimators import (
    ALL_ROWS,
    DeffKind,
    Domains,
    DomainSpec,
    combine,
    domains_of,
    iter_moments,
    ratio_estimates,
    summarise,
)


class IndexNodeLike(Protocol):
    """The part of ``scoring.questionnaire.IndexNode`` used here."""

    @property
    def code(self) -> str: ...
    @property
    def label(self) -> dict[str, str]: ...
    @property
    def aggregate(self) -> str: ...
    @property
    def children(self) -> Sequence[IndexNodeLike]: ...
    @property
    def item(self) -> str | None: ...
    @property
    def weight(self) -> float | None: ...
    @property
    def satisfied(self) -> frozenset[int]: ...
    @property
    def range(self) -> tuple[float, float] | None: ...


class ItemLike(Protocol):
    """The part of ``scoring.questionnaire.Item`` used here."""

    @property
    def codes(self) -> frozenset[int]: ...
    @property
    def valid_codes(self) -> frozenset[int]: ...


class QuestionnaireLike(Protocol):
    """The part of ``scoring.questionnaire.Questionnaire`` used here."""

    @property
    def index(self) -> IndexNodeLike | None: ...
    def item(self, code: str) -> ItemLike: ...


@dataclass(frozen=True)
class _Leaf:
    item: str
    satisfied: frozenset[int]


def compute_index_tree(
    questionnaire: QuestionnaireLike,
    design: SurveyDesign,
    domains: Iterable[DomainSpec] = (None,),
    *,
    level: float = 0.95,
    method: ShareMethod = "logit",
    deff: DeffKind = "replace",
    root: IndexNodeLike | None = None,
) -> pd.DataFrame:
    """Every node of the index tree, for every domain, with SE, CI, n, df and deff.

    Parameters
    ----------
    questionnaire : Questionnaire
        Gives the tree (``.index``) and each item's codes and valid codes.
    design : SurveyDesign
        Built on the wide DataFrame: one column per item code (answer codes,
        blank for no answer), plus the design and domain columns.
    domains : iterable of str, list of str or None
        Domain columns (desk, agency, period, gender, ...); ``None`` is the
        whole sample; a list of columns crosses them (agency x period). Each
        is split into its values.
    level : float
        Confidence level.
    method : str
        Interval method for shares (item leaves and ``pooled`` nodes without
        a range): see :func:`scoring.ci.share_interval`. Other nodes get a
        Wald t interval.
    deff : {'replace', 'srswor'}
        Reference variance of the design effect (see
        :func:`scoring.estimators.summarise`).
    root : IndexNode, optional
        A subtree to compute instead of ``questionnaire.index``.

    Returns
    -------
    DataFrame
        One row per (node, domain, domain value): ``node``, ``parent``,
        ``depth``, ``aggregate``, ``domain``, ``level``, ``estimate``, ``se``,
        ``ci_low``, ``ci_high``, ``df``, ``n``, ``deff``, ``n_eff``, ``note``.
        Values are on the 0-1 scale (or the node's ``range``); multiply by 100
        for percentages. A domain without valid answers to an item gives an
        explicit row with ``n = 0``, no estimate and a note, and so do the
        nodes above it.

    Raises
    ------
    AnswerCodeError
        An answer code that is not on its item's scale (names item and code).
    DesignColumnError
        An item or domain column is missing.
    IndexTreeError
        The questionnaire has no index, or a ``weighted_mean`` child has no weight.

    Notes
    -----
    - item: ``p = sum w 1[y in satisfied] / sum w 1[y valid]``;
    - mean: ``(1/k) sum_c theta_c``; weighted_mean: ``sum_c w_c theta_c / sum_c w_c``;
      sum: ``sum_c theta_c``;
    - pooled: ``sum_items sum w 1[satisfied] / sum_items sum w 1[valid]``;
    - range ``[low, high]``: ``low + (high - low) theta``.

    n, df and the design effect of an item are those of the respondents of
    the domain with a valid answer. The n of any other node (criterion,
    group, the index) is the number of respondents of the domain with a valid
    answer to at least one item beneath it: a criterion whose items skip logic
    shows to few respondents gets their number, not the domain's. Its df and
    design effect are those of all respondents of the domain (the
    design-based subset R uses). ``n_eff = n / deff``.

    The tables are computed from sums of answer states over the (domain, PSU)
    pairs that occur (:func:`scoring.answer_states.state_tables`); a calibrated
    design adds its residuals from cell tables
    (:mod:`scoring.calibrated_states`). A design whose weights were changed
    after calibration (trimmed), and a multistage design with fpc (whose later
    stages need the totals of their units), take the unit totals of every
    domain (:func:`psu_total_tables`).

    References
    ----------
    Items match R ``svyciprop(~I(y %in% c(4,5)), subset(design, dom & valid))``;
    composites match ``svycontrast`` on ``svyratio(..., covmat=TRUE)`` over
    ``subset(design, dom)``; pooled nodes match ``svyratio``.
    """
    tree = index_structure(questionnaire, root)
    state = answer_states(design.data, questionnaire, tree.leaves)
    partitions = [domains_of(design, by) for by in domains]
    # Weights changed after calibration (trimmed) leave only PSU totals to carry the residuals;
    # the stages below the first of a multistage design need totals of their units.
    fits = not design.stages and (not design.is_calibrated or joint_cells(design) is not None)
    tables = state_tables if fits else psu_total_tables
    frames = tables(design, state, tree.algebra, partitions, level=level, method=method, deff=deff)
    return tree.table(frames)


@dataclass(frozen=True, eq=False)
class IndexStructure:
    """An index tree as scoring computes it: its leaves and its nodes' linear algebra.

    Attributes
    ----------
    nodes : tuple
        Every node, root first (depth-first).
    leaves : tuple of (item code, satisfied codes)
        The distinct leaves, in the order of the answer-state columns.
    algebra : TreeAlgebra
    root : IndexNode
        The node the tree starts at.
    """

    nodes: tuple[IndexNodeLike, ...]
    leaves: tuple[tuple[str, frozenset[int]], ...]
    algebra: TreeAlgebra
    root: IndexNodeLike

    def table(self, frames: Sequence[pd.DataFrame]) -> pd.DataFrame:
        """The result table: the partitions' tables with each node's parent, depth and aggregate."""
        out = pd.concat(frames, ignore_index=True)
        out = out.rename(columns={"name": "node"})
        by_code = {n.code: n for n in self.nodes}
        node_codes = list(by_code)
        parents = _parents(self.root)
        depth = _depths(self.root)
        position = pd.Index(node_codes).get_indexer(pd.Index(out["node"]))
        parent_of = np.array([parents.get(c, "") for c in node_codes], dtype=object)
        depth_of = np.array([depth[c] for c in node_codes], dtype=np.int64)
        aggregate_of = np.array([by_code[c].aggregate for c in node_codes], dtype=object)
        out.insert(1, "parent", parent_of[position].tolist())
        out.insert(2, "depth", depth_of[position])
        out.insert(3, "aggregate", aggregate_of[position].tolist())
        return out


def index_structure(
    questionnaire: QuestionnaireLike, root: IndexNodeLike | None = None
) -> IndexStructure:
    """The leaves and linear algebra of the questionnaire's index tree (or of ``root``).

    Raises
    ------
    IndexTreeError
        The questionnaire has no index, a leaf names no item, a node has no
        children, an unknown aggregate, or a ``weighted_mean`` child has no weight.
    """
    tree = root if root is not None else questionnaire.index
    if tree is None:
        raise IndexTreeError("the questionnaire has no index tree")
    nodes = list(_walk(tree))
    leaves: list[_Leaf] = []
    leaf_pos: dict[_Leaf, int] = {}
    for node in nodes:
        if node.aggregate == "item":
            if node.item is None:
                raise IndexTreeError(f"index leaf {node.code!r} names no item")
            leaf = _Leaf(node.item, frozenset(node.satisfied))
            if leaf not in leaf_pos:
                leaf_pos[leaf] = len(leaves)
                leaves.append(leaf)
    k = len(leaves)
    # Base ratios: the leaves, then one per pooled node.
    pooled_nodes = [n for n in nodes if n.aggregate == "pooled"]
    n_base = k + len(pooled_nodes)
    # How many times each leaf's answer counts in each base ratio.
    leaves_of_base = np.zeros((k, n_base), dtype=np.intp)
    leaves_of_base[:, :k] = np.eye(k, dtype=np.intp)
    for p, node in enumerate(pooled_nodes):
        for leaf_node in _leaves(node):
            j = leaf_pos[_Leaf(_item_code(leaf_node.item), frozenset(leaf_node.satisfied))]
            leaves_of_base[j, k + p] += 1
    pooled_index = {id(n): k + p for p, n in enumerate(pooled_nodes)}

    coef = np.zeros((n_base, len(nodes)))
    const = np.zeros(len(nodes))
    memo: dict[int, tuple[FloatArray, float]] = {}

    def linear(node: IndexNodeLike) -> tuple[FloatArray, float]:
        key = id(node)
        if key in memo:
            return memo[key]
        c = np.zeros(n_base)
        c0 = 0.0
        if node.aggregate == "item":
            c[leaf_pos[_Leaf(_item_code(node.item), frozenset(node.satisfied))]] = 1.0
        elif node.aggregate == "pooled":
            c[pooled_index[key]] = 1.0
        else:
            kids = [linear(child) for child in node.children]
            if not kids:
                raise IndexTreeError(f"index node {node.code!r} has no children")
            if node.aggregate == "mean":
                weights = np.full(len(kids), 1.0 / len(kids))
            elif node.aggregate == "sum":
                weights = np.ones(len(kids))
            elif node.aggregate == "weighted_mean":
                raw = [child.weight for child in node.children]
                if any(w is None for w in raw):
                    missing = [ch.code for ch in node.children if ch.weight is None]
                    raise IndexTreeError(
                        f"weighted_mean node {node.code!r}: children {missing} have no weight"
                    )
                weights = np.asarray(raw, dtype=np.float64)
                weights = weights / weights.sum()
            else:
                raise IndexTreeError(
                    f"index node {node.code!r} has unknown aggregate {node.aggregate!r}"
                )
            for wk, (ck, c0k) in zip(weights, kids, strict=True):
                c += wk * ck
                c0 += wk * c0k
        if node.range is not None:
            low, high = node.range
            c = c * (high - low)
            c0 = low + (high - low) * c0
        memo[key] = (c, c0)
        return c, c0

    for i, node in enumerate(nodes):
        coef[:, i], const[i] = linear(node)
    subset = [
        1 + leaf_pos[_Leaf(_item_code(n.item), frozenset(n.satisfied))]
        if n.aggregate == "item"
        else 0
        for n in nodes
    ]
    # The leaves beneath every other node: its n counts respondents who answer one of them.
    reach_sets: dict[frozenset[int], int] = {}
    reach_of = []
    for node in nodes:
        if node.aggregate == "item":
            reach_of.append(-1)
            continue
        beneath = frozenset(
            leaf_pos[_Leaf(_item_code(leaf.item), frozenset(leaf.satisfied))]
            for leaf in _leaves(node)
        )
        reach_of.append(reach_sets.setdefault(beneath, len(reach_sets)))
    reach = np.zeros((k, len(reach_sets)), dtype=bool)
    for beneath, j in reach_sets.items():
        reach[sorted(beneath), j] = True
    share = [n.aggregate in ("item", "pooled") and n.range is None for n in nodes]
    names = [n.code for n in nodes]
    algebra = TreeAlgebra(
        leaves=leaves_of_base,
        coefficients=coef,
        constant=const,
        subset=np.asarray(subset, dtype=np.intp),
        share=np.asarray(share, dtype=bool),
        names=tuple(names),
        reach=reach,
        reach_of=np.asarray(reach_of, dtype=np.intp),
    )
    return IndexStructure(
        nodes=tuple(nodes),
        leaves=tuple((leaf.item, leaf.satisfied) for leaf in leaves),
        algebra=algebra,
        root=tree,
    )


def answer_states(
    data: pd.DataFrame,
    questionnaire: QuestionnaireLike,
    leaves: Sequence[tuple[str, frozenset[int]]],
) -> NDArray[np.int8]:
    """Answer state (n, k) of every row for every leaf: 0 blank or not valid, 1 valid, 2 satisfied.

    Raises
    ------
    DesignColumnError
        An item column is missing.
    AnswerCodeError
        An answer code that is not on its item's scale (names item and code).
    """
    items = sorted({item for item, _ in leaves})
    codes = _answer_matrix(data, questionnaire, items)
    column = {item: j for j, item in enumerate(items)}
    # Through a lookup table indexed by code + 1 (code -1 is a blank answer).
    top = int(codes.max()) + 2 if codes.size else 2
    state = np.empty((len(data), len(leaves)), dtype=np.int8)
    for j, (item, satisfied) in enumerate(leaves):
        lut = np.zeros(top, dtype=np.int8)
        for code in questionnaire.item(item).valid_codes:
            if 0 <= code + 1 < top:
                lut[code + 1] = 2 if code in satisfied else 1
        state[:, j] = lut.take(codes[:, column[item]].astype(np.intp) + 1)
    return state


def psu_total_tables(
    design: SurveyDesign,
    state: NDArray[np.int8],
    algebra: TreeAlgebra,
    partitions: Sequence[Domains],
    *,
    level: float,
    method: ShareMethod,
    deff: DeffKind,
) -> list[pd.DataFrame]:
    """The tables of :func:`~scoring.answer_states.state_tables` from PSU totals of every domain.

    The general path, for any design: :func:`~scoring.estimators.iter_moments`
    accumulates the calibration-residualised PSU totals of every domain, then
    :func:`~scoring.estimators.ratio_estimates`, :func:`~scoring.estimators.combine`
    and :func:`~scoring.estimators.summarise`.
    """
    k = state.shape[1]

    def build(rows: RowSelection) -> FloatArray:
        block = state[rows]
        y = np.empty((block.shape[0], 2 * k))
        np.equal(block, 2, out=y[:, :k], casting="unsafe")
        np.greater_equal(block, 1, out=y[:, k:], casting="unsafe")
        return y

    n_base = algebra.leaves.shape[1]
    # n, df and deff of the base ratios are not reported: any subset will do.
    base_subset = [0] * n_base
    frames = []
    subsets = [ALL_ROWS] + [k + j for j in range(k)]
    reached = algebra.reached(state)
    for moments in iter_moments(design, build, 2 * k, partitions, subsets):
        base = ratio_estimates(
            moments,
            algebra.numerator,
            algebra.denominator,
            base_subset,
            [f"base{j}" for j in range(n_base)],
        )
        est = combine(
            base,
            algebra.coefficients,
            algebra.subset.tolist(),
            algebra.names,
            constant=algebra.constant,
            share=algebra.share.tolist(),
        )
        reach_n = _domain_counts(moments.domains, reached)
        reported_n = algebra.reported_n(moments.subset_count[:, algebra.subset], reach_n)
        frames.append(
            summarise(
                design,
                moments,
                est,
                level=level,
                method=method,
                deff=deff,
                reported_n=reported_n,
            )
        )
    return frames


def _domain_counts(domains: Domains, reached: NDArray[np.uint8]) -> FloatArray:
    """Respondents (D, r) of each domain with a valid answer in each leaf set."""
    inside = np.flatnonzero(domains.codes >= 0)
    codes = domains.codes[inside]
    out = np.zeros((domains.size, reached.shape[1]))
    for j in range(reached.shape[1]):
        out[:, j] = np.bincount(codes, weights=reached[inside, j], minlength=domains.size)
    return out


def _item_code(value: str | None) -> str:
    """The item code of a leaf (validated non-empty before use)."""
    return value if value is not None else ""


def _walk(node: IndexNodeLike) -> Iterable[IndexNodeLike]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _leaves(node: IndexNodeLike) -> Iterable[IndexNodeLike]:
    return (n for n in _walk(node) if n.aggregate == "item")


def _parents(root: IndexNodeLike) -> dict[str, str]:
    out: dict[str, str] = {}
    for node in _walk(root):
        for child in node.children:
            out.setdefault(child.code, node.code)
    return out


def _depths(root: IndexNodeLike) -> dict[str, int]:
    out: dict[str, int] = {}

    def visit(node: IndexNodeLike, d: int) -> None:
        out.setdefault(node.code, d)
        for child in node.children:
            visit(child, d + 1)

    visit(root, 0)
    return out


def _answer_matrix(
    data: pd.DataFrame, questionnaire: QuestionnaireLike, items: Sequence[str]
) -> np.ndarray:
    """Answer codes as int16 (-1 = no answer), checked against each item's scale."""
    missing = [item for item in items if item not in data.columns]
    if missing:
        raise DesignColumnError(f"item columns {missing} are not in the data")
    # Filled and read item by item: column-major keeps each item's codes contiguous.
    codes = np.empty((len(data), len(items)), dtype=np.int16, order="F")
    for j, item in enumerate(items):
        raw = data[item]
        values = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=np.float64)
        not_numeric = np.isnan(values) & raw.notna().to_numpy()
        if not_numeric.any():
            row = int(np.flatnonzero(not_numeric)[0])
            raise AnswerCodeError(
                f"item {item!r}: answer {raw.iloc[row]!r} at row {row} is not a code"
            )
        allowed = np.asarray(sorted(questionnaire.item(item).codes), dtype=np.float64)
        if allowed.size and (allowed.min() < 0 or allowed.max() > 32_000):
            raise IndexTreeError(f"item {item!r}: answer codes must be between 0 and 32000")
        present = ~np.isnan(values)
        bad = present & ~np.isin(values, allowed)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            bad_codes = sorted({float(v) for v in values[bad]})
            shown = ", ".join(f"{c:g}" for c in bad_codes[:5])
            raise AnswerCodeError(
                f"item {item!r}: code(s) {shown} are not on its scale "
                f"{sorted(questionnaire.item(item).codes)} ({int(bad.sum())} answers, first at "
                f"row {row})"
            )
        codes[:, j] = np.where(present, values, -1.0)
    return codes
