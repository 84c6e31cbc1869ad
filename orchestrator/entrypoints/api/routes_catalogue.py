"""`/api/catalogue`: the current catalogue, its entries, snapshots, diffs, exposure, sync."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, Field

from orchestrator.domain.catalogue import Catalogue, CatalogueEntry
from orchestrator.entrypoints.api.deps import (
    NO_NUL,
    Operator,
    Page,
    Viewer,
    audited,
    page,
    state,
)
from orchestrator.errors import EntryNotFoundError, PermissionDeniedError, SyncRefusedError
from orchestrator.service import access
from orchestrator.service import catalogue as service
from orchestrator.service import fleet as fleet_service

router = APIRouter(prefix="/api/catalogue", tags=["catalogue"])
Text = Annotated[str | None, Query(max_length=200, pattern=NO_NUL)]


class SyncBody(BaseModel):
    """Sync from the given sources, or from the configured FWO_CATALOGUE_*_SOURCE."""

    cpl: str | None = Field(None, max_length=2000, pattern=NO_NUL,
                            description="file, directory or HTTPS URL")
    fir: str | None = Field(None, max_length=2000, pattern=NO_NUL)
    strict: bool = False
    allow_removals: bool = Field(False, description="accept large removals (admin only)")
    expect_sha256: list[Annotated[str, Field(max_length=200, pattern=NO_NUL)]] = Field(
        default_factory=list, max_length=4)
    reason: str = Field("", max_length=2000, pattern=NO_NUL)


def entry_dict(catalogue: Catalogue, entry: CatalogueEntry) -> dict[str, Any]:
    """An entry as `fwo catalogue show --json` prints it (with successors)."""
    return entry.to_dict() | {"successors": list(catalogue.successors(entry.cpl_entry_id))}


@router.get("", summary="The current snapshot's record")
def current(request: Request, _: Viewer) -> dict[str, Any]:
    """The current snapshot: sources, hashes, counts, problems and diff."""
    return service.snapshot(state(request).app.uow()).to_dict()


@router.get("/entries", summary="Entries of the current catalogue")
def entries(request: Request, _: Viewer, p: Annotated[Page, Depends(page)],
            manufacturer: Text = None, model: Text = None, status: Text = None) -> Any:
    """A page of entries, optionally filtered by manufacturer, model and status."""
    catalogue = state(request).app.catalogue(None)
    wanted = {"manufacturer": manufacturer, "model": model, "status": status}
    found = [e for e in catalogue if all(v is None or str(getattr(e, k)).lower() == v.lower()
                                         for k, v in wanted.items())]
    chosen = found[p.offset:p.offset + p.limit]
    return p.wrap([entry_dict(catalogue, e) for e in chosen], total=len(found))


@router.get("/entries/{entry_id}", summary="One CPL entry")
def entry(request: Request, entry_id: Annotated[str, Path(max_length=64)], _: Viewer) -> dict[str, Any]:
    """An entry with its predecessors, successors, contact and ZigBee data."""
    catalogue = state(request).app.catalogue(None)
    found = catalogue.get(entry_id)
    if found is None:
        raise EntryNotFoundError(f"no CPL entry {entry_id!r} in snapshot {catalogue.snapshot_id}")
    return entry_dict(catalogue, found)


@router.get("/snapshots", summary="Recent snapshots")
def snapshots(request: Request, _: Viewer,
              limit: Annotated[int, Query(ge=1, le=500)] = 20) -> list[dict[str, Any]]:
    """Recent snapshots with file hashes and counts (problems and diffs left out)."""
    with state(request).app.uow() as uow:
        records = uow.catalogue.snapshots(limit)
    return [{k: v for k, v in r.to_dict().items() if k not in ("problems", "diff")}
            | {"problem_count": len(r.problems)} for r in records]


@router.get("/diff", summary="What a sync changed")
def diff(request: Request, _: Viewer,
         snapshot_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> Any:
    """Added, removed and changed entries against the previous snapshot."""
    record = service.snapshot(state(request).app.uow(), snapshot_id)
    return {"snapshot_id": record.id, "previous_snapshot_id": record.previous_snapshot_id,
            **record.diff}


@router.get("/exposure", summary="Entries (and devices) on a ZigBee chipset / stack")
def exposure(request: Request, _: Viewer, chipset: Annotated[str, Query(max_length=200, pattern=NO_NUL)],
             stack: Text = None, devices: bool = False) -> dict[str, Any]:
    """Entries running a ZigBee chipset vendor (and stack version); optionally the fleet."""
    app = state(request).app
    found = app.catalogue(None).exposure(chipset, stack)
    body: dict[str, Any] = {"chipset_vendor": chipset, "stack_version": stack,
                            "entries": [e.to_dict() for e in found]}
    if devices:
        body["devices"] = fleet_service.device_exposure(app.uow(), chipset, stack).to_dict()
    return body


def require_admin(user: access.Principal, what: str) -> None:
    """PermissionDeniedError (403) naming what needs the admin role."""
    if not user.can("admin"):
        raise PermissionDeniedError(f"{user.name} ({user.role}) may not {what}: needs the "
                                    "admin role")


@router.post("/sync", summary="Sync the CPL and FIR into a new snapshot")
def sync(request: Request, body: SyncBody, user: Operator) -> dict[str, Any]:
    """Fetch, check, read and store a new snapshot (or change nothing)."""
    app = state(request).app
    cpl = body.cpl or app.settings.catalogue_cpl_source
    fir = body.fir or app.settings.catalogue_fir_source
    if not (cpl and fir):
        raise SyncRefusedError("no sources: give cpl and fir, or set "
                                 "FWO_CATALOGUE_CPL_SOURCE and FWO_CATALOGUE_FIR_SOURCE")
    configured = (app.settings.catalogue_cpl_source, app.settings.catalogue_fir_source)
    if not all(service.source_allowed(s, configured, app.settings.catalogue_source_patterns)
               for s in (cpl, fir)):
        require_admin(user, "give a source outside FWO_CATALOGUE_SOURCE_PATTERNS")
    if body.allow_removals:
        require_admin(user, "sync with allow_removals")
    command = service.SyncCatalogue(cpl, fir, body.strict, tuple(body.expect_sha256),
                                    allow_removals=body.allow_removals,
                                    max_removed_share=app.settings.catalogue_max_removed_share)
    result = audited(request, user, "catalogue.sync", "catalogue", body.reason,
                     lambda entry: service.sync_catalogue(command, app.uow(), app.fetch_options(),
                                                          entry=entry),
                     {"cpl": cpl, "fir": fir})
    return result.to_dict()
