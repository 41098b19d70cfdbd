"""Everything the survey report states, from one view: figures and tables, no layout.

The figures are the dashboard's (the same view, tree, group rows, comparison and PAR
table), so the report and the dashboard agree to the last printed digit; the PDF and the
DOCX are two layouts of one :class:`Report`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import select

from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import ROUTES, Agency, Desk
from survey_app.services import index_export, sample_estimates
from survey_app.services.analysis import (
    BREAKDOWN_VARIABLES,
    Change,
    ComparedSettings,
    Comparison,
    GroupRow,
    NodeResult,
    View,
    breakdown_rows,
    compare_with,
    names,
    previous_period,
    view_table,
    view_tables,
    view_tree,
)
from survey_app.services.analysis.results import tree_from_table
from survey_app.services.analysis.views import changes, group_rows
from survey_app.services.raw_export import ROUTE_LABELS
from survey_app.services.report.comments import MIN_RESPONSES, quoted_comments
from survey_app.services.sample_estimates import RateRow, Versus

# How many of the lowest criteria the "weak criteria" section names.
WEAK_SHOWN = 5
# The interval methods (scoring.ci) in words, for the method section.
INTERVAL_METHODS = {
    "logit": 'khoảng logit (biến đổi logit của tỷ lệ), như svyciprop(method = "logit") '
    "của gói survey trong R",
    "beta": 'khoảng Korn-Graubard (beta), như svyciprop(method = "beta") của gói survey trong R',
    "mean": 'khoảng Wald (tỷ lệ ± t × sai số chuẩn), như svyciprop(method = "mean") của gói '
    "survey trong R",
    "asin": 'khoảng arcsin, như svyciprop(method = "asin") của gói survey trong R',
    "wilson": "khoảng Wilson với cỡ mẫu hiệu dụng (Kish)",
}


@dataclass
class Issuer:
    """Who the report is from: the scope's agency, its parent, and the place of the date line."""

    agency: Agency
    parent: Agency | None
    place: str

    @property
    def header_lines(self) -> list[str]:
        """The issuing body as Nghị định 30/2020 sets it: the parent over the agency."""
        if self.parent is None:
            return [self.agency.name.upper()]
        parent = self.parent.name.upper()
        if self.parent.kind == "province":
            parent = f"UBND {parent}"
        return [parent, self.agency.name.upper()]


@dataclass
class Count:
    label: str
    count: int

    def share(self, total: int) -> float:
        return 100.0 * self.count / total if total else float("nan")


@dataclass
class CriterionRow:
    """One unit (agency or desk) with its index per criterion, for the annex tables."""

    code: str
    label: str
    criteria: list[NodeResult]


# The walk-in against sampled finding, as the report words it (always Vietnamese).
VERDICT_TEXTS = {
    "higher": "Phiếu tự nguyện cao hơn mẫu, vượt quá sai số ngẫu nhiên: có thể bị thổi phồng",
    "lower": "Phiếu tự nguyện thấp hơn mẫu, vượt quá sai số ngẫu nhiên: có thể bị kéo xuống",
    "same": "Không khác biệt vượt quá sai số ngẫu nhiên",
    "no_data": "Chưa đủ phiếu để so sánh",
}


@dataclass
class SampleAnnex:
    """The probability sample of dossiers: response rates and walk-in against sampled."""

    overall: RateRow | None
    agencies: list[RateRow]
    versus: list[tuple[str, str, Versus]]  # (agency code, name, root node)
    problem: str | None  # why the sample has no estimates

    @staticmethod
    def verdict(row: Versus) -> str:
        return VERDICT_TEXTS[row.verdict]


def sample_annex(view: View) -> SampleAnnex | None:
    """The annex of a campaign with a sampling design (the whole campaign, the view's scope)."""
    campaign = view.campaign
    if not sample_estimates.has_sample(campaign):
        return None
    rates = sample_estimates.campaign_rates(campaign, view.agency_codes)
    versus: list[tuple[str, str, Versus]] = []
    problem = None
    try:
        result = sample_estimates.campaign_estimates(campaign, view.agency_codes)
        found = sample_estimates.comparison(result, None)
        versus, problem = found.agencies, found.problem
    except sample_estimates.SampleError as error:
        problem = str(error)
    return SampleAnnex(rates.overall, rates.agencies, versus, problem)


@dataclass
class Report:
    view: View
    issuer: Issuer
    date: dt.date
    scope_label: str
    tree: NodeResult
    comparison: Comparison | None
    previous: NodeResult | None
    changes: list[Change]
    criteria: list[NodeResult]  # every criterion, lowest first
    by_desk: list[Count]
    by_agency: list[Count]
    by_route: list[Count]
    by_month: list[Count]
    desks: list[GroupRow]
    agencies: list[GroupRow]
    breakdowns: list[tuple[str, list[GroupRow]]]
    comments: list[str]
    comments_withheld: bool
    agency_annex: list[CriterionRow]
    desk_annex: list[CriterionRow]
    par: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    sample: SampleAnnex | None = None
    compared: ComparedSettings | None = None

    @property
    def interval_text(self) -> str:
        """How the intervals are computed, in one sentence."""
        settings = self.view.settings
        method = INTERVAL_METHODS.get(settings.ci_method, settings.ci_method)
        return (
            f"Khoảng tin cậy {round(settings.level * 100)}% của mỗi chỉ số là {method}; sai số "
            "chuẩn tính theo thiết kế khảo sát (tuyến tính hóa Taylor, có trọng số, tầng và "
            "cụm nếu được cài đặt), t theo bậc tự do của thiết kế."
        )

    @property
    def compared_text(self) -> str:
        """How the comparison period was computed, when the two campaigns are set to be
        computed differently; empty otherwise."""
        compared = self.compared
        if compared is None or not compared.differ:
            return ""
        q = self.view.questionnaire
        text = (
            f"Hai đợt được cài đặt tính khác nhau (kỳ so sánh: {compared.own.describe(q)}; "
            f"kỳ này: {compared.current.describe(q)}). "
        )
        if compared.like_with_like:
            return text + (
                "Để so sánh cùng một cách tính, kỳ so sánh được tính lại với cài đặt của kỳ này."
            )
        return text + (
            "Không áp dụng được cài đặt của kỳ này cho số liệu của kỳ so sánh, nên kỳ so sánh "
            "được tính với cài đặt riêng của nó: một phần chênh lệch có thể do cách tính trọng "
            "số chứ không do thay đổi thực tế."
        )

    @property
    def weak(self) -> list[NodeResult]:
        return [c for c in self.criteria if np.isfinite(c.estimate)][:WEAK_SHOWN]

    @property
    def criterion_nodes(self) -> list[NodeResult]:
        """The criteria in questionnaire order (the annexes' columns)."""
        return [n for n in self.tree.walk() if n.is_criterion]


def issuer(view: View) -> Issuer:
    """The scope's agency (the top of the view's agency subtree; the campaign's for the
    province), its parent, and the place named in the date line (the province's name)."""
    agency = view.campaign.agency
    if view.agency_codes:
        scoped = db.session.scalars(select(Agency).where(Agency.code.in_(view.agency_codes))).all()
        inside = {a.id for a in scoped}
        tops = sorted((a for a in scoped if a.parent_id not in inside), key=lambda a: a.code)
        if tops:
            agency = tops[0]
    top = agency
    while top.parent is not None:
        top = top.parent
    place = top.name
    for prefix in ("Tỉnh ", "Thành phố ", "TP. ", "TP "):
        if place.startswith(prefix):
            place = place[len(prefix) :]
            break
    return Issuer(agency, agency.parent, place)


def _counts(values: pd.Series, labels: dict[object, str]) -> list[Count]:
    counts = values.value_counts()
    rows = [Count(labels.get(k, str(k)), int(v)) for k, v in counts.items()]
    return sorted(rows, key=lambda r: (-r.count, r.label))


def _months(stamps: pd.Series) -> list[Count]:
    months = stamps.dt.to_period("M").value_counts().sort_index()
    return [Count(f"{p.month:02d}/{p.year}", int(c)) for p, c in months.items()]


def _annex(view: View, by: str, labels: dict[object, str]) -> list[CriterionRow]:
    """Each unit's criteria (questionnaire order), units by name."""
    table = view_table(view, by)
    out = []
    for value in table["level"].dropna().unique():
        tree = tree_from_table(table, view.questionnaire, value)
        key = int(value) if isinstance(value, float) and value.is_integer() else value
        criteria = [n for n in tree.walk() if n.is_criterion]
        out.append(CriterionRow(str(key), labels.get(key, str(key)), criteria))
    return sorted(out, key=lambda r: (r.label, r.code))


def _desk_words(view: View) -> list[str]:
    """Codes and names of every desk of the campaign: masked in the quoted comments."""
    desks = db.session.execute(
        select(Desk.code, Desk.name).where(Desk.code.in_(view.frame["desk"].unique().tolist()))
    ).all()
    return [word for desk in desks for word in desk]


def build(view: View) -> Report:
    """The report's content for the view's campaign, period and agency scope."""
    respondent = {i.code: i for i in view.questionnaire.respondent}
    breakdown_codes = [c for c in BREAKDOWN_VARIABLES if c in respondent]
    view_tables(view, [None, "desk", "agency", *breakdown_codes])
    tree = view_tree(view)
    comparison = previous_period(view.campaign, view.period)
    compared = None if comparison is None else compare_with(view, comparison)
    previous = None if compared is None else compared.tree
    criteria = sorted(
        (n for n in tree.walk() if n.is_criterion),
        key=lambda n: n.estimate if np.isfinite(n.estimate) else float("inf"),
    )
    frame = view.frame[view.mask]
    desk_names = names(Desk, frame["desk"].unique())
    agency_names = names(Agency, frame["agency"].unique())
    route_labels: dict[object, str] = {r: str(ROUTE_LABELS[r]) for r in ROUTES}
    breakdowns = []
    if view.n:
        for code in breakdown_codes:
            rows = breakdown_rows(view, code)
            breakdowns.append((respondent[code].text.get("vi", code), rows))
    who = issuer(view)
    scope = (
        "Tất cả cơ quan tham gia đợt khảo sát"
        if view.agency_codes is None
        else f"{who.agency.name} và các đơn vị trực thuộc"
    )
    return Report(
        view=view,
        issuer=who,
        date=localtime.today(),
        scope_label=scope,
        tree=tree,
        comparison=comparison,
        previous=previous,
        changes=changes(tree, previous),
        criteria=criteria,
        by_desk=_counts(frame["desk"], desk_names),
        by_agency=_counts(frame["agency"], agency_names),
        by_route=_counts(frame["route"], route_labels),
        by_month=_months(frame["submitted_at"]),
        desks=group_rows(view, "desk", desk_names) if view.n else [],
        agencies=group_rows(view, "agency", agency_names) if view.n else [],
        breakdowns=breakdowns,
        comments=quoted_comments(view.comments, frame["submission_id"], view.n, _desk_words(view)),
        comments_withheld=0 < view.n < MIN_RESPONSES,
        agency_annex=_annex(view, "agency", agency_names) if view.n else [],
        desk_annex=_annex(view, "desk", desk_names) if view.n else [],
        par=index_export.par_table(view, agency_names) if view.n else pd.DataFrame(),
        sample=sample_annex(view),
        compared=None if compared is None else compared.settings,
    )
