"""Confidence intervals for shares and for other estimates.

Share methods take R's names from ``svyciprop``: ``logit`` (the default),
``xlogit``, ``asin``, ``beta`` (Korn-Graubard), ``mean`` (Wald), plus
``wilson``, a design-effect-adjusted Wilson interval that R does not have.
Every function is vectorised over numpy arrays.

R's ``likelihood`` method is not offered: it profiles the deviance of
``svyglm`` on a grid around the fit and interpolates a spline, and its
bounds move by about 1e-8 with the iteration at which ``glm()`` stops
(the working weights come from the last-but-one IRLS step), so it cannot be
matched to 1e-8 from the estimate and SE alone.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special, stats

from scoring.errors import ScoringError

ShareMethod = Literal["logit", "xlogit", "asin", "beta", "mean", "wilson"]
SHARE_METHODS: tuple[str, ...] = ("logit", "xlogit", "asin", "beta", "mean", "wilson")

FloatArray = NDArray[np.float64]


def t_quantile(level: float, df: ArrayLike) -> FloatArray:
    """Two-sided t quantile ``qt((1 + level)/2, df)``; NaN where ``df <= 0``.

    Notes
    -----
    ``df = inf`` gives the normal quantile.
    """
    _check_level(level)
    dfa = np.asarray(df, dtype=np.float64)
    out = np.full(dfa.shape, np.nan)
    ok = dfa > 0
    out[ok] = stats.t.ppf(0.5 + level / 2.0, dfa[ok])
    return out


def wald_interval(
    estimate: ArrayLike, se: ArrayLike, df: ArrayLike, level: float = 0.95
) -> tuple[FloatArray, FloatArray]:
    """Wald t interval ``estimate -/+ t_{df, (1+level)/2} * se``.

    Parameters
    ----------
    estimate, se, df : array_like
        Estimates, standard errors and design degrees of freedom.
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    (low, high) : tuple of ndarray
        NaN where ``df <= 0`` (no degrees of freedom: no interval).

    References
    ----------
    Matches R survey ``confint(stat, df=degf(design))`` (``survey:::tconfint``).
    """
    est = np.asarray(estimate, dtype=np.float64)
    s = np.asarray(se, dtype=np.float64)
    t = t_quantile(level, df)
    return est - t * s, est + t * s


def share_interval(
    p: ArrayLike,
    se: ArrayLike,
    df: ArrayLike,
    level: float = 0.95,
    method: ShareMethod = "logit",
    *,
    n_rows: ArrayLike | None = None,
    n_valid: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Confidence interval for a share (proportion) from its estimate and SE.

    Parameters
    ----------
    p : array_like
        Estimated shares in [0, 1].
    se : array_like
        Their design-based standard errors.
    df : array_like
        Design degrees of freedom (R ``degf`` of the subset design).
    level : float
        Confidence level in (0, 1), e.g. 0.90 or 0.95.
    method : {'logit', 'xlogit', 'asin', 'beta', 'mean', 'wilson'}
        See Notes.
    n_rows : array_like, optional
        ``nrow(design)`` as R's ``beta`` method uses it (respondents in the
        subset design). Required for ``beta``.
    n_valid : array_like, optional
        Number of valid answers behind each share, for the 0 / 1 fallback;
        defaults to ``n_rows``.

    Returns
    -------
    (low, high) : tuple of ndarray

    Notes
    -----
    With ``t = qt((1+level)/2, df)`` and ``V = se^2``:

    - ``logit`` and ``xlogit``: ``expit(logit(p) -/+ t se / (p(1-p)))``.
      R's ``logit`` fits ``svyglm(y ~ 1, family=quasibinomial)``, whose
      intercept and sandwich variance are exactly ``logit(p)`` and
      ``V / (p(1-p))^2``, so the two coincide.
    - ``asin``: ``sin(asin(sqrt(p)) -/+ t se / (2 sqrt(p(1-p))))^2``, with the
      transformed bounds kept in ``[0, pi/2]`` (R does not clip them).
    - ``beta`` (Korn-Graubard): ``n* = p(1-p)/V * (qt(a/2, n_rows-1) /
      qt(a/2, df))^2``, ``low = qbeta(a/2, n* p, n*(1-p)+1)``,
      ``high = qbeta(1-a/2, n* p + 1, n*(1-p))`` with ``a = 1 - level``.
    - ``mean``: Wald ``p -/+ t se`` (not clipped, as R).
    - ``wilson``: Wilson's score interval with Kish's effective sample size
      ``n* = p(1-p)/V``: ``(p + t^2/(2n*) -/+ t sqrt(p(1-p)/n* +
      t^2/(4 n*^2))) / (1 + t^2/n*)``.

    Degenerate shares are given defined intervals, never NaN:

    - ``p = 0`` or ``p = 1`` (the variance, hence the design effect, cannot
      be estimated): the Clopper-Pearson exact interval for ``x = p n``
      successes among ``n = n_valid`` answers, i.e. ``[0, 1 - (a/2)^(1/n)]``
      for ``p = 0`` and ``[(a/2)^(1/n), 1]`` for ``p = 1``;
    - ``0 < p < 1`` with ``se = 0`` (a census stratum, no sampling error):
      ``[p, p]``.

    Only ``df <= 0`` (no degrees of freedom) with ``0 < p < 1`` yields NaN
    bounds; tables mark such rows explicitly.

    References
    ----------
    Matches R survey::svyciprop(method=...) (survey 4.1-1) for ``logit``,
    ``xlogit``, ``asin``, ``beta`` and ``mean``. Korn E.L., Graubard B.I.
    (1998) Confidence intervals for proportions with small expected number
    of positive counts estimated from survey data. Survey Methodology 24,
    193-201. Kish L. (1965) Survey Sampling, Wiley (effective sample size).
    Wilson E.B. (1927) JASA 22, 209-212.
    """
    if method not in SHARE_METHODS:
        raise ScoringError(
            f"unknown confidence interval method {method!r}; use one of {', '.join(SHARE_METHODS)}"
        )
    _check_level(level)
    pa = np.atleast_1d(np.asarray(p, dtype=np.float64))
    sa = np.broadcast_to(np.asarray(se, dtype=np.float64), pa.shape)
    dfa = np.broadcast_to(np.asarray(df, dtype=np.float64), pa.shape)
    low = np.full(pa.shape, np.nan)
    high = np.full(pa.shape, np.nan)
    alpha = 1.0 - level
    t = t_quantile(level, dfa)

    boundary = (pa <= 0.0) | (pa >= 1.0)
    degenerate = ~boundary & (sa <= 0.0) & (dfa > 0)
    regular = ~boundary & ~degenerate & (dfa > 0)

    if boundary.any():
        if n_valid is None:
            n_valid = n_rows
        if n_valid is None:
            raise ScoringError("n_valid is needed for a share of exactly 0 or 1")
        nv = np.broadcast_to(np.asarray(n_valid, dtype=np.float64), pa.shape)[boundary]
        pb = np.clip(pa[boundary], 0.0, 1.0)
        x = pb * nv
        with np.errstate(invalid="ignore", divide="ignore"):
            lo = np.where(x <= 0, 0.0, stats.beta.ppf(alpha / 2, x, nv - x + 1))
            hi = np.where(x >= nv, 1.0, stats.beta.ppf(1 - alpha / 2, x + 1, nv - x))
        low[boundary] = lo
        high[boundary] = hi
    if degenerate.any():
        low[degenerate] = pa[degenerate]
        high[degenerate] = pa[degenerate]

    if regular.any():
        pr, sr, tr, dr = pa[regular], sa[regular], t[regular], dfa[regular]
        if method in ("logit", "xlogit"):
            centre = special.logit(pr)
            half = tr * sr / (pr * (1.0 - pr))
            lo, hi = special.expit(centre - half), special.expit(centre + half)
        elif method == "asin":
            centre = np.arcsin(np.sqrt(pr))
            half = tr * sr / (2.0 * np.sqrt(pr * (1.0 - pr)))
            lo = np.sin(np.clip(centre - half, 0.0, np.pi / 2)) ** 2
            hi = np.sin(np.clip(centre + half, 0.0, np.pi / 2)) ** 2
        elif method == "mean":
            lo, hi = pr - tr * sr, pr + tr * sr
        elif method == "beta":
            if n_rows is None:
                raise ScoringError("the beta (Korn-Graubard) interval needs n_rows")
            nr = np.broadcast_to(np.asarray(n_rows, dtype=np.float64), pa.shape)[regular]
            n_eff = pr * (1.0 - pr) / sr**2
            n_eff = n_eff * (stats.t.ppf(alpha / 2, nr - 1) / stats.t.ppf(alpha / 2, dr)) ** 2
            lo = stats.beta.ppf(alpha / 2, n_eff * pr, n_eff * (1.0 - pr) + 1.0)
            hi = stats.beta.ppf(1 - alpha / 2, n_eff * pr + 1.0, n_eff * (1.0 - pr))
        else:  # wilson
            n_eff = pr * (1.0 - pr) / sr**2
            t2 = tr * tr
            denom = 1.0 + t2 / n_eff
            centre = (pr + t2 / (2.0 * n_eff)) / denom
            half = tr * np.sqrt(pr * (1.0 - pr) / n_eff + t2 / (4.0 * n_eff**2)) / denom
            lo, hi = centre - half, centre + half
        low[regular] = lo
        high[regular] = hi
    return low, high


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ScoringError(f"confidence level must be in (0, 1), not {level!r}")
