"""Inventory import and observations against real SQLite and PostgreSQL databases."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from duis.models import InventoryDevice
from orchestrator.bootstrap import App
from orchestrator.errors import DeviceNotFoundError, FleetImportError, SelectionError
from orchestrator.service import fleet

from .conftest import HEADER, device_row, entry_hash, sync, write_fleet

T0 = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def snapshot_of_devices(app: App) -> list[dict[str, object]]:
    with app.uow() as uow:
        return [d.to_dict() for d in uow.fleet.iter_devices()]


def test_good_rows_import_and_bad_rows_are_reported(app: App, tmp_path: Path) -> None:
    """Bad rows name line, column and why; the good rows around them are imported."""
    rows = [device_row(1), device_row(2, device_id="not-an-eui"),
            device_row(3, status="Active", firmware_hash="12"), device_row(4),
            device_row(5, device_id="00-DB-12-00-00-00-00-01")]
    result = fleet.import_fleet(app.uow(), write_fleet(tmp_path / "f.csv", rows), T0)
    assert (result.rows, result.imported, result.rejected) == (5, 2, 3)
    found = [(p.line, p.column) for p in result.problems]
    assert found == [(3, "device_id"), (4, "firmware_hash"), (4, "status"), (6, "device_id")]
    assert "duplicate device_id: first on line 2" in result.problems[-1].reason
    assert result.devices_total == 2


def test_values_are_normalised_and_extra_columns_become_tags(app: App, tmp_path: Path) -> None:
    """Lower-case, dash-less IDs and upper-case hashes are stored canonically; tags kept."""
    row = device_row(1, device_id="00db12000000000a", firmware_hash=entry_hash(2).upper(),
                     device_type="esme", status="commissioned")
    fleet.import_fleet(app.uow(), write_fleet(tmp_path / "f.csv", [row]), T0)
    (device,) = snapshot_of_devices(app)
    assert device["device_id"] == "00-DB-12-00-00-00-00-0A"
    assert device["firmware_hash"] == entry_hash(2)
    assert (device["device_type"], device["status"]) == ("ESME", "Commissioned")
    assert device["tags"] == {"region": "North", "tariff": "Prepayment"}
    assert device["observed_at"] == T0.isoformat()
    assert device["source"] == "csv:f.csv"


def test_re_importing_the_same_file_is_an_idempotent_upsert(app: App, tmp_path: Path) -> None:
    """A second import of the same file leaves exactly the same rows; a change updates one."""
    path = write_fleet(tmp_path / "f.csv", [device_row(n) for n in range(1, 6)])
    fleet.import_fleet(app.uow(), path)
    before = snapshot_of_devices(app)
    again = fleet.import_fleet(app.uow(), path)
    assert (again.imported, again.devices_total) == (5, 5)
    assert snapshot_of_devices(app) == before
    changed = write_fleet(tmp_path / "g.csv", [device_row(3, status="Suspended")])
    fleet.import_fleet(app.uow(), changed, T0 + dt.timedelta(days=3650))
    after = {d["device_id"]: d for d in snapshot_of_devices(app)}
    assert after["00-DB-12-00-00-00-00-03"]["status"] == "Suspended"
    assert len(after) == 5


def test_a_header_without_required_columns_refuses_the_file(app: App, tmp_path: Path) -> None:
    """Missing canonical columns are one clear error; nothing is imported."""
    path = write_fleet(tmp_path / "f.csv", [["x"]], header=["device_id"])
    with pytest.raises(FleetImportError, match="missing column"):
        fleet.import_fleet(app.uow(), path)
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(FleetImportError, match="empty"):
        fleet.import_fleet(app.uow(), empty)


def test_firmware_reads_and_inventories_upsert_observations(app: App, tmp_path: Path) -> None:
    """11.2 reads and 8.2 inventories update devices; older observations are ignored."""
    fleet.import_fleet(app.uow(), write_fleet(tmp_path / "f.csv", [device_row(1)]), T0)
    device_id = "00-DB-12-00-00-00-00-01"
    assert fleet.record_firmware_read(app.uow(), device_id, "00000002", T0 + dt.timedelta(1))
    assert not fleet.record_firmware_read(app.uow(), device_id, "00000003", T0)
    (device,) = snapshot_of_devices(app)
    assert (device["firmware_version"], device["firmware_hash"]) == ("00000002", None)
    inventory = [InventoryDevice("00DB1200000000FF", "CHF", "106C", "AA", "Commissioned",
                                 "01", gbcs_version="4.0", han_variant="Dual Band"),
                 InventoryDevice(device_id, "ESME", "106C", "433100AC", "Suspended",
                                 "00000002")]
    result = fleet.record_inventory(app.uow(), inventory, T0 + dt.timedelta(2))
    assert (result.recorded, result.ignored_older) == (2, 0)
    with app.uow() as uow:
        updated = uow.fleet.get(device_id)
        hub = uow.fleet.get("00-DB-12-00-00-00-00-FF")
    assert updated is not None and hub is not None
    assert (updated.status, updated.comms_hub_id) == ("Suspended", hub.device_id)
    assert (updated.comms_hub_gbcs_version, updated.han_variant) == ("4.0", "Dual Band")
    assert updated.tags == (("region", "North"), ("tariff", "Prepayment"))
    with pytest.raises(DeviceNotFoundError):
        fleet.record_firmware_read(app.uow(), "00-00-00-00-00-00-00-99", "01", T0)


def test_selection_filters_devices(app: App, tmp_path: Path) -> None:
    """Column filters, tag filters, device lists and current entries select devices."""
    sync(app, tmp_path / "cat")
    rows = [device_row(1), device_row(2, entry=2), device_row(3, device_type="GSME"),
            device_row(4, entry=3, status="Suspended")]
    fleet.import_fleet(app.uow(), write_fleet(tmp_path / "f.csv", rows), T0)

    def ids(*specs: str) -> list[str]:
        return [d.device_id[-2:] for d, _ in fleet.show_devices(app.uow(), specs, None)]

    assert ids("device_type=ESME") == ["01", "02", "04"]
    assert ids("tag:region=north") == ["01", "03"]
    assert ids("device_type=esme", "tag:Region=SOUTH") == ["02", "04"]
    assert ids("device_id=00db120000000002,00-DB-12-00-00-00-00-03") == ["02", "03"]
    assert ids("current_entry=2,3") == ["02", "04"]
    assert ids("status=Suspended,Decommissioned") == ["04"]
    assert ids("manufacturer=106c", "model=433100ac") == ["01", "02", "03", "04"]
    assert fleet.show_devices(app.uow(), ["device_id=00-DB-12-00-00-00-00-02"])[0][1] == "2"
    with pytest.raises(SelectionError, match="device_type"):
        fleet.show_devices(app.uow(), ["device_type=METER"])


def test_exposure_counts_devices_on_a_zigbee_stack(app: App, tmp_path: Path) -> None:
    """Devices whose current entry runs the chipset/stack are counted per entry."""
    sync(app, tmp_path / "cat")
    rows = [device_row(1), device_row(2, entry=2), device_row(3, entry=2),
            device_row(4, firmware_hash="ab" * 32)]
    fleet.import_fleet(app.uow(), write_fleet(tmp_path / "f.csv", rows), T0)
    found = fleet.device_exposure(app.uow(), "silicon labs", "EmberZNet 6.7")
    assert found.by_entry == {"1": 1, "2": 2, "3": 0, "4": 0}
    assert len(found.device_ids) == 3
    assert fleet.device_exposure(app.uow(), "NXP").device_ids == []


def test_header_order_does_not_matter(app: App, tmp_path: Path) -> None:
    """Columns are found by name, in any order and case."""
    header = [h.upper() for h in reversed(HEADER)]
    rows = [list(reversed(device_row(1)))]
    result = fleet.import_fleet(app.uow(), write_fleet(tmp_path / "f.csv", rows, header), T0)
    assert result.imported == 1


def test_awkward_tag_values_survive_the_bulk_path(app: App, tmp_path: Path) -> None:
    """Tabs, newlines, backslashes, quotes and non-ASCII in tags round-trip unchanged."""
    awkward = 'a\tb\\c\nd "e" ñ'
    path = write_fleet(tmp_path / "f.csv", [device_row(1, region=awkward)])
    fleet.import_fleet(app.uow(), path, T0)
    (device,) = snapshot_of_devices(app)
    assert device["tags"] == {"region": awkward, "tariff": "Prepayment"}
    assert device["hardware_version"] == "0101" and device["comms_hub_gbcs_version"] == "4.2"


def test_one_bad_byte_refuses_the_file_naming_its_true_line(app: App, tmp_path: Path) -> None:
    """A Windows-1252 byte deep in the file (past the first read buffer) names its own line,
    not a row count from wherever the decoder's chunk began; nothing is imported."""
    path = write_fleet(tmp_path / "f.csv", [device_row(i) for i in range(1, 3001)])
    lines = path.read_bytes().split(b"\r\n")
    lines[2500] = lines[2500] + b",Caf\xe9"
    path.write_bytes(b"\r\n".join(lines))
    with pytest.raises(FleetImportError, match=r"f.csv: line 2501: byte 0xe9 is not valid UTF-8"):
        fleet.import_fleet(app.uow(), path, T0)
    assert snapshot_of_devices(app) == []
