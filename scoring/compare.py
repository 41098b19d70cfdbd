"""Differences between independent estimates: difference, SE, test, p-value.

:func:`difference_test` compares two estimates (so sánh hai kỳ: change since the
previous period); :func:`difference_table` does it row by row for two tables of
estimates, and :func:`compare_index_trees` for every node of an index tree
estimated from two independent samples: the walk-in (QR poster) answers
against the probability sample of dossiers, for instance.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from scoring.ci import ShareMethod
from scoring.design import SurveyDesign
from scoring.errors import ScoringError
from scoring.estimators import DomainSpec
from scoring.index_tree import QuestionnaireLike, compute_index_tree

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Difference:
    """``estimate_1 - estimate_2`` with its standard error, statistic and p-value.

    Attributes
    ----------
    difference : float
        ``est1 - est2`` (same units as the estimates).
    se : float
        ``sqrt(se1^2 + se2^2)``.
    statistic : float
        ``difference / se`` (z or t).
    df : float
        Degrees of freedom of the reference distribution; ``inf`` for the normal.
    p_value : float
        Two-sided p-value; NaN when ``se`` is 0 or undefined.
    """

    difference: float
    se: float
    statistic: float
    df: float
    p_value: float

    def significant(self, alpha: float = 0.05) -> bool:
        """Whether the two-sided test rejects "no change" at level ``alpha``."""
        return math.isfinite(self.p_value) and self.p_value < alpha


def difference_test(
    est1: float,
    se1: float,
    est2: float,
    se2: float,
    df1: float | None = None,
    df2: float | None = None,
) -> Difference:
    """Two-sided test of ``est1 = est2`` for two independent domain estimates.

    Parameters
    ----------
    est1, se1 : float
        The first estimate (e.g. this period) and its design-based SE.
    est2, se2 : float
        The second estimate (e.g. the previous period) and its SE.
    df1, df2 : float, optional
        Design degrees of freedom of each estimate. When both are given and
        finite, a t reference with the Welch-Satterthwaite degrees of freedom
        is used; otherwise the normal (z test).

    Returns
    -------
    Difference

    Notes
    -----
    ``d = est1 - est2``, ``se(d) = sqrt(se1^2 + se2^2)`` (independence:
    no covariance term), ``T = d / se(d)``, ``p = 2 P(|X| > |T|)`` with ``X``
    standard normal, or Student t with
    ``df = (se1^2 + se2^2)^2 / (se1^4/df1 + se2^4/df2)`` (Welch-Satterthwaite).
    Two periods of one campaign are not strictly independent when they share
    PSUs; with many respondents per period the covariance is small and the test
    is slightly conservative when it is positive.

    References
    ----------
    Lohr S.L. (2019) Sampling: Design and Analysis, 2nd ed., section 11.2
    (comparing domain means); Satterthwaite F.E. (1946) Biometrics Bulletin 2, 110-114.

    Examples
    --------
    >>> d = difference_test(0.85, 0.01, 0.80, 0.02)
    >>> round(d.difference, 4), round(d.se, 5), round(d.statistic, 4), round(d.p_value, 4)
    (0.05, 0.02236, 2.2361, 0.0253)
    """
    diff, se, statistic, df, p = _differences(
        np.array([est1]),
        np.array([se1]),
        np.array([est2]),
        np.array([se2]),
        np.array([math.nan if df1 is None else df1]),
        np.array([math.nan if df2 is None else df2]),
    )
    return Difference(float(diff[0]), float(se[0]), float(statistic[0]), float(df[0]), float(p[0]))


def _differences(
    est1: ArrayLike,
    se1: ArrayLike,
    est2: ArrayLike,
    se2: ArrayLike,
    df1: ArrayLike,
    df2: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """:func:`difference_test` element by element (df NaN or missing: the normal)."""
    e1, s1, e2, s2 = (np.asarray(v, dtype=np.float64) for v in (est1, se1, est2, se2))
    d1, d2 = np.asarray(df1, dtype=np.float64), np.asarray(df2, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        finite = np.isfinite(e1) & np.isfinite(s1) & np.isfinite(e2) & np.isfinite(s2)
        diff = e1 - e2
        diff = np.where(np.isfinite(diff), diff, np.nan)
        var = s1 * s1 + s2 * s2
        se = np.where(finite, np.sqrt(var), np.nan)
        positive = finite & (se > 0)
        statistic = np.where(positive, diff / np.where(positive, se, 1.0), np.nan)
        welch = positive & (d1 > 0) & (d2 > 0) & np.isfinite(d1) & np.isfinite(d2)
        df = np.where(welch, var * var / (s1**4 / d1 + s2**4 / d2), np.inf)
        df = np.where(finite, df, np.nan)
        p = np.where(
            welch,
            2.0 * stats.t.sf(np.abs(statistic), np.where(welch, df, 1.0)),
            2.0 * stats.norm.sf(np.abs(statistic)),
        )
    return diff, se, statistic, df, np.where(positive, p, np.nan)


DIFFERENCE_COLUMNS: tuple[str, ...] = ("difference", "se", "statistic", "df", "p_value")


def difference_table(
    first: pd.DataFrame,
    second: pd.DataFrame,
    on: Sequence[str],
    *,
    labels: tuple[str, str] = ("first", "second"),
    carry: Sequence[str] = ("estimate", "se", "df", "n"),
) -> pd.DataFrame:
    """:func:`difference_test` for every row two tables of independent estimates share.

    Parameters
    ----------
    first, second : DataFrame
        Estimates with ``estimate``, ``se`` and ``df`` columns (df may be
        missing: the normal), e.g. two outputs of :func:`compute_index_tree`.
    on : sequence of str
        Columns that identify a row (``node``, ``domain``, ``level``).
    labels : (str, str)
        Suffixes of the two tables' carried columns.
    carry : sequence of str
        Columns of each table shown side by side (``estimate_first``, ...).

    Returns
    -------
    DataFrame
        The ``on`` columns, the carried columns of both tables, then
        ``difference`` (first - second), ``se``, ``statistic``, ``df``
        (Welch-Satterthwaite, ``inf`` for the normal) and ``p_value``. Rows
        present in only one table get NaN differences.

    Notes
    -----
    As :func:`difference_test`, row by row.
    """
    keys = list(on)
    for name, table in zip(labels, (first, second), strict=True):
        missing = [c for c in [*keys, "estimate", "se"] if c not in table.columns]
        if missing:
            raise ScoringError(f"the {name} estimates have no column {missing[0]!r}")
    a, b = labels
    shown = [c for c in carry if c in first.columns and c in second.columns]
    left = first[keys + shown + (["df"] if "df" not in shown and "df" in first.columns else [])]
    right = second[keys + shown + (["df"] if "df" not in shown and "df" in second.columns else [])]
    merged = left.merge(right, on=keys, how="outer", suffixes=(f"_{a}", f"_{b}"), sort=False)

    def column(name: str, label: str) -> FloatArray:
        full = f"{name}_{label}"
        if full in merged.columns:
            return merged[full].to_numpy(dtype=np.float64)
        return np.full(len(merged), np.nan)

    diff, se, statistic, df, p = _differences(
        column("estimate", a),
        column("se", a),
        column("estimate", b),
        column("se", b),
        column("df", a),
        column("df", b),
    )
    out = merged[keys + [f"{c}_{label}" for label in labels for c in shown]].copy()
    for name, values in zip(DIFFERENCE_COLUMNS, (diff, se, statistic, df, p), strict=True):
        out[name] = values
    return out


def compare_index_trees(
    questionnaire: QuestionnaireLike,
    first: SurveyDesign,
    second: SurveyDesign,
    domains: Iterable[DomainSpec] = (None,),
    *,
    labels: tuple[str, str] = ("walk_in", "sample"),
    level: float = 0.95,
    method: ShareMethod = "logit",
) -> pd.DataFrame:
    """Every node of the index tree from two independent samples, side by side, with a test.

    Parameters
    ----------
    questionnaire : Questionnaire
    first, second : SurveyDesign
        Two independent samples answering the same questionnaire: the
        walk-in answers (QR poster; a convenience sample, weighted as the
        analyst chooses) and the probability sample of dossiers, say.
    domains : iterable of str, list of str or None
        As :func:`compute_index_tree` (None: the whole sample).
    labels : (str, str)
        Names of the two samples, suffixes of their columns.
    level, method
        As :func:`compute_index_tree`.

    Returns
    -------
    DataFrame
        ``node``, ``parent``, ``depth``, ``domain``, ``level``, each sample's
        ``estimate``, ``se``, ``df`` and ``n``, then ``difference`` (first -
        second), ``se``, ``statistic``, ``df`` and ``p_value``.

    Notes
    -----
    The samples are independent, so ``se(d) = sqrt(se1^2 + se2^2)`` with no
    covariance, and the test is :func:`difference_test` on each node's
    design-based estimates and SEs (t on the Welch-Satterthwaite df of the
    two designs' df). A small p-value says the walk-in answers differ from
    the probability sample by more than sampling error: they are not a
    random sample of the desk's citizens.

    References
    ----------
    Lohr S.L. (2019) Sampling: Design and Analysis, 2nd ed., section 11.2.
    """
    trees = [
        compute_index_tree(questionnaire, design, domains, level=level, method=method)
        for design in (first, second)
    ]
    on = ["node", "domain", "level"]
    table = difference_table(trees[0], trees[1], on, labels=labels)
    shape = trees[0][["node", "parent", "depth"]].drop_duplicates("node")
    table = shape.merge(table, on="node", how="right")
    return table.reset_index(drop=True)
