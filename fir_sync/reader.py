"""Read and validate a CPL and a FIR together into one `ParsedCatalogue`."""
from __future__ import annotations

from pathlib import Path

from fir_sync import carry, columns, validate
from fir_sync.integrity import file_sha256
from fir_sync.parse import DEFAULT_LIMITS, Limits, Table, read_table
from fir_sync.records import (
    ROW,
    WHOLE_ENTRY,
    CarriedEntry,
    CplRecord,
    FirRecord,
    ParsedCatalogue,
    Problem,
    SourceInfo,
)

Previous = carry.Previous


def read_catalogue(cpl_path: Path, fir_path: Path, previous: Previous | None = None,
                   *, csv_encoding: str | None = None,
                   limits: Limits = DEFAULT_LIMITS) -> ParsedCatalogue:
    """Read both tables, validate every row and the predecessor graph, and join them.

    `previous` is the catalogue this one replaces, as `{entry_id: flat fields}`: an entry
    whose new CPL row is rejected but which `previous` holds is kept whole, and one whose
    FIR row is rejected whole keeps its previous FIR data (`ParsedCatalogue.carried`); other
    rows may still name a kept entry as a previous version.
    """
    cpl_table = read_table(cpl_path, columns.CPL, encoding=csv_encoding, limits=limits)
    fir_table = read_table(fir_path, columns.FIR, encoding=csv_encoding, limits=limits)
    cpl, fir, problems, carried, fir_accepted = _validate(cpl_table, fir_table, previous or {})
    rejected_rows = len({(p.file, p.sheet, p.row) for p in problems
                         if p.row is not None and p.scope == ROW})
    return ParsedCatalogue(
        records=validate.join(cpl, fir),
        problems=tuple(problems),
        cpl_source=_source(cpl_path, cpl_table),
        fir_source=_source(fir_path, fir_table),
        fir_rows_accepted=fir_accepted,
        rejected_rows=rejected_rows,
        carried=carried,
    )


def _validate(cpl_table: Table, fir_table: Table, previous: Previous) -> tuple[
        dict[str, CplRecord], dict[str, FirRecord], list[Problem],
        dict[str, CarriedEntry], int]:
    cpl, problems = validate.read_cpl(cpl_table)
    rejected = validate.rejected_ids(cpl_table, cpl)
    carried = carry.carried_entries(rejected, problems, previous)
    fir, fir_problems = validate.read_fir(fir_table, cpl, rejected, {
        e: (c.fields["manufacturer"], c.fields["model"]) for e, c in carried.items()})
    accepted = len(fir)
    carried |= carry.carry_fir_data(validate.rejected_ids(fir_table, fir), cpl, fir,
                                    fir_problems, previous)
    whole = {e: c.fields.get("predecessors") or () for e, c in carried.items()
             if c.part == WHOLE_ENTRY}
    cycle_problems = validate.reject_cycles(fir_table, fir, _row_of(fir_table), whole)
    return cpl, fir, problems + fir_problems + cycle_problems, carried, accepted


def _row_of(table: Table) -> dict[str, int]:
    return {r.cells.get("cpl_entry_id", ""): r.number for r in table.rows}


def _source(path: Path, table: Table) -> SourceInfo:
    return SourceInfo(str(path), table.sheet, file_sha256(path), table.content_sha256,
                      len(table.rows))
