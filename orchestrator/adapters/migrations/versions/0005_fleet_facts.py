"""Fleet facts: the entry and time of a device's last firmware read, and its history.

`devices.firmware_entry` is the CPL entry a verified read-back confirmed (empty when the
running firmware was only observed as a version), `devices.read_at` when the running
firmware was last read from the device (11.2) or the DCC (8.2); `device_jobs.read_at` when
a job last read its device (an 11.3 needs a recent one); `fleet_events` records every
observation applied and every drift finding.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("firmware_entry", sa.String(64), nullable=True))
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("device_jobs") as batch:
        batch.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "fleet_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(23), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fleet_events_device", "fleet_events", ["device_id", "id"])
    op.create_index("ix_fleet_events_name", "fleet_events", ["name", "id"])


def downgrade() -> None:
    op.drop_index("ix_fleet_events_name", "fleet_events")
    op.drop_index("ix_fleet_events_device", "fleet_events")
    op.drop_table("fleet_events")
    with op.batch_alter_table("device_jobs") as batch:
        batch.drop_column("read_at")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("read_at")
        batch.drop_column("firmware_entry")
