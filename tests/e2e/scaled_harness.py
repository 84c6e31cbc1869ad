"""Whole runtimes on this machine, driven from a test or a benchmark.

`ScaledRun`: PostgreSQL, Redis, `fwo worker`s, `fwo beat`, the simulated DSP over HTTP in
this process. `EmbeddedRun`: one `fwo run` process on a SQLite file against `fwo sim dsp` in
its own process. Shared by the end-to-end tests and `bench/campaign.py`.
"""
from __future__ import annotations

import os
import queue
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis
import sqlalchemy as sa
import uvicorn

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.domain.policy import Budget, Policy
from orchestrator.entrypoints.nudge import celery_nudger
from orchestrator.service import campaigns, catalogue, fleet, inbound
from orchestrator.service.access import Principal
from simulators import build_simulation
from simulators.clock import DEFAULT_START
from simulators.generate import generate
from simulators.service import create_app

OPEN_BUDGETS = tuple(Budget(sr, 100_000, 3600.0) for sr in ("11.1", "11.4", "11.3", "11.2"))


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class CampaignRun:
    """Generated data, a database holding its catalogue and fleet, and `fwo` processes."""

    work: Path
    fwo: str
    devices: int = 1500
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    dsp_url: str = ""  # the simulated DSP, once its address is known

    def generate(self) -> None:
        """Generate the catalogue, fleet, images and keys, and load them into the database."""
        self.data = self.work / "data"
        generate(self.data, entries=60, devices=self.devices, seed=21)
        self.app = bootstrap(self.settings())
        catalogue.sync_catalogue(catalogue.SyncCatalogue(
            str(self.data / "cpl.xlsx"), str(self.data / "fir.xlsx")), self.app.uow(),
            self.app.fetch_options())
        # the inventory is the simulated fleet when simulated time starts, so reads count
        fleet.import_fleet(self.app.uow(), self.data / "fleet.csv", DEFAULT_START)

    def settings(self) -> Settings:
        """The settings this test process uses to set up and watch the run."""
        raise NotImplementedError

    def spawn(self, *argv: str, log: Path | None = None) -> subprocess.Popen[bytes]:
        """Start an `fwo` process with the run's environment (output to `log` if given)."""
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - child owns it
        try:
            process = subprocess.Popen([self.fwo, *argv], env=self.env, cwd=self.work,
                                       stdout=out, stderr=subprocess.STDOUT if log else out)
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
        self.processes.append(process)
        return process

    def start_campaign(self, policy: Policy | None = None) -> dict[str, Any]:
        """Create, approve and start a campaign over the whole fleet."""
        created = campaigns.create_campaign(campaigns.CreateCampaign(
            "scaled", policy=policy or Policy(budgets=OPEN_BUDGETS),
            created_by=Principal("ops", "operator")),
            self.app.uow(), self.app.clock().now())
        execution, ops = self.app.execution(), Principal("ops", "operator")
        if campaigns.act(execution, created["campaign_id"], "submit", ops)["state"] != "approved":
            campaigns.act(execution, created["campaign_id"], "approve",
                          Principal("abe", "approver"))  # four eyes: another person
        campaigns.act(execution, created["campaign_id"], "start", ops)
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

    def get(self, path: str, base: str | None = None, wait_s: float = 0.0) -> Any:
        """GET JSON from the DSP (or `base`), retrying connection errors for `wait_s`."""
        deadline = time.monotonic() + wait_s
        while True:
            try:
                response = httpx.get(f"{base or self.dsp_url}{path}", timeout=30)
                response.raise_for_status()
                return response.json()
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def rows(self, sql: str) -> list[Any]:
        """Raw rows from the run's database."""
        with self.app.engine.connect() as c:
            return list(c.execute(sa.text(sql)))

    def stop_processes(self) -> None:
        """Terminate every process started (kill what does not stop within 15 s)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class ScaledRun(CampaignRun):
    """Data, database, simulator service, workers and beat of one scaled run."""

    postgres: str = ""
    redis_url: str = ""
    clock: str = "system"  # dsp: every process keeps the simulated DSP's time (FWO_CLOCK)
    send_concurrency: int = 4  # FWO_SEND_CONCURRENCY of the workers
    send_order: str = "target"  # FWO_SEND_ORDER of the workers
    reconcile_interval_s: int = 1  # FWO_RECONCILE_INTERVAL_S of beat
    nudge: bool = True  # the receiver nudges a dispatch when answers moved jobs

    def __post_init__(self) -> None:
        self.schema = f"fwo_scaled_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(self.postgres)
        with admin.begin() as c:
            c.execute(sa.text(f'create schema "{self.schema}"'))
        admin.dispose()
        self.database = f"{self.postgres}?options=-csearch_path%3D{self.schema}"
        redis.Redis.from_url(self.redis_url).flushdb()
        self.port = free_port()
        self.dsp_url = f"http://127.0.0.1:{self.port}"
        self.generate()
        self.env = self._env()

    def settings(self) -> Settings:
        """PostgreSQL and Redis of this run."""
        return Settings(data_dir=self.work / "fwo", database_url=self.database,
                        broker_url=self.redis_url, redis_url=self.redis_url,
                        keys_dir=self.data / "keys", image_dir=self.data / "images",
                        clock=self.clock, dsp_url=f"http://127.0.0.1:{self.port}")

    def _env(self) -> dict[str, str]:
        # on the simulator's time (x3600) the grace for unanswered requests is 20 wall seconds
        grace = "72000" if self.clock == "dsp" else "20"
        return {**os.environ, "FWO_CLOCK": self.clock, "FWO_DATABASE_URL": self.database, "FWO_BROKER_URL": self.redis_url,
                "FWO_REDIS_URL": self.redis_url,
                "FWO_DSP_URL": f"http://127.0.0.1:{self.port}",
                "FWO_KEYS_DIR": str(self.data / "keys"),
                "FWO_IMAGE_DIR": str(self.data / "images"),
                "FWO_DATA_DIR": str(self.work / "fwo"), "FWO_RECONCILE_INTERVAL_S": str(self.reconcile_interval_s),
                "FWO_CATALOGUE_SYNC_INTERVAL_S": "0", "FWO_UNACKNOWLEDGED_GRACE_S": grace,
                "FWO_SEND_CONCURRENCY": str(self.send_concurrency),
                "FWO_SEND_ORDER": self.send_order, "FWO_RECEIVER_APPLY": "deferred"}

    def start_dsp(self, speed: float = 3600.0, latency_s: float = 0.0,
                  replay_scope: str = "target") -> Any:
        """The simulated DSP over HTTP, each synchronous answer `latency_s` late, enforcing
        counters per `replay_scope`; its responses and alerts reach the receiver in this
        process, which takes each at once and applies them in batches on its own thread (as
        `fwo serve` does with `FWO_RECEIVER_APPLY=deferred`), so the DSP's clock never waits
        on the database."""
        execution = self.app.execution()
        nudger = celery_nudger(self.app.uow, self.redis_url) if self.nudge else None
        arrived: queue.Queue[bytes] = queue.Queue()

        def apply_batches() -> None:
            while True:
                batch = [arrived.get()]
                while len(batch) < 500:
                    try:
                        batch.append(arrived.get_nowait())
                    except queue.Empty:
                        break
                for attempt in range(5):
                    try:
                        results = inbound.receive_many(execution, batch)
                        if nudger is not None:
                            nudger.applied(results)
                        break
                    except sa.exc.SQLAlchemyError as err:  # the database hiccuped: again
                        print(f"receiver: {type(err).__name__}: {err}", file=sys.stderr)
                        time.sleep(0.2 * (attempt + 1))

        threading.Thread(target=apply_batches, daemon=True, name="receiver").start()
        self.sim = build_simulation(self.data, faults="none", seed=4, speed=speed,
                                    receiver=arrived.put, replay_scope=replay_scope)
        app = create_app(self.sim, real_time=True, latency_s=latency_s)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="error"))
        threading.Thread(target=self.server.run, daemon=True).start()
        deadline = time.monotonic() + 20
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.sim

    def start_dsp_process(self, speed: float = 3600.0, latency_s: float = 0.0,
                          replay_scope: str = "target") -> None:
        """`fwo sim dsp` in its own process, delivering to `fwo serve` (deferred receiver:
        each message stored at once, applied by the workers' `fwo.inbound.process` tasks),
        as a supplier's deployment would have it: nothing of the DSP or the receiver runs in
        this process. What the DSP saw is read from its `GET /truth`."""
        api_port = free_port()
        self.spawn("serve", "--host", "127.0.0.1", "--port", str(api_port),
                   log=self.work / "serve.log")
        self.get("/healthz", f"http://127.0.0.1:{api_port}", wait_s=60)
        self.spawn("sim", "dsp", "--catalogue", str(self.data), "--port", str(self.port),
                   "--speed", str(speed), "--faults", "none", "--seed", "4",
                   "--latency-ms", str(latency_s * 1000), "--replay-scope", replay_scope,
                   "--receiver", f"http://127.0.0.1:{api_port}/duis/receiver",
                   log=self.work / "dsp.log")
        self.get("/health", wait_s=60)

    def close(self) -> None:
        """Stop processes and the DSP; drop the schema."""
        self.stop_processes()
        if getattr(self, "server", None) is not None:
            self.server.should_exit = True
        self.app.close()
        admin = sa.create_engine(self.postgres)
        with admin.begin() as c:
            c.execute(sa.text(f'drop schema "{self.schema}" cascade'))
        admin.dispose()


@dataclass
class EmbeddedRun(CampaignRun):
    """One `fwo run` on a SQLite file, `fwo sim dsp` in its own process, both over HTTP."""

    receiver_apply: str = "inline"  # FWO_RECEIVER_APPLY of `fwo run`

    def __post_init__(self) -> None:
        self.database = f"sqlite:///{self.work / 'fwo' / 'fwo.sqlite3'}"
        self.generate()
        self.api_port, self.dsp_port = free_port(), free_port()
        self.dsp_url = f"http://127.0.0.1:{self.dsp_port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FWO_")}
        self.env.update({
            "FWO_DATABASE_URL": self.database, "FWO_DATA_DIR": str(self.work / "fwo"),
            "FWO_DSP_URL": self.dsp_url, "FWO_API_PORT": str(self.api_port),
            "FWO_KEYS_DIR": str(self.data / "keys"),
            "FWO_IMAGE_DIR": str(self.data / "images"), "FWO_RECONCILE_INTERVAL_S": "2",
            "FWO_CATALOGUE_SYNC_INTERVAL_S": "0", "FWO_UNACKNOWLEDGED_GRACE_S": "10",
            "FWO_RECEIVER_APPLY": self.receiver_apply})

    def settings(self) -> Settings:
        """The SQLite file `fwo run` serves."""
        return Settings(data_dir=self.work / "fwo", database_url=self.database,
                        keys_dir=self.data / "keys", image_dir=self.data / "images")

    def start_dsp(self, speed: float = 3600.0) -> subprocess.Popen[bytes]:
        """`fwo sim dsp` delivering to `fwo run`'s receiver (it retries while that is down)."""
        process = self.spawn("sim", "dsp", "--catalogue", str(self.data), "--port",
                             str(self.dsp_port), "--speed", str(speed), "--faults", "none",
                             "--seed", "4", "--receiver",
                             f"http://127.0.0.1:{self.api_port}/duis/receiver",
                             log=self.work / "dsp.log")
        self.get("/health", self.dsp_url, wait_s=60)
        return process

    def start_fwo_run(self) -> subprocess.Popen[bytes]:
        """`fwo run`, once its API answers."""
        process = self.spawn("run", log=self.work / "fwo-run.log")
        self.get("/healthz", f"http://127.0.0.1:{self.api_port}", wait_s=60)
        return process

    def close(self) -> None:
        """Stop the processes and release the database."""
        self.stop_processes()
        self.app.close()


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


def run_scaled(devices: int, postgres: str, redis_url: str, fwo: str, *, workers: int = 2,
               latency_ms: float = 0.0, send_concurrency: int = 8,
               send_order: str = "target", reconcile_interval_s: int = 1,
               nudge: bool = True, dsp_process: bool = False, pool: str = "threads",
               tasks_per_worker: int = 4) -> dict[str, Any]:
    """Bench: device-steps/s with `workers` worker processes against a DSP answering each
    synchronous request `latency_ms` late; the no-op task baseline through the same Redis,
    and the ceiling strictly serial sending would have at that latency. `dsp_process`: the
    DSP and the receiver (`fwo sim dsp`, `fwo serve`) in processes of their own, else in
    this one. Each worker runs `tasks_per_worker` tasks at once in its `pool` (`fwo worker
    --pool`): threads share one process, so a worker is one core either way."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        run = ScaledRun(Path(tmp), fwo, devices, postgres=postgres, redis_url=redis_url,
                        send_concurrency=send_concurrency, send_order=send_order,
                        reconcile_interval_s=reconcile_interval_s, nudge=nudge)
        try:
            scope = "originator" if send_order == "originator" else "target"
            if dsp_process:
                run.start_dsp_process(latency_s=latency_ms / 1000, replay_scope=scope)
            else:
                sim = run.start_dsp(latency_s=latency_ms / 1000, replay_scope=scope)
            for _ in range(workers):
                run.spawn("worker", "--concurrency", str(tasks_per_worker), "--pool", pool)
            run.spawn("beat")
            baseline = noop_throughput(run)
            created = run.start_campaign()
            start = time.perf_counter()
            state = run.wait(created["campaign_id"], lambda s: s["state"] == "completed", 1800)
            wall = time.perf_counter() - start
            steps = run.rows("select count(*) from job_events where cause = 'version_read' "
                             "and to_state in ('planned', 'done')")[0][0]
            truth = (run.get("/truth") if dsp_process else
                     {"stats": sim.dsp.stats, "bricked": sim.fleet.bricked()})
            answered = sum(n for k, n in truth["stats"].items() if k.startswith("answered_"))
            replays = truth["stats"].get("answered_E42", 0)
            bricked = len(truth["bricked"])
        finally:
            run.close()
    per_step = answered / steps if steps else 0.0
    serial = 1 / (per_step * latency_ms / 1000) if per_step and latency_ms else None
    return {"devices_planned": created["devices"], "state": state["state"],
            "device_steps": steps, "wall_seconds": round(wall, 1),
            "device_steps_per_s": round(steps / wall, 1), "workers": workers,
            "latency_ms": latency_ms, "send_concurrency": send_concurrency,
            "send_order": send_order, "reconcile_interval_s": reconcile_interval_s,
            "nudge": nudge, "dsp": "process" if dsp_process else "in the bench process",
            "pool": pool, "tasks_per_worker": tasks_per_worker,
            "dsp_requests_per_step": round(per_step, 2),
            "serial_ceiling_steps_per_s": None if serial is None else round(serial, 2),
            "replays_refused_e42": replays, "bricked": bricked,
            "baseline_noop_tasks_per_s": baseline}
