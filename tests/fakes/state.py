"""The tables of one in-memory database, shared by the in-memory repositories."""
from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from orchestrator.domain.fleet import Device
from orchestrator.domain.jobs import DeviceJob, JobEvent
from orchestrator.domain.observations import FleetFact
from orchestrator.domain.plan_report import PlannedDevice, StoredPlan

EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def next_id(rows: Mapping[int, Any] | Sequence[Any]) -> int:
    """The id an autoincrement column would give the next row."""
    return (max(rows) if isinstance(rows, Mapping) else len(rows)) + 1 if rows else 1


@dataclass
class State:
    """Every table of one in-memory database."""

    snapshots: dict[int, dict[str, Any]] = field(default_factory=dict)
    entries: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    current_snapshot: int | None = None
    devices: dict[str, Device] = field(default_factory=dict)
    fleet_events: list[tuple[FleetFact, dt.datetime]] = field(default_factory=list)
    forecasts: list[dict[str, Any]] = field(default_factory=list)
    plans: dict[int, StoredPlan] = field(default_factory=dict)
    plan_devices: dict[int, list[PlannedDevice]] = field(default_factory=dict)
    plan_entries: dict[int, list[str]] = field(default_factory=dict)
    campaigns: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[tuple[int, str], tuple[int, DeviceJob]] = field(default_factory=dict)
    job_events: list[JobEvent] = field(default_factory=list)
    campaign_events: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[tuple[int, int, str]] = field(default_factory=Counter)
    request_counters: dict[str, int] = field(default_factory=dict)
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    pacing: dict[tuple[str, int], int] = field(default_factory=dict)
    inbound: dict[int, dict[str, Any]] = field(default_factory=dict)
    users: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[int, dict[str, Any]] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)

    def copy(self) -> State:
        """An independent copy, cheaply: values that are immutable, or never changed once
        written (snapshots, plans, events, audit rows), are shared; rows that repositories
        update in place (campaigns, sent requests, inbound messages, users, tokens) are
        copied one level deep."""
        shared = {f.name: copy.copy(getattr(self, f.name)) for f in fields(self)}
        for name in ("campaigns", "sent", "inbound", "users", "tokens"):
            shared[name] = {k: dict(v) for k, v in getattr(self, name).items()}
        return State(**shared)
