"""`fwo sim generate` output syncs cleanly; `fwo sim fleet` edits persist; `fwo sim dsp` errors."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fir_sync.reader import read_catalogue
from orchestrator.entrypoints.cli.main import app
from simulators import build_simulation

runner = CliRunner()


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory written by `fwo sim generate`."""
    out = tmp_path_factory.mktemp("cli")
    result = runner.invoke(app, ["sim", "generate", "--out", str(out), "--entries", "120",
                                 "--devices", "500", "--seed", "4", "--json"])
    assert result.exit_code == 0, result.output
    return out


def test_generated_workbooks_read_and_sync_without_problems(out: Path, tmp_path: Path) -> None:
    """read_catalogue finds zero problems, and `fwo catalogue sync` accepts every row."""
    parsed = read_catalogue(out / "cpl.xlsx", out / "fir.xlsx")
    assert parsed.problems == () and len(parsed.records) == 120
    env = {"FWO_DATA_DIR": str(tmp_path)}
    admin = runner.invoke(app, ["user", "create", "ops", "--role", "admin", "--json"], env=env)
    env["FWO_TOKEN"] = json.loads(admin.output)["token"]  # the first admin, created locally
    result = runner.invoke(app, ["catalogue", "sync", "--cpl", str(out / "cpl.xlsx"),
                                 "--fir", str(out / "fir.xlsx"), "--json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["problems"] == [] and report["cpl_entries"] == 120


def test_catalogue_bounds_are_deployment_settings(out: Path, tmp_path: Path) -> None:
    """FWO_CATALOGUE_MAX_ROWS reaches the reader: the same files are refused in one line
    naming the setting, and nothing is stored."""
    env = {"FWO_DATA_DIR": str(tmp_path), "FWO_CATALOGUE_MAX_ROWS": "50"}
    admin = runner.invoke(app, ["user", "create", "ops", "--role", "admin", "--json"], env=env)
    env["FWO_TOKEN"] = json.loads(admin.output)["token"]
    result = runner.invoke(app, ["catalogue", "sync", "--cpl", str(out / "cpl.xlsx"),
                                 "--fir", str(out / "fir.xlsx")], env=env)
    assert result.exit_code != 0
    assert "row 51 exceeds the limit of 50 rows (raise FWO_CATALOGUE_MAX_ROWS" in result.output
    assert "Traceback" not in result.output
    history = runner.invoke(app, ["catalogue", "history", "--json"], env=env)
    assert json.loads(history.stdout) == []


def test_fleet_edits_persist_and_the_dsp_loads_them(out: Path) -> None:
    """set-entry, offline and order-sensitive survive between commands and reach the DSP."""
    sim = build_simulation(out)
    fleet = sim.fleet
    device = fleet.ids[0]
    manufacturer, model, _ = fleet.model_of(0)
    entry = next(e for e in sim.catalogue.entries if e.model_key == (manufacturer, model))
    base = ["sim", "fleet"]
    where = ["--catalogue", str(out)]
    assert runner.invoke(app, [*base, "set-entry", device, entry.cpl_entry_id, *where]).exit_code == 0
    assert runner.invoke(app, [*base, "offline", device, *where]).exit_code == 0
    assert runner.invoke(app, [*base, "order-sensitive", manufacturer, model, "--off",
                               *where]).exit_code == 0
    shown = runner.invoke(app, [*base, "show", device, "--json", *where])
    view = json.loads(shown.stdout)
    assert (view["running_entry"], view["offline"]) == (entry.cpl_entry_id, True)
    again = build_simulation(out)
    assert again.fleet.running_entry(device) == entry.cpl_entry_id
    assert (manufacturer, model) in again.fleet.order_insensitive
    assert runner.invoke(app, [*base, "reset", *where]).exit_code == 0
    assert not (out / "fleet_state.json").exists()


def test_fleet_refuses_unknown_devices_and_foreign_entries(out: Path) -> None:
    """Editing a device the fleet lacks, or onto another model's entry, fails with a reason."""
    sim = build_simulation(out)
    device = sim.fleet.ids[0]
    manufacturer, model, _ = sim.fleet.model_of(0)
    foreign = next(e for e in sim.catalogue.entries if e.model_key != (manufacturer, model))
    where = ["--catalogue", str(out)]
    missing = runner.invoke(app, ["sim", "fleet", "show", "00-11-22-33-44-55-66-77", *where])
    wrong = runner.invoke(app, ["sim", "fleet", "set-entry", device, foreign.cpl_entry_id, *where])
    assert missing.exit_code == wrong.exit_code == 2
    assert "not in the simulated fleet" in missing.output and "not the device's" in wrong.output
    assert not (out / "fleet_state.json").exists()


def test_dsp_refuses_a_directory_that_is_not_generated(tmp_path: Path) -> None:
    """`fwo sim dsp` on an empty directory exits 2 with the reason, before serving."""
    result = runner.invoke(app, ["sim", "dsp", "--catalogue", str(tmp_path)])
    assert result.exit_code == 2 and "cannot read" in result.output
