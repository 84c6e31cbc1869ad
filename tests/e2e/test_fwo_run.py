"""The embedded runtime as a user runs it: `fwo run` (one process, SQLite, no broker, no
Redis) against `fwo sim dsp` over HTTP.

`fwo run` is killed with SIGKILL mid-campaign and started again; the campaign still
completes, every device ends in a terminal state running the firmware its path promised,
nothing is bricked (the simulator's own truth), no RequestID repeats and the DSP answered
no request as a replay. A second `fwo run` on the same database is refused.
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from orchestrator.domain.jobs import TERMINAL
from orchestrator.domain.policy import Budget, Policy, RetryPolicy, StageTimeouts

from .scaled_harness import EmbeddedRun

FWO = str(Path(sys.executable).with_name("fwo"))
SPEED = 3600.0  # the simulated DSP lives an hour per second (HAN delivery: one second)
# The campaign's waits compressed like the DSP's time: while `fwo run` is down the DSP gives
# up on the messages it cannot deliver (as the DCC does after its retries); the stage
# deadlines then recover those devices by timing out into a read-back or a retry.
POLICY = Policy(retry=RetryPolicy(base_s=2.0, cap_s=10.0),
                timeouts=StageTimeouts(distributing_s=90.0, activating_s=20.0,
                                       verifying_s=20.0),
                budgets=tuple(Budget(sr, 100_000, 3600.0)
                              for sr in ("11.1", "11.4", "11.3", "11.2")))


def _second_copy_refused(run: EmbeddedRun) -> None:
    """A second `fwo run` on the same database exits 2 with one line naming the lock."""
    second = subprocess.run([FWO, "run", "--port", "1"], env=run.env, cwd=run.work,
                            capture_output=True, timeout=120, check=False)
    lines = second.stderr.decode().strip().splitlines()
    assert second.returncode == 2, second.stderr
    assert len(lines) == 1 and "already running" in lines[0], lines


@pytest.mark.slow
@pytest.mark.parametrize("receiver_apply", ["inline", "deferred"])
def test_fwo_run_completes_a_campaign_through_a_sigkill(tmp_path: Path,
                                                        receiver_apply: str) -> None:
    """One `fwo run` process finishes a 1,000-device campaign after being SIGKILLed once,
    with the receiver applying inline, and deferred (stored messages applied by its applier
    thread, those a SIGKILL left `received` by the next process)."""
    run = EmbeddedRun(tmp_path, FWO, devices=1000, receiver_apply=receiver_apply)
    try:
        run.start_dsp(speed=SPEED)
        created = run.start_campaign(POLICY)
        assert created["devices"] >= 200
        campaign_id = created["campaign_id"]
        first = run.start_fwo_run()
        _second_copy_refused(run)
        state = run.wait(campaign_id, lambda s: s["states"].get("done", 0) >= 30
                         or s["state"] != "running", 300)
        assert state["state"] == "running", state  # mid-campaign: some devices done, not all
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        run.start_fwo_run()
        state = run.wait(campaign_id, lambda s: s["state"] != "running", 600)
        assert state["state"] == "completed", state
        jobs = run.rows("select device_id, state, path from device_jobs where campaign_id = "
                        f"{campaign_id} and state != 'blocked'")
        assert len(jobs) == created["devices"]
        assert {s for _, s, _ in jobs} <= {t.value for t in TERMINAL}
        assert run.get("/truth")["bricked"] == []
        for device_id, job_state, path in jobs:
            if job_state == "done":
                want = json.loads(path)[-1]  # the last entry of its path
                assert run.get(f"/devices/{device_id}")["running_entry"] == want
        ids = [r[0] for r in run.rows("select request_id from sent_requests")]
        assert len(ids) == len(set(ids))
        assert run.get("/truth")["stats"].get("answered_E42", 0) == 0
    finally:
        run.close()
