"""Top-level commands: `fwo init` and `fwo demo`."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

import typer

from orchestrator.adapters.db import create_db_engine, migrate
from orchestrator.config import Settings
from orchestrator.entrypoints import preflight
from orchestrator.entrypoints.cli.common import console, print_json
from orchestrator.entrypoints.cli.errors import fail, user_errors


def register(app: typer.Typer) -> None:
    """Attach the top-level commands to the root app."""
    app.command("init")(init)
    app.command("demo")(demo)
    app.command("worker")(user_errors(worker))
    app.command("beat")(user_errors(beat))


@user_errors
def init(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create or upgrade the database schema (safe to run again)."""
    settings = Settings.from_env()
    engine = create_db_engine(settings.resolved_database_url)
    try:
        revision = migrate(engine)
    finally:
        engine.dispose()
    url = engine.url.render_as_string(hide_password=True)
    if json_out:
        print_json({"database": url, "revision": revision})
    else:
        console.print(f"Database ready at {url} (schema revision {revision})")


@user_errors
def demo(
    out: Annotated[Path | None, typer.Option(help="Where to write the demo data.")] = None,
    entries: Annotated[int, typer.Option(help="CPL entries to generate.")] = 200,
    devices: Annotated[int, typer.Option(help="Devices to generate.")] = 2500,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 7,
    faults: Annotated[str, typer.Option(help="Simulator fault profile.")] = "default",
) -> None:
    """Generate a catalogue and fleet, sync, plan, and dry-run a whole campaign."""
    from orchestrator.entrypoints.cli import demo_run  # the demo wires the simulators

    target = out or Path(tempfile.mkdtemp(prefix="fwo-demo-"))
    demo_run.run_demo(target, entries=entries, devices=devices, seed=seed, faults=faults)


WORKER_POOLS = ("prefork", "threads")


def worker(
    concurrency: Annotated[int, typer.Option(
        help="Tasks at once: threads (threads pool) or processes (prefork).")] = 4,
    queues: Annotated[str, typer.Option(help="Comma-separated queues.")] = "celery",
    pool: Annotated[str, typer.Option(
        help="threads: one process running `concurrency` tasks at once, so answers are "
             "applied while a dispatch waits on the DSP (about one core a worker: run one "
             "per core); prefork: a process per task.")] = "threads",
) -> None:
    """Run a Celery worker for the configured broker (refused when it could not dispatch)."""
    from orchestrator.entrypoints.celery_app import create_celery

    if pool not in WORKER_POOLS:
        fail(f"--pool {pool!r}: give one of {', '.join(WORKER_POOLS)}")
    if concurrency < 1:
        fail(f"--concurrency {concurrency}: give 1 or more")
    settings = Settings.from_env()
    preflight.check_broker(settings, "fwo worker")
    preflight.check_dispatch(settings, "fwo worker")
    celery = create_celery(settings)
    celery.worker_main(["worker", f"--concurrency={concurrency}", f"--queues={queues}",
                        f"--pool={pool}", "--loglevel=INFO"])


def beat() -> None:
    """Run Celery beat (exactly one per deployment) with the periodic catalogue sync."""
    from orchestrator.entrypoints.celery_app import create_celery

    settings = Settings.from_env()
    preflight.check_broker(settings, "fwo beat")
    celery = create_celery(settings)
    schedule_file = settings.data_dir / "celerybeat-schedule"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery.Beat(schedule=str(schedule_file), loglevel="INFO").run()
