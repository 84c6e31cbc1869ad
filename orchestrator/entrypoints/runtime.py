"""`fwo run`: the embedded runtime in one process, with no broker and no Redis.

The API, DUIS receiver and dashboard are served by uvicorn; beside them one background
thread does what `fwo worker` and `fwo beat` do in the scaled runtime, calling the same
handlers the Celery tasks call: every tick it runs each running campaign's wave gate and
dispatches its due work (`fwo.campaign.dispatch`), and every `FWO_RECONCILE_INTERVAL_S` it
runs the reconciler (`fwo.reconcile`) and, when sources are configured, the periodic
catalogue sync. The database is the source of truth: after a crash the next process's first
reconcile times out what was in flight (requests recorded but never acknowledged wait
`FWO_UNACKNOWLEDGED_GRACE_S`, so an answer or alert still on its way is applied first) and
carries on. One process per database: an exclusive lock (a `fcntl` lock file beside the
SQLite file, a session advisory lock on PostgreSQL) refuses a second copy.
"""
from __future__ import annotations

import contextlib
import fcntl
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import structlog
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url

from orchestrator.bootstrap import App
from orchestrator.config import DUIS_XSD_OFF
from orchestrator.domain.campaign import CampaignState
from orchestrator.errors import OrchestratorError
from orchestrator.service import audit, campaigns
from orchestrator.service.catalogue import SyncCatalogue, sync_catalogue
from orchestrator.service.execution import dispatch
from orchestrator.service.reconcile import reconcile
from orchestrator.service.wiring import Execution

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI

log = structlog.get_logger("fwo.run")
RUN_LOCK_KEY = 0x4657_4F52  # PostgreSQL advisory lock key of `fwo run` ("FWOR")
DISPATCH_ROUNDS = 20  # batches per campaign per tick before the next campaign gets a turn


class AlreadyRunningError(OrchestratorError):
    """Another `fwo run` holds this database."""


@contextlib.contextmanager
def exclusive(engine: Engine) -> Iterator[None]:
    """Hold the one-process lock of this database for the life of the block."""
    url = engine.url
    if url.get_backend_name() == "postgresql":
        with _advisory_lock(engine):
            yield
        return
    database = url.database or ""
    if url.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        yield  # a private in-memory database cannot be shared
        return
    with _lock_file(Path(database).with_name(Path(database).name + ".lock")):
        yield


def embedded_runtime_running(engine: Engine) -> bool:
    """True when a `fwo run` holds this database (its lock cannot be taken now)."""
    try:
        with exclusive(engine):
            return False
    except AlreadyRunningError:
        return True


@contextlib.contextmanager
def _lock_file(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle: IO[str] = open(path, "a+")  # noqa: SIM115 - held open while the lock is held
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise AlreadyRunningError(f"`fwo run` is already running on this database "
                                      f"(pid {holder}; lock {path})") from err
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock (the kernel does it on SIGKILL too)


@contextlib.contextmanager
def _advisory_lock(engine: Engine) -> Iterator[None]:
    with engine.connect() as connection:
        if not _try_lock(connection):
            shown = make_url(engine.url).render_as_string(hide_password=True)
            raise AlreadyRunningError(f"`fwo run` is already running on {shown}")
        try:
            yield
        finally:
            connection.execute(text(f"SELECT pg_advisory_unlock({RUN_LOCK_KEY})"))
            connection.commit()


def _try_lock(connection: Connection) -> bool:
    locked = bool(connection.scalar(text(f"SELECT pg_try_advisory_lock({RUN_LOCK_KEY})")))
    connection.commit()
    return locked


class Scheduler:
    """The in-process dispatcher and reconciler (what workers and beat do when scaled)."""

    def __init__(self, app: App, execution: Execution, *, tick_s: float = 1.0) -> None:
        self.app, self.execution, self.tick_s = app, execution, tick_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="fwo-scheduler", daemon=True)
        self._due: dict[str, float] = {"reconcile": 0.0, "catalogue": 0.0, "audit": 0.0}

    def start(self) -> None:
        """Start the background thread (the first pass reconciles at once)."""
        self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the thread to stop after the batch it is sending, and wait for it."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # logged with its traceback; the loop carries on
                log.exception("scheduler_pass_failed")
                self._stop.wait(min(30.0, 5 * self.tick_s))
            self._stop.wait(self.tick_s)

    def run_once(self) -> None:
        """One pass: the periodic jobs that are due, then every running campaign's work."""
        if self._take("reconcile", self.app.settings.reconcile_interval_s):
            report = reconcile(self.execution)
            log.info("reconciled", timed_out=report.timed_out, reprocessed=report.reprocessed,
                     started=report.started, running=report.running)
        if self._take("catalogue", self.app.settings.catalogue_sync_interval_s):
            self._sync_catalogue()
        if self._take("audit", self.app.settings.audit_head_interval_s):
            audit.export_head(self.app.uow())
        with self.execution.uow() as uow:
            running = uow.campaigns.running_ids()
        for campaign_id in running:
            if self._stop.is_set():
                return
            if campaigns.gate(self.execution, campaign_id) == CampaignState.RUNNING.value:
                self._dispatch(campaign_id)

    def _take(self, job: str, interval_s: float) -> bool:
        now = time.monotonic()
        if interval_s <= 0 or now < self._due[job]:
            return False
        self._due[job] = now + interval_s
        return True

    def _dispatch(self, campaign_id: int) -> None:
        for _ in range(DISPATCH_ROUNDS):
            report = dispatch(self.execution, campaign_id)
            if report.devices:
                log.info("dispatched", campaign_id=campaign_id, devices=report.devices,
                         requests=report.requests)
            if report.devices == 0 or self._stop.is_set():
                return

    def _sync_catalogue(self) -> None:
        settings = self.app.settings
        if not (settings.catalogue_cpl_source and settings.catalogue_fir_source):
            return
        command = SyncCatalogue(settings.catalogue_cpl_source, settings.catalogue_fir_source)
        try:
            result = sync_catalogue(command, self.app.uow(), self.app.fetch_options())
        except OrchestratorError as err:  # refused: the previous catalogue stays; say why
            log.error("catalogue_sync_refused", reason=str(err))
            return
        log.info("catalogue_synced", snapshot_id=result.snapshot_id,
                 unchanged=result.unchanged, problems=len(result.problems))


def server_config(app: App, api: FastAPI, host: str, port: int) -> uvicorn.Config:
    """uvicorn's settings for `fwo run` and `fwo serve`: on SIGTERM, running requests get
    `FWO_SHUTDOWN_GRACE_S` to finish, then are cut (see `exit_abandoning_requests`)."""
    import uvicorn

    return uvicorn.Config(api, host=host, port=port, proxy_headers=True, access_log=False,
                          log_config=None,
                          timeout_graceful_shutdown=math.ceil(app.settings.shutdown_grace_s))


def exit_abandoning_requests() -> None:
    """End the process once the server has stopped, even if a request's worker thread is
    still running (a sync reading a slow source): nothing can cancel a thread, and waiting
    for it would make SIGTERM wait too. Its transaction was never committed, so the
    database rolls it back; the caller may simply try again."""
    lingering = [t.name for t in threading.enumerate()
                 if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if not lingering:
        return
    log.warning("shutdown_abandoned_requests", threads=len(lingering))
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def serve(app: App, host: str, port: int, *, tick_s: float = 1.0) -> None:
    """Run the API and the scheduler in this process until SIGINT/SIGTERM."""
    import uvicorn

    from orchestrator.entrypoints.api.app import create_app

    execution = app.execution()  # one send lock for the scheduler and the API's cancellations
    api = create_app(app, execution)
    server = uvicorn.Server(server_config(app, api, host, port))
    scheduler = Scheduler(app, execution, tick_s=tick_s)
    with exclusive(app.engine):
        if not app.settings.duis_xsd:
            log.warning("duis_schema_validation_off", hint=DUIS_XSD_OFF)
        log.info("fwo_run_started", pid=os.getpid(), host=host, port=port,
                 database=app.engine.url.render_as_string(hide_password=True),
                 dsp_url=app.settings.dsp_url or None)
        scheduler.start()
        try:
            server.run()
        finally:
            scheduler.stop()
            log.info("fwo_run_stopped", pid=os.getpid())
    exit_abandoning_requests()

