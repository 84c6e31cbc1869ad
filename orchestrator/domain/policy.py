"""Campaign policy: waves, thresholds, budgets, activation window, timeouts, retries.

Frozen values with parsers for the forms ops type (`1%,10%,50%,100%`, `01:00-05:00`).
"""
from __future__ import annotations

import datetime as dt
import math
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from orchestrator.domain.errors import PolicyError

SR_TYPES = ("11.1", "11.4", "11.3", "11.2")
BUDGET_SYNTAX = "SR=LIMIT[/SECONDS], e.g. 11.1=100/3600"
DEFAULT_PERIOD_S = 3600.0
MIN_PERIOD_S, MAX_PERIOD_S = 1.0, 366 * 86400.0
MAX_LIMIT = 10**9
_WINDOW = re.compile(r"(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})")


@dataclass(frozen=True)
class Wave:
    """A wave's cumulative size: a percentage of the campaign or an absolute device count."""

    percent: float | None = None
    count: int | None = None

    def cumulative_size(self, total: int) -> int:
        """How many devices this wave and all before it cover."""
        if self.count is not None:
            return min(self.count, total)
        return min(total, max(1, round(total * (self.percent or 0) / 100)) if total else 0)


def parse_waves(text: str) -> tuple[Wave, ...]:
    """`1%,10%,50%,100%` (cumulative) or counts `100,1000,all`; ends by covering everyone.

    Each wave is larger than the one before, above 0 and at most 100%; finite numbers only.
    """
    waves = [_wave(part.strip(), text) for part in text.split(",")]
    if waves and waves[-1].percent != 100.0:
        waves.append(Wave(percent=100.0))
    check_waves(waves)
    return tuple(waves)


def _wave(part: str, text: str) -> Wave:
    if not part:
        raise PolicyError(f"waves {text!r}: an empty wave; expected e.g. 1%,10%,50%,100%")
    try:
        if part.lower() == "all":
            return Wave(percent=100.0)
        if part.endswith("%"):
            percent = float(part[:-1].strip())
            if not math.isfinite(percent):
                raise ValueError(part)
            return Wave(percent=percent)
        if not part.isdigit():
            raise ValueError(part)
        return Wave(count=int(part))
    except ValueError as err:
        raise PolicyError(f"wave {part!r} is not a percentage, a count or 'all'") from err


def check_waves(waves: Iterable[Wave]) -> None:
    """Waves are cumulative: each larger than the one before, above 0 and at most 100%."""
    previous: Wave | None = None
    for wave in waves:
        if wave.percent is not None:
            finite_within(wave.percent, "wave percentage", 0, 100)
            if wave.percent <= 0:
                raise PolicyError(f"wave {wave.percent:g}% must be above 0%")
        elif wave.count is None or wave.count < 1:
            raise PolicyError(f"wave of {wave.count} devices must hold at least 1 device")
        if previous is not None and not _grows(previous, wave):
            raise PolicyError(f"waves must grow strictly: {_show(wave)} after {_show(previous)}")
        previous = wave
    if previous is None:
        raise PolicyError("at least one wave is needed")


def _grows(before: Wave, after: Wave) -> bool:
    if after.percent == 100.0:
        return before.percent != 100.0
    if before.percent is not None and after.percent is not None:
        return after.percent > before.percent
    if before.count is not None and after.count is not None:
        return after.count > before.count
    return False  # percentages and counts cannot be compared, except a final 100%


def _show(wave: Wave) -> str:
    return f"{wave.percent:g}%" if wave.percent is not None else f"{wave.count} devices"


def finite_within(value: float | None, what: str, low: float, high: float) -> None:
    """PolicyError unless `value` (when given) is a finite number within low..high."""
    if value is None:
        return
    if not math.isfinite(value) or not low <= value <= high:
        raise PolicyError(f"{what} {value!r} must be a finite number from {_number(low)} to "
                          f"{_number(high)}")


def parse_number(text: str, what: str) -> float:
    """A finite number as typed, else PolicyError naming `what`."""
    try:
        value = float(text)
    except ValueError as err:
        raise PolicyError(f"{what} {text!r} is not a number") from err
    if not math.isfinite(value):
        raise PolicyError(f"{what} {text!r} is not a finite number")
    return value


def _number(value: float) -> str:
    return f"{value:,.0f}" if math.isfinite(value) and value == int(value) else f"{value:g}"


@dataclass(frozen=True)
class FailureThreshold:
    """Pause when failures of a kind (or any, `*`) in a wave reach a count or a percentage."""

    failure: str = "*"
    count: int | None = None
    percent: float | None = None

    def breached(self, failures: int, wave_size: int) -> bool:
        """True when `failures` reaches this threshold for a wave of `wave_size`."""
        if self.count is not None and failures >= self.count:
            return True
        return (self.percent is not None and wave_size > 0
                and 100.0 * failures / wave_size >= self.percent)


# an immediate 11.3 needs this long inside the window: closer to the close it is dated to the
# next opening instead (the device executes a dated one at its time, wherever the WAN is)
CLOSING_MARGIN = dt.timedelta(minutes=30)


@dataclass(frozen=True)
class ActivationWindow:
    """Local time window in which activations take effect (11.3 future-dated into it)."""

    start: dt.time
    end: dt.time
    timezone: str = "Europe/London"

    @classmethod
    def parse(cls, text: str, timezone: str = "Europe/London") -> ActivationWindow:
        """`01:00-05:00` (two different HH:MM times) in a real time zone."""
        found = _WINDOW.fullmatch(text.strip())
        try:
            if found is None:
                raise ValueError(text)
            start, end = (dt.time.fromisoformat(t) for t in found.groups())
            ZoneInfo(timezone)
        except (ValueError, KeyError, OSError) as err:
            raise PolicyError(f"activation window {text!r} ({timezone}) is not two valid "
                              "HH:MM times (HH:MM-HH:MM) in a known time zone") from err
        if start == end:
            raise PolicyError(f"activation window {text!r} is empty: start and end are equal")
        return cls(start, end, timezone)

    def contains(self, at: dt.datetime) -> bool:
        """True when `at` falls inside the window (which may wrap past midnight)."""
        local = at.astimezone(ZoneInfo(self.timezone)).time()
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    def activation_time(self, at: dt.datetime,
                        margin: dt.timedelta = CLOSING_MARGIN) -> dt.datetime | None:
        """When an 11.3 sent at `at` should execute: None to activate at once (inside the
        window and not within `margin` of its close, so a slow WAN never lands it after the
        close), else the execution time to date it to (the next opening)."""
        if not self.contains(at):
            return self.next_opening(at)
        if self.contains(at + margin):
            return None
        return self.next_opening(at + margin)

    def next_opening(self, at: dt.datetime) -> dt.datetime:
        """`at` itself when inside the window, else the next start of the window (UTC)."""
        if self.contains(at):
            return at
        zone = ZoneInfo(self.timezone)
        local = at.astimezone(zone)
        candidate = dt.datetime.combine(local.date(), self.start, tzinfo=zone)
        if candidate <= local:
            candidate = dt.datetime.combine(local.date() + dt.timedelta(days=1), self.start,
                                            tzinfo=zone)
        return candidate.astimezone(dt.UTC)


class Failure(StrEnum):
    """Why a device's step failed: a job's `failure` (a failed pre-read's is `preread_` and
    the failure), and what `RetryPolicy.retry_on` may name."""

    COMMS_FAILURE = "comms_failure"
    DELIVERY_FAILED = "delivery_failed"
    TIMED_OUT = "timed_out"
    QUARANTINED = "quarantined"
    DSP_UNAVAILABLE = "dsp_unavailable"
    NO_IMAGE_HELD = "no_image_held"
    VERSION_MISMATCH = "version_mismatch"
    BUSY = "busy"
    VERIFICATION_FAILED = "verification_failed"
    REJECTED = "rejected"
    REFUSED = "refused"
    ACTIVATION_FAILED = "activation_failed"
    ANSWER_REJECTED = "answer_rejected"  # a security event: never in the default retry_on
    INVENTORY_DRIFT = "inventory_drift"
    CANCELLED = "cancelled"


F = Failure


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a step gets, with capped exponential backoff and jitter."""

    attempts: int = 5
    base_s: float = 900.0
    cap_s: float = 6 * 3600.0
    jitter: float = 0.2
    retry_on: frozenset[str] = frozenset({F.COMMS_FAILURE, F.DELIVERY_FAILED, F.TIMED_OUT,
                                          F.QUARANTINED, F.DSP_UNAVAILABLE, F.NO_IMAGE_HELD,
                                          F.VERSION_MISMATCH, F.BUSY, F.VERIFICATION_FAILED})

    def should_retry(self, failure: str, attempt: int) -> bool:
        """True when `failure` is retryable and attempts remain after `attempt` (1-based)."""
        return failure in self.retry_on and attempt < self.attempts

    def delay_s(self, attempt: int, rng: random.Random) -> float:
        """Backoff before attempt `attempt + 1`: base·2^(attempt-1), capped, ± jitter."""
        delay = min(self.cap_s, self.base_s * 2.0 ** max(0, attempt - 1))
        return max(0.0, delay * (1 + rng.uniform(-self.jitter, self.jitter)))


@dataclass(frozen=True)
class StageTimeouts:
    """How long each stage may wait for its answer before it times out (seconds)."""

    distributing_s: float = 7 * 86400.0
    activating_s: float = 2 * 86400.0
    verifying_s: float = 86400.0


@dataclass(frozen=True)
class Budget:
    """At most `limit` requests of an SR type per `period_s` seconds (anomaly thresholds)."""

    sr_type: str
    limit: int
    period_s: float

    @classmethod
    def parse(cls, spec: str, sr_type: str | None = None,
              known: tuple[str, ...] = SR_TYPES) -> Budget:
        """`11.1=100/3600`: at most 100 SR 11.1 requests per 3,600 s (the period defaults to
        an hour), for an SR type in `known`; with `sr_type` given, just `LIMIT[/SECONDS]` for
        it (`fwo fleet refresh --budget 500/3600`). Checked as `check` says."""
        if sr_type is None:
            sr, sep, rest = (part.strip() for part in spec.partition("="))
            syntax = BUDGET_SYNTAX
        else:
            sr, sep, rest = sr_type, "=", spec.strip()
            syntax = "LIMIT[/SECONDS], e.g. 500/3600"
        limit_text, slash, period_text = (part.strip() for part in rest.partition("/"))
        if not sep or not sr or not limit_text or (slash and not period_text):
            raise PolicyError(f"budget {spec!r} is not {syntax}")
        if sr_type is None and sr not in known:
            raise PolicyError(f"budget {spec!r}: unknown SR type {sr!r}; known: "
                              f"{', '.join(known)}")
        if not limit_text.isdigit():
            raise PolicyError(f"budget {spec!r}: the limit must be a whole number of requests")
        period = (parse_number(period_text, f"budget {spec!r}: the period") if slash
                  else DEFAULT_PERIOD_S)
        budget = cls(sr, int(limit_text), period)
        budget.check()
        return budget

    def check(self) -> None:
        """A whole limit from 1 to 10^9 and a finite period from 1 s to a year (a period of
        0 would divide by zero at every dispatch; a tiny one overflows the pacing windows)."""
        limit = self.limit
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise PolicyError(f"budget for SR {self.sr_type}: limit {limit!r} must be a whole "
                              f"number of requests from 1 to {MAX_LIMIT:,}")
        if self.period_s == 0:
            raise PolicyError(f"budget for SR {self.sr_type}: the period must be above 0 "
                              "seconds")
        finite_within(self.period_s, f"budget for SR {self.sr_type}: the period (seconds)",
                      MIN_PERIOD_S, MAX_PERIOD_S)


@dataclass(frozen=True)
class Policy:
    """Everything that governs how a campaign runs."""

    waves: tuple[Wave, ...] = (Wave(percent=100.0),)
    success_threshold: float = 0.95
    failure_thresholds: tuple[FailureThreshold, ...] = (FailureThreshold(percent=10.0),)
    budgets: tuple[Budget, ...] = (Budget("11.1", 100, 3600.0), Budget("11.4", 100, 3600.0),
                                   Budget("11.3", 20_000, 3600.0),
                                   Budget("11.2", 20_000, 3600.0))
    activation_window: ActivationWindow | None = None
    timeouts: StageTimeouts = field(default_factory=StageTimeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    device_id_list_max: int = 500
    read_max_age_s: float = 172800.0  # an 11.3 needs a read of the device at most this old

    def budget(self, sr_type: str) -> Budget | None:
        """The budget configured for an SR type, if any."""
        return next((b for b in self.budgets if b.sr_type == sr_type), None)


def policy_to_dict(policy: Policy) -> dict[str, object]:
    """A JSON-ready form of a policy (stored with the campaign)."""
    window = policy.activation_window
    retry = policy.retry
    return {
        "waves": [{"percent": w.percent, "count": w.count} for w in policy.waves],
        "success_threshold": policy.success_threshold,
        "failure_thresholds": [{"failure": f.failure, "count": f.count, "percent": f.percent}
                               for f in policy.failure_thresholds],
        "budgets": [{"sr_type": b.sr_type, "limit": b.limit, "period_s": b.period_s}
                    for b in policy.budgets],
        "activation_window": None if window is None else {
            "start": window.start.isoformat("minutes"), "end": window.end.isoformat("minutes"),
            "timezone": window.timezone},
        "timeouts": {"distributing_s": policy.timeouts.distributing_s,
                     "activating_s": policy.timeouts.activating_s,
                     "verifying_s": policy.timeouts.verifying_s},
        "retry": {"attempts": retry.attempts, "base_s": retry.base_s, "cap_s": retry.cap_s,
                  "jitter": retry.jitter, "retry_on": sorted(retry.retry_on)},
        "device_id_list_max": policy.device_id_list_max,
        "read_max_age_s": policy.read_max_age_s,
    }


def policy_from_dict(data: dict[str, Any]) -> Policy:
    """The policy stored by `policy_to_dict`."""
    window = data.get("activation_window")
    retry = dict(data["retry"])
    retry["retry_on"] = frozenset(retry["retry_on"])
    return Policy(
        waves=tuple(Wave(**w) for w in data["waves"]),
        success_threshold=float(data["success_threshold"]),
        failure_thresholds=tuple(FailureThreshold(**f) for f in data["failure_thresholds"]),
        budgets=tuple(Budget(**b) for b in data["budgets"]),
        activation_window=None if window is None else ActivationWindow.parse(
            f"{window['start']}-{window['end']}", window["timezone"]),
        timeouts=StageTimeouts(**data["timeouts"]),
        retry=RetryPolicy(**retry),
        device_id_list_max=int(data["device_id_list_max"]),
        read_max_age_s=float(data.get("read_max_age_s", Policy.read_max_age_s)),
    )
