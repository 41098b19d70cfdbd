"""What became of an invitation, reported through the signed API: stored on the selected
dossier (audited, idempotent, all of a list or none), refused for a dossier not selected
or already answered, and read by the response rates (AAPOR: ineligible dossiers leave the
denominators, unknown ones count at the known dossiers' eligible share)."""

from __future__ import annotations

import math
import uuid

import pytest
from flask import Flask
from sqlalchemy import select

from survey_app.extensions import db
from survey_app.models import AuditEvent, SampledDossier, utcnow
from survey_app.services import dossier_codes, organisation
from survey_app.services.sample_estimates import campaign_rates
from survey_app.services.submissions import insert_rows
from tests.sampling_support import (
    API_SECRET,
    event,
    post_ok,
    seed_sampling,
    set_design,
    signed_post,
)

PATH = "/api/v1/dossier-dispositions"
DOSSIERS = [f"HS-{k}" for k in range(1, 7)]


@pytest.fixture
def api_app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    """Campaign C takes every returned dossier (probability 1): HS-1..HS-6 at desk TP-1."""
    app = make_app(ONESTOP_API_SECRET=API_SECRET)
    with app.app_context():
        db.create_all()
    seed_sampling(app)
    set_design(app, default_probability=1.0)
    answers = post_ok(app.test_client(), [event(d) for d in DOSSIERS])
    assert all(a["selected"] for a in answers)
    return app


def _send(app: Flask, payload: object) -> tuple[int, object]:
    response = signed_post(app.test_client(), payload, path=PATH)
    return response.status_code, response.get_json()


def _stored(app: Flask) -> dict[str, str | None]:
    with app.app_context():
        hashes = {dossier_codes.stored_hash(d): d for d in DOSSIERS}
        rows = db.session.scalars(select(SampledDossier)).all()
        return {hashes[r.dossier_hash]: r.disposition for r in rows}


def _answer(app: Flask, dossier: str) -> None:
    """A citizen answers the survey through the dossier's code."""
    with app.app_context():
        campaign = organisation.campaign_by_code("C")
        desk = organisation.desk_by_code("TP-1")
        uid = str(uuid.uuid4())
        insert_rows(
            db.session.connection(),
            [
                {
                    "uid": uid,
                    "receipt": uid.replace("-", "")[:16],
                    "campaign_id": campaign.id,
                    "desk_id": desk.id,
                    "questionnaire_version_id": campaign.questionnaire_version_id,
                    "route": "dossier",
                    "dossier_code": dossier_codes.stored_hash(dossier),
                    "language": "vi",
                    "answers": {"a": 2},
                    "client_hash": None,
                    "import_batch_id": None,
                    "submitted_at": utcnow(),
                }
            ],
        )
        db.session.commit()


def test_dispositions_need_a_valid_signature(api_app: Flask) -> None:
    client = api_app.test_client()
    assert client.post(PATH, json={"dossier": "HS-1", "disposition": "unknown"}).status_code == 401
    forged = signed_post(
        client, {"dossier": "HS-1", "disposition": "unknown"}, secret="x", path=PATH
    )
    assert forged.status_code == 401
    assert _stored(api_app)["HS-1"] is None


def test_a_disposition_is_stored_audited_replaced_and_cleared(api_app: Flask) -> None:
    status, body = _send(api_app, {"dossier": "HS-1", "disposition": "not_delivered"})
    assert status == 200 and body == {"campaign": "C", "disposition": "not_delivered"}
    assert _send(api_app, {"dossier": "HS-1", "disposition": "not_delivered"})[0] == 200
    assert _stored(api_app)["HS-1"] == "not_delivered"
    assert _send(api_app, {"dossier": " HS-1 ", "disposition": "ineligible"})[0] == 200
    assert _stored(api_app)["HS-1"] == "ineligible"
    assert _send(api_app, {"dossier": "HS-1", "disposition": "delivered"})[0] == 200
    assert _stored(api_app)["HS-1"] is None
    with api_app.app_context():
        events = db.session.scalars(
            select(AuditEvent).filter_by(action="sampling.disposition").order_by(AuditEvent.id)
        ).all()
        # The repeated report changed nothing and is not audited; no dossier number is kept.
        assert [(e.detail["before"], e.detail["after"]) for e in events] == [
            ("delivered", "not_delivered"),
            ("not_delivered", "ineligible"),
            ("ineligible", "delivered"),
        ]
        assert all("HS-1" not in str(e.detail) for e in events)


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        ({"dossier": "HS-1", "disposition": "refused"}, 400, '"disposition" must be one of'),
        ({"dossier": "HS-1"}, 400, '"disposition" must be one of'),
        ({"dossier": "", "disposition": "unknown"}, 400, '"dossier" must be a non-empty'),
        ({"dossier": "HS-1", "disposition": "unknown", "x": 1}, 400, "unknown field(s) x"),
        ("HS-1", 400, "body must be JSON"),
        ([], 400, "body must be JSON"),
        ({"dossier": "HS-99", "disposition": "unknown"}, 404, "not selected"),
    ],
)
def test_bad_reports_are_refused_with_a_reason(
    api_app: Flask, payload: object, status: int, message: str
) -> None:
    got, body = _send(api_app, payload)
    assert got == status and isinstance(body, dict) and message in body["error"], body


def test_a_list_is_stored_whole_or_not_at_all(api_app: Flask) -> None:
    status, body = _send(
        api_app,
        [
            {"dossier": "HS-1", "disposition": "ineligible"},
            {"dossier": "HS-99", "disposition": "unknown"},
        ],
    )
    assert status == 404 and body["error"].startswith("disposition 1: ")  # type: ignore[index]
    assert _stored(api_app)["HS-1"] is None
    status, body = _send(
        api_app,
        [
            {"dossier": "HS-1", "disposition": "ineligible"},
            {"dossier": "HS-2", "disposition": "unknown"},
        ],
    )
    assert status == 200 and [b["disposition"] for b in body] == ["ineligible", "unknown"]  # type: ignore[union-attr]


def test_an_answered_dossier_keeps_its_answer(api_app: Flask) -> None:
    _answer(api_app, "HS-3")
    status, body = _send(api_app, {"dossier": "HS-3", "disposition": "not_delivered"})
    assert status == 409 and "answered" in body["error"]  # type: ignore[index]
    assert _stored(api_app)["HS-3"] is None


def test_the_response_rates_read_the_dispositions(api_app: Flask) -> None:
    """Six invited: two answered, one ineligible, one unknown, one not delivered, one no
    answer. By AAPOR's definitions (README): RR1 = 2 / (6 - 1); RR3 counts the unknown at
    the known dossiers' eligible share e = 4/5; COOP1 = 2 / 3 delivered; CON1 = 3 / 5."""
    _answer(api_app, "HS-1")
    _answer(api_app, "HS-2")
    status, _ = _send(
        api_app,
        [
            {"dossier": "HS-3", "disposition": "ineligible"},
            {"dossier": "HS-4", "disposition": "unknown"},
            {"dossier": "HS-5", "disposition": "not_delivered"},
        ],
    )
    assert status == 200
    with api_app.app_context():
        overall = campaign_rates(organisation.campaign_by_code("C"), None).overall
    assert overall is not None
    assert (overall.invited, overall.ineligible, overall.unknown) == (6, 1, 1)
    assert (overall.delivered, overall.answered) == (3, 2)
    assert math.isclose(overall.rr1, 2 / 5)
    assert math.isclose(overall.rr3, 2 / (4 + 4 / 5 * 1))
    assert math.isclose(overall.coop1, 2 / 3)
    assert math.isclose(overall.con1, 3 / 5)
