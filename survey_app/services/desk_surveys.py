"""Where a citizen's form lands (desk, running campaign, questionnaire) from a poster's
desk id or a dossier code.

Resolved once per process and kept for ``SURVEY_CACHE_SECONDS`` as plain values, so a
submission reads nothing before it writes; why there is no form is looked up each time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import joinedload

from scoring.questionnaire import Questionnaire
from survey_app.caching import Cache, app_cache
from survey_app.connections import retry_read
from survey_app.extensions import db
from survey_app.models import Campaign, Desk, campaign_desks
from survey_app.services import dossier_codes
from survey_app.services.errors import Problem, ServiceError
from survey_app.services.organisation import current_campaign
from survey_app.services.questionnaires import definition
from survey_app.settings import settings

# Entries of the per-process cache of desk_survey and dossier_survey.
_SURVEY_CACHE_LIMIT = 10_000


@dataclass(frozen=True)
class AgencyRef:
    name: str


@dataclass(frozen=True)
class DeskRef:
    """A desk as the citizen form uses it: plain values, usable outside any session."""

    id: int
    code: str
    public_id: str
    name: str
    agency: AgencyRef


@dataclass(frozen=True)
class CampaignRef:
    """A running campaign as the citizen form uses it."""

    id: int
    code: str
    name: str
    questionnaire_version_id: int


@dataclass(frozen=True)
class DeskSurvey:
    """Where a form lands: an active desk, its running campaign and that campaign's
    parsed questionnaire."""

    desk: DeskRef
    campaign: CampaignRef
    questionnaire: Questionnaire


class SurveyUnavailable(ServiceError):
    """No form can be shown; ``reason`` names why (problem ``citizen.<reason>``; the view
    picks the page and status), ``desk`` the desk when there is one."""

    status = 404

    def __init__(self, reason: str, desk: Desk | None = None) -> None:
        super().__init__(Problem(f"citizen.{reason}"))
        self.reason = reason
        self.desk = desk


def desk_survey(public_id: str, today: dt.date) -> DeskSurvey:
    """The desk of a QR poster, its running campaign and questionnaire.

    Raises SurveyUnavailable with reason 'unknown_desk', 'inactive_desk' or 'no_campaign'.
    """

    def resolve() -> DeskSurvey:
        found = _desk_with_campaign(Desk.public_id == public_id, today)
        if found is not None:
            return _survey(*found)
        desk = db.session.scalar(select(Desk).filter_by(public_id=public_id))
        campaign = _running_campaign(desk, today)
        assert desk is not None
        return _survey(desk, campaign)

    return _remembered(("public_id", public_id, today), resolve)


def dossier_survey(token: str, today: dt.date) -> tuple[DeskSurvey, dossier_codes.DossierClaim]:
    """Where a dossier code or link lands, and what the code says (the dossier to spend).

    Raises SurveyUnavailable with reason 'code_invalid', 'code_expired', 'unknown_desk',
    'inactive_desk' or 'no_campaign'. Whether the dossier was already answered is not
    checked here.
    """
    try:
        claim = dossier_codes.verify(token)
    except dossier_codes.CodeExpired:
        raise SurveyUnavailable("code_expired") from None
    except dossier_codes.DossierCodeError:
        raise SurveyUnavailable("code_invalid") from None

    def resolve() -> DeskSurvey:
        found = _desk_with_campaign(Desk.id == claim.desk_id, today)
        if found is not None:
            return _survey(*found)
        desk = db.session.get(Desk, claim.desk_id)
        campaign = _running_campaign(desk, today)
        assert desk is not None
        return _survey(desk, campaign)

    return _remembered(("desk_id", str(claim.desk_id), today), resolve), claim


def forget_surveys() -> None:
    """Empty this process's cache of where forms land; call it after committing a set-up change.

    The change then shows at once in this process, and in other processes within
    ``SURVEY_CACHE_SECONDS``. Not before the commit: another request of this process
    could cache the old set-up again in between.
    """
    _desk_surveys().clear()


def _remembered(key: tuple[str, str, dt.date], resolve: Callable[[], DeskSurvey]) -> DeskSurvey:
    """resolve(), kept per process and app for ``SURVEY_CACHE_SECONDS``.

    Only forms that can be shown are kept: why there is none (unknown or inactive desk, no
    campaign) is looked up each time, so a desk that becomes available shows its form at
    once, and one that stops being available does so within the TTL. ``today`` is part of
    the key, so a campaign starts and ends exactly on its dates.
    """
    found = _desk_surveys().get(key)
    if found is None:
        found = _desk_surveys().put(key, retry_read(resolve))
    return found


def _desk_surveys() -> Cache[tuple[str, str, dt.date], DeskSurvey]:
    return app_cache(
        "desk_surveys", size=_SURVEY_CACHE_LIMIT, ttl=lambda: settings().survey_cache_seconds
    )


def _survey(desk: Desk, campaign: Campaign) -> DeskSurvey:
    return DeskSurvey(
        desk=DeskRef(
            id=desk.id,
            code=desk.code,
            public_id=desk.public_id,
            name=desk.name,
            agency=AgencyRef(name=desk.agency.name),
        ),
        campaign=CampaignRef(
            id=campaign.id,
            code=campaign.code,
            name=campaign.name,
            questionnaire_version_id=campaign.questionnaire_version_id,
        ),
        questionnaire=definition(campaign.questionnaire_version),
    )


def _desk_with_campaign(which: ColumnElement[bool], today: dt.date) -> tuple[Desk, Campaign] | None:
    """An active desk, its running campaign and questionnaire version, in one query.

    None sends the caller to the slower look-ups that tell why there is no form. The order
    is organisation.current_campaign's: the most recently started one wins.
    """
    row = db.session.execute(
        select(Desk, Campaign)
        .join(campaign_desks, campaign_desks.c.desk_id == Desk.id)
        .join(Campaign, Campaign.id == campaign_desks.c.campaign_id)
        .options(joinedload(Campaign.questionnaire_version), joinedload(Desk.agency))
        .where(which, Desk.active.is_(True))
        .where(Campaign.starts_on <= today, Campaign.ends_on >= today)
        .order_by(Campaign.starts_on.desc(), Campaign.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _running_campaign(desk: Desk | None, today: dt.date) -> Campaign:
    if desk is None:
        raise SurveyUnavailable("unknown_desk")
    if not desk.active:
        raise SurveyUnavailable("inactive_desk", desk)
    campaign = current_campaign(desk, today)
    if campaign is None:
        raise SurveyUnavailable("no_campaign", desk)
    return campaign
