"""Dispatch as soon as answers make work due, not at the reconciler's next tick.

An answer or alert that moves a job (a read-back shows the step ran, an image arrived, an
activation ran) usually makes the job's next request due at once. Without a nudge it waits
for the reconciler's beat (`FWO_RECONCILE_INTERVAL_S`, 60 s by default) at every stage of
every step. Whoever applied inbound messages that moved jobs (the receiver, a worker's
`fwo.inbound.process`) queues one `fwo.campaign.dispatch` per running campaign, at most once
per `interval_s` per process; on the in-process broker the embedded runtime's scheduler
dispatches every tick instead, so there is nothing to nudge.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol

import structlog

from orchestrator.service.unit_of_work import UnitOfWork

log = structlog.get_logger("fwo.nudge")
NUDGE_INTERVAL_S = 0.25


class Moved(Protocol):
    """An applied inbound message: how many jobs it moved."""

    @property
    def moved(self) -> int: ...


class DispatchNudger:
    """Queues a dispatch of each running campaign after inbound messages moved jobs."""

    def __init__(self, uow: Callable[[], UnitOfWork], send: Callable[[int], object],
                 interval_s: float = NUDGE_INTERVAL_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.uow, self.send, self.interval_s, self.monotonic = uow, send, interval_s, monotonic
        self._next = 0.0
        self._lock = threading.Lock()

    def applied(self, results: Iterable[Moved]) -> int:
        """After a batch was applied: nudge when it moved a job and none was sent lately;
        how many campaigns were nudged."""
        if not any(r.moved for r in results):
            return 0
        with self._lock:
            now = self.monotonic()
            if now < self._next:
                return 0
            self._next = now + self.interval_s
        try:
            with self.uow() as uow:
                running = uow.campaigns.running_ids()
            for campaign_id in running:
                self.send(campaign_id)
        except Exception as err:  # noqa: BLE001 - the reconciler's tick dispatches anyway
            log.warning("dispatch_nudge_failed", error=type(err).__name__,
                        detail=(str(err).splitlines() or [""])[0][:200])
            return 0
        return len(running)


def celery_nudger(uow: Callable[[], UnitOfWork], broker_url: str) -> DispatchNudger | None:
    """A nudger sending `fwo.campaign.dispatch` through the shared broker (None on the
    in-process broker, where the embedded runtime dispatches every tick)."""
    if broker_url.startswith("memory://"):
        return None
    from celery import Celery

    celery = Celery("fwo-nudge", broker=broker_url)
    return DispatchNudger(uow, lambda campaign_id: celery.send_task(
        "fwo.campaign.dispatch", args=[campaign_id]))
