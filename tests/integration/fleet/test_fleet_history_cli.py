"""`fwo fleet history`, `fwo fleet drift` and `fwo fleet refresh` from the command line."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.domain.observations import FirmwareRead
from orchestrator.entrypoints.cli.main import app as cli
from orchestrator.service import fleet, fleet_facts, planning

from .conftest import catalogue_rows, cli_as_admin, device_row, write_fleet

runner = CliRunner()
T0 = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
DEVICE = "00-DB-12-00-00-00-00-01"


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI on a fresh database with a catalogue, one device and one stored plan."""
    from fir_sync.testing import write_pair

    monkeypatch.setenv("FWO_DATABASE_URL", database_url)
    monkeypatch.setenv("FWO_DATA_DIR", str(tmp_path / "data"))
    cli_as_admin(monkeypatch)
    monkeypatch.delenv("FWO_DSP_URL", raising=False)
    cpl, fir = write_pair(tmp_path, *catalogue_rows())
    assert runner.invoke(cli, ["catalogue", "sync", "--cpl", str(cpl), "--fir", str(fir)]
                         ).exit_code == 0
    assert runner.invoke(cli, ["fleet", "import", str(write_fleet(
        tmp_path / "f.csv", [device_row(1)])), "--observed-at", T0.isoformat()]).exit_code == 0
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def test_a_read_that_contradicts_the_record_is_listed_as_drift(
        env: Path, database_url: str) -> None:
    """An 11.2 read of another version shows in the history and the drift findings."""
    app = bootstrap(Settings(data_dir=env / "data", database_url=database_url))
    try:
        plan = planning.plan_fleet(planning.PlanFleet(), app.uow())
        assert fleet.record_firmware_read(app.uow(), DEVICE, "00000003",
                                          T0 + dt.timedelta(hours=1))
        stale = planning.load_plan(app.uow(), plan.plan_id)  # type: ignore[arg-type]
    finally:
        app.close()
    assert stale.stale and DEVICE in (stale.stale_reason or "")
    code, out = run("fleet", "history", DEVICE.replace("-", ""), "--json")
    assert code == 0
    assert [f["name"] for f in json.loads(out)] == ["firmware_read", "drift"]
    code, out = run("fleet", "drift", "--json")
    found = json.loads(out)
    assert code == 0 and found["total"] == 1
    assert found["findings"][0]["data"] | {"held_source": None} == {
        "finding": "read_disagrees", "held_version": "00000001", "read_version": "00000003",
        "held_entry": None, "held_source": None}
    assert run("fleet", "drift")[0] == 0 and run("fleet", "history", DEVICE)[0] == 0


def test_refresh_without_keys_or_a_dsp_says_why_and_bad_input_is_named(
        env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No keys: an error naming them; no FWO_DSP_URL: each premises fails with the reason."""
    code, out = run("fleet", "refresh")
    assert code == 2 and "supplier_xml.key.pem" in out
    keys = generate_keys(env / "generated")
    monkeypatch.setenv("FWO_KEYS_DIR", str(keys))
    code, out = run("fleet", "refresh", "--json")
    report = json.loads(out)
    assert code == 1 and report["requests"] == 1 and report["recorded"] == 0
    assert "FWO_DSP_URL" in report["failed"][DEVICE]
    code, out = run("fleet", "refresh", "--budget", "many")
    assert code != 0 and "N/S" in out
    code, out = run("fleet", "refresh", "--device", "not-a-device")
    assert code != 0 and "not a device ID" in out


def generate_keys(out: Path) -> Path:
    """A Supplier's keys and DCC certificates, as `fwo sim generate` writes them."""
    from simulators.generate import generate

    generate(out, entries=10, devices=5, seed=1, image_size=64)
    return out / "keys"


def test_a_read_of_a_device_the_inventory_lacks_is_a_drift_finding(
        env: Path, database_url: str) -> None:
    """An 11.2 answer naming an unknown device is kept as a finding, not dropped."""
    stranger = "00-DB-12-00-00-00-00-99"
    app = bootstrap(Settings(data_dir=env / "data", database_url=database_url))
    try:
        with app.uow() as uow:
            result = fleet_facts.record_reads(uow, [FirmwareRead(stranger, "00000002", T0)], T0)
            uow.commit()
    finally:
        app.close()
    assert result.recorded == 0 and stranger in result.problems[0]
    code, out = run("fleet", "drift", "--json")
    assert code == 0
    (finding,) = json.loads(out)["findings"]
    assert (finding["device_id"], finding["data"]["finding"]) == (stranger, "not_in_inventory")


def test_a_csv_import_keeps_the_read_facts_while_the_firmware_is_unchanged(
        env: Path, database_url: str) -> None:
    """Re-importing keeps read_at, and the confirmed entry until the firmware differs."""
    app = bootstrap(Settings(data_dir=env / "data", database_url=database_url))
    read_at = T0 + dt.timedelta(hours=1)
    try:
        with app.uow() as uow:
            fleet_facts.record_reads(uow, [FirmwareRead(
                DEVICE, "00000001", read_at, entry="1", expected="00000001")], read_at)
            uow.commit()
        fleet.import_fleet(app.uow(), write_fleet(env / "same.csv", [device_row(1)]),
                           T0 + dt.timedelta(days=1))
        with app.uow() as uow:
            same = uow.fleet.get(DEVICE)
        fleet.import_fleet(app.uow(), write_fleet(env / "new.csv", [device_row(1, entry=2)]),
                           T0 + dt.timedelta(days=2))
        with app.uow() as uow:
            moved = uow.fleet.get(DEVICE)
    finally:
        app.close()
    assert same is not None and moved is not None
    assert (same.firmware_entry, same.read_at, same.source) == ("1", read_at, "csv:same.csv")
    assert (moved.firmware_entry, moved.read_at, moved.firmware_version) == ("", read_at,
                                                                            "00000002")
