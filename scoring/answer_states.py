"""Index-tree estimates from sums of answer states.

The path :func:`scoring.index_tree.compute_index_tree` takes unless the design's
weights were changed after calibration. Every leaf answer is in one of three states: 0 (blank, or a
code that is not valid), 1 (valid, not satisfied) or 2 (satisfied). A base
ratio ``b`` is the share satisfied among the valid answers to its leaves,
``theta_b = sum w A_b / sum w V_b`` with ``A_b`` and ``V_b`` the respondent's
satisfied and valid answers among them; a node is ``c0 + C' theta``.

The estimates and their variances need, per domain, only sums over groups of
respondents (R survey's ``svyrecvar`` on the domain's influence values):

- A *unit* is the part of a PSU inside a domain. Its sums of ``w`` over the
  respondents in each state of each leaf give the domain totals, hence the
  ratios, and its total ``z`` of each node's influence values, with the
  formulas of :func:`scoring.estimators.ratio_estimates` and
  :func:`scoring.estimators.combine` on PSU totals. A PSU without
  respondents in the domain has ``z = 0`` and only counts in its stratum's
  ``n_h``: no PSUs x domains array is formed.
- When every PSU is a single respondent, units are respondents and are not
  formed either: over the domain's respondents in stratum ``h``,
  ``sum_i (z_i - zbar_h)^2 = sum z^2 - (sum z)^2 / n_h`` (all ``n_h`` PSUs of
  the stratum, zero outside the domain). A node that reads one leaf has
  influence ``w (g1 1[state = 1] + g2 1[state = 2])``, so these sums come from
  the stratum's sums of ``w`` and ``w^2`` in each state; a node over several
  leaves is computed respondent by respondent as
  ``z = w ((A - R V) / V_total) C``, the same formula.
- The design effect needs ``sum w u^2`` over the domain of the linearisation
  variable ``u = z / w``: from the sums of ``w`` per state for one-leaf
  nodes, respondent by respondent for the others.

The sums of ``w``, ``w^2`` and respondents per state are taken once for all
partitions, over *groups*: respondents in the same domain of every partition
and the same stratum (one-respondent PSUs) or PSU. Standard errors, df, n,
design effects and intervals then follow :func:`scoring.estimators.summarise`.

A calibrated design also groups respondents by their joint calibration cell;
its residuals are carried by :mod:`scoring.calibrated_states`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from scoring.calibrated_states import (
    JointCells,
    cell_coefficients,
    joint_cells,
    psu_cross,
    row_cross,
    stratum_sums,
)
from scoring.ci import ShareMethod
from scoring.design import FloatArray, IntArray, SurveyDesign
from scoring.estimators import (
    DeffKind,
    Domains,
    combined_terms,
    ratio_terms,
    summary_frame,
)

# Rows per block of one-hot states turned into floats (a few MB: stays in cache).
BLOCK_ROWS = 8192
# Rows per matrix product of nodes computed respondent by respondent. OpenBLAS runs the
# SIPAS tree's products (1024 x 60 x 12 multiply-adds) on the calling thread; larger ones
# use two threads and, on a loaded machine, wait milliseconds per call for a free core.
PRODUCT_ROWS = 1024


@dataclass(frozen=True, eq=False)
class TreeAlgebra:
    """Index nodes as linear combinations of ratios of leaf answer counts.

    Attributes
    ----------
    leaves : ndarray of int, shape (k, b)
        How many times the answer to each leaf counts in each base ratio
        (``e_t`` for the ratio of leaf ``t``, several ones for a pooled node).
    coefficients : ndarray, shape (b, m)
        Node ``j`` is ``constant[j] + coefficients[:, j]' theta``.
    constant : ndarray, shape (m,)
    subset : ndarray of int, shape (m,)
        Respondents behind each node's df and design effect (and an item's
        n): 0 for the whole domain, ``1 + t`` for those with a valid answer
        to leaf ``t``.
    share : ndarray of bool, shape (m,)
        Nodes that take share intervals.
    names : tuple of str
        Node codes.
    reach : ndarray of bool, shape (k, r)
        Sets of leaves: those beneath each node that is not an item.
    reach_of : ndarray of int, shape (m,)
        The set of each node that is not an item, -1 for items. Such a node's
        n is the respondents of the domain with a valid answer to at least
        one leaf of its set.
    """

    leaves: IntArray
    coefficients: FloatArray
    constant: FloatArray
    subset: IntArray
    share: NDArray[np.bool_]
    names: tuple[str, ...]
    reach: NDArray[np.bool_]
    reach_of: IntArray

    @property
    def numerator(self) -> FloatArray:
        """Coefficients (2k, b) of the ratios' numerators on ``y = (s_1..s_k, v_1..v_k)``."""
        return np.vstack([self.leaves, np.zeros_like(self.leaves)]).astype(np.float64)

    @property
    def denominator(self) -> FloatArray:
        """Coefficients (2k, b) of the ratios' denominators on ``y``."""
        return np.vstack([np.zeros_like(self.leaves), self.leaves]).astype(np.float64)

    def reached(self, state: NDArray[np.int8]) -> NDArray[np.uint8]:
        """Respondents (n, r) with a valid answer to a leaf of each set of ``reach``."""
        valid = (state >= 1).astype(np.float32)  # counts below 2^24: exact in float32
        sets = self.reach.astype(np.float32)
        out = np.empty((state.shape[0], sets.shape[1]), dtype=bool)
        for lo in range(0, state.shape[0], PRODUCT_ROWS):  # single-threaded products
            np.greater(valid[lo : lo + PRODUCT_ROWS] @ sets, 0, out=out[lo : lo + PRODUCT_ROWS])
        return out.view(np.uint8)

    def reported_n(self, subset_n: FloatArray, reach_n: FloatArray) -> FloatArray:
        """n (D, m): an item's from ``subset_n`` (D, m), other nodes' from ``reach_n`` (D, r)."""
        out = np.array(subset_n, dtype=np.float64)
        composite = self.reach_of >= 0
        out[:, composite] = reach_n[:, self.reach_of[composite]]
        return out


def state_tables(
    design: SurveyDesign,
    state: NDArray[np.int8],
    algebra: TreeAlgebra,
    partitions: Sequence[Domains],
    *,
    level: float,
    method: ShareMethod,
    deff: DeffKind,
) -> list[pd.DataFrame]:
    """Every node for every domain of each partition, as :func:`~scoring.estimators.summarise`.

    Parameters
    ----------
    design : SurveyDesign
        Uncalibrated, or calibrated with weights that fit
        (:func:`scoring.calibrated_states.joint_cells` is not None).
    state : ndarray of int8, shape (n, k)
        Answer state of every respondent for every leaf: 0, 1 or 2.
    algebra : TreeAlgebra
    partitions : sequence of Domains
    level, method, deff
        As :func:`~scoring.estimators.summarise`.

    Returns
    -------
    list of DataFrame
        One table per partition, rows and columns as ``summarise``.

    Notes
    -----
    See the module docstring; every figure equals the one of ``summarise``
    on ``combine(ratio_estimates(compute_moments(...)))`` up to rounding.

    References
    ----------
    Matches R survey::svyratio / svycontrast on ``subset(design, ...)``, with
    ``deff=`` and ``degf``, through :mod:`scoring.estimators`.
    """
    cal = None
    if design.is_calibrated:
        cal = joint_cells(design)
        if cal is None:
            raise ValueError("the design's weights were changed after calibration")
    one_row = design.n_psu == design.n
    inner, radix = inner_units(design, one_row)
    onehot = np.concatenate([state == 1, state == 2], axis=1).view(np.uint8)
    joint = None if cal is None else cal.joint
    groups = _group_sums(design, onehot, algebra.reached(state), partitions, inner, one_row, joint)

    def several(units: Units, coefficients: FloatArray) -> SeveralSums:
        rows = _member_rows(groups, units.members)
        row_unit = np.repeat(units.unit_of_member, np.diff(groups.start)[units.members])
        return _several_leaves(
            design.weights[rows],
            onehot.take(rows, axis=0),  # take: 3x faster than fancy indexing of rows
            np.searchsorted(units.domain[row_unit], np.arange(coefficients.shape[0] + 1)),
            row_unit if one_row else None,
            coefficients,
            units.n_units,
        )

    return tables(
        design, cal, groups, several, algebra, partitions, radix, one_row, level, method, deff
    )


def inner_units(design: SurveyDesign, one_row: bool) -> tuple[IntArray, int]:
    """What groups respondents besides their domains: the stratum of each row (one-row
    PSUs) or its PSU's rank, PSUs ranked by stratum so that a domain's strata are runs of
    its units; and how many there are."""
    if one_row:
        return design.strata, design.n_strata
    rank = np.empty(design.n_psu, dtype=np.intp)
    rank[np.argsort(design.psu_stratum, kind="stable")] = np.arange(design.n_psu)
    return rank[design.psu], design.n_psu


def tables(
    design: SurveyDesign,
    cal: JointCells | None,
    groups: Groups,
    several: SeveralLeaves,
    algebra: TreeAlgebra,
    partitions: Sequence[Domains],
    radix: int,
    one_row: bool,
    level: float,
    method: ShareMethod,
    deff: DeffKind,
) -> list[pd.DataFrame]:
    """Every partition's table (:func:`partition_table`) from the groups."""
    leaf = _single_leaf(algebra)
    return [
        partition_table(
            design,
            cal,
            groups,
            several,
            algebra,
            leaf,
            p,
            part,
            radix,
            one_row,
            level,
            method,
            deff,
        )  # fmt: skip
        for p, part in enumerate(partitions)
    ]


def _single_leaf(algebra: TreeAlgebra) -> IntArray:
    """The one leaf each node reads, -1 for nodes over several leaves."""
    reads = ((algebra.leaves != 0).astype(np.float64) @ (algebra.coefficients != 0)) > 0
    return np.where(reads.sum(axis=0) == 1, reads.argmax(axis=0), -1).astype(np.intp)


@dataclass(frozen=True, eq=False)
class Groups:
    """Respondents grouped by their domain in every partition and their stratum or PSU.

    Rows ``order[start[g]:start[g + 1]]`` form group ``g``; sums are per
    group over its rows, per column ``(state 1 of each leaf, state 2 of each leaf)``.
    """

    order: IntArray
    start: IntArray
    codes: IntArray  # (groups, partitions) domain code, -1 for none
    inner: IntArray  # (groups,) stratum (one-row PSUs) or PSU rank
    psu: IntArray  # (groups,) PSU (clustered designs; unused with one-row PSUs)
    joint: IntArray  # (groups,) joint calibration cell (0 if not calibrated)
    count: FloatArray  # respondents
    weight: FloatArray  # sum of w
    square: FloatArray  # sum of w^2 (one-row PSUs only)
    reached: FloatArray  # (groups, r) respondents with a valid answer in each leaf set
    rows: FloatArray  # (groups,) respondents
    row_weight: FloatArray  # (groups,) sum of w


def _group_sums(
    design: SurveyDesign,
    onehot: NDArray[np.uint8],
    reached: NDArray[np.uint8],
    partitions: Sequence[Domains],
    inner: IntArray,
    one_row: bool,
    joint: IntArray | None = None,
) -> Groups:
    """Respondents, ``w`` and (one-row PSUs) ``w^2`` per group and state, in one pass.

    Groups are respondents in the same domain of every partition, the same
    stratum or PSU (``inner``) and, for a calibrated design, the same ``joint`` cell.
    """
    if joint is None:
        joint = np.zeros(design.n, dtype=np.intp)
    ids, uniques = group_ids(partitions, inner, joint)
    order = _stable_order(ids)
    sorted_ids = ids[order]
    start = np.searchsorted(sorted_ids, np.arange(uniques.shape[0] + 1))
    first = order[start[:-1]]
    w = design.weights[order]
    states = onehot.take(order, axis=0)  # take: 3x faster than fancy indexing of rows
    count = np.zeros((uniques.shape[0], onehot.shape[1]))
    weight = np.zeros_like(count)
    square = np.zeros_like(count) if one_row else weight
    for lo in range(0, order.shape[0], BLOCK_ROWS):
        hi = min(lo + BLOCK_ROWS, order.shape[0])
        block = states[lo:hi].astype(np.float64)
        at, starts = _local_runs(sorted_ids[lo:hi])
        count[at] += np.add.reduceat(block, starts, axis=0)
        block *= w[lo:hi, None]
        weight[at] += np.add.reduceat(block, starts, axis=0)
        if one_row:
            block *= w[lo:hi, None]
            square[at] += np.add.reduceat(block, starts, axis=0)
    return Groups(
        order=order,
        start=start,
        codes=np.column_stack([p.codes[first] for p in partitions]),
        inner=inner[first],
        psu=design.psu[first],
        joint=joint[first],
        count=count,
        weight=weight,
        square=square,
        reached=np.add.reduceat(reached.take(order, axis=0).astype(np.int32), start[:-1], axis=0)
        .astype(np.float64)
        .reshape(uniques.shape[0], reached.shape[1]),
        rows=np.diff(start).astype(np.float64),
        row_weight=np.add.reduceat(w, start[:-1]),
    )


def group_ids(
    partitions: Sequence[Domains], inner: IntArray, joint: IntArray
) -> tuple[IntArray, NDArray[np.int64]]:
    """Each row's group (same domain in every partition, same ``inner`` and ``joint``), as
    codes ``0 .. G-1`` in key order, and the groups' keys."""
    key = np.zeros(inner.shape[0], dtype=np.int64)
    for column in [p.codes + 1 for p in partitions] + [inner, joint]:
        size = int(column.max()) + 1
        if int(key.max()) >= 2**62 // size:
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * size + column
    ids, uniques = pd.factorize(key, sort=True)
    return ids.astype(np.intp), np.asarray(uniques, dtype=np.int64)


def _stable_order(key: NDArray[np.integer]) -> IntArray:
    """Stable argsort of non-negative integer keys."""
    if key.size and int(key.max()) < 2**16:
        # numpy radix-sorts 16-bit integers, an order of magnitude faster than timsort
        return np.argsort(key.astype(np.uint16), kind="stable")
    return np.argsort(key, kind="stable")


def _runs_sum(values: FloatArray, group: IntArray, n_groups: int) -> FloatArray:
    """Row sums of ``values`` over runs of equal sorted ``group`` codes: (n_groups, ...)."""
    out = np.zeros((n_groups,) + values.shape[1:])
    if values.shape[0]:
        at, starts = _local_runs(group)
        out[at] = np.add.reduceat(values, starts, axis=0)
    return out


def _run_starts(values: NDArray[np.integer]) -> NDArray[np.bool_]:
    """Where a new run of equal values begins."""
    new = np.ones(values.shape[0], dtype=bool)
    np.not_equal(values[1:], values[:-1], out=new[1:])
    return new


def _local_runs(ids: IntArray) -> tuple[IntArray, IntArray]:
    """The distinct ids of a sorted array and where their runs start."""
    starts = np.flatnonzero(_run_starts(ids))
    return ids[starts], starts


@dataclass(frozen=True, eq=False)
class Units:
    """A partition's units (domain x PSU, or domain x stratum with one-row PSUs) and cells.

    Units are sorted by domain then stratum, so a cell (domain x stratum) is a
    run of units and a domain a run of cells; with one-row PSUs a unit is a cell.
    """

    members: IntArray  # the groups inside a domain, sorted by unit
    unit_of_member: IntArray
    domain: IntArray  # (units,)
    cell: IntArray  # (units,) cell of each unit
    psu: IntArray  # (units,) PSU of each unit (clustered designs; the stratum with one-row PSUs)
    cell_domain: IntArray  # (cells,)
    cell_stratum: IntArray  # (cells,)

    @property
    def n_units(self) -> int:
        return int(self.domain.shape[0])

    @property
    def n_cells(self) -> int:
        return int(self.cell_domain.shape[0])

    def sums(self, values: FloatArray) -> FloatArray:
        """Per unit sums of per group ``values``."""
        return _runs_sum(values[self.members], self.unit_of_member, self.n_units)


#: ``sum w u^2`` per domain (D, r) and, with one-row PSUs, ``sum z`` and ``sum z^2`` per unit
#: (n_units, r) of the nodes over several leaves.
SeveralSums = tuple[FloatArray, FloatArray, FloatArray]
#: How a partition gets them: from its units and the nodes' linearisation variable per
#: answer state, ``coefficients`` (D, 2k, r).
SeveralLeaves = Callable[[Units, FloatArray], SeveralSums]


def _units(design: SurveyDesign, groups: Groups, p: int, radix: int, one_row: bool) -> Units:
    """The units and cells of partition ``p``, from the groups (``radix``: strata or PSUs)."""
    codes = groups.codes[:, p]
    inside = np.flatnonzero(codes >= 0)
    key = codes[inside].astype(np.int64) * radix + groups.inner[inside]
    perm = _stable_order(key)
    members, key = inside[perm], key[perm]
    new_unit = _run_starts(key)
    first = members[new_unit]
    if one_row:
        stratum = psu = groups.inner[first]
    else:
        psu = groups.psu[first]
        stratum = design.psu_stratum[psu]
    new_cell = _run_starts(codes[first].astype(np.int64) * design.n_strata + stratum)
    return Units(
        members=members,
        unit_of_member=np.cumsum(new_unit) - 1,
        domain=codes[first],
        cell=np.cumsum(new_cell) - 1,
        psu=psu,
        cell_domain=codes[first][new_cell],
        cell_stratum=stratum[new_cell],
    )


def partition_table(
    design: SurveyDesign,
    cal: JointCells | None,
    groups: Groups,
    several: SeveralLeaves,
    algebra: TreeAlgebra,
    leaf: IntArray,
    p: int,
    part: Domains,
    radix: int,
    one_row: bool,
    level: float,
    method: ShareMethod,
    deff: DeffKind,
) -> pd.DataFrame:
    """The table of partition ``p`` (see the module docstring).

    ``several(units, coefficients)`` gives the sums of the nodes over several leaves
    (:data:`SeveralLeaves`); ``one_row``: every PSU is one respondent.
    """
    k = algebra.leaves.shape[0]
    n_dom = part.size
    units = _units(design, groups, p, radix, one_row)
    weight = units.sums(groups.weight)  # (units, 2k): state 1, then state 2, of each leaf
    dom_weight = _runs_sum(weight, units.domain, n_dom)
    # Subsets: the domain, then the valid answers to each leaf.
    count = units.sums(groups.count)
    unit_subset = np.column_stack([units.sums(groups.rows), count[:, :k] + count[:, k:]])
    cell_subset = _runs_sum(unit_subset, units.cell, units.n_cells)
    dom_subset = _runs_sum(cell_subset, units.cell_domain, n_dom)
    dom_subset_weight = np.column_stack(
        [
            _runs_sum(units.sums(groups.row_weight), units.domain, n_dom),
            dom_weight[:, :k] + dom_weight[:, k:],
        ]
    )

    # Totals of y = (s, v): s is state 2, v is state 1 or 2.
    totals = np.concatenate([dom_weight[:, k:], dom_weight[:, :k] + dom_weight[:, k:]], axis=1)
    base, ratio, inverse, base_u = ratio_terms(totals, algebra.numerator, algebra.denominator)
    estimate, u = combined_terms(base, base_u, algebra.coefficients, algebra.constant)
    lin = np.einsum("dq,dqm->dm", totals, u)
    # Linearisation variable per state: u_v in state 1, u_s + u_v in state 2.
    by_state = np.concatenate([u[:, k:], u[:, :k] + u[:, k:]], axis=1)

    single = np.flatnonzero(leaf >= 0)
    composite = np.flatnonzero(leaf < 0)
    quad = np.zeros(estimate.shape)
    t = leaf[single]
    g1, g2 = by_state[:, t, single], by_state[:, k + t, single]  # (D, one-leaf nodes)
    quad[:, single] = g1 * g1 * dom_weight[:, t] + g2 * g2 * dom_weight[:, k + t]
    n_h = design.psu_in_stratum[units.cell_stratum].astype(np.float64)[:, None]
    first_sum = np.zeros((units.n_cells, estimate.shape[1]))
    second_sum = np.zeros_like(first_sum)
    if one_row:
        square = units.sums(groups.square)
        g1, g2 = g1[units.cell_domain], g2[units.cell_domain]
        first_sum[:, single] = g1 * weight[:, t] + g2 * weight[:, k + t]
        second_sum[:, single] = g1 * g1 * square[:, t] + g2 * g2 * square[:, k + t]
    if composite.size:
        quad[:, composite], first, second = several(
            units, np.ascontiguousarray(by_state[:, :, composite])
        )
        if one_row:
            first_sum[:, composite], second_sum[:, composite] = first, second
    subset = algebra.subset
    present = cell_subset[:, subset] > 0
    z = None
    if not one_row:
        # PSU totals of every node's influence values, as ratio_estimates and combine.
        z_totals = np.concatenate([weight[:, k:], weight[:, :k] + weight[:, k:]], axis=1)
        d = units.domain
        base_z = (
            z_totals @ algebra.numerator - ratio[d] * (z_totals @ algebra.denominator)
        ) * inverse[d]
        z = base_z @ algebra.coefficients
    if cal is not None:
        var = _calibrated_variance(design, cal, groups, units, by_state, first_sum, second_sum, z)
    else:
        if z is None:
            # Zero outside the domain: sum_i (z_i - zbar_h)^2 over the n_h PSUs of stratum h.
            sums = second_sum - first_sum * first_sum / n_h
        else:
            sums, second_sum = _centred_sums(z, units, n_h)
        # A lonely PSU is its stratum's mean: R centres it (to 0) except under 'adjust'.
        lonely = n_h[:, 0] == 1
        sums[lonely] = second_sum[lonely] if design.lonely_psu == "adjust" else 0.0
        var = design.stratum_variance(sums, units.cell_stratum, present, units.cell_domain, n_dom)
    n = dom_subset[:, subset]
    reach_n = _runs_sum(units.sums(groups.reached), units.domain, n_dom)
    if one_row:
        psus = n
    else:
        psus = _runs_sum((unit_subset[:, subset] > 0).astype(np.float64), units.domain, n_dom)
    strata = _runs_sum(present.astype(np.float64), units.cell_domain, n_dom)
    return summary_frame(
        design,
        part,
        algebra.names,
        algebra.share,
        estimate,
        var,
        n,
        dom_subset_weight[:, subset],
        psus - strata,
        quad,
        lin,
        level=level,
        method=method,
        deff=deff,
        reported_n=algebra.reported_n(n, reach_n),
        sample_size=int(round(groups.rows.sum())),
    )


def _calibrated_variance(
    design: SurveyDesign,
    cal: JointCells,
    groups: Groups,
    units: Units,
    by_state: FloatArray,
    first_sum: FloatArray,
    second_sum: FloatArray,
    z: FloatArray | None,
) -> FloatArray:
    """Variances (D, m) of a calibrated design, as :mod:`scoring.calibrated_states` says.

    ``first_sum`` and ``second_sum`` are the cells' sums of ``z`` and ``z^2``
    over their respondents (one-row PSUs), or ``z`` the units' PSU totals.
    """
    members = units.members
    joint = groups.joint[members]
    coefficients = cell_coefficients(
        cal,
        units.domain[units.unit_of_member],
        joint,
        groups.weight[members],
        groups.count[members],
        by_state,
    )
    if z is None:
        member_cell = units.cell[units.unit_of_member]
        square = groups.square[members]
        cross = row_cross(
            cal, member_cell, joint, square, by_state, units.cell_domain, coefficients
        )
    else:
        first_sum = _runs_sum(z, units.cell, units.n_cells)
        second_sum = _runs_sum(z * z, units.cell, units.n_cells)
        cross = psu_cross(cal, units.psu, units.cell, z, units.cell_domain, coefficients)
    sums, stratum, group = stratum_sums(
        design,
        cal,
        coefficients,
        units.cell_domain,
        units.cell_stratum,
        first_sum,
        second_sum,
        cross,
    )
    return design.stratum_variance(sums, stratum, None, group, by_state.shape[0])


def _centred_sums(z: FloatArray, units: Units, n_h: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Per cell ``sum_i (z_i - zbar_h)^2`` over all ``n_h`` PSUs of the stratum, and ``sum z^2``.

    ``z`` are the units' PSU totals; the stratum's other PSUs have total 0 and
    add ``zbar_h^2`` each, as in :meth:`scoring.design.SurveyDesign.variance`.
    """
    mean = _runs_sum(z, units.cell, units.n_cells) / n_h
    centred = z - mean[units.cell]
    absent = n_h - _runs_sum(np.ones(units.n_units), units.cell, units.n_cells)[:, None]
    sums = _runs_sum(centred * centred, units.cell, units.n_cells) + absent * mean * mean
    return sums, _runs_sum(z * z, units.cell, units.n_cells)


def _member_rows(groups: Groups, members: IntArray) -> IntArray:
    """The rows of the given groups, group after group."""
    sizes = np.diff(groups.start)[members]
    offsets = np.repeat(groups.start[members] - np.cumsum(np.r_[0, sizes[:-1]]), sizes)
    return groups.order[offsets + np.arange(offsets.shape[0])]


def _several_leaves(
    w: FloatArray,
    states: NDArray[np.uint8],
    bounds: IntArray,
    unit: IntArray | None,
    coefficients: FloatArray,
    n_units: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Respondent by respondent sums for nodes over several leaves.

    Rows ``bounds[d]:bounds[d + 1]`` are domain ``d``'s, with one-hot ``states``
    (state 1, state 2 of each leaf); ``u = states' coefficients[d]`` and ``z = w u``.

    Returns
    -------
    ``sum w u^2`` per domain (D, r) and, given each row's unit (one-row PSUs),
    ``sum z`` and ``sum z^2`` per unit (n_units, r); zeros otherwise.
    """
    r = coefficients.shape[2]
    quad = np.zeros((bounds.shape[0] - 1, r))
    first = np.zeros((n_units, r))
    second = np.zeros((n_units, r))
    for d in range(bounds.shape[0] - 1):
        for lo in range(bounds[d], bounds[d + 1], PRODUCT_ROWS):
            hi = min(lo + PRODUCT_ROWS, bounds[d + 1])
            u = states[lo:hi].astype(np.float64) @ coefficients[d]
            z = u * w[lo:hi, None]
            quad[d] += np.einsum("ij,ij->j", z, u)
            if unit is not None:
                at, starts = _local_runs(unit[lo:hi])
                first[at] += np.add.reduceat(z, starts, axis=0)
                second[at] += np.add.reduceat(z * z, starts, axis=0)
    return quad, first, second
