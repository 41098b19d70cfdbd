"""Calibration residuals for the answer-state path, from cell tables.

A post-stratified or raked design replaces a domain's influence values ``x``
(``w u`` inside the domain, 0 outside) by residuals
``e_i = x_i - sum_j psw_j(i) a_j[cell_j(i)]`` before taking PSU totals
(:class:`scoring.design.CalibrationCells`): every PSU of the sample, inside
the domain or not, gets a share of the domain's cell totals. Its variance
still needs no PSU x domain table:

- the cell coefficients are ``a = S b`` with ``S`` the design's (T x T)
  solve matrix and ``b[t] = sum h_i x_i`` over the domain's respondents of
  cell ``t``. Within a *joint cell* (the same cell of every term) each term's
  ``h_i w_i`` is a constant times ``w_i`` (post-stratification: ``oldw /
  w*``) or a constant (raking: ``w_i / w*_i``), so ``b`` comes from the
  sums of ``w`` or of respondents per answer state, by domain and joint cell;
- a PSU total is ``Z_p = X_p - P_p a`` with ``X_p`` the domain's plain PSU
  total and ``P`` the sparse PSU x cell table of ``psw``. Per stratum ``h``:
  ``sum Z_p = sum X_p - (sum_p P_p) a`` and
  ``sum Z_p^2 = sum X_p^2 - 2 (sum_p X_p P_p) a + a' (sum_p P_p' P_p) a``:
  the first terms are those of the uncalibrated path, ``sum_p X_p P_p`` sums
  over the domain's (domain, PSU) units, and the two design tables are
  strata x cells and strata x cells x cells;
- with one respondent per PSU, ``sum_p X_p P_p`` is ``sum_i w_i u_i psw_j(i)``
  over the domain's respondents of the stratum, and ``psw_j = rho_j w`` within
  a joint cell: sums of ``w^2`` per answer state.

The centred sums ``sum Z^2 - (sum Z)^2 / n_h`` then go through
:meth:`scoring.design.SurveyDesign.stratum_variance` for every stratum, as R
keeps every row of a calibrated design in a domain. A design whose weights
are not of this form (calibrated, then trimmed) is left to the general path:
:func:`joint_cells` returns None.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from scoring.design import FloatArray, IntArray, SurveyDesign

# Largest relative spread of a factor within a joint cell still taken as constant.
FACTOR_TOLERANCE = 1e-12
# Values per block of the strata x domains x cells x nodes product of a' M_h a.
GRAM_BLOCK = 4_000_000


@dataclass(frozen=True, eq=False)
class JointCells:
    """A calibrated design's cells, with what the answer-state sums need of them.

    Attributes
    ----------
    joint : ndarray of int, shape (n,)
        Joint cell of every row (its cell in every term).
    cell : ndarray of int, shape (n_joint, J)
        Column ``t`` of each joint cell's cell in each term.
    weight_factor, count_factor : ndarray, shape (n_joint, J)
        ``h_i w_i`` is ``weight_factor * w_i + count_factor`` within a joint
        cell (one of the two is 0 for each term).
    psw_ratio : ndarray, shape (n_joint, J), or None
        ``psw_j(i) = psw_ratio * w_i`` within a joint cell; only for designs
        with one respondent per PSU (None otherwise).
    solve : ndarray, shape (T, T)
    psu_cells : sparse matrix, shape (n_psu, T)
        ``P``: sum of each term's ``psw`` per PSU and cell.
    stratum_cells : ndarray, shape (H, T)
        ``sum_p P_p`` per stratum.
    stratum_gram : ndarray, shape (H, T, T)
        ``sum_p P_p' P_p`` per stratum.
    """

    joint: IntArray
    cell: IntArray
    weight_factor: FloatArray
    count_factor: FloatArray
    psw_ratio: FloatArray | None
    solve: FloatArray
    psu_cells: sp.csr_matrix
    stratum_cells: FloatArray
    stratum_gram: FloatArray

    @property
    def n_cells(self) -> int:
        """Cells of all terms (T)."""
        return int(self.solve.shape[0])

    @property
    def n_joint(self) -> int:
        """Joint cells."""
        return int(self.cell.shape[0])


def joint_cells(design: SurveyDesign) -> JointCells | None:
    """The joint cells of a calibrated design, or None when its weights do not fit.

    They fit when, within every joint cell, each term's ``h_i w_i`` is
    proportional to ``w_i`` or constant and (one respondent per PSU) its
    ``psw`` proportional to ``w``: always, unless the weights were changed
    after calibration (:func:`scoring.weighting.trim_weights`).
    """
    key = "joint_cells"
    if key not in design._cache:
        design._cache[key] = _build(design)
    cached = design._cache[key]
    return cached if isinstance(cached, JointCells) else None


def grouped_joint_cells(design: SurveyDesign, one_row: bool) -> JointCells | None:
    """:func:`joint_cells` of a design over groups of respondents (``design.frequency``).

    ``one_row``: every PSU of the sample is one respondent (the groups are not
    PSUs). The factors are per respondent, the tables sums over respondents.
    """
    return _build(design, one_row)


def _build(design: SurveyDesign, one_row: bool | None = None) -> JointCells | None:
    cells = design.calibration_cells()
    n, terms = cells.cells.shape
    total = cells.n_cells
    key = np.zeros(n, dtype=np.int64)
    for j in range(terms):
        if int(key.max()) >= 2**62 // total:
            key = pd.factorize(key)[0].astype(np.int64)
        key = key * total + cells.cells[:, j]
    joint_codes, uniques = pd.factorize(key, sort=True)
    joint = joint_codes.astype(np.intp)
    first = np.empty(uniques.shape[0], dtype=np.intp)
    first[joint[::-1]] = np.arange(n - 1, -1, -1)
    frequency = design.frequency
    # Per respondent: a row standing for several respondents has their total weight.
    w = design.weights if frequency is None else design.weights / frequency
    weight_factor = np.zeros((first.shape[0], terms))
    count_factor = np.zeros_like(weight_factor)
    for j in range(terms):
        factor = cells.row_factor[:, j]
        constant = _constant(factor, joint, first)
        if constant is not None:
            weight_factor[:, j] = constant
            continue
        constant = _constant(factor * w, joint, first)
        if constant is None:
            return None
        count_factor[:, j] = constant
    if one_row is None:
        one_row = design.n_psu == design.n
    psw_ratio = None
    if one_row:
        psw_ratio = np.zeros_like(weight_factor)
        for j in range(terms):
            constant = _constant(cells.psw[:, j] / design.weights, joint, first)
            if constant is None:
                return None
            psw_ratio[:, j] = constant
    if frequency is not None and one_row:
        # Respondents are the PSUs: sum_p P_p' P_p over a group of f respondents of one
        # weight is P' P / f for the group's totals P.
        unit, unit_stratum, n_units = np.arange(n), design.strata, n
        psw = cells.psw / np.sqrt(frequency)[:, None]
    else:
        unit, unit_stratum, n_units = design.psu, design.psu_stratum, design.n_psu
        psw = cells.psw
    psu_cells = sp.csr_matrix(
        (psw.ravel(), (np.repeat(unit, terms), cells.cells.ravel())),
        shape=(n_units, total),
    )
    h = design.n_strata
    stratum_cells: FloatArray = (
        np.bincount(
            (design.strata[:, None] * total + cells.cells).ravel(),
            weights=cells.psw.ravel(),
            minlength=h * total,
        )
        .reshape(h, total)
        .astype(np.float64)
    )
    coo = psu_cells.tocoo()
    by_stratum = sp.csr_matrix(
        (coo.data, (unit_stratum[coo.row] * total + coo.col, coo.row)),
        shape=(h * total, n_units),
    )
    gram = np.asarray((by_stratum @ psu_cells).toarray()).reshape(h, total, total)
    return JointCells(
        joint=joint,
        cell=cells.cells[first],
        weight_factor=weight_factor,
        count_factor=count_factor,
        psw_ratio=psw_ratio,
        solve=cells.solve,
        psu_cells=psu_cells,
        stratum_cells=stratum_cells,
        stratum_gram=gram,
    )


def _constant(values: FloatArray, joint: IntArray, first: IntArray) -> FloatArray | None:
    """The value of each joint cell when ``values`` is constant within every one, else None."""
    per_cell = values[first]
    spread = np.abs(values - per_cell[joint])
    if bool((spread <= FACTOR_TOLERANCE * np.abs(values)).all()):
        return per_cell
    return None


def _cell_matrix(
    cal: JointCells, row: IntArray, joint: IntArray, factor: FloatArray, n_rows: int
) -> sp.csr_matrix:
    """Sparse (n_rows * T) x members: ``factor[joint, j]`` at row ``row * T + cell[joint, j]``."""
    t = cal.n_cells
    terms = cal.cell.shape[1]
    members = row.shape[0]
    return sp.csr_matrix(
        (
            factor[joint].ravel(),
            (
                (row[:, None] * t + cal.cell[joint]).ravel(),
                np.repeat(np.arange(members), terms),
            ),
        ),
        shape=(n_rows * t, members),
    )


def cell_coefficients(
    cal: JointCells,
    domain: IntArray,
    joint: IntArray,
    weight: FloatArray,
    count: FloatArray,
    by_state: FloatArray,
) -> FloatArray:
    """``a = S b`` per domain and node, shape (D, T, m).

    ``domain``, ``joint`` (members), ``weight`` and ``count`` (members x 2k)
    describe groups of the domains' respondents: their sums of ``w`` and
    respondents per answer state; ``by_state`` (D, 2k, m) the linearisation
    variable of each node per state.
    """
    n_dom = by_state.shape[0]
    t = cal.n_cells
    b = _cell_matrix(cal, domain, joint, cal.weight_factor, n_dom) @ weight
    b = b + _cell_matrix(cal, domain, joint, cal.count_factor, n_dom) @ count
    b_nodes = np.matmul(np.asarray(b).reshape(n_dom, t, -1), by_state)
    return np.asarray(np.matmul(cal.solve, b_nodes))


def row_cross(
    cal: JointCells,
    cell: IntArray,
    joint: IntArray,
    square: FloatArray,
    by_state: FloatArray,
    cell_domain: IntArray,
    coefficients: FloatArray,
) -> FloatArray:
    """``sum_i X_i P_i a`` per (domain, stratum) cell, one respondent per PSU: (cells, m).

    ``cell``, ``joint`` and ``square`` (sums of ``w^2`` per state) describe
    the groups of each cell.
    """
    assert cal.psw_ratio is not None
    n_cells = cell_domain.shape[0]
    t = cal.n_cells
    sums = _cell_matrix(cal, cell, joint, cal.psw_ratio, n_cells) @ square
    per_cell = np.matmul(np.asarray(sums).reshape(n_cells, t, -1), by_state[cell_domain])
    return np.asarray(np.einsum("ctm,ctm->cm", per_cell, coefficients[cell_domain]))


def psu_cross(
    cal: JointCells,
    unit_psu: IntArray,
    unit_cell: IntArray,
    z: FloatArray,
    cell_domain: IntArray,
    coefficients: FloatArray,
) -> FloatArray:
    """``sum_p X_p P_p a`` per (domain, stratum) cell from the units' totals ``z``: (cells, m)."""
    n_cells = cell_domain.shape[0]
    t = cal.n_cells
    rows = cal.psu_cells[unit_psu].tocoo()
    spread = sp.csr_matrix(
        (rows.data, (unit_cell[rows.row] * t + rows.col, rows.row)),
        shape=(n_cells * t, unit_psu.shape[0]),
    )
    per_cell = np.asarray(spread @ z).reshape(n_cells, t, -1)
    return np.asarray(np.einsum("ctm,ctm->cm", per_cell, coefficients[cell_domain]))


def stratum_sums(
    design: SurveyDesign,
    cal: JointCells,
    coefficients: FloatArray,
    cell_domain: IntArray,
    cell_stratum: IntArray,
    first: FloatArray,
    second: FloatArray,
    cross: FloatArray,
) -> tuple[FloatArray, IntArray, IntArray]:
    """Per (domain, stratum) ``sum_p (Z_p - Zbar_h)^2`` over every stratum, as ``svyrecvar``.

    ``first``, ``second`` and ``cross`` are ``sum X_p``, ``sum X_p^2`` and
    ``sum X_p P_p a`` over the (domain, stratum) cells that hold respondents
    of the domain; elsewhere they are 0. Returns the sums (D * H, m), with the
    stratum and domain of each row, for
    :meth:`~scoring.design.SurveyDesign.stratum_variance`.
    """
    n_dom, _, m = coefficients.shape
    h = design.n_strata
    plain_first = np.zeros((n_dom, h, m))
    plain_second = np.zeros_like(plain_first)
    plain_first[cell_domain, cell_stratum] = first
    plain_second[cell_domain, cell_stratum] = second - 2.0 * cross
    total = plain_first - np.einsum("ht,dtm->dhm", cal.stratum_cells, coefficients)
    square = plain_second + _gram_terms(cal.stratum_gram, coefficients)
    n_h = design.psu_in_stratum.astype(np.float64)[None, :, None]
    sums = square - total * total / n_h
    # A lonely PSU is its stratum's mean: R centres it (to 0) except under 'adjust'.
    lonely = design.psu_in_stratum == 1
    sums[:, lonely] = square[:, lonely] if design.lonely_psu == "adjust" else 0.0
    stratum = np.tile(np.arange(h, dtype=np.intp), n_dom)
    group = np.repeat(np.arange(n_dom, dtype=np.intp), h)
    return sums.reshape(n_dom * h, m), stratum, group


def _gram_terms(gram: FloatArray, coefficients: FloatArray) -> FloatArray:
    """``a' M_h a`` per domain, stratum and node: (D, H, m), in blocks of strata."""
    n_dom, t, m = coefficients.shape
    h = gram.shape[0]
    out = np.empty((n_dom, h, m))
    step = max(1, GRAM_BLOCK // max(1, n_dom * t * m))
    for lo in range(0, h, step):
        hi = min(lo + step, h)
        projected = np.einsum("hts,dsm->dhtm", gram[lo:hi], coefficients)
        out[:, lo:hi] = np.einsum("dhtm,dtm->dhm", projected, coefficients)
    return out
