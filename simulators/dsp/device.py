"""Commands sent on to one device (11.2, 11.3): checks, WAN faults and the device's answer."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from duis.requestid import RequestId
from simulators.dsp.admission import Admitted, Envelope, Rejected
from simulators.dsp.codes import DEVICE_RULES, DEVICE_SR_STATUSES, NO_RULE
from simulators.dsp.context import DspContext
from simulators.dsp.messages import device_answer, service_response
from simulators.fleet.devices import SUSPENDED

Answer = Callable[[], "bytes | None"]  # the device's GBCS answer; None: no answer


def device_for(ctx: DspContext, admitted: Admitted) -> int:
    """The targeted device, after existence (E19), ownership (E4), type (E11), status (E5)."""
    rid, sr = admitted.request_id, admitted.sr
    envelope = Envelope(rid, sr)
    fleet = ctx.fleet
    i = fleet.position(rid.target)
    if i is None:
        raise Rejected("E19", f"device {rid.target} does not exist", envelope)
    rule = DEVICE_RULES.get(fleet.device_type(i), NO_RULE)
    if fleet.party(i) != admitted.user.party or admitted.user.roles.isdisjoint(rule.roles):
        raise Rejected("E4", f"device {rid.target} is not {admitted.user.eui}'s", envelope)
    reference = sr.service_reference
    if reference not in rule.device_srs:
        raise Rejected("E11", f"SR {reference} does not apply to {fleet.device_type(i)}",
                       envelope)
    if fleet.status(i) not in DEVICE_SR_STATUSES[reference]:
        raise Rejected("E5", f"device status {fleet.status(i)} does not allow SR {reference}",
                       envelope)
    return i


@dataclass(frozen=True, slots=True)
class DeviceCommand:
    """An event: the command reaches the device, which acts and answers."""

    request_id: RequestId
    device: int
    reference: str
    act: Answer
    suspend_if_lost: bool


def send_to_device(ctx: DspContext, request_id: RequestId, i: int, reference: str,
                   act: Answer, *, suspend_if_lost: bool = False) -> None:
    """Forward a command over the WAN (E20 on a comms failure)."""
    now = ctx.now()
    trip = ctx.dice.delay("wan_round_trip") / 2
    if ctx.dice.hit("comms_failure"):
        error = service_response(request_id, request_id.target, "E20", now + trip, reference)
        ctx.emit(request_id.originator, error, now + trip, alert=False)
        return
    ctx.queue.push(now + trip, DeviceCommand(request_id, i, reference, act, suspend_if_lost))


def on_device_command(ctx: DspContext, command: DeviceCommand) -> None:
    """The device acts and answers; no answer (offline, bricked, fault) becomes E21."""
    now, rid = ctx.now(), command.request_id
    answer = None
    if ctx.reachable(command.device, now) and not ctx.dice.hit("no_response"):
        answer = command.act()
    if answer is None:
        at = now + ctx.dice.timings.no_response_timeout
        ctx.emit(rid.originator, service_response(rid, rid.target, "E21", at, command.reference),
                 at, alert=False)
        return
    at = now + ctx.dice.delay("wan_round_trip") / 2
    response = device_answer(rid, rid.target, at, answer, command.reference)
    if not ctx.emit(rid.originator, response, at, alert=False) and command.suspend_if_lost:
        ctx.fleet.set_status(command.device, SUSPENDED)
