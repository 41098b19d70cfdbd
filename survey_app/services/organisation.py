"""Agencies, desks and campaigns: the survey set-up officials manage.

Used by the ``survey-app`` CLI and the staff pages alike. Every function
validates its input, changes the session (flush, no commit) and records the
change in the audit log; the caller commits once. A refusal is a
:class:`SetupError` naming every problem by code (``setup.*``, texts in
``survey_app.messages.setup``).

Rules kept here, whoever asks:

- codes of agencies, desks and campaigns never change, nor does a desk's
  public id (printed in its QR poster);
- a campaign's desks lie in its agency's subtree; a newly added desk must be
  active; a desk with answers in the campaign stays in it;
- a desk runs one campaign a day: campaigns of one desk never overlap
  (``campaign_overlaps``), so its QR poster never changes questionnaire unannounced;
- a campaign's questionnaire version never changes once it has answers, and
  its period always covers every stored answer (``submitted_at`` dates, as the
  dashboard buckets them).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable
from types import MappingProxyType
from typing import Any, cast

from flask_babel import lazy_gettext
from sqlalchemy import func, or_, select

from survey_app import localtime
from survey_app.extensions import db
from survey_app.messages.setup import CODE_OF, NAME_OF, THINGS
from survey_app.messages.text import AGENCY_KIND
from survey_app.models import Agency, Campaign, Desk, QuestionnaireVersion, Submission
from survey_app.services import audit, campaign_overlaps
from survey_app.services.errors import Problem, ServiceError
from survey_app.text_input import TextRefused, clean_line

CODE_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
NAME_MAX = 255
KIND_MAX = 32
# Kinds the pages offer; the tree has no fixed levels, so the CLI accepts any word.
KIND_LABELS = {
    "province": lazy_gettext("Tỉnh, thành phố"),
    "department": lazy_gettext("Sở, ban, ngành"),
    "commune": lazy_gettext("Xã, phường, đặc khu"),
    "centre": lazy_gettext("Trung tâm phục vụ hành chính công"),
    "district": lazy_gettext("Huyện, thị xã (trước 7/2025)"),
    "other": lazy_gettext("Khác"),
}


class SetupError(ServiceError):
    """A set-up request that cannot be carried out, with every reason (codes ``setup.*``)."""


class _Problems:
    """Collects problems, so one request reports all of them at once."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, field: str | None, problem: str, /, **params: Any) -> None:
        self.items.append(Problem(problem, MappingProxyType(params), field))

    def refused(self, error: TextRefused) -> None:
        self.items.extend(error.problems)

    def check(self) -> None:
        if self.items:
            raise SetupError(*self.items)


def _check_code(problems: _Problems, code: str, what: str) -> bool:
    """Whether ``code`` is a code (else a problem names why); only codes are looked up.

    ``what`` is ``agency``, ``desk`` or ``campaign``."""
    try:
        clean_line(code, CODE_OF[what], field="code")
    except TextRefused as refused:
        problems.refused(refused)
        return False
    if not CODE_PATTERN.fullmatch(code):
        problems.add("code", "setup.code_invalid", thing=THINGS[what])
        return False
    return True


def _known(code: str | None) -> bool:
    """Whether a code given to look a record up can exist; anything else is not looked up
    (a NUL cannot even be compared by PostgreSQL)."""
    return bool(code) and CODE_PATTERN.fullmatch(code or "") is not None


def _clean_name(problems: _Problems, name: str, what: str) -> str:
    try:
        name = clean_line(name.strip(), NAME_OF[what], field="name")
    except TextRefused as refused:
        problems.refused(refused)
        return name
    name = " ".join(name.split())
    if not name:
        problems.add("name", "setup.name_missing", thing=THINGS[what])
    elif len(name) > NAME_MAX:
        problems.add("name", "setup.name_too_long", thing=THINGS[what], maximum=NAME_MAX)
    return name


# --------------------------------------------------------------------------- look-ups


def agency_by_code(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).filter_by(code=code)) if _known(code) else None
    if agency is None:
        raise SetupError.of("setup.agency_unknown", field="agency", code=code)
    return agency


def desk_by_code(code: str) -> Desk:
    desk = db.session.scalar(select(Desk).filter_by(code=code)) if _known(code) else None
    if desk is None:
        raise SetupError.of("setup.desk_unknown", field="desks", code=code)
    return desk


def campaign_by_code(code: str) -> Campaign:
    campaign = db.session.scalar(select(Campaign).filter_by(code=code)) if _known(code) else None
    if campaign is None:
        raise SetupError.of("setup.campaign_unknown", code=code)
    return campaign


def questionnaire_version(questionnaire_id: str, version: str) -> QuestionnaireVersion | None:
    return db.session.scalar(
        select(QuestionnaireVersion).filter_by(questionnaire_id=questionnaire_id, version=version)
    )


def subtree_ids(agency_id: int) -> set[int]:
    """Ids of an agency and every agency below it."""
    rows = db.session.execute(select(Agency.id, Agency.parent_id)).all()
    children: dict[int | None, list[int]] = {}
    for child, parent in rows:
        children.setdefault(parent, []).append(child)
    found, stack = set(), [agency_id]
    while stack:
        current = stack.pop()
        found.add(current)
        stack.extend(children.get(current, []))
    return found


def agency_tree(root_ids: Iterable[int] | None = None) -> list[tuple[Agency, int]]:
    """Agencies in tree order with their depth, from the roots (None: the top agencies)."""
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all()
    children: dict[int | None, list[Agency]] = {}
    for agency in agencies:
        children.setdefault(agency.parent_id, []).append(agency)
    if root_ids is None:
        roots = children.get(None, [])
    else:
        wanted = set(root_ids)
        roots = [a for a in agencies if a.id in wanted]
    out: list[tuple[Agency, int]] = []

    def walk(agency: Agency, depth: int) -> None:
        out.append((agency, depth))
        for child in children.get(agency.id, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return out


def current_campaign(desk: Desk, today: dt.date) -> Campaign | None:
    """The campaign running at a desk today; the most recently started one wins."""
    return db.session.scalar(
        select(Campaign)
        .where(Campaign.desks.contains(desk))
        .where(Campaign.starts_on <= today, Campaign.ends_on >= today)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(1)
    )


# --------------------------------------------------------------------------- answers


def answer_counts_by_desk(campaign: Campaign) -> dict[int, int]:
    """Stored answers (submissions) of a campaign per desk id."""
    rows = db.session.execute(
        select(Submission.desk_id, func.count(Submission.id))
        .where(Submission.campaign_id == campaign.id)
        .group_by(Submission.desk_id)
    )
    return {desk_id: int(count) for desk_id, count in rows}


def answer_span(campaign: Campaign) -> tuple[int, dt.date | None, dt.date | None]:
    """(count, first date, last date) of a campaign's stored answers."""
    count, first, last = db.session.execute(
        select(
            func.count(Submission.id),
            func.min(Submission.submitted_at),
            func.max(Submission.submitted_at),
        ).where(Submission.campaign_id == campaign.id)
    ).one()
    return int(count or 0), _day(first), _day(last)


def _day(value: dt.datetime | None) -> dt.date | None:
    # min() and max() keep the column's DateTime type: SQLAlchemy converts on every database.
    return None if value is None else localtime.to_local(value).date()


def answers_outside(campaign: Campaign, starts_on: dt.date, ends_on: dt.date) -> int:
    """Stored answers of a campaign submitted before ``starts_on`` or after ``ends_on``."""
    start = localtime.day_start(starts_on)
    stop = localtime.day_start(ends_on + dt.timedelta(days=1))
    return int(
        db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.campaign_id == campaign.id,
                or_(Submission.submitted_at < start, Submission.submitted_at >= stop),
            )
        )
        or 0
    )


def desk_answer_count(desk: Desk) -> int:
    return int(
        db.session.scalar(select(func.count(Submission.id)).where(Submission.desk_id == desk.id))
        or 0
    )


def campaigns_at_desk(desk: Desk) -> list[Campaign]:
    """Campaigns that include a desk, latest first."""
    return list(
        db.session.scalars(
            select(Campaign)
            .where(Campaign.desks.contains(desk))
            .order_by(Campaign.starts_on.desc(), Campaign.code)
        )
    )


# --------------------------------------------------------------------------- agencies


def add_agency(code: str, name: str, kind: str, parent_code: str | None = None) -> Agency:
    """Add an agency under a parent (None: a top agency). Audited (``agency.create``)."""
    problems = _Problems()
    code = code.strip()
    valid = _check_code(problems, code, "agency")
    name = _clean_name(problems, name, "agency")
    kind = kind.strip()
    try:
        clean_line(kind, AGENCY_KIND, field="kind")
    except TextRefused as refused:
        problems.refused(refused)
    else:
        if not kind or len(kind) > KIND_MAX:
            problems.add("kind", "setup.kind_length", maximum=KIND_MAX)
    if valid and db.session.scalar(select(Agency.id).filter_by(code=code)) is not None:
        problems.add("code", "setup.code_taken", thing=THINGS["agency"], code=code)
    parent = None
    if parent_code:
        parent = (
            db.session.scalar(select(Agency).filter_by(code=parent_code))
            if _known(parent_code)
            else None
        )
        if parent is None:
            problems.add("parent", "setup.parent_unknown", code=parent_code)
    problems.check()
    agency = Agency(code=code, name=name, kind=kind, parent=parent)
    db.session.add(agency)
    db.session.flush()
    audit.record("agency.create", code, name=name, kind=kind, parent=parent_code or None)
    return agency


# --------------------------------------------------------------------------- desks


def add_desk(code: str, name: str, agency_code: str) -> Desk:
    """Add an active desk under an agency, with a random public id. Audited (``desk.create``)."""
    problems = _Problems()
    code = code.strip()
    valid = _check_code(problems, code, "desk")
    name = _clean_name(problems, name, "desk")
    if valid and db.session.scalar(select(Desk.id).filter_by(code=code)) is not None:
        problems.add("code", "setup.code_taken", thing=THINGS["desk"], code=code)
    agency = (
        db.session.scalar(select(Agency).filter_by(code=agency_code))
        if _known(agency_code)
        else None
    )
    if agency is None:
        problems.add("agency", "setup.agency_unknown", code=agency_code)
    problems.check()
    desk = Desk(
        code=code,
        name=name,
        agency=agency,
        # Random, so survey URLs of other desks cannot be guessed from codes.
        public_id=secrets.token_urlsafe(9),
        active=True,
    )
    db.session.add(desk)
    db.session.flush()
    audit.record("desk.create", code, name=name, agency=agency_code)
    return desk


def rename_desk(code: str, name: str) -> tuple[Desk, bool]:
    """Give a desk a new name (its code and public id stay); and whether it changed.

    Audited (``desk.rename``) when the name changes.
    """
    desk = desk_by_code(code)
    problems = _Problems()
    name = _clean_name(problems, name, "desk")
    problems.check()
    if name == desk.name:
        return desk, False
    old, desk.name = desk.name, name
    db.session.flush()
    audit.record("desk.rename", desk.code, old=old, new=name)
    return desk, True


def set_desk_active(code: str, active: bool) -> tuple[Desk, bool]:
    """Deactivate or reactivate a desk; and whether its state changed.

    An inactive desk's QR poster and dossier links answer 410 and no dossier code
    is issued for it; its stored answers stay. Audited (``desk.deactivate``,
    ``desk.activate``) when the state changes.
    """
    desk = desk_by_code(code)
    if desk.active == active:
        return desk, False
    desk.active = active
    db.session.flush()
    audit.record("desk.activate" if active else "desk.deactivate", desk.code)
    return desk, True


# --------------------------------------------------------------------------- campaigns


def _check_desks(
    problems: _Problems, agency: Agency | None, codes: list[str], already: set[int]
) -> list[Desk]:
    """The desks of these codes; each in the agency's subtree, newly added ones active."""
    desks: list[Desk] = []
    seen: set[str] = set()
    allowed = subtree_ids(agency.id) if agency is not None else set()
    for code in codes:
        if code in seen:
            continue
        seen.add(code)
        desk = db.session.scalar(select(Desk).filter_by(code=code)) if _known(code) else None
        if desk is None:
            problems.add("desks", "setup.desk_unknown", code=code)
            continue
        if agency is not None and desk.agency_id not in allowed:
            problems.add(
                "desks",
                "setup.desk_outside_agency",
                desk=desk.code,
                name=desk.name,
                agency=agency.name,
            )
        if not desk.active and desk.id not in already:
            problems.add("desks", "setup.desk_inactive", desk=desk.code, name=desk.name)
        desks.append(desk)
    if not codes:
        problems.add("desks", "setup.no_desk")
    return desks


def _check_period(problems: _Problems, starts_on: dt.date, ends_on: dt.date) -> None:
    if ends_on < starts_on:
        problems.add("ends_on", "setup.period_reversed", starts_on=starts_on, ends_on=ends_on)


def add_campaign(
    code: str,
    name: str,
    agency_code: str,
    questionnaire_id: str,
    version: str,
    starts_on: dt.date,
    ends_on: dt.date,
    desk_codes: Iterable[str],
) -> Campaign:
    """Run a questionnaire version at desks of an agency's subtree for a period; refused
    when another campaign runs at one of the desks on one of its days.

    Audited (``campaign.create``).
    """
    problems = _Problems()
    code = code.strip()
    valid = _check_code(problems, code, "campaign")
    name = _clean_name(problems, name, "campaign")
    if valid and db.session.scalar(select(Campaign.id).filter_by(code=code)) is not None:
        problems.add("code", "setup.code_taken", thing=THINGS["campaign"], code=code)
    _check_period(problems, starts_on, ends_on)
    questionnaire = questionnaire_version(questionnaire_id, version)
    if questionnaire is None:
        problems.add(
            "questionnaire",
            "setup.questionnaire_not_loaded",
            questionnaire=questionnaire_id,
            version=version,
        )
    agency = (
        db.session.scalar(select(Agency).filter_by(code=agency_code))
        if _known(agency_code)
        else None
    )
    if agency is None:
        problems.add("agency", "setup.agency_unknown", code=agency_code)
    codes = list(desk_codes)
    desks = _check_desks(problems, agency, codes, set())
    if ends_on >= starts_on:
        campaign_overlaps.lock_desks(desks)
        pairs = campaign_overlaps.overlapping(desks, starts_on, ends_on)
        problems.items += campaign_overlaps.overlap_problems(pairs, desks, starts_on, ends_on)
    problems.check()
    campaign = Campaign(
        code=code,
        name=name,
        agency=agency,
        questionnaire_version=questionnaire,
        starts_on=starts_on,
        ends_on=ends_on,
        desks=desks,
        settings={},
    )
    db.session.add(campaign)
    db.session.flush()
    audit.record(
        "campaign.create",
        code,
        name=name,
        agency=agency_code,
        questionnaire=f"{questionnaire_id} {version}",
        starts_on=starts_on,
        ends_on=ends_on,
        desks=[d.code for d in desks],
    )
    return campaign


def edit_campaign(
    code: str,
    *,
    name: str | None = None,
    questionnaire: tuple[str, str] | None = None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    desk_codes: Iterable[str] | None = None,
) -> tuple[Campaign, dict[str, list[Any]]]:
    """Change a campaign's name, questionnaire version, period or desks (None: keep).

    Returns the campaign and what changed (field -> [old, new]); audited
    (``campaign.edit``) when anything did. Refused, with every reason: a
    questionnaire change once the campaign has answers; a period that would
    leave stored answers outside it (with their count); removing a desk that
    has answers in the campaign; a period or desks that overlap another campaign
    at one of its desks. The campaign row is locked first (PostgreSQL),
    so a submission being stored meanwhile is counted, not missed.
    """
    campaign = campaign_by_code(code)
    # FOR UPDATE conflicts with the KEY SHARE lock a submission's foreign key takes.
    db.session.refresh(campaign, with_for_update=True)
    problems = _Problems()
    changes: dict[str, list[Any]] = {}

    new_name = campaign.name if name is None else _clean_name(problems, name, "campaign")
    if new_name != campaign.name:
        changes["name"] = [campaign.name, new_name]

    count, first, last = answer_span(campaign)
    new_version = campaign.questionnaire_version
    if questionnaire is not None:
        found = questionnaire_version(*questionnaire)
        if found is None:
            problems.add(
                "questionnaire",
                "setup.questionnaire_not_loaded",
                questionnaire=questionnaire[0],
                version=questionnaire[1],
            )
        elif found.id != campaign.questionnaire_version_id:
            if count:
                problems.add(
                    "questionnaire",
                    "setup.questionnaire_answered",
                    count=count,
                    questionnaire=new_version.questionnaire_id,
                    version=new_version.version,
                )
            else:
                changes["questionnaire"] = [
                    f"{new_version.questionnaire_id} {new_version.version}",
                    f"{found.questionnaire_id} {found.version}",
                ]
                new_version = found

    new_start = campaign.starts_on if starts_on is None else starts_on
    new_end = campaign.ends_on if ends_on is None else ends_on
    _check_period(problems, new_start, new_end)
    if (new_start, new_end) != (campaign.starts_on, campaign.ends_on) and new_end >= new_start:
        outside = answers_outside(campaign, new_start, new_end)
        if outside:
            problems.add(
                "period",
                "setup.answers_outside_period",
                count=outside,
                starts_on=new_start,
                ends_on=new_end,
                first=first or new_start,
                last=last or new_end,
            )
        if new_start != campaign.starts_on:
            changes["starts_on"] = [campaign.starts_on, new_start]
        if new_end != campaign.ends_on:
            changes["ends_on"] = [campaign.ends_on, new_end]

    new_desks = list(campaign.desks)
    if desk_codes is not None:
        current = {d.id: d for d in campaign.desks}
        new_desks = _check_desks(problems, campaign.agency, list(desk_codes), set(current))
        kept = {d.id for d in new_desks}
        answered = answer_counts_by_desk(campaign)
        for desk_id, desk in current.items():
            if desk_id not in kept and answered.get(desk_id):
                problems.add(
                    "desks",
                    "setup.desk_has_answers",
                    desk=desk.code,
                    name=desk.name,
                    count=answered[desk_id],
                )
        old_codes = sorted(d.code for d in current.values())
        new_codes = sorted(d.code for d in new_desks)
        if old_codes != new_codes:
            changes["desks"] = [old_codes, new_codes]

    if ("desks" in changes or "starts_on" in changes or "ends_on" in changes) and (
        new_end >= new_start
    ):
        # Only overlaps the edit makes: one that was there before (set up before campaigns
        # were checked) does not stop shortening the period or removing a desk.
        campaign_overlaps.lock_desks(new_desks)
        before = campaign_overlaps.overlapping(
            campaign.desks, campaign.starts_on, campaign.ends_on, campaign.id
        )
        after = campaign_overlaps.overlapping(new_desks, new_start, new_end, campaign.id)
        problems.items += campaign_overlaps.overlap_problems(
            after - before, new_desks, new_start, new_end
        )
    problems.check()
    if not changes:
        return campaign, changes
    campaign.name = new_name
    campaign.questionnaire_version = new_version
    campaign.starts_on, campaign.ends_on = new_start, new_end
    if "desks" in changes:
        campaign.desks = new_desks
    db.session.flush()
    audit.record("campaign.edit", campaign.code, **cast(dict[str, Any], changes))
    return campaign, changes
