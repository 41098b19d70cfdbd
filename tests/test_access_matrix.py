"""Every staff route x every role: who may use it, and per record, whose records.

One line per route in ``ROUTES``. For each role the test asks the route for a
record of the user's own agency (Sở Tư pháp: campaign STP-2026, desk HT-STP-01,
agency HT-STP) and for another agency's (Sở Xây dựng: SXD-2026, HT-SXD-01,
HT-SXD), named in the path or in the posted form:

- anonymous: redirected to the login page (401 for the JSON API);
- a role the route does not list: 403;
- a listed role: served for its own records; for another agency's records,
  served to admin and analyst (all agencies) and 404 to officer and viewer.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from survey_app.extensions import db
from survey_app.models import Campaign, StaffUser
from survey_app.services import organisation
from survey_app.services.questionnaires import definition
from survey_app.services.submissions import record_submission, validate_answers
from tests.sample_support import add_design
from tests.staff_support import PASSWORD, csrf_token, import_paper, login, seed_province

ALL = ("admin", "analyst", "officer", "viewer")
DATA = ("admin", "analyst", "officer")
ANALYSIS = ("admin", "analyst")
ADMIN = ("admin",)
SETUP = ("admin", "analyst", "officer")
UNDO = ("admin", "officer")
# Each campaign has one paper import batch: the own agency's is number 1, the other's 2.
# A commented submission of each campaign (its uid, as the comments page names it).
COMMENTED = {
    "STP-2026": "00000000-0000-4000-8000-000000000001",
    "SXD-2026": "00000000-0000-4000-8000-000000000002",
}
OWN = {
    "campaign": "STP-2026",
    "desk": "HT-STP-01",
    "agency": "HT-STP",
    "comment": COMMENTED["STP-2026"],
    "batch": "1",
}
OTHER = {
    "campaign": "SXD-2026",
    "desk": "HT-SXD-01",
    "agency": "HT-SXD",
    "comment": COMMENTED["SXD-2026"],
    "batch": "2",
}


@dataclass(frozen=True)
class Route:
    # {campaign}, {desk} and {agency} in the path or the data are filled with the own or
    # the other agency's record.
    path: str
    roles: tuple[str, ...]
    method: str = "GET"
    data: dict[str, str] = field(default_factory=dict)
    anonymous: int = 302

    @property
    def scoped(self) -> bool:
        return "{" in self.path or any("{" in v for v in self.data.values())

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


ROUTES = [
    Route("/staff/", ALL),
    Route("/staff/desks/{desk}", ALL),
    Route("/staff/desks/{desk}/poster.svg", ALL),
    Route("/staff/desks/{desk}/poster", ALL),
    Route("/staff/desks/{desk}/poster.pdf?size=A5", ALL),
    Route("/staff/desks/{desk}/dossier-codes", DATA, "POST", {"dossier_ref": "HS-2026-0001"}),
    Route("/staff/desks/{desk}/slips", DATA),
    Route("/staff/desks/{desk}/slips", DATA, "POST", {"dossiers": "HS-2026-0001\nHS-2026-0002"}),
    Route(
        "/staff/desks/{desk}/slip.pdf", DATA, "POST", {"code": "BKQ7M-X4T2J", "dossier_ref": "HS-1"}
    ),
    Route("/staff/campaigns/{campaign}", ALL),
    Route("/staff/campaigns/{campaign}/dashboard", ALL),
    Route("/staff/campaigns/{campaign}/criteria/II.2", ALL),
    Route("/staff/campaigns/{campaign}/weighting", ANALYSIS),
    Route("/staff/campaigns/{campaign}/weighting", ANALYSIS, "POST"),
    Route("/staff/campaigns/{campaign}/sampling", ANALYSIS),
    Route(
        "/staff/campaigns/{campaign}/sampling",
        ANALYSIS,
        "POST",
        {"method": "poisson", "seed": "s", "default_probability": "0.1", "action": "save"},
    ),
    Route("/staff/campaigns/{campaign}/weighting", ANALYSIS, "POST", {"confirm": "not-a-token"}),
    Route("/staff/campaigns/{campaign}/weighting/margins.csv", ANALYSIS),
    Route("/staff/campaigns/{campaign}/indices.csv", ALL),
    Route("/staff/campaigns/{campaign}/indices.xlsx", ALL),
    Route("/api/v1/campaigns/{campaign}/indices", ALL, anonymous=401),
    Route("/staff/campaigns/{campaign}/par.csv", ALL),
    Route("/staff/campaigns/{campaign}/par.xlsx", ALL),
    Route("/staff/campaigns/{campaign}/comments", ALL),
    Route("/staff/campaigns/{campaign}/comments?criterion=II.2&max_score=3&q=thu", ALL),
    Route("/staff/campaigns/{campaign}/comments.csv", ALL),
    Route("/staff/campaigns/{campaign}/comments.xlsx", ALL),
    Route(
        "/staff/campaigns/{campaign}/comments/{comment}/handled",
        DATA,
        "POST",
        {"handled": "yes", "note": "Đã trả lời người dân"},
    ),
    Route("/staff/campaigns/{campaign}/evidence.zip", ALL),
    Route("/staff/campaigns/SIPAS-2026/evidence.zip?agency={agency}", ALL),
    Route("/staff/campaigns/{campaign}/plan", ALL),
    Route("/staff/campaigns/{campaign}/plan?agency={agency}", ALL),
    Route(
        "/staff/campaigns/{campaign}/plan/rows",
        SETUP,
        "POST",
        {"agency": "{agency}", "criteria": "II.2", "target": "80"},
    ),
    Route("/staff/campaigns/{campaign}/sample", ALL),
    Route("/staff/campaigns/{campaign}/sample/compare", ALL),
    Route("/staff/campaigns/{campaign}/sample/plan", ALL),
    Route("/staff/campaigns/{campaign}/sample/plan", ANALYSIS, "POST", {"target": "3"}),
    Route("/staff/campaigns/{campaign}/sample/plan.csv", ALL),
    Route("/staff/campaigns/{campaign}/sample/plan.xlsx", ALL),
    Route("/staff/campaigns/{campaign}/responses.csv", DATA),
    Route("/staff/campaigns/{campaign}/responses.xlsx", DATA),
    Route("/staff/campaigns/{campaign}/codebook.csv", DATA),
    Route("/staff/campaigns/{campaign}/import", DATA),
    Route("/staff/campaigns/{campaign}/import", DATA, "POST"),
    Route("/staff/campaigns/{campaign}/import/batches/{batch}/undo", UNDO),
    Route("/staff/campaigns/{campaign}/import/template.csv", DATA),
    Route("/staff/campaigns/{campaign}/import/template.xlsx", DATA),
    Route("/staff/campaigns/{campaign}/import/guide.csv", DATA),
    Route("/staff/account/password", ALL),
    Route(
        "/staff/account/password",
        ALL,
        "POST",
        {"current": "khong-dung-1", "new": "mot-mat-khau-moi-9", "confirm": "mot-mat-khau-moi-9"},
    ),
    Route("/staff/audit", ADMIN),
    Route("/staff/users", ADMIN),
    Route(
        "/staff/users",
        ADMIN,
        "POST",
        {"username": "moi", "password": PASSWORD + "x", "role": "viewer", "agency": "HT-STP"},
    ),
    Route("/staff/users/khac/disable", ADMIN, "POST"),
    Route("/staff/users/khac/password", ADMIN),
    Route("/staff/users/khac/password", ADMIN, "POST", {"password": ""}),
    Route("/staff/agencies", ALL),
    Route(
        "/staff/agencies",
        ADMIN,
        "POST",
        {"code": "HT-MOI", "name": "Cơ quan mới", "kind": "department", "parent": "HT"},
    ),
    Route("/staff/questionnaires", ALL),
    Route("/staff/questionnaires", ADMIN, "POST"),
    Route("/staff/questionnaires/1/preview", ALL),
    Route("/staff/questionnaires/1/preview", ALL, "POST", {"action": "next"}),
    Route("/staff/questionnaires/1/preview/submit", ALL, "POST"),
    Route("/staff/desks/new", SETUP),
    Route(
        "/staff/desks/new",
        SETUP,
        "POST",
        {"agency": "{agency}", "code": "{agency}-09", "name": "Quầy mới"},
    ),
    Route("/staff/desks/{desk}/edit", SETUP),
    Route("/staff/desks/{desk}/edit", SETUP, "POST", {"name": "Quầy đổi tên"}),
    Route("/staff/desks/{desk}/deactivate", SETUP),
    Route("/staff/desks/{desk}/deactivate", SETUP, "POST"),
    Route("/staff/desks/{desk}/activate", SETUP),
    Route("/staff/desks/{desk}/activate", SETUP, "POST"),
    Route("/staff/campaigns/new", SETUP),
    Route("/staff/campaigns/new?agency={agency}", SETUP),
    Route(
        "/staff/campaigns/new?agency={agency}",
        SETUP,
        "POST",
        {
            "code": "{agency}-2027",
            "name": "Đợt mới",
            "questionnaire": "1",
            "starts_on": "2027-01-01",
            "ends_on": "2027-12-31",
            "desks": "{desk}",
        },
    ),
    Route("/staff/campaigns/{campaign}/edit", SETUP),
    Route(
        "/staff/campaigns/{campaign}/edit",
        SETUP,
        "POST",
        {
            "name": "Đợt đổi tên",
            "questionnaire": "1",
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "desks": "{desk}",
        },
    ),
]


def _answers(campaign: Campaign, level: int) -> dict[str, str]:
    q = definition(campaign.questionnaire_version)
    raw = {i.code: str(level) for i in q.items if i.required and i.show_if is None}
    raw["II.4.0"] = "2"
    return raw


def _seed() -> None:
    seed_province()
    for code in ("STP-2026", "SXD-2026"):
        campaign = db.session.scalar(select(Campaign).filter_by(code=code))
        for n in range(6):
            raw = _answers(campaign, 3 + n % 3)
            if n == 0:
                raw["comment"] = "Góp ý thử"
            answers = validate_answers(definition(campaign.questionnaire_version), raw)
            record_submission(
                db.session.connection(),
                uid=COMMENTED[code] if n == 0 else str(uuid.uuid4()),
                campaign=campaign,
                desk=campaign.desks[0],
                route="desk_qr",
                answers=answers,
                language="vi",
                submitted_at=dt.datetime(2026, 3, 1 + n, 10),
            )
        add_design(code)
    import_paper("STP-2026", [("1", "HT-STP-01")])
    import_paper("SXD-2026", [("1", "HT-SXD-01")])
    agencies = {"officer": "HT-STP", "viewer": "HT-STP"}
    # A cheap hash: this test is about access, the password hashing is tested elsewhere.
    fast = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    for role in ALL + ("khac",):
        agency = organisation.agency_by_code(agencies[role]) if role in agencies else None
        db.session.add(
            StaffUser(
                username=role,
                password_hash=fast,
                role="viewer" if role == "khac" else role,
                agency=agency
                or (organisation.agency_by_code("HT-SXD") if role == "khac" else None),
            )
        )
    db.session.commit()


def _call(client: FlaskClient, route: Route, records: dict[str, str]):  # type: ignore[no-untyped-def]
    path = route.path.format(**records)
    if route.method == "GET":
        return client.get(path)
    token_page = "/staff/" if _signed_in(client) else "/staff/login"
    data = {name: value.format(**records) for name, value in route.data.items()}
    return client.post(path, data={**data, "csrf_token": csrf_token(client, token_page)})


def _signed_in(client: FlaskClient) -> bool:
    return client.get("/staff/").status_code == 200


def _served(status: int, location: str | None) -> bool:
    return status not in (401, 403, 404) and not (location or "").startswith("/staff/login")


def _problems(app: Flask, route: Route, role: str) -> list[str]:
    """What is wrong with one role's access to one route (empty when all is right)."""
    client = app.test_client()
    if role == "anonymous":
        response = _call(client, route, OWN)
        if response.status_code != route.anonymous:
            return [f"anonymous: {response.status_code}, expected {route.anonymous}"]
        if route.anonymous == 302 and not response.headers["Location"].startswith(
            "/staff/login?next="
        ):
            return [f"anonymous: redirected to {response.headers['Location']}"]
        return []
    assert login(client, role).status_code == 302
    own = _call(client, route, OWN)
    if role not in route.roles:
        return [] if own.status_code == 403 else [f"{role}: {own.status_code}, expected 403"]
    problems = []
    if not _served(own.status_code, own.headers.get("Location")):
        problems.append(f"{role} own record: {own.status_code}, expected to be served")
    if route.scoped:
        other = _call(client, route, OTHER)
        if role in ("admin", "analyst"):
            if not _served(other.status_code, other.headers.get("Location")):
                problems.append(f"{role} other agency: {other.status_code}, expected served")
        elif other.status_code != 404:
            problems.append(f"{role} other agency: {other.status_code}, expected 404")
    return problems


@pytest.mark.parametrize("route", ROUTES, ids=str)
def test_route_serves_only_its_roles_and_only_their_records(app: Flask, route: Route) -> None:
    # One seeded database per route, a fresh client per role: every role x record is checked.
    with app.app_context():
        _seed()
    problems = [p for role in ALL + ("anonymous",) for p in _problems(app, route, role)]
    assert problems == []


def test_officer_sees_a_province_campaign_through_own_desks_only(
    app: Flask, client: FlaskClient
) -> None:
    with app.app_context():
        _seed()
        province = db.session.scalar(select(Campaign).filter_by(code="SIPAS-2025"))
        for desk in province.desks[:2]:
            answers = validate_answers(
                definition(province.questionnaire_version), _answers(province, 4)
            )
            record_submission(
                db.session.connection(),
                uid=str(uuid.uuid4()),
                campaign=province,
                desk=desk,
                route="desk_qr",
                answers=answers,
                language="vi",
                submitted_at=dt.datetime(2025, 4, 1),
            )
        db.session.commit()
    login(client, "officer")
    home = client.get("/staff/").get_data(as_text=True)
    assert "SIPAS-2025" in home and "STP-2026" in home and "SXD-2026" not in home
    assert "HT-SXD-01" not in home
    page = client.get("/staff/campaigns/SIPAS-2025").get_data(as_text=True)
    assert "Quầy Sở Tư pháp" in page and "Quầy Sở Xây dựng" not in page
    csv_text = client.get("/staff/campaigns/SIPAS-2025/responses.csv").data.decode("utf-8-sig")
    rows = csv_text.strip().splitlines()[1:]
    assert rows and all(",HT-STP-01,HT-STP," in row for row in rows)
