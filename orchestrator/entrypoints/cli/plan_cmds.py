"""`fwo plan`: plan every selected device's upgrade path."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from orchestrator.domain.errors import PolicyError
from orchestrator.domain.plan_report import ReportOptions
from orchestrator.domain.policy import Budget, Policy
from orchestrator.domain.policy_input import merge_budgets, parse_budgets
from orchestrator.entrypoints.cli.common import (
    ReasonOpt,
    TokenOpt,
    app_from_env,
    console,
    operated,
    print_json,
)
from orchestrator.entrypoints.cli.errors import user_errors
from orchestrator.errors import PlanningError
from orchestrator.service.planning import PlanFleet, PlanResult, plan_fleet

CSV_COLUMNS = ("device_id", "status", "reason", "current_entry", "target_entry", "path",
               "next_action", "message")


def register(app: typer.Typer) -> None:
    """Attach `fwo plan` to the root app."""
    app.command("plan")(plan)


@user_errors
def plan(
    target: Annotated[str, typer.Option(help="`latest` or a CPL Entry ID.")] = "latest",
    select: Annotated[list[str] | None, typer.Option(
        "--select", help="Filter key=value (repeatable; comma-separated values mean OR).")
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Summary and devices as JSON.")] = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write devices here.")] = None,
    allow_unknown_predecessors: Annotated[bool, typer.Option(
        help="Assume the next lower version for entries without predecessor data.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, help="Devices per 11.1/11.4.")] = 500,
    budget: Annotated[list[str] | None, typer.Option(
        help="SR=LIMIT[/SECONDS], e.g. 11.1=100/3600 (repeatable; others keep the default).")
    ] = None,
    store: Annotated[bool, typer.Option(
        help="Store the plan for campaigns (operator; --no-store needs no token).")] = True,
    reason: ReasonOpt = "",
    token: TokenOpt = "",
) -> None:
    """Plan the selected devices' upgrade paths; store the plan and print its report."""
    if json_out and csv_file:
        raise PlanningError("--json and --csv are alternatives: choose one")
    options = ReportOptions(batch_size, _budgets(budget or []))
    command = PlanFleet(target, tuple(select or ()), allow_unknown_predecessors, options, store)
    app = app_from_env()
    result = operated(app, token, "plan.create", "plans", reason,
                      lambda entry: plan_fleet(command, app.uow(), entry=entry),
                      {"target": target, "selection": list(select or ())}
                      ) if store else plan_fleet(command, app.uow())
    if json_out:
        print_json(result.to_dict())
        return
    if csv_file:
        write_csv(csv_file, result)
    print_report(result, csv_file)


def _budgets(specs: list[str]) -> tuple[Budget, ...]:
    """The campaign policy's default budgets, each given one replacing its SR type's."""
    try:
        return merge_budgets(Policy().budgets, parse_budgets(specs))
    except PolicyError as err:
        raise PlanningError(str(err)) from err


def write_csv(path: Path, result: PlanResult) -> None:
    """One row per device; the path as entry IDs separated by `;`."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for p in result.devices:
            o = p.outcome
            writer.writerow((p.device_id, o.status, o.reason or "", o.current_entry or "",
                             o.target_entry or "", ";".join(o.path), o.next_action.action,
                             o.next_action.message))


def print_report(result: PlanResult, csv_file: Path | None, blocked_rows: int = 15) -> None:
    """The human report: counts, models, path lengths, campaign, blocked groups."""
    s = result.summary
    stored = f"plan {result.plan_id}" if result.plan_id else "plan (not stored)"
    console.print(f"[bold]{stored}[/]: {s['devices']:,} devices against snapshot "
                  f"{result.snapshot_id}, target {result.target}")
    _table("status / reason", [*s["by_status"].items(), *s["by_reason"].items()])
    _table("path length", list(s["path_lengths"].items()))
    _model_table(s["by_model"][:10])
    c = s["campaign"]
    budgets = ", ".join(f"{sr} {b['limit']:,}/{b['period_s']:g} s"
                        for sr, b in c["budgets"].items())
    console.print(f"Campaign: {c['device_steps']:,} device-steps over {c['images']} images; "
                  f"requests {c['requests']}; at least {c['hours']:g} h under budgets "
                  f"{budgets}", highlight=False)
    _blocked_table(s["blocked"][:blocked_rows])
    if s.get("carried_entries"):
        console.print("Entries kept from an earlier snapshot (this sync rejected their CPL "
                      f"row): {', '.join(s['carried_entries'])}", highlight=False)
    if csv_file:
        console.print(f"Devices written to {csv_file}")


def _table(title: str, rows: list[tuple[str, Any]]) -> None:
    table = Table(title=title)
    table.add_column(title)
    table.add_column("devices", justify="right")
    for name, count in rows:
        table.add_row(str(name), f"{count:,}")
    console.print(table)


def _model_table(rows: list[dict[str, Any]]) -> None:
    table = Table(title="by model (top 10)")
    for name in ("manufacturer", "model", "devices", "planned", "up_to_date", "blocked"):
        table.add_column(name, justify="right" if name not in ("manufacturer", "model") else "left")
    for r in rows:
        table.add_row(r["manufacturer"], r["model"], *(f"{r[k]:,}" for k in
                                                       ("devices", "planned", "up_to_date",
                                                        "blocked")))
    console.print(table)


def _blocked_table(groups: list[dict[str, Any]]) -> None:
    if not groups:
        return
    table = Table(title="blocked devices: next actions (largest groups)")
    for name in ("reason", "devices", "next action", "contact", "e.g."):
        table.add_column(name, overflow="fold")
    for g in groups:
        action = g["next_action"]
        table.add_row(g["reason"], f"{g['devices']:,}", action["message"],
                      action.get("contact", {}).get("email", ""),
                      ", ".join(g["sample_device_ids"][:2]))
    console.print(table)
