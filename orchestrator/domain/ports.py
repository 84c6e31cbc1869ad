"""Ports: the outside world as the domain and service layer see it (Protocols only)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


class Clock(Protocol):
    """Where time comes from: the wall clock in production, simulated time in dry runs."""

    def now(self) -> dt.datetime:
        """The current time, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> dt.datetime:
        """The current UTC time."""
        return dt.datetime.now(dt.UTC)


SYSTEM_CLOCK = SystemClock()


@dataclass(frozen=True)
class FixedClock:
    """A clock stopped at one moment (what a single operation saw as "now")."""

    moment: dt.datetime

    def now(self) -> dt.datetime:
        """The moment."""
        return self.moment


class DspGateway(Protocol):
    """The DCC's DSP as the orchestrator sees it: signed request in, signed answer out.

    Asynchronous responses and alerts arrive separately, through the DUIS receiver.
    """

    def send(self, xml: bytes) -> bytes:
        """Submit one signed DUIS request; return the DSP's synchronous signed response."""
        ...


class SimulatedWorld(Protocol):
    """A discrete-event stand-in for the DCC and its devices (dry runs only)."""

    def next_event_time(self) -> dt.datetime | None:
        """When the next response or alert is due, if any is pending."""
        ...

    def advance_to(self, moment: dt.datetime) -> int:
        """Deliver every response and alert due by `moment`; return how many."""
        ...
