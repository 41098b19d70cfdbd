"""Initial schema: agencies, desks, questionnaires, campaigns, submissions, staff, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['parent_id'], ['agencies.id'], name=op.f('fk_agencies_parent_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('code', name=op.f('uq_agencies_code'))
    )
    op.create_index(op.f('ix_agencies_parent_id'), 'agencies', ['parent_id'])

    op.create_table('questionnaire_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_id', sa.String(length=64), nullable=False),
    sa.Column('version', sa.String(length=32), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('loaded_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_versions')),
    sa.UniqueConstraint('questionnaire_id', 'version', name='questionnaire_version')
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_campaigns_period_order')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_campaigns_agency_id_agencies')),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_versions.id'], name=op.f('fk_campaigns_questionnaire_version_id_questionnaire_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns')),
    sa.UniqueConstraint('code', name=op.f('uq_campaigns_code'))
    )
    op.create_index(op.f('ix_campaigns_agency_id'), 'campaigns', ['agency_id'])

    op.create_table('desks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('public_id', sa.String(length=32), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_desks_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desks')),
    sa.UniqueConstraint('code', name=op.f('uq_desks_code')),
    sa.UniqueConstraint('public_id', name=op.f('uq_desks_public_id'))
    )
    op.create_index(op.f('ix_desks_agency_id'), 'desks', ['agency_id'])

    op.create_table('staff_users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role != 'officer' OR agency_id IS NOT NULL", name=op.f('ck_staff_users_officer_has_agency')),
    sa.CheckConstraint("role IN ('admin', 'analyst', 'officer', 'viewer')", name=op.f('ck_staff_users_role_known')),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_staff_users_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_users_username'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=255), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], name=op.f('fk_audit_events_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    op.create_index(op.f('ix_audit_events_at'), 'audit_events', ['at'])

    op.create_table('campaign_desks',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_desks_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_campaign_desks_desk_id_desks')),
    sa.PrimaryKeyConstraint('campaign_id', 'desk_id', name=op.f('pk_campaign_desks'))
    )
    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_import_batches_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['imported_by_id'], ['staff_users.id'], name=op.f('fk_import_batches_imported_by_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches')),
    sa.UniqueConstraint('campaign_id', 'file_sha256', name='campaign_file')
    )
    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=36), nullable=False),
    sa.Column('receipt', sa.String(length=16), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('desk_id', sa.Integer(), nullable=False),
    sa.Column('questionnaire_version_id', sa.Integer(), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('dossier_code', sa.String(length=64), nullable=True),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('answers_digest', sa.String(length=64), nullable=False),
    sa.Column('client_hash', sa.String(length=32), nullable=True),
    sa.Column('import_batch_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("(route = 'dossier') = (dossier_code IS NOT NULL)", name=op.f('ck_submissions_dossier_code_iff_route')),
    sa.CheckConstraint("route IN ('desk_qr', 'dossier', 'paper')", name=op.f('ck_submissions_route_known')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_submissions_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['desk_id'], ['desks.id'], name=op.f('fk_submissions_desk_id_desks')),
    sa.ForeignKeyConstraint(['import_batch_id'], ['import_batches.id'], name=op.f('fk_submissions_import_batch_id_import_batches')),
    sa.ForeignKeyConstraint(['questionnaire_version_id'], ['questionnaire_versions.id'], name=op.f('fk_submissions_questionnaire_version_id_questionnaire_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('dossier_code', name=op.f('uq_submissions_dossier_code')),
    sa.UniqueConstraint('receipt', name=op.f('uq_submissions_receipt')),
    sa.UniqueConstraint('uid', name=op.f('uq_submissions_uid'))
    )
    op.create_index('ix_submissions_campaign_submitted', 'submissions', ['campaign_id', 'submitted_at'])
    op.create_index(op.f('ix_submissions_desk_id'), 'submissions', ['desk_id'])

    op.create_table('answers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('item_code', sa.String(length=64), nullable=False),
    sa.Column('choice', sa.Integer(), nullable=True),
    sa.Column('number', sa.Numeric(precision=18, scale=6), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.CheckConstraint('(CASE WHEN choice IS NULL THEN 0 ELSE 1 END) + (CASE WHEN number IS NULL THEN 0 ELSE 1 END) + (CASE WHEN text IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_answers_one_value')),
    sa.CheckConstraint('choice >= 0 AND choice <= 999', name=op.f('ck_answers_choice_code_range')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_answers_submission_id_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answers')),
    sa.UniqueConstraint('submission_id', 'item_code', 'choice', name='submission_item_choice')
    )
    op.create_index(op.f('ix_answers_submission_id'), 'answers', ['submission_id'])


def downgrade() -> None:
    op.drop_table('answers')
    op.drop_table('submissions')
    op.drop_table('import_batches')
    op.drop_table('campaign_desks')
    op.drop_table('audit_events')
    op.drop_table('staff_users')
    op.drop_table('desks')
    op.drop_table('campaigns')
    op.drop_table('questionnaire_versions')
    op.drop_table('agencies')
