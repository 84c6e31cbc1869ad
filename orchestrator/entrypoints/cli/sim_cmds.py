"""`fwo sim ...`: simulators and synthetic data.

Production code never imports `simulators` at module level: each command imports it inside
its body, so `fwo` starts (and works) without loading any simulator code.
"""
from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from simulators.generate import Manifest

app = typer.Typer(help="Simulators and synthetic test data.", no_args_is_help=True)
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
        _fail(str(err))
    except OSError as err:
        _fail(f"cannot write to {out}: {err.strerror or err}")
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


def _fail(message: str) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)
