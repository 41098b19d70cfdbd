"""Remediation plans (kế hoạch khắc phục): a campaign's plan per agency scope, one row per
weak criterion with its starting index, target, tasks, lead unit, deadline and status.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "remediation_plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name=op.f("fk_remediation_plans_agency_id_agencies")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_remediation_plans_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remediation_plans")),
        sa.UniqueConstraint("campaign_id", "agency_id", name="campaign_scope"),
    )
    op.create_index(op.f("ix_remediation_plans_agency_id"), "remediation_plans", ["agency_id"])
    op.create_table(
        "remediation_plan_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("criterion", sa.String(length=64), nullable=False),
        sa.Column("criterion_label", sa.String(length=500), nullable=False),
        sa.Column("group_code", sa.String(length=64), nullable=False),
        sa.Column("group_label", sa.String(length=500), nullable=False),
        sa.Column("baseline_estimate", sa.Double(), nullable=True),
        sa.Column("baseline_ci_low", sa.Double(), nullable=True),
        sa.Column("baseline_ci_high", sa.Double(), nullable=True),
        sa.Column("baseline_n", sa.Integer(), nullable=False),
        sa.Column("target", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("tasks", sa.Text(), nullable=False),
        sa.Column("lead_agency_id", sa.Integer(), nullable=False),
        sa.Column("cooperating", sa.Text(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "target >= 0 AND target <= 100", name=op.f("ck_remediation_plan_rows_target_percent")
        ),
        sa.CheckConstraint(
            "status IN ('todo', 'doing', 'done')",
            name=op.f("ck_remediation_plan_rows_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["lead_agency_id"],
            ["agencies.id"],
            name=op.f("fk_remediation_plan_rows_lead_agency_id_agencies"),
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["remediation_plans.id"],
            name=op.f("fk_remediation_plan_rows_plan_id_remediation_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_remediation_plan_rows")),
        sa.UniqueConstraint("plan_id", "criterion", name="plan_criterion"),
    )
    op.create_index(op.f("ix_remediation_plan_rows_plan_id"), "remediation_plan_rows", ["plan_id"])
    op.create_index(
        op.f("ix_remediation_plan_rows_lead_agency_id"),
        "remediation_plan_rows",
        ["lead_agency_id"],
    )


def downgrade() -> None:
    op.drop_table("remediation_plan_rows")
    op.drop_table("remediation_plans")
