"""Weighting and interval settings of a campaign (cài đặt trọng số), chosen without code.

Analysts pick the design (strata and cluster among desk, agency or none),
upload population margins as CSV, choose post-stratification or raking and
the confidence-interval method and level. The settings are validated against
the campaign's responses and kept in ``Campaign.settings["weighting"]``; the
calibration itself is done by :mod:`scoring` when indices are computed.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

import pandas as pd
from flask_babel import gettext, lazy_gettext

from scoring import margins as scoring_margins
from scoring.errors import MarginsError
from scoring.questionnaire import Questionnaire
from survey_app import i18n
from survey_app.models import Campaign
from survey_app.questions import kind_of
from survey_app.services import audit
from survey_app.services.errors import Grouped, Problem, ServiceError

DESIGN_COLUMNS = ("desk", "agency")
DESIGN_LABELS = {
    "desk": lazy_gettext("quầy"),
    "agency": lazy_gettext("cơ quan"),
    None: lazy_gettext("không"),
}
CALIBRATIONS = ("none", "poststratify", "rake")
CALIBRATION_LABELS = {
    "none": lazy_gettext("không hiệu chỉnh"),
    "poststratify": lazy_gettext("hậu phân tầng"),
    "rake": lazy_gettext("cân chỉnh lặp (raking)"),
}
CI_METHODS = ("logit", "beta", "wilson", "mean", "asin")
LEVELS = (0.90, 0.95, 0.99)
COUNT_COLUMN = "count"
# A population count of one cell: Viet Nam has about 10**8 people, a province's services
# some millions of dossiers a year; above 10**9 a count is a typing error (or 1e308, which
# overflows every sum of the calibration).
MAX_POPULATION_COUNT = 1e9


class WeightingError(ServiceError):
    """Settings that cannot be used (codes ``weighting.*``, texts in
    ``survey_app.messages.weighting``)."""


@dataclass(frozen=True)
class Margin:
    """Population counts over the cells of one or more respondent variables.

    ``cells`` maps a tuple of answer codes (one per variable) to its count.
    """

    variables: tuple[str, ...]
    cells: dict[tuple[int, ...], float]

    def to_json(self) -> dict[str, Any]:
        return {
            "variables": list(self.variables),
            "cells": [{"codes": list(k), "count": v} for k, v in self.cells.items()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Margin:
        return cls(
            tuple(data["variables"]),
            {tuple(int(c) for c in cell["codes"]): float(cell["count"]) for cell in data["cells"]},
        )


@dataclass(frozen=True)
class WeightingSettings:
    """What the dashboard and the exports compute with; the default is unweighted, 95% logit."""

    strata: str | None = None
    cluster: str | None = None
    calibration: str = "none"
    margins: tuple[Margin, ...] = ()
    ci_method: str = "logit"
    level: float = 0.95
    margins_file: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "strata": self.strata,
            "cluster": self.cluster,
            "calibration": self.calibration,
            "margins": [m.to_json() for m in self.margins],
            "ci_method": self.ci_method,
            "level": self.level,
            "margins_file": self.margins_file,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> WeightingSettings:
        if not data:
            return cls()
        return cls(
            strata=data.get("strata"),
            cluster=data.get("cluster"),
            calibration=data.get("calibration", "none"),
            margins=tuple(Margin.from_json(m) for m in data.get("margins", [])),
            ci_method=data.get("ci_method", "logit"),
            level=float(data.get("level", 0.95)),
            margins_file=data.get("margins_file"),
        )

    @property
    def weighted(self) -> bool:
        """Whether responses are calibrated to population margins (else each weighs 1)."""
        return self.calibration != "none" and bool(self.margins)

    def key(self) -> str:
        """A stable key for caches."""
        return json.dumps(self.to_json(), sort_keys=True)

    def describe(self, questionnaire: Questionnaire | None = None) -> str:
        """The one-liner shown beside every figure, in the reader's language.

        e.g. "Trọng số: hậu phân tầng theo giới tính × nhóm tuổi; KTC 95% logit".
        """
        if not self.weighted:
            weights = gettext("Trọng số: không (mỗi phiếu như nhau)")
        else:
            by = "; ".join(
                " × ".join(variable_label(v, questionnaire) for v in m.variables)
                for m in self.margins
            )
            weights = gettext(
                "Trọng số: %(method)s theo %(variables)s",
                method=CALIBRATION_LABELS[self.calibration],
                variables=by,
            )
        design = ""
        if self.strata or self.cluster:
            design = gettext(
                "; thiết kế: tầng theo %(strata)s, cụm theo %(cluster)s",
                strata=DESIGN_LABELS[self.strata],
                cluster=DESIGN_LABELS[self.cluster],
            )
        return str(
            gettext(
                "%(weights)s%(design)s; KTC %(level)s%% %(method)s",
                weights=weights,
                design=design,
                level=i18n.number(self.level * 100, 0),
                method=self.ci_method,
            )
        )


def variable_label(code: str, questionnaire: Questionnaire | None) -> str:
    """The respondent item's name in lower case (giới tính, nhóm tuổi), in the reader's
    language when the questionnaire has it."""
    if code in DESIGN_LABELS:
        return str(DESIGN_LABELS[code])
    if questionnaire is not None:
        for item in questionnaire.respondent:
            if item.code == code:
                text = item.text.get(i18n.current_language()) or item.text.get("vi") or code
                return text[:1].lower() + text[1:]
    return code


def current(campaign: Campaign) -> WeightingSettings:
    return WeightingSettings.from_json((campaign.settings or {}).get("weighting"))


# ----------------------------------------------------------------- parsing
# scoring's margins codes said to the analyst (weighting.margins.<code>).
MARGINS_CODES = frozenset(
    (
        "unreadable",
        "empty",
        "no_count",
        "row_width",
        "count_not_number",
        "count_not_positive",
        "count_too_large",
        "no_variables",
        "empty_value",
        "duplicate_cell",
    )
)


def _too_large(line: object, value: str) -> WeightingError:
    return WeightingError.of(
        "weighting.margins.count_too_large",
        line=line,
        value=value,
        maximum=Grouped(MAX_POPULATION_COUNT),
    )


def margins_error(error: MarginsError) -> WeightingError:
    """The refusal of a margins file scoring could not read: the one place turning
    scoring's margins codes into the app's (``weighting.margins.*``)."""
    params = dict(error.params)
    if error.code == "duplicate_cell":
        cell = cast(tuple[object, ...], params.pop("cell"))
        variables = cast(tuple[str, ...], params.pop("variables"))
        params["shown"] = " × ".join(f"{v}={c}" for v, c in zip(variables, cell, strict=True))
    if "value" in params:
        params["value"] = str(params["value"])[:30]
    if error.code == "count_too_large":
        return _too_large(params["line"], str(params["value"]))
    if error.code == "no_count":
        params = {"column": COUNT_COLUMN}
    if error.code not in MARGINS_CODES:
        return WeightingError.of("weighting.margins.other", detail=str(error))
    return WeightingError(Problem(f"weighting.margins.{error.code}", MappingProxyType(params)))


def margins_message(error: MarginsError) -> str:
    """The message, in the current language, for a margins file scoring could not read."""
    return str(margins_error(error))


def parse_margins(text: str, calibration: str, questionnaire: Questionnaire) -> tuple[Margin, ...]:
    """Read population margins from CSV text, in scoring's margins format.

    Post-stratification: one table, ``var1,var2,...,count`` with a row per cell.
    Raking: several single-variable margins in the long form
    ``variable,value,count`` (e.g. ``gender,1,5200``). Variables are the
    questionnaire's respondent questions, values their answer codes.
    """
    try:
        read = scoring_margins.parse_margins(text)
    except MarginsError as error:
        raise margins_error(error) from None
    respondent = {item.code: item for item in questionnaire.respondent if kind_of(item).analysed}

    def known(variable: str) -> None:
        if variable not in respondent:
            raise WeightingError.of(
                "weighting.not_respondent", column=variable, choices=", ".join(respondent)
            )

    def code_of(variable: str, raw: object, line: int) -> int:
        item = respondent[variable]
        try:
            code = int(str(raw))
        except ValueError:
            raise WeightingError.of(
                "weighting.value_not_code", line=line, value=str(raw), column=variable
            ) from None
        if code not in item.codes:
            raise WeightingError.of(
                "weighting.code_unknown",
                line=line,
                code=str(code),
                column=variable,
                codes=", ".join(str(c) for c in sorted(item.codes)),
            )
        return code

    if calibration == "rake" and (len(read) < 2 or any(len(m.variables) > 1 for m in read)):
        raise WeightingError.of("weighting.rake_needs_margins")
    if calibration != "rake" and len(read) > 1:
        raise WeightingError.of("weighting.poststratify_one_table")
    margins = []
    for margin in read:
        for variable in margin.variables:
            known(variable)
        cells: dict[tuple[int, ...], float] = {}
        for cell, count in margin.cells.items():
            line = margin.lines.get(cell, 0)
            key = tuple(code_of(v, c, line) for v, c in zip(margin.variables, cell, strict=True))
            if key in cells:
                shown = " × ".join(f"{v}={c}" for v, c in zip(margin.variables, key, strict=True))
                raise WeightingError.of("weighting.margins.duplicate_cell", line=line, shown=shown)
            if count > MAX_POPULATION_COUNT:
                raise _too_large(line, f"{count:g}")
            cells[key] = count
        margins.append(Margin(margin.variables, cells))
    if calibration == "rake":
        totals = {m.variables[0]: sum(m.cells.values()) for m in margins}
        if max(totals.values()) - min(totals.values()) > 1e-9 * max(totals.values()):
            listed = ", ".join(f"{v}: {t:g}" for v, t in totals.items())
            raise WeightingError.of("weighting.totals_differ", totals=listed)
    return tuple(margins)


def check_against_sample(margins: tuple[Margin, ...], frame: pd.DataFrame) -> None:
    """Every sample cell needs a population count, and every population cell a respondent.

    Respondents who did not answer a weighting variable cannot be calibrated.
    """
    for margin in margins:
        cols = list(margin.variables)
        sample = frame[cols]
        missing = sample.isna().any(axis=1)
        if missing.any():
            raise WeightingError.of(
                "weighting.unanswered", count=int(missing.sum()), variables=" / ".join(cols)
            )
        present = {tuple(int(x) for x in row) for row in sample.drop_duplicates().to_numpy()}
        absent_in_sample = sorted(set(margin.cells) - present)
        if absent_in_sample:
            cells = ", ".join(
                " × ".join(f"{v}={c}" for v, c in zip(cols, cell, strict=True))
                for cell in absent_in_sample[:5]
            )
            raise WeightingError.of("weighting.cells_not_in_sample", cells=cells)
        absent_in_margins = sorted(present - set(margin.cells))
        if absent_in_margins:
            cells = ", ".join(
                " × ".join(f"{v}={c}" for v, c in zip(cols, cell, strict=True))
                for cell in absent_in_margins[:5]
            )
            raise WeightingError.of("weighting.cells_not_in_margins", cells=cells)


def build_settings(
    form: Mapping[str, str],
    margins_text: str | None,
    margins_filename: str | None,
    questionnaire: Questionnaire,
    frame: pd.DataFrame,
    previous: WeightingSettings,
) -> WeightingSettings:
    """Validate the form (and the uploaded CSV) into settings; raise WeightingError."""
    strata = form.get("strata") or None
    cluster = form.get("cluster") or None
    for name, value in (("strata", strata), ("cluster", cluster)):
        if value is not None and value not in DESIGN_COLUMNS:
            raise WeightingError.of(f"weighting.{name}_column", field=name)
    if strata == "desk" and cluster == "agency":
        raise WeightingError.of("weighting.cluster_outside_strata", field="cluster")
    if strata is not None and strata == cluster:
        raise WeightingError.of("weighting.strata_is_cluster", field="cluster")
    calibration = form.get("calibration") or "none"
    if calibration not in CALIBRATIONS:
        raise WeightingError.of("weighting.calibration_invalid", field="calibration")
    ci_method = form.get("ci_method") or "logit"
    if ci_method not in CI_METHODS:
        raise WeightingError.of("weighting.ci_method_invalid", field="ci_method")
    try:
        level = float(form.get("level") or 0.95)
    except ValueError:
        level = -1.0
    if not any(abs(level - allowed) < 1e-9 for allowed in LEVELS):
        raise WeightingError.of("weighting.level_invalid", field="level")
    margins: tuple[Margin, ...] = ()
    filename = None
    if calibration != "none":
        if margins_text:
            margins = parse_margins(margins_text, calibration, questionnaire)
            filename = margins_filename
        elif previous.calibration == calibration and previous.margins:
            margins, filename = previous.margins, previous.margins_file
        else:
            raise WeightingError.of("weighting.margins_missing", field="margins")
        if frame.empty:
            raise WeightingError.of("weighting.no_answers")
        check_against_sample(margins, frame)
    return WeightingSettings(strata, cluster, calibration, margins, ci_method, level, filename)


MARGINS_LAYOUTS = ("long", "wide")
# A post-stratification table is typed by hand: beyond this many cells, cross fewer variables.
MAX_TEMPLATE_CELLS = 1000


def margins_template(
    questionnaire: Questionnaire,
    variables: list[str],
    layout: str,
    previous: WeightingSettings,
) -> bytes:
    """A margins CSV to fill in (mẫu tệp số lượng tổng thể), in the format the upload reads.

    ``long`` (raking): ``variable,value,count``, a row per answer code of each variable;
    ``wide`` (post-stratification): a column per variable and ``count``, a row per
    combination of their codes. Counts already uploaded for the same cells are filled in,
    the others left empty to be typed (an empty count is refused on upload, with its line).
    Unknown or unanalysed variables: WeightingError ``weighting.not_respondent``.
    """
    respondent = {item.code: item for item in questionnaire.respondent if kind_of(item).analysed}
    for variable in variables:
        if variable not in respondent:
            raise WeightingError.of(
                "weighting.not_respondent", column=variable, choices=", ".join(respondent)
            )
    if layout not in MARGINS_LAYOUTS:
        layout = "long"
    known = {m.variables: m.cells for m in previous.margins}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")

    def count(cells: Mapping[tuple[int, ...], float] | None, cell: tuple[int, ...]) -> str:
        value = (cells or {}).get(cell)
        return "" if value is None else f"{value:g}"

    if layout == "long":
        writer.writerow(["variable", "value", COUNT_COLUMN])
        for variable in variables:
            cells = known.get((variable,))
            for code in sorted(respondent[variable].codes):
                writer.writerow([variable, code, count(cells, (code,))])
    else:
        size = math.prod(len(respondent[v].codes) for v in variables)
        if size > MAX_TEMPLATE_CELLS:
            raise WeightingError.of(
                "weighting.template_too_large", cells=Grouped(size), maximum=MAX_TEMPLATE_CELLS
            )
        writer.writerow([*variables, COUNT_COLUMN])
        cells = known.get(tuple(variables))
        for cell in itertools.product(*(sorted(respondent[v].codes) for v in variables)):
            writer.writerow([*cell, count(cells, cell)])
    return out.getvalue().encode("utf-8")


def save(campaign: Campaign, settings: WeightingSettings) -> None:
    """Store the settings on the campaign with an audit event; the request commits."""
    before = current(campaign)
    merged = dict(campaign.settings or {})
    merged["weighting"] = settings.to_json()
    # A new dict, so SQLAlchemy sees the JSON column change.
    campaign.settings = merged
    audit.record(
        "weighting.change",
        campaign.code,
        before=before.describe(),
        after=settings.describe(),
        settings={k: v for k, v in settings.to_json().items() if k != "margins"},
        margins=[list(m.variables) for m in settings.margins],
    )
