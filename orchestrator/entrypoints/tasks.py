"""Celery tasks: thin wrappers that load what they need and call a service handler."""
from __future__ import annotations

from typing import Any

import structlog
from celery import shared_task

from orchestrator.entrypoints.celery_app import application
from orchestrator.errors import OrchestratorError
from orchestrator.service import catalogue as service

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
