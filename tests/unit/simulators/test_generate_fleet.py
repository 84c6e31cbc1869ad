"""The generated fleet: device IDs, firmware on the catalogue, hubs and the CSV writer."""
from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from simulators.generate import (
    FLEET_COLUMNS,
    Catalogue,
    FleetDevice,
    InvalidParameterError,
    generate_catalogue,
    generate_fleet,
    iter_fleet_rows,
)
from simulators.generate.fleet import unknown_firmware_count
from simulators.generate.workbooks import write_fleet_csv

DEVICES = 3000


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    """A small catalogue for the fleet to run on."""
    return generate_catalogue(entries=300, seed=21, image_size=64)


@pytest.fixture(scope="module")
def fleet(catalogue: Catalogue) -> list[FleetDevice]:
    """A fleet of a few thousand devices."""
    return generate_fleet(catalogue, devices=DEVICES, seed=21)


def test_header_is_exactly_the_published_columns(tmp_path: Path, catalogue: Catalogue) -> None:
    """fleet.csv starts with exactly the agreed column names."""
    path = tmp_path / "fleet.csv"
    write_fleet_csv(iter_fleet_rows(catalogue, devices=5, seed=1), path)
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header == ("device_id,device_type,manufacturer,model,hardware_version,firmware_hash,"
                      "firmware_version,status,comms_hub_id,comms_hub_gbcs_version,han_variant,"
                      "region,tariff")
    assert tuple(header.split(",")) == FLEET_COLUMNS


def test_same_seed_gives_identical_csv_bytes(tmp_path: Path, catalogue: Catalogue) -> None:
    """Writing the fleet twice with one seed gives byte-identical files; another seed differs."""
    paths = [tmp_path / f"{n}.csv" for n in ("a", "b", "c")]
    for path, seed in zip(paths, (3, 3, 4), strict=True):
        write_fleet_csv(iter_fleet_rows(catalogue, devices=500, seed=seed), path)
    assert paths[0].read_bytes() == paths[1].read_bytes() != paths[2].read_bytes()


def test_device_ids_are_unique_eui64s(fleet: list[FleetDevice]) -> None:
    """Every device and hub ID is an EUI-64 written with dashes, and device IDs are unique."""
    eui = re.compile(r"([0-9A-F]{2}-){7}[0-9A-F]{2}")
    assert all(eui.fullmatch(d.device_id) and eui.fullmatch(d.comms_hub_id) for d in fleet)
    assert len({d.device_id for d in fleet}) == DEVICES


def test_devices_run_catalogue_firmware_except_a_few(
    fleet: list[FleetDevice], catalogue: Catalogue
) -> None:
    """Devices match a CPL entry's model and hash, except about 0.5% on unknown hashes."""
    by_hash = {e.image_hash: e for e in catalogue.entries}
    unknown = [d for d in fleet if d.firmware_hash not in by_hash]
    assert len(unknown) == unknown_firmware_count(DEVICES) == 15
    assert all(re.fullmatch(r"[0-9a-f]{64}", d.firmware_hash) for d in unknown)
    for d in fleet:
        entry = by_hash.get(d.firmware_hash)
        if entry is not None:
            assert (entry.manufacturer, entry.model, entry.firmware_version, entry.device_type) \
                == (d.manufacturer, d.model, d.firmware_version, d.device_type)


def test_most_devices_are_behind_the_latest_firmware(
    fleet: list[FleetDevice], catalogue: Catalogue
) -> None:
    """Most devices are not on the newest entry of their lineage, so there is upgrade work."""
    newest = {e.lineage: e.image_hash for e in catalogue.entries}
    lineage_of = {e.image_hash: e.lineage for e in catalogue.entries}
    known = [d for d in fleet if d.firmware_hash in lineage_of]
    behind = [d for d in known if newest[lineage_of[d.firmware_hash]] != d.firmware_hash]
    assert len(behind) > len(known) / 2


def test_statuses_are_mostly_commissioned(fleet: list[FleetDevice]) -> None:
    """Most devices are Commissioned, and the other statuses all appear."""
    statuses = Counter(d.status for d in fleet)
    assert statuses["Commissioned"] > DEVICES * 0.8
    assert {"InstalledNotCommissioned", "Suspended", "Decommissioned"} <= set(statuses)


def test_each_hub_serves_one_to_three_devices(fleet: list[FleetDevice]) -> None:
    """A hub serves 1-3 devices besides itself; a CHF device is its own hub."""
    served = Counter(d.comms_hub_id for d in fleet if d.comms_hub_id != d.device_id)
    assert served and max(served.values()) <= 3
    hubs = [d for d in fleet if d.device_type == "CHF"]
    assert hubs and all(d.comms_hub_id == d.device_id for d in hubs)
    assert all(d.comms_hub_gbcs_version and d.han_variant in {"2.4GHz", "Dual Band"}
               for d in fleet if d.device_type != "CHF")


def test_meters_dominate_the_fleet(fleet: list[FleetDevice]) -> None:
    """Electricity and gas meters are most of the fleet."""
    types = Counter(d.device_type for d in fleet)
    assert types["ESME"] + types["GSME"] > DEVICES / 2


def test_csv_round_trips_through_the_csv_module(tmp_path: Path, catalogue: Catalogue) -> None:
    """The file reads back with csv.DictReader as the same records."""
    path = tmp_path / "fleet.csv"
    assert write_fleet_csv(iter_fleet_rows(catalogue, devices=200, seed=8), path) == 200
    with path.open(newline="", encoding="utf-8") as handle:
        read = [FleetDevice(**row) for row in csv.DictReader(handle)]
    assert read == generate_fleet(catalogue, devices=200, seed=8)


def test_negative_device_count_is_refused(catalogue: Catalogue) -> None:
    """A negative device count raises InvalidParameterError."""
    with pytest.raises(InvalidParameterError):
        list(iter_fleet_rows(catalogue, devices=-1, seed=1))
