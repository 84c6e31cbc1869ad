"""Plans against real SQLite and PostgreSQL: storage, reading back, staleness after a sync."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestrator.bootstrap import App
from orchestrator.errors import NoCatalogueError, PlanningError, PlanNotFoundError
from orchestrator.service import fleet, planning

from .conftest import device_row, sync, write_fleet

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def fleet_of(app: App, tmp_path: Path) -> None:
    rows = [device_row(1), device_row(2, entry=2), device_row(3, entry=4),
            device_row(4, firmware_hash="ab" * 32), device_row(5, status="Suspended"),
            device_row(6, device_type="GSME")]
    fleet.import_fleet(app.uow(), write_fleet(tmp_path / "f.csv", rows), T0)


def test_a_plan_is_stored_with_its_snapshot_and_devices(app: App, tmp_path: Path) -> None:
    """The stored plan records snapshot, target, selection, summary and each device's row."""
    snapshot_id = sync(app, tmp_path / "cat")
    fleet_of(app, tmp_path)
    result = planning.plan_fleet(planning.PlanFleet(selection=("device_type=ESME",)), app.uow())
    assert result.summary["by_status"] == {"planned": 2, "up_to_date": 1, "blocked": 2}
    stored = planning.load_plan(app.uow(), result.plan_id or 0)
    assert (stored.snapshot_id, stored.target, stored.device_count) == (snapshot_id, "latest", 5)
    assert stored.selection == {"device_type": ["ESME"]}
    assert stored.summary["by_reason"] == {"not_commissioned": 1, "unknown_firmware": 1}
    assert not stored.stale
    rows = {d.device_id[-2:]: d for d in planning.plan_devices(app.uow(), stored.id)}
    assert rows["01"].path == ("2", "4") and rows["01"].target_entry == "4"
    assert rows["02"].path == ("4",)
    assert (rows["03"].status, rows["03"].path) == ("up_to_date", ())
    assert rows["04"].next_action["security_finding"] is True
    assert rows["05"].reason == "not_commissioned"
    planned = planning.plan_devices(app.uow(), stored.id, "planned")
    assert [d.device_id[-2:] for d in planned] == ["01", "02"]
    assert [d.to_dict() for d in planned] == [p.to_dict() for p in result.devices[:2]]


def test_a_sync_withdrawing_an_entry_on_a_path_marks_the_plan_stale(
        app: App, tmp_path: Path) -> None:
    """Withdrawing entry 2 (on the paths) makes the plan stale with the reason."""
    sync(app, tmp_path / "cat")
    fleet_of(app, tmp_path)
    plan_id = planning.plan_fleet(planning.PlanFleet(), app.uow()).plan_id or 0
    only_up_to_date = planning.PlanFleet(selection=("device_id=00-DB-12-00-00-00-00-03",))
    untouched = planning.plan_fleet(only_up_to_date, app.uow()).plan_id
    new_snapshot = sync(app, tmp_path / "cat2", withdrawn=2)
    stored = planning.load_plan(app.uow(), plan_id)
    assert stored.stale
    assert stored.stale_reason == (f"catalogue snapshot {new_snapshot}: "
                                   "entry 2 status Active -> Withdrawn")
    assert not planning.load_plan(app.uow(), untouched or 0).stale
    replanned = planning.plan_fleet(planning.PlanFleet(selection=("device_id=00DB120000000001",)),
                                    app.uow())
    assert replanned.devices[0].outcome.reason == "no_permitted_path"


def test_an_explicit_target_must_be_an_entry(app: App, tmp_path: Path) -> None:
    """`--target` is latest or a CPL Entry ID of the current snapshot."""
    with pytest.raises(NoCatalogueError):
        planning.plan_fleet(planning.PlanFleet(), app.uow())
    sync(app, tmp_path / "cat")
    fleet_of(app, tmp_path)
    with pytest.raises(PlanningError, match="99"):
        planning.plan_fleet(planning.PlanFleet(target="99"), app.uow())
    result = planning.plan_fleet(planning.PlanFleet(target="3", store=False), app.uow())
    assert result.plan_id is None
    assert result.devices[0].outcome.path == ("2", "3")
    with pytest.raises(PlanNotFoundError):
        planning.load_plan(app.uow(), 12345)
