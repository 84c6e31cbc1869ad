"""`fwo fleet ...`: import, refresh (8.2) and show the fleet inventory, its history and drift."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from orchestrator.bootstrap import App
from orchestrator.domain.errors import PolicyError
from orchestrator.domain.fleet import Device
from orchestrator.domain.moments import aware
from orchestrator.domain.observations import FleetFact
from orchestrator.domain.policy import Budget
from orchestrator.entrypoints.cli.common import (
    ReasonOpt,
    TokenOpt,
    app_from_env,
    console,
    operated,
    print_json,
)
from orchestrator.entrypoints.cli.errors import user_errors
from orchestrator.errors import DeviceNotFoundError, FleetError
from orchestrator.service import audit, campaigns, fleet_facts, fleet_refresh, reports
from orchestrator.service import fleet as service
from orchestrator.service import forecast as forecasts
from orchestrator.service.fleet import ImportResult

app = typer.Typer(help="Import, refresh (8.2) and show the fleet inventory; history, drift.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
SelectOpt = Annotated[list[str] | None, typer.Option(
    "--select", help="Filter key=value (repeatable; comma-separated values mean OR).")]


@app.command("import")
@user_errors
def import_(
    file: Annotated[Path, typer.Argument(help="Inventory CSV (canonical columns; others tags).")],
    observed_at: Annotated[str | None, typer.Option(
        help="ISO 8601 time of the observation (default: the file's modification time).")
    ] = None,
    reason: ReasonOpt = "",
    token: TokenOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Upsert every good row of an inventory CSV; report bad rows with line, column and why
    (operator)."""
    when = _timestamp(observed_at) if observed_at else None
    app = app_from_env()
    result = operated(app, token, "fleet.import", "fleet", reason,
                      lambda entry: service.import_fleet(app.uow(), file, when, entry=entry),
                      {"filename": str(file)})
    if json_out:
        print_json(result.to_dict())
    else:
        _print_import(result)
    if result.rejected and not result.imported:
        raise typer.Exit(1)  # every row refused: a wrong file, not a partial import


def _timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise FleetError(f"--observed-at {text!r} is not an ISO 8601 time") from err
    return aware(value)


def _print_import(result: ImportResult, limit: int = 20) -> None:
    console.print(f"[bold]{result.imported:,}[/] devices imported from {result.source}, "
                  f"{result.rejected:,} rows rejected; the fleet holds "
                  f"{result.devices_total:,} devices")
    if not result.problems:
        return
    table = Table(title=f"{len(result.problems)} problem(s)")
    for name in ("line", "column", "value", "why"):
        table.add_column(name, overflow="fold")
    for p in result.problems[:limit]:
        table.add_row(str(p.line), p.column, p.value, p.reason)
    console.print(table)
    if len(result.problems) > limit:
        console.print(f"... and {len(result.problems) - limit} more (use --json for all)")


@app.command()
@user_errors
def show(
    device: Annotated[str | None, typer.Option(help="Only this device ID.")] = None,
    select: SelectOpt = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many devices.")] = 50,
    json_out: JsonOpt = False,
) -> None:
    """List devices (with their identified CPL entry when a catalogue exists)."""
    specs = [*(select or []), *([f"device_id={device}"] if device else [])]
    found = service.show_devices(app_from_env().uow(), specs, limit)
    if device and not found:
        raise DeviceNotFoundError(f"device {device} is not in the fleet inventory")
    if json_out:
        print_json([d.to_dict() | {"current_entry": entry} for d, entry in found])
        return
    _device_table(found)


def _device_table(found: list[tuple[Device, str | None]]) -> None:
    table = Table(title=f"{len(found)} device(s)")
    for name in ("device", "type", "manufacturer", "model", "hw", "firmware", "entry",
                 "status", "hub gbcs", "han", "tags"):
        table.add_column(name, overflow="fold")
    for d, entry in found:
        firmware = d.firmware_version or (d.firmware_hash[:12] + "…" if d.firmware_hash else "")
        table.add_row(d.device_id, d.device_type, d.manufacturer, d.model, d.hardware_version,
                      firmware, entry or "", d.status, d.comms_hub_gbcs_version, d.han_variant,
                      ", ".join(f"{k}={v}" for k, v in d.tags))
    console.print(table)


@app.command()
@user_errors
def refresh(
    select: SelectOpt = None,
    device: Annotated[list[str] | None, typer.Option(
        "--device", help="Ask for this device even if the fleet does not know it "
        "(repeatable; an inherited device).")] = None,
    budget: Annotated[str, typer.Option(
        help="At most N 8.2 requests per S seconds, as N/S.")] = "1000/3600",
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many devices.")] = None,
    reason: ReasonOpt = "",
    token: TokenOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Read the DCC inventory (SR 8.2, one per premises) of the selected devices into the
    fleet (operator)."""
    app = app_from_env()
    pace = _budget(budget)
    report = operated(app, token, "fleet.refresh", "fleet", reason,
                      lambda entry: _refresh(app, entry, select or [], device or [], pace,
                                             limit),
                      {"select": select or [], "devices": device or []})
    if json_out:
        print_json(report.to_dict())
    else:
        _print_refresh(report)
    if report.requests and len(report.failed) == report.requests:
        raise typer.Exit(1)  # nothing answered: say so to scripts too


def _refresh(app: App, entry: audit.Entry, select: list[str], devices: list[str],
             pace: Budget, limit: int | None) -> fleet_refresh.RefreshReport:
    """Send the paced 8.2s (each request commits on its own), then the audit row."""
    report = fleet_refresh.refresh_fleet(app.execution(), select, device_ids=devices,
                                         budget=pace, limit=limit)
    entry.write_alone(app.uow(), requests=report.requests, recorded=report.recorded,
                      failed=len(report.failed))
    return report


def _print_refresh(report: fleet_refresh.RefreshReport) -> None:
    console.print(f"{report.selected:,} device(s) on {report.premises:,} premises: "
                  f"{report.requests:,} 8.2 request(s), {report.recorded:,} device(s) "
                  f"recorded, {report.ignored_older:,} older than the record, "
                  f"{report.drift:,} drift finding(s), {len(report.failed):,} failed")
    if report.deferred:
        console.print(f"{report.deferred:,} device(s) wait for the 8.2 budget "
                      f"(refills {report.paced_until:%Y-%m-%d %H:%M}): run again then")
    for asked, why in list(report.failed.items())[:20]:
        console.print(f"  {asked}: {why}", style="yellow")


def _budget(text: str) -> Budget:
    try:
        return Budget.parse(text, sr_type="8.2")
    except PolicyError as err:
        raise FleetError(f"--budget is N/S, requests per seconds (e.g. 500/3600): {err}") from err


@app.command()
@user_errors
def history(
    device: Annotated[str, typer.Argument(help="Device ID (EUI-64).")],
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 500,
    json_out: JsonOpt = False,
) -> None:
    """A device's firmware observations (11.2, 8.2) and drift findings, oldest first."""
    facts = fleet_facts.device_history(app_from_env().uow(), device, limit)
    if json_out:
        print_json([f.to_dict() for f in facts])
        return
    _facts_table(f"history of {device}", facts)


@app.command()
@user_errors
def drift(
    limit: Annotated[int, typer.Option(min=1, help="At most this many findings.")] = 100,
    json_out: JsonOpt = False,
) -> None:
    """Drift findings, newest first: reads contradicting the fleet, DCC version mismatches."""
    total, facts = fleet_facts.drift_findings(app_from_env().uow(), limit)
    if json_out:
        print_json({"total": total, "findings": [f.to_dict() for f in facts]})
        return
    _facts_table(f"{total:,} drift finding(s)", facts)


def _facts_table(title: str, facts: list[FleetFact]) -> None:
    table = Table(title=title)
    for name in ("at", "device", "what", "source", "campaign", "details"):
        table.add_column(name, overflow="fold")
    for f in facts:
        details = ", ".join(f"{k}={v}" for k, v in f.data.items() if v is not None)
        table.add_row(f"{f.at:%Y-%m-%d %H:%M:%S}", f.device_id, f.name, f.source,
                      str(f.campaign_id or ""), details)
    console.print(table)


@app.command()
@user_errors
def forecast(
    waves: Annotated[str, typer.Option(help="Cumulative waves, as for a campaign.")] = "100%",
    budget: Annotated[list[str] | None, typer.Option(
        help="SR=LIMIT[/SECONDS] (repeatable; others keep the campaign defaults).")] = None,
    window: Annotated[str | None, typer.Option(
        help="Activation window HH:MM-HH:MM, as for a campaign.")] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of --window.")] = "Europe/London",
    faults: Annotated[str, typer.Option(help="Simulated fault profile: none, default, ...")
                      ] = "none",
    seed: Annotated[int, typer.Option(help="Random seed of the simulation.")] = 7,
    reason: ReasonOpt = "",
    token: TokenOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Forecast the date by which the plannable fleet would be current: a dry run of the
    whole fleet on its simulated twin at these budgets and window, stored with the date it
    was made and shown by `fwo fleet compliance` (operator)."""
    import shutil
    import tempfile

    from orchestrator.adapters.simulated_twin import write_twin
    from orchestrator.entrypoints.cli.dry_run_cmds import check_faults, run_dry_run, thresholds_for

    check_faults(faults)
    policy = campaigns.typed_policy(waves=waves, budgets=budget or (), window=window,
                                    timezone=timezone)
    app = app_from_env()

    def run(entry: audit.Entry) -> dict[str, Any]:
        land = forecasts.estate(app.uow())
        if not land.planned:
            raise FleetError("nothing to forecast: no device has a planned path to the latest "
                             "Active firmware (see `fwo fleet compliance`)")
        made_at = app.clock().now()
        work = Path(tempfile.mkdtemp(prefix="fwo-forecast-"))
        try:
            write_twin(work / "twin", land.entries, land.devices, land.current_entry,
                       seed=seed)
            found = run_dry_run(work, devices=0, entries=0, seed=seed, faults=faults,
                                catalogue_dir=work / "twin", waves=waves, database=None,
                                progress=not json_out, policy=policy,
                                thresholds=thresholds_for(policy))
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return forecasts.record(app.uow(), made_at=made_at, made_by=entry.actor.name, land=land,
                                run=found, policy=policy, faults=faults, seed=seed,
                                entry=entry)

    result = operated(app, token, "fleet.forecast", "fleet", reason, run,
                      {"waves": waves, "budgets": budget or [], "window": window,
                       "faults": faults})
    if json_out:
        print_json(result)
        return
    console.print(forecast_line(result), highlight=False, soft_wrap=True)


def forecast_line(f: dict[str, Any]) -> str:
    """One line for people: when, on what, and the answer."""
    made_at = dt.datetime.fromisoformat(f["made_at"])
    made = f"forecast {f['id']} made {made_at:%Y-%m-%d %H:%M} UTC by {f['made_by']}"
    if f["complete_by"] is not None:
        return (f"{made}: the {f['plannable']:,} plannable device(s) would be current by "
                f"{f['complete_by'][:10]} ({f['simulated_days']} simulated days)")
    return (f"{made}: the run ended {f['final_state']} ({f['pause_reason'] or 'no reason'}) "
            f"with {f['unfinished']:,} of {f['twin_planned']:,} device(s) unfinished: no date")


@app.command()
@user_errors
def compliance(json_out: JsonOpt = False) -> None:
    """Per manufacturer and model: on the latest Active firmware, planned (path length),
    blocked and why (with the manufacturer's contact), on no CPL entry; ZigBee exposure."""
    data = reports.fleet_compliance(app_from_env().uow())
    if json_out:
        print_json(data)
        return
    t = data["totals"]
    console.print(f"{t['devices']:,} device(s) against catalogue snapshot {data['snapshot_id']}:"
                  f" {t['current']:,} current, {t['planned']:,} planned, {t['blocked']:,} "
                  f"blocked, {t['unknown_firmware']:,} on no CPL entry (security finding)",
                  highlight=False)
    table = Table(title="compliance by manufacturer and model")
    for name in ("manufacturer", "model", "devices", "current", "planned", "longest path",
                 "blocked (why)", "no CPL entry", "contact"):
        table.add_column(name, overflow="fold")
    for m in data["models"]:
        contact = m["contact"] or {}
        table.add_row(m["manufacturer"], m["model"], str(m["devices"]), str(m["current"]),
                      str(m["planned"]), f"{m['longest_path']} step(s)" if m["planned"] else "",
                      ", ".join(f"{why} {n}" for why, n in m["blocked"].items()),
                      str(m["unknown_firmware"]),
                      " · ".join(v for v in (contact.get("email"), contact.get("telephone"))
                                 if v))
    console.print(table)
    zigbee = Table(title="exposure by ZigBee chipset and stack (running firmware)")
    for name in ("chipset vendor", "stack version", "devices"):
        zigbee.add_column(name)
    for z in data["zigbee"]:
        zigbee.add_row(z["chipset_vendor"], z["stack_version"], str(z["devices"]))
    console.print(zigbee)
    forecast = data.get("forecast")
    console.print(forecast_line(forecast) if forecast else
                  "no forecast yet: `fwo fleet forecast` runs one", highlight=False,
                  soft_wrap=True)
