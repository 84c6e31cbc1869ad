"""SR 11.2 (read the running firmware version from the device) and 8.2 (DCC inventory)."""
from __future__ import annotations

from duis.models import InventoryDevice, ReadInventory, Response
from duis.requestid import RequestId
from simulators.dsp.admission import Admitted, Envelope, Rejected
from simulators.dsp.context import DspContext
from simulators.dsp.device import device_for, send_to_device
from simulators.dsp.messages import service_response
from simulators.dsp.payloads import version_answer
from simulators.fleet.behaviour import version_bytes
from simulators.fleet.devices import COMMISSIONED, SUSPENDED

PREMISES_MAX = 17  # devices a DSPInventory answer lists at most


def handle_read_version(ctx: DspContext, admitted: Admitted) -> Response:
    """11.2: acknowledge, then the device answers with its running version."""
    i, rid = device_for(ctx, admitted), admitted.request_id
    if i in ctx.fleet.pending:  # the Supplier read before its dated activation ran
        ctx.stats["read_while_activation_pending"] += 1
    send_to_device(ctx, rid, i, "11.2", lambda: _read(ctx, i, rid))
    return service_response(rid, rid.target, "I99", ctx.now(), "11.2")


def _read(ctx: DspContext, i: int, rid: RequestId) -> bytes:
    """The version in the device type's 11.2 shape; a read-back of an Active entry lifts a
    Suspended device."""
    fleet = ctx.fleet
    running = fleet.running(i)
    if (fleet.status(i) == SUSPENDED and running >= 0
            and fleet.catalogue.entries[running].active):
        fleet.set_status(i, COMMISSIONED)
    return version_answer(fleet.device_type(i), fleet.ids[i], rid,
                          version_bytes(fleet, i).hex().upper(), ctx.config.dcc_eui)


def handle_inventory(ctx: DspContext, admitted: Admitted) -> Response:
    """8.2: the DCC inventory of the device's premises (the devices on its comms hub, up to
    PREMISES_MAX, the requested one first), answered at once."""
    request = admitted.parsed.request
    assert isinstance(request, ReadInventory)
    fleet, rid = ctx.fleet, request.request_id
    i = fleet.position(request.device_id)
    if i is None:
        raise Rejected("E19", f"device {request.device_id} does not exist",
                       Envelope(rid, request.sr))
    devices = tuple(_inventory_device(ctx, j) for j in fleet.premises(i)[:PREMISES_MAX])
    return service_response(rid, ctx.config.dcc_eui, "I0", ctx.now(), "8.2",
                            inventory=devices)


def _inventory_device(ctx: DspContext, i: int) -> InventoryDevice:
    fleet = ctx.fleet
    manufacturer, model, _ = fleet.model_of(i)
    running = fleet.running(i)
    entry = fleet.catalogue.entries[running] if running >= 0 else None
    return InventoryDevice(
        fleet.ids[i], fleet.device_type(i), manufacturer, model, fleet.status(i),
        fleet.running_version(i), entry.status if entry else None,
        entry.status if entry else None, entry.gbcs_version if entry else None,
    )
