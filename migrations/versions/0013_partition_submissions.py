"""Submissions partitioned by campaign on PostgreSQL; their unique keys claimed apart.

PostgreSQL wants the partition key in every unique constraint of a partitioned table, so
``submissions`` gets the primary key (campaign_id, id) and loses its UNIQUE uid, receipt
and dossier_code, which move to the unpartitioned claims table ``submission_keys`` (one
row per submission: its id, campaign, uid, receipt and dossier code, each UNIQUE in the
whole database; see ``models.SubmissionKey``). The claims table allocates the ids from
now on: its sequence continues the old one. ``comment_reviews.submission_id`` refers to
the claim, whose id is the submission's; the row refers to its claim ((campaign_id, id),
ON DELETE CASCADE): deleting a claim deletes its submission and review. ``ix_submissions_campaign_id`` (campaign_id, id) goes: the new primary
key is that very index.

PostgreSQL: a new partitioned table, one partition per existing campaign and a default
one, every row copied with its id, the claims filled from the rows, the names swapped;
all in the migration's one transaction. SQLite: the same keys on the plain table
(recreated), and the claims table filled.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

ANSWERS_JSON = sa.JSON().with_variant(JSONB(), "postgresql")
COLUMNS = (
    "id, campaign_id, uid, receipt, desk_id, questionnaire_version_id, route, dossier_code, "
    "language, answers, client_hash, import_batch_id, submitted_at"
)
KEYS = "id, campaign_id, uid, receipt, dossier_code"
# Indexes named the same on the old and the new table, renamed out of the way meanwhile.
OLD_INDEXES = (
    "pk_submissions",
    "uq_submissions_uid",
    "uq_submissions_receipt",
    "uq_submissions_dossier_code",
    "ix_submissions_campaign_id",
    "ix_submissions_desk_id",
)
NEW_INDEXES = ("pk_submissions", "ix_submissions_desk_id")


def _submission_columns(*, serial_id: bool) -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=serial_id),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("receipt", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("route", sa.String(length=16), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("answers", ANSWERS_JSON, nullable=False),
        sa.Column("client_hash", sa.String(length=32), nullable=True),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=False),
    ]


def _submission_constraints() -> list[sa.Constraint]:
    """The checks and foreign keys both shapes of the table have."""
    return [
        sa.CheckConstraint(
            "(route = 'dossier') = (dossier_code IS NOT NULL)",
            name=op.f("ck_submissions_dossier_code_iff_route"),
        ),
        sa.CheckConstraint(
            "route IN ('desk_qr', 'dossier', 'paper')", name=op.f("ck_submissions_route_known")
        ),
        sa.CheckConstraint(
            "jsonb_typeof(answers) = 'object'", name=op.f("ck_submissions_answers_object")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_submissions_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_submissions_desk_id_desks")
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_submissions_import_batch_id_import_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"],
            ["questionnaire_versions.id"],
            name=op.f("fk_submissions_questionnaire_version_id_questionnaire_versions"),
        ),
    ]


def _create_submission_keys() -> None:
    op.create_table(
        "submission_keys",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.String(length=36), nullable=False),
        sa.Column("receipt", sa.String(length=16), nullable=False),
        sa.Column("dossier_code", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submission_keys")),
        sa.UniqueConstraint("campaign_id", "id", name="campaign_submission"),
        sa.UniqueConstraint("uid", name=op.f("uq_submission_keys_uid")),
        sa.UniqueConstraint("receipt", name=op.f("uq_submission_keys_receipt")),
        sa.UniqueConstraint("dossier_code", name=op.f("uq_submission_keys_dossier_code")),
    )


def _review_refers_to(old: str, new: str) -> None:
    """Point ``comment_reviews.submission_id`` from ``old``'s id to ``new``'s, ON DELETE
    CASCADE (SQLite: the table recreated)."""
    with op.batch_alter_table("comment_reviews") as batch:
        batch.drop_constraint(f"fk_comment_reviews_submission_id_{old}", type_="foreignkey")
        batch.create_foreign_key(
            f"fk_comment_reviews_submission_id_{new}",
            new,
            ["submission_id"],
            ["id"],
            ondelete="CASCADE",
        )


def _continue_sequence(old: str, new: str, table: str) -> None:
    """Start sequence ``new`` after the last value of ``old`` and every id of ``table``."""
    bind = op.get_bind()
    last, called = bind.execute(sa.text(f"SELECT last_value, is_called FROM {old}")).one()
    highest = bind.scalar(sa.text(f"SELECT max(id) FROM {table}")) or 0
    done = max(last if called else last - 1, highest)
    if done > 0:
        bind.execute(sa.text("SELECT setval(:seq, :done, true)"), {"seq": new, "done": done})


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
        return
    _create_submission_keys()
    op.execute(f"INSERT INTO submission_keys ({KEYS}) SELECT {KEYS} FROM submissions")
    with op.batch_alter_table("submissions", recreate="always") as batch:
        batch.drop_index("ix_submissions_campaign_id")
        for key in ("uid", "receipt", "dossier_code"):
            batch.drop_constraint(f"uq_submissions_{key}", type_="unique")
        batch.drop_constraint("pk_submissions", type_="primary")
        batch.create_primary_key("pk_submissions", ["campaign_id", "id"])
        batch.create_foreign_key(
            "fk_submissions_claim",
            "submission_keys",
            ["campaign_id", "id"],
            ["campaign_id", "id"],
            ondelete="CASCADE",
        )
    _review_refers_to("submissions", "submission_keys")


def _upgrade_postgresql() -> None:
    bind = op.get_bind()
    op.drop_constraint(
        "fk_comment_reviews_submission_id_submissions", "comment_reviews", type_="foreignkey"
    )
    op.rename_table("submissions", "submissions_old")
    for index in OLD_INDEXES:
        op.execute(f"ALTER INDEX {index} RENAME TO {index}_old")
    _create_submission_keys()
    op.execute(f"INSERT INTO submission_keys ({KEYS}) SELECT {KEYS} FROM submissions_old")
    # The claims allocate ids from now on, where the old sequence left off (or past the
    # highest id, for rows stored with ids of their own).
    _continue_sequence("submissions_id_seq", "submission_keys_id_seq", "submissions_old")
    op.create_table(
        "submissions",
        *_submission_columns(serial_id=False),
        *_submission_constraints(),
        sa.PrimaryKeyConstraint("campaign_id", "id", name=op.f("pk_submissions")),
        sa.ForeignKeyConstraint(
            ["campaign_id", "id"],
            ["submission_keys.campaign_id", "submission_keys.id"],
            name="fk_submissions_claim",
            ondelete="CASCADE",
        ),
        postgresql_partition_by="LIST (campaign_id)",
    )
    op.create_index(op.f("ix_submissions_desk_id"), "submissions", ["desk_id"])
    op.execute("CREATE TABLE submissions_default PARTITION OF submissions DEFAULT")
    for (campaign_id,) in bind.execute(sa.text("SELECT id FROM campaigns ORDER BY id")):
        op.execute(
            f"CREATE TABLE submissions_c{int(campaign_id)} PARTITION OF submissions "
            f"FOR VALUES IN ({int(campaign_id)})"
        )
    op.execute(f"INSERT INTO submissions ({COLUMNS}) SELECT {COLUMNS} FROM submissions_old")
    op.create_foreign_key(
        "fk_comment_reviews_submission_id_submission_keys",
        "comment_reviews",
        "submission_keys",
        ["submission_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.drop_table("submissions_old")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _downgrade_postgresql()
        return
    _review_refers_to("submission_keys", "submissions")
    with op.batch_alter_table("submissions", recreate="always") as batch:
        batch.drop_constraint("fk_submissions_claim", type_="foreignkey")
        batch.drop_constraint("pk_submissions", type_="primary")
        batch.create_primary_key("pk_submissions", ["id"])
        for key in ("uid", "receipt", "dossier_code"):
            batch.create_unique_constraint(f"uq_submissions_{key}", [key])
        batch.create_index("ix_submissions_campaign_id", ["campaign_id", "id"])
    op.drop_table("submission_keys")


def _downgrade_postgresql() -> None:
    op.drop_constraint(
        "fk_comment_reviews_submission_id_submission_keys", "comment_reviews", type_="foreignkey"
    )
    op.rename_table("submissions", "submissions_part")
    for index in NEW_INDEXES:
        op.execute(f"ALTER INDEX {index} RENAME TO {index}_part")
    op.create_table(
        "submissions",
        *_submission_columns(serial_id=True),
        *_submission_constraints(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_submissions")),
        sa.UniqueConstraint("dossier_code", name=op.f("uq_submissions_dossier_code")),
        sa.UniqueConstraint("receipt", name=op.f("uq_submissions_receipt")),
        sa.UniqueConstraint("uid", name=op.f("uq_submissions_uid")),
    )
    op.create_index("ix_submissions_campaign_id", "submissions", ["campaign_id", "id"])
    op.create_index(op.f("ix_submissions_desk_id"), "submissions", ["desk_id"])
    op.execute(f"INSERT INTO submissions ({COLUMNS}) SELECT {COLUMNS} FROM submissions_part")
    _continue_sequence("submission_keys_id_seq", "submissions_id_seq", "submissions_part")
    op.drop_table("submissions_part")  # with its partitions
    op.drop_table("submission_keys")
    op.create_foreign_key(
        "fk_comment_reviews_submission_id_submissions",
        "comment_reviews",
        "submissions",
        ["submission_id"],
        ["id"],
        ondelete="CASCADE",
    )
