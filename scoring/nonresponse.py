"""Nonresponse adjustment by weighting classes (điều chỉnh không trả lời theo lớp).

Every selected dossier has a design weight ``w_i = 1/pi_i``; only some
citizens answer. Within each weighting class ``c`` (agency x channel, say:
groups where answering is assumed unrelated to satisfaction), respondents
carry the weight of the class's nonrespondents too:

``w*_i = w_i * sum_{j in s_c} w_j / sum_{j in r_c} w_j``

with ``s_c`` the selected dossiers and ``r_c`` the respondents of the
class. This is a post-stratification of the respondents' design to the
class totals of the whole sample's design weights, and its variance is
computed as R computes it for that post-stratification: influence values are
replaced by their residuals from the class means
(:func:`scoring.weighting.post_stratify`). The adjusted design can then be
calibrated to frame totals (:func:`scoring.calibration.calibrate`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from scoring.design import DesignColumns, SurveyDesign, require_column
from scoring.errors import CalibrationError, DesignColumnError
from scoring.stages import plain
from scoring.weighting import post_stratify


def adjust_nonresponse(
    sample: pd.DataFrame,
    responded: str,
    classes: str | Sequence[str],
    design: DesignColumns,
) -> SurveyDesign:
    """The respondents' design, weighted up to every selected unit of their class.

    Parameters
    ----------
    sample : DataFrame
        Every selected unit (dossier), respondents and nonrespondents, with
        the design columns, the response indicator and the class column(s).
    responded : str
        Column that is 1 (or True) for respondents and 0 (False) for the others.
    classes : str or sequence of str
        Weighting class column(s); several are crossed.
    design : DesignColumns
        How the sample was drawn (probabilities or weights, strata, PSUs,
        fpc); applied to the whole sample for the class totals and to the
        respondents for the design.

    Returns
    -------
    SurveyDesign
        The respondents, with weights ``w_i sum_{s_c} w / sum_{r_c} w`` and
        the post-stratification recorded for the variance.

    Raises
    ------
    DesignColumnError
        The response column is missing, has missing values or values other
        than 0/1; a class column is missing or has missing values.
    CalibrationError
        A class has selected units but no respondent (named, with its size):
        merge it with a neighbouring class.

    Notes
    -----
    ``w*_i = w_i * sum_{j in s_c} w_j / sum_{j in r_c} w_j`` for respondent
    ``i`` of class ``c``. The variance is that of R's
    ``postStratify(svydesign(..., data = respondents), ~class, totals)``
    with ``totals`` the sums of the whole sample's design weights by class:
    influence values ``x`` become ``x_i - w*_i sum_c(x w / w*) / sum_c(w)``.
    This treats the class totals as known, which ignores the variance of
    the estimated totals (a small part when classes are large).

    References
    ----------
    Matches R survey::postStratify on the respondents' svydesign (survey
    4.1-1). Kalton G., Flores-Cervantes I. (2003) Weighting methods, Journal
    of Official Statistics 19(2), 81-97, section 2 (cell weighting); Lohr
    S.L. (2019) Sampling: Design and Analysis, 2nd ed., section 8.5.2.
    """
    frame = sample.reset_index(drop=True)
    answered = _response_indicator(frame, responded)
    columns = [classes] if isinstance(classes, str) else list(classes)
    for column in columns:
        require_column(frame, column, "weighting class")
    full = design.build(frame)
    keys = (
        frame[columns[0]]
        if len(columns) == 1
        else pd.Series(list(zip(*(frame[c].tolist() for c in columns), strict=True)), dtype=object)
    )
    weights = pd.Series(full.weights)
    totals = weights.groupby(keys.to_numpy(), sort=True).sum()
    sizes = weights.groupby(keys.to_numpy(), sort=True).size()
    answering = pd.Series(answered).groupby(keys.to_numpy(), sort=True).sum()
    empty = answering[answering == 0]
    if len(empty):
        label = empty.index[0]
        name = " x ".join(columns)
        raise CalibrationError(
            f"weighting class {plain(label)!r} ({name}) has {int(sizes.loc[label])} selected "
            f"units (design weight {float(totals.loc[label]):g}) and no respondent; merge it "
            "with a neighbouring class",
            code="empty_class",
            cell=plain(label),
            selected=int(sizes.loc[label]),
        )
    respondents = design.build(frame[answered])
    return post_stratify(respondents, columns[0] if len(columns) == 1 else columns, totals)


def _response_indicator(frame: pd.DataFrame, column: str) -> NDArray[np.bool_]:
    if column not in frame.columns:
        raise DesignColumnError(f"response column {column!r} is not in the sample")
    values = frame[column]
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DesignColumnError(f"response column {column!r} has a missing value at row {row}")
    ok = values.isin([0, 1, True, False]).to_numpy()
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        raise DesignColumnError(
            f"response column {column!r} must be 0/1 or True/False: row {row} has "
            f"{plain(values.iloc[row])!r}"
        )
    answered = values.astype(bool).to_numpy()
    if not answered.any():
        raise DesignColumnError(f"response column {column!r}: nobody responded")
    return answered
