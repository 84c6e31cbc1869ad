"""`fwo device history ID`: every campaign job and transition of one device."""
from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from orchestrator.domain import fleet
from orchestrator.entrypoints.cli.common import app_from_env, console, print_json
from orchestrator.entrypoints.cli.errors import user_errors
from orchestrator.errors import DeviceNotFoundError
from orchestrator.service import reports

app = typer.Typer(help="One device's campaign history.", no_args_is_help=True)


@app.command()
@user_errors
def history(
    device: Annotated[str, typer.Argument(help="Device ID (EUI-64; separators optional).")],
    limit: Annotated[int, typer.Option(min=1, max=5000,
                                       help="At most this many transitions.")] = 500,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")
                        ] = False,
) -> None:
    """Every campaign job of the device and every recorded transition, oldest first (the
    firmware it was read to run: `fwo fleet history`)."""
    try:
        device_id = fleet.device_id(device)
    except ValueError as err:
        raise DeviceNotFoundError(f"{device!r} is not a device ID ({err})") from err
    data = reports.device_history(app_from_env().uow(), device_id, limit)
    if json_out:
        print_json(data)
        return
    _print(data)


def _print(data: dict[str, Any]) -> None:
    jobs = Table(title=f"{data['device_id']}: {len(data['jobs'])} campaign job(s)")
    for name in ("campaign", "state", "step", "path", "wave", "attempt", "failure"):
        jobs.add_column(name, overflow="fold")
    for j in data["jobs"]:
        jobs.add_row(str(j["campaign_id"]), j["state"], f"{j['step'] + 1}/{len(j['path'])}",
                     " → ".join(j["path"]), str(j["wave"]), str(j["attempt"]),
                     j["failure"] or "")
    console.print(jobs)
    events = Table(title=f"{len(data['events'])} transition(s)")
    for name in ("at", "campaign", "event", "from", "to", "step", "cause", "request"):
        events.add_column(name, overflow="fold")
    for e in data["events"]:
        events.add_row(str(e["at"] or "")[:19], str(e["campaign_id"]), str(e["name"]),
                       str(e["from_state"] or ""), str(e["to_state"] or ""),
                       str(e["step"] + 1), str(e["cause"] or ""), str(e["request_id"] or ""))
    console.print(events)
