"""Named, seeded fault profiles: what goes wrong between the DSP and the devices, and how often.

A profile is data (rates and delay distributions); `FaultDice` draws from one
`random.Random(seed)`, so the same seed and the same requests give the same faults.
`profile("comms_failure:1.0")` names a profile and, for a single-fault profile, overrides
its rate (handy in tests and dry runs).

| fault | effect |
|---|---|
| `comms_failure` | a device command (11.2, 11.3) is answered with E20 |
| `no_response` | a device command is answered with E21 (after the no-response timeout) |
| `lost_response` | an asynchronous response or alert is never delivered |
| `duplicate_alert` | an alert is delivered twice |
| `out_of_order_alert` | an alert is held back, so later messages can overtake it |
| `offline` | the device goes offline for a while (commands E21, distributions N61) |
| `delivery_failure` | the image never reaches the device (N61, 0x8F89 for PPMIDs) |
| `verification_failure` | the image arrives corrupted and the device raises 0x8F1C |
| `slow_han` (timings) | HAN delivery takes days instead of hours |
"""
from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from simulators import ConfigurationError


@dataclass(frozen=True, slots=True)
class Delay:
    """A triangular distribution of durations (low, mode, high); fixed when all are equal."""

    low: timedelta
    mode: timedelta
    high: timedelta

    @classmethod
    def fixed(cls, value: timedelta) -> Delay:
        """Always `value`."""
        return cls(value, value, value)

    @classmethod
    def hours(cls, low: float, mode: float, high: float) -> Delay:
        """Triangular in hours."""
        return cls(timedelta(hours=low), timedelta(hours=mode), timedelta(hours=high))

    @classmethod
    def seconds(cls, low: float, mode: float, high: float) -> Delay:
        """Triangular in seconds."""
        return cls(timedelta(seconds=low), timedelta(seconds=mode), timedelta(seconds=high))

    def draw(self, rng: random.Random) -> timedelta:
        """One duration (no random draw when fixed)."""
        if self.low == self.high:
            return self.low
        low, high = self.low.total_seconds(), self.high.total_seconds()
        return timedelta(seconds=rng.triangular(low, high, self.mode.total_seconds()))


_HOUR = Delay.fixed(timedelta(hours=1))
_HALF_MINUTE = Delay.fixed(timedelta(seconds=30))
_TWO_MINUTES = Delay.fixed(timedelta(minutes=2))
_HOURS_TO_A_WEEK = Delay.hours(2, 24, 168)
_MINUTES_TO_HOURS = Delay.seconds(60, 600, 7200)
_HALF_HOUR_TO_HALF_DAY = Delay.hours(0.5, 2, 12)


@dataclass(frozen=True, slots=True)
class Timings:
    """How long things take in simulated time (not faults, but `slow_han` changes them)."""

    han_delivery: Delay = _HOUR
    wan_round_trip: Delay = _HALF_MINUTE
    verification: Delay = _TWO_MINUTES
    no_response_timeout: timedelta = timedelta(minutes=30)
    offline_for: Delay = _HOURS_TO_A_WEEK
    duplicate_after: Delay = _MINUTES_TO_HOURS
    reorder_hold: Delay = _HALF_HOUR_TO_HALF_DAY
    dsp_alert: timedelta = timedelta(seconds=5)


REALISTIC = Timings(
    han_delivery=Delay.hours(0.3, 4, 48),
    wan_round_trip=Delay.seconds(5, 20, 300),
    verification=Delay.seconds(30, 120, 600),
)
SLOW_HAN = dataclasses.replace(REALISTIC, han_delivery=Delay.hours(12, 36, 120))

RATE_FIELDS = (
    "comms_failure",
    "no_response",
    "lost_response",
    "duplicate_alert",
    "out_of_order_alert",
    "offline",
    "delivery_failure",
    "verification_failure",
)


@dataclass(frozen=True, slots=True)
class FaultProfile:
    """Probabilities (0..1) of each fault per opportunity, and the timings to use."""

    name: str
    comms_failure: float = 0.0
    no_response: float = 0.0
    lost_response: float = 0.0
    duplicate_alert: float = 0.0
    out_of_order_alert: float = 0.0
    offline: float = 0.0
    delivery_failure: float = 0.0
    verification_failure: float = 0.0
    timings: Timings = field(default_factory=Timings)

    def __post_init__(self) -> None:
        for name in RATE_FIELDS:
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ConfigurationError(f"fault rate {name}={rate} is outside 0..1")

    @property
    def rates(self) -> dict[str, float]:
        """Every fault rate by name."""
        return {name: getattr(self, name) for name in RATE_FIELDS}


SINGLE_FAULT_RATE = 0.25


def _single(fault: str, rate: float, name: str | None = None) -> FaultProfile:
    """A profile with one fault at `rate` and realistic timings."""
    changes: dict[str, Any] = {fault: rate}
    return dataclasses.replace(FaultProfile(name or fault, timings=REALISTIC), **changes)

PROFILES: dict[str, FaultProfile] = {
    "none": FaultProfile("none"),
    "default": FaultProfile(
        "default",
        comms_failure=0.01,
        no_response=0.01,
        lost_response=0.01,
        duplicate_alert=0.02,
        out_of_order_alert=0.02,
        offline=0.01,
        delivery_failure=0.02,
        verification_failure=0.01,
        timings=REALISTIC,
    ),
    "slow_han": FaultProfile("slow_han", timings=SLOW_HAN),
    **{name: _single(name, SINGLE_FAULT_RATE) for name in RATE_FIELDS},
}


def profile(spec: str | FaultProfile) -> FaultProfile:
    """A profile by name, `name:rate` (single-fault profiles), or the profile itself."""
    if isinstance(spec, FaultProfile):
        return spec
    name, _, rate_text = spec.partition(":")
    found = PROFILES.get(name)
    if found is None:
        raise ConfigurationError(f"unknown fault profile {name!r}; known: {', '.join(PROFILES)}")
    if not rate_text:
        return found
    if name not in RATE_FIELDS:
        raise ConfigurationError(f"profile {name!r} has no single rate to set")
    try:
        rate = float(rate_text)
    except ValueError as err:
        raise ConfigurationError(f"fault rate {rate_text!r} is not a number") from err
    return _single(name, rate, spec)


class FaultDice:
    """Seeded draws for one profile; a zero rate or a fixed delay consumes no randomness."""

    def __init__(self, faults: FaultProfile, seed: int) -> None:
        self.profile = faults
        self.timings = faults.timings
        self.rng = random.Random(seed)

    def hit(self, fault: str) -> bool:
        """Whether `fault` strikes this time."""
        rate: float = getattr(self.profile, fault)
        return rate > 0.0 and self.rng.random() < rate

    def delay(self, which: str) -> timedelta:
        """A duration drawn from the named timing."""
        value: Delay = getattr(self.timings, which)
        return value.draw(self.rng)
