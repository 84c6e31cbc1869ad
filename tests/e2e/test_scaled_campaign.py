"""The scaled runtime: PostgreSQL, Redis, two `fwo worker` processes, `fwo beat`, an HTTP DSP.

A worker is killed with SIGKILL mid-campaign and a new one started; the campaign still
completes, nothing is bricked, no RequestID repeats and the DSP saw no replayed counter.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import uvicorn

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.domain.policy import Policy
from orchestrator.service import campaigns, catalogue, fleet, inbound
from simulators import build_simulation
from simulators.generate import generate
from simulators.service import create_app

FWO = str(Path(sys.executable).with_name("fwo"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def data(tmp_path: Path) -> Path:
    out = tmp_path / "data"
    generate(out, entries=60, devices=1500, seed=21)
    return out


def serve(app: object, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.mark.slow
def test_two_workers_and_beat_complete_a_campaign_through_a_worker_kill(
        data: Path, tmp_path: Path, postgres_url: str, redis_server: str,
        processes: list[subprocess.Popen[bytes]]) -> None:
    """Real workers over Redis and PostgreSQL finish the campaign after one is killed."""
    client = redis.Redis.from_url(redis_server)
    client.flushdb()
    settings = Settings(data_dir=tmp_path / "fwo", database_url=postgres_url,
                        broker_url=redis_server, redis_url=redis_server,
                        keys_dir=data / "keys", image_dir=data / "images")
    app = bootstrap(settings)
    catalogue.sync_catalogue(catalogue.SyncCatalogue(str(data / "cpl.xlsx"),
                                                     str(data / "fir.xlsx")), app.uow(),
                             app.fetch_options())
    fleet.import_fleet(app.uow(), data / "fleet.csv")
    receiver_ex: list[object] = []
    sim = build_simulation(data, faults="none", seed=4, speed=3600.0,
                           receiver=lambda raw: inbound.receive(receiver_ex[0], raw))
    port = free_port()
    env = {**os.environ, "FWO_DATABASE_URL": postgres_url, "FWO_BROKER_URL": redis_server,
           "FWO_REDIS_URL": redis_server, "FWO_DSP_URL": f"http://127.0.0.1:{port}/duis",
           "FWO_KEYS_DIR": str(data / "keys"), "FWO_IMAGE_DIR": str(data / "images"),
           "FWO_DATA_DIR": str(tmp_path / "fwo"), "FWO_RECONCILE_INTERVAL_S": "1",
           "FWO_CATALOGUE_SYNC_INTERVAL_S": "0"}
    receiver_ex.append(app.execution())
    server = serve(create_app(sim, real_time=True), port)
    created = campaigns.create_campaign(campaigns.CreateCampaign(
        "scaled", policy=Policy(approval_required_above=10**9), created_by="ops"),
        app.uow(), app.clock().now())
    campaign_id = created["campaign_id"]
    assert created["devices"] >= 200
    for action in ("submit", "start"):
        campaigns.act(receiver_ex[0], campaign_id, action, "ops")  # type: ignore[arg-type]
    worker = [FWO, "worker", "--concurrency", "1"]
    for _ in range(2):
        processes.append(subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
    processes.append(subprocess.Popen([FWO, "beat"], env=env, cwd=tmp_path,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    state = _wait(app, campaign_id, lambda s: s["states"].get("done", 0) > 20, 180)
    processes[0].send_signal(signal.SIGKILL)
    processes.append(subprocess.Popen(worker, env=env, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
    state = _wait(app, campaign_id, lambda s: s["state"] == "completed", 600)
    server.should_exit = True
    assert state["state"] == "completed", state
    _check_invariants(app, sim, campaign_id)
    app.close()


def _wait(app: object, campaign_id: int, done: object, timeout_s: float) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout_s
    while True:
        state = campaigns.status(app.uow(), campaign_id)  # type: ignore[attr-defined]
        if done(state) or time.monotonic() > deadline:  # type: ignore[operator]
            return state
        time.sleep(0.5)


def _check_invariants(app: object, sim: object, campaign_id: int) -> None:
    from sqlalchemy import text

    with app.engine.connect() as c:  # type: ignore[attr-defined]
        ids = [r[0] for r in c.execute(text("select request_id from sent_requests"))]
        jobs = list(c.execute(text("select device_id, state, path from device_jobs where "
                                   f"campaign_id = {campaign_id} and state != 'blocked'")))
    assert len(ids) == len(set(ids))
    assert {state for _, state, _ in jobs} == {"done"}
    assert sim.fleet.bricked() == []  # type: ignore[attr-defined]
    for device_id, _, path in jobs:
        assert sim.fleet.running_entry(device_id) == path[-1]  # type: ignore[attr-defined]
    replays = [j for j in sim.dsp.journal if j.code == "E42"]  # type: ignore[attr-defined]
    assert replays == []
