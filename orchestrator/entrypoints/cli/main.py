"""The `fwo` command line: one Typer app with a sub-app per command group."""
from __future__ import annotations

import typer

from orchestrator.entrypoints.cli import (catalogue_cmds, duis_cmds, fleet_cmds, plan_cmds,
                                         sim_cmds, system_cmds)

app = typer.Typer(
    name="fwo",
    help="Supplier-side firmware rollout orchestrator for GB smart meters.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
system_cmds.register(app)
app.add_typer(catalogue_cmds.app, name="catalogue")
app.add_typer(fleet_cmds.app, name="fleet")
plan_cmds.register(app)
app.add_typer(duis_cmds.image_app, name="image")
app.add_typer(duis_cmds.duis_app, name="duis")
app.add_typer(sim_cmds.app, name="sim")


def run() -> None:
    """Console-script entry point."""
    app()
