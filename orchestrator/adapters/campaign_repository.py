"""SQLAlchemy repository for campaigns, device jobs, their events and maintained counters."""
from __future__ import annotations

import builtins
import datetime as dt
import functools
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, or_, select, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import CompoundSelect

from orchestrator.adapters.campaign_tables import (
    campaign_counters,
    campaign_events,
    campaigns,
    device_jobs,
    job_events,
)
from orchestrator.domain import waiting
from orchestrator.domain.campaign import Campaign, CampaignEvent, CampaignState
from orchestrator.domain.jobs import SEND, TERMINAL, WAIT, DeviceJob, JobEvent, JobState
from orchestrator.domain.moments import aware
from orchestrator.domain.policy import policy_from_dict, policy_to_dict

CHUNK = 5000
_ACTIVE = [s.value for s in JobState if s not in TERMINAL]


class SqlAlchemyCampaignRepository:
    """Campaign rows, job rows, event rows and per-(wave, state) counters, in one transaction."""

    def __init__(self, connection: Connection):
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"

    # campaigns ---------------------------------------------------------------------------
    def add(self, campaign: Campaign, snapshot_id: int | None, wave_count: int) -> int:
        """Store a new campaign; return its id."""
        values = _campaign_values(campaign)
        values.pop("id")
        values.update(snapshot_id=snapshot_id, wave_count=wave_count)
        return int(self.connection.execute(
            insert(campaigns).values(**values).returning(campaigns.c.id)).scalar_one())

    def get(self, campaign_id: int, *, lock: bool = False) -> Campaign | None:
        """A campaign (row-locked on PostgreSQL when `lock`)."""
        loaded = self.load(campaign_id, lock=lock)
        return None if loaded is None else loaded[0]

    def load(self, campaign_id: int, *, lock: bool = False
             ) -> tuple[Campaign, dict[str, Any]] | None:
        """A campaign and its raw stored fields (`row`) from one read (row-locked on
        PostgreSQL when `lock`)."""
        query = select(campaigns).where(campaigns.c.id == campaign_id)
        if lock and self.postgres:
            query = query.with_for_update()
        row = self.connection.execute(query).first()
        if row is None:
            return None
        stored = dict(row._mapping)
        return _campaign(stored), stored

    def row(self, campaign_id: int) -> dict[str, Any] | None:
        """The raw stored fields of a campaign (wave count, times, snapshot)."""
        row = self.connection.execute(select(campaigns).where(campaigns.c.id == campaign_id)).first()
        return None if row is None else dict(row._mapping)

    def save(self, campaign: Campaign, **extra: Any) -> None:
        """Write back a campaign's changed fields."""
        values = _campaign_values(campaign)
        values.pop("id")
        self.connection.execute(update(campaigns).where(campaigns.c.id == campaign.id)
                                .values(**values, **extra))

    def record_dispatch(self, campaign_id: int, at: dt.datetime,
                        pacing: dict[str, Any] | None = None,
                        stored: dict[str, Any] | None = None) -> None:
        """A dispatcher looked at the campaign; `pacing` updates the SR types it asked for.
        `stored`: the campaign's pacing as read in this transaction (read here if None)."""
        values: dict[str, Any] = {"dispatched_at": at}
        if pacing:
            if stored is None:
                stored = self.connection.scalar(select(campaigns.c.pacing).where(
                    campaigns.c.id == campaign_id)) or {}
            values["pacing"] = {**stored, **pacing}
        self.connection.execute(update(campaigns).where(campaigns.c.id == campaign_id)
                                .values(**values))

    def wait_facts(self, campaign: Campaign, now: dt.datetime) -> waiting.Facts:
        """What `waiting.campaign_wait` needs: counters, the earliest due job, dispatch facts."""
        row = self.row(campaign.id) or {}
        waves: dict[int, dict[str, int]] = {}
        for (wave, state), count in sorted(self.counters(campaign.id).items()):
            waves.setdefault(wave, {})[state] = count
        if campaign.policy.activation_window is not None:
            waiting.split_scheduled(waves, self._future_dated(campaign, now))
        next_due = (self.next_due_at(campaign.id, campaign.current_wave)
                    if campaign.state is CampaignState.RUNNING else None)
        return waiting.Facts(now, waves, next_due, waiting.held_from(row.get("pacing")),
                             aware(row.get("dispatched_at")))

    def _future_dated(self, campaign: Campaign, now: dt.datetime) -> dict[int, int]:
        """Per wave, activating jobs whose 11.3 is dated later (their stage deadline counts
        from the execution time: `jobs.sent`), so not yet run on the device."""
        after = now + dt.timedelta(seconds=campaign.policy.timeouts.activating_s)
        rows = self.connection.execute(select(device_jobs.c.wave, func.count()).where(
            device_jobs.c.campaign_id == campaign.id,
            device_jobs.c.state == JobState.ACTIVATING.value,
            device_jobs.c.deadline_at > after).group_by(device_jobs.c.wave))
        return {int(w): int(n) for w, n in rows}

    def record_dispatch_error(self, campaign_id: int, at: dt.datetime, error: str) -> None:
        """What stopped the last dispatch (shown on the campaign until it is fixed)."""
        self.connection.execute(update(campaigns).where(campaigns.c.id == campaign_id)
                                .values(dispatch_error=error[:2000], dispatch_error_at=at))

    def list(self, limit: int = 100, offset: int = 0) -> builtins.list[dict[str, Any]]:
        """Campaign rows, newest first."""
        rows = self.connection.execute(select(campaigns).order_by(campaigns.c.id.desc())
                                       .limit(limit).offset(offset))
        return [dict(r._mapping) for r in rows]

    def running_ids(self) -> builtins.list[int]:
        """Campaigns that are running or paused (the reconciler's scope)."""
        return list(self.connection.scalars(select(campaigns.c.id).where(
            campaigns.c.state.in_([CampaignState.RUNNING.value, CampaignState.PAUSED.value]))))

    def add_events(self, events: Iterable[CampaignEvent]) -> None:
        """Record campaign events (who, when, why)."""
        rows = [{"campaign_id": e.campaign_id, "at": e.at, "name": e.name, "actor": e.actor,
                 "reason": e.reason, "data": e.data} for e in events]
        if rows:
            self.connection.execute(insert(campaign_events), rows)

    def events(self, campaign_id: int, limit: int = 200) -> builtins.list[dict[str, Any]]:
        """A campaign's events, oldest first."""
        rows = self.connection.execute(select(campaign_events).where(
            campaign_events.c.campaign_id == campaign_id).order_by(campaign_events.c.id)
            .limit(limit))
        return [dict(r._mapping) for r in rows]

    # jobs --------------------------------------------------------------------------------
    def add_jobs(self, jobs: Sequence[DeviceJob], now: dt.datetime) -> None:
        """Store the campaign's device jobs and initialise the counters."""
        rows = [_job_values(j, now) for j in jobs]
        for start in range(0, len(rows), CHUNK):
            self.connection.execute(insert(device_jobs), rows[start:start + CHUNK])
        counts = Counter((j.campaign_id, j.wave, j.state.value) for j in jobs)
        if counts:
            self.connection.execute(insert(campaign_counters), [
                {"campaign_id": c, "wave": w, "state": s, "count": n}
                for (c, w, s), n in counts.items()])

    def due(self, campaign_id: int, max_wave: int, now: dt.datetime, limit: int,
            states: Collection[JobState] | None = None) -> builtins.list[DeviceJob]:
        """Jobs owing a request now (in `states`, None: any sending state), locked for this
        transaction (SKIP LOCKED on PostgreSQL).

        Each sending state gets its own share of `limit`, so a backlog of one SR type held
        back by its budget never starves the others.
        """
        wanted = tuple(s.value for s in SEND if states is None or s in states)
        if not wanted:
            return []
        rows = self.connection.execute(_due_query(wanted, self.postgres), {
            "c": campaign_id, "w": max_wave, "now": now, "lim": limit})
        found = [_job(r._mapping) for r in rows]
        found.sort(key=lambda j: wanted.index(j.state.value))  # stable: each state's order kept
        return found

    def next_due_at(self, campaign_id: int, max_wave: int) -> dt.datetime | None:
        """When the earliest not-yet-due job of the campaign becomes due."""
        due: dt.datetime | None = self.connection.scalar(select(func.min(device_jobs.c.due_at))
            .where(device_jobs.c.campaign_id == campaign_id, device_jobs.c.wave <= max_wave,
                   device_jobs.c.state.in_([s.value for s in SEND])))
        return aware(due)

    def overdue(self, now: dt.datetime, limit: int) -> builtins.list[DeviceJob]:
        """Jobs waiting for an answer past their stage deadline (for the reconciler)."""
        query = (select(device_jobs).where(device_jobs.c.state.in_([s.value for s in WAIT]),
                                           device_jobs.c.deadline_at <= now)
                 .order_by(device_jobs.c.deadline_at).limit(limit))
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        return [_job(r._mapping) for r in self.connection.execute(query)]

    def next_deadline(self) -> dt.datetime | None:
        """The earliest stage deadline of any waiting job."""
        deadline: dt.datetime | None = self.connection.scalar(
            select(func.min(device_jobs.c.deadline_at))
            .where(device_jobs.c.state.in_([s.value for s in WAIT])))
        return aware(deadline)

    def active_for_devices(self, device_ids: Sequence[str]) -> builtins.list[DeviceJob]:
        """Non-terminal jobs of these devices (a device has at most one), locked."""
        found: builtins.list[DeviceJob] = []
        for start in range(0, len(device_ids), 900):
            query = select(device_jobs).where(
                device_jobs.c.device_id.in_(device_ids[start:start + 900]),
                device_jobs.c.state.in_(_ACTIVE)).order_by(device_jobs.c.device_id)
            if self.postgres:
                query = query.with_for_update()
            found += [_job(r._mapping) for r in self.connection.execute(query)]
        return found

    def jobs_of_device(self, device_id: str) -> builtins.list[DeviceJob]:
        """Every job a device has had, oldest campaign first."""
        rows = self.connection.execute(select(device_jobs).where(
            device_jobs.c.device_id == device_id).order_by(device_jobs.c.id))
        return [_job(r._mapping) for r in rows]

    def by_request(self, request_id: str) -> builtins.list[DeviceJob]:
        """Non-terminal jobs waiting on a request."""
        query = select(device_jobs).where(device_jobs.c.request_id == request_id,
                                          device_jobs.c.state.in_(_ACTIVE)).order_by(
                                              device_jobs.c.device_id)
        if self.postgres:
            query = query.with_for_update()
        return [_job(r._mapping) for r in self.connection.execute(query)]

    def jobs(self, campaign_id: int, *, states: Sequence[str] | None = None,
             limit: int = 100, offset: int = 0) -> builtins.list[DeviceJob]:
        """A page of a campaign's jobs."""
        query = select(device_jobs).where(device_jobs.c.campaign_id == campaign_id)
        if states:
            query = query.where(device_jobs.c.state.in_(states))
        rows = self.connection.execute(query.order_by(device_jobs.c.id).limit(limit)
                                       .offset(offset))
        return [_job(r._mapping) for r in rows]

    def update_jobs(self, changes: Sequence[tuple[DeviceJob, DeviceJob]],
                    events: Sequence[JobEvent], now: dt.datetime) -> None:
        """Write changed jobs, their events and the counter deltas."""
        if changes:  # rows in one order everywhere, so concurrent writers cannot deadlock
            ordered = sorted((new for _, new in changes),
                             key=lambda j: (j.campaign_id, j.device_id))
            rows = [{f"v_{k}": v for k, v in _job_values(new, now).items()} for new in ordered]
            self.connection.execute(_UPDATE_JOB, rows)
        if events:
            self.connection.execute(insert(job_events), [_event_values(e) for e in events])
        self._count(changes)

    def _count(self, changes: Sequence[tuple[DeviceJob, DeviceJob]]) -> None:
        """Add the counter deltas of `changes`: one upsert for all of them, in one key
        order everywhere (so concurrent writers cannot deadlock)."""
        deltas: Counter[tuple[int, int, str]] = Counter()
        for old, new in changes:
            if old.state != new.state:
                deltas[(old.campaign_id, old.wave, old.state.value)] -= 1
                deltas[(new.campaign_id, new.wave, new.state.value)] += 1
        rows = [{"campaign_id": c, "wave": w, "state": s, "count": d}
                for (c, w, s), d in sorted(deltas.items()) if d]
        if rows:
            self.connection.execute(_ADD_COUNT[self.postgres], rows)

    def counters(self, campaign_id: int) -> dict[tuple[int, str], int]:
        """Maintained device counts per (wave, state): the status without a scan."""
        rows = self.connection.execute(select(
            campaign_counters.c.wave, campaign_counters.c.state, campaign_counters.c.count)
            .where(campaign_counters.c.campaign_id == campaign_id))
        return {(wave, state): count for wave, state, count in rows if count}

    def device_history(self, device_id: str, limit: int = 500) -> builtins.list[dict[str, Any]]:
        """Every recorded transition of a device, oldest first."""
        rows = self.connection.execute(select(job_events).where(
            job_events.c.device_id == device_id).order_by(job_events.c.id).limit(limit))
        return [dict(r._mapping) for r in rows]

    def verified_steps(self, campaign_id: int) -> int:
        """How many device-steps were confirmed by a read-back."""
        return int(self.connection.scalar(select(func.count()).select_from(job_events).where(
            job_events.c.campaign_id == campaign_id, job_events.c.cause == "version_read",
            job_events.c.to_state.in_([JobState.PLANNED.value, JobState.DONE.value]))) or 0)

    def failures(self, campaign_id: int) -> dict[str, int]:
        """Terminal failures of a campaign by reason."""
        rows = self.connection.execute(
            select(device_jobs.c.failure, func.count()).where(
                device_jobs.c.campaign_id == campaign_id,
                device_jobs.c.state.in_([s.value for s in TERMINAL if s is not JobState.DONE]))
            .group_by(device_jobs.c.failure))
        return {str(reason): int(n) for reason, n in rows}


@functools.cache
def _due_query(states: tuple[str, ...], locked: bool) -> Select[Any] | CompoundSelect[Any]:
    """The due jobs of each state in `states`, each state's earliest `lim` (so each reads
    only its own stretch of ix_device_jobs_due), as one statement: the states' selects
    joined by UNION ALL (locked rows skipped, on PostgreSQL). Built once per shape."""
    branches = []
    for state in states:
        branch = (select(device_jobs).where(
            device_jobs.c.campaign_id == bindparam("c"), device_jobs.c.state == state,
            device_jobs.c.wave <= bindparam("w"),
            or_(device_jobs.c.due_at.is_(None), device_jobs.c.due_at <= bindparam("now")))
            .order_by(device_jobs.c.due_at, device_jobs.c.id).limit(bindparam("lim")))
        if locked:
            branch = branch.with_for_update(skip_locked=True)
        branches.append(branch)
    if len(branches) == 1:
        return branches[0]
    return union_all(*(select(b.subquery()) for b in branches))


def _add_count_upsert(dialect: Any) -> Any:
    statement = dialect.insert(campaign_counters)
    return statement.on_conflict_do_update(
        index_elements=["campaign_id", "wave", "state"],
        set_={"count": campaign_counters.c.count + statement.excluded["count"]})


_ADD_COUNT = {True: _add_count_upsert(postgresql), False: _add_count_upsert(sqlite)}
_UPDATE_JOB = update(device_jobs).where(
    device_jobs.c.campaign_id == bindparam("v_campaign_id"),
    device_jobs.c.device_id == bindparam("v_device_id")).values(
    {name: bindparam(f"v_{name}") for name in (
        "wave", "path", "step", "entry", "state", "attempt", "due_at", "deadline_at",
        "request_id", "failure", "ppmid", "updated_at", "read_at")})


def _campaign_values(c: Campaign) -> dict[str, Any]:
    return {"id": c.id, "name": c.name, "target": c.target, "selection": c.selection,
            "policy": policy_to_dict(c.policy), "state": c.state.value,
            "created_by": c.created_by, "created_at": c.created_at,
            "approved_by": c.approved_by, "scheduled_for": c.scheduled_for,
            "current_wave": c.current_wave, "pause_reason": c.pause_reason,
            "device_count": c.device_count,
            "acknowledged": {str(w): f for w, f in c.acknowledged.items()}}


def _campaign(row: Any) -> Campaign:
    return Campaign(
        id=row["id"], name=row["name"], target=row["target"], selection=row["selection"],
        policy=policy_from_dict(row["policy"]), created_by=row["created_by"],
        created_at=aware(row["created_at"]), state=CampaignState(row["state"]),
        device_count=row["device_count"], approved_by=row["approved_by"],
        scheduled_for=aware(row["scheduled_for"]), current_wave=row["current_wave"],
        pause_reason=row["pause_reason"] or "",
        acknowledged={int(w): f for w, f in (row["acknowledged"] or {}).items()})


def _job_values(j: DeviceJob, now: dt.datetime) -> dict[str, Any]:
    return {"campaign_id": j.campaign_id, "device_id": j.device_id, "wave": j.wave,
            "path": list(j.path), "step": j.step, "entry": j.entry, "state": j.state.value,
            "attempt": j.attempt, "due_at": j.due_at, "deadline_at": j.deadline_at,
            "request_id": j.request_id, "failure": j.failure, "ppmid": j.ppmid,
            "updated_at": now, "read_at": j.read_at}


def _job(row: Any) -> DeviceJob:
    return DeviceJob(
        campaign_id=row["campaign_id"], device_id=row["device_id"], path=tuple(row["path"]),
        wave=row["wave"], step=row["step"], state=JobState(row["state"]),
        attempt=row["attempt"], due_at=aware(row["due_at"]),
        deadline_at=aware(row["deadline_at"]), request_id=row["request_id"],
        failure=row["failure"], ppmid=bool(row["ppmid"]), read_at=aware(row["read_at"]))


def _event_values(e: JobEvent) -> dict[str, Any]:
    return {"campaign_id": e.campaign_id, "device_id": e.device_id, "at": e.at,
            "name": e.name, "from_state": e.from_state, "to_state": e.to_state, "step": e.step,
            "cause": e.cause, "request_id": e.request_id, "message_id": e.message_id,
            "data": e.data}
