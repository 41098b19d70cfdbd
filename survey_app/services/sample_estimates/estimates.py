"""Estimates of a probability sample of dossiers: weights, index trees, walk-in comparison.

Pure functions over the tables of :mod:`.tables`; every figure comes from
:mod:`scoring`. The steps, as R's ``survey`` takes them:

1. design weights ``1/pi`` of the respondents, with the design's strata and, when the
   frame knows every stratum's returned dossiers, their finite population correction:
   ``svydesign(ids=~1, strata=~stratum, probs=~probability, fpc=~N)``;
2. nonresponse adjustment by weighting classes: ``postStratify(~class)`` to the totals
   of ``1/pi`` over every eligible selected dossier of the class
   (:func:`scoring.nonresponse.adjust_nonresponse`);
3. calibration to the frame's returned dossiers by the formula's factors:
   ``calibrate(formula, population, calfun, bounds)``;
4. trimming to ``[lo, hi]`` times the mean weight: ``trimWeights``;
5. the index tree (SIPAS, groups, criteria, items) per agency: ``svyby``/``svyciprop``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from scoring.calibration import calibrate, parse_formula
from scoring.design import DesignSpec, SurveyDesign
from scoring.errors import CalibrationError, ScoringError
from scoring.estimators import DomainSpec
from scoring.index_tree import compute_index_tree
from scoring.nonresponse import adjust_nonresponse
from scoring.questionnaire import Questionnaire
from scoring.weighting import trim_weights
from survey_app.services.errors import ServiceError
from survey_app.services.sample_estimates.tables import ATTRIBUTES, DesignSettings, population

# Below this p-value the walk-in answers and the sample differ by more than chance.
ALPHA = 0.05


class SampleError(ServiceError):
    """The sample cannot be estimated as designed (codes ``sample.*``, texts in
    ``survey_app.messages.sample``)."""


@dataclass(frozen=True)
class Weighted:
    """The respondents' final design and how it was made."""

    design: SurveyDesign
    fpc: bool  # the finite population correction was applied
    respondents: int
    eligible: int


def weigh(dossiers: pd.DataFrame, frame: pd.DataFrame, settings: DesignSettings) -> Weighted:
    """The respondents' design: weights 1/pi, nonresponse classes, calibration, trimming.

    Raises
    ------
    SampleError
        No eligible dossier or no respondent; a class, calibration cell or level
        without respondents; calibration that cannot meet its totals within its
        bounds (naming the cell); a formula naming something that is not a frame
        attribute. Nothing is stored either way.
    """
    eligible = dossiers[dossiers["disposition"] != "ineligible"].reset_index(drop=True)
    if eligible.empty:
        raise SampleError.of("sample.no_dossiers")
    respondents = int(eligible["responded"].sum())
    if respondents == 0:
        raise SampleError.of("sample.no_respondents", selected=len(eligible))
    use_fpc = _fpc_known(eligible)
    drawn = DesignSpec(
        strata="stratum",
        probs="probability",
        fpc="N" if use_fpc else None,
        lonely_psu="adjust",
    )
    try:
        design = adjust_nonresponse(eligible, "responded", "class", drawn)
        if settings.formula:
            design = _calibrate(design, frame, settings)
        if settings.trim is not None:
            mean = float(np.mean(design.weights))
            design = trim_weights(design, settings.trim[0] * mean, settings.trim[1] * mean)
    except ScoringError as error:
        raise _problem(error) from None
    return Weighted(design, use_fpc, respondents, len(eligible))


def _fpc_known(eligible: pd.DataFrame) -> bool:
    """Whether the frame knows every stratum's size, at least its selected dossiers."""
    sizes = eligible.groupby("stratum")["N"].first()
    selected = eligible.groupby("stratum").size()
    return bool(sizes.notna().all() and (sizes >= selected).all())


def _calibrate(design: SurveyDesign, frame: pd.DataFrame, settings: DesignSettings) -> SurveyDesign:
    assert settings.formula is not None
    try:
        factors = parse_formula(settings.formula).factors
    except CalibrationError:
        raise SampleError.of("sample.bad_formula", formula=settings.formula) from None
    unknown = [f for f in factors if f not in ATTRIBUTES]
    if unknown:
        raise SampleError.of(
            "sample.formula_factor", factor=unknown[0], attributes=", ".join(ATTRIBUTES)
        )
    if frame.empty or frame["returned"].sum() == 0:
        raise SampleError.of("sample.no_frame")
    bounds = settings.bounds or (-math.inf, math.inf)
    return calibrate(
        design,
        settings.formula,
        population(frame, factors),
        calfun=settings.calfun,  # type: ignore[arg-type]
        bounds=bounds,
        count="N",
    )


def _problem(error: ScoringError) -> SampleError:
    """A scoring refusal in the officials' words, naming the class or the cell."""
    params = dict(error.params)
    if error.code == "empty_class":
        return SampleError.of(
            "sample.empty_class", cell=params["cell"], selected=params["selected"]
        )
    if error.code == "no_respondent":
        return SampleError.of(
            "sample.cell_without_respondents", cell=params["cell"], total=params["total"]
        )
    if error.code == "no_population":
        return SampleError.of("sample.cell_without_frame", cell=params["cell"])
    if error.code == "not_converged":
        return SampleError.of(
            "sample.calibration_failed",
            cell=params["cell"],
            reached=round(float(params["reached"]), 1),  # type: ignore[arg-type]
            total=round(float(params["total"]), 1),  # type: ignore[arg-type]
        )
    if error.code == "not_positive":
        return SampleError.of("sample.negative_weights", cell=params["cell"])
    return SampleError.of("sample.failed", detail=str(error))


def index_table(
    questionnaire: Questionnaire,
    design: SurveyDesign,
    domains: list[DomainSpec],
    *,
    level: float = 0.95,
    method: str = "logit",
) -> pd.DataFrame:
    """Every node of the index tree for each domain (scoring's long table)."""
    try:
        return compute_index_tree(
            questionnaire,
            design,
            domains,
            level=level,
            method=method,  # type: ignore[arg-type]
        )
    except ScoringError as error:
        raise SampleError.of("sample.failed", detail=str(error)) from None


def verdict(difference: float, p_value: float, n_walk_in: int, n_sample: int) -> str:
    """The plain-language finding of one comparison: a code of :data:`VERDICTS`.

    ``higher`` / ``lower``: the walk-in answers are significantly above / below the
    sample (p < 0.05), so they are biased that way; ``same``: no difference beyond
    sampling error; ``no_data``: one side has no answers (or no standard error).
    """
    if n_walk_in == 0 or n_sample == 0 or not np.isfinite(p_value):
        return "no_data"
    if p_value < ALPHA:
        return "higher" if difference > 0 else "lower"
    return "same"


VERDICTS = ("higher", "lower", "same", "no_data")
