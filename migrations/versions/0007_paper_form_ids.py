"""Paper forms by their number: the same forms are not stored twice from another file.

A paper import was refused again only when the file's bytes were the same (sha256): the
same forms re-saved in Excel, or with one more line break, were stored a second time.
Each imported form now leaves its number (số phiếu, the template's ``form_id`` column,
now required) in ``paper_forms``, UNIQUE per campaign and desk, written in the import's
transaction, so two racing imports of the same forms cannot both succeed.

Forms imported before carry no number (the column was optional and not kept): they get
no row, and their submissions and uids are left exactly as they are.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "paper_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("form_id", sa.String(length=64), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_paper_forms_campaign_id_campaigns")
        ),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_paper_forms_desk_id_desks")
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batches.id"],
            name=op.f("fk_paper_forms_import_batch_id_import_batches"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_forms")),
        sa.UniqueConstraint(
            "campaign_id", "desk_id", "form_id", name="campaign_desk_form"
        ),
    )
    op.create_index(op.f("ix_paper_forms_import_batch_id"), "paper_forms", ["import_batch_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_paper_forms_import_batch_id"), table_name="paper_forms")
    op.drop_table("paper_forms")
