"""Sampling stages: strata, clusters and fpc of every stage, and R's stratum variance.

A design ``svydesign(ids=~psu+ssu, strata=~st, fpc=~N1+N2)`` has one row of
``ids`` and ``fpc`` per stage. R's ``survey:::multistage`` computes the
variance recursively: the first-stage variance from PSU totals, plus, inside
every PSU, the variance of the second stage scaled by the PSU's sampling
fraction ``n_1/N_1``, and so on. Unrolled, the recursion is a sum over stages:

``V = sum_s sum_{h in strata of stage s} m_h v_h``

with ``v_h`` the one-stratum variance of ``survey:::onestrat`` on the totals of
the stage-``s`` clusters of stratum ``h`` (:func:`strata_variance`) and
``m_h = prod_{t<s} n_t/N_t`` the sampling fractions of the units above ``h``.
A stage-``s`` stratum lies inside one stage-``s-1`` cluster: it is R's
``interaction(strata[, s], ids[, s-1])``. This module builds the stages from
the data (:func:`build_stages`) and adds the later stages' variance
(:func:`later_stages_variance`); the first stage stays in
:class:`scoring.design.SurveyDesign`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from scoring.errors import DesignColumnError, FPCError, LonelyPSUError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]

# R's onestrat() treats a stratum whose sampling fraction is (numerically) 1 as a census.
CENSUS_TOLERANCE = 1e-7


@dataclass(frozen=True, eq=False)
class StageFrame:
    """One stage as read from the data: its strata, clusters and fpc.

    Attributes
    ----------
    number : int
        Stage number, from 1.
    stratum : ndarray of int, shape (n,)
        Stratum of every row at this stage.
    stratum_first_row : ndarray of int, shape (n_strata,)
        A row of each stratum (for messages).
    strata_column : str or None
        The stratum column this stage reads.
    cluster : ndarray of int, shape (n,)
        Cluster (sampling unit) of every row at this stage, unique across the design.
    cluster_first_row : ndarray of int, shape (n_clusters,)
        A row of each cluster (for messages).
    id_columns : tuple of str
        Cluster columns of this stage and those above; empty when every row
        is its own unit (R ``ids=~1``).
    cluster_stratum : ndarray of int, shape (n_clusters,)
        Stratum of every cluster.
    n_sampled : ndarray of int, shape (n_strata,)
        Sampled clusters per stratum (R's ``fpc$sampsize``).
    popsize : ndarray, shape (n_strata,), or None
        Population clusters per stratum (R's ``fpc$popsize``); None without fpc.
    fpc_factor : ndarray, shape (n_strata,)
        ``(N_h - n_h) / N_h``, 1 without fpc.
    """

    number: int
    stratum: IntArray
    stratum_first_row: IntArray
    strata_column: str | None
    cluster: IntArray
    cluster_first_row: IntArray
    id_columns: tuple[str, ...]
    cluster_stratum: IntArray
    n_sampled: IntArray
    popsize: FloatArray | None
    fpc_factor: FloatArray

    @property
    def n_strata(self) -> int:
        """Strata at this stage."""
        return int(self.n_sampled.shape[0])

    @property
    def n_clusters(self) -> int:
        """Sampled clusters at this stage."""
        return int(self.cluster_stratum.shape[0])

    def sampled_fraction(self) -> FloatArray:
        """``n_h / N_h`` per row (the factor R's recursion puts on the stages below)."""
        if self.popsize is None:
            raise FPCError("a stage without fpc has no sampling fraction")
        return np.asarray(
            self.n_sampled[self.stratum] / self.popsize[self.stratum], dtype=np.float64
        )

    def cluster_label(self, frame: pd.DataFrame, c: int) -> str:
        """``district='D3', commune='C1'``: the cluster's values of the id columns."""
        row = int(self.cluster_first_row[c])
        return _describe(frame, self.id_columns, row) or f"row {row}"

    def stratum_label(self, frame: pd.DataFrame, h: int) -> str:
        """The stratum's value (stage 1) or its cluster above and value (later stages)."""
        row = int(self.stratum_first_row[h])
        if self.number == 1:
            return repr(plain(frame[self.strata_column].iloc[row])) if self.strata_column else "1"
        above = _describe(frame, self.id_columns[:-1], row)
        if self.strata_column is None:
            return f"({above})"
        value = plain(frame[self.strata_column].iloc[row])
        return f"({above}, {self.strata_column}={value!r})"


@dataclass(frozen=True, eq=False)
class Stage:
    """A later stage (2, 3, ...) of a multistage design with fpc, as R's recursion uses it.

    Attributes
    ----------
    number : int
        Stage number, from 2.
    frame : StageFrame
        The stage's strata, clusters and fpc.
    stratum_parent : ndarray of int, shape (n_strata,)
        The cluster of the stage above that holds each stratum.
    multiplier : ndarray, shape (n_strata,)
        ``prod_{t<s} n_t/N_t`` over the units above each stratum.
    unit_cluster : ndarray of int, shape (n_units,)
        This stage's cluster of every variance unit (last-stage cluster).
    """

    number: int
    frame: StageFrame
    stratum_parent: IntArray
    multiplier: FloatArray
    unit_cluster: IntArray


def column_list(columns: str | Sequence[str] | None) -> list[str]:
    """A design argument as a list of column names (one per stage)."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    return list(columns)


def build_stages(
    frame: pd.DataFrame,
    ids: Sequence[str],
    strata: Sequence[str],
    fpc: Sequence[str],
    *,
    nest: bool,
) -> list[StageFrame]:
    """Every stage of ``svydesign(ids=, strata=, fpc=, nest=)`` from the data.

    Parameters
    ----------
    frame : DataFrame
        The sample, index ``0 .. n-1``, columns checked for presence and missing values.
    ids : sequence of str
        Cluster column of each stage; empty for ``ids=~1`` (every row its own PSU).
    strata : sequence of str
        Stratum column of each stage (R ``strata=~st1+st2``); a stage beyond
        the last column uses the last one. Empty: no strata.
    fpc : sequence of str
        One fpc column per stage (population counts, all >= 1, or sampling
        fractions, all <= 1), or empty.
    nest : bool
        Cluster labels repeat across strata (R ``nest=TRUE``).

    Returns
    -------
    list of StageFrame
        One per stage (at least one).

    Raises
    ------
    DesignColumnError
        A cluster lies in two strata; more strata columns than stages.
    FPCError
        ``fpc`` does not give one column per stage, mixes counts and
        fractions, varies within a stratum or is below the sample.

    Notes
    -----
    As R's ``svydesign.default``: clusters of stage ``s`` are nested in those
    of stage ``s-1`` (``interaction(ids[, 1:s])``), and the strata of stage
    ``s >= 2`` are ``interaction(strata[, min(s, NS)], ids[, s-1])``. Sampled
    clusters per stratum ``n_h``; with fpc ``N_h`` (or ``n_h / fraction``).

    References
    ----------
    Matches R survey::svydesign and ``survey:::as.fpc`` (survey 4.1-1).
    """
    n = len(frame)
    n_stages = max(1, len(ids))
    if len(strata) > n_stages:
        raise DesignColumnError(
            f"{len(strata)} strata columns ({', '.join(strata)}) for a {n_stages}-stage design: "
            "give at most one per stage"
        )
    if fpc and len(fpc) != n_stages:
        id_text = ", ".join(ids) if ids else "one row each"
        raise FPCError(
            f"fpc gives {len(fpc)} column(s) ({', '.join(fpc)}) for a {n_stages}-stage design "
            f"(clusters: {id_text}); give one per stage, as R's svydesign requires"
        )
    fpc_values = [numeric_column(frame[c], c) for c in fpc]
    is_count = _fpc_kind(fpc_values, fpc) if fpc_values else False

    stages: list[StageFrame] = []
    parent: IntArray | None = None
    for s in range(n_stages):
        strata_column = strata[min(s, len(strata) - 1)] if strata else None
        stratum_keys: list[IntArray] = [] if parent is None else [parent]
        if strata_column is not None:
            stratum_keys.append(_codes(frame[strata_column]))
        stratum, stratum_first = _combine(stratum_keys, n)
        id_columns = tuple(ids[: s + 1])
        if ids:
            cluster_columns = list(id_columns)
            if nest and strata:
                cluster_columns = list(strata[: min(s + 1, len(strata))]) + cluster_columns
            cluster, cluster_first = _combine([_codes(frame[c]) for c in cluster_columns], n)
        else:
            cluster = np.arange(n, dtype=np.intp)
            cluster_first = cluster
        cluster_stratum = np.full(cluster_first.shape[0], -1, dtype=np.intp)
        cluster_stratum[cluster] = stratum
        n_sampled = np.bincount(cluster_stratum, minlength=stratum_first.shape[0]).astype(np.intp)
        stage = StageFrame(
            number=s + 1,
            stratum=stratum,
            stratum_first_row=stratum_first,
            strata_column=strata_column,
            cluster=cluster,
            cluster_first_row=cluster_first,
            id_columns=id_columns,
            cluster_stratum=cluster_stratum,
            n_sampled=n_sampled,
            popsize=None,
            fpc_factor=np.ones(stratum_first.shape[0]),
        )
        split = cluster_stratum[cluster] != stratum
        if split.any():
            row = int(np.flatnonzero(split)[0])
            raise DesignColumnError(
                f"{_at(stage)}PSU {stage.cluster_label(frame, int(cluster[row]))} lies in more "
                f"than one stratum (column {strata_column!r}); clusters must be nested in "
                "strata, or pass nest=True"
            )
        if fpc_values:
            popsize, factor = _stage_fpc(frame, stage, fpc_values[s], fpc[s], is_count)
            stage = replace(stage, popsize=popsize, fpc_factor=factor)
        stages.append(stage)
        parent = cluster
    return stages


def later_stages(
    frame: pd.DataFrame, frames: Sequence[StageFrame], lonely_psu: str
) -> tuple[Stage, ...]:
    """The stages R's recursion visits below the first, with their multipliers.

    R recurses only when the design has fpc and more than one stage of
    clusters; otherwise the variance is the first stage's (ultimate cluster,
    with replacement at the first stage). Lonely units at a later stage
    follow ``lonely_psu`` as at the first; ``'fail'`` raises here, and so
    does ``'average'`` when every stratum inside a cluster has one sampled
    unit (R's variance is NaN then).
    """
    if len(frames) < 2 or frames[0].popsize is None:
        return ()
    units = frames[-1]
    out: list[Stage] = []
    fraction = np.ones(units.cluster.shape[0])
    for s in range(1, len(frames)):
        above, stage = frames[s - 1], frames[s]
        fraction = fraction * above.sampled_fraction()
        stratum_parent = above.cluster[stage.stratum_first_row]
        _check_lonely(frame, stage, stratum_parent, above, lonely_psu)
        out.append(
            Stage(
                number=s + 1,
                frame=stage,
                stratum_parent=stratum_parent,
                multiplier=fraction[stage.stratum_first_row],
                unit_cluster=stage.cluster[units.cluster_first_row],
            )
        )
    return tuple(out)


def lonely_strata(stage: StageFrame) -> NDArray[np.bool_]:
    """Strata with one sampled unit that are not a census (R's lonely PSUs)."""
    return np.asarray((stage.n_sampled == 1) & (stage.fpc_factor >= CENSUS_TOLERANCE))


def _check_lonely(
    frame: pd.DataFrame,
    stage: StageFrame,
    parent: IntArray,
    above: StageFrame,
    lonely_psu: str,
) -> None:
    lonely = lonely_strata(stage)
    if not lonely.any():
        return
    if lonely_psu == "fail":
        h = int(np.flatnonzero(lonely)[0])
        raise LonelyPSUError(
            f"stage {stage.number}: stratum {stage.stratum_label(frame, h)} has only one "
            f"sampled unit ({int(lonely.sum())} such strata); choose lonely_psu='adjust', "
            "'certainty', 'remove' or 'average'"
        )
    if lonely_psu == "average":
        strata = np.bincount(parent, minlength=above.n_clusters)
        alone = np.bincount(parent, weights=lonely, minlength=above.n_clusters)
        stuck = (strata > 0) & (alone == strata)
        if stuck.any():
            c = int(np.flatnonzero(stuck)[0])
            raise LonelyPSUError(
                f"stage {stage.number}: lonely_psu='average' has nothing to average within "
                f"{above.cluster_label(frame, c)}: each of its strata has one sampled unit "
                "(R's variance is NaN); choose 'adjust', 'certainty' or 'remove'"
            )


def strata_variance(
    sums: FloatArray,
    n_h: FloatArray,
    fpc: FloatArray,
    lonely_psu: str,
    present: NDArray[np.bool_] | None = None,
    group: IntArray | None = None,
    n_groups: int = 1,
) -> FloatArray:
    """One-stratum variances of ``survey:::onestrat``, summed by group.

    Parameters
    ----------
    sums : ndarray, shape (c, m)
        ``sum_i (z_hi - zbar_h)^2`` over the ``n_h`` clusters of each row's
        stratum (``sum_i z_hi^2`` for a lonely cluster under ``'adjust'``).
    n_h, fpc : ndarray, shape (c,)
        Sampled clusters and ``f_h = (N_h - n_h)/N_h`` of each row's stratum.
    lonely_psu : str
        R's ``survey.lonely.psu``.
    present : ndarray of bool, shape (c, m), optional
        The stratum holds a respondent of the estimate's subset; only used
        by ``'average'``. Default: every row.
    group : ndarray of int, shape (c,), optional
        Group ``0 .. n_groups-1`` of each row (a domain, or the cluster of
        the stage above); default one group.
    n_groups : int

    Returns
    -------
    ndarray, shape (n_groups, m)

    Notes
    -----
    ``v_h = f_h n_h/(n_h - 1) sums_h``; a stratum with ``f_h < 1e-7`` is a
    census and gives 0; a lonely stratum (``n_h = 1``) gives ``f_h sums_h``,
    0 unless ``'adjust'``; under ``'average'`` it is left out and the group's
    sum multiplied by (strata present) / (strata present that are not lonely).

    References
    ----------
    Matches R survey:::onestrat and survey:::onestage (survey 4.1-1).
    """
    lonely = n_h == 1
    scale = np.where(lonely, fpc, fpc * n_h / np.maximum(n_h - 1, 1))
    census = fpc < CENSUS_TOLERANCE
    scale = np.where(census, 0.0, scale)
    contributions = sums * scale[:, None]
    if lonely_psu != "average":
        return group_sum(contributions, group, n_groups)
    dropped = lonely & ~census
    contributions[dropped] = 0.0
    if present is None:
        present = np.ones(sums.shape, dtype=bool)
    n_present = group_sum(present.astype(np.float64), group, n_groups)
    n_ok = group_sum((present & ~dropped[:, None]).astype(np.float64), group, n_groups)
    factor = np.divide(n_present, n_ok, out=np.zeros(n_ok.shape), where=n_ok > 0)
    return group_sum(contributions, group, n_groups) * factor


def later_stages_variance(
    stages: Sequence[Stage],
    unit_totals: FloatArray,
    lonely_psu: str,
    present: NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Variance of the stages below the first, from totals of the last-stage clusters.

    Parameters
    ----------
    stages : sequence of Stage
    unit_totals : ndarray, shape (n_units, m)
        Totals of the influence values over every last-stage cluster.
    lonely_psu : str
    present : ndarray of bool, shape (n_units, m), optional
        Units holding a respondent of each estimate's subset (``'average'``).

    Returns
    -------
    ndarray, shape (m,)

    Notes
    -----
    ``sum_{s>=2} sum_h m_h v_h`` with ``v_h`` as :func:`strata_variance` on
    the totals of the stratum's stage-``s`` clusters, centred on their mean
    over the ``n_h`` sampled clusters (absent ones have total 0, as R pads a
    subset), and ``'average'`` applied within each cluster of the stage above
    (R's recursion calls ``onestage`` once per such cluster).

    References
    ----------
    Matches R survey:::multistage (survey 4.1-1).
    """
    m = unit_totals.shape[1]
    total = np.zeros(m)
    for stage in stages:
        frame = stage.frame
        to_cluster = _indicator(stage.unit_cluster, frame.n_clusters)
        z = np.asarray(to_cluster @ unit_totals)
        by_stratum = _indicator(frame.cluster_stratum, frame.n_strata)
        n_h = frame.n_sampled.astype(np.float64)
        sums, _ = centred_sums(z, by_stratum, frame.cluster_stratum, frame.n_sampled, lonely_psu)
        sums = sums * stage.multiplier[:, None]
        strata_present = None
        if present is not None and lonely_psu == "average":
            held = np.asarray(to_cluster @ present.astype(np.float64)) > 0
            strata_present = np.asarray(by_stratum @ held.astype(np.float64)) > 0
        parents = int(stage.stratum_parent.max()) + 1
        total += strata_variance(
            sums, n_h, frame.fpc_factor, lonely_psu, strata_present, stage.stratum_parent, parents
        ).sum(axis=0)
    return total


def centred_sums(
    z: FloatArray,
    by_stratum: sp.csr_matrix,
    cluster_stratum: IntArray,
    n_sampled: IntArray,
    lonely_psu: str,
) -> tuple[FloatArray, FloatArray]:
    """Per stratum ``sum_i (z_i - zbar_h)^2`` over the given clusters, and the means ``zbar_h``.

    ``zbar_h`` divides by the ``n_h`` sampled clusters (those not given have
    total 0); a lonely cluster is not centred under ``'adjust'``, as R's onestrat.
    """
    means = np.asarray(by_stratum @ z) / n_sampled.astype(np.float64)[:, None]
    centred = z - means[cluster_stratum]
    lonely = n_sampled == 1
    if lonely_psu == "adjust" and lonely.any():
        rows = lonely[cluster_stratum]
        centred[rows] = z[rows]
    return np.asarray(by_stratum @ (centred * centred)), means


def group_sum(values: FloatArray, group: IntArray | None, n_groups: int) -> FloatArray:
    """Column sums of ``values`` by ``group`` (all rows when None), shape (n_groups, m)."""
    if group is None:
        return np.asarray(values.sum(axis=0, keepdims=True), dtype=np.float64)
    return np.asarray(_indicator(group, n_groups) @ values, dtype=np.float64)


def _indicator(codes: IntArray, n_groups: int) -> sp.csr_matrix:
    """Sparse (groups x items) indicator of each item's group."""
    return sp.csr_matrix(
        (np.ones(codes.shape[0]), (codes, np.arange(codes.shape[0]))),
        shape=(n_groups, codes.shape[0]),
    )


# ----------------------------------------------------------------- helpers
def numeric_column(values: pd.Series, column: str) -> FloatArray:
    """A design column as floats; names the column when it is not numeric."""
    try:
        return np.asarray(pd.to_numeric(values), dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise DesignColumnError(f"design column {column!r} is not numeric: {exc}") from None


def _codes(values: pd.Series) -> IntArray:
    return pd.factorize(values, sort=True)[0].astype(np.intp)


def _combine(keys: Sequence[IntArray], n: int) -> tuple[IntArray, IntArray]:
    """Codes of the combinations of integer keys (sorted), and a row of each combination."""
    codes = np.zeros(n, dtype=np.int64)
    for key in keys:
        width = int(key.max(initial=0)) + 1
        if int(codes.max(initial=0)) >= 2**62 // width:
            codes = pd.factorize(codes, sort=True)[0].astype(np.int64)
        codes = codes * width + key
    final, uniques = pd.factorize(codes, sort=True)
    final = final.astype(np.intp)
    first = np.zeros(len(uniques), dtype=np.intp)
    first[final[::-1]] = np.arange(n - 1, -1, -1)
    return final, first


def _describe(frame: pd.DataFrame, columns: Sequence[str], row: int) -> str:
    return ", ".join(f"{c}={plain(frame[c].iloc[row])!r}" for c in columns)


def plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (so messages show 3, not np.int64(3))."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _at(stage: StageFrame) -> str:
    return f"stage {stage.number}: " if stage.number > 1 else ""


def _fpc_kind(values: Sequence[FloatArray], columns: Sequence[str]) -> bool:
    """Whether the fpc columns are population counts (else fractions), as R decides."""
    stacked = np.concatenate(values)
    names = ", ".join(map(repr, columns))
    if np.isnan(stacked).any() or (stacked <= 0).any():
        raise FPCError(f"fpc column {names} must be positive")
    is_count = bool((stacked > 1).any())
    if is_count != bool((stacked >= 1).all()):
        raise FPCError(
            f"fpc column {names} must be all population counts (>= 1) or all sampling "
            "fractions (<= 1), as R's svydesign requires"
        )
    return is_count


def _stage_fpc(
    frame: pd.DataFrame, stage: StageFrame, fpc: FloatArray, column: str, is_count: bool
) -> tuple[FloatArray, FloatArray]:
    """Per-stratum population counts and ``f_h``, as ``survey:::as.fpc``."""
    n_strata = stage.n_strata
    lo = np.full(n_strata, np.inf)
    hi = np.full(n_strata, -np.inf)
    np.minimum.at(lo, stage.stratum, fpc)
    np.maximum.at(hi, stage.stratum, fpc)
    varying = lo != hi
    if varying.any():
        h = int(np.flatnonzero(varying)[0])
        raise FPCError(
            f"{_at(stage)}fpc column {column!r} varies within stratum "
            f"{stage.stratum_label(frame, h)}"
        )
    sampled = stage.n_sampled.astype(np.float64)
    popsize = lo if is_count else sampled / lo
    if (popsize < sampled).any():
        h = int(np.flatnonzero(popsize < sampled)[0])
        raise FPCError(
            f"{_at(stage)}fpc column {column!r} implies more than 100% sampling in stratum "
            f"{stage.stratum_label(frame, h)}: {popsize[h]:g} population units but "
            f"{int(sampled[h])} sampled"
        )
    factor = np.where(np.isinf(popsize), 1.0, (popsize - sampled) / popsize)
    return popsize, factor
