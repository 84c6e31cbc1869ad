"""`fwo dry-run`: a whole campaign against the simulated DCC and fleet, in simulated time."""
from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from orchestrator.bootstrap import App, bootstrap
from orchestrator.config import DUIS_XSD_OFF, Settings
from orchestrator.domain.jobs import TERMINAL
from orchestrator.domain.policy import ActivationWindow, Budget, FailureThreshold, Policy
from orchestrator.domain.ports import SimulatedWorld
from orchestrator.entrypoints.cli.common import console, print_json
from orchestrator.entrypoints.cli.errors import err_console, user_errors
from orchestrator.errors import ConfigurationError
from orchestrator.service import campaigns, catalogue, fleet
from orchestrator.service.access import Principal
from orchestrator.service.driver import RunStats, run_campaign
from orchestrator.service.wiring import Execution

if TYPE_CHECKING:  # imported where used: a plain CLI start loads no simulator wiring
    from orchestrator.adapters.simulated_gateway import DryRunWorld

# The simulated DCC's anomaly thresholds per day, and the budgets kept safely under them.
THRESHOLDS = {"11.1": 200, "11.4": 200, "11.3": 200_000, "11.2": 200_000}
BUDGET_SHARE = 0.9
# The people of a simulation (its own database): the four-eyes rule applies to them too.
DRY_RUN = Principal("dry-run", "operator")
DRY_RUN_APPROVER = Principal("dry-run-approver", "admin")


def register(app: typer.Typer) -> None:
    """Attach `fwo dry-run` to the root app."""
    app.command("dry-run")(dry_run)


@user_errors
def dry_run(
    devices: Annotated[int, typer.Option(help="Devices to generate.")] = 2000,
    entries: Annotated[int, typer.Option(help="CPL entries to generate.")] = 120,
    seed: Annotated[int, typer.Option(help="Random seed (data and faults).")] = 7,
    faults: Annotated[str, typer.Option(help="Fault profile: none, default, ...")] = "none",
    budget: Annotated[list[str] | None, typer.Option(
        help="SR=LIMIT[/SECONDS] (repeatable; others keep 90% of the simulated DCC's daily "
             "thresholds).")] = None,
    catalogue_dir: Annotated[Path | None, typer.Option(
        "--catalogue", help="A `fwo sim generate` directory to use instead.")] = None,
    waves: Annotated[str, typer.Option(help="Cumulative waves.")] = "5%,25%,100%",
    window: Annotated[str | None, typer.Option(
        help="Activation window HH:MM-HH:MM: 11.3s sent outside it are future-dated into it.")
    ] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of --window.")] = "Europe/London",
    database: Annotated[str | None, typer.Option(help="Database URL (default: a new "
                                                              "SQLite file).")] = None,
    send_concurrency: Annotated[int, typer.Option(
        help="Requests to devices kept in flight at once (FWO_SEND_CONCURRENCY of a real "
             "run); above 1 the order of the seeded fault draws varies between runs.")] = 1,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Generate or load data, plan, run a campaign against the simulators, report."""
    check_faults(faults)
    # checked before anything is generated
    policy = dry_run_policy(waves, budget or (), window=window, timezone=timezone)
    work = Path(tempfile.mkdtemp(prefix="fwo-dry-run-"))
    report = run_dry_run(work, devices=devices, entries=entries, seed=seed, faults=faults,
                         catalogue_dir=catalogue_dir, waves=waves, database=database,
                         progress=not json_out, policy=policy,
                         send_concurrency=send_concurrency)
    if json_out:
        print_json(report)
    else:
        print_report(report)


def run_dry_run(work: Path, *, devices: int, entries: int, seed: int, faults: str,
                catalogue_dir: Path | None, waves: str, database: str | None,
                progress: bool, on_catalogue: Callable[[Any], None] | None = None,
                policy: Policy | None = None,
                on_finish: Callable[[Any], None] | None = None,
                thresholds: dict[str, int] | None = None,
                send_concurrency: int = 1) -> dict[str, Any]:
    """The dry run itself (also used by forecasts, tests and the benchmark); `thresholds`
    are the simulated DCC's anomaly thresholds per day (default THRESHOLDS)."""
    from orchestrator.adapters.simulated_gateway import simulated_execution
    from simulators.generate import generate

    data = catalogue_dir or work / "data"
    if catalogue_dir is None:
        generate(data, entries=entries, devices=devices, seed=seed)
    base = Settings.from_env()
    if not base.duis_xsd:
        err_console.print(DUIS_XSD_OFF, style="dim", highlight=False, soft_wrap=True)
    app = bootstrap(replace(base, data_dir=work, database_url=database or
                            f"sqlite:///{work / 'dry-run.sqlite3'}"))
    options = app.fetch_options()
    catalogue.sync_catalogue(catalogue.SyncCatalogue(str(data / "cpl.xlsx"),
                                                     str(data / "fir.xlsx")), app.uow(), options)
    if on_catalogue is not None:
        on_catalogue(catalogue.current_catalogue(app.uow()))
    ex, world = simulated_execution(app, data, faults=faults, seed=seed,
                                    thresholds=thresholds or THRESHOLDS,
                                    send_concurrency=send_concurrency)
    # the inventory is the simulated fleet at the start of simulated time, so reads count
    fleet.import_fleet(app.uow(), data / "fleet.csv", ex.clock.now())
    policy = policy or dry_run_policy(waves)
    created = campaigns.create_campaign(campaigns.CreateCampaign(
        "dry-run", policy=policy, created_by=DRY_RUN), app.uow(), ex.clock.now())
    campaign_id = created["campaign_id"]
    _approve_and_start(ex, campaign_id)
    stats = _run(ex, world, campaign_id, created["devices"], progress)
    if on_finish is not None:  # tests: the simulated world's ground truth
        on_finish(world)
    return build_report(app, ex, world, campaign_id, created, stats, faults)


def _approve_and_start(ex: Execution, campaign_id: int) -> None:
    """Submit; above the four-eyes size a second (simulated) person approves; start."""
    if campaigns.act(ex, campaign_id, "submit", DRY_RUN)["state"] == "awaiting_approval":
        campaigns.act(ex, campaign_id, "approve", DRY_RUN_APPROVER)
    campaigns.act(ex, campaign_id, "start", DRY_RUN)


def check_faults(faults: str) -> None:
    """A known fault profile (or `name:rate`), else a one-line error naming the known ones."""
    from simulators import SimulatorError
    from simulators.faults import profile

    try:
        profile(faults)
    except SimulatorError as err:
        raise ConfigurationError(f"--faults: {err}") from err


def dry_run_policy(waves: str, budgets: Iterable[str] = (), *, window: str | None = None,
                   timezone: str = "Europe/London") -> Policy:
    """The dry run's policy: budgets under the simulated DCC's thresholds unless given, and
    the activation window if one is given."""
    base = Policy(budgets=tuple(Budget(sr, int(limit * BUDGET_SHARE), 86400.0)
                                for sr, limit in THRESHOLDS.items()),
                  success_threshold=0.85, failure_thresholds=(FailureThreshold(percent=15.0),))
    return campaigns.typed_policy(waves=waves, budgets=budgets, window=window,
                                  timezone=timezone, base=base)


def thresholds_for(policy: Policy) -> dict[str, int]:
    """Simulated DCC thresholds per day that the policy's budgets stay under by the same
    share as the dry run's own (a forecast paces by the budgets, not by quarantine)."""
    return {b.sr_type: math.ceil(b.limit * 86400.0 / b.period_s / BUDGET_SHARE) + 1
            for b in policy.budgets}


def _run(ex: Execution, world: SimulatedWorld, campaign_id: int, total: int, progress: bool) -> RunStats:
    if not progress:
        return run_campaign(ex, world, campaign_id)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[detail]}"), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task("devices finished", total=total, detail="")
        last = [0.0]

        def on_turn(stats: RunStats) -> None:
            if time.monotonic() - last[0] < 0.25:
                return
            last[0] = time.monotonic()
            status = campaigns.status(ex.uow(), campaign_id)
            finished = sum(n for s, n in status["states"].items()
                           if s in {t.value for t in TERMINAL} and s != "blocked")
            bar.update(task, completed=finished, detail=(
                f"wave {status['current_wave']}/{status['wave_count']} "
                f"sim {ex.clock.now():%Y-%m-%d %H:%M}"))

        return run_campaign(ex, world, campaign_id, on_turn=on_turn)


def build_report(app: App, ex: Execution, world: DryRunWorld, campaign_id: int, created: dict[str, Any],
                 stats: RunStats, faults: str) -> dict[str, Any]:
    """The dry-run report (JSON shape documented in the README)."""
    status = campaigns.status(app.uow(), campaign_id)
    with app.uow() as uow:
        failures = uow.campaigns.failures(campaign_id)
        requests = uow.requests.sent_counts(campaign_id)
        inbound_counts = uow.inbound.inbound_counts()
        steps = uow.campaigns.verified_steps(campaign_id)
        campaign = uow.campaigns.get(campaign_id)
        assert campaign is not None  # the dry run created it
        window = campaign.policy.activation_window
    simulation = world.simulation
    assert stats.started_at is not None and stats.ended_at is not None  # run_campaign sets both
    duration = (stats.ended_at - stats.started_at).total_seconds()
    return {
        "campaign_id": campaign_id, "faults": faults, "final_state": status["state"],
        "pause_reason": status["pause_reason"],
        "devices": {"planned": created["devices"], "blocked": created["blocked"],
                    "up_to_date": created["up_to_date"]},
        "states": status["states"], "waves": status["waves"], "failures": failures,
        "requests": requests, "dsp_sr_counts": _dsp_counts(simulation),
        "inbound": inbound_counts, "bricked": len(simulation.fleet.bricked()),
        "activations": _activations(simulation, window),
        "device_steps_verified": steps,
        "simulated_seconds": duration, "simulated_days": round(duration / 86400, 2),
        "wall_seconds": round(stats.wall_seconds, 3),
        "device_steps_per_second": round(steps / stats.wall_seconds, 1)
        if stats.wall_seconds else 0.0,
        "turns": stats.turns,
    }


def _activations(simulation: Any, window: ActivationWindow | None) -> dict[str, Any]:
    """What the simulated devices ran: activations, future-dated ones, those outside the
    window, and 11.2 reads that reached a device before its dated activation ran."""
    ran = simulation.dsp.activations
    return {"window": None if window is None else
            f"{window.start:%H:%M}-{window.end:%H:%M} {window.timezone}",
            "ran": len(ran), "future_dated": sum(a.future_dated for a in ran),
            "outside_window": 0 if window is None else
            sum(not window.contains(a.at) for a in ran),
            "reads_while_pending": simulation.dsp.stats.get("read_while_activation_pending", 0)}


def _dsp_counts(simulation: Any) -> dict[str, int]:
    return {sr: sum(periods.values()) for sr, periods in simulation.dsp.sr_counts().items()}


def print_report(report: dict[str, Any]) -> None:
    """The dry-run report for people."""
    console.rule(f"Dry run: campaign {report['campaign_id']} {report['final_state']}")
    for key in ("devices", "states", "failures", "requests", "dsp_sr_counts", "inbound",
                "activations"):
        console.print(f"[bold]{key}[/]: {report[key]}")
    console.print(f"[bold]bricked[/]: {report['bricked']}   simulated: "
                  f"{report['simulated_days']} days   wall: {report['wall_seconds']} s   "
                  f"device-steps/s: {report['device_steps_per_second']}")
