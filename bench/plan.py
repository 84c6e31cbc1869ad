"""Benchmark: plan a generated fleet against a 5,000-entry catalogue; print one JSON line.

`plan_s` is pure planning (a cold Planner over every device in memory, memo included);
`floor_devices_per_s` is one dictionary look-up per device over the same devices (the least
any planner must do); `naive_devices_per_s` is a per-device networkx shortest path (current
entry found by hash, latest target from a precomputed table) on a subset. `import_s` is
`fwo fleet import` of the fleet CSV into SQLite; `load_s` reads the devices back;
`summary_s` builds the plan report; `store_s` writes the plan and one row per device.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx

from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.domain.catalogue import Catalogue, version_key
from orchestrator.domain.fleet import Device
from orchestrator.domain.plan_report import DevicePlan, summarise
from orchestrator.domain.planner import Planner
from orchestrator.service import catalogue as catalogue_service
from orchestrator.service import fleet as fleet_service
from orchestrator.service.fleet import gc_paused
from simulators.generate import (
    FLEET_COLUMNS,
    generate_catalogue,
    iter_fleet_rows,
    write_cpl,
    write_fir,
)
from simulators.generate.catalogue import Catalogue as Generated


def write_fleet(generated: Generated, devices: int, seed: int, path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FLEET_COLUMNS)
        writer.writerows(iter_fleet_rows(generated, devices=devices, seed=seed))


def timed(func: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - start


def plan_all(catalogue: Catalogue, devices: list[Device]) -> list[DevicePlan]:
    return Planner(catalogue).plan_all(devices)


def floor(catalogue: Catalogue, devices: list[Device]) -> int:
    lookup = {e.image_hash: e for e in catalogue}
    get = lookup.get
    return sum(1 for d in devices if get(d.firmware_hash) is not None)


def naive(catalogue: Catalogue, devices: list[Device]) -> float:
    """Devices per second of a per-device networkx shortest path (no memoisation)."""
    graph = nx.DiGraph()
    graph.add_nodes_from(e.cpl_entry_id for e in catalogue)
    graph.add_edges_from((p, e.cpl_entry_id) for e in catalogue if e.active
                         for p in e.predecessors or ())
    latest: dict[tuple[str, str, str], str] = {}
    for e in catalogue:
        best = latest.get(e.lineage_key)
        if e.active and (best is None or version_key(e.firmware_version) >= version_key(
                catalogue.get(best).firmware_version)):  # type: ignore[union-attr]
            latest[e.lineage_key] = e.cpl_entry_id
    by_hash = {e.image_hash: e for e in catalogue}
    start = time.perf_counter()
    for d in devices:
        current = by_hash.get(d.firmware_hash)
        target = latest.get(current.lineage_key) if current else None
        if current is None or target is None:
            continue
        try:
            nx.shortest_path(graph, current.cpl_entry_id, target)
        except nx.NetworkXNoPath:
            pass
    return len(devices) / (time.perf_counter() - start)


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * resource.getpagesize() / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--devices", type=int, default=1_000_000)
    parser.add_argument("--naive-devices", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    generated = generate_catalogue(entries=args.entries, seed=args.seed, image_size=64)
    with tempfile.TemporaryDirectory() as tmp:
        fleet_csv = Path(tmp) / "fleet.csv"
        _, generate_s = timed(write_fleet, generated, args.devices, args.seed, fleet_csv)
        app = bootstrap(Settings(data_dir=Path(tmp) / "data"))
        catalogue = synced(app, generated, Path(tmp))
        imported, import_s = timed(fleet_service.import_fleet, app.uow(), fleet_csv)
        with app.uow() as uow, gc_paused():  # as `fwo plan` loads them
            devices, load_s = timed(lambda: list(uow.fleet.iter_devices()))
        n = len(devices)
        rss_before = rss_mb()
        plans, plan_s = timed(plan_all, catalogue, devices)
        rss_after = rss_mb()
        _, floor_s = timed(floor, catalogue, devices)
        with gc_paused():
            summary, summary_s = timed(summarise, plans, catalogue)
        with app.uow() as uow, gc_paused():
            _, store_s = timed(uow.plans.add, _record(catalogue, n), plans)
        naive_rate = naive(catalogue, devices[:args.naive_devices])
        app.close()
    print(json.dumps({
        "entries": len(catalogue), "devices": n, "imported": imported.imported,
        "plan_s": round(plan_s, 3), "devices_per_s": round(n / plan_s),
        "floor_devices_per_s": round(n / floor_s), "naive_devices_per_s": round(naive_rate),
        "naive_devices": min(n, args.naive_devices),
        "speedup_vs_naive": round(n / plan_s / naive_rate, 1),
        "plan_rss_delta_mb": round(rss_after - rss_before),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "import_s": round(import_s, 2), "import_rows_per_s": round(n / import_s),
        "load_s": round(load_s, 2), "summary_s": round(summary_s, 2),
        "store_s": round(store_s, 2), "generate_csv_s": round(generate_s, 2),
        "by_status": summary["by_status"],
    }))


def synced(app: Any, generated: Generated, directory: Path) -> Catalogue:
    """Write the CPL and FIR workbooks, sync them, and load the catalogue as planning does."""
    cpl, fir = directory / "cpl.xlsx", directory / "fir.xlsx"
    write_cpl(generated, cpl)
    write_fir(generated, fir)
    command = catalogue_service.SyncCatalogue(str(cpl), str(fir))
    catalogue_service.sync_catalogue(command, app.uow(), app.fetch_options())
    return catalogue_service.current_catalogue(app.uow())


def _record(catalogue: Catalogue, devices: int) -> dict[str, Any]:
    return {"created_at": dt.datetime.now(dt.UTC), "snapshot_id": catalogue.snapshot_id,
            "target": "latest", "selection": {}, "policy": {}, "summary": {}, "entries": [],
            "device_count": devices, "stale": False}


if __name__ == "__main__":
    main()
