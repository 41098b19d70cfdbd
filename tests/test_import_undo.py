"""Undoing a paper import batch: exactly its submissions and form numbers go, in one
transaction, audited with the counts; only its agency's officers or an administrator may;
the dashboard (and its caches) count without them at once."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import AuditEvent, Campaign, ImportBatch, PaperForm, Submission
from survey_app.services import analysis, paper_import
from tests.staff_support import (
    add_answers,
    add_user,
    csrf_token,
    import_paper,
    paper_csv,
    seed_province,
    sign_in,
)

CAMPAIGN = "STP-2026"
IMPORT = f"/staff/campaigns/{CAMPAIGN}/import"


@pytest.fixture
def batches(app: Flask) -> tuple[int, int]:
    """Sở Tư pháp's campaign: four citizen answers and two paper batches (3 and 2 forms)."""
    analysis.clear_caches()
    with app.app_context():
        seed_province()
        add_user("an", "officer", "HT-STP")
        add_user("binh", "officer", "HT-SXD")
        add_user("lan", "admin")
        add_user("ha", "analyst")
        add_user("xem", "viewer", "HT-STP")
        add_answers(CAMPAIGN, "HT-STP-01", *(dt.datetime(2026, 3, d, 9) for d in range(1, 5)))
        first = import_paper(CAMPAIGN, [("1", "HT-STP-01"), ("2", "HT-STP-01"), ("3", "HT-STP-01")])
        second = import_paper(CAMPAIGN, [("4", "HT-STP-01"), ("5", "HT-STP-01")], name="q.csv")
    return first, second


def _client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    sign_in(client, username)
    return client


def _undo(client: FlaskClient, batch: int, campaign: str = CAMPAIGN):  # type: ignore[no-untyped-def]
    url = f"/staff/campaigns/{campaign}/import/batches/{batch}/undo"
    return client.post(url, data={"csrf_token": csrf_token(client, "/staff/")})


def _counts(app: Flask) -> tuple[int, int, int]:
    """(submissions, paper forms, batches) of the campaign."""
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).filter_by(code=CAMPAIGN)).one()
        return (
            db.session.scalar(select(func.count()).where(Submission.campaign_id == campaign.id)),
            db.session.scalar(select(func.count()).where(PaperForm.campaign_id == campaign.id)),
            db.session.scalar(select(func.count()).where(ImportBatch.campaign_id == campaign.id)),
        )  # type: ignore[return-value]


def _dashboard_n(client: FlaskClient) -> int:
    page = client.get(f"/staff/campaigns/{CAMPAIGN}/dashboard").text
    match = re.search(r"n = (\d+) phiếu", page)
    assert match, page
    return int(match.group(1))


def test_undo_removes_exactly_that_batch_and_the_dashboards_n_drops(
    app: Flask, batches: tuple[int, int]
) -> None:
    first, second = batches
    an = _client(app, "an")
    assert _dashboard_n(an) == 9  # cached from here on
    assert _counts(app) == (9, 5, 2)
    page = an.get(IMPORT).text
    assert f"/staff/campaigns/{CAMPAIGN}/import/batches/{first}/undo" in page
    confirm = an.get(f"{IMPORT}/batches/{first}/undo")
    assert confirm.status_code == 200
    assert "Hoàn tác sẽ xoá hẳn 3 phiếu giấy và 3 số phiếu" in confirm.text
    assert _counts(app) == (9, 5, 2)  # the confirmation page deletes nothing

    done = _undo(an, first)
    assert done.status_code == 303 and done.headers["Location"] == IMPORT
    assert _counts(app) == (6, 2, 1)
    assert "Đã hoàn tác lần nhập tệp p.csv: đã xoá 3 phiếu giấy." in an.get(IMPORT).text
    with app.app_context():
        left = db.session.scalars(select(ImportBatch)).one()
        assert left.id == second
        routes = dict(
            db.session.execute(
                select(Submission.route, func.count()).group_by(Submission.route)
            ).all()
        )
        assert routes == {"desk_qr": 4, "paper": 2}
        event = db.session.scalars(select(AuditEvent).filter_by(action="import.paper.undo")).one()
        assert (event.username, event.target) == ("an", CAMPAIGN)
        assert event.detail["batch"] == first and event.detail["filename"] == "p.csv"
        assert event.detail["submissions"] == 3 and event.detail["forms"] == 3
    assert _dashboard_n(an) == 6
    # Undone, the same file may be imported again, and the same forms with it.
    with app.app_context():
        again = import_paper(CAMPAIGN, [("1", "HT-STP-01"), ("2", "HT-STP-01"), ("3", "HT-STP-01")])
    assert again and _counts(app) == (9, 5, 2)
    assert _dashboard_n(an) == 9
    # The batch undone is no more: a second undo is refused as unknown.
    assert _undo(an, first).status_code == 404


def test_only_the_batchs_agency_or_an_administrator_may_undo(
    app: Flask, batches: tuple[int, int]
) -> None:
    first, second = batches
    for username, status in (("ha", 403), ("xem", 403), ("binh", 404)):
        client = _client(app, username)
        assert client.get(f"{IMPORT}/batches/{first}/undo").status_code == status, username
        assert _undo(client, first).status_code == status, username
        assert "Hoàn tác…" not in client.get(IMPORT).text
    assert _counts(app) == (9, 5, 2)
    assert _undo(_client(app, "lan"), second).status_code == 303
    assert _counts(app) == (7, 3, 1)


def test_a_batch_reaching_another_agencys_desk_is_not_the_officers_to_undo(
    app: Flask, batches: tuple[int, int]
) -> None:
    with app.app_context():
        mixed = import_paper("SIPAS-2025", [("1", "HT-STP-01"), ("1", "HT-SXD-01")], "2025-06-01")
    an = _client(app, "an")
    assert an.get(f"/staff/campaigns/SIPAS-2025/import/batches/{mixed}/undo").status_code == 404
    assert _undo(an, mixed, "SIPAS-2025").status_code == 404
    # Nor under another campaign's address.
    assert _undo(_client(app, "lan"), mixed).status_code == 404
    assert _undo(_client(app, "lan"), mixed, "SIPAS-2025").status_code == 303


def test_without_the_csrf_token_nothing_is_deleted(app: Flask, batches: tuple[int, int]) -> None:
    an = _client(app, "an")
    response = an.post(f"{IMPORT}/batches/{batches[0]}/undo", data={})
    assert response.status_code in (200, 400)
    assert _counts(app) == (9, 5, 2)


def test_cached_responses_follow_rows_that_disappear_as_many_as_arrive(
    app: Flask, batches: tuple[int, int]
) -> None:
    """A batch undone and as many new forms imported since the last look: the count and the
    newest id alone would not tell; the cache must not keep the rows that went."""
    first, _ = batches
    with app.app_context():
        campaign = db.session.scalars(select(Campaign).filter_by(code=CAMPAIGN)).one()
        assert len(analysis.frames.get(campaign)) == 9
        from survey_app.services import paper_batches

        paper_batches.undo_batch(campaign, first, None)
        db.session.commit()
        body = paper_csv(
            CAMPAIGN, [("7", "HT-STP-01"), ("8", "HT-STP-01"), ("9", "HT-STP-01")], "2026-03-05"
        )
        paper_import.import_file(campaign, "r.csv", body)
        db.session.commit()
        frame = analysis.frames.get(campaign)
        stored = set(db.session.scalars(select(Submission.id).filter_by(campaign_id=campaign.id)))
        assert len(frame) == 9 and set(frame["submission_id"]) == stored
