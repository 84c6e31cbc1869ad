"""SQLAlchemy Core tables of the catalogue: its snapshots, the current pointer and entries."""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        Boolean,
                        Column,
                        DateTime,
                        ForeignKey,
                        Index,
                        Integer,
                        String,
                        Table,
                        Text,
)

from orchestrator.adapters.metadata import metadata

catalogue_snapshots = Table(
    "catalogue_snapshots", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("cpl_source", Text, nullable=False),
    Column("fir_source", Text, nullable=False),
    Column("cpl_sheet", String(200)),
    Column("fir_sheet", String(200)),
    Column("cpl_file_sha256", String(64), nullable=False),
    Column("fir_file_sha256", String(64), nullable=False),
    Column("cpl_content_sha256", String(64), nullable=False),
    Column("fir_content_sha256", String(64), nullable=False),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("cpl_rows", Integer, nullable=False),
    Column("fir_rows", Integer, nullable=False),
    Column("cpl_entries", Integer, nullable=False),
    Column("fir_entries", Integer, nullable=False),
    Column("problem_count", Integer, nullable=False),
    Column("problems", JSON, nullable=False),
    Column("diff", JSON, nullable=False),
    Column("previous_snapshot_id", Integer, ForeignKey("catalogue_snapshots.id")),
)

catalogue_current = Table(
    "catalogue_current", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("snapshot_id", Integer, ForeignKey("catalogue_snapshots.id"), nullable=False),
)

catalogue_entries = Table(
    "catalogue_entries", metadata,
    Column("snapshot_id", Integer, ForeignKey("catalogue_snapshots.id", ondelete="CASCADE"),
           primary_key=True),
    Column("cpl_entry_id", String(64), primary_key=True),
    Column("device_type", String(16), nullable=False),
    Column("manufacturer", String(64), nullable=False),
    Column("model", String(64), nullable=False),
    Column("hardware_version", String(64), nullable=False),
    Column("firmware_version", String(64), nullable=False),
    Column("image_hash", String(64), nullable=False),
    Column("gbcs_version", String(32), nullable=False),
    Column("han_variant", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("predecessors", JSON),
    Column("has_fir", Boolean, nullable=False),
    Column("contact_email", Text, nullable=False),
    Column("contact_telephone", Text, nullable=False),
    Column("contact_address", Text, nullable=False),
    Column("release_notes", Text, nullable=False),
    Column("zigbee_chipset_vendor", Text, nullable=False),
    Column("zigbee_stack_version", Text, nullable=False),
    Column("zigbee_band_join_option", Text, nullable=False),
    Column("extra", JSON, nullable=False),
    Index("ix_catalogue_entries_hash", "snapshot_id", "image_hash"),
)
