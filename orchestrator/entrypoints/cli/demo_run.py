"""`fwo demo`: the whole product on the embedded default, end to end, on generated data.

This module (with `sim_cmds`) is the only CLI module allowed to import `simulators`.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from rich.table import Table

from orchestrator.entrypoints.cli.common import app_from_env, console
from orchestrator.domain.catalogue import Catalogue
from orchestrator.service import catalogue as service


def run_demo(out: Path, *, entries: int, devices: int, seed: int) -> None:
    """Generate a catalogue and fleet, sync them into the catalogue, summarise."""
    from simulators.generate import generate

    console.rule("[bold]fwo demo")
    generate(out, entries=entries, devices=devices, seed=seed)
    console.print(f"Generated a synthetic CPL, FIR and fleet of {devices} devices in {out}")
    application = app_from_env()
    command = service.SyncCatalogue(str(out / "cpl.xlsx"), str(out / "fir.xlsx"))
    result = service.sync_catalogue(command, application.uow(), application.fetch_options())
    data = result.to_dict()
    console.print(f"Catalogue snapshot {result.snapshot_id}: {result.cpl_entries} CPL entries, "
                  f"{result.fir_entries} FIR rows, +{data['added']} -{data['removed']} "
                  f"~{data['changed']}, {len(result.problems)} problem(s)")
    catalogue = service.current_catalogue(application.uow())
    _summary(catalogue)
    console.print(f"Database: {application.engine.url.render_as_string(hide_password=True)}")


def _summary(catalogue: Catalogue) -> None:
    entries = list(catalogue)
    table = Table(title="Catalogue by device type and status")
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
    vendors = Counter(e.zigbee_chipset_vendor for e in entries if e.zigbee_chipset_vendor)
    console.print("ZigBee exposure: " + ", ".join(f"{v} {n}" for v, n in vendors.most_common()))
