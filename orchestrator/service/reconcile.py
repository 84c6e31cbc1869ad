"""The reconciler: re-derives due work from the database (beat runs it periodically).

Times out overdue stages, re-processes stored-but-unprocessed inbound messages, starts
scheduled campaigns whose time has come, and runs every running campaign's wave gate.
Celery messages are only nudges; this is what guarantees progress after a crash.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from orchestrator.domain.campaign import CampaignState
from orchestrator.domain.jobs import Outcome, OutcomeKind
from orchestrator.domain.moments import aware
from orchestrator.service import campaigns, inbound
from orchestrator.service.access import Principal
from orchestrator.service.applying import REQUEST_SCOPE, apply_in_uow
from orchestrator.service.wiring import Execution

SCHEDULER = Principal("scheduler", "operator")  # starts campaigns scheduled by a user


@dataclass
class ReconcileReport:
    """What one reconciler pass did."""

    timed_out: int = 0
    reprocessed: int = 0
    started: list[int] = field(default_factory=list)
    running: list[int] = field(default_factory=list)


def reconcile(ex: Execution, limit: int = 5000) -> ReconcileReport:
    """One pass over everything that may be owed work."""
    report = ReconcileReport()
    report.timed_out = time_out_overdue(ex, limit) + time_out_unacknowledged(ex, limit)
    report.reprocessed = reprocess_pending(ex, limit)
    report.started = start_scheduled(ex)
    with ex.uow() as uow:
        ids = uow.campaigns.running_ids()
    report.running = [c for c in ids if campaigns.gate(ex, c) == CampaignState.RUNNING.value]
    return report


def time_out_overdue(ex: Execution, limit: int) -> int:
    """Stages past their deadline time out (retry, read-back recovery, or failure)."""
    with ex.uow() as uow:
        overdue = uow.campaigns.overdue(ex.clock.now(), limit)
        moved = apply_in_uow(ex, uow, [(j.device_id, Outcome(OutcomeKind.TIMED_OUT, j.request_id,
                                                              "stage deadline passed"))
                                       for j in overdue], None)
        uow.commit()
    return moved


def time_out_unacknowledged(ex: Execution, limit: int) -> int:
    """Requests recorded but never answered (a worker died mid-send) time out now.

    Without this their jobs would wait for the whole stage deadline (days for delivery).
    The retry is recorded; if the DSP did get the first request, the device's verdict
    still matches the retried step by its image hash.
    """
    with ex.uow() as uow:
        grace = dt.timedelta(seconds=ex.unacknowledged_grace_s)
        lost = uow.requests.unacknowledged(ex.clock.now() - grace, limit)
        outcomes = [(REQUEST_SCOPE, Outcome(OutcomeKind.TIMED_OUT, rid, "request never acknowledged "
                                           "by the DSP (sender died?)")) for rid in lost]
        moved = apply_in_uow(ex, uow, outcomes, None) if outcomes else 0
        uow.requests.record_response_codes({rid: "LOST" for rid in lost})
        uow.commit()
    return moved


def reprocess_pending(ex: Execution, limit: int) -> int:
    """Messages stored but never processed (a crash, a lost task) are processed now, in
    batches, once they have waited `unacknowledged_grace_s`: a message a receiver or worker
    is applying at this moment is left to it, not verified a second time here."""
    before = ex.clock.now() - dt.timedelta(seconds=ex.unacknowledged_grace_s)
    return inbound.apply_pending(ex, limit=limit, received_before=before)


def start_scheduled(ex: Execution) -> list[int]:
    """Scheduled campaigns whose start time has passed begin running."""
    now = ex.clock.now()
    with ex.uow() as uow:
        due = [r["id"] for r in uow.campaigns.list(limit=1000)
               if r["state"] == CampaignState.SCHEDULED.value and r["scheduled_for"]
               and aware(r["scheduled_for"]) <= now]
    for campaign_id in due:
        campaigns.act(ex, campaign_id, "start", SCHEDULER, "scheduled start")
    return due
