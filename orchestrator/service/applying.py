"""Applying outcomes to device jobs, and the wave gates that follow from the counters."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import replace
from typing import Any, TypeVar

from orchestrator.domain.campaign import Campaign, CampaignEvent
from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.domain.fleet import Device, observe_firmware
from orchestrator.domain.jobs import (
    CHECKS,
    FAILED,
    Context,
    DeviceJob,
    JobEvent,
    JobState,
    Outcome,
    OutcomeKind,
    Replan,
    advance,
)
from orchestrator.domain.observations import FirmwareRead
from orchestrator.domain.planner import Planner, PlanningPolicy
from orchestrator.domain.waves import WaveCounts, evaluate_gate
from orchestrator.service.fleet_facts import record_reads
from orchestrator.service.unit_of_work import UnitOfWork
from orchestrator.service.wiring import Execution

REQUEST_SCOPE = "*"  # an outcome for every device waiting on the outcome's request


def apply_in_uow(ex: Execution, uow: UnitOfWork, results: list[tuple[str, Outcome]],
                 message_id: int | None | list[int | None], *,
                 include_terminal: bool = False) -> int:
    """Advance each device's current job by its outcomes, in order; stale ones are no-ops.

    Every firmware read among the outcomes also updates the fleet in the same transaction
    (see `fleet_facts`), and a read the job waits on is judged against a re-plan from the
    version it showed. `message_id` names the inbound message behind the outcomes: one for
    all, or one each.
    """
    now = ex.clock.now()
    ids = message_id if isinstance(message_id, list) else [message_id] * len(results)
    results, ids = _expand(uow, results, ids)
    devices = sorted({device for device, _ in results})
    if include_terminal:
        found = [j for d in devices for j in uow.campaigns.jobs_of_device(d)[-1:]]
    else:
        found = uow.campaigns.active_for_devices(devices)
    jobs = {j.device_id: j for j in found}
    originals = dict(jobs)
    events: list[JobEvent] = []
    reads = _Reads(ex, uow, [d for d, o in results if _is_read(o)])
    for (device, outcome), mid in zip(results, ids):
        job = jobs.get(device)
        if job is None:
            reads.add(device, outcome, mid, None, None)
            continue
        campaign, catalogue = _campaign(ex, uow, job.campaign_id)
        entry = catalogue.get(job.entry)
        ctx = Context(now, campaign.policy, entry.firmware_version if entry else "", ex.rng,
                      entry.image_hash if entry else "")
        if _is_read(outcome):
            ctx = replace(ctx, replan=reads.replan(job, outcome, ctx, campaign))
        moved = advance(job, outcome, ctx)
        if moved is not None:
            jobs[device], event = moved
            events.append(replace(event, message_id=mid) if mid is not None else event)
        if _is_read(outcome):
            reads.add(device, outcome, mid, job, moved[1] if moved else None, entry)
    changes = [(originals[d], j) for d, j in jobs.items() if j != originals[d]]
    uow.campaigns.update_jobs(changes, events, now)
    reads.record(now)
    return len(changes)


def _is_read(outcome: Outcome) -> bool:
    return outcome.kind == OutcomeKind.VERSION_READ and bool(outcome.firmware_version)


class _Reads:
    """The firmware reads among a batch of outcomes: re-plans for the jobs waiting on them,
    then one fleet update for all of them (campaign or not)."""

    def __init__(self, ex: Execution, uow: UnitOfWork, devices: list[str]):
        self.ex, self.uow = ex, uow
        self.known = uow.fleet.get_many(devices) if devices else {}
        self.reads: list[FirmwareRead] = []
        self.catalogues: list[Catalogue] = []

    def replan(self, job: DeviceJob, outcome: Outcome, ctx: Context,
               campaign: Campaign) -> Replan | None:
        """The plan from the version read, when the job's next move depends on it."""
        version = outcome.firmware_version or ""
        if job.state not in CHECKS and not (
                job.state is JobState.VERIFYING
                and version.upper() != ctx.expected_version.upper()):
            return None
        device = self.known.get(job.device_id)
        if device is None:
            return None
        try:
            seen = observe_firmware(device, version, "11.2", ctx.now)
        except ValueError:
            return None
        planner = _planner(self.ex, self.uow, campaign)
        found = planner.outcome(seen, campaign.target)
        return Replan(found.status, found.path, found.reason)

    def add(self, device: str, outcome: Outcome, mid: int | None, job: DeviceJob | None,
            event: JobEvent | None, entry: CatalogueEntry | None = None) -> None:
        if not _is_read(outcome):
            return
        at = outcome.observed_at or self.ex.clock.now()
        read = FirmwareRead(device, outcome.firmware_version or "", at, "11.2",
                            message_id=mid)
        if job is not None and entry is not None:
            read = replace(read, campaign_id=job.campaign_id, source="11.2 read-back"
                           if job.state is JobState.VERIFYING else "11.2 read")
            confirmed = (event is not None and event.cause == "version_read"
                         and event.to_state in (JobState.PLANNED.value, JobState.DONE.value))
            if confirmed:
                read = replace(read, entry=entry.cpl_entry_id, entry_hash=entry.image_hash,
                               expected=entry.firmware_version)
            self.catalogues.append(_campaign(self.ex, self.uow, job.campaign_id)[1])
        self.reads.append(read)

    def record(self, now: dt.datetime) -> None:
        if self.reads:
            record_reads(self.uow, self.reads, now, known=self.known,
                         version_of=self._version_of)

    def _version_of(self, device: Device) -> str:
        """The version of the entry the record names by hash or confirmed entry."""
        for catalogue in self.catalogues:
            entry = catalogue.get(device.firmware_entry) if device.firmware_entry else None
            found = [entry] if entry else catalogue.by_hash(device.firmware_hash or "-")
            if found:
                return str(found[0].firmware_version)
        return ""


# planners by (catalogue object, guessing), and each campaign's guessing choice (fixed at
# creation) by (catalogue object, campaign); the catalogue is kept to check identity
_PLANNERS: dict[tuple[int, bool], tuple[Catalogue, Planner]] = {}
_GUESSING: dict[tuple[int, int], tuple[Catalogue, bool]] = {}
K = TypeVar("K")
V = TypeVar("V")


def _planner(ex: Execution, uow: UnitOfWork, campaign: Campaign) -> Planner:
    """A planner over the campaign's catalogue with the policy its plan used (cached)."""
    catalogue = _campaign(ex, uow, campaign.id)[1]
    known = _GUESSING.get((id(catalogue), campaign.id))
    if known is None or known[0] is not catalogue:
        row = _row(uow, campaign.id)
        plan = uow.plans.get(row["plan_id"]) if row.get("plan_id") else None
        guessing = bool((plan.policy if plan else {}).get("allow_unknown_predecessors"))
        known = _bounded(_GUESSING, 10_000)[(id(catalogue), campaign.id)] = (catalogue,
                                                                              guessing)
    found = _PLANNERS.get((id(catalogue), known[1]))
    if found is None or found[0] is not catalogue:
        policy = PlanningPolicy(allow_unknown_predecessors=known[1])
        found = _bounded(_PLANNERS, 8)[(id(catalogue), known[1])] = (
            catalogue, Planner(catalogue, policy))
    return found[1]


def _bounded(cache: dict[K, V], size: int) -> dict[K, V]:
    if len(cache) >= size:
        cache.clear()
    return cache


def _expand(uow: UnitOfWork, results: list[tuple[str, Outcome]], ids: list[int | None]
            ) -> tuple[list[tuple[str, Outcome]], list[int | None]]:
    expanded: list[tuple[str, Outcome]] = []
    expanded_ids: list[int | None] = []
    for (device, outcome), mid in zip(results, ids):
        if device == REQUEST_SCOPE and outcome.request_id:
            jobs = uow.campaigns.by_request(outcome.request_id)
            expanded += [(j.device_id, outcome) for j in jobs]
            expanded_ids += [mid] * len(jobs)
        elif device != REQUEST_SCOPE:
            expanded.append((device, outcome))
            expanded_ids.append(mid)
    return expanded, expanded_ids


def _campaign(ex: Execution, uow: UnitOfWork, campaign_id: int
              ) -> tuple[Campaign, Catalogue]:
    """A campaign's policy and catalogue (both fixed at creation, so cached per process)."""
    if campaign_id not in ex.campaign_cache:
        campaign = uow.campaigns.get(campaign_id)
        assert campaign is not None  # a job or a caller named it
        snapshot = _row(uow, campaign_id)["snapshot_id"]
        ex.campaign_cache[campaign_id] = (campaign, ex.catalogue(snapshot, uow))
    return ex.campaign_cache[campaign_id]


def _row(uow: UnitOfWork, campaign_id: int) -> dict[str, Any]:
    """The stored fields of a campaign known to exist."""
    row = uow.campaigns.row(campaign_id)
    assert row is not None
    return row


def wave_counts(counters: dict[tuple[int, str], int]) -> dict[int, WaveCounts]:
    """Per-wave totals, done and failures by reason from the maintained counters."""
    waves: dict[int, WaveCounts] = defaultdict(WaveCounts)
    for (wave, state), count in counters.items():
        counts = waves[wave]
        counts.total += count
        if state == JobState.DONE.value:
            counts.done += count
        elif JobState(state) in FAILED:
            counts.failed[state] = counts.failed.get(state, 0) + count
    return dict(waves)


def _unacknowledged(counts: dict[int, WaveCounts], campaign: Campaign) -> dict[int, WaveCounts]:
    """Failures ops accepted by resuming do not count against the thresholds again."""
    for wave, accepted in campaign.acknowledged.items():
        if wave in counts:
            failed = counts[wave].failed
            counts[wave].failed = {k: v - accepted.get(k, 0) for k, v in failed.items()}
            counts[wave].done += sum(min(v, accepted.get(k, 0)) for k, v in failed.items())
    return counts


def run_gate(ex: Execution, uow: UnitOfWork, campaign: Campaign) -> list[CampaignEvent]:
    """Pause, open the next wave or complete a running campaign, as its counters say."""
    now = ex.clock.now()
    events: list[CampaignEvent] = []
    last_wave = _row(uow, campaign.id)["wave_count"]
    while campaign.sending:
        counts = _unacknowledged(wave_counts(uow.campaigns.counters(campaign.id)), campaign)
        decision = evaluate_gate(campaign.policy, campaign.current_wave, last_wave, counts)
        if decision.action == "pause":
            events.append(campaign.pause(now, "system", decision.reason))
        elif decision.action == "open_next":
            events.append(campaign.open_next_wave(now))
            continue
        elif decision.action == "complete":
            events.append(campaign.complete(now))
        break
    return events
