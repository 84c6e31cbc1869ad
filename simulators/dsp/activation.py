"""SR 11.3, a critical command: CommandVariant 4 returns a pre-command, 5 brings it back signed.

CV4: the DSP checks the device and answers I0 with a GBCS pre-command (duis.gbcs) whose
originator counter is the request's. CV5: the DSP checks the Supplier's digital signature on
it (the User's digital-signing certificate) and that it is, byte for byte, a pre-command it
issued for that device; then the device activates now, at the execution time (0x8F66 /
0x8F67 then), or cancels a pending activation (execution time 3000-12-31).

Answers are RTDS-shaped (`payloads`): an immediate activation answers CS06 with the result
and the version then running; a future-dated one or a cancellation answers NULL (accepted)
and the 0x00CA alert tells the outcome later, sent in either placement the DCC uses (a
`DeviceAlertMessage`, or a `ResponseMessage` to the 11.3 carrying a
`FutureDatedDeviceAlertMessage`): the simulator alternates by the command's counter. A
PPMID that activated also raises CS09 0x8F8B.
"""
from __future__ import annotations

from dataclasses import dataclass

from duis import gbcs
from duis.build import CANCEL_AT
from duis.errors import DuisError
from duis.models import ActivateFirmware, PreCommand, Response, SignedPreCommand
from duis.requestid import RequestId
from simulators.dsp.admission import Admitted, Envelope, Rejected
from simulators.dsp.codes import ACTIVATE_MESSAGE_CODE
from simulators.dsp.context import ActivationRecord, DspContext, PreCommandRecord
from simulators.dsp.device import Answer, device_for, send_to_device
from simulators.dsp.messages import alert_response, future_dated_response, service_response
from simulators.dsp.payloads import activation_answer, future_dated_alert, ppmid_activation_alert
from simulators.fleet.behaviour import Activation, activate, check_held, version_bytes
from simulators.fleet.devices import PendingActivation

SIGNATURE_TRAILER = 1 + gbcs.SIGNATURE_LENGTH


@dataclass(frozen=True, slots=True)
class FutureActivation:
    """An event: a future-dated activation falls due on the device."""

    device: int
    request_id: RequestId


def handle_pre_command(ctx: DspContext, admitted: Admitted) -> Response:
    """CV4: answer with the pre-command the User must sign."""
    request = admitted.parsed.request
    assert isinstance(request, ActivateFirmware)
    i, rid = device_for(ctx, admitted), request.request_id
    at = request.execution_datetime
    payload = gbcs.encode_pre_command(rid.counter, rid.originator, rid.target,
                                      ACTIVATE_MESSAGE_CODE, request.firmware_hash, at)
    ctx.precommands[(rid.originator, rid.counter)] = PreCommandRecord(
        rid.target, request.firmware_hash.hex(), at, payload)
    running = ctx.fleet.running(i)
    version = (ctx.fleet.catalogue.entries[running].gbcs_version if running >= 0
               else ctx.fleet.hub(i)[1])
    return service_response(rid, rid.target, "I0", ctx.now(), "11.3",
                            pre_command=PreCommand(version, payload))


def handle_signed(ctx: DspContext, admitted: Admitted) -> Response:
    """CV5: verify the signed pre-command and send it on to the device."""
    request = admitted.parsed.request
    assert isinstance(request, SignedPreCommand)
    rid, envelope = request.request_id, Envelope(request.request_id, request.sr)
    i = device_for(ctx, admitted)
    try:
        message = gbcs.verify_signed_pre_command(request.gbcs_payload,
                                                 admitted.user.ds_public_key)
    except DuisError as err:
        raise Rejected("E44", f"pre-command signature: {err}", envelope) from err
    key = (rid.originator, message.originator_counter)
    record = ctx.precommands.get(key)
    if (record is None or record.device_id != rid.target
            or request.gbcs_payload[:-SIGNATURE_TRAILER] != record.payload):
        raise Rejected("E44", "not a pre-command the DCC issued for this device", envelope)
    del ctx.precommands[key]
    send_to_device(ctx, rid, i, "11.3", _action(ctx, i, rid, record), suspend_if_lost=True)
    return service_response(rid, rid.target, "I99", ctx.now(), "11.3")


def _action(ctx: DspContext, i: int, rid: RequestId, record: PreCommandRecord) -> Answer:
    at = record.execute_at
    if at is not None and at >= CANCEL_AT:
        return lambda: _cancel(ctx, i, rid)
    if at is not None:
        return lambda: _schedule(ctx, i, rid, record)
    return lambda: _activate_now(ctx, i, rid, record.image_hash)


def _answer(ctx: DspContext, i: int, rid: RequestId, result: int | None) -> bytes:
    version = version_bytes(ctx.fleet, i).hex().upper()
    return activation_answer(ctx.fleet.ids[i], rid, ctx.now(), result, version)


def _activate_now(ctx: DspContext, i: int, rid: RequestId, image_hash: str) -> bytes | None:
    outcome = activate(ctx.fleet, i, image_hash)
    _record(ctx, i, rid, outcome, future_dated=False)
    if outcome is Activation.BRICKED:
        return None
    if outcome is Activation.SUCCESS and ctx.fleet.device_type(i) == "PPMID":
        _ppmid_ran(ctx, i, rid.originator)
    return _answer(ctx, i, rid, int(outcome))


def _record(ctx: DspContext, i: int, rid: RequestId, outcome: Activation, *,
            future_dated: bool) -> None:
    ctx.stats[f"activation_{outcome.name.lower()}"] += 1
    ctx.activations.append(ActivationRecord(ctx.fleet.ids[i], ctx.now(), str(rid),
                                            future_dated, outcome.name.lower()))


def _cancel(ctx: DspContext, i: int, rid: RequestId) -> bytes:
    ctx.fleet.pending.pop(i, None)
    return _answer(ctx, i, rid, None)


def _schedule(ctx: DspContext, i: int, rid: RequestId,
              record: PreCommandRecord) -> bytes | None:
    assert record.execute_at is not None
    if record.execute_at <= ctx.now():
        return _activate_now(ctx, i, rid, record.image_hash)
    refused = check_held(ctx.fleet, i, record.image_hash)
    if refused is not None:
        return _answer(ctx, i, rid, int(refused))
    ctx.fleet.pending[i] = PendingActivation(record.image_hash, record.execute_at, str(rid))
    ctx.queue.push(record.execute_at, FutureActivation(i, rid))
    return _answer(ctx, i, rid, None)


def _ppmid_ran(ctx: DspContext, i: int, user: str) -> None:
    fleet, now, counter = ctx.fleet, ctx.now(), ctx.next_counter()
    version = version_bytes(fleet, i).hex().upper()
    alert = ppmid_activation_alert(fleet.ids[i], ctx.config.dcc_eui, counter, now, version)
    ctx.emit(user, alert_response(alert, fleet.ids[i], user, counter, now), now, alert=True)


def on_future_activation(ctx: DspContext, event: FutureActivation) -> None:
    """The device runs a pending activation and raises 0x8F66 (done) or 0x8F67 (failed)."""
    fleet, i = ctx.fleet, event.device
    pending = fleet.pending.get(i)
    if pending is None or pending.request_id != str(event.request_id) or fleet.is_bricked(i):
        return
    del fleet.pending[i]
    outcome = activate(fleet, i, pending.image_hash)
    _record(ctx, i, event.request_id, outcome, future_dated=True)
    if outcome is Activation.BRICKED:
        return
    code = 0x8F66 if outcome is Activation.SUCCESS else 0x8F67
    now, rid, counter = ctx.now(), event.request_id, ctx.next_counter()
    user, device = rid.originator, fleet.ids[i]
    alert = future_dated_alert(code, device, user, counter, now, rid.counter, int(outcome),
                               version_bytes(fleet, i).hex().upper())
    message = (future_dated_response(rid, alert, now) if rid.counter % 2 == 0
               else alert_response(alert, device, user, counter, now))
    ctx.emit(user, message, now, alert=True)
    if outcome is Activation.SUCCESS and fleet.device_type(i) == "PPMID":
        _ppmid_ran(ctx, i, user)
