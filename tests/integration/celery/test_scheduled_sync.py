"""The periodic catalogue sync runs through Celery: eagerly, and on a real Redis broker."""
from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from celery.contrib.testing.worker import start_worker

from fir_sync.testing import cpl_row, fir_row, write_pair
from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.entrypoints.celery_app import beat_schedule, create_celery
from orchestrator.service import catalogue as service


def settings_for(tmp_path: Path, database_url: str) -> Settings:
    cpl, fir = write_pair(tmp_path, [cpl_row(1), cpl_row(2, "00000002")],
                          [fir_row(1), fir_row(2, "1")])
    return Settings(data_dir=tmp_path / "data", database_url=database_url,
                    catalogue_cpl_source=str(cpl), catalogue_fir_source=str(fir),
                    catalogue_sync_interval_s=3600)


def test_beat_schedules_the_sync_at_the_configured_interval(tmp_path: Path) -> None:
    """The interval setting becomes the beat entry; 0 disables it."""
    settings = Settings(catalogue_sync_interval_s=900)
    assert beat_schedule(settings)["catalogue-sync"]["schedule"] == 900.0
    assert "catalogue-sync" not in beat_schedule(replace(settings, catalogue_sync_interval_s=0))
    assert beat_schedule(settings)["reconcile"]["task"] == "fwo.reconcile"


def test_scheduled_sync_task_syncs_the_configured_sources(tmp_path: Path,
                                                          sqlite_url: str) -> None:
    """Called through Celery (eager), the task stores a snapshot from the settings' sources."""
    celery = create_celery(settings_for(tmp_path, sqlite_url))
    celery.conf.task_always_eager = True
    celery.send_task  # noqa: B018 - the app must be current for shared tasks
    from orchestrator.entrypoints.tasks import scheduled_catalogue_sync

    result = scheduled_catalogue_sync.apply().get()
    assert result["cpl_entries"] == 2 and result["unchanged"] is False
    again = scheduled_catalogue_sync.apply().get()
    assert again["unchanged"] is True


def test_scheduled_sync_runs_on_a_worker_over_redis(tmp_path: Path, redis_server: str,
                                                    postgres_url: str) -> None:
    """A real worker consuming from Redis runs the sync into PostgreSQL."""
    settings = replace(settings_for(tmp_path, postgres_url), broker_url=redis_server)
    celery = create_celery(settings)
    celery.conf.task_default_queue = f"fwo-test-{tmp_path.name}"
    app = bootstrap(settings)
    with start_worker(celery, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        celery.send_task("fwo.catalogue.scheduled_sync")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with app.uow() as uow:
                if uow.catalogue.current_id() is not None:
                    break
            time.sleep(0.2)
        catalogue = service.current_catalogue(app.uow())
        app.close()
    assert catalogue.predecessors("2") == ("1",)
