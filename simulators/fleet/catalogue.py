"""The simulator's own copy of the CPL and FIR: entries by hash and by ID, with predecessors.

The DSP refuses images whose hash is not an Active entry of the device's model; the devices
use the FIR predecessor lists to decide whether an activation is in order (or bricks them).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.domain.catalogue import CatalogueEntry, entry_from_fields, entry_values
from simulators import ConfigurationError

if TYPE_CHECKING:
    from simulators.generate import Catalogue
    from simulators.generate.catalogue import CplEntry

def gbcs_tuple(version: str) -> tuple[int, ...]:
    """`"4.2"` -> (4, 2) for ordering GBCS versions; unknown text sorts lowest."""
    try:
        return tuple(int(part) for part in version.strip().split("."))
    except ValueError:
        return (0,)


def _normalised(entry: CatalogueEntry) -> CatalogueEntry:
    """The entry as the simulated devices spell it: codes upper-case, the hash lower-case."""
    return replace(
        entry, device_type=entry.device_type.strip().upper(),
        manufacturer=entry.manufacturer.strip().upper(), model=entry.model.strip().upper(),
        hardware_version=entry.hardware_version.strip().upper(),
        firmware_version=entry.firmware_version.strip().upper(),
        image_hash=entry.image_hash.strip().lower(), gbcs_version=entry.gbcs_version.strip(),
        status=entry.status.strip())


def _generated(e: CplEntry, previous: tuple[int, ...] | None) -> CatalogueEntry:
    """The catalogue's own entry of a generated one (without the generator's data), with
    the predecessors its FIR row names."""
    return CatalogueEntry(**{**entry_values(e), "predecessors": None if previous is None
                             else tuple(str(p) for p in previous)})


class FirmwareCatalogue:
    """CPL entries indexed by position, ID and Manufacturer Image hash."""

    def __init__(self, entries: Iterable[CatalogueEntry]) -> None:
        self.entries: list[CatalogueEntry] = sorted(
            entries, key=lambda e: (len(e.cpl_entry_id), e.cpl_entry_id))
        if not self.entries:
            raise ConfigurationError("the catalogue holds no CPL entries")
        self.by_id: dict[str, int] = {e.cpl_entry_id: i for i, e in enumerate(self.entries)}
        self.by_hash: dict[str, list[int]] = {}
        for i, entry in enumerate(self.entries):
            self.by_hash.setdefault(entry.image_hash, []).append(i)

    @classmethod
    def from_workbooks(cls, cpl_path: Path, fir_path: Path) -> FirmwareCatalogue:
        """Read the CPL and FIR workbooks with fir_sync (rows with problems are left out)."""
        from fir_sync.errors import FirSyncError
        from fir_sync.reader import read_catalogue

        try:
            parsed = read_catalogue(Path(cpl_path), Path(fir_path))
        except (FirSyncError, OSError) as err:
            raise ConfigurationError(f"cannot read the CPL/FIR workbooks: {err}") from err
        return cls(_normalised(entry_from_fields(r.flat())) for r in parsed.records.values())

    @classmethod
    def from_generated(cls, catalogue: Catalogue) -> FirmwareCatalogue:
        """Build from an in-memory generated catalogue (the same data the workbooks hold)."""
        fir = {row.cpl_entry_id: row.previous_entry_ids for row in catalogue.fir_rows}
        return cls(_normalised(_generated(e, fir.get(e.entry_id))) for e in catalogue.entries)

    def entry(self, index: int) -> CatalogueEntry:
        """The entry at `index`."""
        return self.entries[index]

    def index_of(self, entry_id: str) -> int:
        """The position of a CPL Entry ID, or ConfigurationError."""
        try:
            return self.by_id[str(entry_id)]
        except KeyError:
            raise ConfigurationError(f"CPL entry {entry_id} is not in the catalogue") from None

    def find(self, image_hash: str, manufacturer: str, model: str) -> int | None:
        """The entry of this model with this hash (any status), or None."""
        for i in self.by_hash.get(image_hash.lower(), ()):
            if self.entries[i].model_key == (manufacturer, model):
                return i
        return None

    def active_for_model(self, image_hash: str, manufacturer: str, model: str) -> int | None:
        """The Active entry of this model with this hash, or None (what the DSP checks)."""
        i = self.find(image_hash, manufacturer, model)
        return i if i is not None and self.entries[i].active else None

    def permitted_upgrades(self) -> Iterator[tuple[CatalogueEntry, CatalogueEntry]]:
        """Every (from, to) FIR edge whose target is Active, in CPL Entry ID order."""
        for target in self.entries:
            for previous in (target.predecessors or ()) if target.active else ():
                if previous in self.by_id:
                    yield self.entries[self.by_id[previous]], target
