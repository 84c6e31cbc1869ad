"""`fwo demo`: the whole product on the embedded default, end to end, on generated data.

Generates a realistic catalogue and fleet, syncs the catalogue, then dry-runs a whole
campaign against the simulated DCC with a live progress display, and prints the report.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.table import Table

from orchestrator.domain.catalogue import Catalogue
from orchestrator.entrypoints.cli.common import console


def run_demo(out: Path, *, entries: int, devices: int, seed: int, faults: str) -> None:
    """Generate, sync, plan and run a dry-run campaign; summarise each step."""
    from orchestrator.entrypoints.cli.dry_run_cmds import check_faults, print_report, run_dry_run

    check_faults(faults)
    console.rule("[bold]fwo demo: a whole dry-run campaign on the embedded default")
    report = run_dry_run(out, devices=devices, entries=entries, seed=seed, faults=faults,
                         catalogue_dir=None, waves="5%,25%,100%", database=None,
                         progress=True, on_catalogue=_summary)
    print_report(report)
    console.print(f"Data and database kept in {out}")


def _summary(catalogue: Catalogue) -> None:
    entries = list(catalogue)
    table = Table(title=f"Catalogue snapshot {catalogue.snapshot_id}: {len(entries)} entries")
    table.add_column("device type")
    statuses = sorted({e.status for e in entries})
    for status in statuses:
        table.add_column(status, justify="right")
    counts = Counter((e.device_type, e.status) for e in entries)
    for device_type in sorted({e.device_type for e in entries}):
        table.add_row(device_type, *(str(counts[(device_type, s)]) for s in statuses))
    console.print(table)
    known = sum(e.predecessors is not None for e in entries)
    console.print(f"Upgrade graph: {known} entries with predecessor data, "
                  f"{len(entries) - known} legacy entries without (never guessed)")
