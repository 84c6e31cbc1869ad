"""Inventory rows, observations and selections: normalising, validating and matching."""
from __future__ import annotations

import datetime as dt

import pytest

from orchestrator.domain.fleet import (
    Device,
    InventoryObservation,
    RowParser,
    observe_firmware,
    observe_inventory,
)
from orchestrator.domain.selection import Selection

AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
HEADER = ["device_id", "Device Type", "manufacturer", "model", "hardware_version",
          "firmware_hash", "firmware_version", "status", "comms_hub_id",
          "comms_hub_gbcs_version", "han_variant", "region", "tariff"]
GOOD = ["00db1234567890a0", "esme", "106c", "433100ac", "0101", "AB" * 32, "0002012f",
        "commissioned", "00:DB:12:00:00:00:00:01", "4.2", "dual band", "Northern", ""]


def test_a_good_row_is_normalised_and_extra_columns_become_tags() -> None:
    """IDs upper-case with dashes, hashes lower-case, codes upper-case, statuses canonical."""
    device = RowParser(HEADER, "csv:f", AT).parse(2, GOOD)
    assert isinstance(device, Device)
    assert device.device_id == "00-DB-12-34-56-78-90-A0"
    assert (device.device_type, device.manufacturer, device.model) == ("ESME", "106C", "433100AC")
    assert device.firmware_hash == "ab" * 32 and device.firmware_version == "0002012F"
    assert (device.status, device.han_variant) == ("Commissioned", "Dual Band")
    assert device.comms_hub_id == "00-DB-12-00-00-00-00-01"
    assert device.tags == (("region", "Northern"),)  # empty tag values are dropped
    assert (device.source, device.observed_at) == ("csv:f", AT)


def test_a_bad_row_reports_every_bad_column_with_why() -> None:
    """Each malformed value is a problem naming the line, column, value and reason."""
    row = list(GOOD)
    row[0], row[1], row[5], row[7] = "00-DB-12", "METER", "abc", "Active"
    problems = RowParser(HEADER, "csv:f", AT).parse(7, row)
    assert isinstance(problems, list)
    assert [(p.line, p.column) for p in problems] == [
        (7, "device_id"), (7, "device_type"), (7, "firmware_hash"), (7, "status")]
    assert "EUI-64" in problems[0].reason and "SMI status" in problems[3].reason
    short = RowParser(HEADER, "csv:f", AT).parse(3, GOOD[:4])
    assert isinstance(short, list) and "4 fields" in short[0].reason


def test_a_header_without_a_required_column_is_refused() -> None:
    """device_id, device_type, manufacturer, model and status are required columns."""
    with pytest.raises(ValueError, match="status"):
        RowParser(HEADER[:7], "csv:f", AT)


def test_an_11_2_read_replaces_stale_firmware_facts() -> None:
    """A new version clears the old hash; a new hash clears the old version."""
    device = Device("00-00-00-00-00-00-00-01", "ESME", "106C", "01", "Commissioned",
                    firmware_hash="aa" * 32, firmware_version="01")
    same = observe_firmware(device, "01", "11.2", AT)
    assert (same.firmware_hash, same.observed_at) == ("aa" * 32, AT)
    moved = observe_firmware(device, "02", "11.2", AT)
    assert (moved.firmware_hash, moved.firmware_version) == ("", "02")
    hashed = observe_firmware(device, "BB" * 32, "0x8F72", AT)
    assert (hashed.firmware_hash, hashed.firmware_version) == ("bb" * 32, "")


def test_an_8_2_inventory_takes_hub_facts_from_the_premises_chf() -> None:
    """The CHF in the same response is the device's comms hub (ID, GBCS, HAN variant)."""
    hub = InventoryObservation("00-DB-12-00-00-00-00-09", "CHF", "106C", "01", "Commissioned",
                               "01", "4.0", "Dual Band")
    seen = InventoryObservation("00-DB-12-00-00-00-00-01", "ESME", "106c", "02",
                                "Suspended", "0A")
    device = observe_inventory(None, seen, hub, "8.2", AT)
    assert (device.comms_hub_id, device.comms_hub_gbcs_version) == (hub.device_id, "4.0")
    assert (device.status, device.manufacturer, device.firmware_version) == ("Suspended", "106C",
                                                                             "0A")
    with pytest.raises(ValueError, match="status"):
        observe_inventory(None, InventoryObservation(seen.device_id, "ESME", "1", "2"), None,
                          "8.2", AT)


def test_selection_filters_are_anded_and_values_ored() -> None:
    """Keys AND, comma-separated values OR; values normalised like the inventory."""
    device = RowParser(HEADER, "csv:f", AT).parse(2, GOOD)
    assert isinstance(device, Device)
    assert Selection.parse(["device_type=esme,gsme", "tag:region=northern"]).matches(device)
    assert not Selection.parse(["device_type=GSME"]).matches(device)
    assert Selection.parse(["device_id=00db1234567890A0,00-00-00-00-00-00-00-01"]
                           ).matches(device)
    assert Selection.parse(["current_entry=10003"]).matches(device, "10003")
    assert not Selection.parse(["current_entry=10003"]).matches(device, "10004")
    assert Selection.parse(["version=0002012f"]).matches(device)
    assert Selection.parse(["status=Commissioned", "status=Suspended"]).column_filters() == {
        "status": frozenset({"Commissioned", "Suspended"})}


@pytest.mark.parametrize("spec", ["device_type", "device_type=", "device_type=METER",
                                  "status=Active", "device_id=12"])
def test_a_bad_selection_names_the_spec(spec: str) -> None:
    """Malformed or invalid filters are refused with the spec in the message."""
    with pytest.raises(ValueError, match="--select"):
        Selection.parse([spec])
