"""The scaled runtime on this machine: PostgreSQL, Redis, `fwo worker`s, `fwo beat`, HTTP DSP.

Shared by the scaled end-to-end test and `bench/campaign.py`.
"""
from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa
import uvicorn

from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.domain.policy import Budget, Policy
from orchestrator.service import campaigns, catalogue, fleet, inbound
from simulators import ReceiverError, build_simulation
from simulators.generate import generate
from simulators.service import create_app


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ScaledRun:
    """Data, database, simulator service, workers and beat of one scaled run."""

    work: Path
    postgres: str
    redis_url: str
    fwo: str
    devices: int = 1500
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data = self.work / "data"
        generate(self.data, entries=60, devices=self.devices, seed=21)
        self.schema = f"fwo_scaled_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(self.postgres)
        with admin.begin() as c:
            c.execute(sa.text(f'create schema "{self.schema}"'))
        admin.dispose()
        self.database = f"{self.postgres}?options=-csearch_path%3D{self.schema}"
        redis.Redis.from_url(self.redis_url).flushdb()
        self.app = self._app()
        self.port = free_port()
        self.env = self._env()

    def _app(self) -> App:
        settings = Settings(data_dir=self.work / "fwo", database_url=self.database,
                            broker_url=self.redis_url, redis_url=self.redis_url,
                            keys_dir=self.data / "keys", image_dir=self.data / "images")
        app = bootstrap(settings)
        catalogue.sync_catalogue(catalogue.SyncCatalogue(
            str(self.data / "cpl.xlsx"), str(self.data / "fir.xlsx")), app.uow(),
            app.fetch_options())
        fleet.import_fleet(app.uow(), self.data / "fleet.csv")
        return app

    def _env(self) -> dict[str, str]:
        return {**os.environ, "FWO_DATABASE_URL": self.database, "FWO_BROKER_URL": self.redis_url,
                "FWO_REDIS_URL": self.redis_url,
                "FWO_DSP_URL": f"http://127.0.0.1:{self.port}/duis",
                "FWO_KEYS_DIR": str(self.data / "keys"),
                "FWO_IMAGE_DIR": str(self.data / "images"),
                "FWO_DATA_DIR": str(self.work / "fwo"), "FWO_RECONCILE_INTERVAL_S": "1",
                "FWO_CATALOGUE_SYNC_INTERVAL_S": "0", "FWO_UNACKNOWLEDGED_GRACE_S": "20"}

    def start_dsp(self, speed: float = 3600.0) -> Any:
        """The simulated DSP over HTTP, delivering to the receiver in this process."""
        execution = self.app.execution()

        def receiver(raw: bytes) -> None:
            try:
                inbound.receive(execution, raw)
            except Exception as err:  # as an HTTP receiver answering 5xx: the DSP retries
                raise ReceiverError(f"{type(err).__name__}: {err}") from err

        self.sim = build_simulation(self.data, faults="none", seed=4, speed=speed,
                                    receiver=receiver)
        self.server = uvicorn.Server(uvicorn.Config(create_app(self.sim, real_time=True),
                                                    host="127.0.0.1", port=self.port,
                                                    log_level="error"))
        threading.Thread(target=self.server.run, daemon=True).start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.sim

    def spawn(self, *argv: str) -> subprocess.Popen[bytes]:
        """Start an `fwo` process with the run's environment."""
        process = subprocess.Popen([self.fwo, *argv], env=self.env, cwd=self.work,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def start_campaign(self) -> dict[str, Any]:
        """Create, approve and start a campaign over the whole fleet."""
        budgets = tuple(Budget(sr, 100_000, 3600.0) for sr in ("11.1", "11.4", "11.3", "11.2"))
        created = campaigns.create_campaign(campaigns.CreateCampaign(
            "scaled", policy=Policy(approval_required_above=10**9, budgets=budgets),
            created_by="ops"),
            self.app.uow(), self.app.clock().now())
        execution = self.app.execution()
        for action in ("submit", "start"):
            campaigns.act(execution, created["campaign_id"], action, "ops")
        return created

    def wait(self, campaign_id: int, done: Callable[[dict[str, Any]], bool],
             timeout_s: float) -> dict[str, Any]:
        """Poll the campaign status until `done` or the timeout."""
        deadline = time.monotonic() + timeout_s
        while True:
            state = campaigns.status(self.app.uow(), campaign_id)
            if done(state) or time.monotonic() > deadline:
                return state
            time.sleep(0.5)

    def rows(self, sql: str) -> list[Any]:
        """Raw rows from the run's database."""
        with self.app.engine.connect() as c:
            return list(c.execute(sa.text(sql)))

    def close(self) -> None:
        """Stop processes and the DSP; drop the schema."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        if getattr(self, "server", None) is not None:
            self.server.should_exit = True
        self.app.close()
        admin = sa.create_engine(self.postgres)
        with admin.begin() as c:
            c.execute(sa.text(f'drop schema "{self.schema}" cascade'))
        admin.dispose()


def noop_throughput(run: ScaledRun, count: int = 5000) -> float:
    """Raw Celery no-op tasks per second through the run's Redis to its workers."""
    from orchestrator.entrypoints.celery_app import create_celery

    celery = create_celery(Settings(broker_url=run.redis_url))
    client = redis.Redis.from_url(run.redis_url)
    start = time.perf_counter()
    for _ in range(count):
        celery.send_task("fwo.ping")
    while client.llen("celery") > 0:
        time.sleep(0.01)
    return round(count / (time.perf_counter() - start), 1)


def run_scaled(devices: int, postgres: str, redis_url: str, fwo: str) -> dict[str, Any]:
    """Bench: device-steps/s with two workers, and the no-op task baseline."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run = ScaledRun(Path(tmp), postgres, redis_url, fwo, devices)
        try:
            run.start_dsp()
            for _ in range(2):
                run.spawn("worker", "--concurrency", "1")
            run.spawn("beat")
            baseline = noop_throughput(run)
            created = run.start_campaign()
            start = time.perf_counter()
            state = run.wait(created["campaign_id"], lambda s: s["state"] == "completed", 900)
            wall = time.perf_counter() - start
            steps = run.rows("select count(*) from job_events where cause = 'version_read' "
                             "and to_state in ('planned', 'done')")[0][0]
        finally:
            run.close()
    return {"devices_planned": created["devices"], "state": state["state"],
            "device_steps": steps, "wall_seconds": round(wall, 1),
            "device_steps_per_s": round(steps / wall, 1), "workers": 2,
            "baseline_noop_tasks_per_s": baseline}
