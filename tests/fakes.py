"""In-memory stand-ins for every repository, the unit of work, the pacer and the send lock.

Each passes the contract suite its SQLAlchemy (or Redis) twin passes (`tests/contract/`), so
service tests on these fakes exercise the behaviour production relies on, in microseconds.

Transactions: a unit of work copies the committed state when it is entered and works on the
copy (`State.copy`); `commit()` publishes a copy of it; leaving without committing drops it.
Repositories never change a stored value in place except the rows `State.copy` copies, and
hand out copies of mutable values, so no change leaks between units of work. So a change is seen
by another unit of work only after commit, and a rolled-back one leaves nothing behind. The
fakes are single-threaded: two units of work open at once do not lock each other out (the
last to commit wins), which is all a service test needs.
"""
from __future__ import annotations

import contextlib
import copy
import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Self

from orchestrator.domain import waiting
from orchestrator.domain.campaign import Campaign, CampaignEvent, CampaignState
from orchestrator.domain.catalogue import (
    CARRIED_KEY,
    CarriedOver,
    Catalogue,
    CatalogueEntry,
    Snapshot,
)
from orchestrator.domain.fleet import Device
from orchestrator.domain.jobs import SEND, TERMINAL, WAIT, DeviceJob, JobEvent, JobState
from orchestrator.domain.observations import FleetFact
from orchestrator.domain.pacing import Grant, InProcessPacer, window_end, window_of
from orchestrator.domain.plan_report import DevicePlan, PlannedDevice, StoredPlan
from orchestrator.domain.policy import Budget
from orchestrator.errors import UserExistsError

_EPOCH = dt.datetime.min.replace(tzinfo=dt.UTC)


def _next_id(rows: Mapping[int, Any] | Sequence[Any]) -> int:
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


class InMemoryDatabase:
    """The committed state that every in-memory unit of work of one test shares."""

    def __init__(self) -> None:
        self.state = State()

    def uow(self) -> InMemoryUnitOfWork:
        """A new unit of work over this database (the `Execution.uow` factory)."""
        return InMemoryUnitOfWork(self)


class InMemoryUnitOfWork:
    """`with uow:` copies the committed state; `commit()` publishes the copy."""

    def __init__(self, database: InMemoryDatabase | None = None):
        self.database = database or InMemoryDatabase()
        self._work: State | None = None

    def __enter__(self) -> Self:
        self._work = self.database.state.copy()
        self.catalogue = InMemoryCatalogueRepository(self._work)
        self.fleet = InMemoryFleetRepository(self._work)
        self.plans = InMemoryPlanRepository(self._work)
        self.campaigns = InMemoryCampaignRepository(self._work)
        self.requests = InMemoryRequestRepository(self._work)
        self.access = InMemoryAccessRepository(self._work)
        self.audit = InMemoryAuditRepository(self._work)
        return self

    def __exit__(self, *args: object) -> None:
        self._work = None

    def commit(self) -> None:
        """Publish everything done in this unit of work."""
        assert self._work is not None, "commit outside `with uow:`"
        self.database.state = self._work.copy()


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
        snapshot_id = _next_id(self.s.snapshots)
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
    return Snapshot(id=snapshot_id, **{n: record.get(n) for n in names})


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
            if old is not None and (old.observed_at or _EPOCH) > (device.observed_at or _EPOCH):
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
        forecast_id = _next_id(self.s.forecasts)
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
        plan_id = _next_id(self.s.plans)
        names = {f.name for f in fields(StoredPlan)} - {"id", "stale", "stale_reason"}
        self.s.plans[plan_id] = StoredPlan(id=plan_id, **{n: record.get(n) for n in names})
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


# campaigns ----------------------------------------------------------------------------------
_CAMPAIGN_FIELDS = ("name", "target", "selection", "state", "created_by", "created_at",
                    "approved_by", "scheduled_for", "current_wave", "pause_reason",
                    "device_count", "acknowledged")


class InMemoryCampaignRepository:
    """Campaign rows, jobs, their events and maintained per-(wave, state) counters."""

    def __init__(self, state: State):
        self.s = state

    def add(self, campaign: Campaign, snapshot_id: int | None, wave_count: int) -> int:
        campaign_id = _next_id(self.s.campaigns)
        self.s.campaigns[campaign_id] = {
            **_campaign_row(campaign), "id": campaign_id, "snapshot_id": snapshot_id,
            "wave_count": wave_count, "plan_id": None, "started_at": None,
            "finished_at": None, "dispatched_at": None, "pacing": None,
            "dispatch_error": None, "dispatch_error_at": None}
        return campaign_id

    def get(self, campaign_id: int, *, lock: bool = False) -> Campaign | None:
        row = self.s.campaigns.get(campaign_id)
        return None if row is None else _campaign(row)

    def row(self, campaign_id: int) -> dict[str, Any] | None:
        row = self.s.campaigns.get(campaign_id)
        return None if row is None else copy.deepcopy(row)

    def save(self, campaign: Campaign, **extra: Any) -> None:
        self.s.campaigns[campaign.id].update(_campaign_row(campaign), **extra)

    def record_dispatch(self, campaign_id: int, at: dt.datetime,
                        pacing: dict[str, Any] | None = None) -> None:
        row = self.s.campaigns[campaign_id]
        row["dispatched_at"] = at
        if pacing:
            row["pacing"] = {**(row["pacing"] or {}), **copy.deepcopy(pacing)}

    def record_dispatch_error(self, campaign_id: int, at: dt.datetime, error: str) -> None:
        self.s.campaigns[campaign_id].update(dispatch_error=error[:2000], dispatch_error_at=at)

    def wait_facts(self, campaign: Campaign, now: dt.datetime) -> waiting.Facts:
        row = self.s.campaigns[campaign.id]
        waves: dict[int, dict[str, int]] = {}
        for (wave, state), count in sorted(self.counters(campaign.id).items()):
            waves.setdefault(wave, {})[state] = count
        if campaign.policy.activation_window is not None:
            after = now + dt.timedelta(seconds=campaign.policy.timeouts.activating_s)
            dated = Counter(j.wave for j in self._jobs(campaign.id)
                            if j.state is JobState.ACTIVATING and j.deadline_at is not None
                            and j.deadline_at > after)
            for wave, n in dated.items():
                counts = waves.setdefault(wave, {})
                counts["activating"] = counts.get("activating", 0) - n
                counts[waiting.SCHEDULED] = n
                if not counts["activating"]:
                    del counts["activating"]
        next_due = (self.next_due_at(campaign.id, campaign.current_wave)
                    if campaign.state is CampaignState.RUNNING else None)
        return waiting.Facts(now, waves, next_due, waiting.held_from(row["pacing"]),
                             row["dispatched_at"])

    def list(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        ids = sorted(self.s.campaigns, reverse=True)[offset:offset + limit]
        return [copy.deepcopy(self.s.campaigns[i]) for i in ids]

    def running_ids(self) -> list[int]:
        live = (CampaignState.RUNNING.value, CampaignState.PAUSED.value)
        return [i for i, r in sorted(self.s.campaigns.items()) if r["state"] in live]

    def add_events(self, events: Iterable[CampaignEvent]) -> None:
        for e in events:
            self.s.campaign_events.append({
                "id": len(self.s.campaign_events) + 1, "campaign_id": e.campaign_id,
                "at": e.at, "name": e.name, "actor": e.actor, "reason": e.reason,
                "data": copy.deepcopy(e.data)})

    def events(self, campaign_id: int, limit: int = 200) -> list[dict[str, Any]]:
        return [dict(e) for e in self.s.campaign_events if e["campaign_id"] == campaign_id][:limit]

    # jobs
    def add_jobs(self, jobs: Sequence[DeviceJob], now: dt.datetime) -> None:
        for job in jobs:
            key = (job.campaign_id, job.device_id)
            if key in self.s.jobs:
                raise ValueError(f"duplicate job {key}")  # the unique index's IntegrityError
            self.s.jobs[key] = (len(self.s.jobs) + 1, job)
            self.s.counters[(job.campaign_id, job.wave, job.state.value)] += 1

    def _jobs(self, campaign_id: int | None = None) -> list[DeviceJob]:
        return [j for _, j in sorted(self.s.jobs.values(), key=lambda r: r[0])
                if campaign_id in (None, j.campaign_id)]

    def due(self, campaign_id: int, max_wave: int, now: dt.datetime,
            limit: int) -> list[DeviceJob]:
        found: list[DeviceJob] = []
        for state in SEND:
            ready = [j for j in self._jobs(campaign_id) if j.state is state
                     and j.wave <= max_wave and (j.due_at is None or j.due_at <= now)]
            found += sorted(ready, key=lambda j: (j.due_at is not None, j.due_at or _EPOCH,
                                                  self.s.jobs[(j.campaign_id, j.device_id)][0])
                            )[:limit]
        return found

    def next_due_at(self, campaign_id: int, max_wave: int) -> dt.datetime | None:
        times = [j.due_at for j in self._jobs(campaign_id) if j.wave <= max_wave
                 and j.state in SEND and j.due_at is not None]
        return min(times, default=None)

    def overdue(self, now: dt.datetime, limit: int) -> list[DeviceJob]:
        late = [j for j in self._jobs() if j.state in WAIT and j.deadline_at is not None
                and j.deadline_at <= now]
        return sorted(late, key=lambda j: j.deadline_at or _EPOCH)[:limit]

    def next_deadline(self) -> dt.datetime | None:
        return min((j.deadline_at for j in self._jobs() if j.state in WAIT
                    and j.deadline_at is not None), default=None)

    def active_for_devices(self, device_ids: Sequence[str]) -> list[DeviceJob]:
        wanted = set(device_ids)
        return sorted((j for j in self._jobs() if j.device_id in wanted and not j.terminal),
                      key=lambda j: j.device_id)

    def jobs_of_device(self, device_id: str) -> list[DeviceJob]:
        return [j for j in self._jobs() if j.device_id == device_id]

    def by_request(self, request_id: str) -> list[DeviceJob]:
        return sorted((j for j in self._jobs() if j.request_id == request_id and not j.terminal),
                      key=lambda j: j.device_id)

    def jobs(self, campaign_id: int, *, states: Sequence[str] | None = None,
             limit: int = 100, offset: int = 0) -> list[DeviceJob]:
        found = [j for j in self._jobs(campaign_id) if not states or j.state.value in states]
        return found[offset:offset + limit]

    def update_jobs(self, changes: Sequence[tuple[DeviceJob, DeviceJob]],
                    events: Sequence[JobEvent], now: dt.datetime) -> None:
        for old, new in changes:
            key = (new.campaign_id, new.device_id)
            self.s.jobs[key] = (self.s.jobs[key][0], new)
            if old.state != new.state:
                self.s.counters[(old.campaign_id, old.wave, old.state.value)] -= 1
                self.s.counters[(new.campaign_id, new.wave, new.state.value)] += 1
        self.s.job_events += copy.deepcopy(list(events))

    def counters(self, campaign_id: int) -> dict[tuple[int, str], int]:
        return {(w, s): n for (c, w, s), n in self.s.counters.items() if c == campaign_id and n}

    def device_history(self, device_id: str, limit: int = 500) -> list[dict[str, Any]]:
        return [{"id": n, **_event_row(e)} for n, e in enumerate(self.s.job_events, 1)
                if e.device_id == device_id][:limit]

    def verified_steps(self, campaign_id: int) -> int:
        return sum(e.campaign_id == campaign_id and e.cause == "version_read"
                   and e.to_state in (JobState.PLANNED.value, JobState.DONE.value)
                   for e in self.s.job_events)

    def failures(self, campaign_id: int) -> dict[str, int]:
        return dict(Counter(str(j.failure) for j in self._jobs(campaign_id)
                            if j.state in TERMINAL and j.state is not JobState.DONE))


def _campaign_row(c: Campaign) -> dict[str, Any]:
    row = {name: copy.deepcopy(getattr(c, name)) for name in _CAMPAIGN_FIELDS}
    row.update(state=c.state.value, policy=c.policy)
    return row


def _campaign(row: Mapping[str, Any]) -> Campaign:
    return Campaign(
        id=row["id"], name=row["name"], target=row["target"],
        selection=copy.deepcopy(row["selection"]), policy=row["policy"],
        created_by=row["created_by"], created_at=row["created_at"],
        state=CampaignState(row["state"]), device_count=row["device_count"],
        approved_by=row["approved_by"], scheduled_for=row["scheduled_for"],
        current_wave=row["current_wave"], pause_reason=row["pause_reason"] or "",
        acknowledged=copy.deepcopy(row["acknowledged"]))


def _event_row(e: JobEvent) -> dict[str, Any]:
    return {"campaign_id": e.campaign_id, "device_id": e.device_id, "at": e.at,
            "name": e.name, "from_state": e.from_state, "to_state": e.to_state, "step": e.step,
            "cause": e.cause, "request_id": e.request_id, "message_id": e.message_id,
            "data": copy.deepcopy(e.data)}


# requests, database pacing and inbound storage ----------------------------------------------
class InMemoryRequestRepository:
    """RequestID counters, the sent-request log, pacing windows and raw inbound messages."""

    def __init__(self, state: State):
        self.s = state

    def reserve_counters(self, originator: str, count: int, floor: int) -> list[int]:
        start = max(self.s.request_counters.get(originator, 0), floor) + 1
        self.s.request_counters[originator] = start + count - 1
        return list(range(start, start + count))

    def record_sent(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            if row["request_id"] in self.s.sent:
                raise ValueError(f"request {row['request_id']} recorded twice")
            self.s.sent[row["request_id"]] = {"response_code": None, **row}

    def record_response_codes(self, codes: dict[str, str]) -> None:
        for request_id, code in codes.items():
            if request_id in self.s.sent:
                self.s.sent[request_id]["response_code"] = code

    def unacknowledged(self, before: dt.datetime, limit: int) -> list[str]:
        return [r for r, row in self.s.sent.items()
                if row["response_code"] is None and row["sent_at"] < before][:limit]

    def sent_counts(self, campaign_id: int | None = None) -> dict[str, int]:
        return dict(Counter(row["sr_type"] for row in self.s.sent.values()
                            if campaign_id in (None, row.get("campaign_id"))))

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        key = (budget.sr_type, window_of(budget, at))
        used = self.s.pacing.get(key, 0)
        granted = max(0, min(wanted, budget.limit - used))
        self.s.pacing[key] = used + granted
        return Grant(granted, None if granted == wanted else window_end(budget, at),
                     budget.limit - used - granted)

    def store_raw(self, sha256: str, raw: bytes, at: dt.datetime) -> tuple[int, bool]:
        [stored] = self.store_many([(sha256, raw)], at)
        return stored

    def store_many(self, messages: list[tuple[str, bytes]], at: dt.datetime
                   ) -> list[tuple[int, bool]]:
        by_sha = {m["sha256"]: i for i, m in self.s.inbound.items()}
        result = []
        for sha, raw in messages:
            if sha in by_sha:
                result.append((by_sha[sha], False))
                continue
            message_id = by_sha[sha] = _next_id(self.s.inbound)
            self.s.inbound[message_id] = {
                "id": message_id, "sha256": sha, "received_at": at, "raw": bytes(raw),
                "status": "received", "reason": "", "kind": None, "request_id": None,
                "device_id": None, "processed_at": None, "content_sha256": None,
                "response_id": None}
            result.append((message_id, True))
        return result

    def mark_many(self, marks: list[tuple[int, str, str, dict[str, Any]]],
                  at: dt.datetime) -> None:
        for message_id, status, reason, extra in marks:
            self.mark(message_id, status, at, reason, **{
                k: extra.get(k) for k in ("kind", "request_id", "content_sha256",
                                          "response_id")})

    def mark(self, message_id: int, status: str, at: dt.datetime, reason: str = "",
             **fields: Any) -> None:
        self.s.inbound[message_id].update(status=status, reason=reason, processed_at=at,
                                          **fields)

    def applied_contents(self, digests: list[str]) -> dict[str, int]:
        wanted = set(digests)
        return {m["content_sha256"]: i for i, m in sorted(self.s.inbound.items())
                if m["content_sha256"] in wanted and m["status"] == "applied"}

    def sent_request_ids(self, request_ids: list[str]) -> set[str]:
        return {r for r in request_ids if r in self.s.sent}

    def claim(self, message_ids: list[int]) -> set[int]:
        return {i for i in message_ids if self.s.inbound.get(i, {}).get("status") == "received"}

    def pending_messages(self, limit: int) -> list[tuple[int, bytes]]:
        return [(i, m["raw"]) for i, m in sorted(self.s.inbound.items())
                if m["status"] == "received"][:limit]

    def raw_messages(self, message_ids: list[int]) -> list[tuple[int, bytes]]:
        wanted = set(message_ids)
        return [(i, m["raw"]) for i, m in sorted(self.s.inbound.items())
                if i in wanted and m["status"] == "received"]

    def inbound_counts(self) -> dict[str, int]:
        return dict(Counter(m["status"] for m in self.s.inbound.values()))


# access and audit ---------------------------------------------------------------------------
class InMemoryAccessRepository:
    """Users with a role and the hashes of their tokens; names unique whatever their case."""

    def __init__(self, state: State):
        self.s = state

    def add_user(self, name: str, role: str, created_by: str, at: dt.datetime) -> int:
        existing = self.user(name)
        if existing is not None:
            raise UserExistsError(f"user {name!r} already exists (as {existing['name']!r}): "
                                  "user names are case-insensitive")
        user_id = _next_id(self.s.users)
        self.s.users[user_id] = {"id": user_id, "name": name, "role": role,
                                 "created_by": created_by, "created_at": at, "disabled": False}
        return user_id

    def user(self, name: str) -> dict[str, Any] | None:
        found = next((u for u in self.s.users.values() if u["name"].lower() == name.lower()),
                     None)
        return None if found is None else dict(found)

    def has_admin(self) -> bool:
        return any(u["role"] == "admin" and not u["disabled"] for u in self.s.users.values())

    def users(self) -> list[dict[str, Any]]:
        live = Counter(t["user_id"] for t in self.s.tokens.values() if t["revoked_at"] is None)
        return [{**u, "tokens": live[u["id"]]}
                for u in sorted(self.s.users.values(), key=lambda u: u["name"])]

    def update_user(self, user_id: int, **values: Any) -> None:
        self.s.users[user_id].update(values)

    def add_token(self, user_id: int, token_hash: str, prefix: str, at: dt.datetime) -> int:
        if any(t["token_hash"] == token_hash for t in self.s.tokens.values()):
            raise ValueError("token hash already stored")  # the unique index
        token_id = _next_id(self.s.tokens)
        self.s.tokens[token_id] = {"id": token_id, "user_id": user_id, "token_hash": token_hash,
                                   "prefix": prefix, "created_at": at, "revoked_at": None}
        return token_id

    def principal(self, token_hash: str) -> dict[str, Any] | None:
        token = next((t for t in self.s.tokens.values() if t["token_hash"] == token_hash
                      and t["revoked_at"] is None), None)
        user = None if token is None else self.s.users[token["user_id"]]
        if token is None or user is None or user["disabled"]:
            return None
        return {"name": user["name"], "role": user["role"], "token_id": token["id"]}

    def revoke_tokens(self, user_id: int, at: dt.datetime) -> int:
        live = [t for t in self.s.tokens.values()
                if t["user_id"] == user_id and t["revoked_at"] is None]
        for token in live:
            token["revoked_at"] = at
        return len(live)


class InMemoryAuditRepository:
    """Append-only audit rows (the chain's hashes are computed by the service)."""

    def __init__(self, state: State):
        self.s = state

    def lock(self) -> None:
        """Nothing to do: in-memory units of work are single-threaded."""

    def head(self) -> tuple[int, str] | None:
        return (int(self.s.audit[-1]["id"]), str(self.s.audit[-1]["hash"])) if self.s.audit else None

    def append(self, row: dict[str, Any]) -> None:
        if self.s.audit and row["id"] <= self.s.audit[-1]["id"]:
            raise ValueError(f"audit row {row['id']} is not after the head")  # primary key
        self.s.audit.append(copy.deepcopy(row))

    def rows(self) -> Iterator[dict[str, Any]]:
        return iter(copy.deepcopy(self.s.audit))

    def page(self, limit: int, offset: int = 0, target: str | None = None
             ) -> list[dict[str, Any]]:
        rows = [r for r in reversed(self.s.audit) if target in (None, r["target"])]
        return copy.deepcopy(rows[offset:offset + limit])


# pacer and send lock ------------------------------------------------------------------------
class InMemoryPacer(InProcessPacer):
    """Fixed-window budgets counted in this process (the embedded runtime's own pacer)."""


class InMemorySendLock:
    """One sender at a time; counts how often it was taken (for tests of the dispatcher)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0

    @property
    def held(self) -> bool:
        """Whether a sender is inside the lock now."""
        return self._lock.locked()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=5):
            raise TimeoutError("send lock held for 5 s")
        self.taken += 1
        try:
            yield
        finally:
            self._lock.release()
