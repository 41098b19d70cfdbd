"""Response rates of a probability sample of dossiers, by AAPOR's standard definitions.

A selected dossier ends in exactly one final disposition (AAPOR 2023, tables
for surveys of specifically named persons, here the citizen behind a
dossier the one-stop system returned):

========================  ======  ==============================================
disposition               AAPOR   in this setting
========================  ======  ==============================================
``complete``              I       a stored submission answering the form
``partial``               P       a break-off the application kept (0 if it keeps none)
``no_answer``             R + O   code delivered (slip printed or sent), no answer
``not_delivered``         NC      eligible, but the code never reached the citizen
``unknown``               UH, UO  eligibility not known (e.g. dossier status not final)
``ineligible``            (IE)    out of scope: dossier withdrawn or cancelled
========================  ======  ==============================================

Counts come either as these six columns, or as ``selected``, ``ineligible``,
``unknown``, ``delivered`` (codes delivered to eligible dossiers: I + P + R + O),
``complete`` and ``partial``, from which the six follow. With
``E = I + P + (R + O) + NC`` the eligible dossiers and ``U`` the unknown:

- ``RR1 = I / (E + U)``, ``RR2 = (I + P) / (E + U)``: every case of
  unknown eligibility counted as eligible;
- ``RR3 = I / (E + e U)``, ``RR4 = (I + P) / (E + e U)``: a share ``e`` of them;
- ``COOP1 = I / (I + P + R + O)``, ``COOP2 = (I + P) / (I + P + R + O)``:
  among dossiers whose code was delivered (contacted);
- ``CON1 = (I + P + R + O) / (E + U)``: the delivery (contact) rate.

A rate whose denominator is 0 is NaN. Rates are unweighted (the share of
selected dossiers), as AAPOR defines them; weighted rates use the design
weights as the counts.

References
----------
The American Association for Public Opinion Research (2023). Standard
Definitions: Final Dispositions of Case Codes and Outcome Rates for Surveys,
10th edition. AAPOR.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from scoring.errors import ResponseCountError

DISPOSITIONS: tuple[str, ...] = (
    "complete",
    "partial",
    "no_answer",
    "not_delivered",
    "unknown",
    "ineligible",
)
RATE_COLUMNS: tuple[str, ...] = ("RR1", "RR2", "RR3", "RR4", "COOP1", "COOP2", "CON1")
_DELIVERY_COLUMNS = ("selected", "ineligible", "delivered", "complete")


def response_rates(
    counts: pd.DataFrame,
    by: str | Sequence[str] | None = None,
    *,
    e: float = 1.0,
) -> pd.DataFrame:
    """AAPOR response, cooperation and contact rates per group, from disposition counts.

    Parameters
    ----------
    counts : DataFrame
        One row per unit of count (desk, stratum, day, ...), with either the
        six disposition columns of :data:`DISPOSITIONS` or the columns
        ``selected``, ``ineligible``, ``delivered``, ``complete`` (and
        optionally ``partial``, ``unknown``; missing ones count 0).
    by : str or sequence of str, optional
        Grouping columns (desk, agency, stratum); rows of a group are summed.
        None: one row for everything.
    e : float
        Estimated share of the unknown-eligibility cases that are eligible
        (RR3, RR4), in [0, 1].

    Returns
    -------
    DataFrame
        The group columns, the six dispositions, ``eligible`` (E), and
        RR1, RR2, RR3, RR4, COOP1, COOP2 and CON1 as fractions.

    Raises
    ------
    ResponseCountError
        A count that is missing, negative or not a whole number, a group
        whose parts exceed its whole (complete + partial above delivered,
        delivered above the selected eligible dossiers); the message names
        the group and the counts.

    Notes
    -----
    See the module docstring for the definitions.

    References
    ----------
    AAPOR (2023) Standard Definitions, 10th edition, section "Response Rates".

    Examples
    --------
    >>> frame = pd.DataFrame({"selected": [200], "ineligible": [10], "delivered": [170],
    ...                       "complete": [85], "partial": [5]})
    >>> rates = response_rates(frame)
    >>> float(rates["RR1"].iloc[0]), float(rates["RR2"].iloc[0]), float(rates["COOP1"].iloc[0])
    (0.4473684210526316, 0.47368421052631576, 0.5)
    """
    if not 0.0 <= e <= 1.0:
        raise ResponseCountError(f"e (eligible share of unknown cases) must be in [0, 1], not {e}")
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [k for k in keys if k not in counts.columns]
    if missing:
        raise ResponseCountError(f"grouping column {missing[0]!r} is not in the counts")
    if all(c in counts.columns for c in ("no_answer", "not_delivered")):
        columns = [c for c in DISPOSITIONS if c in counts.columns]
    elif all(c in counts.columns for c in _DELIVERY_COLUMNS):
        columns = [c for c in (*_DELIVERY_COLUMNS, "partial", "unknown") if c in counts.columns]
    else:
        raise ResponseCountError(
            "counts need the columns "
            + ", ".join(DISPOSITIONS)
            + " or "
            + ", ".join(_DELIVERY_COLUMNS)
            + " (partial, unknown optional); they have "
            + ", ".join(map(str, counts.columns))
        )
    values = counts[columns].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() | (values < 0) | (values != np.floor(values))
    if bad.to_numpy().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise ResponseCountError(
            f"count {columns[col]!r} at row {row} is not a non-negative whole number: "
            f"{counts[columns[col]].iloc[row]!r}"
        )
    frame = pd.concat([counts[keys].reset_index(drop=True), values.reset_index(drop=True)], axis=1)
    if keys:
        totals = frame.groupby(keys, sort=True, dropna=False)[columns].sum().reset_index()
    else:
        totals = values.sum().to_frame().T
    out = _dispositions(totals, keys)
    i, p = out["complete"], out["partial"]
    contacted = i + p + out["no_answer"]
    eligible = contacted + out["not_delivered"]
    u = out["unknown"]
    out["eligible"] = eligible
    rates = {
        "RR1": (i, eligible + u),
        "RR2": (i + p, eligible + u),
        "RR3": (i, eligible + e * u),
        "RR4": (i + p, eligible + e * u),
        "COOP1": (i, contacted),
        "COOP2": (i + p, contacted),
        "CON1": (contacted, eligible + u),
    }
    for name, (top, bottom) in rates.items():
        with np.errstate(invalid="ignore", divide="ignore"):
            out[name] = np.where(bottom > 0, top / bottom.where(bottom > 0, 1), np.nan)
    return out[[*keys, *DISPOSITIONS, "eligible", *RATE_COLUMNS]]


def _dispositions(totals: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """The six disposition counts per group, checked for consistency."""
    out = totals[list(keys)].copy()
    for column in ("partial", "unknown"):
        if column not in totals.columns:
            totals[column] = 0.0
    if "no_answer" in totals.columns:
        for column in DISPOSITIONS:
            out[column] = totals[column] if column in totals.columns else 0.0
        return out
    complete, partial = totals["complete"], totals["partial"]
    delivered, unknown = totals["delivered"], totals["unknown"]
    eligible = totals["selected"] - totals["ineligible"] - unknown
    checks = [
        (complete + partial > delivered, "complete + partial exceed delivered"),
        (delivered > eligible, "delivered exceeds selected - ineligible - unknown"),
    ]
    for broken, text in checks:
        if broken.any():
            row = int(np.flatnonzero(broken.to_numpy())[0])
            group = ", ".join(f"{k}={totals[k].iloc[row]!r}" for k in keys) or "all rows"
            shown = ", ".join(
                f"{c}={totals[c].iloc[row]:g}"
                for c in ("selected", "ineligible", "unknown", "delivered", "complete", "partial")
            )
            raise ResponseCountError(f"{group}: {text} ({shown})")
    out["complete"] = complete
    out["partial"] = partial
    out["no_answer"] = delivered - complete - partial
    out["not_delivered"] = eligible - delivered
    out["unknown"] = unknown
    out["ineligible"] = totals["ineligible"]
    return out


def disposition_counts(
    dossiers: pd.DataFrame, disposition: str, by: str | Sequence[str] | None = None
) -> pd.DataFrame:
    """Counts of the six dispositions per group, from one row per selected dossier.

    ``dossiers[disposition]`` holds one of :data:`DISPOSITIONS` for every
    selected dossier; the result has the group columns and one count column
    per disposition, ready for :func:`response_rates`.
    """
    keys = [] if by is None else ([by] if isinstance(by, str) else list(by))
    for column in [disposition, *keys]:
        if column not in dossiers.columns:
            raise ResponseCountError(f"column {column!r} is not in the dossiers")
    codes = dossiers[disposition]
    unknown = ~codes.isin(DISPOSITIONS)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise ResponseCountError(
            f"disposition {codes.iloc[row]!r} at row {row} (column {disposition!r}) is not one "
            f"of {', '.join(DISPOSITIONS)}"
        )
    onehot = pd.DataFrame({c: (codes == c).astype(np.int64) for c in DISPOSITIONS})
    frame = pd.concat(
        [dossiers[keys].reset_index(drop=True), onehot.reset_index(drop=True)], axis=1
    )
    if not keys:
        return onehot.sum().to_frame().T
    return frame.groupby(keys, sort=True, dropna=False)[list(DISPOSITIONS)].sum().reset_index()
