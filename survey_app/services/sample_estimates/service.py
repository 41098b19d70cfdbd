"""A campaign's probability sample read from the database, and what its pages show.

Reads the sampling design, the selected dossiers, the frame counts and the answers
(the dashboard's cached responses), builds :mod:`.tables`, and turns the estimates,
rates, comparison and plan of :mod:`.estimates`, :mod:`.rates` and :mod:`.planning`
into rows for the pages and the report. An officer's figures are domains of the whole
sample's design (the agency subtree), never a design built on fewer dossiers.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

import numpy as np
import pandas as pd
from sqlalchemy import func, select

from scoring.compare import difference_table
from scoring.estimators import DomainSpec
from scoring.questionnaire import Questionnaire
from survey_app.caching import Cache
from survey_app.extensions import db
from survey_app.models import (
    Agency,
    Campaign,
    Desk,
    FrameCell,
    SampledDossier,
    SamplingDesign,
    StaffUser,
    Submission,
)
from survey_app.services import sampling
from survey_app.services.analysis import (
    AnalysisError,
    NodeResult,
    build_design,
    campaign_periods,
    choice_columns,
    data_version,
    frames,
    previous_period,
    scope_view,
    tree_from_table,
    view_table,
)
from survey_app.services.analysis.cache import campaign_lock, memo
from survey_app.services.errors import NotFound, Problem
from survey_app.services.questionnaires import definition
from survey_app.services.sample_estimates import planning
from survey_app.services.sample_estimates.estimates import (
    SampleError,
    Weighted,
    index_table,
    verdict,
    weigh,
)
from survey_app.services.sample_estimates.rates import RateRow, rate_rows
from survey_app.services.sample_estimates.tables import (
    DesignSettings,
    dossier_table,
    stratum_sizes,
)
from survey_app.services.weighting_settings import WeightingSettings
from survey_app.services.weighting_settings import current as current_settings

# The domain column of an officer's agency subtree in the sample's design.
SCOPE = "_scope"
# Estimates kept per app (a few campaigns, each for a few scopes).
RESULTS_KEPT = 16


class NoSample(NotFound):
    """The campaign has no sampling design (code ``sample.no_design``)."""


@dataclass
class Sample:
    """A campaign's probability sample as the app sees it."""

    campaign: Campaign
    design: SamplingDesign
    settings: DesignSettings
    weighting: WeightingSettings
    questionnaire: Questionnaire
    dossiers: pd.DataFrame  # tables.dossier_table
    frame: pd.DataFrame  # tables.FRAME_COLUMNS
    walk_in: pd.DataFrame  # the dashboard's responses outside the sample
    agency_names: dict[str, str] = field(default_factory=dict)
    desk_names: dict[str, str] = field(default_factory=dict)


def design_of(campaign: Campaign) -> SamplingDesign | None:
    """The campaign's sampling design, if it has one."""
    return db.session.scalar(select(SamplingDesign).filter_by(campaign_id=campaign.id))


def has_sample(campaign: Campaign) -> bool:
    return design_of(campaign) is not None


def settings_of(design: SamplingDesign) -> DesignSettings:
    return DesignSettings.of(
        design.strata or [], design.nonresponse_classes or [], design.calibration, design.trim
    )


def frame_table(campaign: Campaign) -> pd.DataFrame:
    """The campaign's frame counts: desk, agency, procedure field, channel, on time."""
    rows = db.session.execute(
        select(
            Desk.code,
            Agency.code,
            FrameCell.procedure_field,
            FrameCell.channel,
            FrameCell.on_time,
            FrameCell.returned,
            FrameCell.selected,
        )
        .join(Desk, Desk.id == FrameCell.desk_id)
        .join(Agency, Agency.id == Desk.agency_id)
        .where(FrameCell.campaign_id == campaign.id)
        .order_by(Desk.code, FrameCell.procedure_field, FrameCell.channel, FrameCell.on_time)
    ).all()
    return pd.DataFrame(
        {
            "desk": pd.Series([r[0] for r in rows], dtype=object),
            "agency": pd.Series([r[1] for r in rows], dtype=object),
            "procedure_field": pd.Series([r[2] for r in rows], dtype=object),
            "channel": pd.Series([r[3] for r in rows], dtype=object),
            "on_time": pd.Series([int(bool(r[4])) for r in rows], dtype=np.int64),
            "returned": pd.Series([r[5] for r in rows], dtype=np.int64),
            "selected": pd.Series([r[6] for r in rows], dtype=np.int64),
        }
    )


def _selected(campaign: Campaign) -> pd.DataFrame:
    rows = db.session.execute(
        select(
            SampledDossier.dossier_hash,
            Desk.code,
            Agency.code,
            SampledDossier.procedure_field,
            SampledDossier.channel,
            SampledDossier.on_time,
            SampledDossier.stratum,
            SampledDossier.probability,
            SampledDossier.disposition,
        )
        .join(Desk, Desk.id == SampledDossier.desk_id)
        .join(Agency, Agency.id == Desk.agency_id)
        .where(SampledDossier.campaign_id == campaign.id)
    ).all()
    names = (
        "dossier_hash",
        "desk",
        "agency",
        "procedure_field",
        "channel",
        "on_time",
        "stratum",
        "probability",
        "disposition",
    )
    return pd.DataFrame(
        {name: pd.Series([r[k] for r in rows], dtype=object) for k, name in enumerate(names)}
    )


def _respondent_ids(campaign: Campaign) -> pd.DataFrame:
    """Submission id and spent dossier hash of every answer to a sampled dossier."""
    rows = db.session.execute(
        select(Submission.id, Submission.dossier_code)
        .join(
            SampledDossier,
            (SampledDossier.dossier_hash == Submission.dossier_code)
            & (SampledDossier.campaign_id == Submission.campaign_id),
        )
        .where(Submission.campaign_id == campaign.id, Submission.route == "dossier")
    ).all()
    return pd.DataFrame(
        {
            "submission_id": pd.Series([r[0] for r in rows], dtype=np.int64),
            "dossier_code": pd.Series([r[1] for r in rows], dtype=object),
        }
    )


def load(campaign: Campaign) -> Sample:
    """The campaign's sample, frame and walk-in answers; refused without a design."""
    design = design_of(campaign)
    if design is None:
        raise NoSample.of("sample.no_design", campaign=campaign.code)
    settings = settings_of(design)
    questionnaire = definition(campaign.questionnaire_version)
    items = choice_columns(questionnaire)
    responses = frames.responses(campaign).frame
    ids = _respondent_ids(campaign)
    answers = ids.merge(responses, on="submission_id", how="inner")
    frame = frame_table(campaign)
    dossiers = dossier_table(
        _selected(campaign),
        answers,
        stratum_sizes(frame, settings.strata),
        settings.classes,
        items,
    )
    walk_in = responses[~responses["submission_id"].isin(ids["submission_id"])]
    return Sample(
        campaign=campaign,
        design=design,
        settings=settings,
        weighting=current_settings(campaign),
        questionnaire=questionnaire,
        dossiers=dossiers,
        frame=frame,
        walk_in=walk_in.reset_index(drop=True),
        agency_names=_names(Agency),
        desk_names=_names(Desk),
    )


def _version(campaign: Campaign, design: SamplingDesign) -> tuple[object, ...]:
    """What a cached result depends on: answers, selected dossiers, frame and design."""
    selected = db.session.execute(
        select(
            func.count(SampledDossier.id),
            func.max(SampledDossier.id),
            func.count(SampledDossier.disposition),
        ).where(SampledDossier.campaign_id == campaign.id)
    ).one()
    frame = db.session.execute(
        select(func.count(FrameCell.id), func.sum(FrameCell.returned)).where(
            FrameCell.campaign_id == campaign.id
        )
    ).one()
    return (
        campaign.id,
        data_version(campaign),
        tuple(selected),
        tuple(frame),
        design.updated_at,
        current_settings(campaign).key(),
    )


# ----------------------------------------------------------------- estimates


@dataclass
class Estimates:
    """The sample's index tree per agency (and for the whole scope) with its weights."""

    sample: Sample
    weighted: Weighted
    table: pd.DataFrame  # scoring's long table: domains "agency" and the scope
    scope_domain: str  # the domain of the whole scope ("overall": every agency)
    agency_codes: frozenset[str] | None  # None: every agency

    def agencies(self) -> list[str]:
        """Codes of the agencies with respondents that the user may see."""
        rows = self.table[self.table["domain"] == "agency"]
        codes = sorted({str(c) for c in rows["level"]})
        return [c for c in codes if self.agency_codes is None or c in self.agency_codes]

    def tree(self, agency: str | None) -> NodeResult:
        """The index tree of one agency, or of the whole scope (None)."""
        if agency is None:
            rows = self.table[self.table["domain"] == self.scope_domain]
            level = rows["level"].iloc[0] if len(rows) else None
        else:
            rows = self.table[self.table["domain"] == "agency"]
            level = agency
        return tree_from_table(
            rows.assign(level=rows["level"].astype(str)) if agency else rows,
            self.sample.questionnaire,
            level,
        )

    def roots(self) -> pd.DataFrame:
        """The overall index (root node) of every visible agency: estimate, se, n, deff, ..."""
        root = self.sample.questionnaire.index
        assert root is not None
        rows = self.table[(self.table["domain"] == "agency") & (self.table["node"] == root.code)]
        rows = rows.assign(level=rows["level"].astype(str))
        if self.agency_codes is not None:
            rows = rows[rows["level"].isin(self.agency_codes)]
        return rows.sort_values("level").reset_index(drop=True)


def estimates(sample: Sample, codes: frozenset[str] | None) -> Estimates:
    """The sample's weights and index tree per agency, within the agencies ``codes``."""
    weighted = weigh(sample.dossiers, sample.frame, sample.settings)
    design = weighted.design
    domains: list[DomainSpec] = [None, "agency"]
    scope = "overall"
    if codes is not None:
        domains, scope = ["agency", SCOPE], SCOPE
        inside = design.data["agency"].isin(codes)
        design = design.with_columns(
            **{SCOPE: pd.Series(1.0, index=design.data.index).where(inside)}
        )
    table = index_table(
        sample.questionnaire,
        design,
        domains,
        level=sample.weighting.level,
        method=sample.weighting.ci_method,
    )
    return Estimates(sample, weighted, table, scope, codes)


def _results() -> Cache[tuple[object, ...], object]:
    return memo("sample_estimates", RESULTS_KEPT)


def campaign_estimates(campaign: Campaign, codes: frozenset[str] | None) -> Estimates:
    """:func:`estimates` of the stored sample, kept while nothing it depends on changes."""
    design = design_of(campaign)
    if design is None:
        raise NoSample.of("sample.no_design", campaign=campaign.code)
    key = (
        *_version(campaign, design),
        "estimates",
        None if codes is None else tuple(sorted(codes)),
    )
    cache = _results()
    found = cache.get(key)
    if isinstance(found, Estimates):
        return found
    with campaign_lock(campaign.id):
        result = estimates(load(campaign), codes)
    cache.put(key, result)
    return result


# -------------------------------------------------------------------- rates


@dataclass
class Rates:
    """Response rates of the visible dossiers: overall and per agency, desk and stratum."""

    overall: RateRow | None
    agencies: list[RateRow]
    desks: list[RateRow]
    strata: list[RateRow]


def visible(dossiers: pd.DataFrame, codes: frozenset[str] | None) -> pd.DataFrame:
    return dossiers if codes is None else dossiers[dossiers["agency"].isin(codes)]


def rates(
    dossiers: pd.DataFrame,
    codes: frozenset[str] | None,
    agency_names: dict[str, str],
    desk_names: dict[str, str],
) -> Rates:
    """Response rates of the dossiers of the agencies ``codes`` (None: all of them)."""
    shown = visible(dossiers, codes)
    overall = rate_rows(shown, None)
    return Rates(
        overall=overall[0] if overall else None,
        agencies=rate_rows(shown, "agency", agency_names),
        desks=rate_rows(shown, "desk", desk_names),
        strata=rate_rows(shown, "stratum"),
    )


def campaign_rates(campaign: Campaign, codes: frozenset[str] | None) -> Rates:
    """:func:`rates` of the stored sample, from the dossiers and spent codes alone (no answers
    are read: the dashboard shows them on every visit)."""
    design = design_of(campaign)
    if design is None:
        raise NoSample.of("sample.no_design", campaign=campaign.code)
    dossiers = dossier_table(_selected(campaign), _respondent_ids(campaign), {}, (), ())
    return rates(dossiers, codes, _names(Agency), _names(Desk))


def _names(model: type[Agency] | type[Desk]) -> dict[str, str]:
    return {code: name for code, name in db.session.execute(select(model.code, model.name))}


# --------------------------------------------------------------- comparison


@dataclass
class Versus:
    """One node of one agency from the walk-in answers and from the sample."""

    code: str
    label: str
    depth: int
    walk_in: float
    walk_in_low: float
    walk_in_high: float
    n_walk_in: int
    sample: float
    sample_low: float
    sample_high: float
    n_sample: int
    difference: float
    p_value: float
    verdict: str  # estimates.VERDICTS


@dataclass
class Comparison:
    """Walk-in against sampled, per agency (root node) and node by node for one agency."""

    agencies: list[tuple[str, str, Versus]]  # (code, name, root)
    nodes: list[Versus]  # every group and criterion of the chosen agency
    walk_in_n: int
    problem: str | None = None  # why there is no comparison (walk-in answers too few)


def comparison(sample_estimates: Estimates, agency: str | None) -> Comparison:
    """The same indices from the walk-in answers and from the sample, with a test.

    The walk-in answers are weighted as the dashboard weights them (the analysts'
    settings); both trees are domains ``agency`` of their whole designs.
    """
    sample = sample_estimates.sample
    codes = sample_estimates.agency_codes
    walk = sample.walk_in if codes is None else sample.walk_in[sample.walk_in["agency"].isin(codes)]
    try:
        walk_design = build_design(sample.walk_in, sample.weighting)
    except AnalysisError as error:
        return Comparison([], [], len(walk), problem=str(error))
    walk_tree = index_table(
        sample.questionnaire,
        walk_design,
        ["agency"],
        level=sample.weighting.level,
        method=sample.weighting.ci_method,
    )
    sample_tree = sample_estimates.table[sample_estimates.table["domain"] == "agency"]
    table = versus_table(walk_tree, sample_tree)
    if codes is not None:
        table = table[table["level"].isin(codes)]
    root = sample.questionnaire.index
    assert root is not None
    labels = _node_labels(sample.questionnaire)

    def row(record: Mapping[Hashable, object]) -> Versus:
        n_w, n_s = _count(record.get("n_walk_in")), _count(record.get("n_sample"))
        diff, p = _number(record.get("difference")), _number(record.get("p_value"))
        code = str(record["node"])
        return Versus(
            code=code,
            label=labels.get(code, code),
            depth=_count(record.get("depth")),
            walk_in=_number(record.get("estimate_walk_in")),
            walk_in_low=_number(record.get("ci_low_walk_in")),
            walk_in_high=_number(record.get("ci_high_walk_in")),
            n_walk_in=n_w,
            sample=_number(record.get("estimate_sample")),
            sample_low=_number(record.get("ci_low_sample")),
            sample_high=_number(record.get("ci_high_sample")),
            n_sample=n_s,
            difference=diff,
            p_value=p,
            verdict=verdict(diff, p, n_w, n_s),
        )

    records = table.to_dict("records")
    agencies = [
        (str(r["level"]), sample.agency_names.get(str(r["level"]), str(r["level"])), row(r))
        for r in records
        if r["node"] == root.code
    ]
    agencies.sort(key=lambda a: a[0])
    leaves = _leaf_codes(sample.questionnaire)
    nodes = [
        row(r)
        for r in records
        if agency is not None and str(r["level"]) == agency and str(r["node"]) not in leaves
    ]
    return Comparison(agencies, nodes, len(walk))


def versus_table(walk_in: pd.DataFrame, sample: pd.DataFrame) -> pd.DataFrame:
    """Two index tables of independent samples side by side with the test of every row, as
    :func:`scoring.compare.compare_index_trees` puts them (with both intervals carried)."""
    carry = ("estimate", "se", "df", "n", "ci_low", "ci_high")
    first = walk_in.assign(level=walk_in["level"].astype(str))
    second = sample.assign(level=sample["level"].astype(str))
    table = difference_table(
        first, second, ["node", "domain", "level"], labels=("walk_in", "sample"), carry=carry
    )
    shape = pd.concat([first, second])[["node", "depth"]].drop_duplicates("node")
    return shape.merge(table, on="node", how="right").reset_index(drop=True)


def _node_labels(questionnaire: Questionnaire) -> dict[str, str]:
    assert questionnaire.index is not None
    out = {}
    stack = [questionnaire.index]
    while stack:
        node = stack.pop()
        out[node.code] = node.label.get("vi", node.code)
        stack.extend(node.children)
    return out


def _leaf_codes(questionnaire: Questionnaire) -> set[str]:
    assert questionnaire.index is not None
    out, stack = set(), [questionnaire.index]
    while stack:
        node = stack.pop()
        if node.is_leaf:
            out.add(node.code)
        stack.extend(node.children)
    return out


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return number


def _count(value: object) -> int:
    number = _number(value)
    return int(number) if np.isfinite(number) else 0


# ------------------------------------------------------------------ planner

PLAN_SOURCES = ("sample", "walk_in", "previous")


@dataclass
class Plan:
    """The planned sample per agency and stratum, the design's new probabilities, the gauge."""

    targets: planning.Targets
    source: str
    strata: pd.DataFrame  # scoring's plan strata: agency, stratum, N, p, deff, ...
    domains: pd.DataFrame  # per agency: invitations, moe, reached, ...
    probabilities: dict[str, float]  # per design stratum (every agency's plan)
    current: dict[str, float]  # the design's probability of those strata today
    gauge: pd.DataFrame  # per agency: estimate, n, moe, target, met, more_needed, ...
    notes: list[Problem]  # why a source or the gauge is missing
    agency_names: dict[str, str] = field(default_factory=dict)


def _source_estimates(
    sample: Sample, source: str, notes: list[Problem]
) -> tuple[dict[str, tuple[float, float]], Estimates | None]:
    """Each agency's index (0-1) and its design effect against a share
    (:func:`.planning.planning_deff`) from the chosen source."""
    found: Estimates | None = None
    try:
        found = estimates(sample, None)
    except SampleError as error:
        notes.extend(error.problems)
    root = sample.questionnaire.index
    assert root is not None
    if source == "sample":
        table = found.roots() if found is not None else pd.DataFrame()
    elif source == "walk_in":
        try:
            design = build_design(sample.walk_in, sample.weighting)
            walk = index_table(sample.questionnaire, design, ["agency"])
        except (AnalysisError, SampleError) as error:
            notes.extend(error.problems)
            walk = pd.DataFrame(columns=["node", "level"])
        table = walk[walk["node"] == root.code]
    else:
        table = _previous_roots(sample, root.code, notes)
    out = {
        str(r["level"]): (
            _number(r.get("estimate")),
            planning.planning_deff(
                _number(r.get("estimate")), _number(r.get("se")), _number(r.get("n"))
            ),
        )
        for r in table.to_dict("records")
    }
    return out, found


def _previous_roots(sample: Sample, root: str, notes: list[Problem]) -> pd.DataFrame:
    """The previous campaign of the series (its dashboard's design), per agency."""
    whole = campaign_periods(sample.campaign)[0]
    comparison = previous_period(sample.campaign, whole)
    if comparison is None:
        notes.append(Problem("sample.no_previous"))
        return pd.DataFrame(columns=["node", "level"])
    view = scope_view(comparison.campaign, comparison.period, None)
    try:
        table = view_table(view, "agency")
    except AnalysisError as error:
        notes.extend(error.problems)
        return pd.DataFrame(columns=["node", "level"])
    return table[table["node"] == root]


def plan(
    campaign: Campaign, codes: frozenset[str] | None, targets: planning.Targets, source: str
) -> Plan:
    """The sample planner of the campaign: every agency's plan, ``codes``' rows shown."""
    if source not in PLAN_SOURCES:
        raise SampleError.of("sample.bad_source", value=source)
    sample = load(campaign)
    notes: list[Problem] = []
    by_agency, found = _source_estimates(sample, source, notes)
    inputs = planning.plan_inputs(
        planning.frame_strata(sample.frame, sample.settings.strata),
        by_agency,
        planning.observed_rates(sample.dossiers, targets.response_rate),
        targets.response_rate,
    )
    made = planning.make_plan(inputs, targets)
    overall = rate_rows(sample.dossiers, None)
    rate = overall[0].rr1 if overall else None
    roots = found.roots() if found is not None else pd.DataFrame()
    gauge = planning.gauge(roots, targets, rate if rate is not None and rate > 0 else None)
    strata, domains = made.strata, made.domains
    probabilities = planning.design_probabilities(made)
    if codes is not None:
        strata = strata[strata["domain"].isin(codes)]
        domains = domains[domains["domain"].isin(codes)]
        if len(gauge):
            gauge = gauge[gauge["level"].isin(codes)]
        shown = set(strata["stratum"])
        probabilities = {k: v for k, v in probabilities.items() if k in shown}
    return Plan(
        targets=targets,
        source=source,
        strata=strata.reset_index(drop=True),
        domains=domains.reset_index(drop=True),
        probabilities=probabilities,
        current={
            label: float(sample.design.probabilities.get(label, sample.design.default_probability))
            for label in probabilities
        },
        gauge=gauge.reset_index(drop=True),
        notes=notes,
        agency_names=sample.agency_names,
    )


def apply_plan(campaign: Campaign, made: Plan, user: StaffUser) -> bool:
    """Copy the plan's inclusion probabilities into the campaign's sampling design (audited
    by the sampling service); strata the plan does not cover keep theirs. False when the
    design already has them. The caller commits."""
    current = sampling.current(campaign)
    if current is None:
        raise NoSample.of("sample.no_design", campaign=campaign.code)
    probabilities = {**current.probabilities, **made.probabilities}
    changed = replace(current, probabilities=MappingProxyType(probabilities))
    return sampling.save_design(campaign, changed, user)
