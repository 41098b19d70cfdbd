"""Designs: the campaign's survey design as the analysts set it (strata, clusters, calibration)."""

from __future__ import annotations

from typing import cast

import pandas as pd

from scoring.design import Calibrate, DesignSpec, SurveyDesign
from scoring.errors import ScoringError
from scoring.margins import Margin
from survey_app.caching import Cache
from survey_app.services.analysis.cache import memo
from survey_app.services.analysis.results import AnalysisError
from survey_app.services.weighting_settings import WeightingSettings

# Designs kept per app: a few campaigns' frames, each under its current settings.
DESIGNS_KEPT = 4


def design_spec(settings: WeightingSettings) -> DesignSpec:
    """The analysts' settings as scoring's design specification.

    Strata and clusters are columns of the frame (desk, agency); a stratum with one
    cluster is centred on the grand mean (R ``survey.lonely.psu='adjust'``).
    """
    calibration: Calibrate = "none"
    if settings.calibration in ("poststratify", "rake"):
        calibration = cast(Calibrate, settings.calibration)
    return DesignSpec(
        strata=settings.strata,
        psu=settings.cluster,
        lonely_psu="adjust",
        calibration=calibration,
        margins=tuple(Margin(m.variables, dict(m.cells.items())) for m in settings.margins),
    )


def build_design(frame: pd.DataFrame, settings: WeightingSettings) -> SurveyDesign:
    """The campaign's survey design with the analysts' strata, clusters and calibration."""
    if len(frame) < 2:
        raise AnalysisError.of("analysis.too_few_answers")
    try:
        return design_spec(settings).build(frame)
    except ScoringError as error:
        raise AnalysisError.of("analysis.weights_failed", detail=str(error)) from None


def design_for(frame: pd.DataFrame, settings: WeightingSettings) -> SurveyDesign:
    """:func:`build_design`, kept while ``frame`` (the cached responses) is current."""
    designs: Cache[tuple[int, str], tuple[pd.DataFrame, SurveyDesign]] = memo(
        "designs", DESIGNS_KEPT
    )
    key = (id(frame), settings.key())
    cached = designs.get(key)
    if cached is not None and cached[0] is frame:
        return cached[1]
    design = build_design(frame, settings)
    designs.put(key, (frame, design))
    return design
