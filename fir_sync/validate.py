"""Turn located CPL and FIR rows into records, collecting every problem precisely.

A row with a problem is rejected and reported; the rest is accepted. Graph checks (unknown or
foreign predecessors, cycles) run after both tables are read.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from fir_sync import values
from fir_sync.graph import cycle_members
from fir_sync.parse import Row, Table
from fir_sync.records import CatalogueRecord, CplRecord, FirRecord, Problem

T = TypeVar("T")


@dataclass
class _RowCheck:
    """Collects the problems of one row while its cells are normalised."""

    table: Table
    row: Row
    problems: list[Problem] = field(default_factory=list)

    def problem(self, code: str, reason: str, column: str | None, value: str | None) -> None:
        header = self.table.header_of(column) if column else None
        self.problems.append(Problem(code, reason, self.table.file, self.table.sheet,
                                     self.row.number, header, value))

    def take(self, column: str, convert: Callable[[str], T], code: str) -> T | None:
        raw = self.row.cells.get(column, "")
        if column in self.row.formulas:
            return None
        try:
            return convert(raw)
        except values.ValueProblem as err:
            self.problem(code, str(err), column, raw)
            return None

    def text(self, column: str, *, required: bool = False) -> str:
        raw = self.row.cells.get(column, "")
        if required and not raw:
            self.problem("missing_value", "required value is empty", column, raw)
        return raw

    def formulas(self) -> None:
        for column in self.row.formulas:
            self.problem("formula", "formulas are not accepted (never evaluated); "
                         "publish the value", column, self.row.cells.get(column, column))


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
        if record is not None and not check.problems:
            records[record.cpl_entry_id] = record
        problems.extend(check.problems)
    return records, problems


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
    fields = dict(
        device_type=check.take("device_type", values.device_type, "unknown_device_type"),
        manufacturer=values.code(check.text("manufacturer", required=True)),
        model=values.code(check.text("model", required=True)),
        hardware_version=values.code(check.text("hardware_version")),
        firmware_version=check.text("firmware_version", required=True),
        image_hash=check.take("image_hash", values.image_hash, "malformed_hash"),
        gbcs_version=check.text("gbcs_version"),
        han_variant=check.text("han_variant"),
        status=check.take("status", values.status, "unknown_status"),
    )
    if entry is None or any(v is None for v in fields.values()):
        return None
    return CplRecord(entry, extra=tuple(sorted(check.row.extra.items())), **fields)  # type: ignore[arg-type]


def read_fir(table: Table, cpl: dict[str, CplRecord],
             cpl_rejected: set[str]) -> tuple[dict[str, FirRecord], list[Problem]]:
    """Accepted FIR records by entry ID (row checks only), and the problems found."""
    records: dict[str, FirRecord] = {}
    rows: dict[str, int] = {}
    problems: list[Problem] = []
    for row in table.rows:
        check = _RowCheck(table, row)
        record = _fir_record(check)
        if record is not None:
            _check_fir_row(check, record, cpl, cpl_rejected, rows)
            if record.cpl_entry_id in rows:  # ambiguous predecessor data: reject both rows
                records.pop(record.cpl_entry_id, None)
            rows.setdefault(record.cpl_entry_id, row.number)
        if record is not None and not check.problems:
            records[record.cpl_entry_id] = record
        problems.extend(check.problems)
    return records, problems


def _fir_record(check: _RowCheck) -> FirRecord | None:
    check.formulas()
    entry = check.take("cpl_entry_id", values.entry_id, "malformed_entry_id")
    previous = check.take("predecessors", _predecessors_or_problem, "malformed_predecessors")
    if entry is None:
        return None
    preds = None if previous is None or previous == "unknown" else previous
    return FirRecord(
        entry, check.text("contact_email"), check.text("contact_telephone"),
        check.text("contact_address"), check.text("release_notes"), preds,  # type: ignore[arg-type]
        check.text("zigbee_chipset_vendor"), check.text("zigbee_stack_version"),
        check.text("zigbee_band_join_option"), tuple(sorted(check.row.extra.items())))


def _predecessors_or_problem(text: str) -> tuple[str, ...] | str:
    parsed = values.predecessor_list(text)
    return "unknown" if parsed is None else parsed


def _check_fir_row(check: _RowCheck, record: FirRecord, cpl: dict[str, CplRecord],
                   cpl_rejected: set[str], rows: dict[str, int]) -> None:
    entry = record.cpl_entry_id
    if entry in rows:
        check.problem("duplicate_fir_row", f"FIR already has a row for this entry on row "
                      f"{rows[entry]}; both rows rejected", "cpl_entry_id", entry)
    elif entry not in cpl:
        why = ("its CPL row was rejected" if entry in cpl_rejected
               else "no such CPL Entry ID on the CPL")
        check.problem("fir_unknown_entry", f"FIR row for an unknown CPL entry: {why}",
                      "cpl_entry_id", entry)
        return
    for previous in record.predecessors or ():
        _check_predecessor(check, cpl[entry], previous, cpl)


def _check_predecessor(check: _RowCheck, this: CplRecord, previous: str,
                       cpl: dict[str, CplRecord]) -> None:
    raw = check.row.cells.get("predecessors", "")
    other = cpl.get(previous)
    if other is None:
        check.problem("previous_not_on_cpl", f"previous CPL Entry ID {previous} is not on "
                      "the CPL", "predecessors", raw)
    elif (other.manufacturer, other.model) != (this.manufacturer, this.model):
        check.problem("previous_other_model", f"previous CPL Entry ID {previous} is "
                      f"{other.manufacturer}/{other.model}, not {this.manufacturer}/"
                      f"{this.model}", "predecessors", raw)
    elif previous == this.cpl_entry_id:
        check.problem("predecessor_cycle", "entry lists itself as its previous version",
                      "predecessors", raw)


def reject_cycles(table: Table, fir: dict[str, FirRecord],
                  row_of: dict[str, int]) -> list[Problem]:
    """Remove FIR rows whose predecessor lists form a cycle, reporting each."""
    graph = {e: r.predecessors or () for e, r in fir.items()}
    problems = []
    for entry, cycle in sorted(cycle_members(graph).items()):
        record = fir.pop(entry)
        problems.append(Problem(
            "predecessor_cycle", f"predecessor graph has a cycle: {' -> '.join(cycle)}",
            table.file, table.sheet, row_of.get(entry), table.header_of("predecessors"),
            ", ".join(record.predecessors or ())))
    return problems


def join(cpl: dict[str, CplRecord], fir: dict[str, FirRecord]) -> dict[str, CatalogueRecord]:
    """One record per accepted CPL entry, with its FIR row when it has one."""
    return {e: CatalogueRecord(rec, fir.get(e)) for e, rec in cpl.items()}
