"""Simulated time: a `Clock` (orchestrator.domain.ports) that is stepped or flows faster.

Stepped (the default): time stands still until `advance_to` moves it; the DSP's
discrete-event loop does that, so a dry run is deterministic and as fast as the CPU allows.
Flowing (`start()`): simulated time runs at `speed` times the wall clock, so HAN deliveries
that take hours finish in seconds; `advance_to` can still jump it forward.
"""
from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from simulators import ClockError

DEFAULT_START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ClockError(f"simulated time must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


class SimulatedClock:
    """Simulated UTC time with a speed factor; never runs backwards."""

    def __init__(self, start: datetime = DEFAULT_START, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ClockError(f"speed must be positive, got {speed}")
        self._anchor = _aware(start)
        self._real_anchor = time.monotonic()
        self._speed = speed
        self._flowing = False
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        """Simulated seconds per wall-clock second while flowing."""
        return self._speed

    @property
    def flowing(self) -> bool:
        """Whether time currently runs on its own."""
        return self._flowing

    def now(self) -> datetime:
        """The current simulated time (UTC-aware)."""
        with self._lock:
            return self._now_locked()

    def _now_locked(self) -> datetime:
        if not self._flowing:
            return self._anchor
        elapsed = (time.monotonic() - self._real_anchor) * self._speed
        return self._anchor + timedelta(seconds=elapsed)

    def advance_to(self, moment: datetime) -> datetime:
        """Move time forward to `moment` (no-op if already later); return the new time."""
        target = _aware(moment)
        with self._lock:
            current = self._now_locked()
            self._anchor = max(current, target)
            self._real_anchor = time.monotonic()
            return self._anchor

    def advance_by(self, delta: timedelta) -> datetime:
        """Move time forward by `delta`."""
        if delta < timedelta(0):
            raise ClockError(f"cannot move simulated time back by {-delta}")
        return self.advance_to(self.now() + delta)

    def start(self) -> None:
        """Let time flow at `speed` times the wall clock."""
        with self._lock:
            self._anchor = self._now_locked()
            self._real_anchor = time.monotonic()
            self._flowing = True

    def stop(self) -> None:
        """Freeze time where it is."""
        with self._lock:
            self._anchor = self._now_locked()
            self._flowing = False

    def wall_seconds_until(self, moment: datetime) -> float:
        """Wall-clock seconds until simulated `moment` while flowing (inf when stepped)."""
        with self._lock:
            if not self._flowing:
                return float("inf")
            ahead = (_aware(moment) - self._now_locked()).total_seconds()
            return max(0.0, ahead / self._speed)
