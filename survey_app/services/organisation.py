"""Agencies, desks and campaigns: the survey set-up officials manage."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import Agency, Campaign, Desk, QuestionnaireVersion


class SetupError(ValueError):
    """A set-up request that cannot be carried out, with the reason."""


def agency_by_code(code: str) -> Agency:
    agency = db.session.scalar(select(Agency).filter_by(code=code))
    if agency is None:
        raise SetupError(f"no agency with code {code!r}")
    return agency


def desk_by_code(code: str) -> Desk:
    desk = db.session.scalar(select(Desk).filter_by(code=code))
    if desk is None:
        raise SetupError(f"no desk with code {code!r}")
    return desk


def add_agency(code: str, name: str, kind: str, parent_code: str | None = None) -> Agency:
    if db.session.scalar(select(Agency.id).filter_by(code=code)) is not None:
        raise SetupError(f"agency code {code!r} is already used")
    parent = agency_by_code(parent_code) if parent_code else None
    agency = Agency(code=code, name=name, kind=kind, parent=parent)
    db.session.add(agency)
    db.session.flush()
    return agency


def add_desk(code: str, name: str, agency_code: str) -> Desk:
    if db.session.scalar(select(Desk.id).filter_by(code=code)) is not None:
        raise SetupError(f"desk code {code!r} is already used")
    desk = Desk(
        code=code,
        name=name,
        agency=agency_by_code(agency_code),
        public_id=secrets.token_urlsafe(9),
    )
    db.session.add(desk)
    db.session.flush()
    return desk


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
    if db.session.scalar(select(Campaign.id).filter_by(code=code)) is not None:
        raise SetupError(f"campaign code {code!r} is already used")
    if ends_on < starts_on:
        raise SetupError(f"campaign {code!r} ends ({ends_on}) before it starts ({starts_on})")
    questionnaire = db.session.scalar(
        select(QuestionnaireVersion).filter_by(questionnaire_id=questionnaire_id, version=version)
    )
    if questionnaire is None:
        raise SetupError(f"questionnaire {questionnaire_id} version {version} is not loaded")
    agency = agency_by_code(agency_code)
    desks = [desk_by_code(c) for c in desk_codes]
    if not desks:
        raise SetupError(f"campaign {code!r} needs at least one desk")
    allowed = subtree_ids(agency.id)
    for desk in desks:
        if desk.agency_id not in allowed:
            raise SetupError(f"desk {desk.code!r} is not under agency {agency.code!r}")
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
    return campaign


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


def current_campaign(desk: Desk, today: dt.date) -> Campaign | None:
    """The campaign running at a desk today; the most recently started one wins."""
    return db.session.scalar(
        select(Campaign)
        .where(Campaign.desks.contains(desk))
        .where(Campaign.starts_on <= today, Campaign.ends_on >= today)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(1)
    )
