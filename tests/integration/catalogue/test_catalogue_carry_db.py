"""One bad cell stays local: rejected CPL rows are carried, on real SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Self

import pytest
from typer.testing import CliRunner

from fir_sync.testing import cpl_row, fake_hash, fir_row, write_pair
from orchestrator.adapters.unit_of_work import SqlAlchemyUnitOfWork
from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import Settings
from orchestrator.domain.fleet import Device
from orchestrator.entrypoints.cli.main import app as cli
from orchestrator.service import catalogue as service
from orchestrator.service import planning

DEVICE = "00-DB-12-00-00-00-00-01"


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[App]:
    """The application (and the CLI's environment) on a fresh database."""
    monkeypatch.setenv("FWO_DATABASE_URL", database_url)
    monkeypatch.setenv("FWO_DATA_DIR", str(tmp_path / "data"))
    application = bootstrap(Settings(data_dir=tmp_path / "data", database_url=database_url))
    yield application
    application.close()


def rows(hash_2: str | None = None, notes_1: str = "Fixes.",
         email_2: str = "two@maker.example") -> tuple[list[list[object]], list[list[object]]]:
    """Entries 1 -> 2 -> 3 of one model; entry 2's hash cell may be overridden."""
    cpl = [cpl_row(1, "00000001"), cpl_row(2, "00000002", image_hash=hash_2),
           cpl_row(3, "00000003")]
    fir = [fir_row(1, notes=notes_1), fir_row(2, "1", email=email_2),
           fir_row(3, "2", email="three@maker.example")]
    return cpl, fir


def sync(app: App, directory: Path, cpl: list[list[object]], fir: list[list[object]]
         ) -> service.SyncResult:
    directory.mkdir()
    command = service.SyncCatalogue(*map(str, write_pair(directory, cpl, fir)))
    return service.sync_catalogue(command, app.uow(), app.fetch_options())


def add_device_on_entry_2(app: App) -> None:
    with app.uow() as uow:
        uow.fleet.upsert([Device(DEVICE, "ESME", "106C", "433100AC", "Commissioned", "0101",
                                 fake_hash("2/00000002"), "", "00-DB-12-FF-00-00-00-01",
                                 "4.2", "Single Band", source="inventory.csv",
                                 observed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))])
        uow.commit()


def test_an_edited_hash_cell_keeps_the_entry_and_its_devices_plan_normally(
        app: App, tmp_path: Path) -> None:
    """A malformed hash on entry 2's CPL row keeps entry 2 as snapshot 1 held it, marked
    with the snapshot and problem; `catalogue show` says so and a device on it is planned,
    not an `unknown_firmware` security finding."""
    first = sync(app, tmp_path / "v1", *rows())
    add_device_on_entry_2(app)
    second = sync(app, tmp_path / "v2", *rows(hash_2=fake_hash("2/00000002")[:-1] + "x"))
    data = second.to_dict()
    assert (data["cpl_entries"], data["carried"], data["changed"]) == (3, 1, 0)
    assert [(p["code"], p["cpl_entry_id"]) for p in data["problems"]] == [
        ("malformed_hash", "2"), ("fir_unknown_entry", "2")]
    assert service.snapshot(app.uow()).diff["carried"] == ["2"]

    entry = service.current_catalogue(app.uow()).get("2")
    assert entry is not None and entry.carried_over is not None
    assert entry.image_hash == fake_hash("2/00000002")
    assert entry.contact_email == "two@maker.example" and entry.extra == {}
    assert (entry.carried_over.kept_from_snapshot, entry.carried_over.rejected_in_snapshot,
            entry.carried_over.codes) == (first.snapshot_id, second.snapshot_id,
                                          ["malformed_hash"])

    shown = CliRunner().invoke(cli, ["catalogue", "show", "--entry", "2", "--json"])
    assert shown.exit_code == 0, shown.output
    mark = json.loads(shown.output)[0]["carried_over"]
    assert (mark["kept_from_snapshot"], mark["problems"][0]["row"]) == (first.snapshot_id, 3)
    table = " ".join(CliRunner().invoke(cli, ["catalogue", "show"]).output.split())
    assert (f"* entry 2 carried over, kept as in snapshot {first.snapshot_id}: snapshot "
            f"{second.snapshot_id} rejected its CPL row (malformed_hash)") in table

    result = planning.plan_fleet(planning.PlanFleet(), app.uow())
    plan = result.devices[0].to_dict()
    assert (plan["status"], plan["current_entry"], plan["path"]) == ("planned", "2", ["3"])
    assert plan["next_action"]["carried_entries"] == ["2"]
    assert f"kept as in snapshot {first.snapshot_id}" in plan["next_action"]["message"]
    assert result.summary["security_findings"] == 0
    assert result.summary["carried_entries"] == ["2"]
    stored = planning.plan_devices(app.uow(), result.plan_id or 0)
    assert stored[0].next_action["carried_entries"] == ["2"]


def test_a_carried_entry_keeps_its_first_good_snapshot_until_its_row_is_fixed(
        app: App, tmp_path: Path) -> None:
    """Rejected again, the entry still names the snapshot of its last good version; once the
    row is fixed it is an ordinary entry again and nothing is reported as changed."""
    first = sync(app, tmp_path / "v1", *rows())
    sync(app, tmp_path / "v2", *rows(hash_2="zz"))
    third = sync(app, tmp_path / "v3", *rows(hash_2="zz", notes_1="Fixes. Reissued."))
    carried = service.current_catalogue(app.uow()).get("2").carried_over  # type: ignore[union-attr]
    assert carried is not None
    assert (carried.kept_from_snapshot, carried.rejected_in_snapshot) == (
        first.snapshot_id, third.snapshot_id)
    fixed = sync(app, tmp_path / "v4", *rows(notes_1="Fixes. Reissued."))
    assert (fixed.to_dict()["carried"], fixed.to_dict()["changed"], fixed.problems) == (0, 0, [])
    assert service.current_catalogue(app.uow()).get("2").carried_over is None  # type: ignore[union-attr]


def test_a_rejected_row_on_the_first_sync_is_just_rejected(app: App, tmp_path: Path) -> None:
    """With no previous snapshot there is nothing to carry: the entry is absent."""
    result = sync(app, tmp_path / "v1", *rows(hash_2="zz"))
    assert (result.cpl_entries, result.to_dict()["carried"]) == (2, 0)
    catalogue = service.current_catalogue(app.uow())
    assert catalogue.get("2") is None
    assert catalogue.get("3").predecessors is None  # type: ignore[union-attr]
    assert catalogue.get("3").contact_email == "three@maker.example"  # type: ignore[union-attr]


def test_a_sync_overtaken_by_another_validates_again_against_it(app: App,
                                                                 tmp_path: Path) -> None:
    """If another sync makes a new snapshot current while this one reads its files, this
    one carries entries from that newer snapshot, not from the one it first saw."""
    first = sync(app, tmp_path / "v1", *rows())
    (tmp_path / "other").mkdir()
    other_files = write_pair(tmp_path / "other", *rows(email_2="two@other.example"))
    overtaken: list[int] = []

    class OvertakenUnitOfWork(SqlAlchemyUnitOfWork):
        entered = 0

        def __enter__(self) -> Self:
            OvertakenUnitOfWork.entered += 1
            if OvertakenUnitOfWork.entered == 3:  # this sync's write transaction, first try
                done = service.sync_catalogue(service.SyncCatalogue(*map(str, other_files)),
                                              app.uow(), app.fetch_options())
                overtaken.append(done.snapshot_id)
            return super().__enter__()

    (tmp_path / "v2").mkdir()
    files = write_pair(tmp_path / "v2", *rows(hash_2="zz"))
    result = service.sync_catalogue(service.SyncCatalogue(*map(str, files)),
                                    OvertakenUnitOfWork(app.engine), app.fetch_options())
    assert overtaken and overtaken[0] != first.snapshot_id
    record = service.snapshot(app.uow())
    assert (record.id, record.previous_snapshot_id) == (result.snapshot_id, overtaken[0])
    entry = service.current_catalogue(app.uow()).get("2")
    assert entry is not None and entry.carried_over is not None
    assert entry.carried_over.kept_from_snapshot == overtaken[0]
    assert entry.contact_email == "two@other.example"


def test_a_duplicated_fir_row_keeps_the_previous_fir_data_and_the_path(
        app: App, tmp_path: Path) -> None:
    """Two FIR rows for entry 2 keep the FIR data snapshot 1 held (contact, previous list),
    so a device on entry 1 still plans 1 -> 2 -> 3, and the plan names the kept entry."""
    first = sync(app, tmp_path / "v1", *rows())
    with app.uow() as uow:
        uow.fleet.upsert([Device(DEVICE, "ESME", "106C", "433100AC", "Commissioned", "0101",
                                 fake_hash("1/00000001"), "", source="inventory.csv",
                                 observed_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC))])
        uow.commit()
    cpl, fir = rows()
    fir.append(fir_row(2, "", email="pasted@maker.example"))
    second = sync(app, tmp_path / "v2", cpl, fir)
    assert (second.to_dict()["carried"], second.to_dict()["changed"]) == (1, 0)
    entry = service.current_catalogue(app.uow()).get("2")
    assert entry is not None and entry.carried_over is not None
    assert (entry.contact_email, entry.predecessors) == ("two@maker.example", ("1",))
    assert entry.carried_over.part == "fir"
    assert entry.carried_over.describe() == (
        f"FIR data kept as in snapshot {first.snapshot_id}: snapshot {second.snapshot_id} "
        "rejected its FIR row (duplicate_fir_row)")
    plan = planning.plan_fleet(planning.PlanFleet(), app.uow()).devices[0].to_dict()
    assert (plan["status"], plan["path"]) == ("planned", ["2", "3"])
    assert plan["next_action"]["carried_entries"] == ["2"]
