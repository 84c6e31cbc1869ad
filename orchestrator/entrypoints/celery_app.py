"""The Celery application, built from Settings (never from the environment at import time).

Tasks are ID-only nudges: the database is the source of truth and every handler checks state
first, so a lost or repeated message delays work but never loses or duplicates it.
"""
from __future__ import annotations

import threading
from typing import Any

import structlog
from celery import Celery, signals

from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.logging import configure_logging
from orchestrator.service.wiring import Execution

log = structlog.get_logger(__name__)
_state: dict[str, Any] = {}
_building = threading.Lock()  # a threads-pool worker's tasks start together: build once


def create_celery(settings: Settings) -> Celery:
    """A Celery app for these settings, with the beat schedule and safe defaults."""
    celery = Celery("fwo", broker=settings.broker_url, include=["orchestrator.entrypoints.tasks"])
    celery.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": 6 * 3600},
        worker_hijack_root_logger=False,
        beat_schedule=beat_schedule(settings),
        timezone="UTC",
    )
    _state["settings"] = settings
    _state.pop("app", None)
    _state.pop("execution", None)
    return celery


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """The periodic tasks beat runs (exactly one beat per deployment)."""
    schedule: dict[str, dict[str, Any]] = {}
    if settings.reconcile_interval_s > 0:
        schedule["reconcile"] = {"task": "fwo.reconcile",
                                 "schedule": float(settings.reconcile_interval_s)}
    if settings.catalogue_sync_interval_s > 0:
        schedule["catalogue-sync"] = {"task": "fwo.catalogue.scheduled_sync",
                                      "schedule": float(settings.catalogue_sync_interval_s)}
    if settings.audit_head_interval_s > 0:
        schedule["audit-head"] = {"task": "fwo.audit.head",
                                  "schedule": float(settings.audit_head_interval_s)}
    return schedule


def application() -> App:
    """The wired application of this worker process (built on first use)."""
    with _building:
        if "app" not in _state:
            settings = _state.get("settings") or Settings.from_env()
            _state["settings"] = settings
            _state["app"] = bootstrap(settings)
    app: App = _state["app"]
    return app


def worker_execution() -> Execution:
    """The campaign execution of this worker process (built on first use)."""
    if "execution" not in _state:
        app = application()
        with _building:
            if "execution" not in _state:
                _state["execution"] = app.execution()
    ex: Execution = _state["execution"]
    return ex


@signals.setup_logging.connect
def _setup_logging(**_: Any) -> None:
    settings = _state.get("settings") or Settings()
    configure_logging(settings.log_level)


@signals.task_prerun.connect
def _bind_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    structlog.contextvars.bind_contextvars(task_id=task_id, task_name=getattr(task, "name", None))


@signals.task_postrun.connect
def _unbind_task(**_: Any) -> None:
    structlog.contextvars.clear_contextvars()
