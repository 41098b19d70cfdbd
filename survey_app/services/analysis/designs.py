"""Designs: the campaign's survey design as the analysts set it (strata, clusters, calibration)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import pandas as pd

from scoring.design import SurveyDesign
from scoring.errors import ScoringError
from scoring.weighting import post_stratify, rake
from survey_app.caching import Cache
from survey_app.services.analysis.cache import memo
from survey_app.services.analysis.results import AnalysisError
from survey_app.services.weighting_settings import WeightingSettings

# Designs kept per app: a few campaigns' frames, each under its current settings.
DESIGNS_KEPT = 4


def build_design(frame: pd.DataFrame, settings: WeightingSettings) -> SurveyDesign:
    """The campaign's survey design with the analysts' strata, clusters and calibration."""
    if len(frame) < 2:
        raise AnalysisError("Đợt khảo sát chưa có đủ phiếu để tính chỉ số (cần ít nhất 2 phiếu).")
    try:
        design = SurveyDesign.from_dataframe(
            frame, strata=settings.strata, psu=settings.cluster, lonely_psu="adjust"
        )
        if settings.calibration == "poststratify" and settings.margins:
            margin = settings.margins[0]
            population: dict[object, float] = {
                (cell if len(cell) > 1 else cell[0]): count for cell, count in margin.cells.items()
            }
            by = list(margin.variables) if len(margin.variables) > 1 else margin.variables[0]
            design = post_stratify(design, by, population)
        elif settings.calibration == "rake" and settings.margins:
            design = rake(
                design,
                [(m.variables[0], {c[0]: v for c, v in m.cells.items()}) for m in settings.margins],
            )
    except ScoringError as error:
        raise AnalysisError(f"Không tính được trọng số với cài đặt hiện tại: {error}") from None
    return design


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


def with_domains(design: SurveyDesign, columns: Mapping[str, pd.Series]) -> SurveyDesign:
    """The same design (weights, calibration) with extra domain columns in its data."""
    return replace(design, data=design.data.assign(**columns))
