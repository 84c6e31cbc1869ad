"""Answers that move jobs nudge a dispatch of the running campaigns at once, at most once
per interval, and a nudge that cannot be sent never fails the applying of answers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from orchestrator.entrypoints.nudge import DispatchNudger, celery_nudger


@dataclass
class Result:
    moved: int


class Campaigns:
    def __init__(self, running: list[int]) -> None:
        self.running = running

    def running_ids(self) -> list[int]:
        return list(self.running)


class Uow:
    def __init__(self, running: list[int]) -> None:
        self.campaigns = Campaigns(running)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def _nudger(running: list[int], sent: list[int], clock: list[float]) -> DispatchNudger:
    return DispatchNudger(lambda: Uow(running), sent.append,  # type: ignore[arg-type, return-value]
                          interval_s=1.0, monotonic=lambda: clock[0])


def test_moved_jobs_nudge_each_running_campaign_once_per_interval() -> None:
    sent: list[int] = []
    clock = [100.0]
    nudger = _nudger([3, 7], sent, clock)
    assert nudger.applied([Result(0), Result(0)]) == 0  # nothing moved: nothing due
    assert nudger.applied([Result(0), Result(2)]) == 2
    assert sent == [3, 7]
    clock[0] += 0.5
    assert nudger.applied([Result(1)]) == 0  # nudged lately: the dispatch is on its way
    clock[0] += 0.6
    assert nudger.applied([Result(1)]) == 2
    assert sent == [3, 7, 3, 7]


def test_a_nudge_that_cannot_be_sent_is_logged_not_raised() -> None:
    def down(_: int) -> Any:
        raise ConnectionError("broker unreachable")

    nudger = DispatchNudger(lambda: Uow([1]), down, interval_s=0.0)  # type: ignore[arg-type, return-value]
    assert nudger.applied([Result(1)]) == 0


def test_no_nudger_on_the_in_process_broker() -> None:
    """The embedded runtime's scheduler dispatches every tick: nothing to nudge."""
    assert celery_nudger(lambda: Uow([]), "memory://") is None  # type: ignore[arg-type, return-value]
