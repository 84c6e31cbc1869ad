"""Typed records produced by reading the CPL and FIR, and the problems found on the way."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class CplStatus(StrEnum):
    """CPL status of an entry."""

    ACTIVE = "Active"
    CANCELLED = "Cancelled"
    EXPIRED = "Expired"
    WITHDRAWN = "Withdrawn"


DEVICE_TYPES: frozenset[str] = frozenset(
    {"ESME", "GSME", "CHF", "GPF", "HCALCS", "PPMID", "IHD", "CAD", "SAPC"}
)

ROW, PREVIOUS_LIST = "row", "previous_list"  # what a problem rejected
WHOLE_ENTRY, FIR_DATA = "entry", "fir"  # what a carried entry keeps from the previous snapshot

BAND_JOIN_OPTIONS: tuple[str, ...] = (
    "2.4 GHz Only",
    "Sub-GHz Only",
    "Multi MAC Selection – Auto",
    "Multi MAC Selection – Manual",
    "Multi MAC Selection – Either",
    "Dual Band",
)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one cell or row, located precisely enough to fix it.

    `cpl_entry_id` is the row's CPL Entry ID when it has a well-formed one. `scope` says what
    the problem rejected: the whole `row`, or only a FIR row's `previous_list` (the entry's
    predecessors become unknown, the rest of the row stays).
    """

    code: str
    reason: str
    file: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    cpl_entry_id: str | None = None
    scope: str = ROW

    def to_dict(self) -> dict[str, Any]:
        """The problem as a JSON-ready mapping."""
        return asdict(self)

    def __str__(self) -> str:
        where = self.file + (f" [{self.sheet}]" if self.sheet else "")
        if self.row is not None:
            where += f" row {self.row}"
        if self.cpl_entry_id:
            where += f" (entry {self.cpl_entry_id})"
        if self.column:
            where += f" column '{self.column}'"
        shown = f" value {self.value!r}" if self.value not in (None, "") else ""
        return f"{where}:{shown} {self.reason} ({self.code})"


@dataclass(frozen=True)
class SourceInfo:
    """Where a table came from and what it hashed to."""

    file: str
    sheet: str | None
    file_sha256: str
    content_sha256: str
    rows: int


@dataclass(frozen=True)
class CplRecord:
    """One accepted CPL row."""

    cpl_entry_id: str
    device_type: str
    manufacturer: str
    model: str
    hardware_version: str
    firmware_version: str
    image_hash: str
    gbcs_version: str
    han_variant: str
    status: CplStatus
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class FirRecord:
    """One accepted FIR row; `predecessors` is () for N/A and None when unknown (legacy)."""

    cpl_entry_id: str
    contact_email: str
    contact_telephone: str
    contact_address: str
    release_notes: str
    predecessors: tuple[str, ...] | None
    zigbee_chipset_vendor: str
    zigbee_stack_version: str
    zigbee_band_join_option: str
    extra: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class CatalogueRecord:
    """A CPL entry joined with its FIR row (if any): the unit the catalogue stores."""

    cpl: CplRecord
    fir: FirRecord | None

    @property
    def cpl_entry_id(self) -> str:
        """The CPL Entry ID."""
        return self.cpl.cpl_entry_id

    def flat(self) -> dict[str, Any]:
        """All fields in one flat mapping (predecessors None when unknown or no FIR row): the
        catalogue table's columns, which `orchestrator.domain.catalogue.entry_from_fields` maps."""
        cpl = asdict(self.cpl)
        cpl["status"] = self.cpl.status.value
        extra = dict(self.cpl.extra)
        fir: dict[str, Any] = {
            "contact_email": "", "contact_telephone": "", "contact_address": "",
            "release_notes": "", "predecessors": None, "zigbee_chipset_vendor": "",
            "zigbee_stack_version": "", "zigbee_band_join_option": "",
        }
        if self.fir is not None:
            fir = asdict(self.fir)
            fir.pop("cpl_entry_id")
            extra.update(dict(fir.pop("extra")))
            if fir["predecessors"] is not None:
                fir["predecessors"] = list(fir["predecessors"])
        cpl.pop("extra")
        return {**cpl, **fir, "has_fir": self.fir is not None, "extra": extra}


@dataclass(frozen=True)
class CarriedEntry:
    """An entry kept (in part) as the previous snapshot held it, because a new row was rejected.

    `part` is `entry` when its CPL row was rejected (the whole entry is kept) or `fir` when
    only its FIR row was (its new CPL data joined with the previous FIR data). `fields` are
    the previous snapshot's flat fields (as `CatalogueRecord.flat` gives them); `problems`
    say why the new row was rejected.
    """

    cpl_entry_id: str
    fields: dict[str, Any]
    problems: tuple[Problem, ...]
    part: str = WHOLE_ENTRY


@dataclass(frozen=True)
class ParsedCatalogue:
    """The outcome of reading and validating a CPL and a FIR: accepted records and problems."""

    records: dict[str, CatalogueRecord]
    problems: tuple[Problem, ...]
    cpl_source: SourceInfo
    fir_source: SourceInfo
    fir_rows_accepted: int = 0
    rejected_rows: int = field(default=0)
    carried: dict[str, CarriedEntry] = field(default_factory=dict)
