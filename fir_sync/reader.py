"""Read and validate a CPL and a FIR together into one `ParsedCatalogue`."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fir_sync import columns, validate
from fir_sync.integrity import file_sha256
from fir_sync.parse import Table, read_table
from fir_sync.records import ROW, CarriedEntry, ParsedCatalogue, Problem, SourceInfo

Previous = Mapping[str, Mapping[str, Any]]


def read_catalogue(cpl_path: Path, fir_path: Path, previous: Previous | None = None
                   ) -> ParsedCatalogue:
    """Read both tables, validate every row and the predecessor graph, and join them.

    `previous` is the catalogue this one replaces, as `{entry_id: flat fields}`: an entry
    whose new CPL row is rejected but which `previous` holds is carried over unchanged
    (`ParsedCatalogue.carried`), and other rows may still name it as a previous version.
    """
    cpl_table = read_table(cpl_path, columns.CPL)
    fir_table = read_table(fir_path, columns.FIR)
    cpl, problems = validate.read_cpl(cpl_table)
    rejected = validate.rejected_ids(cpl_table, cpl)
    carried = carried_entries(rejected, problems, previous or {})
    fir, fir_problems = validate.read_fir(fir_table, cpl, rejected, {
        e: (c.fields["manufacturer"], c.fields["model"]) for e, c in carried.items()})
    cycle_problems = validate.reject_cycles(fir_table, fir, _row_of(fir_table), {
        e: c.fields.get("predecessors") or () for e, c in carried.items()})
    all_problems = tuple(problems + fir_problems + cycle_problems)
    rejected_rows = len({(p.file, p.sheet, p.row) for p in all_problems
                         if p.row is not None and p.scope == ROW})
    return ParsedCatalogue(
        records=validate.join(cpl, fir),
        problems=all_problems,
        cpl_source=_source(cpl_path, cpl_table),
        fir_source=_source(fir_path, fir_table),
        fir_rows_accepted=len(fir),
        rejected_rows=rejected_rows,
        carried=carried,
    )


def carried_entries(rejected: set[str], problems: list[Problem], previous: Previous
                    ) -> dict[str, CarriedEntry]:
    """Entries whose new CPL row was rejected, kept as `previous` held them."""
    return {e: CarriedEntry(e, dict(previous[e]),
                            tuple(p for p in problems if p.cpl_entry_id == e))
            for e in sorted(rejected) if e in previous}


def _row_of(table: Table) -> dict[str, int]:
    return {r.cells.get("cpl_entry_id", ""): r.number for r in table.rows}


def _source(path: Path, table: Table) -> SourceInfo:
    return SourceInfo(str(path), table.sheet, file_sha256(path), table.content_sha256,
                      len(table.rows))
