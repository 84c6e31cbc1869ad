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
    """One sender at a time; counts how often it was taken (for tests of the dispatcher)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.taken = 0

    @property
    def held(self) -> bool:
        """Whether a sender is inside the lock now."""
        return self._lock.locked()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        if not self._lock.acquire(timeout=5):
            raise TimeoutError("send lock held for 5 s")
        self.taken += 1
        try:
            yield
        finally:
            self._lock.release()
