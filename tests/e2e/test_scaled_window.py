"""A windowed campaign in the scaled runtime: real workers and beat over Redis and PostgreSQL,
the simulated DSP over HTTP, every process on the simulator's time (`FWO_CLOCK=dsp`).

The 11.3s go out in the afternoon and are future-dated into 01:00-05:00; the campaign still
completes: every activation ran inside the window on the simulated devices, no 11.2 reached
a device while its dated activation was pending, and no job read back the old version.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from orchestrator.domain.policy import ActivationWindow, Budget, Policy

from .scaled_harness import ScaledRun

FWO = str(Path(sys.executable).with_name("fwo"))


@pytest.mark.slow
def test_windowed_campaign_completes_with_workers_and_the_dsp_over_http(
        tmp_path: Path, postgres_server: str, redis_server: str) -> None:
    """Dated activations run inside the window and are read back after they ran."""
    run = ScaledRun(tmp_path, FWO, devices=400, postgres=postgres_server,
                    redis_url=redis_server, clock="dsp")
    window = ActivationWindow.parse("01:00-05:00", "Europe/London")
    try:
        sim = run.start_dsp()
        assert not window.contains(sim.clock.now())  # 09:00: the 11.3s must be dated
        budgets = tuple(Budget(sr, 100_000, 3600.0) for sr in ("11.1", "11.4", "11.3", "11.2"))
        created = run.start_campaign(Policy(budgets=budgets, activation_window=window))
        assert created["devices"] >= 50
        run.spawn("worker", log=tmp_path / "worker.log")
        run.spawn("beat", log=tmp_path / "beat.log")
        campaign_id = created["campaign_id"]
        state = run.wait(campaign_id, lambda s: s["state"] == "completed", 600)
        assert state["state"] == "completed", state
        jobs = run.rows("select device_id, state, path from device_jobs where campaign_id = "
                        f"{campaign_id} and state != 'blocked'")
        assert {s for _, s, _ in jobs} == {"done"}
        assert sim.fleet.bricked() == []
        assert all(sim.fleet.running_entry(d) == path[-1] for d, _, path in jobs)
        ran = sim.dsp.activations
        assert sum(a.future_dated for a in ran) >= len(jobs)
        assert [a for a in ran if not window.contains(a.at)] == []
        assert sim.dsp.stats.get("read_while_activation_pending", 0) == 0
        mismatches = run.rows("select count(*) from job_events where campaign_id = "
                              f"{campaign_id} and cast(data as text) like '%version_mismatch%'")[0][0]
        assert mismatches == 0
        read_backs = run.rows("select count(*) from job_events where campaign_id = "
                              f"{campaign_id} and cause = 'sent_11.2'")[0][0]
        print(f"\nwindowed scaled run: {len(jobs)} devices done, {len(ran)} activations "
              f"({sum(a.future_dated for a in ran)} future-dated), {read_backs} read-backs, "
              f"simulated time {sim.clock.now():%Y-%m-%d %H:%M}")
    finally:
        run.close()
