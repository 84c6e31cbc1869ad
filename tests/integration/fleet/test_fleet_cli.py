"""The `fwo fleet`, `fwo plan` and `fwo catalogue exposure --devices` commands end to end."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from orchestrator.entrypoints.cli.main import app as cli

from .conftest import catalogue_rows, cli_as_admin, device_row, write_fleet

runner = CliRunner()


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The CLI pointed at a fresh database, with a catalogue synced."""
    from fir_sync.testing import write_pair

    monkeypatch.setenv("FWO_DATABASE_URL", database_url)
    monkeypatch.setenv("FWO_DATA_DIR", str(tmp_path / "data"))
    cli_as_admin(monkeypatch)
    cpl, fir = write_pair(tmp_path, *catalogue_rows())
    assert runner.invoke(cli, ["catalogue", "sync", "--cpl", str(cpl), "--fir", str(fir)]
                         ).exit_code == 0
    return tmp_path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def test_fleet_import_and_show_print_json(env: Path) -> None:
    """Import reports counts and problems; show lists devices with their current entry."""
    rows = [device_row(1), device_row(2, status="Bogus"), device_row(3, entry=3)]
    code, out = run("fleet", "import", str(write_fleet(env / "f.csv", rows)), "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["imported"], report["rejected"]) == (2, 1)
    assert report["problems"][0] | {"reason": ""} == {"line": 3, "column": "status",
                                                     "value": "Bogus", "reason": ""}
    code, out = run("fleet", "show", "--select", "tag:region=north", "--json")
    assert [(d["device_id"], d["current_entry"]) for d in json.loads(out)] == [
        ("00-DB-12-00-00-00-00-01", "1"), ("00-DB-12-00-00-00-00-03", "3")]
    code, out = run("fleet", "show", "--device", "00db120000000003", "--json")
    assert json.loads(out)[0]["tags"] == {"region": "North", "tariff": "Prepayment"}
    assert run("fleet", "show", "--limit", "1")[0] == 0


def test_an_import_whose_every_row_is_rejected_exits_1(env: Path) -> None:
    """A file of nothing but bad rows is a failed import for scripts too (JSON or not);
    one good row makes it a partial import (exit 0)."""
    bad = [device_row(1, status="Bogus"), device_row(2, status="Nope")]
    code, out = run("fleet", "import", str(write_fleet(env / "bad.csv", bad)), "--json")
    assert code == 1
    assert (json.loads(out)["imported"], json.loads(out)["rejected"]) == (0, 2)
    code, out = run("fleet", "import", str(write_fleet(env / "bad.csv", bad)))
    assert code == 1 and "2 rows rejected" in out
    code, _ = run("fleet", "import", str(write_fleet(env / "one.csv", [*bad, device_row(3)])))
    assert code == 0


def test_fleet_compliance_counts_each_model(env: Path) -> None:
    """Current, planned (with path lengths), blocked by reason, firmware on no CPL entry;
    the human report is labelled tables without Python reprs."""
    rows = [device_row(1), device_row(2, entry=4), device_row(3, status="Suspended"),
            device_row(4, firmware_hash="ab" * 32, firmware_version="")]
    run("fleet", "import", str(write_fleet(env / "f.csv", rows)))
    code, out = run("fleet", "compliance", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["totals"] == {"devices": 4, "current": 1, "planned": 1, "blocked": 2,
                              "unknown_firmware": 1}
    [model] = data["models"]
    assert (model["manufacturer"], model["model"], model["devices"]) == ("106C", "433100AC", 4)
    assert model["path_steps"] == {"2": 1} and model["longest_path"] == 2
    assert model["blocked"] == {"not_commissioned": 1, "unknown_firmware": 1}
    assert model["unknown_firmware"] == 1
    result = runner.invoke(cli, ["fleet", "compliance"], env={"COLUMNS": "250"})
    code, out = result.exit_code, result.output
    assert code == 0 and "1 on no CPL entry" in " ".join(out.split())
    assert "not_commissioned 1" in out and "None" not in out and "{" not in out


def test_every_model_row_names_the_manufacturer_contact(env: Path) -> None:
    """A model whose blocked reasons carry no contact (not commissioned) and whose other
    devices are planned still shows the FIR's contact."""
    rows = [device_row(1), device_row(3, status="Suspended")]
    run("fleet", "import", str(write_fleet(env / "f.csv", rows)))
    [model] = json.loads(run("fleet", "compliance", "--json")[1])["models"]
    assert model["blocked"] == {"not_commissioned": 1}
    assert model["contact"] == {"email": "fw@maker.example", "telephone": "+44 20 7946 0000",
                                "address": "1 Meter Way, Leeds LS1 1AA"}


def test_plan_json_has_the_summary_and_every_device(env: Path) -> None:
    """`fwo plan --json` prints {summary, devices} with paths ending at the target."""
    rows = [device_row(1), device_row(2, entry=4), device_row(3, status="Suspended")]
    run("fleet", "import", str(write_fleet(env / "f.csv", rows)))
    code, out = run("plan", "--select", "device_type=ESME", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["summary"]["plan_id"] >= 1
    assert data["summary"]["by_status"] == {"planned": 1, "up_to_date": 1, "blocked": 1}
    first, second, third = data["devices"]
    assert first == {"device_id": "00-DB-12-00-00-00-00-01", "status": "planned",
                     "reason": None, "current_entry": "1", "target_entry": "4",
                     "path": ["2", "4"], "next_action": first["next_action"]}
    assert (second["status"], second["path"], second["reason"]) == ("up_to_date", [], None)
    assert third["reason"] == "not_commissioned"
    assert third["next_action"]["action"] == "commission_or_reread_status"


def test_plan_csv_and_the_human_report(env: Path) -> None:
    """`--csv` writes one row per device and prints the report."""
    run("fleet", "import", str(write_fleet(env / "f.csv", [device_row(1), device_row(2)])))
    code, out = run("plan", "--target", "3", "--csv", str(env / "plan.csv"),
                    "--budget", "11.1=1")
    assert code == 0 and "plan 1" in out
    with (env / "plan.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["device_id"][-2:], r["path"], r["status"]) for r in rows] == [
        ("01", "2;3", "planned"), ("02", "2;3", "planned")]


@pytest.mark.parametrize("args,needle", [
    (("plan", "--target", "999"), "999"),
    (("plan", "--select", "status=Nope"), "SMI status"),
    (("plan", "--select", "nothing"), "key=value"),
    (("plan", "--budget", "11.9=3"), "unknown SR type"),
    (("plan", "--json", "--csv", "x.csv"), "alternatives"),
    (("fleet", "show", "--device", "00-00-00-00-00-00-00-99"), "not in the fleet"),
    (("fleet", "import", "missing.csv"), "missing.csv"),
])
def test_bad_input_exits_non_zero_with_one_line(env: Path, args: tuple[str, ...],
                                                needle: str) -> None:
    """Bad input gives a one-line reason and a non-zero exit, never a traceback."""
    code, out = run(*args)
    assert code != 0
    assert needle in out and "Traceback" not in out


def test_exposure_counts_devices_when_asked(env: Path) -> None:
    """`fwo catalogue exposure --devices` adds the fleet's exposed devices."""
    run("fleet", "import", str(write_fleet(env / "f.csv", [device_row(1), device_row(2, entry=2)])))
    code, out = run("catalogue", "exposure", "--chipset", "Silicon Labs", "--devices", "--json")
    assert code == 0
    assert json.loads(out)["devices"]["by_entry"] == {"1": 1, "2": 1, "3": 0, "4": 0}


def test_catalogue_sync_reads_a_declared_csv_encoding(env: Path) -> None:
    """A Windows-1252 CSV is refused naming its line (exit 2, one line) unless
    --csv-encoding declares it; then its accented contact survives intact."""
    from fir_sync.testing import CPL_HEADERS, FIR_HEADERS, cpl_row, fir_row, write_csv

    (env / "cp").mkdir()
    cpl = write_csv(env / "cp" / "cpl.csv",
                    [CPL_HEADERS, *(cpl_row(i, f"{i:08X}") for i in range(1, 4))])
    fir_path = env / "cp" / "fir.csv"
    lines = [",".join(FIR_HEADERS)] + [",".join(str(v) for v in fir_row(i)) for i in range(1, 4)]
    lines[2] = lines[2].replace("fw@maker.example", "zoë@maker.example")
    fir_path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    code, out = run("catalogue", "sync", "--cpl", str(cpl), "--fir", str(fir_path))
    assert code == 2 and "fir.csv: line 3: byte 0xeb is not valid utf-8-sig" in out
    assert "Traceback" not in out
    code, out = run("catalogue", "sync", "--cpl", str(cpl), "--fir", str(fir_path),
                    "--csv-encoding", "cp1252", "--allow-removals")
    assert code == 0, out
    code, out = run("catalogue", "show", "--entry", "2", "--json")
    assert "zoë@maker.example" in out
