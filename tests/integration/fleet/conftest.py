"""Fixtures for fleet and plan tests: an app on a real database with a small catalogue."""
from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from fir_sync.testing import cpl_row, fake_hash, fir_row, write_pair
from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.service import catalogue as catalogue_service

HEADER = ["device_id", "device_type", "manufacturer", "model", "hardware_version",
          "firmware_hash", "firmware_version", "status", "comms_hub_id",
          "comms_hub_gbcs_version", "han_variant", "region", "tariff"]


def entry_hash(entry: int) -> str:
    """The image hash `fir_sync.testing.cpl_row(entry, version)` gives entry 1..4 below."""
    return fake_hash(f"{entry}/0000000{entry}")


def catalogue_rows(withdrawn: int | None = None) -> tuple[list[list[object]], list[list[object]]]:
    """Entries 1 -> 2 -> 3 -> 4 (4 also from 2), one model; optionally one Withdrawn."""
    cpl = [cpl_row(i, f"0000000{i}", status="Withdrawn" if i == withdrawn else "Active")
           for i in range(1, 5)]
    fir = [fir_row(1), fir_row(2, "1"), fir_row(3, "2"), fir_row(4, "2;3")]
    return cpl, fir


def device_row(n: int, entry: int = 1, **kw: str) -> list[str]:
    """One fleet.csv row for device n on an entry."""
    values = {"device_id": f"00-DB-12-00-00-00-00-{n:02X}", "device_type": "ESME",
              "manufacturer": "106C", "model": "433100AC", "hardware_version": "0101",
              "firmware_hash": entry_hash(entry), "firmware_version": f"0000000{entry}",
              "status": "Commissioned", "comms_hub_id": "00-DB-12-FF-00-00-00-01",
              "comms_hub_gbcs_version": "4.2", "han_variant": "2.4GHz",
              "region": "North" if n % 2 else "South", "tariff": "Prepayment"} | kw
    return [values[c] for c in HEADER]


def write_fleet(path: Path, rows: Sequence[Sequence[str]], header: Sequence[str] = HEADER
                ) -> Path:
    """Write an inventory CSV."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def cli_as_admin(monkeypatch: pytest.MonkeyPatch) -> str:
    """Create the first admin with the CLI's local bootstrap and act as it (FWO_TOKEN), as a
    new installation does; the database must be set in the environment already."""
    import json

    from typer.testing import CliRunner

    from orchestrator.entrypoints.cli.main import app as cli

    result = CliRunner().invoke(cli, ["user", "create", "ops", "--role", "admin", "--json"])
    assert result.exit_code == 0, result.output
    token = str(json.loads(result.output)["token"])
    monkeypatch.setenv("FWO_TOKEN", token)
    return token


def sync(app: App, directory: Path, withdrawn: int | None = None) -> int:
    """Sync the small catalogue (from its own directory) and return the snapshot id."""
    directory.mkdir(parents=True, exist_ok=True)
    cpl, fir = write_pair(directory, *catalogue_rows(withdrawn))
    command = catalogue_service.SyncCatalogue(str(cpl), str(fir))
    return catalogue_service.sync_catalogue(command, app.uow(), app.fetch_options()).snapshot_id


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[App]:
    """The application on a fresh database (SQLite and PostgreSQL)."""
    application = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield application
    application.close()
