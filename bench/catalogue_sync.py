"""Benchmark: sync a generated 10,000-entry CPL and FIR; compare with a bare openpyxl read.

Prints one JSON line. `sync_rows_per_s` covers fetch, integrity hashes, tolerant parsing,
validation, the predecessor-graph checks, the diff and storing the snapshot in SQLite;
`read_validate_rows_per_s` is the same without the database; the baseline is openpyxl
read-only iteration over the same files with nothing done per row.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import openpyxl

from fir_sync.reader import read_catalogue
from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.service import catalogue as service
from simulators.generate import generate


def bare_openpyxl_rows(*paths: Path) -> int:
    """Iterate every row of every sheet, values only: the floor of reading a workbook."""
    rows = 0
    for path in paths:
        book = openpyxl.load_workbook(path, read_only=True, data_only=False)
        for sheet in book.worksheets:
            for _ in sheet.iter_rows(values_only=True):
                rows += 1
        book.close()
    return rows


def timed(func, *args):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gen"
        generate(out, entries=args.entries, devices=0, seed=args.seed)
        cpl, fir = out / "cpl.xlsx", out / "fir.xlsx"
        baseline_rows, baseline_s = timed(bare_openpyxl_rows, cpl, fir)
        parsed, parse_s = timed(read_catalogue, cpl, fir)
        rows = parsed.cpl_source.rows + parsed.fir_source.rows
        app = bootstrap(Settings(data_dir=Path(tmp) / "data"))
        command = service.SyncCatalogue(str(cpl), str(fir))
        result, sync_s = timed(service.sync_catalogue, command, app.uow(), app.fetch_options())
        _, resync_s = timed(service.sync_catalogue, command, app.uow(), app.fetch_options())
        app.close()
    print(json.dumps({
        "bench": "catalogue_sync", "entries": result.cpl_entries, "rows": rows,
        "problems": len(result.problems),
        "sync_seconds": round(sync_s, 3), "sync_rows_per_s": round(rows / sync_s),
        "read_validate_seconds": round(parse_s, 3),
        "read_validate_rows_per_s": round(rows / parse_s),
        "resync_unchanged_seconds": round(resync_s, 3),
        "baseline": "bare openpyxl read-only iteration of the same files",
        "baseline_rows": baseline_rows, "baseline_seconds": round(baseline_s, 3),
        "baseline_rows_per_s": round(baseline_rows / baseline_s),
        "ratio_sync_to_baseline": round((rows / sync_s) / (baseline_rows / baseline_s), 3),
    }))


if __name__ == "__main__":
    main()
