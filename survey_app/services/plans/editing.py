"""Plans and their rows: who may change what, the rules every change follows, the audit.

Used by the staff pages and the CLI alike. Each function checks its input and the
user's right, changes the session (no commit) and records the change in the audit log;
the caller commits once. A refusal is a :class:`PlanError` naming every problem
(codes ``plan.*``, texts in ``survey_app.messages.plans``).

Who may do what:

- a plan's scope is an agency's subtree (the campaign's own agency: the whole campaign);
  everyone who may see that agency reads its plan (officers and viewers: their subtree);
- admins and analysts create plans and change every row; an officer creates plans for
  scopes within the own subtree and changes the rows whose lead unit lies there;
- a row's lead unit is an agency of the plan's scope (and, for an officer, of the own
  subtree: an officer cannot hand a row to a unit outside it).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from scoring.text import TextError, clean_text
from survey_app.access import ALL_AGENCY_ROLES, can_see_agency, visible_agency_ids
from survey_app.extensions import db
from survey_app.models import (
    PLAN_STATUSES,
    Agency,
    Campaign,
    PlanRow,
    RemediationPlan,
    StaffUser,
    utcnow,
)
from survey_app.services import audit
from survey_app.services.analysis import (
    NodeResult,
    Period,
    find_period,
    scope_view,
    subtree_codes,
    view_tree,
    weakest_criteria,
)
from survey_app.services.errors import Conflict, NotFound, Problem, ServiceError
from survey_app.services.organisation import subtree_ids
from survey_app.text_input import TextRefused, clean_line, refused

STATUS_LABELS = {
    "todo": lazy_gettext("Chưa thực hiện"),
    "doing": lazy_gettext("Đang thực hiện"),
    "done": lazy_gettext("Hoàn thành"),
}
# Longest texts a row holds (characters); a plan row is a table cell of an annex.
TEXT_LIMITS = {"tasks": 4000, "cooperating": 1000, "notes": 2000}
FIELD_NAMES = {
    "target": lazy_gettext("Mục tiêu"),
    "tasks": lazy_gettext("Nhiệm vụ, giải pháp"),
    "lead": lazy_gettext("Đơn vị chủ trì thực hiện"),
    "cooperating": lazy_gettext("Cơ quan phối hợp thực hiện"),
    "deadline": lazy_gettext("Thời hạn"),
    "status": lazy_gettext("Trạng thái"),
    "notes": lazy_gettext("Ghi chú"),
}
EDITABLE = ("target", "tasks", "lead", "cooperating", "deadline", "status", "notes")
_TARGET = re.compile(r"^\d{1,3}([.,]\d{1,2})?$")


class PlanError(ServiceError):
    """A plan change that cannot be made, with every reason (codes ``plan.*``)."""


class PlanForbidden(PlanError):
    """The user may see the plan but not make this change."""

    status = 403


class PlanConflict(Conflict):
    """The plan changed meanwhile (a concurrent request added the same criterion)."""


class PlanMissing(NotFound):
    """No plan for this campaign and scope."""


def _problem(problem: str, field: str | None = None, /, **params: Any) -> Problem:
    return Problem(problem, MappingProxyType(params), field)


# --------------------------------------------------------------------------- who may
def can_see_plan(user: StaffUser, agency: Agency) -> bool:
    """Whether the user may read the plan of ``agency``'s scope (the dashboard's rule)."""
    return can_see_agency(user, agency.id)


def can_plan(user: StaffUser, agency: Agency) -> bool:
    """Whether the user may create the plan of ``agency``'s scope and add rows to it."""
    if user.role in ALL_AGENCY_ROLES:
        return True
    return user.role == "officer" and can_see_agency(user, agency.id)


def can_edit_row(user: StaffUser, row: PlanRow) -> bool:
    """Admins and analysts: every row; an officer: the rows led within the own subtree."""
    if user.role in ALL_AGENCY_ROLES:
        return True
    return user.role == "officer" and can_see_agency(user, row.lead_agency_id)


# --------------------------------------------------------------------------- look-ups
def find_plan(campaign: Campaign, agency: Agency) -> RemediationPlan | None:
    return db.session.scalar(
        select(RemediationPlan).filter_by(campaign_id=campaign.id, agency_id=agency.id)
    )


def default_scope(user: StaffUser, campaign: Campaign) -> Agency | None:
    """The plan a user opens without choosing one: the campaign's agency's when the user may
    see it, else the user's own agency's."""
    if can_see_plan(user, campaign.agency):
        return campaign.agency
    return user.agency


def target_row(campaign: Campaign, agency: Agency, criterion: str) -> PlanRow | None:
    """The row of the agency's plan for this criterion, if the plan has one."""
    return db.session.scalar(
        select(PlanRow)
        .join(RemediationPlan, RemediationPlan.id == PlanRow.plan_id)
        .where(
            RemediationPlan.campaign_id == campaign.id,
            RemediationPlan.agency_id == agency.id,
            PlanRow.criterion == criterion,
        )
    )


def plan_or_missing(campaign: Campaign, agency: Agency) -> RemediationPlan:
    plan = find_plan(campaign, agency)
    if plan is None:
        raise PlanMissing(_problem("plan.missing", agency=agency.name, campaign=campaign.code))
    return plan


def plan_period(plan: RemediationPlan) -> Period:
    period = find_period(plan.campaign, plan.period)
    if period is None:  # the campaign's dates changed since: its whole span instead
        period = find_period(plan.campaign, "all")
    assert period is not None
    return period


def campaign_scopes(campaign: Campaign) -> set[int]:
    """Ids of the agencies a plan of the campaign may be about: the campaign's agency, the
    agencies of its desks and every agency above them (one read of the tree)."""
    parents: dict[int, int | None] = {
        child: parent for child, parent in db.session.execute(select(Agency.id, Agency.parent_id))
    }
    found: set[int] = set()
    for start in (campaign.agency_id, *(d.agency_id for d in campaign.desks)):
        current: int | None = start
        while current is not None and current not in found:
            found.add(current)
            current = parents.get(current)
    return found


def in_campaign(campaign: Campaign, agency: Agency) -> bool:
    """Whether the campaign's agency or one of its desks lies in the agency's subtree."""
    return agency.id in campaign_scopes(campaign)


def scope_tree(campaign: Campaign, agency: Agency, period: Period) -> NodeResult:
    """The index tree of the campaign in the period, in the agency's subtree."""
    return view_tree(scope_view(campaign, period, subtree_codes(agency)))


def candidates(campaign: Campaign, agency: Agency, period: Period) -> list[NodeResult]:
    """The scope's criteria, weakest first, as the dashboard lists them."""
    return weakest_criteria(scope_tree(campaign, agency, period))


def lead_choices(user: StaffUser, plan_agency: Agency) -> list[Agency]:
    """Agencies the user may name as a lead unit in the plan of ``plan_agency``."""
    ids = subtree_ids(plan_agency.id)
    mine = visible_agency_ids(user)
    if mine is not None:
        ids &= mine
    rows = db.session.scalars(select(Agency).where(Agency.id.in_(ids)).order_by(Agency.code))
    return list(rows)


# --------------------------------------------------------------------------- parsing
def parse_target(value: str) -> Decimal | None:
    """``"85"``, ``"85,5"`` or ``"85.25"`` as a Decimal in [0, 100]; blank is no target."""
    value = value.strip().removesuffix("%").strip()
    if not value:
        return None
    if not _TARGET.fullmatch(value):
        raise PlanError(_problem("plan.target_invalid", "target"))
    try:
        target = Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits decimals only
        raise PlanError(_problem("plan.target_invalid", "target")) from None
    if not Decimal(0) <= target <= Decimal(100):
        raise PlanError(_problem("plan.target_invalid", "target"))
    return target


def parse_deadline(value: str) -> dt.date | None:
    """``2027-06-30`` (a date input) or ``30/06/2027``; blank is no deadline."""
    value = value.strip()
    if not value:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise PlanError(_problem("plan.deadline_invalid", "deadline"))


def _clean_text(problems: list[Problem], name: str, value: str) -> str:
    """Multi-line text of a row under the app's text rules and the field's length."""
    try:
        value = clean_text(value.strip(), multiline=True)
    except TextError as error:
        problems.append(refused(error, FIELD_NAMES[name], name))
        return value
    if len(value) > TEXT_LIMITS[name]:
        problems.append(
            _problem("plan.text_too_long", name, what=FIELD_NAMES[name], maximum=TEXT_LIMITS[name])
        )
    return value


def _lead(
    problems: list[Problem], code: str, plan: RemediationPlan, user: StaffUser
) -> Agency | None:
    code = code.strip()
    if not code:
        problems.append(_problem("plan.lead_missing", "lead"))
        return None
    try:
        code = clean_line(code, FIELD_NAMES["lead"], field="lead")
    except TextRefused as error:
        problems.extend(error.problems)
        return None
    agency = db.session.scalar(select(Agency).filter_by(code=code))
    if agency is None:
        problems.append(_problem("plan.lead_unknown", "lead", code=code))
        return None
    if agency.id not in subtree_ids(plan.agency_id):
        problems.append(
            _problem("plan.lead_outside_scope", "lead", agency=plan.agency.name, lead=agency.name)
        )
        return None
    if not can_see_agency(user, agency.id):
        problems.append(_problem("plan.lead_not_yours", "lead", lead=agency.name))
        return None
    return agency


# --------------------------------------------------------------------------- changes
def add_rows(
    campaign: Campaign,
    agency: Agency,
    period_code: str | None,
    criteria: Sequence[str],
    target: str,
    user: StaffUser,
) -> RemediationPlan:
    """Add weak criteria to the plan of ``agency``'s scope (created on the first rows).

    A new plan starts from ``period_code``'s indices (the dashboard's period codes; blank:
    the whole campaign); an existing one keeps its period. Each row keeps the criterion's
    index, interval and n of that period; its lead unit is the plan's agency.
    """
    if not can_plan(user, agency):
        raise PlanForbidden(_problem("plan.not_allowed", agency=agency.name))
    if not in_campaign(campaign, agency):
        raise PlanError(
            _problem("plan.agency_outside_campaign", agency=agency.name, campaign=campaign.code)
        )
    plan = find_plan(campaign, agency)
    problems: list[Problem] = []
    code = plan.period if plan is not None else (period_code or "all")
    period = find_period(campaign, code)
    if period is None:
        problems.append(_problem("plan.period_unknown", "period", period=code))
    try:
        target_value = parse_target(target)
    except PlanError as error:
        problems.extend(error.problems)
        target_value = None
    chosen = list(dict.fromkeys(c.strip() for c in criteria if c.strip()))
    if not chosen:
        problems.append(_problem("plan.no_criteria", "criteria"))
    if problems:
        raise PlanError(*problems)
    assert period is not None
    tree = scope_tree(campaign, agency, period)
    present = {r.criterion for r in plan.rows} if plan is not None else set()
    parents = {c.code: n for n in tree.walk() for c in n.children}
    nodes = []
    for criterion in chosen:
        node = tree.find(criterion)
        if node is None or not node.is_criterion:
            problems.append(_problem("plan.criterion_unknown", "criteria", criterion=criterion))
        elif criterion in present:
            problems.append(_problem("plan.criterion_present", "criteria", criterion=criterion))
        else:
            nodes.append(node)
    if problems:
        raise PlanError(*problems)
    if plan is None:
        plan = RemediationPlan(campaign=campaign, agency=agency, period=period.code)
        db.session.add(plan)
        audit.record(
            "plan.create", campaign.code, actor=user, agency=agency.code, period=period.code
        )
    for node in nodes:
        group = parents.get(node.code, node)
        plan.rows.append(
            PlanRow(
                criterion=node.code,
                criterion_label=node.label[:500],
                group_code=group.code,
                group_label=group.label[:500],
                baseline_estimate=_finite(node.estimate),
                baseline_ci_low=_finite(node.ci_low),
                baseline_ci_high=_finite(node.ci_high),
                baseline_n=node.n,
                target=target_value,
                lead_agency=agency,
                tasks="",
                cooperating="",
                notes="",
                status="todo",
            )
        )
        audit.record(
            "plan.row.add",
            campaign.code,
            actor=user,
            agency=agency.code,
            criterion=node.code,
            target_percent=target_value,
        )
    try:
        db.session.flush()
    except IntegrityError:
        # Another request added the plan or one of these criteria meanwhile.
        raise PlanConflict(_problem("plan.changed_meanwhile")) from None
    return plan


def update_row(row: PlanRow, fields: Mapping[str, str], user: StaffUser) -> dict[str, Any]:
    """Change the row's fields given in ``fields`` (raw text as a form sends it).

    Returns the changes ``{field: [old, new]}`` (also in the audit event); nothing is
    changed when any field is refused.
    """
    if not can_edit_row(user, row):
        raise PlanForbidden(
            _problem("plan.row_not_yours", lead=row.lead_agency.name, criterion=row.criterion)
        )
    problems: list[Problem] = []
    new: dict[str, Any] = {}
    for name in EDITABLE:
        if name not in fields:
            continue
        value = fields[name]
        try:
            if name == "target":
                new[name] = parse_target(value)
            elif name == "deadline":
                new[name] = parse_deadline(value)
            elif name == "status":
                if value not in PLAN_STATUSES:
                    raise PlanError(_problem("plan.status_invalid", "status"))
                new[name] = value
            elif name == "lead":
                new["lead_agency"] = _lead(problems, value, row.plan, user)
            else:
                new[name] = _clean_text(problems, name, value)
        except PlanError as error:
            problems.extend(error.problems)
    if problems:
        raise PlanError(*problems)
    changes: dict[str, Any] = {}
    for name, value in new.items():
        old = getattr(row, name)
        if name == "lead_agency":
            if value.id != row.lead_agency_id:
                changes["lead"] = [old.code, value.code]
                row.lead_agency = value
            continue
        if old != value:
            changes[name] = [old, value]
            setattr(row, name, value)
    if changes:
        row.updated_at = utcnow()
        audit.record(
            "plan.row.edit",
            row.plan.campaign.code,
            actor=user,
            agency=row.plan.agency.code,
            criterion=row.criterion,
            changes=changes,
        )
        db.session.flush()
    return changes


def delete_row(row: PlanRow, user: StaffUser) -> None:
    if not can_edit_row(user, row):
        raise PlanForbidden(
            _problem("plan.row_not_yours", lead=row.lead_agency.name, criterion=row.criterion)
        )
    plan = row.plan
    audit.record(
        "plan.row.delete",
        plan.campaign.code,
        actor=user,
        agency=plan.agency.code,
        criterion=row.criterion,
        target_percent=row.target,
        status=row.status,
    )
    plan.rows.remove(row)
    db.session.flush()


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None
