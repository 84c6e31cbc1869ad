"""A windowed campaign over simulated days: activations run only inside the window, and no
read-back goes out before the activation it checks has run on the device.

The simulated devices execute a future-dated 11.3 at its execution time in simulated time
and record when each activation ran (ground truth the orchestrator never sees); the
orchestrator's own record of what it sent (`sent_requests`) is checked against that truth.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import sqlalchemy as sa

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.domain.policy import ActivationWindow
from orchestrator.entrypoints.cli.dry_run_cmds import dry_run_policy, run_dry_run
from simulators.dsp.context import ActivationRecord

WINDOW = "01:00-05:00"


def test_windowed_campaign_activates_inside_the_window_and_reads_back_after(
        generated: Path, tmp_path: Path) -> None:
    """Waves, faults and a tight 11.1 budget spread the campaign over days; every activation
    ran inside 01:00-05:00 London time and every read-back followed its activation."""
    activations: list[ActivationRecord] = []
    policy = dry_run_policy("10%,50%,100%", ["11.1=3/86400"], window=WINDOW,
                            timezone="Europe/London")
    report = run_dry_run(tmp_path, devices=0, entries=0, seed=5, faults="default",
                         catalogue_dir=generated, waves="10%,50%,100%", database=None,
                         progress=False, policy=policy,
                         on_finish=lambda world: activations.extend(
                             world.simulation.dsp.activations))
    window = ActivationWindow.parse(WINDOW, "Europe/London")
    assert report["bricked"] == 0
    assert report["states"].get("done", 0) > 20, report["states"]
    assert report["simulated_days"] > 2, report["simulated_days"]
    assert report["activations"]["window"] == "01:00-05:00 Europe/London"
    future = [a for a in activations if a.future_dated]
    assert len(future) > 20 and report["activations"]["future_dated"] == len(future)
    assert [a for a in activations if not window.contains(a.at)] == []
    assert report["activations"]["outside_window"] == 0
    # the simulated devices saw no 11.2 while a dated activation was pending on them
    assert report["activations"]["reads_while_pending"] == 0

    ran = {a.request_id: a.at for a in activations}
    checked = 0
    for activation_id, sent_at, read_back_at in _read_backs(tmp_path, report["campaign_id"]):
        # a read-back never goes out before the dated execution time of its 11.3 ...
        assert read_back_at >= window.next_opening(sent_at), (activation_id, read_back_at)
        # ... nor before the activation ran on the device (when it ran: a lost command is
        # recovered by a read-back once the activation stage times out)
        if activation_id in ran:
            assert ran[activation_id] <= read_back_at, (activation_id, read_back_at)
            checked += 1
    assert checked > 20
    assert "version_mismatch" not in report["failures"], report["failures"]


def _read_backs(work: Path, campaign_id: int) -> list[tuple[str, dt.datetime, dt.datetime]]:
    """Per read-back (the 11.2 after an activation): the RequestID of its 11.3, when that went
    out, and when the read-back went out (the orchestrator's job events)."""
    app = bootstrap(replace(Settings.from_env(), data_dir=work,
                            database_url=f"sqlite:///{work / 'dry-run.sqlite3'}"))
    try:
        with app.engine.connect() as c:
            rows = list(c.execute(sa.text(
                "select device_id, cause, at, request_id from job_events where campaign_id = :c "
                "and cause in ('sent_11.3', 'sent_11.2') order by id"), {"c": campaign_id}))
    finally:
        app.close()
    last_11_3: dict[str, tuple[str, dt.datetime]] = {}
    found = []
    for device, cause, at, request_id in rows:
        if cause == "sent_11.3":
            last_11_3[device] = (request_id, _aware(at))
        else:
            found.append((*last_11_3[device], _aware(at)))
    return found


def _aware(value: dt.datetime | str) -> dt.datetime:
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
