"""Dossier codes become short random codes kept server-side (mã đánh giá theo hồ sơ).

A dossier code was a signed token of about 60 characters carrying the desk and a keyed
hash of the dossier: too long to type, and the same dossier gave the same hash in every
code. A code is now ten random characters a person can type; what it stands for is a row
of ``dossier_codes``: a keyed hash of the code (whoever reads the database cannot answer
with it), the desk, the keyed hash of the dossier that a submission through it stores in
``submissions.dossier_code`` (one dossier, one answer, as before), and the expiry.

Codes printed before stay answerable until they expire without any row (they are signed),
so this adds a table and moves no data; the downgrade drops it, and the short codes issued
in between stop working.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dossier_codes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("dossier_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_dossier_codes_desk_id_desks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_dossier_codes_code_hash")),
    )
    op.create_index(op.f("ix_dossier_codes_desk_id"), "dossier_codes", ["desk_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_dossier_codes_desk_id"), table_name="dossier_codes")
    op.drop_table("dossier_codes")
