"""What a change of the weighting settings would change (xem trước thay đổi trọng số).

Before new settings are saved, the analyst sees the campaign's indices (overall, groups and
criteria), each agency's overall index and its PAR points (điểm CCHC) under the settings in
force and under the new ones, over the whole campaign and every agency. The new figures are
computed by scoring on the cached responses and kept nowhere: the stored settings and the
analysis caches are as they were, whatever the analyst then decides.

The settings previewed travel to the confirming POST as a signed token
(:func:`sign`, :func:`unsign`) that also names the settings they replace: a confirmation
after someone else changed the settings is refused, never saved over their change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from flask import current_app
from itsdangerous import BadData, URLSafeTimedSerializer

from survey_app.models import Agency, Campaign
from survey_app.services import analysis, index_export, weighting_settings
from survey_app.services.analysis.results import as_count, as_float
from survey_app.services.analysis.views import fresh_tables
from survey_app.services.weighting_settings import WeightingError, WeightingSettings

# A preview is confirmed within the hour, or looked at again.
TOKEN_MAX_AGE = 3600
SALT = "weighting-preview"


@dataclass(frozen=True)
class Shift:
    """One figure before and after (index in percent, or PAR points); NaN when missing."""

    code: str
    label: str
    before: float
    after: float
    depth: int = 0
    n: int = 0

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def changed(self) -> bool:
        """Whether the figure moves at the precision shown (two decimals)."""
        if math.isnan(self.before) or math.isnan(self.after):
            return math.isnan(self.before) != math.isnan(self.after)
        return round(self.before, 2) != round(self.after, 2)


@dataclass(frozen=True)
class AgencyPoints:
    """An agency's PAR points: the total and each criterion's, before and after."""

    code: str
    name: str
    total: Shift
    criteria: list[Shift]


@dataclass(frozen=True)
class WeightingPreview:
    before_text: str
    after_text: str
    indices: list[Shift]  # overall, groups and criteria of the whole campaign
    agencies: list[Shift]  # each agency's overall index
    points: list[AgencyPoints]

    @property
    def changes_anything(self) -> bool:
        return any(s.changed for s in (*self.indices, *self.agencies)) or any(
            p.total.changed or any(c.changed for c in p.criteria) for p in self.points
        )


def _view(campaign: Campaign, settings: WeightingSettings) -> analysis.View:
    period = analysis.find_period(campaign, None)
    assert period is not None  # "all" is every campaign's period
    view = analysis.scope_view(campaign, period, None)
    view.settings = settings
    return view


def _tables(view: analysis.View, cached: bool) -> tuple[analysis.NodeResult, pd.DataFrame]:
    """The view's index tree and its table by agency: the dashboard's own (cached) for the
    settings in force, computed and kept nowhere for the settings previewed."""
    if cached:
        tables = analysis.view_tables(view, [None, "agency"])
    else:
        tables = fresh_tables(view, [None, "agency"])
    whole = tables[None]
    level = whole["level"].iloc[0] if len(whole) else None
    return analysis.tree_from_table(whole, view.questionnaire, level), tables["agency"]


def _agency_index(table: pd.DataFrame, root: str) -> dict[str, tuple[float, int]]:
    rows = table[table["node"] == root]
    return {
        str(r["level"]): (as_float(r["estimate"]) * 100, as_count(r["n"]))
        for r in rows.to_dict("records")
    }


def _points(table: pd.DataFrame) -> dict[tuple[str, str], tuple[str, float]]:
    return {
        (str(r["agency"]), str(r["criterion"])): (str(r["label"]), as_float(r["points"]))
        for r in table.to_dict("records")
    }


def preview(campaign: Campaign, new: WeightingSettings) -> WeightingPreview:
    """The campaign's figures under its settings and under ``new`` (AnalysisError when the
    new design cannot be computed)."""
    current = weighting_settings.current(campaign)
    before_view, after_view = _view(campaign, current), _view(campaign, new)
    before_tree, before_agency = _tables(before_view, cached=True)
    after_tree, after_agency = _tables(after_view, cached=False)
    indices = []
    for node in before_tree.walk():
        if node.is_leaf:
            continue
        after = after_tree.find(node.code)
        indices.append(
            Shift(
                node.code,
                node.label,
                node.pct(),
                after.pct() if after is not None else math.nan,
                node.depth,
                node.n,
            )
        )
    root = before_tree.code
    codes = sorted(set(before_view.frame["agency"].dropna().astype(str)))
    names = analysis.names(Agency, codes)
    before_index, after_index = (
        _agency_index(before_agency, root),
        _agency_index(after_agency, root),
    )
    agencies = [
        Shift(
            code,
            names.get(code, code),
            before_index.get(code, (math.nan, 0))[0],
            after_index.get(code, (math.nan, 0))[0],
            n=before_index.get(code, (math.nan, 0))[1],
        )
        for code in codes
    ]
    before_points = _points(index_export.par_table(before_view, names, before_agency))
    after_points = _points(index_export.par_table(after_view, names, after_agency))
    points = []
    for code in codes:
        keys = sorted(k for k in before_points.keys() | after_points.keys() if k[0] == code)
        if not keys:
            continue
        rows = [
            Shift(
                key[1],
                (before_points.get(key) or after_points[key])[0],
                before_points.get(key, ("", math.nan))[1],
                after_points.get(key, ("", math.nan))[1],
            )
            for key in keys
        ]
        total = Shift(
            code,
            names.get(code, code),
            math.fsum(r.before for r in rows),
            math.fsum(r.after for r in rows),
        )
        points.append(AgencyPoints(code, names.get(code, code), total, rows))
    questionnaire = before_view.questionnaire
    return WeightingPreview(
        current.describe(questionnaire), new.describe(questionnaire), indices, agencies, points
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=SALT)  # type: ignore[arg-type]


def sign(campaign: Campaign, new: WeightingSettings) -> str:
    """The token the confirming POST sends: the campaign, the settings replaced, the new."""
    return str(
        _serializer().dumps(
            {
                "campaign": campaign.id,
                "replaces": weighting_settings.current(campaign).key(),
                "settings": new.to_json(),
            }
        )
    )


def unsign(campaign: Campaign, token: str) -> WeightingSettings:
    """The settings a preview showed, if still to be saved as they were shown.

    WeightingError ``weighting.preview_expired`` for a token that is not this campaign's,
    altered or older than an hour; ``weighting.preview_stale`` when the settings in force
    are no longer those the preview compared with.
    """
    try:
        data: Any = _serializer().loads(token, max_age=TOKEN_MAX_AGE)
    except BadData:
        raise WeightingError.of("weighting.preview_expired") from None
    if not isinstance(data, dict) or data.get("campaign") != campaign.id:
        raise WeightingError.of("weighting.preview_expired")
    if data.get("replaces") != weighting_settings.current(campaign).key():
        raise WeightingError.of("weighting.preview_stale")
    return WeightingSettings.from_json(data.get("settings"))
