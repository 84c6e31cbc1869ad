"""Benchmark: a dry run's CPU per device-step against the floor of the work it cannot avoid.

Prints one JSON line. The dry run (SQLite, the in-process simulated DSP, faults as given)
runs on data generated beforehand (not timed); its process CPU time is divided by the
device-steps it verified (`cpu_ms_per_step`). While it runs, the bench counts the operations
no implementation can skip: ECDSA signatures and verifications (ours, the simulated DCC's and
the GBCS pre-command's), XML documents parsed, and database commits. In the same run it times
each one alone: an ECDSA P-256 sign, a verify plus the inclusive C14N and SHA-256 of a typical
DCC response, parsing that response, and a one-row SQLite commit in WAL mode. The floor is
sum(count x unit cost) / device-steps (`floor_ms_per_step`), and `fraction_of_floor` =
floor / ours (1.0 = at the floor).

Usage: python bench/dry_run.py [--devices 1000] [--faults none]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from lxml import etree
from sqlalchemy import event
from sqlalchemy.engine import Engine

from duis import keys, respond, xmlsafe
from duis.testing.pki import Pki
from duis.testing.samples import sample_responses

PACKAGES = {"duis", "orchestrator", "simulators"}


def per_call_us(func: Callable[[], object], seconds: float = 0.5) -> float:
    """Microseconds per call of `func`, after a warm-up."""
    func()
    n, start = 0, time.process_time()
    while time.process_time() - start < seconds:
        func()
        n += 1
    return (time.process_time() - start) / n * 1e6


def unit_costs(work: Path) -> dict[str, float]:
    """The floor's unit costs, measured now (µs)."""
    pki = Pki.generate()
    key = ec.generate_private_key(ec.SECP256R1())
    message = b"x" * 600  # about a SignedInfo
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    public = key.public_key()
    response = respond.sign_response(sample_responses()["warnings"], pki.dcc_xml.identity)
    root = etree.fromstring(response)

    def verify() -> None:
        public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        hashlib.sha256(etree.tostring(root, method="c14n")).digest()

    db = sqlite3.connect(work / "floor.sqlite3", isolation_level=None)
    db.execute("pragma journal_mode=wal")
    db.execute("pragma synchronous=normal")
    db.execute("create table t (id integer primary key, v integer)")
    db.execute("insert into t values (1, 0)")

    def commit() -> None:
        db.execute("begin")
        db.execute("update t set v = v + 1 where id = 1")
        db.execute("commit")

    costs = {"sign": per_call_us(lambda: key.sign(message, ec.ECDSA(hashes.SHA256()))),
             "verify": per_call_us(verify),
             "parse": per_call_us(lambda: etree.fromstring(response)),
             "commit": per_call_us(commit)}
    db.close()
    return costs


class Counting:
    """Counts the unavoidable operations while a dry run runs."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._undo: list[Callable[[], None]] = []

    def wrap(self, module: Any, name: str, kind: str) -> None:
        original = getattr(module, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.counts[kind] += 1
            return original(*args, **kwargs)

        setattr(module, name, counted)
        self._undo.append(lambda: setattr(module, name, original))

    def __enter__(self) -> Self:
        import orchestrator.entrypoints.cli.dry_run_cmds  # noqa: F401 - load what it uses
        import simulators.dsp.engine  # noqa: F401

        watched = {keys.raw_ecdsa_sign: "sign", keys.raw_ecdsa_verify: "verify",
                   xmlsafe.parse_xml: "parse"}
        for module in list(sys.modules.values()):  # every module that imported one of them
            for name in ("raw_ecdsa_sign", "raw_ecdsa_verify", "parse_xml"):
                found = getattr(module, name, None)
                if found in watched and module.__name__.split(".")[0] in PACKAGES:
                    self.wrap(module, name, watched[found])
        event.listen(Engine, "commit", self._commit)
        return self

    def _commit(self, connection: Any) -> None:
        self.counts["commit"] += 1

    def __exit__(self, *exc: object) -> None:
        event.remove(Engine, "commit", self._commit)
        for undo in reversed(self._undo):
            undo()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--faults", default="none")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    from orchestrator.entrypoints.cli.dry_run_cmds import run_dry_run
    from simulators.generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = work / "data"
        generate(data, entries=args.entries, devices=args.devices, seed=args.seed)
        with Counting() as counting:
            cpu, wall = time.process_time(), time.perf_counter()
            report = run_dry_run(work / "run", devices=args.devices, entries=args.entries,
                                 seed=args.seed, faults=args.faults, catalogue_dir=data,
                                 waves="100%", database=None, progress=False)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        costs = unit_costs(work)
    steps = report["device_steps_verified"]
    counts = dict(counting.counts)
    floor_us = sum(counts.get(kind, 0) * cost for kind, cost in costs.items())
    cpu_ms = cpu * 1000 / steps
    floor_ms = floor_us / 1000 / steps
    print(json.dumps({
        "bench": "dry_run", "devices": args.devices, "faults": args.faults,
        "device_steps": steps, "wall_seconds": round(wall, 2), "cpu_seconds": round(cpu, 2),
        "cpu_ms_per_step": round(cpu_ms, 3), "floor_ms_per_step": round(floor_ms, 3),
        "fraction_of_floor": round(floor_ms / cpu_ms, 3),
        "per_step_counts": {k: round(v / steps, 2) for k, v in sorted(counts.items())},
        "unit_cost_us": {k: round(v, 1) for k, v in costs.items()},
        "bricked": report.get("bricked")}))


if __name__ == "__main__":
    main()
