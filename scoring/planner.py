"""Sample planning: invitations per stratum to reach a margin, and how far each domain is from it.

:func:`plan_sample` allocates a stratified sample (strata inside domains, e.g.
agency x procedure field inside agency) so that every domain's share (the
satisfaction index, on the 0-1 scale) reaches a target margin of error at
the least number of invitations, or the least cost. :func:`precision_gauge`
tells, from today's estimates, each domain's margin against the target and
how many more complete answers it needs.

Both work on the proportion scale with the normal quantile ``z`` (1.96 at
95%): the planning margin is ``z sqrt(V)``. Reported intervals (logit, t on
the design's df) differ slightly from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize, stats

from scoring.errors import PlanError

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class SamplePlan:
    """A sample plan: one row per stratum and one per domain.

    Attributes
    ----------
    strata : DataFrame
        ``domain``, ``stratum``, ``N``, ``p``, ``deff``, ``response_rate``,
        ``cost``, then ``respondents`` (expected complete answers ``n_h``),
        ``invitations`` (expected ``m_h = n_h / r_h``), ``probability``
        (``pi_h = m_h / N_h``, the inclusion probability to select with),
        ``certainty`` (every dossier invited) and ``bound`` (``'all'``,
        ``'minimum'`` or empty: where the allocation hit a limit).
    domains : DataFrame
        ``domain``, ``strata``, ``N``, ``respondents``, ``invitations``,
        ``cost``, ``moe`` (the planned margin), ``target`` and ``reached``
        (False when inviting every dossier of the domain cannot reach it).
    """

    strata: pd.DataFrame
    domains: pd.DataFrame


def plan_sample(
    strata: pd.DataFrame,
    *,
    target_moe: float = 0.03,
    level: float = 0.95,
    domain: str = "domain",
    stratum: str = "stratum",
    size: str = "N",
    estimate: str = "p",
    deff: str | float = "deff",
    response_rate: str | float = "response_rate",
    cost: str | float | None = None,
    min_respondents: float = 2.0,
    fpc: bool = True,
) -> SamplePlan:
    """Inclusion probabilities per stratum that reach the target margin in every domain.

    Parameters
    ----------
    strata : DataFrame
        One row per stratum: its domain, its name, its frame size ``N_h``
        (dossiers expected in the period), last period's estimate ``p_h`` of
        the domain's share (the stratum's own, or the domain's), the design
        effect ``deff_h`` and the expected response rate ``r_h``.
    target_moe : float
        Margin of error wanted for every domain, on the proportion scale
        (0.03 for +/-3 points).
    level : float
        Confidence level of the margin.
    domain, stratum, size, estimate : str
        Column names.
    deff, response_rate : str or float
        Column names, or one value for every stratum.
    cost : str or float, optional
        Cost of one invitation in each stratum (column or value); None
        minimises the number of invitations.
    min_respondents : float
        Expected complete answers each stratum keeps at least (2 lets every
        stratum estimate its variance), or all its dossiers' if fewer.
    fpc : bool
        Count the finite population correction ``1 - n_h/N_h``.

    Returns
    -------
    SamplePlan

    Raises
    ------
    PlanError
        A missing column, a frame size that is not positive, a share outside
        [0, 1], a design effect, response rate or cost that is not positive,
        a response rate above 1, a target outside (0, 0.5]; the message names
        the stratum.

    Notes
    -----
    Within domain ``d`` with strata ``h`` (``W_h = N_h / N_d``,
    ``S_h^2 = p_h (1 - p_h)``, ``A_h = W_h^2 S_h^2 deff_h``), the variance of
    the domain's share from ``n_h`` complete answers per stratum is
    ``V = sum_h A_h / n_h - sum_h A_h / N_h``. The plan minimises
    ``sum_h c_h n_h / r_h`` (invitations, or their cost) subject to
    ``z sqrt(V) <= target`` and ``lo_h <= n_h <= r_h N_h`` (at most every
    dossier invited). The solution is ``n_h = clip(lambda sqrt(A_h r_h / c_h),
    lo_h, r_h N_h)`` with ``lambda`` such that the margin equals the target:
    without binding limits ``n_h = sqrt(A_h r_h/c_h) sum_k sqrt(A_k c_k/r_k) / V'``,
    ``V' = (target/z)^2 + sum_h A_h/N_h`` (Neyman allocation when costs and
    response rates are equal, ``n_h`` proportional to ``N_h S_h sqrt(deff_h)``).
    A stratum at ``r_h N_h`` invites every dossier (``pi_h = 1``, certainty);
    the others share the rest, which is the redistribution. Domains are
    planned independently, each to its own target.

    References
    ----------
    Cochran W.G. (1977) Sampling Techniques, 3rd ed., sections 5.5 (optimum
    allocation) and 5.9 (sample size for a given variance); Lohr S.L. (2019)
    Sampling: Design and Analysis, 2nd ed., section 3.4.
    """
    if not 0.0 < target_moe <= 0.5:
        raise PlanError(f"target margin must be in (0, 0.5] (proportion scale), not {target_moe}")
    if not 0.0 < level < 1.0:
        raise PlanError(f"confidence level must be in (0, 1), not {level}")
    frame = _inputs(strata, domain, stratum, size, estimate, deff, response_rate, cost)
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    v_target = (target_moe / z) ** 2
    rows, summaries = [], []
    for name, part in frame.groupby("domain", sort=True):
        n_total = part["N"].sum()
        weight = part["N"].to_numpy() / n_total
        p = part["p"].to_numpy()
        a = weight**2 * p * (1 - p) * part["deff"].to_numpy()
        rate = part["response_rate"].to_numpy()
        price = part["cost"].to_numpy() / rate  # cost of one complete answer
        hi = rate * part["N"].to_numpy()
        lo = np.minimum(min_respondents, hi)
        correction = float(np.sum(a / part["N"].to_numpy())) if fpc else 0.0
        n, reached = _allocate(a, price, lo, hi, v_target + correction)
        variance = float(np.sum(np.divide(a, n, out=np.zeros_like(a), where=n > 0))) - correction
        invitations = n / rate
        probability = np.minimum(invitations / part["N"].to_numpy(), 1.0)
        bound = np.where(np.isclose(n, hi, rtol=1e-12), "all", "")
        bound = np.where((bound == "") & np.isclose(n, lo, rtol=1e-12), "minimum", bound)
        rows.append(
            part.assign(
                respondents=n,
                invitations=invitations,
                probability=probability,
                certainty=probability >= 1.0,
                bound=bound,
            )
        )
        summaries.append(
            {
                "domain": name,
                "strata": len(part),
                "N": n_total,
                "respondents": n.sum(),
                "invitations": invitations.sum(),
                "cost": float(np.sum(invitations * part["cost"].to_numpy())),
                "moe": z * np.sqrt(max(variance, 0.0)),
                "target": target_moe,
                "reached": reached,
            }
        )
    return SamplePlan(strata=pd.concat(rows, ignore_index=True), domains=pd.DataFrame(summaries))


def _allocate(
    a: FloatArray, price: FloatArray, lo: FloatArray, hi: FloatArray, budget: float
) -> tuple[FloatArray, bool]:
    """``n = clip(lambda sqrt(a / price), lo, hi)`` with ``sum a / n = budget`` (or a limit).

    Returns the allocation and whether the budget is met.
    """
    root = np.sqrt(a / price)

    def spent(n: FloatArray) -> float:
        return float(np.sum(np.divide(a, n, out=np.zeros_like(a), where=n > 0))) - budget

    def excess(lam: float) -> float:
        return spent(np.clip(lam * root, lo, hi))

    if spent(hi) > 0:
        return hi.copy(), False
    if spent(lo) <= 0:
        return lo.copy(), True
    top = 1.0
    while excess(top) > 0:
        top *= 2.0
    lam = optimize.brentq(excess, 0.0, top, xtol=1e-300, rtol=4 * np.finfo(float).eps)
    # The strata inside their limits at that lambda give lambda in closed form.
    n = np.clip(lam * root, lo, hi)
    free = (n > lo) & (n < hi)
    fixed = float(np.sum(np.divide(a, n, out=np.zeros_like(a), where=~free & (n > 0))))
    if free.any():
        lam = float(np.sum(np.sqrt(a[free] * price[free]))) / (budget - fixed)
        n = np.where(free, lam * root, n)
    return n, True


def _inputs(
    strata: pd.DataFrame,
    domain: str,
    stratum: str,
    size: str,
    estimate: str,
    deff: str | float,
    response_rate: str | float,
    cost: str | float | None,
) -> pd.DataFrame:
    """The planner's columns, checked: domain, stratum, N, p, deff, response_rate, cost."""
    out = pd.DataFrame(index=strata.index)
    for role, column in (("domain", domain), ("stratum", stratum)):
        if column not in strata.columns:
            raise PlanError(f"{role} column {column!r} is not in the strata table")
        out[role] = strata[column]
    specs: list[tuple[str, str | float | None, float]] = [
        ("N", size, np.nan),
        ("p", estimate, np.nan),
        ("deff", deff, np.nan),
        ("response_rate", response_rate, np.nan),
        ("cost", cost, 1.0),
    ]
    for role, spec, default in specs:
        if spec is None:
            out[role] = default
        elif isinstance(spec, str):
            if spec not in strata.columns:
                raise PlanError(f"{role} column {spec!r} is not in the strata table")
            out[role] = pd.to_numeric(strata[spec], errors="coerce")
        else:
            out[role] = float(spec)
    checks: Sequence[tuple[str, NDArray[np.bool_], str]] = [
        ("N", ~(out["N"] > 0).to_numpy(), "a frame size above 0"),
        ("p", ~out["p"].between(0, 1).to_numpy(), "a share in [0, 1]"),
        ("deff", ~(out["deff"] > 0).to_numpy(), "a design effect above 0"),
        (
            "response_rate",
            ~((out["response_rate"] > 0) & (out["response_rate"] <= 1)).to_numpy(),
            "a response rate in (0, 1]",
        ),
        ("cost", ~(out["cost"] > 0).to_numpy(), "a cost above 0"),
    ]
    for role, bad, wanted in checks:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise PlanError(
                f"stratum {out['stratum'].iloc[row]!r} (domain {out['domain'].iloc[row]!r}) "
                f"needs {wanted} in {role}, not {out[role].iloc[row]!r}"
            )
    duplicated = out.duplicated(["domain", "stratum"]).to_numpy()
    if duplicated.any():
        row = int(np.flatnonzero(duplicated)[0])
        raise PlanError(
            f"stratum {out['stratum'].iloc[row]!r} appears twice in domain "
            f"{out['domain'].iloc[row]!r}"
        )
    return out


def precision_gauge(
    estimates: pd.DataFrame,
    target_moe: float = 0.03,
    *,
    level: float = 0.95,
    se: str = "se",
    n: str = "n",
    response_rate: float | None = None,
) -> pd.DataFrame:
    """Today's margin of each estimate against the target, and the answers still needed.

    Parameters
    ----------
    estimates : DataFrame
        Rows with a standard error and the number of complete answers behind
        it, e.g. :func:`scoring.index_tree.compute_index_tree`'s output for
        the root node per agency.
    target_moe : float
        Target margin on the estimate's scale (0.03: +/-3 points of a share).
    level : float
    se, n : str
        Columns of the standard error and of the complete answers.
    response_rate : float, optional
        Expected response rate; adds ``invitations_needed``.

    Returns
    -------
    DataFrame
        ``estimates`` with ``moe`` (``z * se``), ``target``, ``met``,
        ``n_needed`` and ``more_needed`` (complete answers still to collect,
        0 when met), and ``invitations_needed`` when a response rate is given.

    Notes
    -----
    The margin falls as ``1/sqrt(n)`` when the design effect stays as it is
    today, so ``n_needed = n_now (moe_now / target)^2`` and
    ``more_needed = max(0, ceil(n_needed - n_now))``. An estimate without a
    standard error (no answers yet) gives NaN.
    """
    if not 0.0 < target_moe:
        raise PlanError(f"target margin must be above 0, not {target_moe}")
    for column in (se, n):
        if column not in estimates.columns:
            raise PlanError(f"column {column!r} is not in the estimates")
    if response_rate is not None and not 0.0 < response_rate <= 1.0:
        raise PlanError(f"response rate must be in (0, 1], not {response_rate}")
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    out = estimates.copy()
    moe = z * pd.to_numeric(out[se], errors="coerce").to_numpy(dtype=np.float64)
    now = pd.to_numeric(out[n], errors="coerce").to_numpy(dtype=np.float64)
    needed = now * (moe / target_moe) ** 2
    out["moe"] = moe
    out["target"] = target_moe
    out["met"] = moe <= target_moe
    out["n_needed"] = needed
    more = np.where(np.isnan(needed), np.nan, np.maximum(0.0, np.ceil(needed - now - 1e-9)))
    out["more_needed"] = more
    if response_rate is not None:
        out["invitations_needed"] = np.ceil(more / response_rate - 1e-9)
    return out
