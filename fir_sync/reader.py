"""Read and validate a CPL and a FIR together into one `ParsedCatalogue`."""
from __future__ import annotations

from pathlib import Path

from fir_sync import columns, validate
from fir_sync.integrity import file_sha256
from fir_sync.parse import Table, read_table
from fir_sync.records import ParsedCatalogue, SourceInfo


def read_catalogue(cpl_path: Path, fir_path: Path) -> ParsedCatalogue:
    """Read both tables, validate every row and the predecessor graph, and join them."""
    cpl_table = read_table(cpl_path, columns.CPL)
    fir_table = read_table(fir_path, columns.FIR)
    cpl, problems = validate.read_cpl(cpl_table)
    rejected = {r.cells.get("cpl_entry_id", "") for r in cpl_table.rows} - set(cpl)
    fir, fir_problems = validate.read_fir(fir_table, cpl, rejected)
    row_of = {r.cells.get("cpl_entry_id", ""): r.number for r in fir_table.rows}
    cycle_problems = validate.reject_cycles(fir_table, fir, row_of)
    all_problems = tuple(problems + fir_problems + cycle_problems)
    rejected_rows = len({(p.file, p.sheet, p.row) for p in all_problems if p.row is not None})
    return ParsedCatalogue(
        records=validate.join(cpl, fir),
        problems=all_problems,
        cpl_source=_source(cpl_path, cpl_table),
        fir_source=_source(fir_path, fir_table),
        fir_rows_accepted=len(fir),
        rejected_rows=rejected_rows,
    )


def _source(path: Path, table: Table) -> SourceInfo:
    return SourceInfo(str(path), table.sheet, file_sha256(path), table.content_sha256,
                      len(table.rows))
