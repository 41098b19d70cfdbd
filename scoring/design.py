"""Survey designs: strata, clusters at every stage, fpc, lonely PSUs, calibration, Taylor variance.

A :class:`SurveyDesign` is the Python counterpart of R's ``survey.design2``
object built by ``svydesign(id=~psu, strata=~stratum, weights=~w, fpc=~fpc)``,
``svydesign(id=~1, strata=~s, probs=~pi)`` or, with several stages,
``svydesign(id=~psu+ssu, strata=~st, fpc=~N1+N2)``. Variances are Taylor
linearisation variances computed exactly as ``survey:::svyrecvar``,
``survey:::multistage`` and ``survey:::onestrat`` in R survey 4.1-1: the
first stage from PSU totals of influence values and, for a multistage design
with fpc, every later stage from the totals of its units
(:mod:`scoring.stages`).

Domains (subpopulations) are always estimated as domains of the whole design:
influence values outside the domain are zero and every PSU of the sample keeps
its place in the variance, which is what R does for ``subset(design, ...)``
and ``svyby``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray

from scoring.errors import CalibrationError, DesignColumnError, LonelyPSUError, WeightError
from scoring.margins import Margin
from scoring.stages import (
    Stage,
    build_stages,
    centred_sums,
    column_list,
    later_stages,
    later_stages_variance,
    lonely_strata,
    numeric_column,
    strata_variance,
)

LonelyPSU = Literal["fail", "adjust", "certainty", "remove", "average"]
LONELY_PSU_POLICIES: tuple[str, ...] = ("fail", "adjust", "certainty", "remove", "average")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
RowSelection = slice | IntArray

# R's svyrecvar() sweeps raking margins exactly ten times.
RAKE_VARIANCE_SWEEPS = 10


@dataclass(frozen=True, eq=False)
class PostStratum:
    """One post-stratification (R ``postStratify``) recorded for the variance.

    Attributes
    ----------
    cells : ndarray of int, shape (n,)
        Post-stratum (cell) of every respondent, ``0 .. n_cells-1``.
    n_cells : int
        Number of cells.
    labels : tuple
        Cell labels, in code order.
    weights : ndarray, shape (n,)
        Weights right after this post-stratification (R's ``attr(, "weights")``).
    old_weights : ndarray, shape (n,)
        Weights right before it (R's ``attr(, "oldweights")``).
    name : str
        The column(s) the cells come from, for messages.
    """

    cells: IntArray
    n_cells: int
    labels: tuple[object, ...]
    weights: FloatArray
    old_weights: FloatArray
    name: str


@dataclass(frozen=True, eq=False)
class Raking:
    """A raking (R ``rake``): its margins as left by the last iteration."""

    margins: tuple[PostStratum, ...]


@dataclass(frozen=True, eq=False)
class Regression:
    """A calibration to totals of a model of factors (R ``calibrate``), recorded for the variance.

    Attributes
    ----------
    cells : ndarray of int, shape (n,)
        Joint cell of every respondent: its combination of the model's factors.
    n_cells : int
        Number of joint cells.
    model : ndarray, shape (n_cells, p)
        Model-matrix row of each joint cell (R ``model.matrix(formula)``).
    weights : ndarray, shape (n,)
        Weights right after the calibration (``g w``).
    old_weights : ndarray, shape (n,)
        Weights right before it (``w``).
    name : str
        The formula, for messages.
    """

    cells: IntArray
    n_cells: int
    model: FloatArray
    weights: FloatArray
    old_weights: FloatArray
    name: str


Calibration = PostStratum | Raking | Regression


@dataclass(frozen=True, eq=False)
class SurveyDesign:
    """A stratified, clustered, weighted sample (R ``svydesign``).

    Build it with :meth:`from_dataframe`. Arrays are row-aligned with ``data``.

    Attributes
    ----------
    data : DataFrame
        The respondents (one row each), index reset to ``0 .. n-1``.
    weights : ndarray, shape (n,)
        Current (possibly calibrated or trimmed) sampling weights, ``1/prob`` in R.
    strata : ndarray of int, shape (n,)
        Stratum code of every row.
    psu : ndarray of int, shape (n,)
        PSU code of every row, unique across the whole design.
    psu_stratum : ndarray of int, shape (n_psu,)
        Stratum of every PSU.
    stratum_labels : tuple
        Stratum labels in code order.
    psu_in_stratum : ndarray of int, shape (n_strata,)
        Number of sampled PSUs per stratum (R's ``fpc$sampsize``).
    fpc_factor : ndarray, shape (n_strata,)
        ``(N_h - n_h) / N_h`` per stratum, 1 without fpc (R's ``f`` in ``onestrat``).
    lonely_psu : str
        R's ``options(survey.lonely.psu=)``.
    calibration : tuple
        Post-stratifications, rakings and regression calibrations, in the order applied.
    has_fpc : bool
        The design was given a finite population correction.
    stages : tuple of Stage
        The stages below the first that the variance adds (R's ``multistage``
        recursion): only with ``fpc`` and more than one stage of clusters.
    frequency : ndarray, shape (n,), or None
        Respondents each row stands for, all of one weight (a design over
        groups of respondents, :mod:`scoring.answer_sums`); None: one each.
        ``weights`` are then each row's total. Raking margins count
        respondents, not rows.
    """

    data: pd.DataFrame
    weights: FloatArray
    strata: IntArray
    psu: IntArray
    psu_stratum: IntArray
    stratum_labels: tuple[object, ...]
    psu_in_stratum: IntArray
    fpc_factor: FloatArray
    lonely_psu: str = "fail"
    calibration: tuple[Calibration, ...] = ()
    has_fpc: bool = False
    stages: tuple[Stage, ...] = ()
    frequency: FloatArray | None = None
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dataframe(
        cls,
        data: pd.DataFrame,
        *,
        weights: str | None = None,
        probs: str | Sequence[str] | None = None,
        strata: str | Sequence[str] | None = None,
        psu: str | Sequence[str] | None = None,
        fpc: str | Sequence[str] | None = None,
        lonely_psu: LonelyPSU = "fail",
        nest: bool = False,
    ) -> SurveyDesign:
        """Build a design from a DataFrame (R ``svydesign``).

        Parameters
        ----------
        data : DataFrame
            One row per respondent.
        weights : str, optional
            Column of sampling weights (inverse selection probabilities).
        probs : str or sequence of str, optional
            Column of inclusion probabilities, or one per stage; the weight is
            ``1 / prod(probs)`` (R ``probs=~pi`` or ``probs=~p1+p2``). Not
            with ``weights``. Without either, weights are ``prod N_s / n_s``
            from ``fpc`` counts, else 1 (as R).
        strata : str or sequence of str, optional
            Column of strata; none means a single stratum. A sequence gives
            the strata of each stage (R ``strata=~st1+st2``).
        psu : str or sequence of str, optional
            Column of primary sampling units (clusters); none means every
            respondent is its own PSU (R ``id=~1``). A sequence gives the
            clusters of each stage, e.g. ``['district', 'commune']``
            (R ``id=~district+commune``); later stages are nested in earlier ones.
        fpc : str or sequence of str, optional
            Finite population correction per row, one column per stage:
            either the number of units in the stratum's population (all
            values >= 1) or the sampling fraction (all values <= 1), as R's
            ``svydesign`` reads ``fpc``.
        lonely_psu : {'fail', 'adjust', 'certainty', 'remove', 'average'}
            What a stratum with a single sampled unit contributes to variances,
            at any stage, with R's meanings (``options(survey.lonely.psu=)``).
            ``'fail'`` raises at construction, naming the stratum.
        nest : bool
            PSU labels repeat across strata (R ``nest=TRUE``).

        Returns
        -------
        SurveyDesign

        Raises
        ------
        DesignColumnError
            A named column is missing or has missing values; a PSU lies in two
            strata; both ``weights`` and ``probs``.
        WeightError
            A weight is zero, negative, NaN or infinite; a probability is not in (0, 1].
        FPCError
            ``fpc`` does not give one column per stage, mixes counts and
            fractions, varies within a stratum or is smaller than the number
            of sampled units.
        LonelyPSUError
            A stratum has one sampled unit under ``lonely_psu='fail'``.

        Notes
        -----
        Sampled units per stratum ``n_h``; with ``fpc`` the population count
        ``N_h`` (or ``n_h / fraction``) gives ``f_h = (N_h - n_h) / N_h``.

        Unequal probabilities within a stratum (``psu=None, strata=..., probs=...``)
        are treated as R treats them: the variance is that of sampling with
        replacement within strata, ``sum_h n_h/(n_h - 1) sum_i (z_hi - zbar_h)^2``
        with ``z = x / pi``; with ``fpc`` it is multiplied by ``(N_h - n_h)/N_h``
        (R uses the without-replacement correction of equal-probability sampling;
        it is not the Poisson variance ``sum (1 - pi_i) z_i^2``).

        With ``fpc`` and several stages the variance adds every stage, as
        R's default ``multistage`` recursion (see :mod:`scoring.stages`): a
        PSU taken with certainty (``N_h = n_h``) contributes no first-stage
        variance, but the variance of its second stage counts, scaled by
        its sampling fraction 1. Without ``fpc`` only the first stage counts
        (ultimate cluster, with replacement), as R.

        References
        ----------
        Matches R survey::svydesign, ``survey:::as.fpc`` and
        ``survey:::multistage`` (survey 4.1-1).
        """
        if lonely_psu not in LONELY_PSU_POLICIES:
            raise DesignColumnError(
                f"lonely_psu must be one of {', '.join(LONELY_PSU_POLICIES)}, not {lonely_psu!r}"
            )
        frame = data.reset_index(drop=True)
        n = len(frame)
        if n == 0:
            raise DesignColumnError("the data have no rows")
        ids, strata_columns = column_list(psu), column_list(strata)
        fpc_columns, prob_columns = column_list(fpc), column_list(probs)
        if weights is not None and prob_columns:
            raise DesignColumnError(
                f"give sampling weights ({weights!r}) or probabilities "
                f"({', '.join(map(repr, prob_columns))}), not both"
            )
        roles = [("weights", [weights] if weights else []), ("probs", prob_columns)]
        roles += [("strata", strata_columns), ("psu", ids), ("fpc", fpc_columns)]
        for role, columns in roles:
            for column in columns:
                require_column(frame, column, f"design ({role})")

        frames = build_stages(frame, ids, strata_columns, fpc_columns, nest=nest)
        first = frames[0]
        if first.n_clusters == 1 and not (nest and strata_columns):
            raise DesignColumnError("the design has only one primary sampling unit")
        strata_column = first.strata_column
        stratum_labels: tuple[object, ...] = (
            (1,)
            if strata_column is None
            else tuple(frame[strata_column].iloc[first.stratum_first_row].tolist())
        )

        if weights is not None:
            w = numeric_column(frame[weights], weights)
        elif prob_columns:
            w = design_weights(
                *(numeric_column(frame[c], c) for c in prob_columns), names=prob_columns
            )
        elif first.popsize is not None:
            w = np.ones(n)
            for stage in frames:
                w = w / stage.sampled_fraction()
        else:
            w = np.ones(n)
        _check_weights(w, weights or "weights")

        if lonely_psu == "fail":
            lonely = lonely_strata(first)
            if lonely.any():
                names = ", ".join(repr(stratum_labels[h]) for h in np.flatnonzero(lonely))
                raise LonelyPSUError(
                    f"stratum {names} (column {strata_column!r}) has only one PSU; choose "
                    "lonely_psu='adjust', 'certainty', 'remove' or 'average'"
                )
        return cls(
            data=frame,
            weights=w,
            strata=first.stratum,
            psu=first.cluster,
            psu_stratum=first.cluster_stratum,
            stratum_labels=stratum_labels,
            psu_in_stratum=first.n_sampled,
            fpc_factor=first.fpc_factor,
            lonely_psu=lonely_psu,
            has_fpc=bool(fpc_columns),
            stages=later_stages(frame, frames, lonely_psu),
        )

    # ------------------------------------------------------------ properties
    @property
    def n(self) -> int:
        """Number of respondents."""
        return int(self.weights.shape[0])

    @property
    def n_psu(self) -> int:
        """Number of sampled PSUs."""
        return int(self.psu_stratum.shape[0])

    @property
    def n_strata(self) -> int:
        """Number of strata."""
        return int(self.psu_in_stratum.shape[0])

    @property
    def is_calibrated(self) -> bool:
        """Post-stratified, raked or calibrated (R ``is.calibrated``)."""
        return bool(self.calibration)

    @property
    def unit(self) -> IntArray:
        """Variance unit of every row: its PSU, or its last-stage cluster (:attr:`stages`)."""
        return self.stages[-1].frame.cluster if self.stages else self.psu

    @property
    def n_units(self) -> int:
        """Number of variance units (the PSUs of a one-stage design)."""
        return self.stages[-1].frame.n_clusters if self.stages else self.n_psu

    def unit_psu(self) -> IntArray:
        """PSU of every variance unit."""
        if not self.stages:
            return np.arange(self.n_psu, dtype=np.intp)
        return self.psu[self.stages[-1].frame.cluster_first_row]

    def psu_presence(self, present: NDArray[np.bool_]) -> NDArray[np.bool_]:
        """PSUs (first axis) holding a present variance unit (first axis of ``present``)."""
        if not self.stages:
            return present
        held = np.zeros((self.n_psu,) + present.shape[1:])
        np.add.at(held, self.unit_psu(), present)
        return np.asarray(held > 0)

    def with_weights(
        self, weights: FloatArray, calibration: tuple[Calibration, ...] | None = None
    ) -> SurveyDesign:
        """The same design with new weights (and optionally calibration records)."""
        _check_weights(weights, "weights")
        return replace(
            self,
            weights=np.asarray(weights, dtype=np.float64),
            calibration=self.calibration if calibration is None else calibration,
            _cache={},
        )

    def with_columns(self, **columns: pd.Series | NDArray[np.generic]) -> SurveyDesign:
        """The same design (weights, calibration, strata, PSUs) with more columns in its data.

        For domain and derived variables (R ``update(design, ...)``): each column is
        row-aligned with :attr:`data` (a Series by its index, which is ``0 .. n-1``).
        What the design keeps between estimates depends on its weights, strata and
        calibration only, so it is shared with the new design.

        Raises
        ------
        DesignColumnError
            A column would replace one of the data's or has another length.
        """
        for name, values in columns.items():
            if name in self.data.columns:
                raise DesignColumnError(f"column {name!r} is already in the design's data")
            if len(values) != self.n:
                raise DesignColumnError(
                    f"column {name!r} has {len(values)} values for {self.n} rows"
                )
        return replace(self, data=self.data.assign(**columns))

    def degf(self, rows: NDArray[np.bool_] | None = None) -> int:
        """Design degrees of freedom: PSUs minus strata among ``rows`` (R ``degf``).

        Notes
        -----
        ``degf(subset(design, rows))`` in R counts only PSUs and strata with a
        respondent in the subset.
        """
        if rows is None:
            return self.n_psu - int(np.count_nonzero(np.bincount(self.strata)))
        present = np.zeros(self.n_psu, dtype=bool)
        present[self.psu[rows]] = True
        strata_present = np.zeros(self.n_strata, dtype=bool)
        strata_present[self.psu_stratum[present]] = True
        return int(present.sum()) - int(strata_present.sum())

    # --------------------------------------------------------------- variance
    def psu_totals(
        self,
        values: FloatArray,
        domain: IntArray | None = None,
        n_domains: int = 1,
        *,
        chunk_rows: int = 131_072,
    ) -> FloatArray:
        """Calibration-residualised totals of influence values per variance unit and domain.

        Parameters
        ----------
        values : ndarray, shape (n, q)
            Influence values of the rows (already multiplied by the weights).
        domain : ndarray of int, shape (n,), optional
            Domain code ``0 .. n_domains-1`` of every row, ``-1`` outside every
            domain; none means one domain holding every row.
        n_domains : int
            Number of domains.

        Returns
        -------
        ndarray, shape (n_units, n_domains, q)
            Per PSU, or per last-stage cluster of a multistage design (:attr:`unit`).

        Notes
        -----
        The values of domain ``d`` are ``values * 1[row in d]``. Calibration
        replaces them by residuals, as ``survey:::svyrecvar``: a
        post-stratification subtracts ``w*_i * sum_g(x oldw/w*) / sum_g(oldw)``
        in the respondent's cell ``g``; a raking sweeps
        ``x <- x - w*_m * ave(x / w*_m, margin_m)`` over its margins ten times;
        a regression calibration subtracts ``w*_i m_i' B`` with ``B`` the
        weighted least squares fit of ``x / w*`` on the model matrix.
        These are linear maps, so they are carried out on cell totals.
        """
        acc = PSUTotalsAccumulator(self, domain, n_domains, values.shape[1])
        for start in range(0, self.n, chunk_rows):
            stop = min(start + chunk_rows, self.n)
            acc.add(slice(start, stop), values[start:stop])
        return acc.result()

    def variance(
        self,
        unit_totals: FloatArray,
        present: NDArray[np.bool_] | None = None,
        psu_index: IntArray | None = None,
    ) -> FloatArray:
        """Variance of estimates from the totals of their influence values per variance unit.

        Parameters
        ----------
        unit_totals : ndarray, shape (n_units, m)
            Totals of the influence values of ``m`` estimates over every PSU
            (over every last-stage cluster of a multistage design).
        present : ndarray of bool, shape (n_units, m), optional
            Units that hold a respondent of each estimate's subset; only used
            by ``lonely_psu='average'``. Default: every unit.
        psu_index : ndarray of int, optional
            The PSUs the rows of ``unit_totals`` belong to, when only some PSUs
            of a one-stage design are given; the others have total 0.

        Returns
        -------
        ndarray, shape (m,)

        Notes
        -----
        First stage: ``V_1 = sum_h f_h n_h/(n_h - 1) sum_i (z_hi - zbar_h)^2``
        with ``z_hi`` the PSU totals; a lonely PSU is not centred under
        ``adjust``. The fpc, census and lonely-PSU rules are those of
        :meth:`stratum_variance`. A multistage design adds the stages below
        (:func:`scoring.stages.later_stages_variance`).

        References
        ----------
        Matches R survey::svyrecvar / survey:::multistage / survey:::onestrat
        (survey 4.1-1).
        """
        totals = np.asarray(unit_totals, dtype=np.float64)
        z = totals
        psu_present = None if present is None else self.psu_presence(present)
        if self.stages:
            if psu_index is not None:
                raise ValueError("a multistage design takes the totals of every unit")
            z = np.zeros((self.n_psu, totals.shape[1]))
            np.add.at(z, self.unit_psu(), totals)
        indicator = self.stratum_indicator(psu_index)
        psu_stratum = self.psu_stratum if psu_index is None else self.psu_stratum[psu_index]
        n_h = self.psu_in_stratum.astype(np.float64)
        sums, means = centred_sums(z, indicator, psu_stratum, self.psu_in_stratum, self.lonely_psu)
        if psu_index is not None:
            # PSUs left out have total 0: each adds mean^2 to its stratum's sum of squares.
            absent = n_h - np.bincount(psu_stratum, minlength=self.n_strata)
            sums = sums + absent[:, None] * means * means
        strata = np.arange(self.n_strata, dtype=np.intp)
        strata_present = None
        if psu_present is not None and self.lonely_psu == "average":
            strata_present = np.asarray(indicator @ psu_present.astype(np.float64)) > 0
        first = self.stratum_variance(np.asarray(sums), strata, strata_present)[0]
        if not self.stages:
            return cast(FloatArray, first)
        later = later_stages_variance(self.stages, totals, self.lonely_psu, present)
        return cast(FloatArray, first + later)

    def stratum_variance(
        self,
        sums: FloatArray,
        stratum: IntArray,
        present: NDArray[np.bool_] | None = None,
        group: IntArray | None = None,
        n_groups: int = 1,
    ) -> FloatArray:
        """First-stage variances from within-stratum sums of squares of PSU totals, by group.

        :func:`scoring.stages.strata_variance` with ``n_h`` and ``f_h`` of the
        first-stage stratum ``stratum[c]`` of each row ``c`` of ``sums``
        (``sum_i (z_hi - zbar_h)^2`` over every PSU of the stratum); a stratum
        appears once per group (domain). Returns (n_groups, m).

        References
        ----------
        Matches R survey::svyrecvar / survey:::onestrat (survey 4.1-1).
        """
        return strata_variance(
            sums,
            self.psu_in_stratum[stratum].astype(np.float64),
            self.fpc_factor[stratum],
            self.lonely_psu,
            present,
            group,
            n_groups,
        )

    def stratum_indicator(self, psu_index: IntArray | None = None) -> sp.csr_matrix:
        """Sparse strata x PSUs indicator (of the PSUs in ``psu_index`` if given)."""
        if psu_index is not None:
            return sp.csr_matrix(
                (
                    np.ones(psu_index.shape[0]),
                    (self.psu_stratum[psu_index], np.arange(psu_index.shape[0])),
                ),
                shape=(self.n_strata, psu_index.shape[0]),
            )
        cached = self._cache.get("stratum_indicator")
        if cached is None:
            cached = sp.csr_matrix(
                (np.ones(self.n_psu), (self.psu_stratum, np.arange(self.n_psu))),
                shape=(self.n_strata, self.n_psu),
            )
            self._cache["stratum_indicator"] = cached
        return cast(sp.csr_matrix, cached)

    def _calibration_terms(self) -> list[_Term]:
        cached = self._cache.get("calibration_terms")
        if cached is None:
            cached = _build_terms(self)
            self._cache["calibration_terms"] = cached
        return cast(list[_Term], cached)

    def _solve_cells(self, b: list[FloatArray]) -> list[FloatArray]:
        """Cell coefficients ``a_j`` of every calibration term from the cell sums ``b_j``.

        ``b_j`` (cells of term ``j`` x columns) holds ``sum h_i x_i`` over each
        cell; the residuals are ``x_i - sum_j psw_j(i) a_j[cell_j(i)]``. Terms are
        solved in :meth:`_schedule` order, each on the residuals of those solved
        before (raking margins on their own too, ten sweeps).
        """
        terms = self._calibration_terms()
        cross = cast(dict[tuple[int, int], FloatArray], self._cache.setdefault("cross", {}))

        def cross_matrix(j: int, k: int) -> FloatArray:
            if (j, k) not in cross:
                tj, tk = terms[j], terms[k]
                cross[(j, k)] = sp.csr_matrix(
                    (tj.row_factor * tk.psw, (tj.cells, tk.cells)),
                    shape=(tj.n_cells, tk.n_cells),
                ).toarray()
            return cross[(j, k)]

        a = [np.zeros_like(bj) for bj in b]
        solved: set[int] = set()
        for j, accumulate in self._schedule():
            current = b[j].copy()
            for k in solved | ({j} if accumulate else set()):
                current -= cross_matrix(j, k) @ a[k]
            inverse = terms[j].inverse
            if inverse is None:
                delta = _safe_divide(current, terms[j].denominator[:, None])
            else:
                delta = inverse @ current
            if accumulate:
                a[j] = a[j] + delta
            else:
                a[j] = delta
            solved.add(j)
        return a

    def calibration_cells(self) -> CalibrationCells:
        """Calibration residuals as one linear map on cell sums (see :class:`CalibrationCells`).

        Built on each call (row arrays are not kept); the solve matrix is cached.
        """
        terms = self._calibration_terms()
        offsets = np.cumsum([0] + [t.n_cells for t in terms])
        solve = self._cache.get("calibration_solve")
        if solve is None:
            # The map b -> a is linear: solve it for every cell's unit vector at once.
            eye = np.eye(int(offsets[-1]))
            a = self._solve_cells(
                [eye[lo:hi] for lo, hi in zip(offsets[:-1], offsets[1:], strict=True)]
            )
            solve = np.vstack(a) if a else np.zeros((0, 0))
            self._cache["calibration_solve"] = solve
        return CalibrationCells(
            cells=np.column_stack(
                [t.cells + lo for t, lo in zip(terms, offsets[:-1], strict=True)]
            ),
            row_factor=np.column_stack([t.row_factor for t in terms]),
            psw=np.column_stack([t.psw for t in terms]),
            solve=cast(FloatArray, solve),
        )

    def _schedule(self) -> list[tuple[int, bool]]:
        """Order in which calibration terms are solved: (term, accumulate)."""
        schedule: list[tuple[int, bool]] = []
        index = 0
        for step in self.calibration:
            if not isinstance(step, Raking):
                schedule.append((index, False))
                index += 1
            else:
                margins = list(range(index, index + len(step.margins)))
                for _ in range(RAKE_VARIANCE_SWEEPS):
                    schedule.extend((m, True) for m in margins)
                index += len(step.margins)
        return schedule


Calibrate = Literal["none", "poststratify", "rake"]
CALIBRATIONS: tuple[str, ...] = ("none", "poststratify", "rake")


@dataclass(frozen=True)
class DesignSpec:
    """A whole design described by column names and margins: R's ``svydesign`` call, then
    ``postStratify`` or ``rake``. The app, its weighting page and the command line all
    describe their designs with it and build them with :meth:`build`.

    ``weights`` … ``nest`` are the arguments of :meth:`SurveyDesign.from_dataframe`.
    ``calibration`` is ``'none'``, ``'poststratify'`` (to the one margin in
    ``margins``, R ``postStratify``) or ``'rake'`` (to every margin, R ``rake``);
    without margins nothing is calibrated.
    """

    weights: str | None = None
    probs: str | Sequence[str] | None = None
    strata: str | Sequence[str] | None = None
    psu: str | Sequence[str] | None = None
    fpc: str | Sequence[str] | None = None
    lonely_psu: LonelyPSU = "fail"
    nest: bool = False
    calibration: Calibrate = "none"
    margins: tuple[Margin, ...] = ()

    def __post_init__(self) -> None:
        if self.calibration not in CALIBRATIONS:
            raise CalibrationError(
                f"calibration must be one of {', '.join(CALIBRATIONS)}, not {self.calibration!r}"
            )
        if self.calibration == "poststratify" and len(self.margins) > 1:
            raise CalibrationError(
                f"post-stratification takes one margin table, not {len(self.margins)}"
            )

    def build(self, data: pd.DataFrame) -> SurveyDesign:
        """The design of ``data`` (R ``svydesign``), calibrated as the spec says.

        Margin cells are matched to the values of ``data`` as they are: a caller whose
        margins hold text labels gives text columns.
        """
        design = SurveyDesign.from_dataframe(
            data,
            weights=self.weights,
            probs=self.probs,
            strata=self.strata,
            psu=self.psu,
            fpc=self.fpc,
            lonely_psu=self.lonely_psu,
            nest=self.nest,
        )
        return self.calibrate(design)

    @property
    def calibrates(self) -> bool:
        """Whether :meth:`build` calibrates (a calibration and margins to it)."""
        return bool(self.margins) and self.calibration != "none"

    def calibrate(self, design: SurveyDesign) -> SurveyDesign:
        """``design`` calibrated as the spec says (R ``postStratify`` or ``rake``)."""
        # scoring.weighting builds on this module; imported here, when first needed.
        from scoring.weighting import post_stratify, rake

        if not self.calibrates:
            return design
        if self.calibration == "poststratify":
            margin = self.margins[0]
            return post_stratify(design, margin.by, margin.population())
        return rake(design, [(m.by, m.population()) for m in self.margins])


#: The former name of :class:`DesignSpec`, from before it described calibration.
DesignColumns = DesignSpec


@dataclass(frozen=True, eq=False)
class CalibrationCells:
    """The calibration residuals of ``survey:::svyrecvar`` as one linear map on cell sums.

    Every post-stratification and raking margin is a *term* ``j``; its cells are
    columns ``t`` of one numbering ``0 .. T-1`` across terms. For influence
    values ``x`` (of one domain: zero outside it) the residuals are
    ``e_i = x_i - sum_j psw[i, j] a[cells[i, j]]`` with ``a = solve @ b`` and
    ``b[t] = sum_{i, j: cells[i, j] = t} row_factor[i, j] x_i``: the terms
    solved in R's order, ten sweeps of each raking, as
    :meth:`SurveyDesign.psu_totals`.

    Attributes
    ----------
    cells : ndarray of int, shape (n, J)
        Column of every row's cell in each term.
    row_factor : ndarray, shape (n, J)
        ``oldw / w*`` of a post-stratification, ``1 / w*`` of a raking margin.
    psw : ndarray, shape (n, J)
        Weights ``w*`` right after each term.
    solve : ndarray, shape (T, T)
    """

    cells: IntArray
    row_factor: FloatArray
    psw: FloatArray
    solve: FloatArray

    @property
    def n_cells(self) -> int:
        """Cells of all terms together (T)."""
        return int(self.solve.shape[0])


@dataclass(frozen=True, eq=False)
class _Term:
    """One linear correction ``x <- x - w*_i a[cell_i]`` of svyrecvar.

    The cell coefficients are ``a = b / denominator`` (post-stratum, raking
    margin) or ``a = inverse @ b`` (regression calibration), from the cell
    sums ``b = sum h x``.
    """

    cells: IntArray
    n_cells: int
    row_factor: FloatArray  # h_i
    psw: FloatArray
    denominator: FloatArray
    unit_by_cell: sp.csr_matrix  # (n_units, n_cells) sums of psw
    inverse: FloatArray | None = None


def _build_terms(design: SurveyDesign) -> list[_Term]:
    terms: list[_Term] = []
    for step in design.calibration:
        if isinstance(step, Raking):
            for margin in step.margins:
                terms.append(_term(design, margin.cells, margin.n_cells, margin.weights, None))
            continue
        term = _term(design, step.cells, step.n_cells, step.weights, step.old_weights)
        if isinstance(step, Regression):
            # svyrecvar's qr.resid(qr(M sqrt(w)), x / (g sqrt(w))) on joint cells:
            # a = K (K' diag(D) K)^+ K' b, with D the old weight of each cell.
            model = step.model
            gram = model.T @ (model * term.denominator[:, None])
            term = replace(term, inverse=model @ np.linalg.pinv(gram, hermitian=True) @ model.T)
        terms.append(term)
    return terms


def _term(
    design: SurveyDesign,
    cells: IntArray,
    n_cells: int,
    psw: FloatArray,
    old: FloatArray | None,
) -> _Term:
    """A post-stratification's term (``old`` weights given) or a raking margin's (None)."""
    if old is None:
        # Per respondent: a row standing for several has their total weight.
        frequency = np.ones_like(psw) if design.frequency is None else design.frequency
        row_factor = frequency / psw
        denominator = np.bincount(cells, weights=frequency, minlength=n_cells).astype(np.float64)
    else:
        row_factor = old / psw
        denominator = np.bincount(cells, weights=old, minlength=n_cells).astype(np.float64)
    return _Term(
        cells=cells,
        n_cells=n_cells,
        row_factor=row_factor,
        psw=psw,
        denominator=denominator,
        unit_by_cell=sp.csr_matrix((psw, (design.unit, cells)), shape=(design.n_units, n_cells)),
    )


class PSUTotalsAccumulator:
    """Accumulates (variance unit)-by-domain totals of influence values over row chunks.

    Variance units are the PSUs, or the last-stage clusters of a multistage
    design (:attr:`SurveyDesign.unit`). Used by the estimators to stream a
    large sample through once; see :meth:`SurveyDesign.psu_totals` for the
    formulas.
    """

    def __init__(
        self,
        design: SurveyDesign,
        domain: IntArray | None,
        n_domains: int,
        q: int,
        psu_index: IntArray | None = None,
    ) -> None:
        self.design = design
        self.n_domains = n_domains
        self.q = q
        if domain is None:
            domain = np.zeros(design.n, dtype=np.intp)
        self.domain = domain
        if design.is_calibrated or design.stages:
            # Calibration residuals reach every PSU; a multistage variance reads every unit.
            psu_index = None
        self.psu_index = psu_index
        if psu_index is None:
            self.unit_pos = np.arange(design.n_units, dtype=np.intp)
        else:
            self.unit_pos = np.full(design.n_psu, -1, dtype=np.intp)
            self.unit_pos[psu_index] = np.arange(psu_index.shape[0])
        self.n_rows = design.n_units if psu_index is None else int(psu_index.shape[0])
        self.totals = np.zeros((self.n_rows * n_domains, q))
        self.terms = design._calibration_terms()
        self.cell_sums = [np.zeros((t.n_cells * n_domains, q)) for t in self.terms]

    def indicator(self, rows: RowSelection) -> ChunkIndicator:
        """(unit x domain) by row indicator of the selected rows."""
        dom = self.domain[rows]
        pos = self.unit_pos[self.design.unit[rows]]
        key = pos * self.n_domains + dom
        return ChunkIndicator(key, (dom >= 0) & (pos >= 0))

    def add(
        self,
        rows: RowSelection,
        values: FloatArray,
        indicator: ChunkIndicator | None = None,
    ) -> None:
        """Add the selected rows (a slice or sorted indices) with influence ``values``.

        Rows never added count as outside every domain, which is exact: the
        calibration residuals of the other rows only enter through
        design-level cell weights (``unit_by_cell``).
        """
        if indicator is None:
            indicator = self.indicator(rows)
        indicator.accumulate(self.totals, values)
        dom = self.domain[rows]
        inside = dom >= 0
        d = self.n_domains
        for term, sums in zip(self.terms, self.cell_sums, strict=True):
            cell_key = term.cells[rows] * d + dom
            ChunkIndicator(cell_key, inside, term.row_factor[rows]).accumulate(sums, values)

    def result(self) -> FloatArray:
        """Unit totals, shape (n_units, n_domains, q), residualised by calibration."""
        design = self.design
        d, q = self.n_domains, self.q
        z = self.totals.reshape(self.n_rows, d * q)
        if not self.terms:
            return z.reshape(self.n_rows, d, q)
        terms = self.terms
        b = [s.reshape(t.n_cells, d * q) for t, s in zip(terms, self.cell_sums, strict=True)]
        a = design._solve_cells(b)
        for term, aj in zip(terms, a, strict=True):
            z = z - term.unit_by_cell @ aj
        return np.asarray(z).reshape(self.n_rows, d, q)


class ChunkIndicator:
    """Group sums of a chunk of rows by integer key: ``target[key_i] += v_i * values_i``.

    The keys present in the chunk are compacted first, so the sparse product
    only touches the groups the chunk holds (rows sorted by PSU touch few).
    """

    def __init__(
        self, key: IntArray, keep: NDArray[np.bool_], values: FloatArray | None = None
    ) -> None:
        r = key.shape[0]
        self.rows, inverse = np.unique(np.where(keep, key, -1), return_inverse=True)
        data = keep.astype(np.float64) if values is None else np.where(keep, values, 0.0)
        self.matrix = sp.csc_matrix(
            (data, inverse.ravel(), np.arange(r + 1)), shape=(self.rows.shape[0], r)
        )
        self.valid = self.rows >= 0

    def accumulate(self, target: FloatArray, values: FloatArray) -> None:
        """Add the group sums of ``values`` (rows x q) into ``target`` (groups x q)."""
        sums = self.matrix @ values
        target[self.rows[self.valid]] += sums[self.valid]


def _safe_divide(num: FloatArray, den: FloatArray) -> FloatArray:
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def design_weights(*probabilities: ArrayLike, names: Sequence[str] | None = None) -> FloatArray:
    """Design weights ``1 / (p_1 p_2 ...)`` from selection probabilities of each stage.

    Parameters
    ----------
    *probabilities : array_like
        Inclusion probabilities, one array per sampling stage (e.g. desk,
        then respondent within desk), each in (0, 1].
    names : sequence of str, optional
        The column of each stage, for messages.

    Returns
    -------
    ndarray

    Raises
    ------
    WeightError
        A probability is not in (0, 1] or is missing.

    Notes
    -----
    ``w_i = 1 / prod_s pi_{s,i}``.

    References
    ----------
    Matches R survey::svydesign(probs=), whose weights are ``1/apply(probs, 1, prod)``.
    """
    if not probabilities:
        raise WeightError("at least one array of selection probabilities is needed")
    prob = np.ones_like(np.asarray(probabilities[0], dtype=np.float64))
    for stage, p in enumerate(probabilities, start=1):
        pa = np.asarray(p, dtype=np.float64)
        bad = ~np.isfinite(pa) | (pa <= 0) | (pa > 1)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            where = f"stage {stage}" if names is None else f"column {names[stage - 1]!r}"
            raise WeightError(
                f"selection probabilities of {where} must be in (0, 1]: "
                f"{int(bad.sum())} are not (first at row {row}: {pa[row]!r})"
            )
        prob = prob * pa
    return 1.0 / prob


# ----------------------------------------------------------------- helpers
def require_column(frame: pd.DataFrame, column: str, role: str) -> None:
    """Refuse a column that is absent or has missing values; ``role`` names its use."""
    if column not in frame.columns:
        raise DesignColumnError(
            f"{role} column {column!r} is not in the data; columns are "
            f"{', '.join(map(str, frame.columns[:20]))}"
        )
    missing = frame[column].isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DesignColumnError(
            f"{role} column {column!r} has {int(missing.sum())} missing values (first at row {row})"
        )


def _check_weights(w: FloatArray, column: str) -> None:
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise WeightError(
            f"weights in {column!r} must be positive and finite: {int(bad.sum())} are not "
            f"(first at row {row}: {w[row]!r})"
        )
