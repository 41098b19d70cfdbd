"""Survey designs: strata, PSUs, fpc, lonely PSUs, calibration, Taylor variance.

A :class:`SurveyDesign` is the Python counterpart of R's ``survey.design2``
object built by ``svydesign(id=~psu, strata=~stratum, weights=~w, fpc=~fpc)``.
Variances are ultimate-cluster (first-stage) Taylor linearisation variances,
computed exactly as ``survey:::svyrecvar`` / ``survey:::onestrat`` in R survey
4.1-1, from PSU totals of influence values.

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
from numpy.typing import NDArray

from scoring.errors import DesignColumnError, FPCError, LonelyPSUError, WeightError

LonelyPSU = Literal["fail", "adjust", "certainty", "remove", "average"]
LONELY_PSU_POLICIES: tuple[str, ...] = ("fail", "adjust", "certainty", "remove", "average")

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
RowSelection = slice | IntArray

# R's onestrat() treats a stratum whose sampling fraction is (numerically) 1 as a census.
_CENSUS_TOLERANCE = 1e-7
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


Calibration = PostStratum | Raking


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
        Post-stratifications and rakings, in the order applied.
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
    _cache: dict[str, object] = field(default_factory=dict, repr=False)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_dataframe(
        cls,
        data: pd.DataFrame,
        *,
        weights: str | None = None,
        strata: str | None = None,
        psu: str | None = None,
        fpc: str | None = None,
        lonely_psu: LonelyPSU = "fail",
        nest: bool = False,
    ) -> SurveyDesign:
        """Build a design from a DataFrame (R ``svydesign``).

        Parameters
        ----------
        data : DataFrame
            One row per respondent.
        weights : str, optional
            Column of sampling weights (inverse selection probabilities). Without
            it, weights are ``N_h / n_h`` from ``fpc`` counts, else 1 (as R).
        strata : str, optional
            Column of strata; none means a single stratum.
        psu : str, optional
            Column of primary sampling units (clusters); none means every
            respondent is its own PSU (R ``id=~1``).
        fpc : str, optional
            Finite population correction per row: either the number of PSUs in
            the stratum population (all values >= 1) or the sampling fraction
            (all values <= 1), as R's ``svydesign`` reads ``fpc``.
        lonely_psu : {'fail', 'adjust', 'certainty', 'remove', 'average'}
            What a stratum with a single sampled PSU contributes to variances,
            with R's meanings (``options(survey.lonely.psu=)``). ``'fail'``
            raises at construction, naming the stratum.
        nest : bool
            PSU labels repeat across strata (R ``nest=TRUE``).

        Returns
        -------
        SurveyDesign

        Raises
        ------
        DesignColumnError
            A named column is missing or has missing values; a PSU lies in two strata.
        WeightError
            A weight is zero, negative, NaN or infinite.
        FPCError
            ``fpc`` mixes counts and fractions, varies within a stratum or is
            smaller than the number of sampled PSUs.
        LonelyPSUError
            A stratum has one PSU under ``lonely_psu='fail'``.

        Notes
        -----
        Sampled PSUs per stratum ``n_h``; with ``fpc`` the population count
        ``N_h`` (or ``n_h / fraction``) gives ``f_h = (N_h - n_h) / N_h``.

        References
        ----------
        Matches R survey::svydesign (survey 4.1-1) and ``survey:::as.fpc``.
        """
        if lonely_psu not in LONELY_PSU_POLICIES:
            raise DesignColumnError(
                f"lonely_psu must be one of {', '.join(LONELY_PSU_POLICIES)}, not {lonely_psu!r}"
            )
        frame = data.reset_index(drop=True)
        n = len(frame)
        if n == 0:
            raise DesignColumnError("the data have no rows")
        for role, column in (("weights", weights), ("strata", strata), ("psu", psu), ("fpc", fpc)):
            if column is not None:
                _require_column(frame, column, role)

        if strata is None:
            strata_codes = np.zeros(n, dtype=np.intp)
            stratum_labels: tuple[object, ...] = (1,)
        else:
            strata_codes, stratum_labels = _factorize(frame[strata])
        n_strata = len(stratum_labels)

        psu_labels: tuple[object, ...]
        if psu is None:
            psu_codes = np.arange(n, dtype=np.intp)
            psu_labels = tuple(range(1, n + 1))
        elif nest:
            raw_codes, raw_labels = _factorize(frame[psu])
            # A PSU is a (stratum, label) pair: combine the two codes into one integer.
            combined = strata_codes.astype(np.int64) * len(raw_labels) + raw_codes
            codes_found, uniques = pd.factorize(combined, sort=True)
            psu_codes = codes_found.astype(np.intp)
            width = len(raw_labels)
            psu_labels = tuple(
                (stratum_labels[c // width], raw_labels[c % width]) for c in uniques.tolist()
            )
        else:
            psu_codes, psu_labels = _factorize(frame[psu])
        n_psu = len(psu_labels)
        psu_stratum = np.full(n_psu, -1, dtype=np.intp)
        psu_stratum[psu_codes] = strata_codes
        check = psu_stratum[psu_codes] != strata_codes
        if check.any():
            bad = int(np.flatnonzero(check)[0])
            raise DesignColumnError(
                f"PSU {psu_labels[psu_codes[bad]]!r} (column {psu!r}) lies in more than one "
                f"stratum (column {strata!r}); PSUs must be nested in strata, or pass nest=True"
            )
        if n_psu == 1:
            raise DesignColumnError("the design has only one primary sampling unit")
        psu_in_stratum = np.bincount(psu_stratum, minlength=n_strata).astype(np.intp)

        fpc_factor = np.ones(n_strata)
        popsize: FloatArray | None = None
        if fpc is not None:
            fpc_factor, popsize = _fpc_factor(
                frame[fpc], fpc, strata_codes, stratum_labels, psu_in_stratum
            )

        if weights is not None:
            w = _numeric(frame[weights], weights)
        elif popsize is not None:
            w = np.asarray(popsize / psu_in_stratum[strata_codes], dtype=np.float64)
        else:
            w = np.ones(n)
        _check_weights(w, weights or "weights")

        if lonely_psu == "fail":
            lonely = (psu_in_stratum == 1) & (fpc_factor >= _CENSUS_TOLERANCE)
            if lonely.any():
                names = ", ".join(repr(stratum_labels[h]) for h in np.flatnonzero(lonely))
                raise LonelyPSUError(
                    f"stratum {names} (column {strata!r}) has only one PSU; choose "
                    "lonely_psu='adjust', 'certainty', 'remove' or 'average'"
                )
        return cls(
            data=frame,
            weights=w,
            strata=strata_codes,
            psu=psu_codes,
            psu_stratum=psu_stratum,
            stratum_labels=stratum_labels,
            psu_in_stratum=psu_in_stratum,
            fpc_factor=fpc_factor,
            lonely_psu=lonely_psu,
            has_fpc=fpc is not None,
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
        """Post-stratified or raked (R ``is.calibrated``)."""
        return bool(self.calibration)

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
        """Calibration-residualised PSU totals of influence values, per domain.

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
        ndarray, shape (n_psu, n_domains, q)

        Notes
        -----
        The values of domain ``d`` are ``values * 1[row in d]``. Calibration
        replaces them by residuals, as ``survey:::svyrecvar``: a
        post-stratification subtracts ``w*_i * sum_g(x oldw/w*) / sum_g(oldw)``
        in the respondent's cell ``g``; a raking sweeps
        ``x <- x - w*_m * ave(x / w*_m, margin_m)`` over its margins ten times.
        These are linear maps, so they are carried out on cell totals.
        """
        acc = PSUTotalsAccumulator(self, domain, n_domains, values.shape[1])
        for start in range(0, self.n, chunk_rows):
            stop = min(start + chunk_rows, self.n)
            acc.add(slice(start, stop), values[start:stop])
        return acc.result()

    def variance(
        self,
        psu_totals: FloatArray,
        strata_present: NDArray[np.bool_] | None = None,
        psu_index: IntArray | None = None,
    ) -> FloatArray:
        """Ultimate-cluster variance of estimates from their PSU totals.

        Parameters
        ----------
        psu_totals : ndarray, shape (n_psu, m)
            PSU totals of the influence values of ``m`` estimates.
        strata_present : ndarray of bool, shape (n_strata, m), optional
            Strata that hold a respondent of each estimate's subset; only used
            by ``lonely_psu='average'``. Default: every stratum.
        psu_index : ndarray of int, optional
            The PSUs the rows of ``psu_totals`` belong to, when only some PSUs
            are given; the others have total 0.

        Returns
        -------
        ndarray, shape (m,)

        Notes
        -----
        ``V = sum_h f_h n_h/(n_h - 1) sum_i (z_hi - zbar_h)^2`` with ``z_hi``
        the PSU totals; a lonely PSU is not centred under ``adjust``. The
        fpc, census and lonely-PSU rules are those of :meth:`stratum_variance`.

        References
        ----------
        Matches R survey::svyrecvar / survey:::onestrat (survey 4.1-1).
        """
        z = np.asarray(psu_totals, dtype=np.float64)
        indicator = self.stratum_indicator(psu_index)
        psu_stratum = self.psu_stratum if psu_index is None else self.psu_stratum[psu_index]
        n_h = self.psu_in_stratum.astype(np.float64)
        means = (indicator @ z) / n_h[:, None]
        centred = z - means[psu_stratum]
        lonely = self.psu_in_stratum == 1
        if self.lonely_psu == "adjust" and lonely.any():
            # R does not centre a lonely PSU under 'adjust'.
            lonely_rows = lonely[psu_stratum]
            centred[lonely_rows] = z[lonely_rows]
        sums = indicator @ (centred * centred)
        if psu_index is not None:
            # PSUs left out have total 0: each adds mean^2 to its stratum's sum of squares.
            absent = n_h - np.bincount(psu_stratum, minlength=self.n_strata)
            sums = sums + absent[:, None] * means * means
        strata = np.arange(self.n_strata, dtype=np.intp)
        return cast(FloatArray, self.stratum_variance(np.asarray(sums), strata, strata_present)[0])

    def stratum_variance(
        self,
        sums: FloatArray,
        stratum: IntArray,
        present: NDArray[np.bool_] | None = None,
        group: IntArray | None = None,
        n_groups: int = 1,
    ) -> FloatArray:
        """Variances from within-stratum sums of squares of PSU totals, summed by group.

        Parameters
        ----------
        sums : ndarray, shape (c, m)
            For ``m`` estimates, ``sum_i (z_hi - zbar_h)^2`` over every PSU ``i``
            of the stratum ``h = stratum[c]`` (``sum_i z_hi^2`` for a lonely
            stratum under ``lonely_psu='adjust'``).
        stratum : ndarray of int, shape (c,)
            Stratum of each row of ``sums``; a stratum appears once per group.
        present : ndarray of bool, shape (c, m), optional
            The stratum holds a respondent of the estimate's subset; only used
            by ``lonely_psu='average'``. Default: every row.
        group : ndarray of int, shape (c,), optional
            Group (domain) ``0 .. n_groups-1`` of each row; default: one group.
        n_groups : int
            Number of groups.

        Returns
        -------
        ndarray, shape (n_groups, m)

        Notes
        -----
        ``V = sum_h f_h n_h/(n_h - 1) sums_h`` with ``n_h`` the sampled PSUs
        of the stratum and ``f_h = (N_h - n_h)/N_h``. A stratum with
        ``f_h < 1e-7`` contributes 0. A stratum with one PSU contributes
        ``f_h sums_h``, which is 0 unless ``lonely_psu='adjust'``; under
        ``average`` it is left out and the sum is multiplied by
        (strata present) / (strata present with more than one PSU).

        References
        ----------
        Matches R survey::svyrecvar / survey:::onestrat (survey 4.1-1).
        """
        n_h = self.psu_in_stratum[stratum].astype(np.float64)
        fpc = self.fpc_factor[stratum]
        lonely = n_h == 1
        scale = np.where(lonely, fpc, fpc * n_h / np.maximum(n_h - 1, 1))
        census = fpc < _CENSUS_TOLERANCE
        scale = np.where(census, 0.0, scale)
        contributions = sums * scale[:, None]
        if self.lonely_psu != "average":
            return _group_sum(contributions, group, n_groups)
        dropped = lonely & ~census
        contributions[dropped] = 0.0
        if present is None:
            present = np.ones(sums.shape, dtype=bool)
        n_present = _group_sum(present.astype(np.float64), group, n_groups)
        n_ok = _group_sum((present & ~dropped[:, None]).astype(np.float64), group, n_groups)
        factor = np.divide(n_present, n_ok, out=np.zeros(n_ok.shape), where=n_ok > 0)
        return _group_sum(contributions, group, n_groups) * factor

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
            delta = _safe_divide(current, terms[j].denominator[:, None])
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
            if isinstance(step, PostStratum):
                schedule.append((index, False))
                index += 1
            else:
                margins = list(range(index, index + len(step.margins)))
                for _ in range(RAKE_VARIANCE_SWEEPS):
                    schedule.extend((m, True) for m in margins)
                index += len(step.margins)
        return schedule


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
    """One linear correction ``x <- x - w*_i a[cell_i]`` of svyrecvar."""

    cells: IntArray
    n_cells: int
    row_factor: FloatArray  # h_i: cell statistic is sum(h * x) / denominator
    psw: FloatArray
    denominator: FloatArray
    psu_by_cell: sp.csr_matrix  # (n_psu, n_cells) sums of psw


def _build_terms(design: SurveyDesign) -> list[_Term]:
    terms: list[_Term] = []
    for step in design.calibration:
        if isinstance(step, PostStratum):
            psw = step.weights
            old = step.old_weights
            terms.append(
                _Term(
                    cells=step.cells,
                    n_cells=step.n_cells,
                    row_factor=old / psw,
                    psw=psw,
                    denominator=np.bincount(step.cells, weights=old, minlength=step.n_cells).astype(
                        np.float64
                    ),
                    psu_by_cell=_psu_by_cell(design, step.cells, step.n_cells, psw),
                )
            )
        else:
            for margin in step.margins:
                psw = margin.weights
                terms.append(
                    _Term(
                        cells=margin.cells,
                        n_cells=margin.n_cells,
                        row_factor=1.0 / psw,
                        psw=psw,
                        denominator=np.bincount(margin.cells, minlength=margin.n_cells).astype(
                            np.float64
                        ),
                        psu_by_cell=_psu_by_cell(design, margin.cells, margin.n_cells, psw),
                    )
                )
    return terms


def _psu_by_cell(
    design: SurveyDesign, cells: IntArray, n_cells: int, psw: FloatArray
) -> sp.csr_matrix:
    return sp.csr_matrix((psw, (design.psu, cells)), shape=(design.n_psu, n_cells))


class PSUTotalsAccumulator:
    """Accumulates PSU-by-domain totals of influence values over row chunks.

    Used by the estimators to stream a large sample through once; see
    :meth:`SurveyDesign.psu_totals` for the formulas.
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
        if design.is_calibrated:
            psu_index = None  # calibration residuals reach every PSU
        self.psu_index = psu_index
        if psu_index is None:
            self.psu_pos = np.arange(design.n_psu, dtype=np.intp)
        else:
            self.psu_pos = np.full(design.n_psu, -1, dtype=np.intp)
            self.psu_pos[psu_index] = np.arange(psu_index.shape[0])
        self.n_rows = design.n_psu if psu_index is None else int(psu_index.shape[0])
        self.totals = np.zeros((self.n_rows * n_domains, q))
        self.terms = design._calibration_terms()
        self.cell_sums = [np.zeros((t.n_cells * n_domains, q)) for t in self.terms]

    def indicator(self, rows: RowSelection) -> ChunkIndicator:
        """(PSU x domain) by row indicator of the selected rows."""
        dom = self.domain[rows]
        pos = self.psu_pos[self.design.psu[rows]]
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
        design-level cell weights (``psu_by_cell``).
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
        """PSU totals, shape (n_psu, n_domains, q), residualised by calibration."""
        design = self.design
        d, q = self.n_domains, self.q
        z = self.totals.reshape(self.n_rows, d * q)
        if not self.terms:
            return z.reshape(self.n_rows, d, q)
        terms = self.terms
        b = [s.reshape(t.n_cells, d * q) for t, s in zip(terms, self.cell_sums, strict=True)]
        a = design._solve_cells(b)
        for term, aj in zip(terms, a, strict=True):
            z = z - term.psu_by_cell @ aj
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


def _group_sum(values: FloatArray, group: IntArray | None, n_groups: int) -> FloatArray:
    """Column sums of ``values`` by ``group`` (all rows when None), shape (n_groups, m)."""
    if group is None:
        return cast(FloatArray, values.sum(axis=0, keepdims=True))
    indicator = sp.csr_matrix(
        (np.ones(group.shape[0]), (group, np.arange(group.shape[0]))),
        shape=(n_groups, group.shape[0]),
    )
    return np.asarray(indicator @ values)


def _safe_divide(num: FloatArray, den: FloatArray) -> FloatArray:
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


# ----------------------------------------------------------------- helpers
def _require_column(frame: pd.DataFrame, column: str, role: str) -> None:
    if column not in frame.columns:
        raise DesignColumnError(
            f"design column {column!r} ({role}) is not in the data; columns are "
            f"{', '.join(map(str, frame.columns[:20]))}"
        )
    missing = frame[column].isna().to_numpy()
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        raise DesignColumnError(
            f"design column {column!r} ({role}) has {int(missing.sum())} missing values "
            f"(first at row {row})"
        )


def _factorize(values: pd.Series, sort: bool = True) -> tuple[IntArray, tuple[object, ...]]:
    codes, uniques = pd.factorize(values, sort=sort)
    return codes.astype(np.intp), tuple(uniques.tolist())


def _numeric(values: pd.Series, column: str) -> FloatArray:
    try:
        return np.asarray(pd.to_numeric(values), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DesignColumnError(f"design column {column!r} is not numeric: {exc}") from None


def _check_weights(w: FloatArray, column: str) -> None:
    bad = ~np.isfinite(w) | (w <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise WeightError(
            f"weights in {column!r} must be positive and finite: {int(bad.sum())} are not "
            f"(first at row {row}: {w[row]!r})"
        )


def _fpc_factor(
    values: pd.Series,
    column: str,
    strata: IntArray,
    labels: Sequence[object],
    psu_in_stratum: IntArray,
) -> tuple[FloatArray, FloatArray]:
    """Per-stratum ``f_h`` and per-row population PSU counts, as ``survey:::as.fpc``."""
    fpc = _numeric(values, column)
    if (fpc <= 0).any() or np.isnan(fpc).any():
        raise FPCError(f"fpc column {column!r} must be positive")
    is_count = bool((fpc > 1).any())
    if is_count != bool((fpc >= 1).all()):
        raise FPCError(
            f"fpc column {column!r} must be all population counts (>= 1) or all sampling "
            "fractions (<= 1), as R's svydesign requires"
        )
    n_strata = len(labels)
    lo = np.full(n_strata, np.inf)
    hi = np.full(n_strata, -np.inf)
    np.minimum.at(lo, strata, fpc)
    np.maximum.at(hi, strata, fpc)
    varying = lo != hi
    if varying.any():
        h = int(np.flatnonzero(varying)[0])
        raise FPCError(f"fpc column {column!r} varies within stratum {labels[h]!r}")
    sampled = psu_in_stratum.astype(np.float64)
    popsize = lo if is_count else sampled / lo
    if (popsize < sampled).any():
        h = int(np.flatnonzero(popsize < sampled)[0])
        raise FPCError(
            f"fpc column {column!r} implies more than 100% sampling in stratum "
            f"{labels[h]!r}: {popsize[h]:g} population PSUs but {int(sampled[h])} sampled"
        )
    factor = np.where(np.isinf(popsize), 1.0, (popsize - sampled) / popsize)
    return factor, popsize[strata]
