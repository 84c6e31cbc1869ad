"""The DSP's mutable state, shared by the request handlers and the event handlers."""
from __future__ import annotations

import heapq
import itertools
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime

from duis.models import Response
from duis.requestid import RequestId
from simulators.clock import SimulatedClock
from simulators.dsp.anomaly import AnomalyDetector
from simulators.dsp.config import DspConfig
from simulators.dsp.users import UserRegistry
from simulators.faults import FaultDice
from simulators.fleet.devices import Fleet

JOURNAL_SIZE = 10_000  # recent decisions kept; per-code totals live in `stats`


@dataclass(frozen=True, slots=True)
class Outbound:
    """An event: send a response or alert to the User `recipient`."""

    recipient: str
    response: Response
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """What the DSP answered to one submitted request (for people and tests)."""

    at: datetime
    request_id: str | None
    service_reference: str | None
    code: str
    reason: str


@dataclass(frozen=True, slots=True)
class PreCommandRecord:
    """An 11.3 pre-command the DCC issued and awaits back signed (CommandVariant 5)."""

    device_id: str
    image_hash: str
    execute_at: datetime | None
    payload: bytes


class EventQueue:
    """Events keyed by simulated time; equal times keep insertion order."""

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, object]] = []
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, at: datetime, event: object) -> None:
        """Schedule `event` at `at`."""
        heapq.heappush(self._heap, (at, next(self._seq), event))

    def next_time(self) -> datetime | None:
        """When the earliest event is due, or None."""
        return self._heap[0][0] if self._heap else None

    def pop_due(self, until: datetime) -> tuple[datetime, object] | None:
        """The earliest event due at or before `until`, removed from the queue."""
        if not self._heap or self._heap[0][0] > until:
            return None
        at, _, event = heapq.heappop(self._heap)
        return at, event


@dataclass(frozen=True, slots=True)
class ActivationRecord:
    """An activation that ran on a device: when, the 11.3 behind it, and its result."""

    device_id: str
    at: datetime
    request_id: str
    future_dated: bool
    outcome: str

    def to_dict(self) -> dict[str, object]:
        """JSON-ready (for `GET /truth`)."""
        return {"device_id": self.device_id, "at": self.at.isoformat(),
                "request_id": self.request_id, "future_dated": self.future_dated,
                "outcome": self.outcome}


class DspContext:
    """Configuration, fleet, clock, fault dice, queue and bookkeeping of one DSP."""

    def __init__(self, config: DspConfig, fleet: Fleet, clock: SimulatedClock,
                 dice: FaultDice, users: UserRegistry) -> None:
        self.config, self.fleet, self.clock, self.dice, self.users = (
            config, fleet, clock, dice, users)
        self.queue = EventQueue()
        self.anomaly = AnomalyDetector(config.thresholds)
        self.in_progress: dict[int, RequestId] = {}
        self.precommands: dict[tuple[str, int], PreCommandRecord] = {}
        self.last_counter: dict[str, int] = {}
        self.stats: Counter[str] = Counter()
        self.journal: deque[Decision] = deque(maxlen=JOURNAL_SIZE)
        # ground truth for tests: when each activation ran on its device, and how
        self.activations: list[ActivationRecord] = []
        self._counter = itertools.count(1)

    def now(self) -> datetime:
        """Current simulated time."""
        return self.clock.now()

    def next_counter(self) -> int:
        """A fresh counter for DCC-originated messages (alerts, device answers)."""
        return next(self._counter)

    def emit(self, recipient: str, response: Response, at: datetime, *, alert: bool) -> bool:
        """Schedule a message, applying lost/duplicate/out-of-order faults; False if lost."""
        dice = self.dice
        if dice.hit("lost_response"):
            self.stats["lost"] += 1
            return False
        if alert and dice.hit("out_of_order_alert"):
            at += dice.delay("reorder_hold")
            self.stats["reordered"] += 1
        self.queue.push(at, Outbound(recipient, response))
        if alert and dice.hit("duplicate_alert"):
            self.queue.push(at + dice.delay("duplicate_after"), Outbound(recipient, response))
            self.stats["duplicated"] += 1
        return True

    def reachable(self, i: int, now: datetime) -> bool:
        """Whether device `i` can take part now (not bricked, not offline, not going offline)."""
        fleet = self.fleet
        if fleet.is_bricked(i) or fleet.is_offline(i, now):
            return False
        if self.dice.hit("offline"):
            fleet.offline_until[i] = now + self.dice.delay("offline_for")
            self.stats["went_offline"] += 1
            return False
        return True
