"""Index-tree estimates from sums of answer states per group of respondents, not microdata.

Every figure of :func:`scoring.index_tree.compute_index_tree` on an
uncalibrated one-stage design needs of the respondents only sums over
*groups* of them that share every design and domain column (desk, agency,
period, a respondent attribute) and one weight. Per group: the respondents,
those in each answer state of each leaf (1: valid, 2: satisfied), those with
a valid answer in each leaf set, and the *state Gram* ``sum o o'`` of the
one-hot answer states ``o = (1[state = 1], 1[state = 2])`` of every leaf
(the cross products behind the covariances between items).

With weight ``w`` per respondent of a group, everything of
:mod:`scoring.answer_states` follows:

- the sums of ``w`` and ``w^2`` per answer state are ``w`` and ``w^2`` times
  the group's counts;
- a node over several leaves has influence ``z = w o' c`` (``c``: its
  linearisation variable per state in the domain), so over a group
  ``sum z = w n' c``, ``sum z^2 = w^2 c' G c`` and ``sum w u^2 = w c' G c``,
  with ``n`` the counts and ``G`` the state Gram.

Sums of disjoint sets of respondents add up (:func:`concat_sums`): a
database can keep them per submission batch, and sums of several samples
(provinces) stacked with a column telling them apart are the sums of the
pooled sample. :func:`sum_answers` reduces a microdata frame; what a database
keeps must equal it.

A post-stratified or raked design needs, besides, that every group lies in
one calibration cell (its keys hold the margins' columns): the calibration
sees each cell's respondents and weight, and the residuals are those of
:mod:`scoring.calibrated_states` on the groups' sums.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from scoring.answer_states import (
    Groups,
    SeveralSums,
    Units,
    _local_runs,
    group_ids,
    inner_units,
    tables,
)
from scoring.calibrated_states import grouped_joint_cells
from scoring.ci import ShareMethod
from scoring.design import DesignSpec, FloatArray, IntArray, SurveyDesign, require_column
from scoring.errors import CalibrationError, DesignColumnError, LonelyPSUError, WeightError
from scoring.estimators import DeffKind, Domains, DomainSpec, domains_of
from scoring.index_tree import (
    IndexNodeLike,
    QuestionnaireLike,
    answer_states,
    index_structure,
)

# Groups per block of the state Gram products (block x 2k x 2k values).
GRAM_BLOCK_GROUPS = 2048


@dataclass(frozen=True, eq=False)
class AnswerSums:
    """Sums of answer states per group of respondents.

    Attributes
    ----------
    keys : DataFrame
        One row per group: the columns it is grouped by (design and domain
        columns, and the weight column when there is one).
    leaves : tuple of (item code, satisfied codes)
        The index tree's leaves, in the order of the state columns
        (:attr:`scoring.index_tree.IndexStructure.leaves`).
    rows : ndarray, shape (G,)
        Respondents.
    states : ndarray, shape (G, 2k)
        Respondents in state 1 of each leaf, then in state 2 of each leaf.
    reached : ndarray, shape (G, r)
        Respondents with a valid answer to a leaf of each leaf set
        (:attr:`scoring.answer_states.TreeAlgebra.reach`).
    gram : ndarray, shape (G, 2k, 2k)
        ``sum o o'`` of the respondents' one-hot states.
    """

    keys: pd.DataFrame
    leaves: tuple[tuple[str, frozenset[int]], ...]
    rows: FloatArray
    states: FloatArray
    reached: FloatArray
    gram: FloatArray

    @property
    def n(self) -> int:
        """Respondents."""
        return int(self.rows.sum())


def sum_answers(
    questionnaire: QuestionnaireLike,
    data: pd.DataFrame,
    by: Sequence[str],
    *,
    root: IndexNodeLike | None = None,
) -> AnswerSums:
    """The answer sums of ``data`` (one row per respondent) per group of equal ``by`` values.

    A missing value is a value of its own (those respondents are in no domain of
    that column, as on the microdata).

    Raises
    ------
    DesignColumnError
        A column of ``by`` or an item column is missing.
    AnswerCodeError
        An answer code that is not on its item's scale.
    """
    tree = index_structure(questionnaire, root)
    absent = [column for column in by if column not in data.columns]
    if absent:
        raise DesignColumnError(f"grouping columns {absent} are not in the data")
    state = answer_states(data, questionnaire, tree.leaves)
    reached = tree.algebra.reached(state)
    onehot = np.concatenate([state == 1, state == 2], axis=1).astype(np.float64)
    frame = data[list(by)].reset_index(drop=True)
    if by:
        group = frame.groupby(list(by), dropna=False, sort=True).ngroup().to_numpy(np.intp)
    else:
        group = np.zeros(len(frame), dtype=np.intp)
    n_groups = int(group.max()) + 1 if len(frame) else 0
    order = np.argsort(group, kind="stable")
    start = np.searchsorted(group[order], np.arange(n_groups + 1))
    first = order[start[:-1]]
    width = onehot.shape[1]
    gram = np.zeros((n_groups, width, width))
    for g in range(n_groups):
        block = onehot[order[start[g] : start[g + 1]]]
        gram[g] = block.T @ block
    return AnswerSums(
        keys=frame.iloc[first].reset_index(drop=True),
        leaves=tree.leaves,
        rows=np.bincount(group, minlength=n_groups).astype(np.float64),
        states=_group_sum(onehot, group, n_groups),
        reached=_group_sum(reached.astype(np.float64), group, n_groups),
        gram=gram,
    )


def concat_sums(parts: Iterable[AnswerSums]) -> AnswerSums:
    """The sums of the union of disjoint sets of respondents (same leaves), regrouped by key."""
    parts = list(parts)
    if not parts:
        raise ValueError("no answer sums to combine")
    leaves = parts[0].leaves
    if any(p.leaves != leaves for p in parts):
        raise DesignColumnError("answer sums of different index trees cannot be combined")
    keys = pd.concat([p.keys for p in parts], ignore_index=True)
    columns = list(keys.columns)
    if columns:
        group = keys.groupby(columns, dropna=False, sort=True).ngroup().to_numpy(np.intp)
    else:
        group = np.zeros(len(keys), dtype=np.intp)
    n_groups = int(group.max()) + 1 if len(keys) else 0
    first = np.full(n_groups, -1, dtype=np.intp)
    first[group[::-1]] = np.arange(len(keys) - 1, -1, -1)
    gram = np.concatenate([p.gram for p in parts])
    summed = np.zeros((n_groups,) + gram.shape[1:])
    np.add.at(summed, group, gram)
    return AnswerSums(
        keys=keys.iloc[first].reset_index(drop=True),
        leaves=leaves,
        rows=_group_sum(np.concatenate([p.rows for p in parts]), group, n_groups),
        states=_group_sum(np.concatenate([p.states for p in parts]), group, n_groups),
        reached=_group_sum(np.concatenate([p.reached for p in parts]), group, n_groups),
        gram=summed,
    )


def index_tree_from_sums(
    questionnaire: QuestionnaireLike,
    sums: AnswerSums,
    spec: DesignSpec,
    domains: Iterable[DomainSpec] = (None,),
    *,
    level: float = 0.95,
    method: ShareMethod = "logit",
    deff: DeffKind = "replace",
    root: IndexNodeLike | None = None,
) -> pd.DataFrame:
    """:func:`scoring.index_tree.compute_index_tree` of the respondents behind ``sums``.

    The design is ``spec`` over those respondents: ``weights`` (a column of
    the keys, one weight per group), ``strata`` and ``psu`` (one column each,
    PSU labels unique across strata), ``lonely_psu``, and post-stratification
    or raking to margins over columns of the keys. Every figure equals the
    microdata path's up to rounding.

    Raises
    ------
    CalibrationError, ConvergenceError
        As :meth:`scoring.design.DesignSpec.build` (a margin's column missing,
        an empty cell, no convergence).
    DesignColumnError
        The spec asks for what sums cannot give (probabilities, fpc, several
        stages, nested labels), a column is missing or has missing values, a
        PSU lies in two strata, the sample has one PSU, or the sums are of
        another index tree.
    WeightError
        A weight is zero, negative, NaN or infinite.
    LonelyPSUError
        A stratum has one PSU under ``lonely_psu='fail'``.
    """
    if spec.probs or spec.fpc or spec.nest:
        raise DesignColumnError(
            "answer sums take sampling weights, strata and one stage of clusters only"
        )
    for role, column in (("strata", spec.strata), ("psu", spec.psu)):
        if column is not None and not isinstance(column, str):
            raise DesignColumnError(f"answer sums take one {role} column, not {list(column)!r}")
    tree = index_structure(questionnaire, root)
    if tree.leaves != sums.leaves:
        raise DesignColumnError("the answer sums are of another index tree")
    design, one_row = _design(sums, spec)
    cal = None
    if design.is_calibrated:
        cal = grouped_joint_cells(design, one_row)
        if cal is None:  # not with the weights spec.calibrate() gives
            raise CalibrationError("the calibrated weights vary within a calibration cell")
    partitions = [domains_of(design, by) for by in domains]
    algebra = tree.algebra
    inner, radix = inner_units(design, one_row)
    joint = None if cal is None else cal.joint
    groups, group = _groups(design, sums, partitions, inner, one_row, joint)
    w = design.weights / sums.rows

    def several(units: Units, coefficients: FloatArray) -> SeveralSums:
        return _gram_sums(sums, w, group, groups, units, coefficients, one_row)

    frames = tables(
        design, cal, groups, several, algebra, partitions, radix, one_row, level, method, deff
    )
    return tree.table(frames)


def _design(sums: AnswerSums, spec: DesignSpec) -> tuple[SurveyDesign, bool]:
    """The sample's design over the groups, calibrated as ``spec`` says; and whether every
    PSU is one respondent.

    Its rows are the groups (``frequency``: their respondents; ``weights``: their
    total weight), its strata count the sample's PSUs. Calibration sees the
    groups' totals per cell, hence the respondents' weights; with one respondent
    per PSU, the groups stand in for PSUs only where the calibration's tables
    need rows (:func:`scoring.calibrated_states.grouped_joint_cells` makes them
    respondents again).
    """
    keys = sums.keys
    groups = len(keys)
    if groups == 0 or sums.n == 0:
        raise DesignColumnError("the data have no rows")
    for role, column in (("weights", spec.weights), ("strata", spec.strata), ("psu", spec.psu)):
        if column is None:
            continue
        assert isinstance(column, str)
        require_column(keys, column, f"design ({role})")
        if keys[column].isna().any():
            raise DesignColumnError(f"design column {column!r} has missing values")
    if spec.weights is None:
        weights = np.ones(groups)
    else:
        weights = pd.to_numeric(keys[spec.weights], errors="coerce").to_numpy(dtype=np.float64)
        if not (np.isfinite(weights).all() and (weights > 0).all()):
            raise WeightError(f"weights in {spec.weights!r} must be positive and finite")
    if spec.strata is None:
        strata = np.zeros(groups, dtype=np.intp)
        labels: tuple[object, ...] = (1,)
    else:
        codes, uniques = pd.factorize(keys[str(spec.strata)], sort=True)
        strata = codes.astype(np.intp)
        labels = tuple(uniques.tolist())
    n_strata = len(labels)
    one_row = spec.psu is None
    if one_row:
        # The groups stand in for PSUs where a design's tables need rows; the strata count
        # the respondents.
        psu = np.arange(groups, dtype=np.intp)
        psu_stratum = strata
        psu_in_stratum = np.bincount(strata, weights=sums.rows, minlength=n_strata)
        n_psu = int(sums.n)
    else:
        assert isinstance(spec.psu, str)
        codes, uniques = pd.factorize(keys[spec.psu], sort=True)
        psu = codes.astype(np.intp)
        psu_stratum = np.full(len(uniques), -1, dtype=np.intp)
        psu_stratum[psu] = strata
        if (psu_stratum[psu] != strata).any():
            raise DesignColumnError(f"a PSU ({spec.psu!r}) lies in two strata")
        psu_in_stratum = np.bincount(psu_stratum, minlength=n_strata)
        n_psu = len(uniques)
    if n_psu == 1:
        raise DesignColumnError("the design has only one primary sampling unit")
    lonely = psu_in_stratum == 1
    if spec.lonely_psu == "fail" and lonely.any():
        names = ", ".join(repr(labels[h]) for h in np.flatnonzero(lonely))
        raise LonelyPSUError(
            f"stratum {names} (column {spec.strata!r}) has only one PSU; choose "
            "lonely_psu='adjust', 'certainty', 'remove' or 'average'"
        )
    design = SurveyDesign(
        data=keys,
        weights=weights * sums.rows,
        strata=strata,
        psu=psu,
        psu_stratum=psu_stratum,
        stratum_labels=labels,
        psu_in_stratum=psu_in_stratum.astype(np.intp),
        fpc_factor=np.ones(n_strata),
        lonely_psu=spec.lonely_psu,
        frequency=sums.rows,
    )
    return spec.calibrate(design), one_row


def _groups(
    design: SurveyDesign,
    sums: AnswerSums,
    partitions: Sequence[Domains],
    inner: IntArray,
    one_row: bool,
    joint: IntArray | None,
) -> tuple[Groups, IntArray]:
    """The answer-state groups (domain of every partition x stratum or PSU x joint
    calibration cell) of the sums, and the group of each row of the sums."""
    if joint is None:
        joint = np.zeros(len(sums.keys), dtype=np.intp)
    ids, uniques = group_ids(partitions, inner, joint)
    n_groups = uniques.shape[0]
    order = np.argsort(ids, kind="stable")
    start = np.searchsorted(ids[order], np.arange(n_groups + 1))
    first = order[start[:-1]]
    w = design.weights / sums.rows  # each respondent's
    weight = _group_sum(sums.states * w[:, None], ids, n_groups)
    groups = Groups(
        order=order,
        start=start,
        codes=np.column_stack([p.codes[first] for p in partitions]),
        inner=inner[first],
        psu=design.psu[first],
        joint=joint[first],
        count=_group_sum(sums.states, ids, n_groups),
        weight=weight,
        square=_group_sum(sums.states * (w * w)[:, None], ids, n_groups) if one_row else weight,
        reached=_group_sum(sums.reached, ids, n_groups),
        rows=_group_sum(sums.rows, ids, n_groups),
        row_weight=_group_sum(sums.rows * w, ids, n_groups),
    )
    return groups, ids


def _gram_sums(
    sums: AnswerSums,
    w: FloatArray,
    group: IntArray,
    groups: Groups,
    units: Units,
    coefficients: FloatArray,
    one_row: bool,
) -> SeveralSums:
    """:data:`~scoring.answer_states.SeveralSums` from the state Grams of the sums' rows
    (``w``: each row's weight per respondent, ``group``: its group).

    ``c' G c`` is linear in ``G``: the weighted Grams of a unit's rows are summed first,
    then one quadratic form per unit gives its ``sum z^2`` and its part of the domain's
    ``sum w u^2``. No Gram per group is formed; blocks of rows bound the memory.
    """
    n_dom, _, r = coefficients.shape
    quad = np.zeros((n_dom, r))
    first = np.zeros((units.n_units, r))
    second = np.zeros((units.n_units, r))
    unit_of_group = np.full(groups.rows.shape[0], -1, dtype=np.intp)
    unit_of_group[units.members] = units.unit_of_member
    row_unit = unit_of_group[group]
    rows = np.flatnonzero(row_unit >= 0)
    rows = rows[np.argsort(row_unit[rows], kind="stable")]
    for lo in range(0, rows.shape[0], GRAM_BLOCK_GROUPS):
        at = rows[lo : lo + GRAM_BLOCK_GROUPS]
        cells, starts = _local_runs(row_unit[at])
        c = coefficients[units.domain[cells]]
        summed = np.add.reduceat(sums.gram[at] * w[at, None, None], starts, axis=0)
        np.add.at(quad, units.domain[cells], _quadratic(c, summed))
        if one_row:
            summed = np.add.reduceat(sums.gram[at] * (w * w)[at, None, None], starts, axis=0)
            second[cells] += _quadratic(c, summed)
    if one_row:
        for lo in range(0, units.members.shape[0], GRAM_BLOCK_GROUPS):
            unit = units.unit_of_member[lo : lo + GRAM_BLOCK_GROUPS]
            weight = groups.weight[units.members[lo : lo + GRAM_BLOCK_GROUPS]]
            c = coefficients[units.domain[unit]]
            np.add.at(first, unit, np.einsum("bs,bsr->br", weight, c))
    return quad, first, second


def _quadratic(c: FloatArray, gram: FloatArray) -> FloatArray:
    """``c_b' G_b c_b`` per group ``b`` and node: (b, r) from (b, 2k, r) and (b, 2k, 2k)."""
    out: FloatArray = np.einsum("bsr,bsr->br", c, np.matmul(gram, c))
    return out


def _group_sum(values: FloatArray, group: NDArray[np.integer[Any]], n_groups: int) -> FloatArray:
    """Sums of ``values`` (rows first) per group code."""
    out = np.zeros((n_groups,) + values.shape[1:])
    np.add.at(out, group, values)
    return out
