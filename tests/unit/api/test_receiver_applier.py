"""The deferred receiver's notices to the workers: stored batches close together share one
`fwo.inbound.process` task, and what is queued at shutdown is still sent."""
from __future__ import annotations

import threading
import time
from typing import Any

from orchestrator.entrypoints.api.applier import CeleryApplier


class Broker:
    """Records the tasks sent (in place of Celery's `send_task`)."""

    def __init__(self, fail: bool = False) -> None:
        self.tasks: list[tuple[str, list[int]]] = []
        self.fail = fail
        self.sent = threading.Event()

    def send_task(self, name: str, args: list[Any]) -> None:
        if self.fail:
            raise ConnectionError("broker down")
        self.tasks.append((name, list(args[0])))
        self.sent.set()


def applier(broker: Broker, window_s: float = 0.2, max_ids: int = 500) -> CeleryApplier:
    found = CeleryApplier("memory://", window_s=window_s, max_ids=max_ids)
    found.celery = broker  # type: ignore[assignment]
    return found


def test_batches_stored_within_the_window_share_one_task() -> None:
    broker = Broker()
    notices = applier(broker)
    for start in range(0, 30, 10):
        notices.notify(list(range(start, start + 10)))
    assert broker.sent.wait(5)
    time.sleep(0.05)
    notices.close()
    assert broker.tasks == [("fwo.inbound.process", list(range(30)))]


def test_a_task_holds_at_most_max_ids_and_close_sends_what_is_queued() -> None:
    broker = Broker()
    notices = applier(broker, window_s=30.0, max_ids=4)
    notices.notify([1, 2, 3, 4, 5, 6])
    notices.notify([7])
    notices.notify([])  # nothing new: nothing queued
    time.sleep(0.1)  # the sending thread is inside its window
    started = time.monotonic()
    notices.close()  # does not wait out the window
    assert time.monotonic() - started < 10
    assert broker.tasks == [("fwo.inbound.process", [1, 2, 3, 4]),
                            ("fwo.inbound.process", [5, 6, 7])]


def test_a_broker_failure_is_logged_not_raised() -> None:
    """The messages are stored already: the reconciler applies them later."""
    broker = Broker(fail=True)
    notices = applier(broker, window_s=0.0)
    notices.notify([1])
    notices.close()
    assert broker.tasks == []
