"""A simulated twin of the deployment's own estate, for forecasts: its catalogue and fleet
written as a `fwo sim generate` directory, so the dry run can run the real engine over them.

The twin keeps everything that decides a device's path and pace: every CPL entry's model,
hardware, firmware version, status, GBCS version, HAN variant and FIR predecessors, and every
device's type, model, status, comms hub and the entry it was planned from. Only what the
simulators cannot hold is replaced: each Manufacturer Image is a small generated one (the
real images stay where they are), so its hash differs from the real CPL's, and device hashes
are mapped to the twin's. Keys are generated for the twin's own simulated DCC.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.domain.catalogue import CatalogueEntry, entry_id_key, entry_values
from orchestrator.domain.fleet import Device
from orchestrator.errors import ConfigurationError

if TYPE_CHECKING:  # the simulators are reached only when a twin is written
    from simulators.generate.catalogue import CplEntry
    from simulators.generate.fir import FirRow

TWIN_IMAGE_SIZE = 256  # the image's size does not change the pace of a simulated campaign


@dataclass(frozen=True)
class TwinCounts:
    """What the twin holds: entries, devices, and devices whose firmware is on no entry."""

    entries: int
    devices: int
    unidentified: int


def write_twin(directory: Path, entries: Iterable[CatalogueEntry],
               devices: Iterable[Device], current_entry: Mapping[str, str], *,
               seed: int = 1) -> TwinCounts:
    """Write cpl.xlsx, fir.xlsx, fleet.csv, images/ and keys/ for the estate into `directory`.

    `current_entry` maps a device ID to the CPL entry its plan identified it as running (a
    device missing from it keeps its own hash, on no entry of the twin, as in reality).
    """
    from simulators.generate.catalogue import Catalogue
    from simulators.generate.images import write_images
    from simulators.generate.keys import write_keys
    from simulators.generate.workbooks import write_cpl, write_fir, write_fleet_csv

    ordered = sorted(entries, key=lambda e: entry_id_key(e.cpl_entry_id))
    cpl = [_cpl_entry(e, seed) for e in ordered]
    twin_hash = {e.cpl_entry_id: c.image_hash for e, c in zip(ordered, cpl, strict=True)}
    catalogue = Catalogue(seed=seed, image_size=TWIN_IMAGE_SIZE, published=dt.date.today(),
                          manufacturers=(), entries=tuple(cpl),
                          fir_rows=tuple(_fir_row(e) for e in ordered if e.has_fir),
                          lineage_count=0)
    directory.mkdir(parents=True, exist_ok=True)
    write_cpl(catalogue, directory / "cpl.xlsx")
    write_fir(catalogue, directory / "fir.xlsx")
    write_images(catalogue.entries, directory / "images")
    write_keys(directory / "keys", seed=seed)
    unidentified = [0]
    count = write_fleet_csv(_fleet_rows(devices, current_entry, twin_hash, unidentified),
                            directory / "fleet.csv")
    return TwinCounts(len(cpl), count, unidentified[0])


def _numeric_id(entry_id: str) -> int:
    if not entry_id.isdigit():
        raise ConfigurationError(f"CPL entry {entry_id!r} has a non-numeric ID; the simulated "
                                 "twin (forecast) needs numeric CPL Entry IDs")
    return int(entry_id)


def _cpl_entry(e: CatalogueEntry, seed: int) -> CplEntry:
    from simulators.generate.catalogue import CplEntry
    from simulators.generate.images import build_image, image_hash

    image_seed = int.from_bytes(hashlib.sha256(f"{seed}:{e.cpl_entry_id}".encode()).digest()[:8])
    image = build_image(manufacturer=e.manufacturer, model=e.model,
                        hardware_version=e.hardware_version,
                        firmware_version=e.firmware_version, image_seed=image_seed,
                        size=TWIN_IMAGE_SIZE)
    twin = {**entry_values(e), "cpl_entry_id": str(_numeric_id(e.cpl_entry_id)),
            "image_hash": image_hash(image)}
    return CplEntry(**twin, image_seed=image_seed, image_size=TWIN_IMAGE_SIZE, lineage=0,
                    published=dt.date.today())


def _fir_row(e: CatalogueEntry) -> FirRow:
    from simulators.generate.fir import FirRow

    previous = (None if e.predecessors is None
                else tuple(_numeric_id(p) for p in e.predecessors))
    cell: str | None = (None if previous is None else
                        "N/A" if not previous else ", ".join(str(p) for p in previous))
    return FirRow(cpl_entry_id=_numeric_id(e.cpl_entry_id), contact_email=e.contact_email,
                  contact_telephone=e.contact_telephone, contact_address=e.contact_address,
                  release_notes=e.release_notes, previous_entry_ids=previous,
                  previous_cell=cell, zigbee_chipset_vendor=e.zigbee_chipset_vendor or None,
                  zigbee_stack_version=e.zigbee_stack_version or None,
                  zigbee_band_join_option=e.zigbee_band_join_option or None)


def _fleet_rows(devices: Iterable[Device], current_entry: Mapping[str, str],
                twin_hash: Mapping[str, str], unidentified: list[int]) -> Iterator[tuple[str, ...]]:
    for d in devices:
        entry = current_entry.get(d.device_id)
        firmware_hash = twin_hash.get(entry, "") if entry else ""
        if not firmware_hash:
            unidentified[0] += 1
            firmware_hash = d.firmware_hash
        yield (d.device_id, d.device_type, d.manufacturer, d.model, d.hardware_version,
               firmware_hash, d.firmware_version, d.status, d.comms_hub_id,
               d.comms_hub_gbcs_version, d.han_variant, d.tag("region") or "",
               d.tag("tariff") or "")
