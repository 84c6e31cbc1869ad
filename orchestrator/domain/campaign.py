"""The campaign aggregate and its state machine.

draft → awaiting_approval → approved | scheduled → running ⇄ paused →
completed | cancelled | aborted. Methods check the transition table, change state and return
the event to record; they never do I/O.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orchestrator.domain.errors import ApprovalError, InvalidTransitionError
from orchestrator.domain.policy import Policy


class CampaignState(StrEnum):
    """Where a campaign is in its life."""

    DRAFT = "draft"
    AWAITING_APPROVAL = "awaiting_approval"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ABORTED = "aborted"


S = CampaignState
TERMINAL = frozenset({S.COMPLETED, S.CANCELLED, S.ABORTED})
ALLOWED: dict[str, frozenset[CampaignState]] = {
    "submit": frozenset({S.DRAFT}),
    "approve": frozenset({S.AWAITING_APPROVAL}),
    "schedule": frozenset({S.APPROVED}),
    "start": frozenset({S.APPROVED, S.SCHEDULED}),
    "pause": frozenset({S.RUNNING}),
    "resume": frozenset({S.PAUSED}),
    "complete": frozenset({S.RUNNING}),
    "cancel": frozenset({S.DRAFT, S.AWAITING_APPROVAL, S.APPROVED, S.SCHEDULED, S.RUNNING,
                         S.PAUSED}),
    "abort": frozenset({S.RUNNING, S.PAUSED}),
}
USER_ACTIONS = ("submit", "approve", "start", "pause", "resume", "cancel")


def allowed_actions(state: CampaignState) -> list[str]:
    """The actions a user may take on a campaign in this state (the forms offer no others)."""
    return [a for a in USER_ACTIONS if state in ALLOWED[a]]


@dataclass(frozen=True)
class CampaignEvent:
    """Something that happened to a campaign: recorded with who, when and why."""

    campaign_id: int
    name: str
    at: dt.datetime
    actor: str
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class Campaign:
    """A fleet-wide firmware campaign: what, for whom, how, and where it has got to."""

    id: int
    name: str
    target: str
    selection: dict[str, list[str]]
    policy: Policy
    created_by: str
    created_at: dt.datetime
    state: CampaignState = S.DRAFT
    device_count: int = 0
    approved_by: str | None = None
    scheduled_for: dt.datetime | None = None
    current_wave: int = 0
    pause_reason: str = ""
    acknowledged: dict[int, dict[str, int]] = field(default_factory=dict)

    def needs_second_approver(self, four_eyes_above: int) -> bool:
        """Campaigns above the deployment's four-eyes size need another person's approval."""
        return self.device_count > four_eyes_above

    def is_creator(self, actor: str) -> bool:
        """Whether `actor` is the creator (user names are case-insensitive)."""
        return actor.casefold() == self.created_by.casefold()

    def _move(self, action: str, to: CampaignState, at: dt.datetime, actor: str,
              reason: str = "", **data: Any) -> CampaignEvent:
        if self.state not in ALLOWED[action]:
            raise InvalidTransitionError(
                f"campaign {self.id} is {self.state.value}: cannot {action}")
        before = self.state
        self.state = to
        return CampaignEvent(self.id, f"campaign_{action}", at, actor, reason,
                             {"from": before.value, "to": to.value, **data})

    def submit(self, at: dt.datetime, actor: str, four_eyes_above: int) -> list[CampaignEvent]:
        """Ask for approval; campaigns at most the four-eyes size are approved at once.

        `four_eyes_above` is the deployment's setting, never the campaign's own.
        """
        events = [self._move("submit", S.AWAITING_APPROVAL, at, actor,
                             four_eyes_above=four_eyes_above)]
        if not self.needs_second_approver(four_eyes_above):
            self.approved_by = actor
            events.append(self._move("approve", S.APPROVED, at, actor,
                                     "below the four-eyes size", self_approved=True))
        return events

    def approve(self, at: dt.datetime, actor: str) -> CampaignEvent:
        """Approve: never by the person who created the campaign (four eyes)."""
        if self.state is S.AWAITING_APPROVAL and self.is_creator(actor):
            raise ApprovalError(f"campaign {self.id} needs approval by someone other than its "
                                f"creator {self.created_by!r}")
        event = self._move("approve", S.APPROVED, at, actor)
        self.approved_by = actor
        return event

    def schedule(self, at: dt.datetime, actor: str, start_at: dt.datetime) -> CampaignEvent:
        """Start automatically at a later time."""
        self.scheduled_for = start_at
        return self._move("schedule", S.SCHEDULED, at, actor, start_at=start_at.isoformat())

    def start(self, at: dt.datetime, actor: str) -> CampaignEvent:
        """Begin sending: the first wave opens."""
        self.current_wave = max(self.current_wave, 1)
        return self._move("start", S.RUNNING, at, actor, wave=self.current_wave)

    def pause(self, at: dt.datetime, actor: str, reason: str) -> CampaignEvent:
        """Stop sending new work; what is in flight is still tracked."""
        self.pause_reason = reason
        return self._move("pause", S.PAUSED, at, actor, reason)

    def resume(self, at: dt.datetime, actor: str) -> CampaignEvent:
        """Continue after a pause."""
        self.pause_reason = ""
        return self._move("resume", S.RUNNING, at, actor)

    def open_next_wave(self, at: dt.datetime) -> CampaignEvent:
        """The gate passed: the next wave may start."""
        self.current_wave += 1
        return CampaignEvent(self.id, "wave_opened", at, "system", "",
                             {"wave": self.current_wave})

    def complete(self, at: dt.datetime) -> CampaignEvent:
        """Every device reached a terminal state."""
        return self._move("complete", S.COMPLETED, at, "system")

    def cancel(self, at: dt.datetime, actor: str, reason: str) -> CampaignEvent:
        """Stop for good; pending future-dated activations must be cancelled too."""
        return self._move("cancel", S.CANCELLED, at, actor, reason)

    def abort(self, at: dt.datetime, actor: str, reason: str) -> CampaignEvent:
        """Stop for good because something is wrong (not a user's choice to cancel)."""
        return self._move("abort", S.ABORTED, at, actor, reason)

    @property
    def sending(self) -> bool:
        """True when new requests may be sent."""
        return self.state is S.RUNNING
