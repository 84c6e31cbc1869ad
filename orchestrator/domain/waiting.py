"""What a campaign is waiting for, and until when: approval, a scheduled start, a pause,
an SR budget, the activation window, retry backoff, answers from the DSP, the wave gate, or
a dispatcher that has not been seen.

Pure: the service reads the facts (maintained counters, the earliest due job, what the last
dispatch recorded) and `campaign_wait` names the one wait that holds the campaign up now.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from orchestrator.domain.campaign import Campaign, CampaignState
from orchestrator.domain.job_model import SEND, TERMINAL, WAIT, JobState

S = CampaignState
# a running campaign with due work and no dispatch for this long is waiting for a worker
DISPATCHER_GRACE = dt.timedelta(minutes=2)
SCHEDULED = "scheduled"  # shown apart from `activating`: an 11.3 dated later, not yet run
IN_FLIGHT = frozenset(s.value for s in WAIT)  # a request is out: waiting for its answer
QUEUED = frozenset(s.value for s in SEND)  # the orchestrator owes the next request
UNFINISHED = frozenset(s.value for s in JobState) - {s.value for s in TERMINAL} | {SCHEDULED}


@dataclass(frozen=True)
class Held:
    """An SR type's budget ran out at the last dispatch: sends resume when it refills."""

    sr_type: str
    limit: int
    period_s: float
    until: dt.datetime


@dataclass(frozen=True)
class Facts:
    """What the service read about a campaign's progress (no scan of its jobs)."""

    now: dt.datetime
    waves: dict[int, dict[str, int]] = field(default_factory=dict)  # per wave, per state
    next_due_at: dt.datetime | None = None  # earliest job owing a request, in open waves
    held: tuple[Held, ...] = ()
    dispatched_at: dt.datetime | None = None  # a dispatcher last looked at the campaign


@dataclass(frozen=True)
class Wait:
    """One reason a campaign is not moving now, in words, and when it ends if known."""

    reason: str
    detail: str
    until: dt.datetime | None = None
    sr_type: str | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready."""
        return {"reason": self.reason, "detail": self.detail, "sr_type": self.sr_type,
                "until": None if self.until is None else self.until.isoformat()}


def held_from(pacing: dict[str, Any] | None) -> tuple[Held, ...]:
    """The SR types a dispatch recorded as used up (`pacing` as stored on the campaign)."""
    return tuple(Held(sr, int(p["limit"]), float(p["period_s"]),
                      dt.datetime.fromisoformat(p["held_until"]))
                 for sr, p in sorted((pacing or {}).items()) if p.get("held_until"))


def campaign_wait(campaign: Campaign, facts: Facts) -> Wait | None:
    """The wait holding the campaign up now, or None when it is moving (or finished)."""
    if campaign.state is S.DRAFT:
        return Wait("submission", "draft: submit it for approval")
    if campaign.state is S.AWAITING_APPROVAL:
        return Wait("approval", f"{campaign.device_count} devices is above the four-eyes "
                    f"size: needs an approver other than {campaign.created_by}")
    if campaign.state is S.APPROVED:
        return Wait("start", f"approved by {campaign.approved_by}: waiting to be started")
    if campaign.state is S.SCHEDULED:
        return Wait("scheduled_start", "starts automatically", campaign.scheduled_for)
    if campaign.state is S.PAUSED:
        return Wait("paused", campaign.pause_reason or "paused: resume to continue")
    if campaign.state is S.RUNNING:
        return _running_wait(campaign, facts)
    return None


def _running_wait(campaign: Campaign, facts: Facts) -> Wait | None:
    now = facts.now
    open_counts = _sum(c for w, c in facts.waves.items() if w <= campaign.current_wave)
    if facts.next_due_at is not None and facts.next_due_at <= now:
        held = [h for h in facts.held if h.until > now]
        if held:
            first = min(held, key=lambda h: h.until)
            return Wait("pacing", f"SR {first.sr_type} budget used up ({first.limit} per "
                        f"{period_text(first.period_s)}): sends resume when it refills",
                        first.until, first.sr_type)
        if facts.dispatched_at is None or now - facts.dispatched_at > DISPATCHER_GRACE:
            seen = ("no dispatcher has run for this campaign" if facts.dispatched_at is None
                    else f"no dispatcher seen since {facts.dispatched_at.isoformat()}")
            return Wait("dispatcher", f"{_n(open_counts, QUEUED)} devices are due but {seen}: "
                        "is a worker running on this broker?")
        return None
    window = campaign.policy.activation_window
    activating = open_counts.get(SCHEDULED, 0)
    if window is not None and activating and not window.contains(now):
        return Wait("activation_window", f"{activating} activations future-dated into the "
                    f"window {window.start:%H:%M}-{window.end:%H:%M} {window.timezone}",
                    window.next_opening(now))
    in_flight = _n(open_counts, IN_FLIGHT)
    later = _n(_sum(c for w, c in facts.waves.items() if w > campaign.current_wave),
               UNFINISHED)
    if later and _n(open_counts, UNFINISHED):
        return Wait("wave_gate", f"wave {campaign.current_wave + 1} opens when the "
                    f"{_n(open_counts, UNFINISHED)} unfinished devices of wave "
                    f"{campaign.current_wave} finish and pass the thresholds")
    if in_flight:
        return Wait("answers", f"{in_flight} requests out: waiting for the DSP's responses "
                    "and the devices' alerts")
    if facts.next_due_at is not None:
        return Wait("backoff", f"{_n(open_counts, QUEUED)} devices wait to retry or for "
                    "their next step", facts.next_due_at)
    return None


def _sum(counts: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for c in counts:
        for state, n in c.items():
            total[state] = total.get(state, 0) + n
    return total


def _n(counts: dict[str, int], states: frozenset[str]) -> int:
    return sum(n for s, n in counts.items() if s in states)


def period_text(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            n = int(seconds // size)
            return unit if n == 1 else f"{n} {unit}s"
    return f"{seconds:g} s"


def split_scheduled(waves: dict[int, dict[str, int]], dated: dict[int, int]) -> None:
    """Show future-dated activations as `scheduled`, apart from those activating now."""
    for wave, n in dated.items():
        counts = waves.setdefault(wave, {})
        counts["activating"] = counts.get("activating", 0) - n
        counts[SCHEDULED] = n
        if not counts["activating"]:
            del counts["activating"]
