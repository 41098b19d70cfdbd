"""Change between two independent estimates (so sánh hai kỳ): difference, SE, test, p-value.

Written by the dashboard engineer for "change since the previous period";
statisticians: move or replace freely, the dashboard only calls
:func:`difference_test`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


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
    values = (est1, se1, est2, se2)
    if not all(math.isfinite(v) for v in values):
        nan = math.nan
        return Difference(est1 - est2 if math.isfinite(est1 - est2) else nan, nan, nan, nan, nan)
    diff = est1 - est2
    var = se1 * se1 + se2 * se2
    se = math.sqrt(var)
    if se == 0.0:
        return Difference(diff, 0.0, math.nan, math.inf, math.nan)
    statistic = diff / se
    df = math.inf
    if df1 is not None and df2 is not None and df1 > 0 and df2 > 0:
        if math.isfinite(df1) and math.isfinite(df2):
            df = var * var / (se1**4 / df1 + se2**4 / df2)
    if math.isinf(df):
        p = 2.0 * float(stats.norm.sf(abs(statistic)))
    else:
        p = 2.0 * float(stats.t.sf(abs(statistic), df))
    return Difference(diff, se, statistic, df, p)
