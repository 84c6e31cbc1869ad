"""Catalogue snapshots, the current-snapshot pointer and the entries of each snapshot.

Revision ID: 0001
Revises:
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_snapshots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cpl_source", sa.Text, nullable=False),
        sa.Column("fir_source", sa.Text, nullable=False),
        sa.Column("cpl_sheet", sa.String(200)),
        sa.Column("fir_sheet", sa.String(200)),
        sa.Column("cpl_file_sha256", sa.String(64), nullable=False),
        sa.Column("fir_file_sha256", sa.String(64), nullable=False),
        sa.Column("cpl_content_sha256", sa.String(64), nullable=False),
        sa.Column("fir_content_sha256", sa.String(64), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("cpl_rows", sa.Integer, nullable=False),
        sa.Column("fir_rows", sa.Integer, nullable=False),
        sa.Column("cpl_entries", sa.Integer, nullable=False),
        sa.Column("fir_entries", sa.Integer, nullable=False),
        sa.Column("problem_count", sa.Integer, nullable=False),
        sa.Column("problems", sa.JSON, nullable=False),
        sa.Column("diff", sa.JSON, nullable=False),
        sa.Column("previous_snapshot_id", sa.Integer, sa.ForeignKey("catalogue_snapshots.id")),
    )
    op.create_index("ix_catalogue_snapshots_content_hash", "catalogue_snapshots",
                    ["content_hash"])
    op.create_table(
        "catalogue_current",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("catalogue_snapshots.id"),
                  nullable=False),
    )
    op.create_table(
        "catalogue_entries",
        sa.Column("snapshot_id", sa.Integer,
                  sa.ForeignKey("catalogue_snapshots.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("cpl_entry_id", sa.String(64), primary_key=True),
        sa.Column("device_type", sa.String(16), nullable=False),
        sa.Column("manufacturer", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("hardware_version", sa.String(64), nullable=False),
        sa.Column("firmware_version", sa.String(64), nullable=False),
        sa.Column("image_hash", sa.String(64), nullable=False),
        sa.Column("gbcs_version", sa.String(32), nullable=False),
        sa.Column("han_variant", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("predecessors", sa.JSON),
        sa.Column("has_fir", sa.Boolean, nullable=False),
        sa.Column("contact_email", sa.Text, nullable=False),
        sa.Column("contact_telephone", sa.Text, nullable=False),
        sa.Column("contact_address", sa.Text, nullable=False),
        sa.Column("release_notes", sa.Text, nullable=False),
        sa.Column("zigbee_chipset_vendor", sa.Text, nullable=False),
        sa.Column("zigbee_stack_version", sa.Text, nullable=False),
        sa.Column("zigbee_band_join_option", sa.Text, nullable=False),
        sa.Column("extra", sa.JSON, nullable=False),
    )
    op.create_index("ix_catalogue_entries_hash", "catalogue_entries",
                    ["snapshot_id", "image_hash"])


def downgrade() -> None:
    op.drop_table("catalogue_entries")
    op.drop_table("catalogue_current")
    op.drop_table("catalogue_snapshots")
