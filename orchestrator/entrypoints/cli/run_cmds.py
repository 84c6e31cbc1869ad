"""`fwo run`: the embedded runtime (API, receiver, dashboard, dispatcher, reconciler) in one
process, on SQLite, with no broker and no Redis (see `orchestrator/entrypoints/runtime.py`)."""
from __future__ import annotations

import logging
from typing import Annotated

import typer

from orchestrator.entrypoints import preflight
from orchestrator.entrypoints.cli.common import app_from_env
from orchestrator.entrypoints.cli.errors import err_console, user_errors


def register(app: typer.Typer) -> None:
    """Attach `fwo run` to the root app."""
    app.command("run")(run)


@user_errors
def run(host: Annotated[str | None, typer.Option(help="Interface (FWO_API_HOST).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (FWO_API_PORT).")] = None,
        tick: Annotated[float, typer.Option(
            min=0.05, help="Seconds between dispatch passes over running campaigns.")] = 1.0,
        ) -> None:
    """Run everything in one process: API, DUIS receiver, dashboard, dispatcher, reconciler.

    Real campaigns are sent to FWO_DSP_URL; responses and alerts come back to
    /duis/receiver. One `fwo run` per database: a second copy is refused.
    """
    from orchestrator.entrypoints import runtime
    from orchestrator.logging import configure_logging

    app = app_from_env()
    configure_logging(app.settings.log_level)
    for problem in preflight.dispatch_problems(app.settings):  # the API still serves
        err_console.print(f"warning: campaigns cannot be dispatched: {problem}")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one `dispatched` line per batch
    try:
        runtime.serve(app, host or app.settings.api_host, port or app.settings.api_port,
                      tick_s=tick)
    finally:
        app.close()
