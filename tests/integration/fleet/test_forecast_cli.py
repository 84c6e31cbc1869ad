"""`fwo fleet forecast`: a dry run of the deployment's own fleet on its simulated twin.

The twin is checked against ground truth: on an estate the simulators generated, the
forecast (which sees only what the deployment's database holds) must find the same plannable
devices and take the same simulated time as a dry run on the generated files themselves.
"""
from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.entrypoints.cli.dry_run_cmds import run_dry_run, thresholds_for
from orchestrator.entrypoints.cli.main import app as cli
from orchestrator.service import campaigns

from .conftest import cli_as_admin

runner = CliRunner()


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated catalogue and fleet (the files a supplier would sync and import)."""
    out = tmp_path_factory.mktemp("estate")
    result = runner.invoke(cli, ["sim", "generate", "--out", str(out), "--entries", "60",
                                 "--devices", "300", "--seed", "3", "--json"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def deployment(estate: Path, sqlite_url: str, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment that synced the estate's CPL and FIR and imported its fleet."""
    monkeypatch.setenv("FWO_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("FWO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FWO_DSP_URL", raising=False)
    cli_as_admin(monkeypatch)
    assert runner.invoke(cli, ["catalogue", "sync", "--cpl", str(estate / "cpl.xlsx"),
                               "--fir", str(estate / "fir.xlsx")]).exit_code == 0
    assert runner.invoke(cli, ["fleet", "import", str(estate / "fleet.csv")]).exit_code == 0
    return tmp_path


def _forecast(*args: str) -> dict[str, object]:
    result = runner.invoke(cli, ["fleet", "forecast", "--json", *args])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def test_the_forecast_matches_a_dry_run_of_the_generated_estate(deployment: Path,
                                                                 estate: Path) -> None:
    """Same plannable devices, all done, nothing bricked, the same simulated time."""
    forecast = _forecast("--window", "01:00-05:00", "--budget", "11.1=20/3600")
    policy = campaigns.typed_policy(waves="100%", budgets=["11.1=20/3600"],
                                    window="01:00-05:00", timezone="Europe/London")
    with tempfile.TemporaryDirectory() as work:
        truth = run_dry_run(Path(work), devices=0, entries=0, seed=7, faults="none",
                            catalogue_dir=estate, waves="100%", database=None,
                            progress=False, policy=policy, thresholds=thresholds_for(policy))
    compliance = json.loads(runner.invoke(cli, ["fleet", "compliance", "--json"]).stdout)
    planned = compliance["totals"]["planned"]
    assert planned > 0
    assert forecast["plannable"] == forecast["twin_planned"] == planned
    assert truth["devices"]["planned"] == planned
    assert forecast["done"] == truth["states"]["done"] == planned
    assert forecast["bricked"] == truth["bricked"] == 0
    assert forecast["final_state"] == "completed"
    assert forecast["simulated_days"] == truth["simulated_days"]
    assert forecast["requests"] == truth["requests"]
    made_at = dt.datetime.fromisoformat(str(forecast["made_at"]))
    complete_by = dt.datetime.fromisoformat(str(forecast["complete_by"]))
    assert complete_by - made_at == dt.timedelta(seconds=truth["simulated_seconds"])


def test_the_forecast_is_stored_shown_and_audited(deployment: Path) -> None:
    """The latest forecast appears in the compliance view with when and by whom it was made;
    a narrower budget and a window forecast a later date; the command is in the audit."""
    wide = _forecast()
    narrow = _forecast("--budget", "11.1=2/3600", "--window", "01:00-03:00")
    assert narrow["complete_by"] > wide["complete_by"]  # type: ignore[operator]
    compliance = json.loads(runner.invoke(cli, ["fleet", "compliance", "--json"]).stdout)
    shown = compliance["forecast"]
    assert (shown["id"], shown["made_by"], shown["complete_by"]) == (
        narrow["id"], "ops", narrow["complete_by"])
    assert shown["policy"]["activation_window"]["start"] == "01:00"
    human = runner.invoke(cli, ["fleet", "compliance"]).output
    assert f"forecast {narrow['id']} made" in human and "would be current by" in human
    audit = json.loads(runner.invoke(cli, ["audit", "show", "--json"]).stdout)
    assert [r["action"] for r in audit].count("fleet.forecast") == 2


def test_bad_forecast_input_is_one_line(deployment: Path) -> None:
    for args, wanted in ((["--window", "25:00-05:00"], "window"),
                         (["--budget", "11.9=1/60"], "11.9"),
                         (["--faults", "nonsense"], "--faults")):
        result = runner.invoke(cli, ["fleet", "forecast", *args])
        assert result.exit_code == 2, result.output
        assert wanted in result.output and "Traceback" not in result.output
