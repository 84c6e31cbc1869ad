"""In-memory catalogue snapshots, fleet inventory and stored plans."""
from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import fields, replace
from typing import Any

from orchestrator.domain.catalogue import (
    CARRIED_KEY,
    CarriedOver,
    Catalogue,
    CatalogueEntry,
    Snapshot,
)
from orchestrator.domain.fleet import Device
from orchestrator.domain.observations import FleetFact
from orchestrator.domain.plan_report import DevicePlan, PlannedDevice, StoredPlan
from tests.fakes.state import EPOCH, State, next_id


# catalogue ----------------------------------------------------------------------------------
class InMemoryCatalogueRepository:
    """Snapshots and their entries as dicts of fields (as the tables hold them)."""

    def __init__(self, state: State):
        self.s = state

    def current_id(self) -> int | None:
        return self.s.current_snapshot

    def snapshot(self, snapshot_id: int) -> Snapshot | None:
        record = self.s.snapshots.get(snapshot_id)
        return None if record is None else _snapshot(snapshot_id, record)

    def snapshots(self, limit: int = 50) -> list[Snapshot]:
        return [_snapshot(i, self.s.snapshots[i]) for i in sorted(self.s.snapshots,
                                                                  reverse=True)[:limit]]

    def add(self, record: dict[str, Any], entries: Iterable[dict[str, Any]]) -> int:
        snapshot_id = next_id(self.s.snapshots)
        self.s.snapshots[snapshot_id] = copy.deepcopy(dict(record))
        self.s.entries[snapshot_id] = {e["cpl_entry_id"]: copy.deepcopy(dict(e))
                                       for e in entries}
        return snapshot_id

    def make_current(self, snapshot_id: int) -> None:
        self.s.current_snapshot = snapshot_id

    def entry_fields(self, snapshot_id: int) -> dict[str, dict[str, Any]]:
        return copy.deepcopy(self.s.entries.get(snapshot_id, {}))

    def load(self, snapshot_id: int) -> Catalogue:
        return Catalogue([_entry(f, snapshot_id) for f in self.entry_fields(snapshot_id).values()],
                         snapshot_id)

    def entry_count(self, snapshot_id: int) -> int:
        return len(self.s.entries.get(snapshot_id, {}))

    def prune(self, keep: int) -> int:
        kept = set(sorted(self.s.snapshots, reverse=True)[:keep]) | {self.s.current_snapshot}
        pruned = 0
        for snapshot_id in [i for i in self.s.entries if i not in kept]:
            pruned += len(self.s.entries[snapshot_id])
            self.s.entries[snapshot_id] = {}
        return pruned


def _snapshot(snapshot_id: int, record: Mapping[str, Any]) -> Snapshot:
    names = {f.name for f in fields(Snapshot)} - {"id"}
    values: dict[str, Any] = {n: record.get(n) for n in names}
    return Snapshot(id=snapshot_id, **values)


def _entry(fields_: dict[str, Any], snapshot_id: int) -> CatalogueEntry:
    predecessors = fields_.pop("predecessors", None)
    extra = dict(fields_.pop("extra", None) or {})
    mark = extra.pop(CARRIED_KEY, None)
    carried = CarriedOver.from_mark(mark, snapshot_id) if mark else None
    return CatalogueEntry(**fields_, extra=extra, carried_over=carried,
                          predecessors=None if predecessors is None else tuple(predecessors))


# fleet --------------------------------------------------------------------------------------
class InMemoryFleetRepository:
    """Devices by EUI-64; an upsert never replaces a newer observation."""

    def __init__(self, state: State):
        self.s = state

    def upsert(self, batch: Sequence[Device]) -> int:
        for device in batch:
            old = self.s.devices.get(device.device_id)
            if old is not None and (old.observed_at or EPOCH) > (device.observed_at or EPOCH):
                continue
            self.s.devices[device.device_id] = _keep_read_facts(old, device)
        return len(batch)

    def get(self, device_id: str) -> Device | None:
        return self.s.devices.get(device_id)

    def get_many(self, device_ids: Iterable[str]) -> dict[str, Device]:
        return {d: self.s.devices[d] for d in set(device_ids) if d in self.s.devices}

    def known(self, device_ids: Iterable[str]) -> set[str]:
        return {d for d in device_ids if d in self.s.devices}

    def iter_devices(self, filters: Mapping[str, frozenset[str]] | None = None,
                     limit: int | None = None) -> Iterator[Device]:
        found = (d for _, d in sorted(self.s.devices.items())
                 if all(getattr(d, k) in v for k, v in (filters or {}).items()))
        for n, device in enumerate(found):
            if limit is not None and n >= limit:
                return
            yield device

    def count(self) -> int:
        return len(self.s.devices)

    def add_events(self, facts: Sequence[FleetFact], recorded_at: dt.datetime) -> None:
        self.s.fleet_events += [(copy.deepcopy(f), recorded_at) for f in facts]

    def events(self, device_id: str | None = None, names: Sequence[str] = (),
               limit: int = 500, newest_first: bool = False) -> list[FleetFact]:
        found = [f for f, _ in self.s.fleet_events if device_id in (None, f.device_id)
                 and (not names or f.name in names)]
        return (found[::-1] if newest_first else found)[:limit]

    def count_events(self, names: Sequence[str]) -> dict[str, int]:
        return dict(Counter(f.name for f, _ in self.s.fleet_events if f.name in names))

    def add_forecast(self, made_at: dt.datetime, made_by: str, snapshot_id: int,
                     complete_by: dt.datetime | None, report: Mapping[str, Any]) -> int:
        forecast_id = next_id(self.s.forecasts)
        self.s.forecasts.append({**dict(report), "id": forecast_id,
                                 "made_at": made_at.isoformat(), "made_by": made_by,
                                 "snapshot_id": snapshot_id,
                                 "complete_by": complete_by.isoformat() if complete_by else None})
        return forecast_id

    def latest_forecast(self) -> dict[str, Any] | None:
        return dict(self.s.forecasts[-1]) if self.s.forecasts else None


def _keep_read_facts(old: Device | None, new: Device) -> Device:
    """Keep the last read time, and the confirmed entry while the firmware is unchanged."""
    if old is None:
        return new
    same = (old.firmware_version, old.firmware_hash) == (new.firmware_version, new.firmware_hash)
    return new._replace(read_at=new.read_at or old.read_at,
                        firmware_entry=new.firmware_entry or (old.firmware_entry if same else ""))


# plans --------------------------------------------------------------------------------------
class InMemoryPlanRepository:
    """Plans written once; only their stale flag changes."""

    def __init__(self, state: State):
        self.s = state

    def add(self, record: Mapping[str, Any], device_plans: Iterable[DevicePlan]) -> int:
        plan_id = next_id(self.s.plans)
        names = {f.name for f in fields(StoredPlan)} - {"id", "stale", "stale_reason"}
        values: dict[str, Any] = {n: record.get(n) for n in names}
        self.s.plans[plan_id] = StoredPlan(id=plan_id, **values)
        self.s.plan_devices[plan_id] = sorted(
            (PlannedDevice(p.device_id, **_outcome(p)) for p in device_plans),
            key=lambda d: d.device_id)
        self.s.plan_entries[plan_id] = list(record.get("entries") or [])
        return plan_id

    def get(self, plan_id: int) -> StoredPlan | None:
        return self.s.plans.get(plan_id)

    def recent(self, limit: int = 20) -> list[StoredPlan]:
        return [self.s.plans[i] for i in sorted(self.s.plans, reverse=True)[:limit]]

    def devices(self, plan_id: int, status: str | None = None,
                limit: int | None = None) -> Iterator[PlannedDevice]:
        found = [d for d in self.s.plan_devices.get(plan_id, []) if status in (None, d.status)]
        return iter(found[:limit])

    def open_plans(self) -> list[tuple[int, list[str]]]:
        return [(i, list(self.s.plan_entries.get(i, []))) for i, p in sorted(self.s.plans.items())
                if not p.stale]

    def mark_stale(self, plan_id: int, reason: str, at: dt.datetime) -> None:
        plan = self.s.plans[plan_id]
        if not plan.stale:
            self.s.plans[plan_id] = replace(plan, stale=True, stale_reason=reason)

    def mark_stale_for_devices(self, device_ids: Sequence[str], reason: str,
                               at: dt.datetime) -> list[int]:
        wanted = set(device_ids)
        stale = [i for i, _ in self.open_plans()
                 if any(d.device_id in wanted for d in self.s.plan_devices[i])]
        for plan_id in stale:
            self.mark_stale(plan_id, reason, at)
        return stale


def _outcome(plan: DevicePlan) -> dict[str, Any]:
    o = plan.outcome
    return {"status": o.status, "reason": o.reason, "current_entry": o.current_entry,
            "target_entry": o.target_entry, "path": tuple(o.path),
            "next_action": o.next_action.to_dict()}
