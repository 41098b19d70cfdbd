"""Probability samples of dossiers: the sampling design of a campaign, the frame of returned
dossiers as counts, the dossiers selected, and the one-stop software's dossier events.

``dossier_events`` holds what the one-stop software reported (received, returned), with the
dossier number only as a keyed hash; ``sampling_frame_cells`` counts the returned dossiers
of a running campaign per desk, procedure field, channel and timeliness, and how many were
selected; ``sampled_dossiers`` is one row per selected (invited) dossier with its stratum
and inclusion probability, which ``dossier_codes.inclusion_probability`` also records with
the code issued to it. Nothing existing moves; the downgrade drops the new tables and
column.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dossier_codes", sa.Column("inclusion_probability", sa.Double(), nullable=True))
    op.create_table(
        "sampling_designs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("strata", sa.JSON(), nullable=False),
        sa.Column("probabilities", sa.JSON(), nullable=False),
        sa.Column("default_probability", sa.Double(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("nonresponse_classes", sa.JSON(), nullable=False),
        sa.Column("calibration", sa.JSON(), nullable=True),
        sa.Column("trim", sa.JSON(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "method IN ('poisson', 'systematic')", name=op.f("ck_sampling_designs_method_known")
        ),
        sa.CheckConstraint(
            "default_probability > 0 AND default_probability <= 1",
            name=op.f("ck_sampling_designs_probability_range"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_sampling_designs_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["staff_users.id"],
            name=op.f("fk_sampling_designs_updated_by_id_staff_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sampling_designs")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_sampling_designs_campaign_id")),
    )
    op.create_table(
        "sampling_frame_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("procedure_field", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("selected", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('online', 'desk')", name=op.f("ck_sampling_frame_cells_channel_known")
        ),
        sa.CheckConstraint(
            "selected >= 0 AND selected <= returned",
            name=op.f("ck_sampling_frame_cells_selected_of_returned"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_sampling_frame_cells_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_sampling_frame_cells_desk_id_desks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sampling_frame_cells")),
        sa.UniqueConstraint(
            "campaign_id", "desk_id", "procedure_field", "channel", "on_time", name="frame_cell"
        ),
    )
    op.create_index(op.f("ix_sampling_frame_cells_desk_id"), "sampling_frame_cells", ["desk_id"])
    op.create_table(
        "sampled_dossiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("dossier_hash", sa.String(length=64), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("procedure_field", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("stratum", sa.String(length=255), nullable=False),
        sa.Column("probability", sa.Double(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=False),
        sa.Column("dossier_code_id", sa.Integer(), nullable=True),
        sa.Column("disposition", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('online', 'desk')", name=op.f("ck_sampled_dossiers_channel_known")
        ),
        sa.CheckConstraint(
            "probability > 0 AND probability <= 1",
            name=op.f("ck_sampled_dossiers_probability_range"),
        ),
        sa.CheckConstraint(
            "disposition IN ('not_delivered', 'ineligible', 'unknown')",
            name=op.f("ck_sampled_dossiers_disposition_known"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_sampled_dossiers_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_sampled_dossiers_desk_id_desks")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_code_id"],
            ["dossier_codes.id"],
            name=op.f("fk_sampled_dossiers_dossier_code_id_dossier_codes"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sampled_dossiers")),
        sa.UniqueConstraint("campaign_id", "dossier_hash", name="campaign_dossier"),
    )
    op.create_index(op.f("ix_sampled_dossiers_desk_id"), "sampled_dossiers", ["desk_id"])
    op.create_table(
        "dossier_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("dossier_hash", sa.String(length=64), nullable=False),
        sa.Column("desk_id", sa.Integer(), nullable=False),
        sa.Column("procedure_field", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("returned_on", sa.Date(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('received', 'returned')", name=op.f("ck_dossier_events_kind_known")
        ),
        sa.CheckConstraint(
            "channel IN ('online', 'desk')", name=op.f("ck_dossier_events_channel_known")
        ),
        sa.CheckConstraint(
            "(kind = 'returned') = (returned_on IS NOT NULL AND on_time IS NOT NULL)",
            name=op.f("ck_dossier_events_returned_fields"),
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_dossier_events_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["desk_id"], ["desks.id"], name=op.f("fk_dossier_events_desk_id_desks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_events")),
        sa.UniqueConstraint("event_key", name=op.f("uq_dossier_events_event_key")),
    )
    op.create_index(op.f("ix_dossier_events_campaign_id"), "dossier_events", ["campaign_id"])
    op.create_index(op.f("ix_dossier_events_dossier_hash"), "dossier_events", ["dossier_hash"])
    op.create_index(op.f("ix_dossier_events_desk_id"), "dossier_events", ["desk_id"])


def downgrade() -> None:
    op.drop_table("dossier_events")
    op.drop_table("sampled_dossiers")
    op.drop_table("sampling_frame_cells")
    op.drop_table("sampling_designs")
    with op.batch_alter_table("dossier_codes") as batch:
        batch.drop_column("inclusion_probability")
