"""Design-based estimators by Taylor linearisation: shares, means, totals, ratios.

The core works on *base variables* ``Y`` (n x q: satisfied and valid
indicators of every item, or any numeric column). One pass over the rows
gives, for every domain at once, the weighted totals ``T = sum w y``, the
calibration-residualised PSU totals of ``w y``, the counts that define each
estimate's subset, and the weighted cross products ``sum w y y'`` used for
design effects. Every estimate (a ratio, a mean, a total, a linear
combination of them) is then a small matrix computation on these moments:

- a ratio ``R = a'T / b'T`` has influence PSU totals ``(Z a - R Z b) / b'T``
  and linearisation variable ``u_i = (a - R b)' y_i / b'T``;
- a linear combination of estimates combines their PSU totals and ``u``
  with the same coefficients, which carries every covariance between items
  (R: ``svycontrast`` on a ``svyratio``/``svymean`` with ``covmat``/``influence``).

Variances come from :meth:`scoring.design.SurveyDesign.variance`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.linalg import blas

from scoring.ci import ShareMethod, share_interval, wald_interval
from scoring.design import (
    FloatArray,
    IntArray,
    PSUTotalsAccumulator,
    RowSelection,
    SurveyDesign,
)
from scoring.errors import AnswerCodeError, DesignColumnError, ScoringError

DeffKind = Literal["replace", "srswor"]
ALL_ROWS = -1
RESULT_COLUMNS = (
    "domain",
    "level",
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "deff",
    "n_eff",
    "note",
)


# ------------------------------------------------------------------ domains
@dataclass(frozen=True, eq=False)
class Domains:
    """A partition of the respondents into domains (subpopulations).

    Attributes
    ----------
    name : str
        The column it comes from, or ``'overall'``.
    codes : ndarray of int, shape (n,)
        Domain of every row, ``-1`` for rows in none (missing value).
    labels : tuple
        Domain labels in code order.
    """

    name: str
    codes: IntArray
    labels: tuple[object, ...]

    @property
    def size(self) -> int:
        """Number of domains."""
        return len(self.labels)


DomainSpec = str | Sequence[str] | None


def domains_of(design: SurveyDesign, by: DomainSpec = None) -> Domains:
    """The domains defined by a column (or crossed columns) of ``design.data``.

    ``None`` is the whole sample (name ``'overall'``, one domain ``'all'``);
    a list of columns crosses them (name ``'agency x period'``, domain labels
    are tuples). Rows with a missing value in ``by`` belong to no domain.
    """
    if by is None:
        return Domains("overall", np.zeros(design.n, dtype=np.intp), ("all",))
    columns = [by] if isinstance(by, str) else list(by)
    for column in columns:
        if column not in design.data.columns:
            raise DesignColumnError(f"domain column {column!r} is not in the data")
    if len(columns) == 1:
        codes, uniques = pd.factorize(design.data[columns[0]], sort=True)
        return Domains(columns[0], codes.astype(np.intp), tuple(uniques.tolist()))
    frame = design.data[columns]
    missing = frame.isna().any(axis=1).to_numpy()
    keys = pd.Series(list(zip(*(frame[c].tolist() for c in columns), strict=True)))
    keys[missing] = None
    codes, uniques = pd.factorize(keys, sort=True)
    return Domains(" x ".join(columns), codes.astype(np.intp), tuple(uniques.tolist()))


# ------------------------------------------------------------------ moments
@dataclass(frozen=True, eq=False)
class Moments:
    """Weighted moments of base variables, per domain (see module docstring).

    Attributes
    ----------
    domains : Domains
    totals : ndarray, shape (D, q)
        ``sum w y`` per domain.
    psu : ndarray, shape (n_units, D, q)
        Calibration-residualised totals of ``w y`` per variance unit (PSU, or
        last-stage cluster of a multistage design) and domain (only the PSUs
        of ``psu_index`` when it is set).
    gram : ndarray, shape (D, q, q) or None
        ``sum w y y'`` per domain (None when design effects are not wanted).
    subset_count : ndarray, shape (D, s)
        Respondents in each subset (``ALL_ROWS`` or an indicator column of Y).
    subset_weight : ndarray, shape (D, s)
        Their weight sum ``N_S``.
    subset_psus : ndarray, shape (n_units, D, s)
        Respondents of each subset in each variance unit.
    subsets : tuple of int
        The subset definitions.
    psu_index : ndarray of int or None
        The PSUs of the first axis of ``psu`` and ``subset_psus`` when only
        the PSUs holding the rows of a batch of domains are kept; None for all.
    """

    domains: Domains
    totals: FloatArray
    psu: FloatArray
    gram: FloatArray | None
    subset_count: FloatArray
    subset_weight: FloatArray
    subset_psus: FloatArray
    subsets: tuple[int, ...]
    psu_index: IntArray | None = None


RowBuilder = Callable[[RowSelection], FloatArray]
# Rows per chunk of a pass (bounds the memory of the n x q blocks).
CHUNK_ROWS = 65_536
# Budget for one batch of domains: PSUs x domains x base variables, in float64 values.
MAX_DOMAIN_CELLS = 24_000_000


def compute_moments(
    design: SurveyDesign,
    build: RowBuilder,
    q: int,
    domains: Domains,
    subsets: Sequence[int],
    *,
    gram: bool = True,
    chunk_rows: int | None = None,
) -> Moments:
    """Stream the rows once and gather the moments of ``Y`` for every domain.

    Parameters
    ----------
    design : SurveyDesign
    build : callable
        ``build(rows)`` returns ``Y[rows]`` (float, rows x q) for a slice or
        an array of row indices.
    q : int
        Number of base variables.
    domains : Domains
    subsets : sequence of int
        Subset definitions: ``ALL_ROWS`` (the domain) or the index of a 0/1
        indicator column of ``Y`` (domain and indicator).
    gram : bool
        Gather ``sum w y y'`` for design effects.
    chunk_rows : int, optional
        Rows per chunk (bounds the memory used); default ``CHUNK_ROWS``.
    """
    return compute_moments_many(
        design, build, q, [domains], subsets, gram=gram, chunk_rows=chunk_rows
    )[0]


def compute_moments_many(
    design: SurveyDesign,
    build: RowBuilder,
    q: int,
    partitions: Sequence[Domains],
    subsets: Sequence[int],
    *,
    gram: bool = True,
    chunk_rows: int | None = None,
    rows: IntArray | None = None,
) -> list[Moments]:
    """:func:`compute_moments` for several domain partitions in a single pass over the rows.

    The weighted cross products of a partition that covers every row are
    summed over its domains to give those of the whole sample, so the costly
    ``sum w y y'`` is computed once per row and partition at most.

    ``rows`` (sorted indices) restricts the pass to the rows of the domains
    asked; rows outside every domain contribute nothing, even on calibrated
    designs.
    """
    subsets = tuple(subsets)
    n_sub = len(subsets)
    sub_index = np.array([s if s >= 0 else 0 for s in subsets], dtype=np.intp)
    all_rows = np.array([s < 0 for s in subsets], dtype=bool)
    complete = [bool((p.codes >= 0).all()) for p in partitions]
    # A one-domain complete partition (the whole sample) borrows the cross products of
    # another complete partition instead of computing its own.
    donor = next((i for i, p in enumerate(partitions) if complete[i] and p.size > 1), None)
    borrow = [
        gram and donor is not None and complete[i] and p.size == 1 for i, p in enumerate(partitions)
    ]
    # Restricted to some rows, only their PSUs get (nonzero) totals.
    psu_index = None if rows is None else np.unique(design.psu[rows])
    states = []
    for i, part in enumerate(partitions):
        acc = PSUTotalsAccumulator(design, part.codes, part.size, q, psu_index)
        states.append(
            _PartitionState(
                acc=acc,
                count=np.zeros((acc.n_rows * part.size, n_sub)),
                weight=np.zeros((acc.n_rows * part.size, n_sub)),
                gram=np.zeros((part.size, q, q)) if gram and not borrow[i] else None,
            )
        )
    total_rows = design.n if rows is None else rows.shape[0]
    step = CHUNK_ROWS if chunk_rows is None else chunk_rows
    for start in range(0, total_rows, step):
        stop = min(start + step, total_rows)
        sel: RowSelection = slice(start, stop) if rows is None else rows[start:stop]
        y = np.asarray(build(sel), dtype=np.float64)
        w = design.weights[sel]
        wy = y * w[:, None]
        s = y[:, sub_index]
        s[:, all_rows] = 1.0
        ws = s * w[:, None]
        root_wy = y * np.sqrt(w)[:, None] if gram else y
        for part, state in zip(partitions, states, strict=True):
            d = part.size
            indicator = state.acc.indicator(sel)
            state.acc.add(sel, wy, indicator)
            indicator.accumulate(state.count, s)
            indicator.accumulate(state.weight, ws)
            g = state.gram
            if g is None:
                continue
            dom = part.codes[sel]
            inside = np.flatnonzero(dom >= 0)
            if d == 1:
                _add_gram(g[0], root_wy if inside.size == dom.shape[0] else root_wy[inside])
            else:
                order = np.argsort(dom, kind="stable")
                bounds = np.searchsorted(dom[order], np.arange(d + 1))
                for k in range(d):
                    # Not ``rows``: that name is the pass's row selection, read every chunk.
                    members = order[bounds[k] : bounds[k + 1]]
                    if members.size:
                        _add_gram(g[k], root_wy[members])
    out: list[Moments] = []
    for i, (part, state) in enumerate(zip(partitions, states, strict=True)):
        d = part.size
        acc = state.acc
        g = state.gram
        if borrow[i] and donor is not None:
            donor_gram = states[donor].gram
            assert donor_gram is not None
            g = donor_gram.sum(axis=0, keepdims=True)
        count = state.count.reshape(acc.n_rows, d, n_sub)
        weight = state.weight.reshape(acc.n_rows, d, n_sub)
        out.append(
            Moments(
                domains=part,
                totals=acc.totals.reshape(acc.n_rows, d, q).sum(axis=0),
                psu=acc.result(),
                gram=g,
                subset_count=count.sum(axis=0),
                subset_weight=weight.sum(axis=0),
                subset_psus=count,
                subsets=subsets,
                psu_index=acc.psu_index,
            )
        )
    return out


@dataclass(eq=False)
class _PartitionState:
    acc: PSUTotalsAccumulator
    count: FloatArray
    weight: FloatArray
    gram: FloatArray | None


def iter_moments(
    design: SurveyDesign,
    build: RowBuilder,
    q: int,
    partitions: Sequence[Domains],
    subsets: Sequence[int],
    *,
    gram: bool = True,
    max_cells: int | None = None,
) -> Iterator[Moments]:
    """Moments of every partition, in batches of domains that fit in memory.

    Partitions with few domains share one pass over all rows
    (:func:`compute_moments_many`). A partition with many domains (every
    desk, say) is cut into batches of consecutive domains such that
    PSUs x domains x ``q`` stays under ``max_cells``; each batch passes over
    its own rows only, so the work stays proportional to the sample.
    """
    budget = MAX_DOMAIN_CELLS if max_cells is None else max_cells
    width = max(q, 1)
    units = design.n_units
    small = [p for p in partitions if p.size * units * width <= budget]
    if small:
        yield from compute_moments_many(design, build, q, small, subsets, gram=gram)
    for part in partitions:
        if part.size * units * width <= budget:
            continue
        order = np.argsort(part.codes, kind="stable")
        bounds = np.searchsorted(part.codes[order], np.arange(part.size + 1))
        # Uncalibrated batches stay far below the memory budget: their work grows
        # with PSUs x domains, most of which are empty. Calibrated ones are dense.
        shrink = 2 if design.is_calibrated or design.stages else 12
        for lo, hi in _domain_batches(design, part, max(1, budget // (shrink * width))):
            rows = np.sort(order[bounds[lo] : bounds[hi]])
            codes = np.where((part.codes >= lo) & (part.codes < hi), part.codes - lo, -1)
            piece = Domains(part.name, codes.astype(np.intp), part.labels[lo:hi])
            yield from compute_moments_many(
                design, build, q, [piece], subsets, gram=gram, rows=rows
            )


def _domain_batches(design: SurveyDesign, part: Domains, budget: int) -> list[tuple[int, int]]:
    """Consecutive domain ranges whose PSUs x domains stay within ``budget``.

    An uncalibrated one-stage design keeps only the PSUs a batch touches (at
    most the sum of each domain's PSU count); a calibrated or multistage one
    keeps every variance unit.
    """
    if design.is_calibrated or design.stages:
        psus_per_domain = np.full(part.size, design.n_units, dtype=np.int64)
    else:
        inside = part.codes >= 0
        pairs = np.unique(part.codes[inside].astype(np.int64) * design.n_psu + design.psu[inside])
        psus_per_domain = np.bincount(pairs // design.n_psu, minlength=part.size)
    batches: list[tuple[int, int]] = []
    lo, psus = 0, 0
    for k in range(part.size):
        psus_k = int(min(psus + psus_per_domain[k], design.n_units))
        if k > lo and psus_k * (k - lo + 1) > budget:
            batches.append((lo, k))
            lo, psus_k = k, int(psus_per_domain[k])
        psus = psus_k
    batches.append((lo, part.size))
    return batches


def _add_gram(target: FloatArray, root_wy: FloatArray) -> None:
    """``target += X'X`` for ``X = sqrt(w) y`` (BLAS syrk: half the work of a product)."""
    # X' of a C-ordered X is Fortran-ordered: syrk reads it without a copy.
    upper = blas.dsyrk(1.0, np.ascontiguousarray(root_wy).T, trans=0)
    target += upper + np.triu(upper, 1).T


# ------------------------------------------------------- linear estimates
@dataclass(frozen=True, eq=False)
class LinearEstimates:
    """``m`` estimates per domain with their linearisation.

    Attributes
    ----------
    estimate : ndarray, shape (D, m)
    psu : ndarray, shape (n_units, D, m)
        Unit totals of the influence values (units as in ``Moments.psu``).
    u : ndarray, shape (D, q, m)
        Coefficients of the linearisation variable ``u_i = y_i' u[d, :, j]``.
    subset : ndarray of int, shape (m,)
        Index into ``Moments.subsets`` of each estimate's subset (for n, df,
        design effect).
    share : ndarray of bool, shape (m,)
        Shares take share intervals (:func:`scoring.ci.share_interval`),
        other estimates Wald t intervals.
    names : tuple of str
    """

    estimate: FloatArray
    psu: FloatArray
    u: FloatArray
    subset: IntArray
    share: NDArray[np.bool_]
    names: tuple[str, ...]


def ratio_estimates(
    moments: Moments,
    numerator: FloatArray,
    denominator: FloatArray | None,
    subset: Sequence[int] | range,
    names: Sequence[str],
    share: Sequence[bool] | bool = False,
) -> LinearEstimates:
    """Ratios ``a'T / b'T`` (or totals ``a'T`` when ``denominator`` is None).

    Parameters
    ----------
    moments : Moments
    numerator : ndarray, shape (q, m)
        Coefficients ``a`` of each estimate's numerator on the base variables.
    denominator : ndarray, shape (q, m) or None
        Coefficients ``b`` of the denominator; None for totals.
    subset : sequence of int, length m
        Index into ``moments.subsets`` for each estimate.
    names : sequence of str
    share : bool or sequence of bool
        Whether each estimate is a share (in [0, 1]).

    Notes
    -----
    ``R = a'T / b'T``; influence ``w_i (a - R b)' y_i / b'T``; for a total the
    influence is ``w_i a' y_i``.

    References
    ----------
    Matches R survey::svyratio (and svymean, svytotal) on ``subset(design, ...)``.
    """
    num = np.asarray(numerator, dtype=np.float64)
    m = num.shape[1]
    t = moments.totals
    if denominator is None:
        est = t @ num  # (D, m)
        psu = _psu_times(moments.psu, num)
        u = np.broadcast_to(num, (t.shape[0],) + num.shape).copy()
    else:
        den = np.asarray(denominator, dtype=np.float64)
        est, r, inv, u = ratio_terms(t, num, den)
        zn = _psu_times(moments.psu, num)
        zd = _psu_times(moments.psu, den)
        psu = (zn - r[None] * zd) * inv[None]
    flags = np.broadcast_to(np.asarray(share, dtype=bool), (m,)).copy()
    return LinearEstimates(
        estimate=est,
        psu=psu,
        u=u,
        subset=np.asarray(subset, dtype=np.intp),
        share=flags,
        names=tuple(names),
    )


def ratio_terms(
    totals: FloatArray, numerator: FloatArray, denominator: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Ratios ``R = a'T / b'T`` per domain and the terms of their linearisation.

    Parameters
    ----------
    totals : ndarray, shape (D, q)
        Weighted totals ``T`` of the base variables per domain.
    numerator, denominator : ndarray, shape (q, m)
        Coefficients ``a`` and ``b`` of each ratio.

    Returns
    -------
    estimate : ndarray, shape (D, m)
        ``R``, NaN where ``b'T = 0``.
    ratio, inverse : ndarray, shape (D, m)
        ``R`` and ``1 / b'T``, both 0 where ``b'T = 0``.
    u : ndarray, shape (D, q, m)
        ``(a - R b) / b'T``: the linearisation variable is ``u_i = y_i' u``.
    """
    top = totals @ numerator
    bottom = totals @ denominator
    with np.errstate(invalid="ignore", divide="ignore"):
        est = top / bottom
        ok = bottom != 0
        r = np.where(ok, est, 0.0)
        inv = np.where(ok, 1.0 / np.where(ok, bottom, 1.0), 0.0)
    est = np.where(ok, est, np.nan)
    u = (numerator[None, :, :] - r[:, None, :] * denominator[None, :, :]) * inv[:, None, :]
    return est, r, inv, u


def combined_terms(
    estimate: FloatArray, u: FloatArray, coefficients: FloatArray, constant: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Estimates ``c0 + C' theta`` and linearisation coefficients ``u C`` (see :func:`combine`).

    ``estimate`` is (D, m), ``u`` (D, q, m), ``coefficients`` (m, r) and
    ``constant`` (r,); returns (D, r) and (D, q, r).
    """
    # 0 * NaN must stay 0: a child that is not part of a combination never spoils it.
    est = _nan_matmul(estimate, coefficients) + constant[None, :]
    return est, _psu_times(u, coefficients)


def combine(
    parts: LinearEstimates,
    coefficients: FloatArray,
    subset: Sequence[int],
    names: Sequence[str],
    *,
    constant: FloatArray | float = 0.0,
    share: Sequence[bool] | bool = False,
) -> LinearEstimates:
    """Linear combinations ``c0 + C' theta`` of estimates, with their covariances.

    Parameters
    ----------
    parts : LinearEstimates
        ``m`` estimates.
    coefficients : ndarray, shape (m, r)
        One column per combination.
    subset, names, share
        As in :func:`ratio_estimates`, for the ``r`` combinations.
    constant : float or ndarray, shape (r,)
        Added to each combination (e.g. the ``low`` of a range mapping).

    Notes
    -----
    ``theta_c = c0 + sum_k c_k theta_k``; its influence is
    ``sum_k c_k infl_k``, so ``Var = c' Sigma c`` with the full covariance
    ``Sigma`` of the items.

    References
    ----------
    Matches R survey::svycontrast on the joint ``svyratio``/``svymean`` estimates.
    """
    c = np.asarray(coefficients, dtype=np.float64)
    const = np.broadcast_to(np.asarray(constant, dtype=np.float64), (c.shape[1],))
    est, u = combined_terms(parts.estimate, parts.u, c, const)
    psu = _psu_times(parts.psu, c)
    flags = np.broadcast_to(np.asarray(share, dtype=bool), (c.shape[1],)).copy()
    return LinearEstimates(
        estimate=est,
        psu=psu,
        u=u,
        subset=np.asarray(subset, dtype=np.intp),
        share=flags,
        names=tuple(names),
    )


def _psu_times(values: FloatArray, c: FloatArray) -> FloatArray:
    """``values @ c`` over the last axis of a 3-d array (one BLAS product)."""
    a, b, m = values.shape
    return np.asarray((values.reshape(a * b, m) @ c).reshape(a, b, c.shape[1]))


def _nan_matmul(values: FloatArray, c: FloatArray) -> FloatArray:
    filled = np.where(np.isnan(values), 0.0, values)
    out = filled @ c
    missing = np.isnan(values).astype(np.float64) @ (c != 0).astype(np.float64)
    return np.where(missing > 0, np.nan, out)


def stack(parts: Sequence[LinearEstimates]) -> LinearEstimates:
    """Concatenate estimate sets (same moments) side by side."""
    return LinearEstimates(
        estimate=np.concatenate([p.estimate for p in parts], axis=1),
        psu=np.concatenate([p.psu for p in parts], axis=2),
        u=np.concatenate([p.u for p in parts], axis=2),
        subset=np.concatenate([p.subset for p in parts]),
        share=np.concatenate([p.share for p in parts]),
        names=tuple(n for p in parts for n in p.names),
    )


# --------------------------------------------------------------- results
def summarise(
    design: SurveyDesign,
    moments: Moments,
    est: LinearEstimates,
    *,
    level: float = 0.95,
    method: ShareMethod = "logit",
    deff: DeffKind = "replace",
    reported_n: FloatArray | None = None,
) -> pd.DataFrame:
    """Estimates, SEs, CIs, df, n and design effects as a long table.

    One row per (estimate, domain): columns ``name``, ``domain``, ``level``,
    ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``df``, ``n``, ``deff``,
    ``n_eff`` and ``note``.

    Notes
    -----
    - ``df`` is ``degf(subset(design, S))``: PSUs minus strata holding a
      respondent of the estimate's subset ``S`` (domain, and for an item
      its valid answers).
    - ``deff = V / V_srs`` with, for the linearisation variable ``u`` over
      ``S`` (``n`` respondents, weight sum ``N``),
      ``s2 = n/(n-1) * sum_S w (u - ubar)^2 / N`` and
      ``V_srs = N^2 s2 / n`` (``deff='replace'``, R ``deff="replace"``) or
      ``V_srs = N^2 s2 (N - n)/(N n)`` (``deff='srswor'``, R ``deff=TRUE``).
      ``n_eff = n / deff`` (Kish).
    - A subset with no respondents gives an explicit row with ``n = 0``,
      no estimate and a note; it never raises.
    - ``reported_n`` (D, m), when given, is the ``n`` column (and the ``n`` of
      ``n_eff``) instead of the subset's respondents, which still define df,
      the design effect and the intervals.

    References
    ----------
    Matches R survey::svymean / svyratio / svytotal ``deff=`` and
    ``degf(subset(design, ...))``; intervals as :mod:`scoring.ci`.
    """
    d, m = est.estimate.shape
    n_units = est.psu.shape[0]
    held = moments.subset_psus[:, :, est.subset] > 0  # (n_units, D, m)
    var = design.variance(
        est.psu.reshape(n_units, d * m),
        _units_present(design, held),
        moments.psu_index,
    ).reshape(d, m)
    n = moments.subset_count[:, est.subset]  # (D, m)
    big_n = moments.subset_weight[:, est.subset]
    present = design.psu_presence(held)  # (n_psu, D, m)
    psu_count = present.sum(axis=0)
    strata_count = _count_strata(design, present, moments.psu_index)
    df = (psu_count - strata_count).astype(np.float64)
    quad = lin = None
    if moments.gram is not None:
        quad = np.einsum("dqm,dqm->dm", np.matmul(moments.gram, est.u), est.u)
        lin = np.einsum("dq,dqm->dm", moments.totals, est.u)
    return summary_frame(
        design,
        moments.domains,
        est.names,
        est.share,
        est.estimate,
        var,
        n,
        big_n,
        df,
        quad,
        lin,
        level=level,
        method=method,
        deff=deff,
        reported_n=reported_n,
    )


def summary_frame(
    design: SurveyDesign,
    domains: Domains,
    names: Sequence[str],
    share: NDArray[np.bool_],
    estimate: FloatArray,
    var: FloatArray,
    n: FloatArray,
    big_n: FloatArray,
    df: FloatArray,
    quad: FloatArray | None,
    lin: FloatArray | None,
    *,
    level: float,
    method: ShareMethod,
    deff: DeffKind,
    reported_n: FloatArray | None = None,
    sample_size: int | None = None,
) -> pd.DataFrame:
    """The long table of :func:`summarise` from per-domain statistics.

    Arguments are (D, m) arrays over domains and estimates: the estimates,
    their variances, ``n``, the weight sums ``N`` and ``df`` of their
    subsets, and for design effects ``quad = sum_S w u^2`` and
    ``lin = sum_S w u`` of the linearisation variable (None: no design
    effects). ``share`` (m,) says which estimates take share intervals.
    ``reported_n`` (D, m), if given, is the ``n`` column and the ``n`` of
    ``n_eff`` (see :func:`summarise`). ``sample_size``: the design's respondents
    (default ``design.n``, its rows).
    """
    d, m = estimate.shape
    se = np.sqrt(np.maximum(var, 0.0))
    deff_values = np.full((d, m), np.nan)
    if quad is not None and lin is not None:
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_u = lin / big_n
            s2 = (quad / big_n - mean_u**2) * n / (n - 1)
            if deff == "replace":
                vsrs = big_n**2 * s2 / n
            else:
                vsrs = big_n**2 * s2 * (big_n - n) / (big_n * n)
            ok = (n > 1) & (vsrs > 0)
            deff_values = np.where(ok, var / np.where(ok, vsrs, 1.0), np.nan)
    shown = n if reported_n is None else reported_n
    with np.errstate(invalid="ignore", divide="ignore"):
        n_eff = np.where(np.isfinite(deff_values) & (deff_values > 0), shown / deff_values, np.nan)

    low = np.full((d, m), np.nan)
    high = np.full((d, m), np.nan)
    rows = design.n if sample_size is None else sample_size
    n_rows = np.full((d, m), float(rows)) if design.is_calibrated else n
    defined = ~np.isnan(estimate)
    shares = defined & share[None, :]
    if shares.any():
        low[shares], high[shares] = share_interval(
            estimate[shares],
            se[shares],
            df[shares],
            level,
            method,
            n_rows=n_rows[shares],
            n_valid=n[shares],
        )
    others = defined & ~share[None, :]
    if others.any():
        low[others], high[others] = wald_interval(estimate[others], se[others], df[others], level)

    notes = np.full((d, m), "", dtype=object)
    notes[df <= 0] = "no degrees of freedom: no confidence interval"
    notes[~np.isfinite(deff_values) & (n > 0)] = _join(
        notes[~np.isfinite(deff_values) & (n > 0)], "design effect undefined"
    )
    undefined = np.isnan(estimate)
    notes[undefined] = "no valid answers in domain"
    se = np.where(undefined, np.nan, se)
    # Without an estimate there is no design effect: what the sums give there is the
    # arithmetic of an undefined ratio.
    deff_values = np.where(undefined, np.nan, deff_values)
    n_eff = np.where(undefined, np.nan, n_eff)

    labels = np.empty(len(domains.labels), dtype=object)
    labels[:] = list(domains.labels)  # element-wise, so tuples stay labels
    frame = pd.DataFrame(
        {
            "name": np.repeat(np.array(names, dtype=object), d),
            "domain": domains.name,
            "level": np.tile(labels, m),
            "estimate": estimate.T.ravel(),
            "se": se.T.ravel(),
            "ci_low": low.T.ravel(),
            "ci_high": high.T.ravel(),
            "df": df.T.ravel().astype(np.int64),
            "n": shown.T.ravel().astype(np.int64),
            "deff": deff_values.T.ravel(),
            "n_eff": n_eff.T.ravel(),
            "note": notes.T.ravel(),
        }
    )
    return frame


def _join(existing: NDArray[np.object_], text: str) -> NDArray[np.object_]:
    return np.array([f"{e}; {text}" if e else text for e in existing], dtype=object)


def _count_strata(
    design: SurveyDesign, present: NDArray[np.bool_], psu_index: IntArray | None
) -> FloatArray:
    """Strata holding at least one present PSU, per (domain, estimate)."""
    n_psu, d, m = present.shape
    indicator = design.stratum_indicator(psu_index)
    per_stratum = indicator @ present.reshape(n_psu, d * m).astype(np.float64)
    return np.asarray((per_stratum > 0).sum(axis=0), dtype=np.float64).reshape(d, m)


def _units_present(design: SurveyDesign, held: NDArray[np.bool_]) -> NDArray[np.bool_] | None:
    """Units (n_units, D * m) holding a respondent of each estimate's subset, for 'average'."""
    if design.lonely_psu != "average" or design.is_calibrated:
        # Only 'average' counts strata; R keeps every row of a calibrated design in a subset.
        return None
    return held.reshape(held.shape[0], -1)


# -------------------------------------------------------- public helpers
def _column(design: SurveyDesign, column: str) -> FloatArray:
    if column not in design.data.columns:
        raise DesignColumnError(f"column {column!r} is not in the data")
    try:
        return np.asarray(pd.to_numeric(design.data[column]), dtype=np.float64)
    except (TypeError, ValueError):
        raise DesignColumnError(f"column {column!r} is not numeric") from None


def estimate_mean(
    design: SurveyDesign,
    column: str,
    by: DomainSpec = None,
    *,
    valid: Sequence[float] | None = None,
    level: float = 0.95,
    deff: DeffKind = "replace",
) -> pd.DataFrame:
    """Weighted mean of a column per domain (e.g. the mean score 1-5 of an item).

    Parameters
    ----------
    design : SurveyDesign
    column : str
    by : str or list of str, optional
        Domain column(s).
    valid : sequence of float, optional
        Only these values count (e.g. 1-5, leaving out 9 "Không có ý kiến");
        by default every non-missing value.
    level, deff
        Interval level; design-effect reference (see :func:`summarise`).

    Notes
    -----
    ``ybar = sum w y / sum w`` over respondents of the domain with a valid
    value; influence ``w_i (y_i - ybar) / sum w``; Wald t interval on ``degf``.

    References
    ----------
    Matches R ``svymean(~y, subset(design, dom & valid), deff=)`` and
    ``confint(..., df=degf(...))``.
    """
    y = _column(design, column)
    has = ~np.isnan(y)
    if valid is not None:
        has &= np.isin(y, np.asarray(valid, dtype=np.float64))
    yy = np.column_stack([np.where(has, y, 0.0), has.astype(np.float64)])
    return _table(
        design,
        lambda rows: yy[rows],
        2,
        by,
        [1],
        np.array([[1.0], [0.0]]),
        np.array([[0.0], [1.0]]),
        [column],
        level=level,
        deff=deff,
    )


def estimate_total(
    design: SurveyDesign,
    column: str,
    by: DomainSpec = None,
    *,
    level: float = 0.95,
    deff: DeffKind = "replace",
) -> pd.DataFrame:
    """Weighted total of a column per domain (missing values count as 0).

    Notes
    -----
    ``Y = sum w y``; influence ``w_i y_i``; Wald t interval.

    References
    ----------
    Matches R ``svytotal(~y, subset(design, dom), deff=)``.
    """
    y = _column(design, column)
    yy = np.where(np.isnan(y), 0.0, y)[:, None]
    return _table(
        design,
        lambda rows: yy[rows],
        1,
        by,
        [ALL_ROWS],
        np.array([[1.0]]),
        None,
        [column],
        level=level,
        deff=deff,
    )


def estimate_ratio(
    design: SurveyDesign,
    numerator: str,
    denominator: str,
    by: DomainSpec = None,
    *,
    level: float = 0.95,
    deff: DeffKind = "replace",
) -> pd.DataFrame:
    """Ratio of two weighted totals per domain.

    Notes
    -----
    ``R = sum w y / sum w x``; influence ``w_i (y_i - R x_i) / sum w x``.

    References
    ----------
    Matches R ``svyratio(~y, ~x, subset(design, dom), deff=)``.
    """
    y = _column(design, numerator)
    x = _column(design, denominator)
    yy = np.column_stack([np.nan_to_num(y), np.nan_to_num(x)])
    return _table(
        design,
        lambda rows: yy[rows],
        2,
        by,
        [ALL_ROWS],
        np.array([[1.0], [0.0]]),
        np.array([[0.0], [1.0]]),
        [f"{numerator}/{denominator}"],
        level=level,
        deff=deff,
    )


def estimate_shares(
    design: SurveyDesign,
    items: Sequence[str],
    satisfied: Sequence[int] = (4, 5),
    valid: Sequence[int] | dict[str, Sequence[int]] | None = None,
    by: DomainSpec = None,
    *,
    level: float = 0.95,
    method: ShareMethod = "logit",
    deff: DeffKind = "replace",
) -> pd.DataFrame:
    """Share of satisfied answers among valid answers, for each item and domain.

    Parameters
    ----------
    design : SurveyDesign
    items : sequence of str
        Item columns (answer codes; blank = no answer).
    satisfied : sequence of int
        Codes counted as satisfied (default 4 and 5).
    valid : sequence of int or dict, optional
        Valid codes (for every item, or per item ``{item: codes}``); answers
        with other codes (e.g. 9 "Không có ý kiến") and blanks are out of the
        denominator. By default every non-blank answer is valid. (Codes
        are checked against the scale by :func:`scoring.index_tree.compute_index_tree`.)
    by : str or list of str, optional
        Domain column(s); a list crosses them.
    level, method, deff
        Interval level and method (:func:`scoring.ci.share_interval`),
        design-effect reference.

    Notes
    -----
    ``p = sum w 1[y in satisfied] / sum w 1[y valid]`` over the domain;
    influence ``w_i (s_i - p v_i) / sum w v``.

    References
    ----------
    Matches R ``svyciprop(~I(y %in% c(4,5)), subset(design, dom & valid),
    method=)``, which equals ``svyratio(~sat, ~valid, subset(design, dom))``
    for the estimate and SE; df and deff are those of the
    ``subset(design, dom & valid)`` design.
    """
    data = design.data
    k = len(items)
    codes = np.empty((design.n, k))
    for j, item in enumerate(items):
        if item not in data.columns:
            raise DesignColumnError(f"item column {item!r} is not in the data")
        raw = data[item]
        values = np.asarray(pd.to_numeric(raw, errors="coerce"), dtype=np.float64)
        not_code = np.isnan(values) & raw.notna().to_numpy()
        if not_code.any():
            row = int(np.flatnonzero(not_code)[0])
            raise AnswerCodeError(
                f"item {item!r}: answer {raw.iloc[row]!r} at row {row} is not a code"
            )
        codes[:, j] = values
    valid_sets = _valid_sets(items, valid)
    sat = np.asarray(sorted(satisfied), dtype=np.float64)

    def build(rows: RowSelection) -> FloatArray:
        block = codes[rows]
        y = np.zeros((block.shape[0], 2 * k))
        for j in range(k):
            col = block[:, j]
            codes_j = valid_sets[j]
            v = ~np.isnan(col) if codes_j is None else np.isin(col, codes_j)
            y[:, k + j] = v
            y[:, j] = v & np.isin(col, sat)
        return y

    eye = np.eye(k)
    zeros = np.zeros((k, k))
    return _table(
        design,
        build,
        2 * k,
        by,
        [k + j for j in range(k)],
        np.vstack([eye, zeros]),
        np.vstack([zeros, eye]),
        list(items),
        share=True,
        level=level,
        method=method,
        deff=deff,
    )


def _table(
    design: SurveyDesign,
    build: RowBuilder,
    q: int,
    by: DomainSpec,
    subsets: Sequence[int],
    numerator: FloatArray,
    denominator: FloatArray | None,
    names: Sequence[str],
    *,
    share: bool = False,
    level: float,
    method: ShareMethod = "logit",
    deff: DeffKind,
) -> pd.DataFrame:
    """Ratios (one per subset) for every domain of ``by``, as a long table."""
    frames = [
        summarise(
            design,
            mom,
            ratio_estimates(mom, numerator, denominator, range(len(names)), names, share),
            level=level,
            method=method,
            deff=deff,
        )
        for mom in iter_moments(design, build, q, [domains_of(design, by)], subsets)
    ]
    return pd.concat(frames, ignore_index=True)


def _valid_sets(
    items: Sequence[str], valid: Sequence[int] | dict[str, Sequence[int]] | None
) -> list[FloatArray | None]:
    if valid is None:
        return [None] * len(items)
    if isinstance(valid, dict):
        out: list[FloatArray | None] = []
        for item in items:
            if item not in valid:
                raise ScoringError(f"no valid codes given for item {item!r}")
            out.append(np.asarray(sorted(valid[item]), dtype=np.float64))
        return out
    codes = np.asarray(sorted(valid), dtype=np.float64)
    return [codes] * len(items)
