"""In-memory campaigns, device jobs, their events and maintained counters."""
from __future__ import annotations

import copy
import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from orchestrator.domain import waiting
from orchestrator.domain.campaign import Campaign, CampaignEvent, CampaignState
from orchestrator.domain.jobs import SEND, TERMINAL, WAIT, DeviceJob, JobEvent, JobState
from tests.fakes.state import EPOCH, State, next_id

# campaigns ----------------------------------------------------------------------------------
_CAMPAIGN_FIELDS = ("name", "target", "selection", "state", "created_by", "created_at",
                    "approved_by", "scheduled_for", "current_wave", "pause_reason",
                    "device_count", "acknowledged")


class InMemoryCampaignRepository:
    """Campaign rows, jobs, their events and maintained per-(wave, state) counters."""

    def __init__(self, state: State):
        self.s = state

    def add(self, campaign: Campaign, snapshot_id: int | None, wave_count: int) -> int:
        campaign_id = next_id(self.s.campaigns)
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

    def load(self, campaign_id: int, *, lock: bool = False
             ) -> tuple[Campaign, dict[str, Any]] | None:
        row = self.row(campaign_id)
        return None if row is None else (_campaign(row), row)

    def save(self, campaign: Campaign, **extra: Any) -> None:
        self.s.campaigns[campaign.id].update(_campaign_row(campaign), **extra)

    def record_dispatch(self, campaign_id: int, at: dt.datetime,
                        pacing: dict[str, Any] | None = None,
                        stored: dict[str, Any] | None = None) -> None:
        row = self.s.campaigns[campaign_id]
        row["dispatched_at"] = at
        if pacing:
            base = row["pacing"] or {} if stored is None else stored
            row["pacing"] = {**copy.deepcopy(base), **copy.deepcopy(pacing)}

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
            waiting.split_scheduled(waves, dated)
        next_due = (self.next_due_at(campaign.id, campaign.current_wave)
                    if campaign.state is CampaignState.RUNNING else None)
        return waiting.Facts(now, waves, next_due, waiting.held_from(row["pacing"]),
                             row["dispatched_at"])

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

    def due(self, campaign_id: int, max_wave: int, now: dt.datetime, limit: int,
            states: Collection[JobState] | None = None) -> list[DeviceJob]:
        found: list[DeviceJob] = []
        for state in SEND:
            if states is not None and state not in states:
                continue
            ready = [j for j in self._jobs(campaign_id) if j.state is state
                     and j.wave <= max_wave and (j.due_at is None or j.due_at <= now)]
            found += sorted(ready, key=lambda j: (j.due_at is not None, j.due_at or EPOCH,
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
        return sorted(late, key=lambda j: j.deadline_at or EPOCH)[:limit]

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

    # last in the class: a method named `list` would shadow the builtin in annotations
    def list(self, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        ids = sorted(self.s.campaigns, reverse=True)[offset:offset + limit]
        return [copy.deepcopy(self.s.campaigns[i]) for i in ids]


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
