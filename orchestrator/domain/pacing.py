"""Pacing under the DCC anomaly-detection thresholds: fixed windows per SR type.

A budget allows `limit` requests of an SR type in each aligned window of `period_s` seconds
(window n covers [n·period, (n+1)·period) since the epoch). Adapters keep the counters: in the
process, in the database, or in Redis so every worker shares them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from orchestrator.domain.policy import Budget


def window_of(budget: Budget, at: dt.datetime) -> int:
    """The index of the window `at` falls in."""
    return int(at.timestamp() // budget.period_s)


def window_end(budget: Budget, at: dt.datetime) -> dt.datetime:
    """When the window containing `at` closes (the next budget refill)."""
    return dt.datetime.fromtimestamp((window_of(budget, at) + 1) * budget.period_s, dt.UTC)


@dataclass(frozen=True)
class Grant:
    """How many of the requested sends are allowed now, and when more will be."""

    granted: int
    retry_at: dt.datetime | None = None
    remaining: int | None = None  # left in the window after this grant, when known


class Pacer(Protocol):
    """Takes from an SR type's budget; shared by every worker of a deployment."""

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        """Grant up to `wanted` sends in the window of `at`."""
        ...


class InProcessPacer:
    """Counters in this process: the embedded runtime's pacer (one process sends)."""

    def __init__(self) -> None:
        self._used: dict[tuple[str, int], int] = {}

    def acquire(self, budget: Budget, wanted: int, at: dt.datetime) -> Grant:
        """Grant what is left of the window, up to `wanted`."""
        key = (budget.sr_type, window_of(budget, at))
        used = self._used.get(key, 0)
        granted = max(0, min(wanted, budget.limit - used))
        self._used[key] = used + granted
        return Grant(granted, None if granted == wanted else window_end(budget, at),
                     budget.limit - used - granted)
