"""A dry run leaves the fleet knowing what the campaign did: re-planning changes nothing."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.entrypoints.cli.dry_run_cmds import run_dry_run
from orchestrator.service import planning


def test_after_a_dry_run_plan_shows_every_done_device_up_to_date(
        generated: Path, tmp_path: Path) -> None:
    """Dry run with faults, then `fwo plan`: each done device is up_to_date; nothing bricked."""
    report = run_dry_run(tmp_path, devices=0, entries=0, seed=3, faults="default",
                         catalogue_dir=generated, waves="10%,100%", database=None,
                         progress=False)
    assert report["bricked"] == 0 and report["states"].get("done", 0) > 0
    app = bootstrap(replace(Settings.from_env(), data_dir=tmp_path,
                            database_url=f"sqlite:///{tmp_path / 'dry-run.sqlite3'}"))
    try:
        with app.uow() as uow:
            done = {j.device_id for j in uow.campaigns.jobs(
                report["campaign_id"], states=["done"], limit=10_000)}
        plan = planning.plan_fleet(planning.PlanFleet(), app.uow())
    finally:
        app.close()
    statuses = {p.device.device_id: p.outcome.status for p in plan.devices}
    assert len(done) == report["states"]["done"]
    assert {statuses[d] for d in done} == {"up_to_date"}
