"""Device-job values: states, the tables that drive them, jobs, outcomes, events, context.

Pure Python. `jobs` holds the transitions over these values (and re-exports them).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from orchestrator.domain.policy import Policy


class JobState(StrEnum):
    """Where a device is within its current step (or how it ended)."""

    PREREAD = "preread"
    PREREADING = "prereading"
    PLANNED = "planned"
    DISTRIBUTING = "distributing"
    DELIVERED = "delivered"
    REREAD = "reread"
    REREADING = "rereading"
    ACTIVATING = "activating"
    ACTIVATED = "activated"
    VERIFYING = "verifying"
    DONE = "done"
    REJECTED = "rejected"
    DELIVERY_FAILED = "delivery_failed"
    VERIFICATION_FAILED = "verification_failed"
    ACTIVATION_FAILED = "activation_failed"
    QUARANTINED = "quarantined"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    BLOCKED = "blocked"


J = JobState


class OutcomeKind(StrEnum):
    """What happened to a job's current request (each has one handler in `jobs`)."""

    DELIVERED = "delivered"  # 0x8F72 / 0x8F8A: the device holds the image
    TRANSFERRED = "transferred"  # N60: the hub passed the image on
    NO_IMAGE_HELD = "no_image_held"
    ACTIVATED = "activated"
    VERSION_READ = "version_read"  # an 11.2 read-back
    REJECTED = "rejected"
    BUSY = "busy"
    DELIVERY_FAILED = "delivery_failed"
    IMAGE_VERIFICATION_FAILED = "image_verification_failed"  # 0x8F1C
    ACTIVATION_FAILED = "activation_failed"
    COMMS_FAILURE = "comms_failure"
    QUARANTINED = "quarantined"  # the DCC quarantined the request (anomaly detection)
    TIMED_OUT = "timed_out"
    REFUSED = "refused"
    DSP_UNAVAILABLE = "dsp_unavailable"
    ANSWER_REJECTED = "answer_rejected"  # the DSP's answer failed verification
    CANCEL = "cancel"  # ops actions
    RETRY = "retry"


O = OutcomeKind
TERMINAL = frozenset({J.DONE, J.REJECTED, J.DELIVERY_FAILED, J.VERIFICATION_FAILED,
                      J.ACTIVATION_FAILED, J.QUARANTINED, J.TIMED_OUT, J.CANCELLED, J.BLOCKED})
FAILED = TERMINAL - {J.DONE}
# states in which the orchestrator owes the next request, and which SR it sends
SEND: dict[JobState, str] = {J.PREREAD: "11.2", J.PLANNED: "11.1", J.REREAD: "11.2",
                             J.DELIVERED: "11.3", J.ACTIVATED: "11.2"}
# states waiting for an answer, and the state a retry of that stage returns to (a failed
# pre-read falls back to distribution: the read before activation is the one that must happen)
WAIT: dict[JobState, JobState] = {J.PREREADING: J.PLANNED, J.DISTRIBUTING: J.PLANNED,
                                  J.REREADING: J.REREAD, J.ACTIVATING: J.DELIVERED,
                                  J.VERIFYING: J.ACTIVATED}
SENT: dict[JobState, JobState] = {J.PREREAD: J.PREREADING, J.PLANNED: J.DISTRIBUTING,
                                  J.REREAD: J.REREADING, J.DELIVERED: J.ACTIVATING,
                                  J.ACTIVATED: J.VERIFYING}
# reading states, and where a read showing the step's predecessor lets the job go on
CHECKS: dict[JobState, JobState] = {J.PREREADING: J.PLANNED, J.REREADING: J.DELIVERED}
SENT_CAUSE: dict[JobState, str] = {J.PREREAD: "sent_preread", J.REREAD: "sent_reread"}


@dataclass(frozen=True)
class DeviceJob:
    """A device in a campaign: its path, where it is, and when it is next due."""

    campaign_id: int
    device_id: str
    path: tuple[str, ...]
    wave: int = 1
    step: int = 0
    state: JobState = J.PLANNED
    attempt: int = 1
    due_at: dt.datetime | None = None
    deadline_at: dt.datetime | None = None
    request_id: str | None = None
    failure: str | None = None
    ppmid: bool = False
    read_at: dt.datetime | None = None  # when this job last read the running firmware

    @property
    def entry(self) -> str:
        """The CPL entry the current step applies."""
        return self.path[self.step]

    @property
    def terminal(self) -> bool:
        """True once the job will never send again."""
        return self.state in TERMINAL

    @property
    def sr_type(self) -> str | None:
        """The SR this job needs sent next, or None while waiting or finished."""
        sr = SEND.get(self.state)
        return "11.4" if sr == "11.1" and self.ppmid else sr


@dataclass(frozen=True)
class Outcome:
    """Something that happened to a job's current request."""

    kind: OutcomeKind
    request_id: str | None = None
    detail: str = ""
    firmware_version: str | None = None
    firmware_hash: str | None = None
    observed_at: dt.datetime | None = None  # when the DSP says the fact was observed


@dataclass(frozen=True)
class Replan:
    """The plan of a device from what a read showed it runs (planner statuses)."""

    status: str  # planned | up_to_date | blocked
    path: tuple[str, ...] = ()
    reason: str | None = None


@dataclass(frozen=True)
class JobEvent:
    """A recorded transition: time, cause, and the request or message behind it."""

    device_id: str
    campaign_id: int
    name: str
    at: dt.datetime
    from_state: str
    to_state: str
    step: int
    cause: str = ""
    request_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    message_id: int | None = None


@dataclass(frozen=True)
class Context:
    """What `advance` needs besides the job: time, policy, the expected versions, randomness."""

    now: dt.datetime
    policy: Policy
    expected_version: str
    rng: random.Random
    expected_hash: str = ""
    replan: Replan | None = None  # for a read: the plan from the version it showed
