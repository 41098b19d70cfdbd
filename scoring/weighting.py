"""Weights: design weights, post-stratification, raking and trimming.

Each function returns a new :class:`~scoring.design.SurveyDesign`; calibrated
designs remember their post-strata and raking margins so that standard errors
use residuals from them, exactly as R's ``survey`` does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.design import FloatArray, IntArray, PostStratum, Raking, SurveyDesign
from scoring.design import design_weights as design_weights  # public here too
from scoring.errors import CalibrationError, ConvergenceError, DesignColumnError

Population = Mapping[object, float] | pd.Series


@dataclass(frozen=True, eq=False)
class _Cells:
    codes: IntArray
    labels: tuple[object, ...]
    targets: FloatArray
    name: str


def _cells(design: SurveyDesign, by: str | Sequence[str], population: Population) -> _Cells:
    columns = [by] if isinstance(by, str) else list(by)
    name = " x ".join(columns)
    for column in columns:
        if column not in design.data.columns:
            raise DesignColumnError(f"calibration column {column!r} is not in the data")
        if design.data[column].isna().any():
            raise DesignColumnError(f"calibration column {column!r} has missing values")
    pop = pd.Series(population, dtype=np.float64) if isinstance(population, Mapping) else population
    if pop.isna().any() or (pop < 0).any():
        raise CalibrationError(f"population counts for {name} must be non-negative numbers")
    if len(columns) == 1:
        keys = pd.Series(design.data[columns[0]].to_numpy(), dtype=object)
        pop_keys: list[object] = list(pop.index)
    else:
        keys = pd.Series(list(zip(*(design.data[c].tolist() for c in columns), strict=True)))
        pop_keys = [tuple(k) if isinstance(k, tuple) else (k,) for k in pop.index]
    lookup = {k: i for i, k in enumerate(pop_keys)}
    codes = np.fromiter((lookup.get(k, -1) for k in keys), dtype=np.intp, count=len(keys))
    if (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise CalibrationError(
            f"cell {keys.iloc[row]!r} of {name} is in the sample but has no population count"
        )
    targets = pop.to_numpy(dtype=np.float64)
    sampled = np.bincount(codes, minlength=len(pop_keys)) > 0
    if (sampled & (targets <= 0)).any():
        cell = pop_keys[int(np.flatnonzero(sampled & (targets <= 0))[0])]
        raise CalibrationError(
            f"cell {cell!r} of {name} has respondents but a population count of 0"
        )
    empty = ~sampled & (targets > 0)
    if empty.any():
        cell = pop_keys[int(np.flatnonzero(empty)[0])]
        raise CalibrationError(
            f"cell {cell!r} of {name} has population {targets[empty][0]:g} but no respondent "
            "in the sample; merge it with a neighbouring cell"
        )
    return _Cells(codes, tuple(pop_keys), np.asarray(targets, dtype=np.float64), name)


def _post_stratify_weights(w: FloatArray, cells: _Cells) -> FloatArray:
    sample = np.bincount(cells.codes, weights=w, minlength=len(cells.labels))
    factor = np.divide(cells.targets, sample, out=np.ones_like(sample), where=sample > 0)
    return w * factor[cells.codes]


def post_stratify(
    design: SurveyDesign, by: str | Sequence[str], population: Population
) -> SurveyDesign:
    """Post-stratify the weights to known population counts (R ``postStratify``).

    Parameters
    ----------
    design : SurveyDesign
    by : str or sequence of str
        Column(s) whose (crossed) values are the post-strata.
    population : mapping or Series
        Population count per post-stratum, keyed by the value (or by a tuple
        of values for several columns).

    Returns
    -------
    SurveyDesign
        Weights ``w_i N_g / sum_{j in g} w_j``; variances use residuals from
        the post-stratum means.

    Raises
    ------
    CalibrationError
        A sampled cell has no population count, or a populated cell has no
        respondent (named).

    Notes
    -----
    In ``survey:::svyrecvar`` the influence values ``x`` become
    ``x - w*_i sum_g(x oldw/w*) / sum_g(oldw)``.

    References
    ----------
    Matches R survey::postStratify (survey 4.1-1).
    """
    cells = _cells(design, by, population)
    new = _post_stratify_weights(design.weights, cells)
    record = PostStratum(
        cells=cells.codes,
        n_cells=len(cells.labels),
        labels=cells.labels,
        weights=new,
        old_weights=design.weights,
        name=cells.name,
    )
    return design.with_weights(new, design.calibration + (record,))


def rake(
    design: SurveyDesign,
    margins: Sequence[tuple[str | Sequence[str], Population]],
    *,
    max_iter: int = 10,
    epsilon: float = 1.0,
) -> SurveyDesign:
    """Rake the weights to several margins by iterative post-stratification (R ``rake``).

    Parameters
    ----------
    design : SurveyDesign
    margins : sequence of (column(s), population)
        Each margin as for :func:`post_stratify`.
    max_iter : int
        Iteration cap (R ``control$maxit``, default 10).
    epsilon : float
        Convergence when the weighted counts of the cross-classification of
        all margin columns change by less than ``epsilon`` between two
        sweeps; below 1 it is a fraction of the total weight (R
        ``control$epsilon``).

    Returns
    -------
    SurveyDesign
        Raked weights; variances sweep the influence values over the margins
        ten times, as R.

    Raises
    ------
    ConvergenceError
        No convergence after ``max_iter`` sweeps (R only warns); the message
        names the margin and cell furthest from its population count.
    CalibrationError
        A cell is empty in the sample or missing from the population.

    References
    ----------
    Matches R survey::rake (survey 4.1-1) and its variance in ``svyrecvar``.
    """
    if not margins:
        raise CalibrationError("rake needs at least one margin")
    cells = [_cells(design, by, pop) for by, pop in margins]
    totals = [c.targets.sum() for c in cells]
    if max(totals) - min(totals) > 1e-6 * max(totals):
        raise CalibrationError(
            "raking margins have different population totals: "
            + ", ".join(f"{c.name}={t:g}" for c, t in zip(cells, totals, strict=True))
        )
    tolerance = epsilon * design.weights.sum() if epsilon < 1 else epsilon
    joint_columns: list[str] = []
    for by, _ in margins:
        for column in [by] if isinstance(by, str) else by:
            if column not in joint_columns:
                joint_columns.append(column)
    joint, _ = pd.factorize(
        pd.Series(list(zip(*(design.data[c].tolist() for c in joint_columns), strict=True)))
    )
    n_joint = int(joint.max()) + 1

    w = design.weights
    old_table = np.bincount(joint, weights=w, minlength=n_joint)
    records: list[PostStratum] = []
    converged = False
    for _ in range(max_iter):
        records = []
        for c in cells:
            new = _post_stratify_weights(w, c)
            records.append(PostStratum(c.codes, len(c.labels), c.labels, new, w, c.name))
            w = new
        new_table = np.bincount(joint, weights=w, minlength=n_joint)
        delta = float(np.max(np.abs(old_table - new_table)))
        if delta < tolerance:
            converged = True
            break
        old_table = new_table
    if not converged:
        worst_name, worst_cell, worst_gap = "", object(), -1.0
        for c in cells:
            got = np.bincount(c.codes, weights=w, minlength=len(c.labels))
            gap = np.abs(got - c.targets)
            i = int(np.argmax(gap))
            if gap[i] > worst_gap:
                worst_name, worst_cell, worst_gap = c.name, c.labels[i], float(gap[i])
        raise ConvergenceError(
            f"raking did not converge after {max_iter} iterations: margin {worst_name}, "
            f"cell {worst_cell!r} is {worst_gap:g} away from its population count"
        )
    return design.with_weights(w, design.calibration + (Raking(tuple(records)),))


def trim_weights(
    design: SurveyDesign,
    lower: float = -np.inf,
    upper: float = np.inf,
    *,
    strict: bool = False,
) -> SurveyDesign:
    """Trim weights to ``[lower, upper]`` and share the excess among the others (R ``trimWeights``).

    Parameters
    ----------
    design : SurveyDesign
    lower, upper : float
        Bounds for the weights.
    strict : bool
        Repeat until no weight is outside the bounds (R ``strict=TRUE``).

    Returns
    -------
    SurveyDesign

    Raises
    ------
    CalibrationError
        ``lower > upper``, or every weight is outside the bounds.

    Notes
    -----
    ``w' = min(max(w, lower), upper)``; the total trimmed off,
    ``sum(w - w')``, is added in equal parts to the weights that were
    inside the bounds, so the weight total is kept. Post-strata and raking
    margins of the design are kept as they were (as R does).

    References
    ----------
    Matches R survey::trimWeights (survey 4.1-1).
    """
    if lower > upper:
        raise CalibrationError(f"trimming bounds are reversed: lower {lower} > upper {upper}")
    w = design.weights
    for _ in range(10_000):
        outside = (w < lower) | (w > upper)
        if not outside.any():
            break
        if outside.all():
            raise CalibrationError(
                f"every weight is outside [{lower}, {upper}]; nothing to redistribute onto"
            )
        clipped = np.clip(w, lower, upper)
        trimmed = w - clipped
        clipped[~outside] += trimmed.sum() / np.count_nonzero(~outside)
        w = clipped
        if not strict:
            break
    return design.with_weights(w)
