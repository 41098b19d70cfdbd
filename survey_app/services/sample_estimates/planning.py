"""The sample planner: invitations per stratum to reach a margin in every agency, and a gauge.

Pure functions over DataFrames; the allocation and the gauge are
:func:`scoring.planner.plan_sample` and :func:`scoring.planner.precision_gauge`.
The planner's strata are the design's strata within each agency (a stratum that
spans agencies is planned in each of them, and selects at the largest of their
probabilities, so every agency reaches its target).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.errors import ScoringError
from scoring.planner import SamplePlan, plan_sample, precision_gauge
from scoring.response_rates import disposition_counts, response_rates
from survey_app.services.sample_estimates.estimates import SampleError
from survey_app.services.sample_estimates.tables import stratum_labels

# When nothing is known of an agency: the share with the largest variance, no design effect.
UNKNOWN_SHARE = 0.5
UNKNOWN_DEFF = 1.0


@dataclass(frozen=True)
class Targets:
    """What the analyst asks of the plan (margin on the 0-1 scale)."""

    moe: float = 0.03
    level: float = 0.95
    response_rate: float = 0.5  # expected where the sample has no rate yet


def planning_deff(estimate: float, se: float, n: float) -> float:
    """The design effect of an index against a share of the same value: ``se^2 n / (p (1-p))``.

    The planner models an agency's index as a share ``p`` whose variance from ``n``
    answers is ``p (1 - p) deff / n``. An index that averages many items varies less than
    one share (its own design effect, against its linearised variable, says nothing of
    that), so the design effect that carries today's precision into the plan is this one;
    with it the plan and the precision gauge agree. NaN when it cannot be formed.
    """
    if not (np.isfinite(estimate) and np.isfinite(se) and np.isfinite(n)):
        return float("nan")
    if not 0.0 < estimate < 1.0 or n <= 0 or se <= 0:
        return float("nan")
    return float(se * se * n / (estimate * (1.0 - estimate)))


def frame_strata(frame: pd.DataFrame, strata: tuple[str, ...]) -> pd.DataFrame:
    """Returned dossiers of the frame per agency and design stratum: ``agency, stratum, N``."""
    if frame.empty:
        return pd.DataFrame({"agency": [], "stratum": [], "N": []})
    counts = (
        frame.assign(stratum=stratum_labels(frame, strata))
        .groupby(["agency", "stratum"], sort=True)["returned"]
        .sum()
        .reset_index()
        .rename(columns={"returned": "N"})
    )
    return counts[counts["N"] > 0].reset_index(drop=True)


def observed_rates(dossiers: pd.DataFrame, default: float) -> dict[tuple[str, str], float]:
    """Expected response rate per (agency, stratum): its RR1 so far, else its agency's,
    else the sample's, else ``default`` (a rate of 0 is no basis for a plan)."""
    if dossiers.empty:
        return {}

    def rr1(by: list[str] | None) -> dict[object, float]:
        table = response_rates(disposition_counts(dossiers, "disposition", by), by)
        out: dict[object, float] = {}
        for record in table.to_dict("records"):
            key = tuple(record[b] for b in by) if by else None
            value = float(record["RR1"])
            if np.isfinite(value) and value > 0:
                out[key] = value
        return out

    overall = rr1(None).get(None, default)
    agencies = rr1(["agency"])
    cells = rr1(["agency", "stratum"])
    out = {}
    for agency, stratum in dossiers[["agency", "stratum"]].drop_duplicates().itertuples(False):
        key = (str(agency), str(stratum))
        out[key] = cells.get(key, agencies.get((str(agency),), overall))
    return out


def plan_inputs(
    strata: pd.DataFrame,
    estimates: Mapping[str, tuple[float, float]],
    rates: Mapping[tuple[str, str], float],
    default_rate: float,
) -> pd.DataFrame:
    """The planner's table: ``agency, stratum, N, p, deff, response_rate``.

    ``estimates`` maps an agency to its index (0-1) and design effect from the
    chosen source; an agency without them is planned at p = 0.5, deff = 1.
    """
    out = strata.copy()
    p, deff = [], []
    for agency in out["agency"]:
        share, effect = estimates.get(str(agency), (np.nan, np.nan))
        p.append(share if np.isfinite(share) else UNKNOWN_SHARE)
        deff.append(effect if np.isfinite(effect) and effect > 0 else UNKNOWN_DEFF)
    out["p"] = p
    out["deff"] = deff
    out["response_rate"] = [
        rates.get((str(a), str(s)), default_rate)
        for a, s in out[["agency", "stratum"]].itertuples(False)
    ]
    return out


def make_plan(inputs: pd.DataFrame, targets: Targets) -> SamplePlan:
    """Neyman allocation per agency (scoring's planner), or the reason it cannot be made."""
    if inputs.empty:
        raise SampleError.of("sample.plan_no_frame")
    try:
        return plan_sample(
            inputs,
            target_moe=targets.moe,
            level=targets.level,
            domain="agency",
            stratum="stratum",
        )
    except ScoringError as error:
        raise SampleError.of("sample.plan_failed", detail=str(error)) from None


def design_probabilities(plan: SamplePlan) -> dict[str, float]:
    """Planned inclusion probability of every design stratum: the largest of its agencies',
    rounded up at the fourth decimal (never below what the plan needs)."""
    largest = plan.strata.groupby("stratum")["probability"].max()
    return {
        str(k): float(min(1.0, np.ceil(float(v) * 10_000 - 1e-9) / 10_000))
        for k, v in largest.items()
    }


def gauge(roots: pd.DataFrame, targets: Targets, response_rate: float | None) -> pd.DataFrame:
    """Today's margin of each agency's index against the target, and answers still needed."""
    if roots.empty:
        return roots.assign(moe=[], target=[], met=[], n_needed=[], more_needed=[])
    try:
        out = precision_gauge(
            roots,
            targets.moe,
            level=targets.level,
            response_rate=response_rate if response_rate and response_rate > 0 else None,
        )
    except ScoringError as error:
        raise SampleError.of("sample.plan_failed", detail=str(error)) from None
    if "invitations_needed" in out.columns:
        # ceil(0 - 1e-9) is -0.0: no invitation needed reads 0.
        out["invitations_needed"] = out["invitations_needed"].clip(lower=0.0) + 0.0
    return out
