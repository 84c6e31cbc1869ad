"""`fwo campaign ...`: create, approve, start, pause, resume, cancel, status, watch, report."""
from __future__ import annotations

import csv
import datetime as dt
import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.live import Live
from rich.table import Table

from orchestrator.bootstrap import App
from orchestrator.domain.jobs import JobState
from orchestrator.domain.policy import Policy
from orchestrator.entrypoints.cli.common import (
    TokenOpt,
    acting_user,
    app_from_env,
    audited,
    console,
    print_json,
)
from orchestrator.entrypoints.cli.errors import err_console, user_errors
from orchestrator.errors import CampaignError
from orchestrator.service import campaigns as service
from orchestrator.service import reports

app = typer.Typer(help="Create, approve and run firmware campaigns.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
ReasonOpt = Annotated[str, typer.Option(help="Why (recorded in the events and the audit).")]


@app.command()
@user_errors
def create(
    name: Annotated[str, typer.Option(help="Campaign name.")],
    target: Annotated[str, typer.Option(help="latest or a CPL Entry ID.")] = "latest",
    select: Annotated[list[str] | None, typer.Option(help="key=value filter.")] = None,
    waves: Annotated[str, typer.Option(help="Cumulative waves, e.g. 1%,10%,50%,100%.")] = "100%",
    window: Annotated[str | None, typer.Option(help="Activation window HH:MM-HH:MM.")] = None,
    timezone: Annotated[str, typer.Option(help="Time zone of the window.")] = "Europe/London",
    budget: Annotated[list[str] | None, typer.Option(
        help="SR=LIMIT[/SECONDS], e.g. 11.1=100/3600 (repeatable; others keep the default).")
    ] = None,
    list_max: Annotated[int, typer.Option(help="DeviceIDList maximum per 11.1.")] = 500,
    success_threshold: Annotated[str | None, typer.Option(
        help="Share of a wave that must succeed to open the next, e.g. 95% (default) or 0.9.")
    ] = None,
    pause_on: Annotated[list[str] | None, typer.Option(
        help="Failure threshold KIND=N or KIND=P% of a wave, e.g. *=10% (default) or "
        "timeout=5 (repeatable; replaces the default).")] = None,
    reason: ReasonOpt = "",
    token: TokenOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Plan the selected devices and store a draft campaign (operator role)."""
    policy = service.typed_policy(
        waves=waves, window=window, timezone=timezone, budgets=budget or (),
        success=success_threshold, failures=pause_on or (),
        base=Policy(device_id_list_max=list_max))
    application = app_from_env()
    user = acting_user(application, token)
    command = service.CreateCampaign(name, target, tuple(select or ()), policy,
                                     reason=reason, created_by=user)
    result = audited(application, user, "campaign.create", f"campaign:{name}", reason,
                     lambda entry: service.create_campaign(
                         command, application.uow(), application.clock().now(), entry.data))
    if json_out:
        print_json(result)
        return
    console.print(f"Campaign {result['campaign_id']} created: {result['devices']} devices to "
                  f"upgrade, {result['blocked']} blocked, {result['up_to_date']} up to date")


def _act(campaign_id: int, action: str, token: str, reason: str = "",
         json_out: bool = False) -> None:
    application = app_from_env()
    user = acting_user(application, token)
    result = audited(application, user, f"campaign.{action}", f"campaign:{campaign_id}",
                     reason, lambda entry: service.act(application.execution(), campaign_id,
                                                       action, user, reason, entry.data))
    if json_out:
        print_json(result)
    else:
        console.print(f"Campaign {campaign_id}: {result['state']}")
    if result["state"] == "running":
        _warn_if_undispatched(application, campaign_id)


def _warn_if_undispatched(application: App, campaign_id: int) -> None:
    """Say so when nothing will ever send this campaign's requests."""
    from orchestrator.entrypoints.runtime import embedded_runtime_running

    if (application.settings.broker_url.startswith("memory://")
            and not embedded_runtime_running(application.engine)):
        err_console.print(
            f"warning: nothing will dispatch campaign {campaign_id}: no `fwo run` holds this "
            "database and FWO_BROKER_URL is memory:// (no separate worker can share it); "
            "start `fwo run`, or workers and one beat on a shared broker", highlight=False)


def _action_command(action: str) -> None:
    """`fwo campaign ACTION ID`: the service's campaign command of that name."""

    def command(campaign_id: int, reason: ReasonOpt = "", token: TokenOpt = "",
                json_out: JsonOpt = False) -> None:
        _act(campaign_id, action, token, reason, json_out)

    command.__doc__ = service.COMMANDS[action].summary
    app.command(name=action)(user_errors(command))


for _action in ("submit", "approve", "pause", "resume", "cancel"):
    _action_command(_action)


@app.command()
@user_errors
def start(campaign_id: int, reason: ReasonOpt = "", token: TokenOpt = "",
          start_at: Annotated[str | None, typer.Option(
              help="Schedule instead: start at this ISO 8601 time with zone, e.g. "
              "2026-12-01T01:00:00+00:00 (`fwo run` or the reconciler starts it).")] = None,
          json_out: JsonOpt = False) -> None:
    """Start an approved campaign, now or (with --start-at) at a later time."""
    if start_at is None:
        _act(campaign_id, "start", token, reason, json_out)
        return
    try:
        when = dt.datetime.fromisoformat(start_at)
    except ValueError as err:
        raise CampaignError(f"--start-at {start_at!r} is not an ISO 8601 time") from err
    application = app_from_env()
    user = acting_user(application, token)
    result = audited(application, user, "campaign.schedule", f"campaign:{campaign_id}", reason,
                     lambda entry: service.schedule(application.execution(), campaign_id, when,
                                                    user, reason, entry.data))
    if json_out:
        print_json(result)
    else:
        console.print(f"Campaign {campaign_id}: scheduled for {result['scheduled_for']}")
    _warn_if_undispatched(application, campaign_id)


@app.command()
@user_errors
def device(campaign_id: int, device_id: str,
           action: Annotated[str, typer.Argument(help="cancel or retry")],
           reason: ReasonOpt = "", token: TokenOpt = "", json_out: JsonOpt = False) -> None:
    """Cancel or retry one device of a campaign."""
    application = app_from_env()
    user = acting_user(application, token)
    result = audited(application, user, f"device.{action}", f"device:{device_id}", reason,
                     lambda entry: service.device_action(application.execution(), campaign_id,
                                                         device_id, action, user, reason,
                                                         entry.data))
    if json_out:
        print_json(result)
        return
    console.print(f"Device {device_id}: {action} recorded")


@app.command("retry-failed")
@user_errors
def retry_failed(campaign_id: int, reason: ReasonOpt = "", token: TokenOpt = "",
                 json_out: JsonOpt = False) -> None:
    """Retry every failed device of a campaign (not quarantined, cancelled or blocked) from
    its current step (operator)."""
    application = app_from_env()
    user = acting_user(application, token)
    result = audited(application, user, "campaign.retry_failed", f"campaign:{campaign_id}",
                     reason, lambda entry: service.retry_failed(
                         application.execution(), campaign_id, user, reason, entry.data))
    if json_out:
        print_json(result)
        return
    console.print(f"Campaign {campaign_id}: {result['retried']} failed device(s) retried")


@app.command()
@user_errors
def devices(
    campaign_id: int,
    state: Annotated[str | None, typer.Option(
        help="Only jobs in this state (e.g. failed, blocked, done).")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many devices.")] = 1000,
    csv_file: Annotated[Path | None, typer.Option(
        "--csv", help="Write every listed device to this CSV file.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """A campaign's devices with their state, step, attempt and failure (as the dashboard)."""
    if state is not None and state not in {s.value for s in JobState}:
        raise CampaignError(f"--state {state!r} is not one of "
                            f"{', '.join(s.value for s in JobState)}")
    rows = reports.campaign_devices(app_from_env().uow(), campaign_id, state, limit)
    if csv_file is not None:
        _write_devices_csv(csv_file, rows)
    if json_out:
        print_json(rows)
        return
    table = Table(title=f"campaign {campaign_id}: {len(rows)} device(s)"
                  + (f" {state}" if state else ""))
    for name in ("device", "wave", "state", "step", "path", "attempt", "failure"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(r["device_id"], str(r["wave"]), r["state"],
                      f"{r['step'] + 1}/{len(r['path'])}", " → ".join(r["path"]),
                      str(r["attempt"]), r["failure"] or "")
    console.print(table)
    if csv_file is not None:
        console.print(f"{len(rows)} row(s) written to {csv_file}")


def _write_devices_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    fields = ["device_id", "wave", "state", "step", "path", "attempt", "failure",
              "request_id", "due_at", "deadline_at"]
    try:
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            for r in rows:
                writer.writerow({k: ";".join(r[k]) if k == "path" else
                                 ("" if r[k] is None else r[k]) for k in fields})
    except OSError as err:
        raise CampaignError(f"cannot write {path}: {err.strerror or err}") from err


@app.command()
@user_errors
def status(campaign_id: int, json_out: JsonOpt = False) -> None:
    """State and per-state counts (from maintained counters, no scan)."""
    application = app_from_env()
    data = service.status(application.uow(), campaign_id, application.clock().now())
    if json_out:
        print_json(data)
        return
    console.print(status_table(data))


def status_table(data: dict[str, Any]) -> Table:
    """A Rich table of a campaign's waves and states."""
    states = sorted(data["states"])
    table = Table(title=f"Campaign {data['campaign_id']} “{data['name']}”: {data['state']} "
                        f"(wave {data['current_wave']}/{data['wave_count']})"
                        + (f" paused: {data['pause_reason']}" if data["pause_reason"] else ""))
    table.add_column("wave")
    for state in states:
        table.add_column(state, justify="right")
    for wave, counts in data["waves"].items():
        table.add_row(wave, *(str(counts.get(s, 0)) for s in states))
    table.add_row("all", *(str(data["states"][s]) for s in states), style="bold")
    table.caption = wait_lines(data)
    return table


def wait_lines(data: dict[str, Any]) -> str:
    """What the campaign waits for and until when, and what went wrong at dispatch."""
    lines = []
    wait = data.get("waiting")
    if wait:
        until = f" until {wait['until']}" if wait.get("until") else ""
        lines.append(f"waiting for {wait['reason'].replace('_', ' ')}{until}: {wait['detail']}")
    if data.get("dispatch_error"):
        lines.append(f"last dispatch error ({data['dispatch_error_at']}): "
                     f"{data['dispatch_error']}")
    if data.get("state") == "running":
        lines.append(f"in flight {data.get('in_flight', 0)} · last dispatch "
                     f"{data.get('dispatched_at') or 'never'}")
    return "\n".join(lines)


@app.command()
@user_errors
def watch(campaign_id: int, interval: Annotated[float, typer.Option(min=0.1)] = 2.0,
          once: Annotated[bool, typer.Option(help="Render once and exit.")] = False,
          json_out: Annotated[bool, typer.Option(
              "--json", help="One JSON status object per line, whenever it changes.")] = False,
          ) -> None:
    """Progress until the campaign ends: a live table on a terminal; off a terminal (a pipe,
    a log) one plain line per change; `--json` one JSON object per line per change."""
    application = app_from_env()

    def poll() -> dict[str, Any]:
        return service.status(application.uow(), campaign_id, application.clock().now())

    if json_out or not console.is_terminal:
        _watch_lines(poll, interval, once, json_out)
        return
    with Live(console=console, refresh_per_second=4) as live:
        while True:
            data = poll()
            live.update(status_table(data))
            if once or data["state"] in ENDED:
                break
            time.sleep(interval)


ENDED = ("completed", "cancelled", "aborted")


def _watch_lines(poll: Any, interval: float, once: bool, json_out: bool) -> None:
    """Print a line whenever the status changes, until the campaign ends."""
    last = ""
    while True:
        data = poll()
        line = (json.dumps(data, default=str, sort_keys=True) if json_out
                else progress_line(data))
        if line != last:
            typer.echo(line)
            last = line
        if once or data["state"] in ENDED:
            return
        time.sleep(interval)


def progress_line(data: dict[str, Any]) -> str:
    """One plain line of a campaign's progress (for logs and pipes)."""
    counts = ", ".join(f"{s} {n}" for s, n in sorted(data["states"].items()))
    wait = " ".join(wait_lines(data).split())
    return (f"campaign {data['campaign_id']} {data['name']}: {data['state']}, wave "
            f"{data['current_wave']}/{data['wave_count']}: {counts or 'no devices'}"
            + (f"; paused: {data['pause_reason']}" if data["pause_reason"] else "")
            + (f"; {wait}" if wait else ""))


@app.command()
@user_errors
def report(campaign_id: int, json_out: JsonOpt = False) -> None:
    """Outcome report: states, failures by reason, requests by type, blocked devices."""
    data = reports.campaign_report(app_from_env().uow(), campaign_id)
    if json_out:
        print_json(data)
        return
    console.print(status_table(data["status"]))
    console.print(_counts("failures by reason", "reason", data["failures"],
                          "no device failed"))
    console.print(_counts("requests sent by service request", "SR", data["requests"],
                          "no request sent"))
    blocked = Table(title=f"{len(data['blocked'])} blocked device(s)"
                    + (" (first 20)" if len(data["blocked"]) > 20 else ""))
    blocked.add_column("device")
    blocked.add_column("why", overflow="fold")
    for b in data["blocked"][:20]:
        blocked.add_row(b["device_id"], b["reason"] or "")
    console.print(blocked)


def _counts(title: str, key: str, counts: dict[str, int], empty: str) -> Table:
    """A labelled two-column table of counts (never a Python dict on the screen)."""
    table = Table(title=title)
    table.add_column(key)
    table.add_column("count", justify="right")
    for name, n in sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0]))):
        table.add_row(str(name), f"{n:,}")
    if not counts:
        table.add_row(empty, "0")
    return table


@app.command("list")
@user_errors
def list_(json_out: JsonOpt = False) -> None:
    """Campaigns, newest first."""
    with app_from_env().uow() as uow:
        rows = uow.campaigns.list()
    data = [{k: r[k] for k in ("id", "name", "state", "target", "device_count", "created_by",
                               "created_at", "current_wave", "wave_count")} for r in rows]
    if json_out:
        print_json(data)
        return
    table = Table(title="Campaigns")
    for column in ("id", "name", "state", "target", "devices", "wave", "created by"):
        table.add_column(column)
    for r in data:
        table.add_row(str(r["id"]), r["name"], r["state"], r["target"], str(r["device_count"]),
                      f"{r['current_wave']}/{r['wave_count']}", r["created_by"])
    console.print(table)
