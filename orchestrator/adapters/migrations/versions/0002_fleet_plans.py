"""The fleet inventory (devices) and stored plans (plans, plan_devices).

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(23), primary_key=True),
        sa.Column("device_type", sa.String(16), nullable=False),
        sa.Column("manufacturer", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("hardware_version", sa.String(64)),
        sa.Column("firmware_hash", sa.String(64)),
        sa.Column("firmware_version", sa.String(64)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("comms_hub_id", sa.String(23)),
        sa.Column("comms_hub_gbcs_version", sa.String(16)),
        sa.Column("han_variant", sa.String(64)),
        sa.Column("tags", sa.JSON, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_devices_model", "devices", ["manufacturer", "model"])
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("catalogue_snapshots.id"),
                  nullable=False),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("selection", sa.JSON, nullable=False),
        sa.Column("policy", sa.JSON, nullable=False),
        sa.Column("summary", sa.JSON, nullable=False),
        sa.Column("entries", sa.JSON, nullable=False),
        sa.Column("device_count", sa.Integer, nullable=False),
        sa.Column("stale", sa.Boolean, nullable=False),
        sa.Column("stale_reason", sa.Text),
        sa.Column("stale_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "plan_devices",
        sa.Column("plan_id", sa.Integer, sa.ForeignKey("plans.id", ondelete="CASCADE"),
                  primary_key=True),
        sa.Column("device_id", sa.String(23), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(32)),
        sa.Column("current_entry", sa.String(64)),
        sa.Column("target_entry", sa.String(64)),
        sa.Column("path", sa.JSON, nullable=False),
        sa.Column("next_action", sa.JSON, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("plan_devices")
    op.drop_table("plans")
    op.drop_index("ix_devices_model", "devices")
    op.drop_table("devices")
