"""Dossier events through the signed one-stop API: signed, checked, stored once (also when
retried at the same time), counted in the frame, and returned dossiers selected with
their code, slip and inclusion probability."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from survey_app import localtime
from survey_app.extensions import db
from survey_app.models import DossierCode, DossierEvent, FrameCell, SampledDossier
from survey_app.services import dossier_codes, dossier_events
from tests.sampling_support import (
    API_SECRET,
    event,
    post_ok,
    seed_sampling,
    set_design,
    signed_post,
    vietnam_today,
)
from tests.test_posters import decode_qr_codes


@pytest.fixture
def api_app(make_app) -> Flask:  # type: ignore[no-untyped-def]
    app = make_app(ONESTOP_API_SECRET=API_SECRET)
    with app.app_context():
        db.create_all()
    seed_sampling(app)
    return app


def _count(app: Flask, model: type) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _cells(app: Flask) -> list[tuple[str, str, bool, int, int]]:
    with app.app_context():
        rows = db.session.scalars(select(FrameCell).order_by(FrameCell.id)).all()
        return [(c.desk.code, c.channel, c.on_time, c.returned, c.selected) for c in rows]


# --------------------------------------------------------------------------- signatures


def test_events_need_a_valid_signature(api_app: Flask) -> None:
    client = api_app.test_client()
    unsigned = client.post("/api/v1/dossier-events", json=event("HS-1"))
    assert unsigned.status_code == 401
    assert "X-Signature" in unsigned.get_json()["error"]
    forged = signed_post(client, event("HS-1"), secret="not-the-secret")
    assert forged.status_code == 401 and forged.get_json() == {"error": "bad signature"}
    assert _count(api_app, DossierEvent) == 0


def test_events_are_unavailable_without_a_configured_secret(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    with app.app_context():
        db.create_all()
    response = signed_post(app.test_client(), event("HS-1"))
    assert response.status_code == 503


# --------------------------------------------------------------------------- bad fields


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "lost"}, '"kind" must be "received" or "returned"'),
        ({"channel": "post"}, '"channel" must be "online" or "desk"'),
        ({"dossier": ""}, '"dossier" must be a non-empty string'),
        ({"dossier": "X" * 65}, '"dossier" is longer than 64 characters'),
        ({"dossier": "HS\x00-1"}, '"dossier" holds a character that is not allowed'),
        ({"procedure_field": 7}, '"procedure_field" must be a non-empty string'),
        ({"procedure_field": "Hộ tịch | Chứng thực"}, '"procedure_field" may not hold "|"'),
        ({"received_on": "03/12/2026"}, '"received_on" must be a date YYYY-MM-DD'),
        ({"returned_on": "2026-02-30"}, '"returned_on" must be a date YYYY-MM-DD'),
        ({"returned_on": "2099-01-01"}, '"returned_on" is in the future (2099-01-01)'),
        ({"on_time": "yes"}, '"on_time" must be true or false'),
        ({"colour": "red"}, "unknown field(s) colour"),
    ],
)
def test_a_bad_field_is_refused_in_english_and_nothing_is_stored(
    api_app: Flask, change: dict[str, Any], message: str
) -> None:
    response = signed_post(api_app.test_client(), {**event("HS-1"), **change})
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert _count(api_app, DossierEvent) == 0


def test_returned_before_received_and_returned_fields_on_a_received_event_are_refused(
    api_app: Flask,
) -> None:
    client = api_app.test_client()
    early = event("HS-1", received_on=vietnam_today().isoformat(), days_ago=3)
    assert signed_post(client, early).get_json() == {
        "error": '"returned_on" is before "received_on"'
    }
    received = event("HS-1", "received", on_time=True)
    received["on_time"] = True
    assert "belongs to a returned event" in signed_post(client, received).get_json()["error"]


def test_a_bad_event_in_a_list_names_it_and_stores_none_of_the_list(api_app: Flask) -> None:
    response = signed_post(
        api_app.test_client(), [event("HS-1"), event("HS-2", channel="fax"), event("HS-3")]
    )
    assert response.status_code == 400
    assert response.get_json()["error"] == 'event 1: "channel" must be "online" or "desk"'
    assert _count(api_app, DossierEvent) == 0


def test_a_body_that_is_no_event_and_an_unknown_desk_are_refused(api_app: Flask) -> None:
    client = api_app.test_client()
    for body in ("a string", [], 12):
        response = signed_post(client, body)
        assert response.status_code == 400
        assert response.get_json()["error"].startswith("body must be a JSON event")
    unknown = signed_post(client, [event("HS-1"), event("HS-2", desk="NOPE")])
    assert unknown.status_code == 404
    assert "NOPE" in unknown.get_json()["error"]
    assert _count(api_app, DossierEvent) == 0 and _count(api_app, FrameCell) == 0


# --------------------------------------------------------------------------- storing and frame


def test_received_then_returned_stores_both_without_the_dossier_number(api_app: Flask) -> None:
    client = api_app.test_client()
    received = post_ok(client, event("000.00.23.H23-260101-0001", "received"))
    assert received == {"kind": "received", "campaign": None, "selected": False}
    assert _cells(api_app) == []  # a dossier enters the frame when it is returned
    returned = post_ok(client, event("000.00.23.H23-260101-0001"))
    assert returned == {"kind": "returned", "campaign": "C", "selected": False}
    assert _cells(api_app) == [("TP-1", "desk", True, 1, 0)]
    with api_app.app_context():
        stored = db.session.scalars(select(DossierEvent).order_by(DossierEvent.id)).all()
        assert [e.kind for e in stored] == ["received", "returned"]
        expected = dossier_codes.stored_hash("000.00.23.H23-260101-0001")
        assert {e.dossier_hash for e in stored} == {expected}
        assert stored[1].on_time is True and stored[0].returned_on is None
        for row in stored:
            assert "H23-260101" not in repr(vars(row))


def test_a_returned_dossier_outside_every_campaign_is_stored_but_not_counted(
    api_app: Flask,
) -> None:
    answer = post_ok(api_app.test_client(), event("HS-1", desk="OUT"))
    assert answer == {"kind": "returned", "campaign": None, "selected": False}
    assert _count(api_app, DossierEvent) == 1 and _cells(api_app) == []


def test_frame_counts_returned_dossiers_per_desk_field_channel_and_timeliness(
    api_app: Flask,
) -> None:
    post_ok(
        api_app.test_client(),
        [
            event("HS-1"),
            event("HS-2"),
            event("HS-3", on_time=False),
            event("HS-4", channel="online"),
            event("HS-5", desk="XD-1", field="Xây dựng"),
        ],
    )
    assert sorted(_cells(api_app)) == [
        ("TP-1", "desk", False, 1, 0),
        ("TP-1", "desk", True, 2, 0),
        ("TP-1", "online", True, 1, 0),
        ("XD-1", "desk", True, 1, 0),
    ]


# --------------------------------------------------------------------------- idempotency


def test_a_retried_event_stores_nothing_new_and_gets_the_same_answer(api_app: Flask) -> None:
    set_design(api_app, default_probability=1)
    client = api_app.test_client()
    first = post_ok(client, event("HS-1"))
    assert first["selected"] is True
    again = post_ok(client, event("HS-1"))
    assert again == first
    in_list = post_ok(client, [event("HS-2"), event("HS-1")])
    assert in_list[1] == first
    assert _count(api_app, DossierEvent) == 2
    assert _count(api_app, SampledDossier) == 2 and _count(api_app, DossierCode) == 2
    assert _cells(api_app) == [("TP-1", "desk", True, 2, 2)]


def test_a_retried_event_with_other_details_is_refused(api_app: Flask) -> None:
    client = api_app.test_client()
    post_ok(client, event("HS-1"))
    response = signed_post(client, event("HS-1", on_time=False))
    assert response.status_code == 409
    assert "already recorded with other details" in response.get_json()["error"]
    assert _cells(api_app) == [("TP-1", "desk", True, 1, 0)]


def _at_once(app: Flask, bodies: list[dict[str, Any]]) -> list[tuple[int, Any]]:
    """Post each body from its own thread (its own connection), the requests' INSERTs held
    back until every request has parsed its event, so that they race."""
    barrier = threading.Barrier(len(bodies), timeout=10)
    real = dossier_events._event_key

    def key_together(dossier_ref: str, kind: str) -> str:
        barrier.wait()
        return real(dossier_ref, kind)

    answers: list[tuple[int, Any]] = []

    def post(body: dict[str, Any]) -> None:
        response = signed_post(app.test_client(), body)
        answers.append((response.status_code, response.get_json()))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dossier_events, "_event_key", key_together)
        threads = [threading.Thread(target=post, args=(body,)) for body in bodies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    return answers


@pytest.mark.parametrize("method", ["poisson", "systematic"])
def test_concurrent_retries_of_one_event_store_it_once_and_answer_alike(
    api_app: Flask, method: str, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers: the race is PostgreSQL's")
    set_design(api_app, method=method, default_probability=1)
    answers = _at_once(api_app, [event("HS-RACE")] * 4)
    assert len(answers) == 4
    assert {status for status, _ in answers} == {200}
    assert all(answer == answers[0][1] for _, answer in answers)
    assert answers[0][1]["selected"] is True
    assert _count(api_app, DossierEvent) == 1 and _count(api_app, SampledDossier) == 1
    assert _count(api_app, DossierCode) == 1
    assert _cells(api_app) == [("TP-1", "desk", True, 1, 1)]


def test_concurrent_events_of_a_systematic_stratum_are_counted_one_by_one(
    api_app: Flask, database_url: str
) -> None:
    """Six dossiers of one stratum (the agency P-TP) in six frame cells at once: each must
    read the stratum's count with the others' dossiers in it. Were they counted side by
    side, each would see k = 1, and all or none would be selected."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers: the race is PostgreSQL's")
    set_design(api_app, method="systematic", strata=["agency"], default_probability=0.5)
    cells = [
        (desk, channel, on_time)
        for desk in ("TP-1", "TP-2")
        for channel in ("desk", "online")
        for on_time in (True, False)
    ][:6]
    bodies = [
        event(f"HS-{n}", desk=desk, channel=channel, on_time=on_time)
        for n, (desk, channel, on_time) in enumerate(cells)
    ]
    answers = _at_once(api_app, bodies)
    assert [status for status, _ in answers] == [200] * 6
    # Six dossiers at pi = 1/2: floor(s + 6/2) - floor(s) = 3 whatever the start s.
    assert sum(answer["selected"] for _, answer in answers) == 3
    assert sum(selected for *_, selected in _cells(api_app)) == 3
    assert _count(api_app, SampledDossier) == 3


# --------------------------------------------------------------------------- selection answer


def test_a_selected_dossier_gets_its_code_slip_and_inclusion_probability(
    api_app: Flask,
) -> None:
    set_design(api_app, strata=["agency"], probabilities={"P-TP": 1.0}, default_probability=0.25)
    answer = post_ok(api_app.test_client(), event("HS-1", channel="online"))
    assert answer["selected"] is True and answer["campaign"] == "C"
    assert answer["stratum"] == "P-TP" and answer["inclusion_probability"] == 1.0
    assert answer["url"] == "http://survey.test/c/" + answer["code"]
    assert decode_qr_codes(answer["qr_svg"], width_px=400) == [answer["url"]]
    assert answer["instruction"].startswith("Quét mã QR")
    with api_app.app_context():
        claim = dossier_codes.verify(answer["code"])
        assert claim.code == dossier_codes.stored_hash("HS-1")
        code_row = db.session.scalars(select(DossierCode)).one()
        assert code_row.inclusion_probability == 1.0
        sampled = db.session.scalars(select(SampledDossier)).one()
        assert (sampled.stratum, sampled.probability, sampled.channel) == ("P-TP", 1.0, "online")
        assert sampled.dossier_code_id == code_row.id and sampled.disposition is None
        assert sampled.dossier_hash == claim.code
        assert sampled.returned_on == localtime.today() - dt.timedelta(days=1)
        last_day = localtime.to_local(code_row.expires_at - dt.timedelta(seconds=1)).date()
    assert answer["last_day"] == last_day.isoformat()


def test_an_unselected_dossier_is_told_so_and_gets_no_code(api_app: Flask) -> None:
    set_design(api_app, strata=["desk"], probabilities={"TP-1": 1.0, "XD-1": 0.000001})
    answer = post_ok(api_app.test_client(), event("HS-1", desk="XD-1", field="Xây dựng"))
    assert answer == {"kind": "returned", "campaign": "C", "selected": False}
    assert _count(api_app, DossierCode) == 0 and _count(api_app, SampledDossier) == 0
    assert _cells(api_app) == [("XD-1", "desk", True, 1, 0)]
