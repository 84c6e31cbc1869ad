"""Campaigns, device jobs, their events and counters, request counters, pacing, inbound.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=True),
    sa.Column('scheduled_for', sa.DateTime(timezone=True), nullable=True),
    sa.Column('current_wave', sa.Integer(), nullable=False),
    sa.Column('wave_count', sa.Integer(), nullable=False),
    sa.Column('pause_reason', sa.Text(), nullable=False),
    sa.Column('acknowledged', sa.JSON(), nullable=False),
    sa.Column('device_count', sa.Integer(), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=True),
    sa.Column('plan_id', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=True),
    sa.Column('request_id', sa.String(length=80), nullable=True),
    sa.Column('device_id', sa.String(length=23), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('sha256')
    )
    op.create_index('ix_inbound_status', 'inbound_messages', ['status', 'id'], unique=False)
    op.create_table('job_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=23), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('from_state', sa.String(length=32), nullable=False),
    sa.Column('to_state', sa.String(length=32), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(length=64), nullable=False),
    sa.Column('request_id', sa.String(length=80), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_job_events_campaign', 'job_events', ['campaign_id', 'id'], unique=False)
    op.create_index('ix_job_events_device', 'job_events', ['device_id', 'id'], unique=False)
    op.create_table('pacing_windows',
    sa.Column('sr_type', sa.String(length=8), nullable=False),
    sa.Column('window', sa.BigInteger(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sr_type', 'window')
    )
    op.create_table('request_counters',
    sa.Column('originator', sa.String(length=23), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('originator')
    )
    op.create_table('sent_requests',
    sa.Column('request_id', sa.String(length=80), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('sr_type', sa.String(length=8), nullable=False),
    sa.Column('command_variant', sa.Integer(), nullable=False),
    sa.Column('entry', sa.String(length=64), nullable=True),
    sa.Column('device_count', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('response_code', sa.String(length=16), nullable=True),
    sa.PrimaryKeyConstraint('request_id')
    )
    op.create_index('ix_sent_requests_campaign', 'sent_requests', ['campaign_id', 'sr_type'], unique=False)
    op.create_table('campaign_counters',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('wave', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('campaign_id', 'wave', 'state')
    )
    op.create_table('campaign_events',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_campaign_events_campaign', 'campaign_events', ['campaign_id', 'id'], unique=False)
    op.create_table('device_jobs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.String(length=23), nullable=False),
    sa.Column('wave', sa.Integer(), nullable=False),
    sa.Column('path', sa.JSON(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False),
    sa.Column('entry', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=32), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deadline_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('request_id', sa.String(length=80), nullable=True),
    sa.Column('failure', sa.String(length=64), nullable=True),
    sa.Column('ppmid', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_device_jobs_deadline', 'device_jobs', ['state', 'deadline_at'], unique=False)
    op.create_index('ix_device_jobs_device', 'device_jobs', ['device_id'], unique=False)
    op.create_index('ix_device_jobs_due', 'device_jobs', ['campaign_id', 'state', 'due_at'], unique=False)
    op.create_index('ix_device_jobs_request', 'device_jobs', ['request_id'], unique=False)
    op.create_index('ux_device_jobs_campaign_device', 'device_jobs', ['campaign_id', 'device_id'], unique=True)


def downgrade() -> None:
    op.drop_index('ux_device_jobs_campaign_device', table_name='device_jobs')
    op.drop_index('ix_device_jobs_request', table_name='device_jobs')
    op.drop_index('ix_device_jobs_due', table_name='device_jobs')
    op.drop_index('ix_device_jobs_device', table_name='device_jobs')
    op.drop_index('ix_device_jobs_deadline', table_name='device_jobs')
    op.drop_table('device_jobs')
    op.drop_index('ix_campaign_events_campaign', table_name='campaign_events')
    op.drop_table('campaign_events')
    op.drop_table('campaign_counters')
    op.drop_index('ix_sent_requests_campaign', table_name='sent_requests')
    op.drop_table('sent_requests')
    op.drop_table('request_counters')
    op.drop_table('pacing_windows')
    op.drop_index('ix_job_events_device', table_name='job_events')
    op.drop_index('ix_job_events_campaign', table_name='job_events')
    op.drop_table('job_events')
    op.drop_index('ix_inbound_status', table_name='inbound_messages')
    op.drop_table('inbound_messages')
    op.drop_table('campaigns')
