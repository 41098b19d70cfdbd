"""The Alembic migrations build exactly the schema the models describe, and move data."""

import hashlib
import json
from collections.abc import Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask

from survey_app import migrate
from survey_app.extensions import db
from survey_app.models import Campaign, Desk, StaffUser, Submission
from survey_app.services import dossier_codes, staff_sessions, submissions
from tests.citizen_support import SMALL


def test_migrated_schema_has_no_drift_from_models(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    migrate.upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": migrate.not_a_partition}
        )
        assert compare_metadata(context, db.metadata) == []


def test_migrations_downgrade_to_empty_and_up_again(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    migrate.upgrade(app)
    with app.app_context():
        config = migrate.alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "base")
        with db.engine.connect() as connection:
            assert db.inspect(connection).get_table_names() == ["alembic_version"]
    migrate.upgrade(app)
    with app.app_context(), db.engine.connect() as connection:
        assert "submissions" in db.inspect(connection).get_table_names()


def _at(app: Flask, revision: str) -> None:
    with app.app_context():
        config = migrate.alembic_config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)


ANSWERS = sa.table(  # the answers table of revisions 0001-0002
    "answers",
    sa.column("submission_id", sa.Integer),
    sa.column("item_code", sa.String),
    sa.column("choice", sa.Integer),
    sa.column("number", sa.Numeric(18, 6)),
    sa.column("text", sa.Text),
)
ANSWER_ROWS = [  # (submission, item_code, choice, number, text) as revision 0002 stored them
    (1, "a", 1, None, None),
    (1, "why", 2, None, None),
    (1, "m", 3, None, None),
    (1, "m", 1, None, None),
    (1, "hours", None, Decimal("2.250000"), None),
    (1, "visits", None, Decimal("10.000000"), None),
    (1, "t", None, None, "12"),
    (2, "a", 2, None, None),
    (2, "m", 2, None, None),
    (3, "a", 9, None, None),
]
DOCUMENTS = {
    1: {"a": 1, "why": 2, "m": [1, 3], "hours": "2.25", "visits": "10", "t": "12"},
    2: {"a": 2, "m": [2]},  # one code of a multiple choice is still a list
    3: {"a": 9},
}


def _one_campaign(connection: sa.Connection) -> None:
    """Agency 1, desk 1, questionnaire version 1 (SMALL) and campaign 1, in plain SQL."""
    connection.execute(
        sa.text(
            "INSERT INTO agencies (id, code, name, kind) VALUES (1, 'HT', 'Hà Tĩnh', 'province')"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO desks (id, code, name, agency_id, public_id, active) "
            "VALUES (1, 'D1', 'Quầy 1', 1, 'p1', true)"
        )
    )
    connection.execute(
        sa.text(
            "INSERT INTO questionnaire_versions (id, questionnaire_id, version, title, "
            "content_hash, source, loaded_at) VALUES (1, 'small', '1', 'Phiếu nhỏ', 'h', :src, "
            "'2026-01-01')"
        ),
        {"src": SMALL},
    )
    connection.execute(
        sa.text(
            "INSERT INTO campaigns (id, code, name, agency_id, questionnaire_version_id, "
            "starts_on, ends_on, settings) VALUES (1, 'C', 'C', 1, 1, '2026-01-01', "
            "'2026-12-31', '{}')"
        )
    )


def test_migration_0003_moves_answer_rows_into_documents_and_back(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    migrate.upgrade(app, "0002")
    # The digests that revision 0002's code stored: sha256 of the canonical answers.
    digests = {
        sid: hashlib.sha256(
            json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
        ).hexdigest()
        for sid, doc in DOCUMENTS.items()
    }
    with app.app_context(), db.engine.begin() as connection:
        _one_campaign(connection)
        for sid in DOCUMENTS:
            connection.execute(
                sa.text(
                    "INSERT INTO submissions (id, uid, receipt, campaign_id, desk_id, "
                    "questionnaire_version_id, route, language, answers_digest, submitted_at) "
                    "VALUES (:id, :uid, :receipt, 1, 1, 1, 'desk_qr', 'vi', :digest, '2026-03-01')"
                ),
                {"id": sid, "uid": f"u{sid}", "receipt": f"R{sid}", "digest": digests[sid]},
            )
        connection.execute(
            ANSWERS.insert(),
            [
                dict(
                    zip(
                        ("submission_id", "item_code", "choice", "number", "text"), row, strict=True
                    )
                )
                for row in ANSWER_ROWS
            ],
        )

    migrate.upgrade(app)
    with app.app_context():
        stored = dict(db.session.execute(sa.select(Submission.id, Submission.answers)).all())
        assert stored == DOCUMENTS

    _at(app, "0002")
    with app.app_context(), db.engine.connect() as connection:
        rows = connection.execute(sa.select(ANSWERS)).all()
        back = dict(connection.execute(sa.text("SELECT id, answers_digest FROM submissions")).all())
    order = lambda row: (row[0], row[1], row[2] or 0)  # noqa: E731
    assert sorted(map(tuple, rows), key=order) == sorted(ANSWER_ROWS, key=order)
    assert back == digests


def test_migration_0005_adds_staff_sessions_and_removes_them_leaving_accounts(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app()
    migrate.upgrade(app, "0004")
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO staff_users (id, username, password_hash, role, active, created_at) "
                "VALUES (1, 'lan', 'x', 'analyst', true, '2026-01-01')"
            )
        )
    migrate.upgrade(app)
    with app.app_context():
        user = db.session.get(StaffUser, 1)
        token = staff_sessions.start(user)
        db.session.commit()
        assert staff_sessions.signed_in_user(token, "1") == (user, None)
    _at(app, "0004")
    with app.app_context(), db.engine.connect() as connection:
        assert "staff_sessions" not in db.inspect(connection).get_table_names()
        assert connection.execute(sa.text("SELECT username FROM staff_users")).scalar() == "lan"


def test_migration_0006_keys_the_stored_dossier_codes_once(make_app: Callable[..., Flask]) -> None:
    """Values stored for dossier codes before keyed codes (sha256, not keyed) become the
    keyed hashes the application recognises them by; other rows are left alone, and
    running the upgrade again after a downgrade keys nothing twice."""
    app = make_app(DOSSIER_CODE_KEY="key-of-this-instance")
    migrate.upgrade(app, "0005")
    unkeyed = {
        sid: hashlib.sha256(f"nonce{sid}\nD1\nHS-{sid}".encode()).hexdigest()[:32] for sid in (1, 2)
    }
    with app.app_context(), db.engine.begin() as connection:
        _one_campaign(connection)
        for sid, code in [*unkeyed.items(), (3, None)]:
            connection.execute(
                sa.text(
                    "INSERT INTO submissions (id, uid, receipt, campaign_id, desk_id, "
                    "questionnaire_version_id, route, dossier_code, language, answers, "
                    "submitted_at) VALUES (:id, :uid, :receipt, 1, 1, 1, :route, :code, 'vi', "
                    "'{}', '2026-03-01')"
                ),
                {
                    "id": sid,
                    "uid": f"u{sid}",
                    "receipt": f"R{sid}",
                    "route": "dossier" if code else "desk_qr",
                    "code": code,
                },
            )

    def stored() -> dict[int, str | None]:
        with app.app_context():
            return dict(db.session.execute(sa.select(Submission.id, Submission.dossier_code)).all())

    migrate.upgrade(app)
    with app.app_context():
        keyed = {sid: dossier_codes.legacy_stored_hash(code) for sid, code in unkeyed.items()}
    assert stored() == {**keyed, 3: None}
    assert all(len(code) == 64 and code not in unkeyed.values() for code in keyed.values())
    _at(app, "0005")
    assert stored() == {**keyed, 3: None}
    migrate.upgrade(app)
    assert stored() == {**keyed, 3: None}


def test_migration_0007_adds_paper_form_numbers_leaving_stored_paper_forms(
    make_app: Callable[..., Flask],
) -> None:
    """Forms imported before numbers were kept stay as they are (uid included); the new
    table holds one number per desk, and goes away on downgrade with nothing else."""
    app = make_app()
    migrate.upgrade(app, "0006")
    with app.app_context(), db.engine.begin() as connection:
        _one_campaign(connection)
        connection.execute(
            sa.text(
                "INSERT INTO import_batches (id, campaign_id, file_sha256, filename, row_count, "
                "imported_at) VALUES (1, 1, :sha, 'a.csv', 1, '2026-03-01')"
            ),
            {"sha": "0" * 64},
        )
        connection.execute(
            sa.text(
                "INSERT INTO submissions (id, uid, receipt, campaign_id, desk_id, "
                "questionnaire_version_id, route, language, answers, import_batch_id, "
                "submitted_at) VALUES (1, 'paper-uid', 'R1', 1, 1, 1, 'paper', 'vi', '{}', 1, "
                "'2026-03-01')"
            )
        )
    migrate.upgrade(app)
    insert = sa.text(
        "INSERT INTO paper_forms (campaign_id, desk_id, form_id, import_batch_id) "
        "VALUES (1, 1, '17', 1)"
    )
    with app.app_context(), db.engine.begin() as connection:
        assert connection.execute(sa.text("SELECT uid FROM submissions")).scalar() == "paper-uid"
        connection.execute(insert)
    with app.app_context(), db.engine.connect() as connection:
        try:
            connection.execute(insert)
        except sa.exc.IntegrityError:
            connection.rollback()
        else:
            raise AssertionError("a form number twice at a desk was stored")
    _at(app, "0006")
    with app.app_context(), db.engine.connect() as connection:
        assert "paper_forms" not in db.inspect(connection).get_table_names()
        assert connection.execute(sa.text("SELECT uid FROM submissions")).scalar() == "paper-uid"


def test_migration_0010_adds_sampling_keeping_issued_dossier_codes(
    make_app: Callable[..., Flask],
) -> None:
    """Codes issued before stay, with no inclusion probability (they were not drawn); the
    sampling tables enforce their invariants, and the downgrade removes only them."""
    app = make_app()
    migrate.upgrade(app, "0009")
    with app.app_context(), db.engine.begin() as connection:
        _one_campaign(connection)
        connection.execute(
            sa.text(
                "INSERT INTO dossier_codes (id, code_hash, desk_id, dossier_hash, issued_at, "
                "expires_at) VALUES (1, 'c1', 1, 'd1', '2026-03-01', '2026-04-01')"
            )
        )
    migrate.upgrade(app)
    sampled = sa.text(
        "INSERT INTO sampled_dossiers (campaign_id, dossier_hash, desk_id, procedure_field, "
        "channel, on_time, stratum, probability, returned_on, dossier_code_id, created_at) "
        "VALUES (1, :h, 1, 'Hộ tịch', 'desk', true, 'all', :p, '2026-03-01', 1, '2026-03-01')"
    )
    with app.app_context(), db.engine.begin() as connection:
        row = connection.execute(
            sa.text("SELECT code_hash, inclusion_probability FROM dossier_codes")
        ).one()
        assert tuple(row) == ("c1", None)
        connection.execute(sampled, {"h": "d1", "p": 0.25})
    for dossier, probability in (("d1", 0.25), ("d2", 0.0)):  # a dossier twice; p = 0
        with app.app_context(), db.engine.connect() as connection:
            try:
                connection.execute(sampled, {"h": dossier, "p": probability})
            except sa.exc.IntegrityError:
                connection.rollback()
            else:
                raise AssertionError(f"stored a sampled dossier with p={probability}")
    _at(app, "0009")
    with app.app_context(), db.engine.connect() as connection:
        tables = db.inspect(connection).get_table_names()
        assert "sampled_dossiers" not in tables and "dossier_events" not in tables
        columns = [c["name"] for c in db.inspect(connection).get_columns("dossier_codes")]
        assert "inclusion_probability" not in columns
        assert connection.execute(sa.text("SELECT code_hash FROM dossier_codes")).scalar() == "c1"


# (id, uid, receipt, campaign, route, dossier code, import batch) as revision 0012 stored them
ROWS_0012 = [
    (1, "u-qr-1", "RQR1", 1, "desk_qr", None, None),
    (2, "u-dossier-1", "RDOS1", 1, "dossier", "d-hash-1", None),
    (3, "u-paper-1", "RPAP1", 1, "paper", None, 1),
    (7, "u-qr-2", "RQR2", 2, "desk_qr", None, None),
    (8, "u-dossier-2", "RDOS2", 2, "dossier", "d-hash-2", None),
    (9, "u-paper-2", "RPAP2", 2, "paper", None, 2),
]


def _rows(connection: sa.Connection) -> list[tuple[object, ...]]:
    return [
        tuple(row)
        for row in connection.execute(
            sa.text(
                "SELECT id, uid, receipt, campaign_id, route, dossier_code, import_batch_id, "
                "answers FROM submissions ORDER BY id"
            )
        )
    ]


def test_migration_0013_partitions_submissions_keeping_every_row_and_back(
    make_app: Callable[..., Flask],
) -> None:
    """Rows of two campaigns by every route (QR, dossier code, paper) keep their ids, keys
    and answers; each key is claimed once; on PostgreSQL each campaign's rows are in its
    own partition and new ids continue the old sequence; a comment review follows its
    submission. The downgrade gives the plain table back with the same rows."""
    app = make_app()
    migrate.upgrade(app, "0012")
    with app.app_context(), db.engine.begin() as connection:
        _one_campaign(connection)
        connection.execute(
            sa.text(
                "INSERT INTO campaigns (id, code, name, agency_id, questionnaire_version_id, "
                "starts_on, ends_on, settings) VALUES (2, 'C2', 'C2', 1, 1, '2027-01-01', "
                "'2027-12-31', '{}')"
            )
        )
        for batch in (1, 2):
            connection.execute(
                sa.text(
                    "INSERT INTO import_batches (id, campaign_id, file_sha256, filename, "
                    "row_count, imported_at) VALUES (:b, :b, :sha, 'a.csv', 1, '2026-03-01')"
                ),
                {"b": batch, "sha": str(batch) * 64},
            )
        for sid, uid, receipt, campaign_id, route, code, batch in ROWS_0012:
            connection.execute(
                sa.text(
                    "INSERT INTO submissions (id, uid, receipt, campaign_id, desk_id, "
                    "questionnaire_version_id, route, dossier_code, language, answers, "
                    "import_batch_id, submitted_at) VALUES (:id, :uid, :receipt, :c, 1, 1, "
                    ":route, :code, 'vi', :answers, :batch, '2026-03-01')"
                ),
                {
                    "id": sid,
                    "uid": uid,
                    "receipt": receipt,
                    "c": campaign_id,
                    "route": route,
                    "code": code,
                    "answers": json.dumps({"a": sid}),
                    "batch": batch,
                },
            )
        connection.execute(
            sa.text(
                "INSERT INTO comment_reviews (submission_id, handled, note, updated_at) "
                "VALUES (8, true, 'đã xử lý', '2026-03-02')"
            )
        )
        before = _rows(connection)
    migrate.upgrade(app)
    with app.app_context(), db.engine.begin() as connection:
        assert _rows(connection) == before
        claims = connection.execute(
            sa.text(
                "SELECT id, campaign_id, uid, receipt, dossier_code FROM submission_keys "
                "ORDER BY id"
            )
        )
        assert [tuple(c) for c in claims] == [
            (sid, campaign_id, uid, receipt, code)
            for sid, uid, receipt, campaign_id, _, code, _ in ROWS_0012
        ]
        if connection.dialect.name == "postgresql":
            where = connection.execute(
                sa.text("SELECT tableoid::regclass::text, id FROM submissions ORDER BY id")
            )
            assert [tuple(w) for w in where] == [
                (f"submissions_c{campaign_id}", sid)
                for sid, _, _, campaign_id, _, _, _ in ROWS_0012
            ]
            leaves = connection.execute(
                sa.text(
                    "SELECT relid::regclass::text FROM pg_partition_tree('submissions') "
                    "WHERE isleaf ORDER BY 1"
                )
            ).scalars()
            assert list(leaves) == ["submissions_c1", "submissions_c2", "submissions_default"]
            # Deleting a claim deletes its submission and the submission's review.
            with connection.begin_nested() as undone:
                connection.execute(sa.text("DELETE FROM submission_keys WHERE id = 8"))
                left = connection.execute(
                    sa.text(
                        "SELECT (SELECT count(*) FROM comment_reviews), "
                        "(SELECT count(*) FROM submissions WHERE id = 8)"
                    )
                ).one()
                assert tuple(left) == (0, 0)
                undone.rollback()
    with app.app_context():
        second = db.session.get_one(Campaign, 2)
        desk = db.session.get_one(Desk, 1)

        def store(uid: str, answers: dict[str, int], code: str | None = None) -> object:
            return submissions.record_submission(
                db.session.connection(),
                uid=uid,
                campaign=second,
                desk=desk,
                route="dossier" if code else "desk_qr",
                answers=answers,
                language="vi",
                dossier_code=code,
            )

        # A retry of campaign 1's form arriving in campaign 2 stores nothing new.
        assert store("u-qr-1", {"a": 1}) == submissions.StoredSubmission(
            1, "u-qr-1", "RQR1", new=False
        )
        with pytest.raises(submissions.DossierCodeSpent):
            store("u-fresh", {"a": 2}, code="d-hash-1")
        fresh = store("u-fresh", {"a": 2})
        assert isinstance(fresh, submissions.StoredSubmission)
        # After every old id; PostgreSQL's sequence also moved on for the two refused claims.
        assert fresh.id == (12 if db.engine.dialect.name == "postgresql" else 10)
        db.session.commit()
        after = [
            *before,
            (fresh.id, "u-fresh", fresh.receipt, 2, "desk_qr", None, None, '{"a": 2}'),
        ]
    _at(app, "0012")
    with app.app_context(), db.engine.connect() as connection:
        assert "submission_keys" not in db.inspect(connection).get_table_names()
        got = _rows(connection)
        assert [row[:7] for row in got] == [row[:7] for row in after]
        assert [_answers(row[7]) for row in got] == [_answers(row[7]) for row in after]
        unique = {u["name"] for u in db.inspect(connection).get_unique_constraints("submissions")}
        assert {"uq_submissions_uid", "uq_submissions_receipt"} <= unique
        assert db.inspect(connection).get_pk_constraint("submissions")["constrained_columns"] == [
            "id"
        ]


def _answers(value: object) -> object:
    return json.loads(value) if isinstance(value, str) else value
