"""Turn located CPL and FIR rows into records, collecting every problem precisely.

A row with a problem is rejected and reported; the rest is accepted. A problem in a FIR
row's previous-version list (malformed, unknown or foreign IDs, cycles) rejects only that
list: the entry's predecessors become unknown and its contact, notes and ZigBee data stay.
Every problem carries the row's CPL Entry ID when it has a well-formed one.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from fir_sync import values
from fir_sync.graph import cycle_members
from fir_sync.parse import Row, Table
from fir_sync.records import (
    PREVIOUS_LIST,
    ROW,
    CatalogueRecord,
    CplRecord,
    FirRecord,
    Problem,
)

T = TypeVar("T")


Lineage = tuple[str, str]  # (manufacturer, model): what a predecessor must share


@dataclass
class _RowCheck:
    """Collects the problems of one row while its cells are normalised.

    A `local` problem rejects only the FIR row's predecessor list (the entry's previous
    versions become unknown); any other problem rejects the whole row.
    """

    table: Table
    row: Row
    problems: list[Problem] = field(default_factory=list)
    row_rejected: bool = False
    list_rejected: bool = False
    entry_id: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.entry_id = _normalised_id(self.row) or None

    def problem(self, code: str, reason: str, column: str | None, value: str | None,
                *, local: bool = False) -> None:
        header = self.table.header_of(column) if column else None
        self.problems.append(Problem(code, reason, self.table.file, self.table.sheet,
                                     self.row.number, header, value, self.entry_id,
                                     PREVIOUS_LIST if local else ROW))
        if local:
            self.list_rejected = True
        else:
            self.row_rejected = True

    def take(self, column: str, convert: Callable[[str], T], code: str,
             *, local: bool = False) -> T | None:
        raw = self.row.cells.get(column, "")
        if column in self.row.formulas:
            return None
        try:
            return convert(raw)
        except values.ValueProblem as err:
            self.problem(code, str(err), column, raw, local=local)
            return None

    def text(self, column: str, *, required: bool = False) -> str:
        raw = self.row.cells.get(column, "")
        if required and not raw:
            self.problem("missing_value", "required value is empty", column, raw)
        return raw

    def formulas(self, local: tuple[str, ...] = ()) -> None:
        for column in self.row.formulas:
            self.problem("formula", "formulas are not accepted (never evaluated); "
                         "publish the value", column, self.row.cells.get(column, column),
                         local=column in local)


def read_cpl(table: Table) -> tuple[dict[str, CplRecord], list[Problem]]:
    """Accepted CPL records by entry ID, and the problems of rejected rows."""
    rows_of = _rows_by_id(table)
    records: dict[str, CplRecord] = {}
    problems: list[Problem] = []
    for row in table.rows:
        check = _RowCheck(table, row)
        record = _cpl_record(check)
        entry = _normalised_id(row)
        others = [n for n in rows_of.get(entry, []) if n != row.number]
        if others:
            check.problem("duplicate_entry_id", "CPL Entry ID also used on row(s) "
                          f"{', '.join(map(str, others))}; all of them rejected",
                          "cpl_entry_id", entry)
        if record is not None and not check.row_rejected:
            records[record.cpl_entry_id] = record
        problems.extend(check.problems)
    return records, problems


def rejected_ids(table: Table, accepted: Mapping[str, object]) -> set[str]:
    """Well-formed CPL Entry IDs that appear on rows of `table` but were not accepted."""
    return {e for e in map(_normalised_id, table.rows) if e and e not in accepted}


def _normalised_id(row: Row) -> str:
    try:
        return values.entry_id(row.cells.get("cpl_entry_id", ""))
    except values.ValueProblem:
        return ""


def _rows_by_id(table: Table) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for row in table.rows:
        entry = _normalised_id(row)
        if entry:
            found.setdefault(entry, []).append(row.number)
    return found


def _cpl_record(check: _RowCheck) -> CplRecord | None:
    check.formulas()
    entry = check.take("cpl_entry_id", values.entry_id, "malformed_entry_id")
    fields = {
        "device_type": check.take("device_type", values.device_type, "unknown_device_type"),
        "manufacturer": values.code(check.text("manufacturer", required=True)),
        "model": values.code(check.text("model", required=True)),
        "hardware_version": values.code(check.text("hardware_version")),
        "firmware_version": check.text("firmware_version", required=True),
        "image_hash": check.take("image_hash", values.image_hash, "malformed_hash"),
        "gbcs_version": check.text("gbcs_version"),
        "han_variant": check.text("han_variant"),
        "status": check.take("status", values.status, "unknown_status"),
    }
    if entry is None or any(v is None for v in fields.values()):
        return None
    return CplRecord(entry, extra=tuple(sorted(check.row.extra.items())), **fields)  # type: ignore[arg-type]


@dataclass(frozen=True)
class _FirContext:
    """What FIR rows are checked against: accepted CPL entries, rejected IDs, carried ones."""

    cpl: Mapping[str, CplRecord]
    rejected: set[str]
    carried: Mapping[str, Lineage]

    def lineage(self, entry: str) -> Lineage | None:
        found = self.cpl.get(entry)
        return (found.manufacturer, found.model) if found else self.carried.get(entry)

    def why_unknown(self, entry: str) -> str:
        if entry in self.carried:
            return ("its CPL row was rejected; the entry keeps its last good version "
                    "from the previous snapshot")
        return "its CPL row was rejected" if entry in self.rejected else "no such CPL Entry ID"


def read_fir(table: Table, cpl: Mapping[str, CplRecord], cpl_rejected: set[str],
             carried: Mapping[str, Lineage] | None = None
             ) -> tuple[dict[str, FirRecord], list[Problem]]:
    """Accepted FIR records by entry ID (row checks only), and the problems found.

    `carried` maps entries kept from the previous snapshot (their new CPL row was rejected)
    to their lineage, so other rows may still name them as previous versions.
    """
    context = _FirContext(cpl, cpl_rejected, carried or {})
    records: dict[str, FirRecord] = {}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    for row in table.rows:
        check = _RowCheck(table, row)
        record = _fir_record(check)
        if record is not None:
            record = _check_fir_row(check, record, context, rows)
            if record.cpl_entry_id in rows:  # ambiguous FIR data: reject every row
                records.pop(record.cpl_entry_id, None)
            rows.setdefault(record.cpl_entry_id, row.number)
        if record is not None and not check.row_rejected:
            records[record.cpl_entry_id] = record
        problems.extend(check.problems)
    return records, problems


def _fir_record(check: _RowCheck) -> FirRecord | None:
    check.formulas(local=("predecessors",))
    entry = check.take("cpl_entry_id", values.entry_id, "malformed_entry_id")
    previous = check.take("predecessors", values.predecessor_list, "malformed_predecessors",
                          local=True)
    if entry is None:
        return None
    return FirRecord(
        entry, check.text("contact_email"), check.text("contact_telephone"),
        check.text("contact_address"), check.text("release_notes"), previous,
        check.text("zigbee_chipset_vendor"), check.text("zigbee_stack_version"),
        check.text("zigbee_band_join_option"), tuple(sorted(check.row.extra.items())))


def _check_fir_row(check: _RowCheck, record: FirRecord, context: _FirContext,
                   rows: dict[str, int]) -> FirRecord:
    """The row's record, its predecessor list dropped (unknown) when that list is wrong."""
    entry = record.cpl_entry_id
    if entry in rows:
        check.problem("duplicate_fir_row", f"FIR already has a row for this entry on row "
                      f"{rows[entry]}; both rows rejected", "cpl_entry_id", entry)
        return record
    this = context.lineage(entry)
    if entry not in context.cpl or this is None:  # (`this` is known for every CPL entry)
        check.problem("fir_unknown_entry", "FIR row for an unknown CPL entry: "
                      + context.why_unknown(entry), "cpl_entry_id", entry)
        return record
    for previous in record.predecessors or ():
        _check_predecessor(check, entry, this, previous, context)
    return replace(record, predecessors=None) if check.list_rejected else record


_LIST_DROPPED = "; the previous-version list is ignored (predecessors unknown)"


def _check_predecessor(check: _RowCheck, entry: str, this: Lineage, previous: str,
                       context: _FirContext) -> None:
    raw = check.row.cells.get("predecessors", "")
    other = context.lineage(previous)
    if other is None:
        why = " (its CPL row was rejected)" if previous in context.rejected else ""
        check.problem("previous_not_on_cpl", f"previous CPL Entry ID {previous} is not on "
                      f"the CPL{why}{_LIST_DROPPED}", "predecessors", raw, local=True)
    elif other != this:
        check.problem("previous_other_model", f"previous CPL Entry ID {previous} is "
                      f"{'/'.join(other)}, not {'/'.join(this)}{_LIST_DROPPED}",
                      "predecessors", raw, local=True)
    elif previous == entry:
        check.problem("predecessor_cycle", "entry lists itself as its previous version"
                      + _LIST_DROPPED, "predecessors", raw, local=True)


def reject_cycles(table: Table, fir: dict[str, FirRecord], row_of: Mapping[str, int],
                  carried: Mapping[str, Sequence[str]] | None = None) -> list[Problem]:
    """Drop the predecessor list of every FIR row on a cycle (unknown), reporting each.

    `carried` adds the predecessor lists of entries kept from the previous snapshot, so a
    new row cannot close a cycle through one of them.
    """
    graph = {**(carried or {}), **{e: r.predecessors or () for e, r in fir.items()}}
    problems = []
    for entry, cycle in sorted(cycle_members(graph).items()):
        record = fir.get(entry)
        if record is None:
            continue
        fir[entry] = replace(record, predecessors=None)
        problems.append(Problem(
            "predecessor_cycle", f"predecessor graph has a cycle: {' -> '.join(cycle)}"
            + _LIST_DROPPED, table.file, table.sheet, row_of.get(entry),
            table.header_of("predecessors"), ", ".join(record.predecessors or ()), entry,
            PREVIOUS_LIST))
    return problems


def join(cpl: dict[str, CplRecord], fir: dict[str, FirRecord]) -> dict[str, CatalogueRecord]:
    """One record per accepted CPL entry, with its FIR row when it has one."""
    return {e: CatalogueRecord(rec, fir.get(e)) for e, rec in cpl.items()}
