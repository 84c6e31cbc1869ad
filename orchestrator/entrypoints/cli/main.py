"""The `fwo` command line: one Typer app with a sub-app per command group."""
from __future__ import annotations

import typer

from orchestrator.entrypoints.cli import (
    campaign_cmds,
    catalogue_cmds,
    device_cmds,
    dry_run_cmds,
    duis_cmds,
    fleet_cmds,
    ops_cmds,
    plan_cmds,
    run_cmds,
    sim_cmds,
    system_cmds,
)

app = typer.Typer(
    name="fwo",
    help="Supplier-side firmware rollout orchestrator for GB smart meters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
system_cmds.register(app)
app.add_typer(catalogue_cmds.app, name="catalogue")
app.add_typer(fleet_cmds.app, name="fleet")
app.add_typer(device_cmds.app, name="device")
app.add_typer(campaign_cmds.app, name="campaign")
plan_cmds.register(app)
dry_run_cmds.register(app)
app.add_typer(duis_cmds.image_app, name="image")
app.add_typer(duis_cmds.duis_app, name="duis")
app.add_typer(sim_cmds.app, name="sim")
ops_cmds.register(app)
run_cmds.register(app)


def run() -> None:
    """Console-script entry point."""
    app()
