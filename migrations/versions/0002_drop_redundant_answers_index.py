"""Drop ix_answers_submission_id: the UNIQUE (submission_id, item_code, choice) index serves.

Every submission writes about 40 answer rows; one index fewer per row is one write fewer.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_answers_submission_id", table_name="answers")


def downgrade() -> None:
    op.create_index("ix_answers_submission_id", "answers", ["submission_id"])
