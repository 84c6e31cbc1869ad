"""Run a campaign to the end in simulated time: the dry run's event loop.

Each turn sends everything due now (as the dispatcher task would), runs the wave gate, then
moves simulated time to the next thing that can happen: a simulated response or alert, a job
becoming due (retry backoff, activation window), a pacing window refilling, or a stage
deadline. The same handlers run under Celery in production; only the loop differs.
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from orchestrator.domain.campaign import CampaignState
from orchestrator.domain.ports import SimulatedWorld
from orchestrator.service import campaigns
from orchestrator.service.execution import dispatch
from orchestrator.service.reconcile import time_out_overdue
from orchestrator.service.wiring import Execution

STOP_STATES = {CampaignState.COMPLETED.value, CampaignState.CANCELLED.value,
               CampaignState.ABORTED.value, CampaignState.PAUSED.value}


@dataclass
class RunStats:
    """Counts and times of one simulated run."""

    requests: dict[str, int] = field(default_factory=dict)
    turns: int = 0
    events_delivered: int = 0
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    wall_seconds: float = 0.0
    final_state: str = ""


def run_campaign(ex: Execution, world: SimulatedWorld, campaign_id: int, *,
                 horizon: dt.timedelta = dt.timedelta(days=120),
                 tick: dt.timedelta = dt.timedelta(minutes=15),
                 on_turn: Callable[[RunStats], None] | None = None) -> RunStats:
    """Drive a started campaign until it completes, pauses or the horizon passes.

    Time moves at least `tick` per turn, so answers and retries falling close together are
    handled together (as a worker polling every few minutes would), not one turn each.
    """
    started = ex.clock.now()
    stats = RunStats(started_at=started)
    wall = time.perf_counter()
    end = started + horizon
    while True:
        stats.turns += 1
        paced_until = _send_all_due(ex, campaign_id, stats)
        stats.final_state = campaigns.gate(ex, campaign_id)
        if on_turn is not None:
            on_turn(stats)
        if stats.final_state in STOP_STATES:
            break
        moment = _next_moment(ex, world, campaign_id, paced_until)
        if moment is None or moment > end:
            break
        now = ex.clock.now()
        if moment == now:  # a wave just opened: its devices are due now
            continue
        stats.events_delivered += world.advance_to(max(moment, min(now + tick, end)))
        time_out_overdue(ex, 100_000)
    stats.ended_at = ex.clock.now()
    stats.wall_seconds = time.perf_counter() - wall
    return stats


def _send_all_due(ex: Execution, campaign_id: int, stats: RunStats) -> dt.datetime | None:
    paced_until = None
    while True:
        report = dispatch(ex, campaign_id)
        for sr, n in report.requests.items():
            stats.requests[sr] = stats.requests.get(sr, 0) + n
        if report.paced_until is not None:
            paced_until = report.paced_until
        if report.devices == 0:
            return paced_until


def _next_moment(ex: Execution, world: SimulatedWorld, campaign_id: int,
                 paced_until: dt.datetime | None) -> dt.datetime | None:
    now = ex.clock.now()
    with ex.uow() as uow:
        campaign = uow.campaigns.get(campaign_id)
        wave = campaign.current_wave if campaign else 0
        due = uow.campaigns.next_due_at(campaign_id, wave)
        candidates = [world.next_event_time(), due, uow.campaigns.next_deadline(), paced_until]
    if due is not None and due <= now and paced_until is None:
        return now
    future = [c for c in candidates if c is not None and c > now]
    return min(future) if future else None
