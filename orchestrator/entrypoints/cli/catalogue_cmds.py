"""`fwo catalogue ...`: sync the CPL and FIR, and query the catalogue."""
from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.entrypoints.cli.common import (
    ReasonOpt,
    TokenOpt,
    app_from_env,
    console,
    operated,
    print_json,
)
from orchestrator.entrypoints.cli.errors import fail, user_errors
from orchestrator.errors import EntryNotFoundError
from orchestrator.service import catalogue as service
from orchestrator.service import fleet as fleet_service

app = typer.Typer(help="Sync the CPL and FIR and query the catalogue.", no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]


@app.command()
@user_errors
def sync(
    cpl: Annotated[str, typer.Option(help="CPL source: file, directory or HTTPS URL.")],
    fir: Annotated[str, typer.Option(help="FIR source: file, directory or HTTPS URL.")],
    expect_sha256: Annotated[list[str] | None, typer.Option(
        help="Pin a file's SHA-256: [cpl=|fir=]HEX (bare: must match one of the two).")] = None,
    signature: Annotated[list[str] | None, typer.Option(
        help="Detached signature: [cpl=|fir=]FILE (bare: must verify one of the two).")] = None,
    public_key: Annotated[str | None, typer.Option(help="PEM public key or certificate.")] = None,
    strict: Annotated[bool, typer.Option(help="Refuse the sync on any problem.")] = False,
    allow_removals: Annotated[bool, typer.Option(
        help="Accept a sync that removes more than FWO_CATALOGUE_MAX_REMOVED_SHARE of the "
             "entries or every entry of a manufacturer.")] = False,
    csv_encoding: Annotated[str | None, typer.Option(
        help="Declared encoding of CSV sources (e.g. cp1252); default UTF-8.")] = None,
    reason: ReasonOpt = "",
    token: TokenOpt = "",
    json_out: JsonOpt = False,
) -> None:
    """Replace the catalogue with the given CPL and FIR, or leave it untouched on refusal
    (operator)."""
    application = app_from_env()
    command = service.SyncCatalogue(
        cpl, fir, strict, tuple(expect_sha256 or ()), tuple(signature or ()), public_key,
        allow_removals, application.settings.catalogue_max_removed_share, csv_encoding)
    result = operated(application, token, "catalogue.sync", "catalogue", reason,
                      lambda entry: service.sync_catalogue(command, application.uow(),
                                                           application.fetch_options(),
                                                           entry=entry),
                      {"cpl": cpl, "fir": fir})
    if json_out:
        print_json(result.to_dict())
        return
    data = result.to_dict()
    state = "unchanged" if result.unchanged else "new snapshot"
    console.print(f"[bold]Snapshot {result.snapshot_id}[/] ({state}): "
                  f"{result.cpl_entries} CPL entries, {result.fir_entries} FIR rows; "
                  f"+{data['added']} -{data['removed']} ~{data['changed']}"
                  + (f", {data['carried']} carried over" if data["carried"] else ""))
    _print_problems(result.problems)
    for entry_id in result.diff.get("carried", []):
        console.print(f"entry {entry_id}: a row was rejected; its last good version is "
                      f"kept (`fwo catalogue show --entry {entry_id}`)", highlight=False)


def _print_problems(problems: list[dict[str, Any]], limit: int = 20) -> None:
    if not problems:
        return
    table = Table(title=f"{len(problems)} problem(s): rows or previous-version lists rejected")
    names = ("file", "sheet", "row", "cpl_entry_id", "column", "value", "reason")
    for name in names:
        table.add_column("entry" if name == "cpl_entry_id" else name, overflow="fold")
    for p in problems[:limit]:
        table.add_row(*(str(p.get(k) if p.get(k) is not None else "") for k in names))
    console.print(table)
    if len(problems) > limit:
        console.print(f"... and {len(problems) - limit} more (use --json for all)")


@app.command()
@user_errors
def show(
    entry: Annotated[str | None, typer.Option(help="Only this CPL Entry ID.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the current catalogue's entries (or one entry)."""
    catalogue = service.current_catalogue(app_from_env().uow())
    entries = list(catalogue)
    if entry is not None:
        found = catalogue.get(entry)
        if found is None:
            raise EntryNotFoundError(f"no CPL entry {entry!r} in snapshot {catalogue.snapshot_id}")
        entries = [found]
    if json_out:
        print_json([_with_graph(catalogue, e) for e in entries])
        return
    _entry_table(entries, f"Catalogue snapshot {catalogue.snapshot_id}: {len(entries)} entries")


def _with_graph(catalogue: Catalogue, entry: CatalogueEntry) -> dict[str, Any]:
    data = entry.to_dict()
    data["successors"] = list(catalogue.successors(entry.cpl_entry_id))
    return data


def _entry_table(entries: list[CatalogueEntry], title: str) -> None:
    table = Table(title=title)
    for name in ("entry", "type", "manufacturer", "model", "hw", "firmware", "status",
                 "previous", "contact"):
        table.add_column(name)
    for e in entries:
        previous = "unknown" if e.predecessors is None else (", ".join(e.predecessors) or "N/A")
        status = e.status + (" *" if e.carried_over else "")
        table.add_row(e.cpl_entry_id, e.device_type, e.manufacturer, e.model,
                      e.hardware_version, e.firmware_version, status, previous,
                      e.contact_email)
    console.print(table)
    for e in entries:
        if e.carried_over is not None:
            console.print(f"* entry {e.cpl_entry_id} carried over, "
                          f"{e.carried_over.describe()}", highlight=False)


@app.command()
@user_errors
def diff(
    snapshot: Annotated[int | None, typer.Option(help="Snapshot id (default current).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """What the last sync (or a given snapshot) changed against the one before."""
    record = service.snapshot(app_from_env().uow(), snapshot)
    data = {"snapshot_id": record.id, "previous_snapshot_id": record.previous_snapshot_id,
            **record.diff}
    if json_out:
        print_json(data)
        return
    console.print(f"[bold]Snapshot {record.id}[/] against {record.previous_snapshot_id}: "
                  f"{len(record.diff['added'])} added, {len(record.diff['removed'])} removed, "
                  f"{len(record.diff['changed'])} changed {record.diff.get('changed_by_kind', {})}"
                  + (f"; carried over: {', '.join(record.diff['carried'])}"
                     if record.diff.get("carried") else ""), highlight=False)
    for change in record.diff["changed"][:50]:
        fields = ", ".join(f"{k}: {v['old']!r} -> {v['new']!r}"
                           for k, v in change["fields"].items())
        console.print(f"  {change['cpl_entry_id']}: {fields}", highlight=False)


@app.command()
@user_errors
def exposure(
    chipset: Annotated[str, typer.Option(help="ZigBee chipset vendor.")],
    stack: Annotated[str | None, typer.Option(help="ZigBee stack version.")] = None,
    devices: Annotated[bool, typer.Option(help="Also count the fleet's devices.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Entries running a ZigBee chipset vendor (and stack version)."""
    application = app_from_env()
    entries = service.current_catalogue(application.uow()).exposure(chipset, stack)
    found = fleet_service.device_exposure(application.uow(), chipset, stack) if devices else None
    if json_out:
        print_json({"chipset_vendor": chipset, "stack_version": stack,
                    "entries": [e.to_dict() for e in entries]}
                   | ({"devices": found.to_dict()} if found else {}))
        return
    _entry_table(entries, f"{len(entries)} entries on {chipset} {stack or '(any stack)'}")
    if found:
        console.print(f"{len(found.device_ids):,} devices exposed: " + ", ".join(
            f"{e} {n:,}" for e, n in found.by_entry.items() if n), highlight=False)


@app.command()
@user_errors
def lineage(
    manufacturer: Annotated[str, typer.Option(help="Manufacturer code.")],
    model: Annotated[str, typer.Option(help="Model code.")],
    hardware_version: Annotated[str | None, typer.Option(help="Hardware version.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """A model's firmware entries, oldest first, with their upgrade edges."""
    catalogue = service.current_catalogue(app_from_env().uow())
    entries = catalogue.lineage(manufacturer.upper(), model.upper(),
                                hardware_version.upper() if hardware_version else None)
    if not entries:
        fail(f"no entries for manufacturer {manufacturer} model {model}")
    if json_out:
        print_json([_with_graph(catalogue, e) for e in entries])
        return
    _entry_table(entries, f"Lineage of {manufacturer}/{model}")


@app.command()
@user_errors
def history(limit: Annotated[int, typer.Option(help="How many.")] = 20,
            json_out: JsonOpt = False) -> None:
    """Recent catalogue snapshots: when, from what, with which hashes."""
    application = app_from_env()
    with application.uow() as uow:
        records = uow.catalogue.snapshots(limit)
    if json_out:
        print_json([{k: v for k, v in r.to_dict().items() if k not in ("problems", "diff")}
                    | {"problem_count": len(r.problems)} for r in records])
        return
    table = Table(title="Catalogue snapshots")
    for name in ("id", "created", "entries", "fir", "problems", "cpl sha256", "fir sha256"):
        table.add_column(name)
    for r in records:
        table.add_row(str(r.id), str(r.created_at)[:19], str(r.cpl_entries), str(r.fir_entries),
                      str(len(r.problems)), r.cpl_file_sha256[:16], r.fir_file_sha256[:16])
    console.print(table)
