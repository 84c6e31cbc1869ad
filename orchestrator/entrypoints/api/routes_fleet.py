"""`/api/fleet`: devices, one device with its campaign history, inventory import."""
from __future__ import annotations

import datetime as dt
import shutil
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile

from orchestrator.bootstrap import App
from orchestrator.domain import fleet as fleet_domain
from orchestrator.domain.moments import aware
from orchestrator.entrypoints.api.deps import (
    NO_NUL,
    DevicePath,
    Operator,
    Page,
    Viewer,
    audited,
    page,
    state,
)
from orchestrator.errors import DeviceNotFoundError, FleetError, SelectionError
from orchestrator.service import fleet as service
from orchestrator.service import reports

router = APIRouter(prefix="/api/fleet", tags=["fleet"])
Select = Annotated[list[str] | None, Query(
    max_length=20, description="key=value filters (comma-separated values mean OR)")]


@router.get("/devices", summary="Devices of the fleet inventory")
def devices(request: Request, _: Viewer, p: Annotated[Page, Depends(page)],
            select: Select = None) -> dict[str, Any]:
    """A page of selected devices with their identified current CPL entry."""
    specs = checked_select(select)
    found = service.show_devices(state(request).app.uow(), specs, p.offset + p.limit)
    return p.wrap([d.to_dict() | {"current_entry": e} for d, e in found[p.offset:]])


@router.get("/compliance", summary="Fleet compliance by manufacturer and model")
def compliance(request: Request, _: Viewer) -> dict[str, Any]:
    """Per model: current, planned (path lengths), blocked (why, contact), on no CPL entry;
    exposure by ZigBee chipset and stack."""
    return reports.fleet_compliance(state(request).app.uow())


@router.get("/devices/{device_id}", summary="One device")
def device(request: Request, device_id: DevicePath, _: Viewer) -> dict[str, Any]:
    """A device's last observation and its identified current CPL entry."""
    found = service.show_devices(state(request).app.uow(), [f"device_id={eui(device_id)}"], 1)
    if not found:
        raise DeviceNotFoundError(f"device {device_id} is not in the fleet inventory")
    d, entry = found[0]
    return d.to_dict() | {"current_entry": entry}


@router.get("/devices/{device_id}/history", summary="A device's campaign history")
def history(request: Request, device_id: DevicePath, _: Viewer,
            limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> dict[str, Any]:
    """Every campaign job of the device and every recorded transition, oldest first."""
    return device_history(state(request).app, device_id, limit)


def eui(device_id: str) -> str:
    """The canonical EUI-64 of a device path; anything else names no device (404)."""
    try:
        return fleet_domain.device_id(device_id)
    except ValueError as err:
        raise DeviceNotFoundError(f"{device_id!r} is not a device ID (EUI-64, 16 hexadecimal "
                                  "digits)") from err


def device_history(app: App, device_id: str, limit: int = 500) -> dict[str, Any]:
    """Jobs and job events of one device (shared by the API and the dashboard)."""
    return reports.device_history(app.uow(), eui(device_id), limit)


@router.post("/import", summary="Import an inventory CSV")
def import_csv(request: Request, user: Operator, file: Annotated[UploadFile, File()],
               observed_at: Annotated[str | None, Form(max_length=64)] = None,
               reason: Annotated[str, Form(max_length=2000, pattern=NO_NUL)] = "") -> dict[str, Any]:
    """Upsert every good row of an uploaded CSV; report rejected rows with line and why."""
    app = state(request).app
    when = _timestamp(observed_at) if observed_at else app.clock().now()
    path = _save(app.settings.data_dir / "uploads", file)
    try:
        result = audited(request, user, "fleet.import", "fleet", reason,
                         lambda entry: service.import_fleet(
                             app.uow(), path, when, f"api:{file.filename or 'upload'}", entry),
                         {"filename": file.filename})
    finally:
        path.unlink(missing_ok=True)
    return result.to_dict()


def checked_select(specs: list[str] | None) -> list[str]:
    """Selection specs, refusing NUL characters and over-long values as bad input."""
    for spec in specs or []:
        if "\x00" in spec or len(spec) > 500:
            raise SelectionError(f"--select {spec[:50]!r}: NUL or over 500 characters")
    return list(specs or [])


def _save(directory: Path, upload: UploadFile) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as handle:
        shutil.copyfileobj(upload.file, handle)
    return path


def _timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as err:
        raise FleetError(f"observed_at {text!r} is not an ISO 8601 time") from err
    return aware(value)
