"""The in-memory pacer and send lock."""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from orchestrator.domain.pacing import InProcessPacer


# pacer and send lock ------------------------------------------------------------------------
class InMemoryPacer(InProcessPacer):
    """Fixed-window budgets counted in this process (the embedded runtime's own pacer)."""


class InMemorySendLock:
    """One sender per lane at a time; counts how often each lane was taken (for tests of
    the dispatcher)."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self.taken: dict[str, int] = {}

    def held(self, lane: str = "") -> bool:
        """Whether a sender is inside the lane now."""
        lock = self._locks.get(lane)
        return lock is not None and lock.locked()

    @contextlib.contextmanager
    def __call__(self, lane: str = "") -> Iterator[None]:
        lock = self._locks.setdefault(lane, threading.Lock())
        if not lock.acquire(timeout=5):
            raise TimeoutError(f"send lock {lane!r} held for 5 s")
        self.taken[lane] = self.taken.get(lane, 0) + 1
        try:
            yield
        finally:
            lock.release()
