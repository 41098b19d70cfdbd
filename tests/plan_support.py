"""Shared set-up of the remediation plan tests: the demo province with answers whose
criterion indices are known by construction, and users of every role."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import Agency, Campaign, RemediationPlan, StaffUser
from survey_app.services import analysis, organisation, plans, weighting_settings
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import record_submission, validate_answers
from survey_app.services.weighting_settings import Margin, WeightingSettings
from tests.staff_support import PASSWORD, seed_province

# Criteria of sipas-2023 the tests plan for (Thủ tục hành chính, Công chức, Kết quả).
CRITERIA = ("II.1", "II.2", "II.3")
# Post-stratified to 8,000 men and 2,000 women. :func:`answer` gives its satisfied
# respondents gender 1 (Nam) and the others gender 2 (Nữ): a man weighs 8,000 / (men),
# a woman 2,000 / (women), so every criterion's index is 8,000 / 10,000 = 0.80 whenever
# both answered.
BY_GENDER = WeightingSettings(
    calibration="poststratify", margins=(Margin(("gender",), {(1,): 8000.0, (2,): 2000.0}),)
)


def answer(
    campaign_code: str,
    desk_code: str,
    day: dt.date,
    satisfied: int,
    other: int,
    comment: str | None = None,
) -> None:
    """``satisfied`` submissions answering 4 (hài lòng) to every item and ``other`` answering
    2 (không hài lòng): every criterion's index is satisfied / (satisfied + other). Each
    has ``comment`` as its free-text answer when given."""
    campaign = db.session.scalar(select(Campaign).filter_by(code=campaign_code))
    desk = next(d for d in campaign.desks if d.code == desk_code)
    questionnaire = definition(campaign.questionnaire_version)
    for k in range(satisfied + other):
        level = "4" if k < satisfied else "2"
        raw = {}
        for item in questionnaire.items:
            if item.show_if is None and item.type == "single":
                codes = [str(o.code) for o in item.options]
                raw[item.code] = level if level in codes else codes[0]
        raw["II.4.0"] = "2"
        if comment is not None:
            raw["comment"] = comment
        record_submission(
            db.session.connection(),
            uid=str(uuid.uuid4()),
            campaign=campaign,
            desk=desk,
            route="desk_qr",
            answers=validate_answers(questionnaire, raw),
            language="vi",
            submitted_at=localtime.to_utc(
                dt.datetime.combine(day, dt.time(9)) + dt.timedelta(minutes=k)
            ),
        )
    db.session.commit()


def seed_plans() -> None:
    """Demo province, STP-2026 and SXD-2026 (tests.staff_support), users of every role.

    STP-2026 at HT-STP-01: 100 answers in February (70 % satisfied), 100 in May (85 %).
    SXD-2026 at HT-SXD-01: 50 answers in February (60 %).
    """
    analysis.clear_caches()
    seed_province()
    answer("STP-2026", "HT-STP-01", dt.date(2026, 2, 10), 70, 30)
    answer("STP-2026", "HT-STP-01", dt.date(2026, 5, 12), 85, 15)
    answer("SXD-2026", "HT-SXD-01", dt.date(2026, 2, 11), 30, 20)
    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    for username, role, agency in (
        ("admin", "admin", None),
        ("analyst", "analyst", None),
        ("stp", "officer", "HT-STP"),
        ("sxd", "officer", "HT-SXD"),
        ("tinh", "officer", "HT"),
        ("viewer", "viewer", "HT-STP"),
    ):
        found = organisation.agency_by_code(agency) if agency else None
        db.session.add(StaffUser(username=username, password_hash=fast, role=role, agency=found))
    db.session.commit()


def user(username: str) -> StaffUser:
    return db.session.scalars(select(StaffUser).filter_by(username=username)).one()


def agency(code: str) -> Agency:
    return db.session.scalars(select(Agency).filter_by(code=code)).one()


def campaign(code: str) -> Campaign:
    return db.session.scalars(select(Campaign).filter_by(code=code)).one()


def sxd_campaign(code: str, year: int) -> None:
    """Another whole-year campaign of Sở Xây dựng at desk HT-SXD-01 (the same series)."""
    organisation.add_campaign(
        code, f"Khảo sát Sở Xây dựng {year}", "HT-SXD", "sipas-2023", "2023.1",
        dt.date(year, 1, 1), dt.date(year, 12, 31), ["HT-SXD-01"],
    )  # fmt: skip
    db.session.commit()


def weight_by_gender(campaign_code: str) -> None:
    """The campaign post-stratified as :data:`BY_GENDER`."""
    weighting_settings.save(campaign(campaign_code), BY_GENDER)
    db.session.commit()
    analysis.clear_caches()


def plan_checked_by_a_weighted_campaign() -> RemediationPlan:
    """SXD-2026's whole-campaign plan (II.2: 30 satisfied men, 20 unsatisfied women, 60 %
    unweighted, target 80 %) checked against SXD-2027 (190 men, 10 women: 95 %
    unweighted), which is post-stratified as :data:`BY_GENDER`: 80 % there."""
    plan = plans.add_rows(
        campaign("SXD-2026"), agency("HT-SXD"), "all", ["II.2"], "80", user("sxd")
    )
    db.session.commit()
    sxd_campaign("SXD-2027", 2027)
    answer("SXD-2027", "HT-SXD-01", dt.date(2027, 3, 1), 190, 10)
    weight_by_gender("SXD-2027")
    return plan
