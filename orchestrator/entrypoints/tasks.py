"""Celery tasks: thin wrappers that load what they need and call a service handler."""
from __future__ import annotations

import threading
from typing import Any

import structlog
from celery import shared_task

from orchestrator.entrypoints.celery_app import application
from orchestrator.entrypoints.nudge import DispatchNudger
from orchestrator.errors import OrchestratorError, TransientError
from orchestrator.service import audit, campaigns
from orchestrator.service import catalogue as service
from orchestrator.service.execution import dispatch
from orchestrator.service.reconcile import reconcile
from orchestrator.service.wiring import Execution

log = structlog.get_logger(__name__)


@shared_task(name="fwo.catalogue.scheduled_sync", ignore_result=True)
def scheduled_catalogue_sync() -> dict[str, Any] | None:
    """Sync the catalogue from the configured sources (the same code as `fwo catalogue sync`)."""
    app = application()
    settings = app.settings
    if not (settings.catalogue_cpl_source and settings.catalogue_fir_source):
        log.warning("catalogue_sync_not_configured",
                    hint="set FWO_CATALOGUE_CPL_SOURCE and FWO_CATALOGUE_FIR_SOURCE")
        return None
    command = service.SyncCatalogue(settings.catalogue_cpl_source, settings.catalogue_fir_source)
    try:
        result = service.sync_catalogue(command, app.uow(), app.fetch_options())
    except OrchestratorError as err:  # refused: the previous catalogue stays; say why
        log.error("catalogue_sync_refused", reason=str(err))
        return None
    data = result.to_dict()
    log.info("catalogue_synced", snapshot_id=result.snapshot_id, unchanged=result.unchanged,
             added=data["added"], removed=data["removed"], changed=data["changed"],
             problems=len(result.problems))
    return {k: v for k, v in data.items() if k != "problems"}


@shared_task(name="fwo.audit.head", ignore_result=True)
def export_audit_head() -> dict[str, Any]:
    """Log the audit chain's head (`audit_head`), for a copy kept outside the database."""
    return audit.export_head(application().uow())


def execution() -> Execution:
    """This worker's campaign execution wiring (built once per process)."""
    from orchestrator.entrypoints.celery_app import worker_execution

    return worker_execution()


class Dispatching:
    """Which campaigns this worker process is dispatching (a threads-pool worker runs several
    tasks at once): a dispatch asked for while one runs is folded into it, as one more
    round, instead of taking another of the worker's slots to wait on the same locks."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._running: set[int] = set()
        self._again: set[int] = set()

    def start(self, campaign_id: int) -> bool:
        """True: dispatch it; False: one is running here, and will go round once more."""
        with self._guard:
            if campaign_id in self._running:
                self._again.add(campaign_id)
                return False
            self._running.add(campaign_id)
            return True

    def finish(self, campaign_id: int, idle: bool) -> bool:
        """After a round (`idle`: it found nothing due): True when the dispatch ends, False
        when it should go round again (more was due, or someone asked meanwhile)."""
        with self._guard:
            if not idle or campaign_id in self._again:
                self._again.discard(campaign_id)
                return False
            self._running.discard(campaign_id)
            return True

    def stop(self, campaign_id: int) -> None:
        """The dispatch ended early (an error, or its rounds ran out)."""
        with self._guard:
            self._running.discard(campaign_id)
            self._again.discard(campaign_id)


_dispatching = Dispatching()


@shared_task(name="fwo.campaign.dispatch", ignore_result=True, acks_late=True,
             autoretry_for=(TransientError,), retry_backoff=True, retry_backoff_max=300,
             max_retries=None)
def dispatch_campaign(campaign_id: int, rounds: int = 20) -> int:
    """Send a running campaign's due work (a few batches); nudge again if more is due.

    An error that stops the dispatch (no keys, no DSP URL, no database) is kept on the
    campaign, so the operator sees it where they look, not only in this worker's log.
    """
    if not _dispatching.start(campaign_id):
        return 0
    sent, ended = 0, False
    try:
        ex = execution()
        for _ in range(rounds):
            report = dispatch(ex, campaign_id)
            sent += report.devices
            if _dispatching.finish(campaign_id, idle=report.devices == 0):
                ended = True
                return sent
    except TransientError:
        raise  # sender busy, pacing store down, DSP unreachable: retried with backoff
    except OrchestratorError as err:
        log.error("dispatch_failed", campaign_id=campaign_id, error=str(err))
        campaigns.record_dispatch_error(application().uow(), campaign_id, err)
        return sent
    finally:
        if not ended:
            _dispatching.stop(campaign_id)
    dispatch_campaign.delay(campaign_id, rounds)
    return sent


@shared_task(name="fwo.reconcile", ignore_result=True)
def reconcile_all() -> dict[str, Any]:
    """Re-derive due work from the database and nudge every running campaign."""
    ex = execution()
    report = reconcile(ex)
    for campaign_id in report.running:
        dispatch_campaign.delay(campaign_id)
    log.info("reconciled", timed_out=report.timed_out, reprocessed=report.reprocessed,
             running=report.running)
    return {"timed_out": report.timed_out, "running": report.running}


@shared_task(name="fwo.inbound.process", ignore_result=True, acks_late=True)
def process_inbound(message_ids: list[int]) -> int:
    """Verify and apply stored inbound messages as one batch (the receiver stores them raw
    first; those another worker or the reconciler processed meanwhile are skipped)."""
    from orchestrator.service import inbound

    results = inbound.apply_stored(execution(), message_ids)
    nudge_dispatch(results)
    return len(results)


_nudger: dict[str, DispatchNudger | None] = {}


def nudge_dispatch(results: list[Any]) -> None:
    """Jobs moved: dispatch the running campaigns now, not at the next reconcile
    (`orchestrator.entrypoints.nudge`; at most once per interval per worker process)."""
    if "nudger" not in _nudger:
        app = application()
        _nudger["nudger"] = DispatchNudger(app.uow, lambda campaign_id: dispatch_campaign.delay(
            campaign_id))
    nudger = _nudger["nudger"]
    if nudger is not None:
        nudger.applied(results)


@shared_task(name="fwo.ping", ignore_result=True)
def ping() -> str:
    """A task that does nothing: worker health checks and the broker-overhead baseline."""
    return "pong"
