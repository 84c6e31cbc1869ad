"""Fleet handlers: import inventory CSVs, record 8.2 and 11.2 observations, query devices.

How observations change the fleet is in `fleet_facts`; these are the committing wrappers.
"""
from __future__ import annotations

import csv
import datetime as dt
import gc
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from duis.models import InventoryDevice
from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.domain.fleet import (
    Device,
    FleetProblem,
    RowParser,
    newer,
    observe_firmware,
)
from orchestrator.domain.observations import FirmwareRead
from orchestrator.domain.planner import Planner
from orchestrator.domain.selection import Selection
from orchestrator.errors import (
    DeviceNotFoundError,
    FleetError,
    FleetImportError,
    NoCatalogueError,
    SelectionError,
)
from orchestrator.service import audit
from orchestrator.service.fleet_facts import (
    ObservationResult,
    apply_inventory,
    eui_or_raw,
    record_reads,
    save_observations,
)
from orchestrator.service.unit_of_work import UnitOfWork

CHUNK = 100_000
MAX_PROBLEMS = 10_000


@dataclass(frozen=True)
class ImportResult:
    """What an import did: rows read, devices upserted, rows rejected and why."""

    source: str
    observed_at: dt.datetime
    rows: int
    imported: int
    rejected: int
    devices_total: int
    problems: list[FleetProblem] = field(default_factory=list)
    problems_truncated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape `fwo fleet import --json` prints."""
        return {"source": self.source, "observed_at": self.observed_at.isoformat(),
                "rows": self.rows, "imported": self.imported, "rejected": self.rejected,
                "devices_total": self.devices_total,
                "problems": [p.to_dict() for p in self.problems],
                "problems_truncated": self.problems_truncated}


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector around allocation-heavy work that makes no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def import_fleet(uow: UnitOfWork, path: Path, observed_at: dt.datetime | None = None,
                 source: str | None = None, entry: audit.Entry | None = None) -> ImportResult:
    """Upsert every good row of an inventory CSV in one transaction (with its audit `entry`,
    when given); report the bad ones.

    Observations are dated by `observed_at`, by default the file's modification time, so a
    re-import of the same file changes nothing and an old file never overwrites newer reads.
    """
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
        when = observed_at or dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    except OSError as err:
        raise FleetImportError(f"cannot read {path}: {err.strerror or err}") from err
    label = source or f"csv:{path.name}"
    tally = _Tally()
    with handle, uow, gc_paused():
        try:
            reader = csv.reader(handle)
            for chunk in _good_rows(reader, _parser(reader, label, when), tally):
                uow.fleet.upsert(chunk)
        except UnicodeDecodeError as err:
            raise FleetImportError(_bad_encoding(path)) from err
        except csv.Error as err:
            raise FleetImportError(f"{path}: after {tally.imported + tally.rejected} rows: "
                                   f"unreadable CSV: {err}") from err
        total = uow.fleet.count()
        if entry is not None:
            entry.write(uow, imported=tally.imported, rejected=tally.rejected)
        uow.commit()
    return ImportResult(label, when, tally.rows, tally.imported, tally.rejected, total,
                        tally.problems, tally.truncated)


def _bad_encoding(path: Path) -> str:
    """One line naming the physical line and byte of the first invalid UTF-8 in `path`.

    The text reader decodes in buffered chunks, so its error says nothing about where the
    bad byte is; this re-scans the file as bytes, one line at a time (bounded memory; a UTF-8
    sequence never spans a newline, so decoding line by line finds the same first error).
    """
    with path.open("rb") as raw:
        for number, line in enumerate(raw, start=1):
            try:
                line.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as err:
                return (f"{path}: line {number}: byte {line[err.start]:#04x} is not valid "
                        "UTF-8; save the inventory as UTF-8 CSV")
    return f"{path}: not valid UTF-8"


@dataclass
class _Tally:
    rows: int = 0
    imported: int = 0
    rejected: int = 0
    problems: list[FleetProblem] = field(default_factory=list)
    truncated: bool = False

    def reject(self, problems: list[FleetProblem]) -> None:
        self.rejected += 1
        room = MAX_PROBLEMS - len(self.problems)
        self.problems.extend(problems[:max(room, 0)])
        self.truncated = self.truncated or len(problems) > room


class _CsvRows(Protocol):
    """What the import reads of a `csv.reader`."""

    @property
    def line_num(self) -> int: ...
    def __iter__(self) -> Iterator[list[str]]: ...
    def __next__(self) -> list[str]: ...


def _parser(reader: _CsvRows, label: str, when: dt.datetime) -> RowParser:
    header = next(reader, None)
    if not header:
        raise FleetImportError("the file is empty: expected a header row")
    try:
        return RowParser(header, label, when)
    except ValueError as err:
        raise FleetImportError(f"header: {err}") from err


def _good_rows(reader: _CsvRows, parser: RowParser, tally: _Tally) -> Iterator[list[Device]]:
    """Chunks of valid, first-seen devices; everything else is tallied as a problem."""
    first_line: dict[str, int] = {}
    chunk: list[Device] = []
    parse, seen = parser.parse, first_line.setdefault
    for row in reader:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        line = reader.line_num
        parsed = parse(line, row)
        if isinstance(parsed, list):  # the row's problems
            tally.reject(parsed)
        elif (earlier := seen(parsed.device_id, line)) != line:
            tally.reject([FleetProblem(line, "device_id", parsed.device_id,
                                       f"duplicate device_id: first on line {earlier}")])
        else:
            chunk.append(parsed)
            if len(chunk) == CHUNK:
                tally.imported += len(chunk)
                yield chunk
                chunk = []
    tally.imported += len(chunk)
    tally.rows = tally.imported + tally.rejected
    yield chunk


def record_inventory(uow: UnitOfWork, devices: Iterable[InventoryDevice],
                     observed_at: dt.datetime, source: str = "8.2") -> ObservationResult:
    """Record the devices of one 8.2 Read Inventory response (one premises) and commit."""
    with uow:
        result = apply_inventory(uow, devices, observed_at, source)
        uow.commit()
    return result


def record_firmware_read(uow: UnitOfWork, device: str, firmware_version_or_hash: str,
                         observed_at: dt.datetime, source: str = "11.2") -> bool:
    """Record an 11.2 read (a version) or a verified hash and commit; False if older."""
    with uow:
        recorded = apply_firmware_read(uow, device, firmware_version_or_hash, observed_at,
                                       source)
        uow.commit()
    return recorded


def apply_firmware_read(uow: UnitOfWork, device: str, firmware_version_or_hash: str,
                        observed_at: dt.datetime, source: str = "11.2") -> bool:
    """As `record_firmware_read`, inside a unit of work the caller commits."""
    existing = uow.fleet.get(eui_or_raw(device))
    if existing is None:
        raise DeviceNotFoundError(f"device {device} is not in the fleet inventory")
    if not newer(existing, observed_at):
        return False
    text = firmware_version_or_hash.strip()
    if not _HASH.fullmatch(text):  # a version read: history, drift and stale plans too
        read = FirmwareRead(existing.device_id, text, observed_at, source)
        result = record_reads(uow, [read], _utc_now(), known={existing.device_id: existing})
        if result.problems:
            raise FleetError(f"device {device}: {result.problems[0].split(': ', 1)[-1]}")
        return result.recorded == 1
    updated = observe_firmware(existing, text, source, observed_at)
    save_observations(uow, {existing.device_id: existing}, [updated], [], _utc_now())
    return True


_HASH = re.compile(r"(?:0[xX])?[0-9A-Fa-f]{64}")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def parse_selection(specs: Iterable[str]) -> Selection:
    """`--select` specs as a Selection; a bad one raises SelectionError."""
    try:
        return Selection.parse(specs)
    except ValueError as err:
        raise SelectionError(str(err)) from err


def selected_devices(uow: UnitOfWork, selection: Selection, planner: Planner | None,
                     limit: int | None = None) -> Iterator[Device]:
    """Devices passing the selection: column filters in SQL, the rest here."""
    pushed = selection.column_filters()
    rest = len(pushed) < len(selection.filters)
    found = 0
    for device in uow.fleet.iter_devices(pushed, None if rest else limit):
        if rest and not selection.matches(device, *_current(planner, device)):
            continue
        yield device
        found += 1
        if limit is not None and found >= limit:
            return


def _current(planner: Planner | None, device: Device) -> tuple[str | None, str | None]:
    if planner is None:
        return None, None
    current = planner.current_entry(device)
    if isinstance(current, CatalogueEntry):
        return current.cpl_entry_id, current.firmware_version
    return None, None


@dataclass(frozen=True)
class Exposure:
    """Devices running entries on a ZigBee chipset vendor (and stack version)."""

    chipset_vendor: str
    stack_version: str | None
    by_entry: dict[str, int]
    device_ids: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"chipset_vendor": self.chipset_vendor, "stack_version": self.stack_version,
                "devices": len(self.device_ids), "by_entry": self.by_entry,
                "device_ids": self.device_ids}


def device_exposure(uow: UnitOfWork, chipset: str, stack: str | None = None) -> Exposure:
    """Devices whose identified current entry runs that ZigBee chipset vendor / stack."""
    with uow:
        catalogue = _current_catalogue(uow)
        exposed = {e.cpl_entry_id: e for e in catalogue.exposure(chipset, stack)}
        planner = Planner(catalogue)
        filters = {"manufacturer": frozenset(e.manufacturer for e in exposed.values()),
                   "model": frozenset(e.model for e in exposed.values())}
        by_entry: dict[str, int] = dict.fromkeys(exposed, 0)
        ids = []
        for device in uow.fleet.iter_devices(filters) if exposed else ():
            current, _ = _current(planner, device)
            if current in exposed:
                by_entry[current] += 1
                ids.append(device.device_id)
    return Exposure(chipset, stack, by_entry, ids)


def _current_catalogue(uow: UnitOfWork) -> Catalogue:
    snapshot_id = uow.catalogue.current_id()
    if snapshot_id is None:
        raise NoCatalogueError("no catalogue yet: run `fwo catalogue sync --cpl ... --fir ...`")
    return uow.catalogue.load(snapshot_id)


def show_devices(uow: UnitOfWork, specs: Iterable[str], limit: int | None = 50
                 ) -> list[tuple[Device, str | None]]:
    """Selected devices with their identified current entry (None when unknown)."""
    selection = parse_selection(specs)
    with uow:
        planner = (Planner(_current_catalogue(uow)) if uow.catalogue.current_id() is not None
                   or selection.needs_catalogue else None)
        return [(d, _current(planner, d)[0])
                for d in selected_devices(uow, selection, planner, limit)]
