"""Comment reviews (xử lý góp ý): a respondent's comment marked handled, with the note of
the official who marked or un-marked it last.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "comment_reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_comment_reviews_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["staff_users.id"], name=op.f("fk_comment_reviews_user_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comment_reviews")),
        sa.UniqueConstraint("submission_id", name=op.f("uq_comment_reviews_submission_id")),
    )


def downgrade() -> None:
    op.drop_table("comment_reviews")
