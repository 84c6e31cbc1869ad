"""Benchmark: campaign throughput in both runtimes, and status latency at a million devices.

Prints one JSON line:
- embedded: dry-run device-steps/s (SQLite, in-process simulator, faults none) against the
  baseline of raw Celery no-op tasks/s through the in-memory broker to an in-process worker;
- scaled (needs PostgreSQL and Redis): device-steps/s with 2 `fwo worker` processes against
  the HTTP DSP simulator, against raw no-op tasks/s through Redis to the same 2 workers;
- latency (needs PostgreSQL and Redis): the same with the DSP answering every synchronous
  request `--latency-ms` late (default 100), with 1 and then 2 workers, each keeping
  `--send-concurrency` requests in flight; against the ceiling of strictly serial sending at
  that latency (1 / (DSP requests per device-step x latency)) and the no-op task baseline.
  The simulated DSP and its receiver run in this process; with `--dsp-process` they are
  `fwo sim dsp` and `fwo serve` (deferred) in processes of their own, as deployed. Each
  worker is one process running `--tasks-per-worker` tasks at once in its `--pool`
  (default: `fwo worker`'s, threads and 4);
- status: `campaign status` latency (maintained counters) on a 1,000,000-device campaign,
  against a full `GROUP BY` scan of its jobs.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
FWO = str(Path(sys.executable).with_name("fwo"))
PG = os.environ.get("FWO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = os.environ.get("FWO_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def embedded(devices: int) -> dict[str, Any]:
    from orchestrator.entrypoints.cli.dry_run_cmds import run_dry_run

    with tempfile.TemporaryDirectory() as tmp:
        report = run_dry_run(Path(tmp), devices=devices, entries=200, seed=3, faults="none",
                             catalogue_dir=None, waves="100%", database=None, progress=False)
    return {"devices_planned": report["devices"]["planned"],
            "device_steps": report["device_steps_verified"],
            "wall_seconds": report["wall_seconds"],
            "device_steps_per_s": report["device_steps_per_second"],
            "baseline_noop_tasks_per_s": noop_in_memory(5000), "bricked": report["bricked"]}


def noop_in_memory(count: int) -> float:
    from celery.contrib.testing.worker import start_worker

    from orchestrator.config import Settings
    from orchestrator.entrypoints.celery_app import create_celery

    celery = create_celery(Settings())
    import orchestrator.entrypoints.tasks  # noqa: F401  (registers the tasks)

    with start_worker(celery, perform_ping_check=False, pool="solo", loglevel="ERROR"):
        start = time.perf_counter()
        for _ in range(count):
            celery.send_task("fwo.ping")
        while _queued(celery) > 0:
            time.sleep(0.01)
        return round(count / (time.perf_counter() - start), 1)


def _queued(celery: Any) -> int:
    with celery.connection_for_write() as conn:
        return int(conn.default_channel.queue_declare("celery", passive=True).message_count)


def status_latency(devices: int) -> dict[str, Any]:
    import datetime as dt

    from orchestrator.bootstrap import bootstrap
    from orchestrator.config import Settings
    from orchestrator.domain.campaign import Campaign
    from orchestrator.domain.jobs import DeviceJob, JobState
    from orchestrator.domain.policy import Policy
    from orchestrator.service.campaigns import status

    with tempfile.TemporaryDirectory() as tmp:
        app = bootstrap(Settings(data_dir=Path(tmp)))
        now = dt.datetime.now(dt.UTC)
        states = [JobState.DONE, JobState.PLANNED, JobState.DISTRIBUTING, JobState.VERIFYING]
        with app.uow() as uow:
            campaign_id = uow.campaigns.add(Campaign(0, "big", "latest", {}, Policy(), "b", now,
                                                     device_count=devices), None, 4)
            start = time.perf_counter()
            uow.campaigns.add_jobs([DeviceJob(campaign_id, f"{i:016X}", ("E1",), 1 + i % 4,
                                              state=states[i % 4]) for i in range(devices)], now)
            uow.commit()
        insert_s = time.perf_counter() - start
        ours = _timed(lambda: status(app.uow(), campaign_id))
        with app.engine.connect() as c:
            scan = _timed(lambda: list(c.execute(text(
                "select wave, state, count(*) from device_jobs where campaign_id = "
                f"{campaign_id} group by wave, state"))))
        app.close()
    return {"devices": devices, "insert_seconds": round(insert_s, 1),
            "status_ms": ours, "baseline_full_scan_ms": scan,
            "ratio_scan_to_status": round(scan / ours, 1)}


def _timed(call: Any, repeat: int = 7) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return round(statistics.median(times) * 1000, 2)


def scaled(devices: int) -> dict[str, Any]:
    from scaled_harness import run_scaled  # shared with the scaled end-to-end test

    return run_scaled(devices, PG, REDIS, FWO)


def latency(devices: int, latency_ms: float, concurrency: int,
            dsp_process: bool = False, pool: str = "threads",
            tasks_per_worker: int = 4) -> dict[str, Any]:
    from scaled_harness import run_scaled

    one, two = (run_scaled(devices, PG, REDIS, FWO, workers=n, latency_ms=latency_ms,
                           send_concurrency=concurrency, dsp_process=dsp_process, pool=pool,
                           tasks_per_worker=tasks_per_worker)
                for n in (1, 2))
    return {"one_worker": one, "two_workers": two,
            "two_over_one": round(two["device_steps_per_s"] / one["device_steps_per_s"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=5000)
    parser.add_argument("--status-devices", type=int, default=1_000_000)
    parser.add_argument("--parts", default="embedded,status,scaled,latency")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--send-concurrency", type=int, default=32)
    parser.add_argument("--dsp-process", action="store_true",
                        help="latency: the DSP and the receiver in processes of their own")
    parser.add_argument("--pool", default="threads", choices=("prefork", "threads"),
                        help="latency: each worker's pool (`fwo worker --pool`)")
    parser.add_argument("--tasks-per-worker", type=int, default=4,
                        help="latency: tasks each worker runs at once (`--concurrency`)")
    args = parser.parse_args()
    parts = args.parts.split(",")
    result: dict[str, Any] = {"bench": "campaign"}
    if "embedded" in parts:
        result["embedded"] = embedded(args.devices)
    if "status" in parts:
        result["status"] = status_latency(args.status_devices)
    if "scaled" in parts:
        result["scaled"] = scaled(args.devices)
    if "latency" in parts:
        result["latency"] = latency(args.devices, args.latency_ms, args.send_concurrency,
                                    args.dsp_process, args.pool, args.tasks_per_worker)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
