"""A threads-pool worker folds dispatches of one campaign into the one running."""
from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from orchestrator.entrypoints import tasks
from orchestrator.entrypoints.tasks import Dispatching
from orchestrator.service.execution import DispatchReport


def test_a_dispatch_asked_for_while_one_runs_becomes_one_more_round() -> None:
    """The second start is refused and makes the running one go round again even after an
    idle round; without it an idle round ends the dispatch, and then a new one may start."""
    d = Dispatching()
    assert d.start(7) and not d.start(7)
    assert d.start(8)  # another campaign is not held back
    assert not d.finish(7, idle=True)  # asked for meanwhile: once more
    assert not d.finish(7, idle=False)  # found work: again
    assert d.finish(7, idle=True)  # idle, nobody asked: ends
    assert d.start(7)
    d.stop(7)
    assert d.start(7)


def test_concurrent_dispatch_tasks_of_one_campaign_run_one_at_a_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Four tasks of one campaign at once in one process: one dispatches, the others fold
    into it and return at once; the one that runs goes round until nothing is left."""
    inside, most, rounds = 0, 0, 0
    lock, go = threading.Lock(), threading.Event()
    due = [3, 2, 0]

    def fake_dispatch(ex: Any, campaign_id: int) -> DispatchReport:
        nonlocal inside, most, rounds
        with lock:
            inside += 1
            most = max(most, inside)
            rounds += 1
        go.wait(5)
        with lock:
            inside -= 1
        return DispatchReport(devices=due.pop(0) if due else 0)

    monkeypatch.setattr(tasks, "dispatch", fake_dispatch)
    monkeypatch.setattr(tasks, "execution", lambda: object())
    monkeypatch.setattr(tasks, "_dispatching", Dispatching())
    sent: list[int] = []
    threads = [threading.Thread(target=lambda: sent.append(tasks.dispatch_campaign.run(1)))
               for _ in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(sent) < 3 and time.monotonic() < deadline:  # the three folded return at once
        time.sleep(0.01)
    assert sent == [0, 0, 0]
    go.set()
    for t in threads:
        t.join(10)
    assert most == 1 and sorted(sent) == [0, 0, 0, 5]
    assert rounds >= 3  # 3, 2, then an idle round (plus one per folded request)
    assert tasks._dispatching.start(1)  # it ended: the next dispatch runs
