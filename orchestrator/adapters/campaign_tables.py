"""Tables of campaigns, device jobs, their events, counters, requests and inbound messages."""
from __future__ import annotations

from sqlalchemy import (
                        JSON,
                        BigInteger,
                        Boolean,
                        Column,
                        DateTime,
                        ForeignKey,
                        Index,
                        Integer,
                        LargeBinary,
                        String,
                        Table,
                        Text,
)

from orchestrator.adapters.metadata import metadata

campaigns = Table(
    "campaigns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("target", String(64), nullable=False),
    Column("selection", JSON, nullable=False),
    Column("policy", JSON, nullable=False),
    Column("state", String(32), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(200)),
    Column("scheduled_for", DateTime(timezone=True)),
    Column("current_wave", Integer, nullable=False, default=0),
    Column("wave_count", Integer, nullable=False, default=1),
    Column("pause_reason", Text, nullable=False, default=""),
    Column("acknowledged", JSON, nullable=False, default=dict),
    Column("device_count", Integer, nullable=False, default=0),
    Column("snapshot_id", Integer),
    Column("plan_id", Integer),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("dispatched_at", DateTime(timezone=True)),  # dispatch facts (0007_d)
    Column("pacing", JSON),
    Column("dispatch_error", Text),
    Column("dispatch_error_at", DateTime(timezone=True)),
)

device_jobs = Table(
    "device_jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("device_id", String(23), nullable=False),
    Column("wave", Integer, nullable=False),
    Column("path", JSON, nullable=False),
    Column("step", Integer, nullable=False, default=0),
    Column("entry", String(64), nullable=False),
    Column("state", String(32), nullable=False),
    Column("attempt", Integer, nullable=False, default=1),
    Column("due_at", DateTime(timezone=True)),
    Column("deadline_at", DateTime(timezone=True)),
    Column("request_id", String(80)),
    Column("failure", String(64)),
    Column("ppmid", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),  # the job's last read of the firmware (0005)
    Index("ix_device_jobs_due", "campaign_id", "state", "due_at"),
    Index("ix_device_jobs_deadline", "state", "deadline_at"),
    Index("ix_device_jobs_device", "device_id"),
    Index("ux_device_jobs_campaign_device", "campaign_id", "device_id", unique=True),
    Index("ix_device_jobs_request", "request_id"),
)

job_events = Table(
    "job_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, nullable=False),
    Column("device_id", String(23), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("name", String(64), nullable=False),
    Column("from_state", String(32), nullable=False),
    Column("to_state", String(32), nullable=False),
    Column("step", Integer, nullable=False),
    Column("cause", String(64), nullable=False),
    Column("request_id", String(80)),
    Column("message_id", Integer),
    Column("data", JSON, nullable=False),
    Index("ix_job_events_device", "device_id", "id"),
    Index("ix_job_events_campaign", "campaign_id", "id"),
)

campaign_events = Table(
    "campaign_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("name", String(64), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Index("ix_campaign_events_campaign", "campaign_id", "id"),
)

campaign_counters = Table(
    "campaign_counters", metadata,
    Column("campaign_id", Integer, ForeignKey("campaigns.id"), primary_key=True),
    Column("wave", Integer, primary_key=True),
    Column("state", String(32), primary_key=True),
    Column("count", Integer, nullable=False),
)

request_counters = Table(
    "request_counters", metadata,
    Column("originator", String(23), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

sent_requests = Table(
    "sent_requests", metadata,
    Column("request_id", String(80), primary_key=True),
    Column("campaign_id", Integer),
    Column("sr_type", String(8), nullable=False),
    Column("command_variant", Integer, nullable=False),
    Column("entry", String(64)),
    Column("device_count", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True), nullable=False),
    Column("response_code", String(16)),
    Index("ix_sent_requests_campaign", "campaign_id", "sr_type"),
)

pacing_windows = Table(
    "pacing_windows", metadata,
    Column("sr_type", String(8), primary_key=True),
    Column("window", BigInteger, primary_key=True),
    Column("used", Integer, nullable=False),
)

inbound_messages = Table(
    "inbound_messages", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha256", String(64), nullable=False, unique=True),  # of the canonical form
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("status", String(16), nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("kind", String(64)),
    Column("request_id", String(80)),
    Column("device_id", String(23)),
    Column("processed_at", DateTime(timezone=True)),
    Column("content_sha256", String(64)),  # the signed content's digest, once verified (0006)
    Column("response_id", String(80)),  # (0006)
    Index("ix_inbound_status", "status", "id"),
    Index("ix_inbound_content", "content_sha256"),
)
