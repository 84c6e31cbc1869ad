"""Applying outcomes to device jobs, and the wave gates that follow from the counters."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from orchestrator.domain.campaign import Campaign, CampaignEvent
from orchestrator.domain.jobs import (
    FAILED,
    Context,
    JobEvent,
    JobState,
    Outcome,
    advance,
)
from orchestrator.domain.waves import WaveCounts, evaluate_gate
from orchestrator.service.wiring import Execution

REQUEST_SCOPE = "*"  # an outcome for every device waiting on the outcome's request


def apply_in_uow(ex: Execution, uow: Any, results: list[tuple[str, Outcome]],
                 message_id: int | None | list[int | None], *,
                 include_terminal: bool = False) -> int:
    """Advance each device's current job by its outcomes, in order; stale ones are no-ops.

    `message_id` names the inbound message behind the outcomes: one for all, or one each.
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
    for (device, outcome), mid in zip(results, ids):
        job = jobs.get(device)
        if job is None:
            continue
        campaign, catalogue = _campaign(ex, uow, job.campaign_id)
        entry = catalogue.get(job.entry)
        ctx = Context(now, campaign.policy, entry.firmware_version if entry else "", ex.rng,
                      entry.image_hash if entry else "")
        moved = advance(job, outcome, ctx)
        if moved is not None:
            jobs[device], event = moved
            events.append(replace(event, message_id=mid) if mid is not None else event)
    changes = [(originals[d], j) for d, j in jobs.items() if j != originals[d]]
    uow.campaigns.update_jobs(changes, events, now)
    return len(changes)


def _expand(uow: Any, results: list[tuple[str, Outcome]], ids: list[int | None]
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


def _campaign(ex: Execution, uow: Any, campaign_id: int) -> tuple[Campaign, Any]:
    """A campaign's policy and catalogue (both fixed at creation, so cached per process)."""
    if campaign_id not in ex.campaign_cache:
        campaign = uow.campaigns.get(campaign_id)
        snapshot = uow.campaigns.row(campaign_id)["snapshot_id"]
        ex.campaign_cache[campaign_id] = (campaign, ex.catalogue(snapshot, uow))
    return ex.campaign_cache[campaign_id]


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


def run_gate(ex: Execution, uow: Any, campaign: Campaign) -> list[CampaignEvent]:
    """Pause, open the next wave or complete a running campaign, as its counters say."""
    now = ex.clock.now()
    events: list[CampaignEvent] = []
    last_wave = uow.campaigns.row(campaign.id)["wave_count"]
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
