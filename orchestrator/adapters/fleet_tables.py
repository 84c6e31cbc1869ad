"""SQLAlchemy Core tables of the fleet inventory, its history, stored plans and forecasts
(0002, 0005, 0009)."""
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

devices = Table(
    "devices", metadata,
    Column("device_id", String(23), primary_key=True),
    Column("device_type", String(16), nullable=False),
    Column("manufacturer", String(64), nullable=False),
    Column("model", String(64), nullable=False),
    Column("hardware_version", String(64)),
    Column("firmware_hash", String(64)),
    Column("firmware_version", String(64)),
    Column("status", String(32), nullable=False),
    Column("comms_hub_id", String(23)),
    Column("comms_hub_gbcs_version", String(16)),
    Column("han_variant", String(64)),
    Column("tags", JSON, nullable=False),
    Column("source", Text, nullable=False),
    Column("observed_at", DateTime(timezone=True), nullable=False),
    Column("firmware_entry", String(64)),  # the CPL entry a verified read-back confirmed
    Column("read_at", DateTime(timezone=True)),  # last firmware read (11.2 / 8.2)
    Index("ix_devices_model", "manufacturer", "model"),
    sqlite_with_rowid=False,  # clustered by device ID: ordered scans read sequentially
)

plans = Table(
    "plans", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("snapshot_id", Integer, ForeignKey("catalogue_snapshots.id"), nullable=False),
    Column("target", String(64), nullable=False),
    Column("selection", JSON, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("entries", JSON, nullable=False),
    Column("device_count", Integer, nullable=False),
    Column("stale", Boolean, nullable=False),
    Column("stale_reason", Text),
    Column("stale_at", DateTime(timezone=True)),
)

plan_devices = Table(
    "plan_devices", metadata,
    Column("plan_id", Integer, ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True),
    Column("device_id", String(23), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(32)),
    Column("current_entry", String(64)),
    Column("target_entry", String(64)),
    Column("path", JSON, nullable=False),
    Column("next_action", JSON, nullable=False),
    sqlite_with_rowid=False,
)

fleet_events = Table(
    "fleet_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(23), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),  # when the fact was observed
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("name", String(64), nullable=False),
    Column("source", String(64), nullable=False),
    Column("campaign_id", Integer),
    Column("message_id", Integer),
    Column("data", JSON, nullable=False),
    Index("ix_fleet_events_device", "device_id", "id"),
    Index("ix_fleet_events_name", "name", "id"),
)

# A compliance forecast: a dry run of the whole plannable fleet on its simulated twin.
fleet_forecasts = Table(
    "fleet_forecasts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("made_at", DateTime(timezone=True), nullable=False),
    Column("made_by", String(64), nullable=False),
    Column("snapshot_id", Integer, nullable=False),
    Column("complete_by", DateTime(timezone=True)),  # None: the run did not finish the fleet
    Column("report", JSON, nullable=False),
)
