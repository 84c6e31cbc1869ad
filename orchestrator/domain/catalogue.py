"""The catalogue: CPL entries joined with FIR data, and the upgrade graph over them.

Pure Python. Built from whatever the repository loaded; answers the questions ops ask first
after a Change of Supplier: which entry is this hash, what comes before and after it, who do
I call, and which entries run a given ZigBee stack.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

ACTIVE = "Active"


@dataclass(frozen=True)
class Contact:
    """The manufacturer contact published in the FIR."""

    email: str
    telephone: str
    address: str


# Key, in an entry's stored `extra`, of the mark saying the entry was carried over.
CARRIED_KEY = "fwo.carried_over"
WHOLE_ENTRY, FIR_DATA = "entry", "fir"  # what a carried entry keeps


@dataclass(frozen=True)
class CarriedOver:
    """Why an entry is (in part) its last good version from an earlier snapshot.

    `rejected_in_snapshot` rejected the entry's new row for `problems`: its CPL row (`part`
    `entry`: the whole entry is kept) or its FIR row (`part` `fir`: the FIR data is kept).
    `kept_from_snapshot` is the last snapshot that accepted what is kept.
    """

    kept_from_snapshot: int | None
    rejected_in_snapshot: int | None
    problems: tuple[Mapping[str, Any], ...] = ()
    part: str = WHOLE_ENTRY

    @property
    def codes(self) -> list[str]:
        """The problem codes that rejected the new row, each once."""
        return list(dict.fromkeys(str(p.get("code", "")) for p in self.problems))

    def describe(self) -> str:
        """One line for ops: which version is kept and what rejected the new one."""
        what, row = ("FIR data kept", "FIR") if self.part == FIR_DATA else ("kept", "CPL")
        return (f"{what} as in snapshot {self.kept_from_snapshot}: snapshot "
                f"{self.rejected_in_snapshot} rejected its {row} row ({', '.join(self.codes)})")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kept_from_snapshot": self.kept_from_snapshot,
                "rejected_in_snapshot": self.rejected_in_snapshot,
                "part": self.part, "problems": [dict(p) for p in self.problems],
                "message": self.describe()}

    @classmethod
    def from_mark(cls, mark: Mapping[str, Any], snapshot_id: int | None) -> CarriedOver:
        """The mark as stored in `extra` of an entry row of `snapshot_id`."""
        return cls(mark.get("kept_from_snapshot"), snapshot_id,
                   tuple(mark.get("problems") or ()), mark.get("part") or WHOLE_ENTRY)


def carry_forward(fields: Mapping[str, Any], previous: Mapping[str, Any],
                  previous_snapshot: int, problems: list[dict[str, Any]],
                  part: str = WHOLE_ENTRY) -> dict[str, Any]:
    """An entry's stored fields, marked as (in part, `part`) kept from `previous_snapshot`.

    `fields` are what is stored (the previous fields when the whole entry is kept);
    `previous` are the previous snapshot's fields: an entry kept again keeps the snapshot
    of its last good version.
    """
    earlier = (previous.get("extra") or {}).get(CARRIED_KEY)
    kept = earlier.get("kept_from_snapshot") if isinstance(earlier, Mapping) else None
    extra = {k: v for k, v in (fields.get("extra") or {}).items() if k != CARRIED_KEY}
    extra[CARRIED_KEY] = {"kept_from_snapshot": kept or previous_snapshot,
                          "problems": problems, "part": part}
    return {**fields, "extra": extra}


def unmarked(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Stored fields without the carried-over mark (what a diff compares)."""
    extra = fields.get("extra") or {}
    if CARRIED_KEY not in extra:
        return dict(fields)
    return {**fields, "extra": {k: v for k, v in extra.items() if k != CARRIED_KEY}}


@dataclass(frozen=True)
class CatalogueEntry:
    """One CPL entry with its FIR data; `predecessors` is () for N/A, None when unknown.

    `carried_over` is set when this sync rejected the entry's CPL row and the entry is its
    last good version from an earlier snapshot (so devices on it stay identified).
    """

    cpl_entry_id: str
    device_type: str
    manufacturer: str
    model: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    gbcs_version: str
    han_variant: str
    status: str
    predecessors: tuple[str, ...] | None = None
    contact_email: str = ""
    contact_telephone: str = ""
    contact_address: str = ""
    release_notes: str = ""
    zigbee_chipset_vendor: str = ""
    zigbee_stack_version: str = ""
    zigbee_band_join_option: str = ""
    has_fir: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)
    carried_over: CarriedOver | None = None

    @property
    def active(self) -> bool:
        """True when the CPL lists the entry as Active."""
        return self.status == ACTIVE

    @property
    def model_key(self) -> tuple[str, str]:
        """(manufacturer, model): the model this entry is firmware for."""
        return (self.manufacturer, self.model)

    @property
    def lineage_key(self) -> tuple[str, str, str]:
        """(manufacturer, model, hardware version): the devices this entry can run on."""
        return (self.manufacturer, self.model, self.hardware_version)

    @property
    def contact(self) -> Contact:
        """The manufacturer contact for this entry."""
        return Contact(self.contact_email, self.contact_telephone, self.contact_address)

    def to_dict(self) -> dict[str, Any]:
        """The public JSON shape of an entry (as `fwo catalogue show --json` prints it)."""
        return {
            "cpl_entry_id": self.cpl_entry_id, "device_type": self.device_type,
            "manufacturer": self.manufacturer, "model": self.model,
            "hardware_version": self.hardware_version,
            "firmware_version": self.firmware_version, "image_hash": self.image_hash,
            "gbcs_version": self.gbcs_version, "han_variant": self.han_variant,
            "status": self.status,
            "predecessors": None if self.predecessors is None else list(self.predecessors),
            "contact": {"email": self.contact_email, "telephone": self.contact_telephone,
                        "address": self.contact_address},
            "release_notes": self.release_notes,
            "zigbee": {"chipset_vendor": self.zigbee_chipset_vendor,
                       "stack_version": self.zigbee_stack_version,
                       "band_join_option": self.zigbee_band_join_option},
            "extra": dict(self.extra),
            "carried_over": None if self.carried_over is None else self.carried_over.to_dict(),
        }


def entry_from_fields(fields: Mapping[str, Any], snapshot_id: int | None = None
                      ) -> CatalogueEntry:
    """The entry whose stored fields are `fields`: the one mapping from the flat shape.

    `fields` are an entry's flat fields, as `fir_sync`'s `CatalogueRecord.flat` gives them and
    as the catalogue table's columns hold them (one key per `CatalogueEntry` field but
    `carried_over`, which is read from the mark in `extra`). `snapshot_id` is the snapshot the
    fields were stored in (the snapshot that carried the entry over, when marked).
    """
    known = dict(fields)
    predecessors = known.pop("predecessors", None)
    extra = dict(known.pop("extra", None) or {})
    mark = extra.pop(CARRIED_KEY, None)
    carried = CarriedOver.from_mark(mark, snapshot_id) if mark else None
    return CatalogueEntry(**known, extra=extra, carried_over=carried,
                          predecessors=None if predecessors is None else tuple(predecessors))


def entry_values(entry: CatalogueEntry) -> dict[str, Any]:
    """The values of a `CatalogueEntry`'s own fields (what a subclass adds left out), to
    build another entry from: `CatalogueEntry(**{**entry_values(e), "status": ...})`."""
    return {f.name: getattr(entry, f.name) for f in fields(CatalogueEntry)}


def version_key(version: str) -> tuple[int, int, str]:
    """Order firmware versions: hexadecimal ones numerically, others naturally."""
    if re.fullmatch(r"[0-9A-Fa-f]{1,16}", version):
        return (0, int(version, 16), version)
    return (1, 0, version)


def entry_id_key(entry_id: str) -> tuple[int, int, str]:
    """Order CPL Entry IDs: numeric ones numerically, others alphabetically."""
    return (0, int(entry_id), "") if entry_id.isdigit() else (1, 0, entry_id)


class Catalogue:
    """An immutable set of entries with the indexes the queries need."""

    def __init__(self, entries: Iterable[CatalogueEntry], snapshot_id: int | None = None):
        self.snapshot_id = snapshot_id
        self._by_id = {e.cpl_entry_id: e for e in entries}
        self._by_hash: dict[str, list[CatalogueEntry]] = defaultdict(list)
        self._successors: dict[str, list[str]] = defaultdict(list)
        for entry in sorted(self._by_id.values(), key=lambda e: entry_id_key(e.cpl_entry_id)):
            self._by_hash[entry.image_hash].append(entry)
            for previous in entry.predecessors or ():
                self._successors[previous].append(entry.cpl_entry_id)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Any:
        return iter(sorted(self._by_id.values(), key=lambda e: entry_id_key(e.cpl_entry_id)))

    def get(self, entry_id: str) -> CatalogueEntry | None:
        """The entry with this CPL Entry ID, if any."""
        return self._by_id.get(entry_id)

    def by_hash(self, image_hash: str, manufacturer: str | None = None,
                model: str | None = None, hardware_version: str | None = None
                ) -> list[CatalogueEntry]:
        """Entries with this Manufacturer Image hash, narrowed by whatever is known."""
        found = self._by_hash.get(image_hash.lower(), [])
        wanted = (manufacturer, model, hardware_version)
        return [e for e in found
                if all(w is None or w == have for w, have in zip(wanted, e.lineage_key))]

    def lineage(self, manufacturer: str, model: str,
                hardware_version: str | None = None) -> list[CatalogueEntry]:
        """Entries of one model (and hardware version), oldest firmware first."""
        found = [e for e in self._by_id.values() if e.manufacturer == manufacturer
                 and e.model == model
                 and (hardware_version is None or e.hardware_version == hardware_version)]
        return sorted(found, key=lambda e: (e.hardware_version, version_key(e.firmware_version),
                                            entry_id_key(e.cpl_entry_id)))

    def predecessors(self, entry_id: str) -> tuple[str, ...] | None:
        """Entries this one may be upgraded from: () for none, None when unknown."""
        entry = self._by_id.get(entry_id)
        return None if entry is None else entry.predecessors

    def successors(self, entry_id: str) -> tuple[str, ...]:
        """Entries that list this one as a permitted previous version."""
        return tuple(self._successors.get(entry_id, ()))

    def exposure(self, chipset_vendor: str, stack_version: str | None = None
                 ) -> list[CatalogueEntry]:
        """Entries on a ZigBee chipset vendor (and stack version), matched ignoring case."""
        vendor = chipset_vendor.strip().casefold()
        stack = None if stack_version is None else stack_version.strip().casefold()
        return [e for e in self if e.zigbee_chipset_vendor.casefold() == vendor
                and (stack is None or e.zigbee_stack_version.casefold() == stack)]


@dataclass(frozen=True)
class Snapshot:
    """One recorded sync: where the files came from, what they hashed to, what changed."""

    id: int
    created_at: Any
    cpl_source: str
    fir_source: str
    cpl_file_sha256: str
    fir_file_sha256: str
    content_hash: str
    cpl_rows: int
    fir_rows: int
    cpl_entries: int
    fir_entries: int
    problems: list[dict[str, Any]]
    diff: dict[str, Any]
    previous_snapshot_id: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (problems and diff included)."""
        return {
            "snapshot_id": self.id, "created_at": str(self.created_at),
            "cpl_source": self.cpl_source, "fir_source": self.fir_source,
            "cpl_sha256": self.cpl_file_sha256, "fir_sha256": self.fir_file_sha256,
            "content_hash": self.content_hash, "cpl_rows": self.cpl_rows,
            "fir_rows": self.fir_rows, "cpl_entries": self.cpl_entries,
            "fir_entries": self.fir_entries, "problems": self.problems, "diff": self.diff,
            "previous_snapshot_id": self.previous_snapshot_id,
        }
