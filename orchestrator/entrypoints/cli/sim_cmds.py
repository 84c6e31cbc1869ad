"""`fwo sim ...`: simulators and synthetic data.

Production code never imports `simulators` at module level: each command imports it inside
its body, so `fwo` starts (and works) without loading any simulator code.
"""
from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.config import DUIS_XSD_OFF, Settings
from orchestrator.entrypoints.cli.errors import fail
from orchestrator.errors import OrchestratorError

if TYPE_CHECKING:
    from simulators.fleet.workspace import FleetWorkspace
    from simulators.generate import Manifest

app = typer.Typer(help="Simulators and synthetic test data.", no_args_is_help=True)
fleet_app = typer.Typer(help="Inspect and edit simulated devices (kept in fleet_state.json).",
                        no_args_is_help=True)
app.add_typer(fleet_app, name="fleet")
CatalogueOpt = Annotated[Path, typer.Option(
    "--catalogue", help="Generated directory (cpl.xlsx, fir.xlsx, fleet.csv, keys/).")]
console = Console()
err_console = Console(stderr=True)


@app.callback()
def sim() -> None:
    """Simulators and synthetic test data."""


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Directory to write into (created).")],
    entries: Annotated[int, typer.Option(help="CPL entries to generate (>= 1).")] = 1000,
    devices: Annotated[int, typer.Option(help="Fleet devices to generate (>= 0).")] = 10_000,
    seed: Annotated[int, typer.Option(help="Seed: the same seed gives the same data.")] = 1,
    image_size: Annotated[int, typer.Option(help="Manufacturer Image size in bytes.")] = 4096,
    json_out: Annotated[bool, typer.Option("--json", help="Print the manifest as JSON.")] = False,
) -> None:
    """Write synthetic CPL/FIR workbooks, images, a fleet CSV, test keys and a manifest."""
    from simulators.generate import GeneratorError
    from simulators.generate import generate as generate_data

    started = time.perf_counter()
    try:
        with nullcontext() if json_out else console.status("Generating synthetic data..."):
            manifest = generate_data(out, entries=entries, devices=devices, seed=seed,
                                     image_size=image_size)
    except GeneratorError as err:
        fail(str(err))
    except OSError as err:
        fail(f"cannot write to {out}: {err.strerror or err}")
    if json_out:
        sys.stdout.write(manifest.to_json())
        return
    _print_summary(manifest, out, time.perf_counter() - started)


def _print_summary(manifest: Manifest, out: Path, seconds: float) -> None:
    counts = manifest.counts
    table = Table(title=f"Generated into {out} in {seconds:.1f} s (seed {manifest.seed})")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("CPL entries", counts.entries), ("FIR rows", counts.fir_rows),
        ("manufacturers", counts.manufacturers), ("models", counts.models),
        ("lineages", counts.lineages), ("devices", counts.devices),
        ("devices on unknown firmware", counts.unknown_firmware_devices),
        ("files", len(manifest.files) + 1),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    console.print("cpl.xlsx  fir.xlsx  fleet.csv  images/  keys/  manifest.json", style="dim")


@app.command()
def dsp(
    catalogue: CatalogueOpt,
    port: Annotated[int, typer.Option(help="TCP port to listen on.")] = 8700,
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    receiver: Annotated[str | None, typer.Option(
        help="URL to POST responses and alerts to (default: keep them, GET /messages).")] = None,
    faults: Annotated[str, typer.Option(
        help="Fault profile: none, default, or one fault (e.g. comms_failure[:rate]).")] = "none",
    speed: Annotated[float, typer.Option(help="Simulated seconds per wall-clock second.")] = 60.0,
    seed: Annotated[int, typer.Option(help="Seed of the fault draws.")] = 0,
    schema: Annotated[Path | None, typer.Option(
        "--schema", "--xsd",
        help="The DCC's DUIS XSD to validate requests against (default: FWO_DUIS_XSD; "
             "unset: the strict DUIS parser only).")] = None,
    stepped: Annotated[bool, typer.Option(
        "--stepped", help="Do not run in real time; step with POST /advance.")] = False,
    replay_scope: Annotated[str, typer.Option(
        help="Whose RequestID counters must strictly increase: target (per originator and "
             "target, as devices keep them) or originator (above any to any target).")
    ] = "target",
    latency_ms: Annotated[float, typer.Option(
        help="Wall-clock delay added to every synchronous answer (a distant DSP).")] = 0.0,
    delivery_lanes: Annotated[int, typer.Option(
        help="Messages posted to the receiver at once, each device's in order (1 to 64).")
    ] = 8,
) -> None:
    """Run the simulated DCC DSP as an HTTP service: POST signed DUIS XML to /duis."""
    import uvicorn

    from simulators import SimulatorError, build_simulation
    from simulators.dsp.delivery import MAX_LANES
    from simulators.dsp.receivers import HttpReceiver
    from simulators.service import create_app

    if latency_ms < 0:
        fail(f"--latency-ms {latency_ms:g}: a delay cannot be negative")
    if not 1 <= delivery_lanes <= MAX_LANES:
        fail(f"--delivery-lanes {delivery_lanes}: give 1 to {MAX_LANES}")
    xsd = schema or _configured_xsd()
    try:
        sim = build_simulation(catalogue, faults=faults, seed=seed, speed=speed,
                               receiver=HttpReceiver(receiver) if receiver else None,
                               schema_path=xsd, replay_scope=replay_scope)
    except SimulatorError as err:
        fail(str(err))
    if xsd is None:
        err_console.print(DUIS_XSD_OFF, highlight=False, soft_wrap=True)
    err_console.print(f"Simulated DSP: {len(sim.fleet):,} devices, faults {faults}, "
                      f"speed x{speed:g}, POST http://{host}:{port}/duis", highlight=False)
    uvicorn.run(create_app(sim, real_time=not stepped, latency_s=latency_ms / 1000,
                           delivery_lanes=delivery_lanes),
                host=host, port=port, log_level="info")


def _configured_xsd() -> Path | None:
    """FWO_DUIS_XSD, the DCC's DUIS schema file, if set."""
    try:
        xsd = Settings.from_env().duis_xsd
    except OrchestratorError as err:
        fail(str(err))
    return Path(xsd) if xsd else None


def _workspace(catalogue: Path) -> FleetWorkspace:
    from simulators import SimulatorError
    from simulators.fleet.workspace import FleetWorkspace

    try:
        return FleetWorkspace.open(catalogue)
    except SimulatorError as err:
        fail(str(err))


def _edit(catalogue: Path, device_id: str, json_out: bool, **values: object) -> None:
    from simulators import SimulatorError

    workspace = _workspace(catalogue)
    try:
        workspace.edit_device(device_id, **values)
    except SimulatorError as err:
        fail(str(err))
    _show_device(workspace, device_id, json_out)


def _show_device(workspace: FleetWorkspace, device_id: str, json_out: bool) -> None:
    from simulators import SimulatorError

    try:
        view = workspace.show(device_id, datetime.now(UTC)).to_dict()
    except SimulatorError as err:
        fail(str(err))
    if json_out:
        sys.stdout.write(json.dumps(view, indent=2) + "\n")
        return
    table = Table(title=f"Simulated device {view['device_id']}", show_header=False)
    for name, value in view.items():
        table.add_row(name, "-" if value is None else str(value))
    console.print(table)


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@fleet_app.command("show")
def fleet_show(device: str, catalogue: CatalogueOpt, json_out: JsonOpt = False) -> None:
    """Show one simulated device: running entry, status, hub, offline, bricked."""
    _show_device(_workspace(catalogue), device, json_out)


@fleet_app.command("set-entry")
def fleet_set_entry(device: str, entry: str, catalogue: CatalogueOpt,
                    json_out: JsonOpt = False) -> None:
    """Put a device on a CPL entry of its model (as if it had been upgraded to it)."""
    _edit(catalogue, device, json_out, running_entry=entry)


@fleet_app.command("offline")
def fleet_offline(device: str, catalogue: CatalogueOpt,
                  online: Annotated[bool, typer.Option("--online", help="Bring it back.")] = False,
                  json_out: JsonOpt = False) -> None:
    """Take a device offline (it stops answering) or bring it back with --online."""
    _edit(catalogue, device, json_out, offline=not online)


@fleet_app.command("set-status")
def fleet_set_status(device: str, status: str, catalogue: CatalogueOpt,
                     json_out: JsonOpt = False) -> None:
    """Change a device's SMI status (Commissioned, Suspended, ...)."""
    _edit(catalogue, device, json_out, status=status)


@fleet_app.command("repair")
def fleet_repair(device: str, catalogue: CatalogueOpt, json_out: JsonOpt = False) -> None:
    """Un-brick a device (a site visit replaced it); it keeps its running entry."""
    _edit(catalogue, device, json_out, bricked=False)


@fleet_app.command("order-sensitive")
def fleet_order_sensitive(
    manufacturer: str, model: str, catalogue: CatalogueOpt,
    off: Annotated[bool, typer.Option("--off", help="Mark the model NOT order-sensitive.")]
    = False,
) -> None:
    """Mark a model order-sensitive (out-of-order activations brick it), or not with --off."""
    from simulators import SimulatorError

    workspace = _workspace(catalogue)
    try:
        workspace.set_order_sensitive(manufacturer, model, not off)
    except SimulatorError as err:
        fail(str(err))
    state = "not order-sensitive" if off else "order-sensitive"
    console.print(f"{manufacturer.upper()}/{model.upper()} is now {state}")


@fleet_app.command("reset")
def fleet_reset(catalogue: CatalogueOpt) -> None:
    """Forget every edit (delete fleet_state.json)."""
    _workspace(catalogue).reset()
    console.print("fleet edits cleared")
