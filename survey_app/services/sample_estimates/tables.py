"""Tables: a campaign's probability sample of dossiers as DataFrames (pure, no database).

Three tables, built here from plain rows so that the estimation can be tested, and
exported for R, without the database:

- the **dossiers**: one row per selected (invited) dossier, with its frame attributes
  (``desk``, ``agency``, ``procedure_field``, ``channel``, ``on_time``), its ``stratum``
  and inclusion ``probability``, ``N`` (returned dossiers of its stratum in the frame,
  NaN when the frame does not know them), its final ``disposition`` (AAPOR, see
  :mod:`scoring.response_rates`), ``responded`` (0/1), its nonresponse ``class`` and,
  for respondents, the answers (one column per item code, NaN elsewhere);
- the **frame**: returned and selected dossiers counted by desk, agency, procedure
  field, channel and timeliness; calibration totals come from it;
- the **walk-in** answers: the campaign's other submissions (QR poster, paper, and
  dossier codes outside the sample), as the dashboard loads them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from survey_app.services.sampling import CLASS_ATTRIBUTES, stratum_label

# What nonresponse classes and calibration formulas may name: the frame attributes and
# whether the result was on time (0/1 in the tables).
ATTRIBUTES = CLASS_ATTRIBUTES
DOSSIER_COLUMNS = (
    "desk",
    "agency",
    "procedure_field",
    "channel",
    "on_time",
    "stratum",
    "probability",
    "N",
    "disposition",
    "responded",
    "class",
)
FRAME_COLUMNS = ("desk", "agency", "procedure_field", "channel", "on_time", "returned", "selected")
# The one nonresponse class of a design that names no class attribute.
ONE_CLASS = "*"
_SEPARATOR = " | "


@dataclass(frozen=True)
class DesignSettings:
    """What the estimation needs of a campaign's sampling design (models.SamplingDesign)."""

    strata: tuple[str, ...]
    classes: tuple[str, ...] = ()
    formula: str | None = None
    calfun: str = "linear"
    bounds: tuple[float, float] | None = None
    trim: tuple[float, float] | None = None

    @classmethod
    def of(
        cls,
        strata: Sequence[str],
        classes: Sequence[str],
        calibration: Mapping[str, object] | None,
        trim: Sequence[float] | None,
    ) -> DesignSettings:
        """From the stored design's JSON columns."""
        formula, calfun, bounds = None, "linear", None
        if calibration:
            formula = str(calibration.get("formula") or "").strip() or None
            calfun = str(calibration.get("calfun") or "linear")
            given = calibration.get("bounds")
            if isinstance(given, Sequence) and len(given) == 2:
                bounds = (float(given[0]), float(given[1]))
        return cls(
            strata=tuple(strata),
            classes=tuple(classes),
            formula=formula,
            calfun=calfun,
            bounds=bounds,
            trim=(float(trim[0]), float(trim[1])) if trim else None,
        )


def class_labels(dossiers: pd.DataFrame, classes: Sequence[str]) -> pd.Series:
    """Each dossier's nonresponse class: its values of ``classes`` joined (one class if none)."""
    if not classes:
        return pd.Series(ONE_CLASS, index=dossiers.index, dtype=object)
    parts = [dossiers[c].astype(str) for c in classes]
    label = parts[0]
    for part in parts[1:]:
        label = label + _SEPARATOR + part
    return label.astype(object)


def disposition_of(responded: pd.Series, recorded: pd.Series) -> pd.Series:
    """The final AAPOR disposition of every selected dossier.

    A dossier whose code was answered is ``complete``; otherwise the recorded
    disposition (``not_delivered``, ``ineligible``, ``unknown``), and a dossier
    with none recorded had its code delivered and is ``no_answer``. The app keeps
    no break-offs, so no dossier is ``partial``.
    """
    out = recorded.where(recorded.notna(), "no_answer").astype(object)
    return out.where(~responded.astype(bool), "complete")


def dossier_table(
    dossiers: pd.DataFrame,
    answers: pd.DataFrame,
    stratum_sizes: Mapping[str, float],
    classes: Sequence[str],
    items: Sequence[str],
) -> pd.DataFrame:
    """The dossiers table (module docstring) from the stored rows.

    Parameters
    ----------
    dossiers : DataFrame
        One row per selected dossier: ``dossier_hash``, ``desk``, ``agency``,
        ``procedure_field``, ``channel``, ``on_time``, ``stratum``,
        ``probability``, ``disposition`` (None: delivered or pending).
    answers : DataFrame
        The respondents' answers: ``dossier_code`` (the hash their submission
        spent) and one column per item code.
    stratum_sizes : mapping
        Returned dossiers of each stratum in the frame.
    classes : sequence of str
        The design's nonresponse class attributes.
    items : sequence of str
        Answer columns to carry.
    """
    table = dossiers.sort_values(["stratum", "dossier_hash"], kind="stable").reset_index(drop=True)
    keyed = answers.drop_duplicates("dossier_code").set_index("dossier_code")
    responded = table["dossier_hash"].isin(keyed.index)
    out = table[["desk", "agency", "procedure_field", "channel"]].astype(object).copy()
    out["on_time"] = table["on_time"].astype(bool).astype(np.int64)
    out["stratum"] = table["stratum"].astype(object)
    out["probability"] = table["probability"].astype(np.float64)
    out["N"] = table["stratum"].map(dict(stratum_sizes)).astype(np.float64)
    out["disposition"] = disposition_of(responded, table["disposition"])
    out["responded"] = responded.astype(np.int64)
    out["class"] = class_labels(out, classes)
    matched = keyed.reindex(table["dossier_hash"])
    for code in items:
        column = matched[code] if code in matched.columns else np.nan
        out[code] = pd.Series(np.asarray(column, dtype=np.float64), index=out.index)
    return out


def stratum_labels(frame: pd.DataFrame, strata: Sequence[str]) -> list[str]:
    """The stratum of every frame cell, labelled as the selection labels it."""
    return [
        stratum_label(strata, {a: str(row[a]) for a in strata})
        for row in frame[list(strata)].to_dict("records")
    ]


def stratum_sizes(frame: pd.DataFrame, strata: Sequence[str]) -> dict[str, float]:
    """Returned dossiers of every stratum in the frame."""
    if frame.empty:
        return {}
    labels = stratum_labels(frame, strata)
    sizes = frame["returned"].groupby(pd.Series(labels, index=frame.index)).sum()
    return {str(k): float(v) for k, v in sizes.items()}


def population(frame: pd.DataFrame, factors: Sequence[str]) -> pd.DataFrame:
    """Returned dossiers of the frame by the calibration factors, in a count column ``N``."""
    counts = frame.groupby(list(factors), sort=True)["returned"].sum().reset_index()
    counts = counts.rename(columns={"returned": "N"})
    return counts[counts["N"] > 0].reset_index(drop=True)
