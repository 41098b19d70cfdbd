"""Submissions partitioned by campaign (PostgreSQL), keys unique in the whole database.

The uid, receipt and dossier code of a submission are claimed in ``submission_keys``, so a
form's id or a dossier stays answerable once even when the two requests name different
campaigns (a desk's campaign changed between a form's steps and its retry).
"""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from survey_app.connections import in_autocommit
from survey_app.extensions import db
from survey_app.models import Campaign, Desk, Submission, SubmissionKey
from survey_app.services import organisation, questionnaires, submissions
from survey_app.services.desk_surveys import CampaignRef
from survey_app.services.submissions import (
    DossierCodeSpent,
    StoredSubmission,
    record_submission,
    submission_by_receipt,
)
from tests.citizen_support import SMALL


@pytest.fixture
def two_campaigns(app: Flask, tmp_path: Path) -> dict[str, int]:
    """Campaigns C1 (desk D1) and C2 (desk D2), both running, made by the service."""
    path = tmp_path / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    today = dt.date.today()
    with app.app_context():
        questionnaires.load_file(path)
        organisation.add_agency("P", "Tỉnh", "province")
        ids = {}
        for n in (1, 2):
            desk = organisation.add_desk(f"D{n}", f"Quầy {n}", "P")
            campaign = organisation.add_campaign(
                f"C{n}", f"Đợt {n}", "P", "small", "1", today, today + dt.timedelta(9), [f"D{n}"]
            )
            ids[f"desk{n}"], ids[f"campaign{n}"] = desk.id, campaign.id
        db.session.commit()
    return ids


def _store(
    connection: sa.Connection,
    ids: dict[str, int],
    n: int,
    uid: str,
    *,
    dossier_code: str | None = None,
) -> StoredSubmission:
    return record_submission(
        connection,
        uid=uid,
        campaign=db.session.get_one(Campaign, ids[f"campaign{n}"]),
        desk=db.session.get_one(Desk, ids[f"desk{n}"]),
        route="dossier" if dossier_code else "desk_qr",
        answers={"a": 2},
        language="vi",
        dossier_code=dossier_code,
    )


def _at_once(app: Flask, ids: dict[str, int], calls: list[dict[str, object]]) -> list[object]:
    """Each call stored by a thread of its own, on a connection of its own in autocommit
    (as the citizen form stores), all released together; what each returned or raised."""
    barrier = threading.Barrier(len(calls), timeout=10)
    results: list[object] = [None] * len(calls)

    def run(k: int) -> None:
        with app.app_context():
            n = int(str(calls[k]["campaign"]))
            code = calls[k].get("dossier_code")

            def work(connection: sa.Connection) -> StoredSubmission:
                barrier.wait()
                return _store(
                    connection,
                    ids,
                    n,
                    str(calls[k]["uid"]),
                    dossier_code=str(code) if code else None,
                )

            try:
                results[k] = in_autocommit(work)
            except Exception as error:
                results[k] = error

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_the_same_uid_sent_at_once_to_two_campaigns_is_stored_once(
    app: Flask, two_campaigns: dict[str, int]
) -> None:
    """A form's retry arriving after its desk's campaign changed: the claim of the uid,
    unique in the whole database, lets one campaign's row in and ends the other on it."""
    uid = submissions.new_uid()
    results = _at_once(
        app, two_campaigns, [{"campaign": 1, "uid": uid}, {"campaign": 2, "uid": uid}]
    )
    assert all(isinstance(r, StoredSubmission) for r in results), results
    stored = [r for r in results if isinstance(r, StoredSubmission)]
    assert sorted(r.new for r in stored) == [False, True]
    assert stored[0].id == stored[1].id and stored[0].receipt == stored[1].receipt
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1
        assert db.session.scalars(sa.select(SubmissionKey.uid)).all() == [uid]


def test_the_same_dossier_code_spent_at_once_in_two_campaigns_is_stored_once(
    app: Flask, two_campaigns: dict[str, int]
) -> None:
    """Two forms (two uids) answering one dossier through two campaigns at the same moment:
    one is stored, the other is told the code is spent."""
    code = "d" * 64
    results = _at_once(
        app,
        two_campaigns,
        [
            {"campaign": 1, "uid": submissions.new_uid(), "dossier_code": code},
            {"campaign": 2, "uid": submissions.new_uid(), "dossier_code": code},
        ],
    )
    assert sorted(type(r).__name__ for r in results) == ["DossierCodeSpent", "StoredSubmission"]
    assert any(isinstance(r, DossierCodeSpent) for r in results)
    with app.app_context():
        rows = db.session.execute(sa.select(Submission.dossier_code, Submission.route)).all()
        assert [tuple(r) for r in rows] == [(code, "dossier")]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SubmissionKey)) == 1


def test_a_receipt_is_found_without_its_campaign_and_its_row_keeps_its_keys(
    app: Flask, two_campaigns: dict[str, int]
) -> None:
    with app.app_context():
        first = _store(db.session.connection(), two_campaigns, 1, submissions.new_uid())
        second = _store(db.session.connection(), two_campaigns, 2, submissions.new_uid())
        db.session.commit()
        found = submission_by_receipt(second.receipt)
        assert found is not None and found.campaign.code == "C2" and found.uid == second.uid
        claims = db.session.execute(
            sa.select(SubmissionKey.id, SubmissionKey.campaign_id, SubmissionKey.receipt).order_by(
                SubmissionKey.id
            )
        ).all()
        assert [tuple(c) for c in claims] == [
            (first.id, two_campaigns["campaign1"], first.receipt),
            (second.id, two_campaigns["campaign2"], second.receipt),
        ]


def test_on_postgresql_each_campaign_has_a_partition_holding_its_rows(
    app: Flask, two_campaigns: dict[str, int]
) -> None:
    """``submissions`` is partitioned by campaign: a partition per campaign made with it,
    and the default one, which takes the rows of a campaign inserted without the ORM."""
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name != "postgresql":
            pytest.skip("SQLite keeps a plain table")
        c1, c2 = two_campaigns["campaign1"], two_campaigns["campaign2"]
        for n in (1, 2, 2):
            _store(connection, two_campaigns, n, submissions.new_uid())
        connection.execute(
            sa.text(
                "INSERT INTO campaigns (id, code, name, agency_id, questionnaire_version_id, "
                "starts_on, ends_on, settings) SELECT 99, 'RAW', 'raw', agency_id, "
                "questionnaire_version_id, starts_on, ends_on, '{}' FROM campaigns WHERE id = :c"
            ),
            {"c": c1},
        )
        version = db.session.get_one(Campaign, c1).questionnaire_version_id
        record_submission(
            connection,
            uid=submissions.new_uid(),
            campaign=CampaignRef(99, "RAW", "raw", version),
            desk=db.session.get_one(Desk, two_campaigns["desk1"]),
            route="desk_qr",
            answers={"a": 1},
            language="vi",
        )
        db.session.commit()
        kind = db.session.scalar(
            sa.text("SELECT relkind FROM pg_class WHERE oid = 'submissions'::regclass")
        )
        assert kind == "p"
        key = db.session.scalar(sa.text("SELECT pg_get_partkeydef('submissions'::regclass)"))
        assert key == "LIST (campaign_id)"
        children = db.session.execute(
            sa.text(
                "SELECT inhrelid::regclass::text, "
                "pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits "
                "JOIN pg_class c ON c.oid = inhrelid "
                "WHERE inhparent = 'submissions'::regclass ORDER BY 1"
            )
        ).all()
        assert [tuple(c) for c in children] == [
            (f"submissions_c{c1}", f"FOR VALUES IN ({c1})"),
            (f"submissions_c{c2}", f"FOR VALUES IN ({c2})"),
            ("submissions_default", "DEFAULT"),
        ]
        where = db.session.execute(
            sa.text(
                "SELECT tableoid::regclass::text, campaign_id, count(*) FROM submissions "
                "GROUP BY 1, 2 ORDER BY 2"
            )
        ).all()
        assert [tuple(w) for w in where] == [
            (f"submissions_c{c1}", c1, 1),
            (f"submissions_c{c2}", c2, 2),
            ("submissions_default", 99, 1),
        ]
        leaves = db.session.scalars(
            sa.text("SELECT count(*) FROM pg_partition_tree('submissions') WHERE isleaf")
        ).one()
        assert leaves == 3
