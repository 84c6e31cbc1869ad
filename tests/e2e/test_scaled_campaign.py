"""The scaled runtime: PostgreSQL, Redis, two `fwo worker` processes, `fwo beat`, an HTTP DSP.

Each worker keeps four requests to devices in flight, and the simulated DSP enforces the
per-target counter rule (docs/request-ordering.md). A worker is killed with SIGKILL
mid-campaign and a new one started; the campaign still completes, nothing is bricked, no
RequestID repeats and no counter reached its target out of order (no E42).
"""
from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from orchestrator.domain.policy import Policy, RetryPolicy

from .scaled_harness import OPEN_BUDGETS, ScaledRun

FWO = str(Path(sys.executable).with_name("fwo"))


@pytest.mark.slow
def test_two_workers_and_beat_complete_a_campaign_through_a_worker_kill(
        tmp_path: Path, postgres_server: str, redis_server: str) -> None:
    """Real workers over Redis and PostgreSQL finish the campaign after one is killed."""
    run = ScaledRun(tmp_path, FWO, devices=1500, postgres=postgres_server,
                    redis_url=redis_server)
    try:
        sim = run.start_dsp()
        # a worker killed mid-dispatch leaves the requests it claimed but never sent: they
        # time out after FWO_UNACKNOWLEDGED_GRACE_S and retry after the policy's backoff (15
        # minutes by default, longer than this test waits), so the test's policy retries soon
        retry = RetryPolicy(base_s=5.0, cap_s=30.0)
        created = run.start_campaign(Policy(budgets=OPEN_BUDGETS, retry=retry))
        assert created["devices"] >= 300
        first = run.spawn("worker")
        run.spawn("worker")
        run.spawn("beat")
        campaign_id = created["campaign_id"]
        run.wait(campaign_id, lambda s: s["states"].get("done", 0) > 20, 180)
        first.send_signal(signal.SIGKILL)
        run.spawn("worker")
        state = run.wait(campaign_id, lambda s: s["state"] == "completed", 600)
        assert state["state"] == "completed", state
        ids = [r[0] for r in run.rows("select request_id from sent_requests")]
        assert len(ids) == len(set(ids))
        jobs = run.rows("select device_id, state, path from device_jobs where campaign_id = "
                        f"{campaign_id} and state != 'blocked'")
        assert {s for _, s, _ in jobs} == {"done"}
        assert sim.fleet.bricked() == []
        assert all(sim.fleet.running_entry(d) == path[-1] for d, _, path in jobs)
        assert [d for d in sim.dsp.journal if d.code == "E42"] == []
    finally:
        run.close()
