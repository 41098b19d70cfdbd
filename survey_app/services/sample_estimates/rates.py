"""Response rates of the sample per desk, agency and stratum (AAPOR Standard Definitions).

Counts of the final dispositions of the selected dossiers (:func:`.tables.disposition_of`)
and the rates of :func:`scoring.response_rates.response_rates`: RR1 (complete answers
over every selected dossier not known to be ineligible), RR3 (the dossiers of unknown
eligibility counted at the eligible share of the known ones), COOP1 (complete answers
over codes delivered) and CON1 (codes delivered over eligible and unknown dossiers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.errors import ScoringError
from scoring.response_rates import DISPOSITIONS, disposition_counts, response_rates
from survey_app.services.sample_estimates.estimates import SampleError

BY = ("agency", "desk", "stratum")


@dataclass(frozen=True)
class RateRow:
    """One group's counts and rates (fractions; NaN when the denominator is 0)."""

    key: str
    label: str
    invited: int  # selected dossiers
    ineligible: int
    unknown: int
    delivered: int  # codes that reached the citizen (complete + no answer)
    answered: int  # complete answers
    rr1: float
    rr3: float
    coop1: float
    con1: float


def eligible_share(dossiers: pd.DataFrame) -> float:
    """``e`` of RR3: the eligible share of the dossiers whose eligibility is known."""
    known = dossiers["disposition"] != "unknown"
    if not known.any():
        return 1.0
    return float((dossiers.loc[known, "disposition"] != "ineligible").mean())


def rate_table(dossiers: pd.DataFrame, by: str | None, e: float) -> pd.DataFrame:
    """Disposition counts and AAPOR rates per ``by`` group (None: all the dossiers)."""
    try:
        counts = disposition_counts(dossiers, "disposition", by)
        return response_rates(counts, by, e=e)
    except ScoringError as error:
        raise SampleError.of("sample.failed", detail=str(error)) from None


def rate_rows(
    dossiers: pd.DataFrame, by: str | None, labels: dict[str, str] | None = None
) -> list[RateRow]:
    """:func:`rate_table` as rows for a page or a report (group labels from ``labels``)."""
    if dossiers.empty:
        return []
    table = rate_table(dossiers, by, eligible_share(dossiers))
    rows = []
    for record in table.to_dict("records"):
        key = "" if by is None else str(record[by])
        rows.append(
            RateRow(
                key=key,
                label=(labels or {}).get(key, key),
                invited=int(sum(record[c] for c in DISPOSITIONS)),
                ineligible=int(record["ineligible"]),
                unknown=int(record["unknown"]),
                delivered=int(record["complete"] + record["partial"] + record["no_answer"]),
                answered=int(record["complete"]),
                rr1=_rate(record["RR1"]),
                rr3=_rate(record["RR3"]),
                coop1=_rate(record["COOP1"]),
                con1=_rate(record["CON1"]),
            )
        )
    return rows


def _rate(value: object) -> float:
    number = float(value)  # type: ignore[arg-type]
    return number if np.isfinite(number) else float("nan")
