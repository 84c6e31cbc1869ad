"""Helpers for tests and benchmarks: write CPL/FIR tables the way publishers do."""
from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path

from fir_sync.columns import CPL, FIR

CPL_HEADERS = [c.header for c in CPL.columns]
FIR_HEADERS = [c.header for c in FIR.columns]


def fake_hash(label: object) -> str:
    """A deterministic 64-hex image hash for a label."""
    return hashlib.sha256(str(label).encode()).hexdigest()


def cpl_row(entry: object, version: str = "00000001", *, manufacturer: str = "106C",
            model: str = "433100AC", hw: str = "0101", status: str = "Active",
            device_type: str = "ESME", image_hash: str | None = None) -> list[object]:
    """One CPL row in canonical column order."""
    return [entry, device_type, manufacturer, model, hw, version,
            image_hash or fake_hash(f"{entry}/{version}"), "4.2", "2.4GHz", status]


def fir_row(entry: object, previous: object = "N/A", *, email: str = "fw@maker.example",
            notes: str = "Fixes.", vendor: str = "Silicon Labs",
            stack: str = "EmberZNet 6.7") -> list[object]:
    """One FIR row in canonical column order."""
    return [entry, email, "+44 20 7946 0000", "1 Meter Way, Leeds LS1 1AA", notes, previous,
            vendor, stack, "2.4 GHz Only"]


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    """Write one sheet per key, rows as given (strings starting '=' become formulas)."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    book.save(path)
    return path


def write_csv(path: Path, rows: Iterable[Sequence[object]]) -> Path:
    """Write rows as a UTF-8 CSV."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


def write_pair(directory: Path, cpl_rows: Sequence[Sequence[object]],
               fir_rows: Sequence[Sequence[object]], *, suffix: str = ".xlsx"
               ) -> tuple[Path, Path]:
    """A CPL and a FIR file with canonical headers and the given rows."""
    cpl = [CPL_HEADERS, *cpl_rows]
    fir = [FIR_HEADERS, *fir_rows]
    if suffix == ".csv":
        return write_csv(directory / "cpl.csv", cpl), write_csv(directory / "fir.csv", fir)
    return (write_xlsx(directory / "cpl.xlsx", {"CPL": cpl}),
            write_xlsx(directory / "fir.xlsx", {"FIR": fir}))
