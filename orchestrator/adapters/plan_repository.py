"""SQLAlchemy repository of stored plans and their per-device rows."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Text, cast, insert, select, update

from orchestrator.adapters.fleet_repository import (
    READ_BATCH,
    copy_field,
    copy_text,
    insert_rows,
)
from orchestrator.adapters.fleet_tables import plan_devices, plans
from orchestrator.domain.moments import utc
from orchestrator.domain.plan_report import DevicePlan, Outcome, PlannedDevice, StoredPlan

_DEVICE_COLUMNS = [c.name for c in plan_devices.columns]
WRITE_CHUNK = 50_000


class SqlAlchemyPlanRepository:
    """Plans are written once; only their stale flag changes afterwards."""

    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, record: Mapping[str, Any], device_plans: Iterable[DevicePlan]) -> int:
        """Store a plan record and one row per device; return the plan id."""
        plan_id = int(self.connection.execute(
            insert(plans).values(**record).returning(plans.c.id)).scalar_one())
        if self.connection.dialect.name == "postgresql":
            copy_text(self.connection, "plan_devices", _DEVICE_COLUMNS,
                      _copy_chunks(plan_id, device_plans))
            return plan_id
        for chunk in _chunks(_rows(plan_id, device_plans)):
            insert_rows(self.connection, plan_devices, chunk)
        return plan_id

    def get(self, plan_id: int) -> StoredPlan | None:
        """One plan's record."""
        row = self.connection.execute(select(plans).where(plans.c.id == plan_id)).first()
        return None if row is None else _plan(row._mapping)

    def recent(self, limit: int = 20) -> list[StoredPlan]:
        """The newest plans first."""
        rows = self.connection.execute(select(plans).order_by(plans.c.id.desc()).limit(limit))
        return [_plan(r._mapping) for r in rows]

    def devices(self, plan_id: int, status: str | None = None,
                limit: int | None = None) -> Iterator[PlannedDevice]:
        """A plan's device rows, by device ID, streamed (optionally one status only)."""
        query = select(plan_devices.c.device_id, plan_devices.c.status, plan_devices.c.reason,
                       plan_devices.c.current_entry, plan_devices.c.target_entry,
                       cast(plan_devices.c.path, Text), cast(plan_devices.c.next_action, Text)
                       ).where(plan_devices.c.plan_id == plan_id
                               ).order_by(plan_devices.c.device_id)
        if status is not None:
            query = query.where(plan_devices.c.status == status)
        if limit is not None:
            query = query.limit(limit)
        parsed: dict[str, Any] = {}
        rows = self.connection.execute(query, execution_options={"yield_per": READ_BATCH})
        for r in rows:
            path = parsed.get(r[5]) or parsed.setdefault(r[5], tuple(json.loads(r[5])))
            action = parsed.get(r[6]) or parsed.setdefault(r[6], json.loads(r[6]))
            yield PlannedDevice(r[0], r[1], r[2], r[3], r[4], path, action)

    def open_plans(self) -> list[tuple[int, list[str]]]:
        """(plan id, entries it uses) for every plan not yet stale."""
        rows = self.connection.execute(select(plans.c.id, plans.c.entries)
                                       .where(plans.c.stale.is_(False)))
        return [(int(r.id), list(r.entries or [])) for r in rows]

    def mark_stale_for_devices(self, device_ids: Sequence[str], reason: str,
                               at: dt.datetime) -> list[int]:
        """Flag every open plan holding any of these devices (their firmware changed)."""
        wanted = sorted(set(device_ids))
        stale = []
        for plan_id, _ in self.open_plans():
            for start in range(0, len(wanted), 900):
                if self.connection.scalar(select(plan_devices.c.device_id).where(
                        plan_devices.c.plan_id == plan_id,
                        plan_devices.c.device_id.in_(wanted[start:start + 900])).limit(1)):
                    self.mark_stale(plan_id, reason, at)
                    stale.append(plan_id)
                    break
        return stale

    def mark_stale(self, plan_id: int, reason: str, at: dt.datetime) -> None:
        """Flag a plan as stale with the reason (the first reason is kept)."""
        self.connection.execute(update(plans).where(plans.c.id == plan_id,
                                                    plans.c.stale.is_(False))
                                .values(stale=True, stale_reason=reason, stale_at=at))


def _rows(plan_id: int, device_plans: Iterable[DevicePlan]) -> Iterator[tuple[Any, ...]]:
    """Positional rows; path and next action serialised once per shared outcome."""
    encoded: dict[Outcome, tuple[Any, ...]] = {}
    for plan in device_plans:
        tail = encoded.get(plan.outcome)
        if tail is None:
            tail = encoded[plan.outcome] = _encoded(plan.outcome)
        yield (plan_id, plan.device.device_id, *tail)


def _encoded(o: Outcome) -> tuple[Any, ...]:
    return (o.status, o.reason, o.current_entry, o.target_entry, json.dumps(list(o.path)),
            json.dumps(o.next_action.to_dict(), ensure_ascii=False))


def _chunks(rows: Iterable[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == WRITE_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy_chunks(plan_id: int, device_plans: Iterable[DevicePlan]) -> Iterator[str]:
    """COPY text, a chunk of lines at a time (`NULL ''`; escaped once per shared outcome)."""
    escaped: dict[Outcome, str] = {}
    lines: list[str] = []
    for plan in device_plans:
        tail = escaped.get(plan.outcome)
        if tail is None:
            tail = escaped[plan.outcome] = "\t".join(
                copy_field(v) for v in _encoded(plan.outcome))
        lines.append(f"{plan_id}\t{plan.device.device_id}\t{tail}\n")
        if len(lines) == WRITE_CHUNK:
            yield "".join(lines)
            lines = []
    yield "".join(lines)


def _plan(row: Any) -> StoredPlan:
    return StoredPlan(
        id=row["id"], created_at=utc(row["created_at"]), snapshot_id=row["snapshot_id"],
        target=row["target"], selection=row["selection"], policy=row["policy"],
        summary=row["summary"], device_count=row["device_count"], stale=bool(row["stale"]),
        stale_reason=row["stale_reason"])
