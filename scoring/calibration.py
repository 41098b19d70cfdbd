"""Calibration to population totals of a model of factors (R ``survey::calibrate``).

``calibrate(design, "~agency + field", frame_counts, calfun="raking", bounds=(0.5, 3))``
gives weights ``w_i g_i`` whose totals of the model matrix's columns equal the
population's: the number of dossiers per agency and per procedure field, say,
known for every dossier from the one-stop system. The g-weights are
``g_i = 1 + F(m_i' eta)`` with ``F`` the calibration function (linear:
GREG; raking: ``exp(u) - 1``), truncated to ``bounds``, found by Newton
steps as R's ``grake`` takes them. Standard errors use the residuals of the
weighted regression of the influence values on the model matrix, as
``survey:::svyrecvar`` does for a ``greg_calibration``.

Formulas are R's, over factors only: terms joined by ``+``, interactions by
``:`` (``a*b`` is ``a + b + a:b``), an intercept unless ``- 1`` or ``+ 0``.
Every variable is a factor whose levels are the values in the sample; its
columns are coded as R's ``model.matrix`` codes them (treatment contrasts
where the term without the factor is in the model, indicators otherwise),
with R's column names (``(Intercept)``, ``agencyB``, ``agencyA:fieldX``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from scoring.design import FloatArray, IntArray, Regression, SurveyDesign, require_column
from scoring.errors import CalibrationError, ConvergenceError
from scoring.stages import plain

CalFun = Literal["linear", "raking"]
CALFUNS: tuple[str, ...] = ("linear", "raking")
Population = pd.DataFrame | Sequence[pd.DataFrame] | Mapping[str, float] | pd.Series

# R's grake: MASS::ginv(Tmat, tol = 256 * .Machine$double.eps).
_GINV_TOLERANCE = 256 * np.finfo(np.float64).eps
# R's grake rescales weights that are far below the population (sampling fractions given).
_RESCALE_THRESHOLD = 20.0
# Margins that give the population total differently disagree beyond this relative gap.
_TOTAL_TOLERANCE = 1e-6
_NAME = re.compile(r"[A-Za-z_.][A-Za-z0-9_.]*|`[^`]+`")


@dataclass(frozen=True)
class Formula:
    """A model formula of factors: its terms (tuples of factor names) and intercept."""

    terms: tuple[tuple[str, ...], ...]
    intercept: bool
    text: str

    @property
    def factors(self) -> tuple[str, ...]:
        """Every factor, in order of first appearance."""
        return tuple(dict.fromkeys(f for term in self.terms for f in term))


def parse_formula(text: str) -> Formula:
    """Read ``~ a + b + a:c - 1`` into terms, as R's ``terms()`` orders them.

    Raises
    ------
    CalibrationError
        Anything but factor names, ``+``, ``:``, ``*``, ``1``, ``0`` and ``- 1``.

    Notes
    -----
    ``a*b`` expands to ``a + b + a:b``; repeated terms count once; terms are
    ordered by their number of factors, then as written (R ``keep.order=FALSE``).
    """
    body = text.strip()
    if body.startswith("~"):
        body = body[1:]
    if not body.strip():
        raise CalibrationError(f"formula {text!r} has no terms")
    intercept = True
    terms: list[tuple[str, ...]] = []
    for sign, part in re.findall(r"([+-]?)\s*([^+-]+)", body):
        part = part.strip()
        if part in ("1", "0"):
            intercept = (part == "1") != (sign == "-")
            continue
        if sign == "-":
            raise CalibrationError(f"formula {text!r}: only '- 1' can be removed, not {part!r}")
        factors = [p.strip() for p in re.split(r"[:*]", part)]
        for factor in factors:
            if not _NAME.fullmatch(factor):
                raise CalibrationError(
                    f"formula {text!r}: {factor!r} is not a column name (factors only: "
                    "a + b, a:b, a*b, - 1)"
                )
        names = tuple(f.strip("`") for f in factors)
        if "*" in part:
            for size in range(1, len(names) + 1):
                for combo in _combinations(names, size):
                    terms.append(combo)
        else:
            terms.append(names)
    unique: list[tuple[str, ...]] = []
    for term in terms:
        if len(set(term)) != len(term):
            raise CalibrationError(f"formula {text!r}: term {':'.join(term)!r} repeats a factor")
        if not any(set(term) == set(seen) for seen in unique):
            unique.append(term)
    unique.sort(key=len)
    if not unique:
        raise CalibrationError(f"formula {text!r} has no factor")
    return Formula(tuple(unique), intercept, text.strip())


def _combinations(names: tuple[str, ...], size: int) -> list[tuple[str, ...]]:
    if size == 0:
        return [()]
    out = []
    for i, name in enumerate(names):
        for rest in _combinations(names[i + 1 :], size - 1):
            out.append((name,) + rest)
    return out


@dataclass(frozen=True)
class _Column:
    """A model-matrix column: the product of indicators ``factor == level``."""

    conditions: tuple[tuple[str, object], ...]

    @property
    def name(self) -> str:
        if not self.conditions:
            return "(Intercept)"
        return ":".join(f"{factor}{level}" for factor, level in self.conditions)

    @property
    def factors(self) -> tuple[str, ...]:
        return tuple(f for f, _ in self.conditions)


def _model_columns(formula: Formula, levels: Mapping[str, Sequence[object]]) -> list[_Column]:
    """Columns of R's ``model.matrix(formula)`` with treatment contrasts."""
    columns = [_Column(())] if formula.intercept else []
    seen: list[frozenset[str]] = [frozenset()] if formula.intercept else []
    for term in formula.terms:
        coded: list[list[object]] = []
        for factor in term:
            rest = frozenset(term) - {factor}
            contrasts = rest in seen
            coded.append(list(levels[factor][1:] if contrasts else levels[factor]))
        # The first factor varies fastest, as in R's column order.
        combos: list[tuple[object, ...]] = [()]
        for values in coded:
            combos = [c + (v,) for v in values for c in combos]
        for combo in combos:
            columns.append(_Column(tuple(zip(term, combo, strict=True))))
        seen.append(frozenset(term))
    return columns


def calibrate(
    design: SurveyDesign,
    formula: str,
    population: Population,
    *,
    calfun: CalFun = "linear",
    bounds: tuple[float, float] = (-np.inf, np.inf),
    count: str | None = None,
    max_iter: int = 50,
    epsilon: float = 1e-7,
) -> SurveyDesign:
    """Calibrate the weights to population totals of a model of factors (R ``calibrate``).

    Parameters
    ----------
    design : SurveyDesign
    formula : str
        R formula of factors, e.g. ``"~agency + field"`` or ``"~agency:field"``.
    population : DataFrame, sequence of DataFrame, mapping or Series
        Either population counts by cell (the formula's factor columns and
        one count column; several tables for margins: each column of the
        model takes its total from the first table holding its factors), or
        the totals of the model matrix's columns keyed by R's column names
        (``{"(Intercept)": 6194, "agencyB": 1111, ...}``).
    calfun : {'linear', 'raking'}
        Distance: linear (GREG, ``g = 1 + u``) or raking ratio (``g = exp(u)``).
    bounds : (float, float)
        Bounds on ``g = w_new / w`` (R ``bounds=c(lo, hi)``); the default is none.
    count : str, optional
        The count column of population tables; by default the one column
        that is not a factor of the formula.
    max_iter, epsilon : int, float
        Newton iterations and convergence tolerance on
        ``|population - calibrated total| / (1 + |population|)`` (R ``maxit``, ``epsilon``).

    Returns
    -------
    SurveyDesign
        Weights ``g_i w_i``; variances use the regression residuals.

    Raises
    ------
    CalibrationError
        A factor level in the sample but not in the population, a population
        cell with a count but no respondent, margins with different totals,
        or calibrated weights that are not positive (linear calibration
        without bounds); every message names the factor and level.
    ConvergenceError
        The totals cannot be met within ``bounds`` (R's "Calibration failed"):
        the message names the column furthest from its total.

    Notes
    -----
    With model matrix ``M``, weights ``w`` and population totals ``T``,
    ``g_i = 1 + F(m_i' eta)`` solves ``sum_i w_i g_i m_i = T``; ``F(u) = u``
    (linear) or ``exp(u) - 1`` (raking), truncated to ``[lo - 1, hi - 1]``.
    Linear calibration without bounds is the closed form
    ``g = 1 + M (M'WM)^+ (T - M'w)`` (R's ``regcalibrate``); otherwise
    Newton steps ``eta += (M' diag(w F'(M eta)) M)^+ (T - M'w - M'(w F(M eta)))``
    from ``eta = 0``, as R's ``grake``. Influence values ``x`` become the
    residuals ``x_i - g_i w_i m_i' B``,
    ``B = (M'WM)^+ sum_i m_i x_i / g_i``, before their totals enter the
    variance.

    References
    ----------
    Matches R survey::calibrate, ``survey:::grake``, ``survey:::regcalibrate``
    and ``survey:::svyrecvar`` (survey 4.1-1). Deville J.-C., Sarndal C.-E.
    (1992) Calibration estimators in survey sampling, JASA 87, 376-382.
    """
    if calfun not in CALFUNS:
        raise CalibrationError(f"calfun must be one of {', '.join(CALFUNS)}, not {calfun!r}")
    lo, hi = float(bounds[0]), float(bounds[1])
    if not lo < hi:
        raise CalibrationError(f"calibration bounds are reversed or equal: {lo} >= {hi}")
    parsed = parse_formula(formula)
    cells, levels, cell_values = _joint_cells(design.data, parsed.factors)
    columns = _model_columns(parsed, levels)
    model = np.array(
        [[_holds(column, values) for column in columns] for values in cell_values],
        dtype=np.float64,
    ).reshape(len(cell_values), len(columns))
    totals = _population_totals(parsed, columns, levels, population, count)
    model, columns, totals = _drop_empty(model, columns, totals)
    weight = np.bincount(cells, weights=design.weights, minlength=len(cell_values)).astype(
        np.float64
    )
    if calfun == "linear" and np.isneginf(lo) and np.isposinf(hi):
        gram = model.T @ (model * weight[:, None])
        lam = np.linalg.pinv(gram, hermitian=True) @ (totals - model.T @ weight)
        g = 1.0 + model @ lam
    else:
        g = _grake(model, weight, totals, calfun, lo, hi, epsilon, max_iter, parsed, columns)
    new = design.weights * g[cells]
    bad = ~np.isfinite(new) | (new <= 0)
    if bad.any():
        c = int(cells[np.flatnonzero(bad)[0]])
        raise CalibrationError(
            f"calibration ({calfun}) to {parsed.text} gives {int(bad.sum())} weights that are "
            f"not positive (g = {g[c]:.4g} in cell {_cell_text(parsed, cell_values[c])}); set "
            "bounds, e.g. bounds=(0.2, 5), or use calfun='raking'",
            code="not_positive",
            cell=_cell_text(parsed, cell_values[c]),
        )
    record = Regression(
        cells=cells,
        n_cells=len(cell_values),
        model=model,
        weights=new,
        old_weights=design.weights,
        name=parsed.text,
    )
    return design.with_weights(new, design.calibration + (record,))


def _holds(column: _Column, values: Mapping[str, object]) -> bool:
    return all(values[factor] == level for factor, level in column.conditions)


def _cell_text(formula: Formula, values: Mapping[str, object]) -> str:
    return ", ".join(f"{f}={values[f]!r}" for f in formula.factors)


def _joint_cells(
    data: pd.DataFrame, factors: Sequence[str]
) -> tuple[IntArray, dict[str, list[object]], list[dict[str, object]]]:
    """Joint cell of every row, each factor's levels, and each cell's levels."""
    for factor in factors:
        require_column(data, factor, "calibration")
    key = np.zeros(len(data), dtype=np.int64)
    levels: dict[str, list[object]] = {}
    for factor in factors:
        codes, uniques = pd.factorize(data[factor], sort=True)
        levels[factor] = list(uniques.tolist())
        key = key * len(uniques) + codes
    joint, uniques_key = pd.factorize(key, sort=True)
    cells = joint.astype(np.intp)
    first = np.zeros(len(uniques_key), dtype=np.intp)
    first[cells[::-1]] = np.arange(len(data) - 1, -1, -1)
    values = [{f: plain(data[f].iloc[int(i)]) for f in factors} for i in first.tolist()]
    return cells, levels, values


def _population_totals(
    formula: Formula,
    columns: Sequence[_Column],
    levels: Mapping[str, Sequence[object]],
    population: Population,
    count: str | None,
) -> FloatArray:
    """Population total of every model column, from cell counts or named totals."""
    if isinstance(population, pd.Series) or isinstance(population, Mapping):
        named = pd.Series(population, dtype=np.float64)
        names = [c.name for c in columns]
        missing = [n for n in names if n not in named.index]
        if missing:
            raise CalibrationError(
                f"population totals for {formula.text} lack column(s) {', '.join(missing)}; "
                f"the model has {', '.join(names)}"
            )
        extra = [n for n in named.index if n not in names and named[n] != 0]
        if extra:
            raise CalibrationError(
                f"population total(s) {', '.join(map(str, extra))} are not columns of "
                f"{formula.text} (levels absent from the sample?)"
            )
        return np.asarray(named[names].to_numpy(), dtype=np.float64)
    tables = [population] if isinstance(population, pd.DataFrame) else list(population)
    if not tables:
        raise CalibrationError(f"no population table for {formula.text}")
    prepared = [_table_counts(formula, table, count, levels) for table in tables]
    overall = [float(counts.sum()) for _, counts in prepared]
    if max(overall) - min(overall) > _TOTAL_TOLERANCE * max(overall):
        raise CalibrationError(
            "population tables have different totals: " + ", ".join(f"{t:g}" for t in overall)
        )
    totals = np.empty(len(columns))
    for j, column in enumerate(columns):
        source = next(
            (
                (frame, counts)
                for frame, counts in prepared
                if all(f in frame.columns for f in column.factors)
            ),
            None,
        )
        if source is None:
            raise CalibrationError(
                f"no population table holds {' x '.join(column.factors)} (column {column.name} "
                f"of {formula.text})"
            )
        frame, counts = source
        match = np.ones(len(frame), dtype=bool)
        for factor, level in column.conditions:
            match &= (frame[factor] == level).to_numpy()
        totals[j] = counts[match].sum()
    return totals


def _table_counts(
    formula: Formula,
    table: pd.DataFrame,
    count: str | None,
    levels: Mapping[str, Sequence[object]],
) -> tuple[pd.DataFrame, FloatArray]:
    """A population table's factor columns and counts, its levels checked against the sample."""
    factors = [c for c in table.columns if c in formula.factors]
    if count is None:
        others = [c for c in table.columns if c not in formula.factors]
        if len(others) != 1:
            raise CalibrationError(
                f"population table with columns {', '.join(map(str, table.columns))}: name its "
                "count column with count="
            )
        count = str(others[0])
    if count not in table.columns:
        raise CalibrationError(f"population table has no count column {count!r}")
    counts = pd.to_numeric(table[count], errors="coerce").to_numpy(dtype=np.float64)
    bad = np.isnan(counts) | (counts < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise CalibrationError(
            f"population count {count!r} at row {row} is not a non-negative number: "
            f"{table[count].iloc[row]!r}"
        )
    for factor in factors:
        values = table[factor]
        known = pd.Series(list(levels[factor]), dtype=object)
        unknown = ~values.isin(known).to_numpy() & (counts > 0)
        if unknown.any():
            row = int(np.flatnonzero(unknown)[0])
            raise CalibrationError(
                f"{factor} {plain(values.iloc[row])!r} has population {counts[row]:g} but no "
                "respondent in the sample; merge it with a neighbouring level",
                code="no_respondent",
                cell=f"{factor} = {plain(values.iloc[row])}",
                total=float(counts[row]),
            )
        absent = ~known.isin(values[counts > 0]).to_numpy()
        if absent.any():
            level = levels[factor][int(np.flatnonzero(absent)[0])]
            raise CalibrationError(
                f"{factor} {level!r} is in the sample but has no population count",
                code="no_population",
                cell=f"{factor} = {plain(level)}",
            )
    return table[factors], counts


def _drop_empty(
    model: FloatArray, columns: list[_Column], totals: FloatArray
) -> tuple[FloatArray, list[_Column], FloatArray]:
    """Drop columns empty in sample and population (R does); refuse a total with no respondent."""
    empty = ~(model != 0).any(axis=0)
    needed = empty & (totals != 0)
    if needed.any():
        j = int(np.flatnonzero(needed)[0])
        raise CalibrationError(
            f"model column {columns[j].name} has population total {totals[j]:g} but no "
            "respondent in the sample; merge its cells with neighbouring ones",
            code="no_respondent",
            cell=columns[j].name,
            total=float(totals[j]),
        )
    keep = ~empty
    return model[:, keep], [c for c, k in zip(columns, keep, strict=True) if k], totals[keep]


def _distance(calfun: str, u: FloatArray, lo: float, hi: float) -> tuple[FloatArray, FloatArray]:
    """R's ``cal.linear`` / ``cal.raking``: ``F(u)`` (Fm1) and its derivative (dF)."""
    inside = (u < hi - 1) & (u > lo - 1)
    if calfun == "linear":
        return np.clip(u + 1, lo, hi) - 1, inside.astype(np.float64)
    with np.errstate(over="ignore"):
        e = np.exp(u)
    return np.clip(e, lo, hi) - 1, np.where(inside, e, 0.0)


def _grake(
    model: FloatArray,
    weight: FloatArray,
    totals: FloatArray,
    calfun: str,
    lo: float,
    hi: float,
    epsilon: float,
    max_iter: int,
    formula: Formula,
    columns: Sequence[_Column],
) -> FloatArray:
    """g of every joint cell by R's ``grake`` Newton iteration (``sigma2 = 1``)."""
    sample = model.T @ weight
    with np.errstate(divide="ignore"):
        scales = totals / sample
    scale = None
    if float(np.min(scales)) > _RESCALE_THRESHOLD:
        # R rescales weights given as sampling fractions; bounds then apply after it.
        scale = float(np.mean(scales))
        weight = weight * scale
        sample = sample * scale
    eta = np.zeros(model.shape[1])
    u = model @ eta
    f, deriv = _distance(calfun, u, lo, hi)
    iteration = 1
    while True:
        tmat = model.T @ (model * (weight * deriv)[:, None])
        misfit = totals - sample - model.T @ (weight * f)
        step = np.linalg.pinv(tmat, rtol=_GINV_TOLERANCE) @ misfit
        eta = eta + step
        u = model @ eta
        f, deriv = _distance(calfun, u, lo, hi)
        while iteration < max_iter and not (np.isfinite(f).all() and np.isfinite(deriv).all()):
            iteration += 1
            step = step / 2
            eta = eta - step
            u = model @ eta
            f, deriv = _distance(calfun, u, lo, hi)
        misfit = totals - sample - model.T @ (weight * f)
        gap = np.abs(misfit) / (1 + np.abs(totals))
        if bool((gap < epsilon).all()):
            break
        iteration += 1
        if iteration > max_iter:
            j = int(np.nanargmax(gap))
            reached = totals[j] - misfit[j]
            raise ConvergenceError(
                f"calibration ({calfun}, bounds {lo:g} to {hi:g}) to {formula.text} failed "
                f"after {max_iter} iterations: total of {columns[j].name} is {reached:.6g}, "
                f"population {totals[j]:.6g} (relative gap {gap[j]:.3g}); widen the bounds "
                "or merge cells",
                code="not_converged",
                cell=columns[j].name,
                reached=float(reached),
                total=float(totals[j]),
            )
    g = 1.0 + f
    return g * scale if scale is not None else g


def model_columns(design: SurveyDesign, formula: str) -> list[str]:
    """R's names of the model-matrix columns of ``formula`` on the sample's levels.

    The keys :func:`calibrate` expects when population totals are given by
    column, e.g. ``['(Intercept)', 'agencyB', 'agencyC', 'fieldY']``.
    """
    parsed = parse_formula(formula)
    _, levels, _ = _joint_cells(design.data, parsed.factors)
    return [column.name for column in _model_columns(parsed, levels)]
