"""SR 11.1 / 11.4: screen each device into the five warning lists, then distribute.

Per device, the first failing check names its list: unknown, not the User's or not served by
this SR (InvalidDeviceIDList); not Commissioned (NotCommissionedDeviceIDList); image hash not
an Active CPL entry of the device's model (NotApplicableFirmwareDeviceIDList); another
firmware distribution under way (OtherRequestInProgressList); comms hub GBCS version below the
target entry's, or below the minimum for PPMID/HCALCS distribution (InvalidGBCSVersionList).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from duis.errors import ImageError
from duis.image import parse_header
from duis.models import FirmwareWarnings, Response, UpdateFirmware
from duis.requestid import RequestId
from simulators.dsp.admission import Admitted, Envelope, Rejected
from simulators.dsp.codes import DEVICE_RULES, HUB_MIN_GBCS, NO_RULE, SR_RULES
from simulators.dsp.context import DspContext
from simulators.dsp.messages import delivery_status, device_alert, service_response
from simulators.dsp.users import UserConfig
from simulators.fleet.behaviour import ImageFacts, image_facts, receive_image
from simulators.fleet.catalogue import gbcs_tuple
from simulators.fleet.devices import COMMISSIONED

INVALID, NOT_COMMISSIONED, NOT_APPLICABLE, IN_PROGRESS, INVALID_GBCS = range(5)
_gbcs = functools.lru_cache(maxsize=64)(gbcs_tuple)


@dataclass(frozen=True, slots=True)
class Distribution:
    """One accepted 11.1/11.4: what every device of it receives."""

    request_id: RequestId
    facts: ImageFacts
    version: str
    ppmid: bool


@dataclass(frozen=True, slots=True)
class HanTransfer:
    """An event: the image reaches the device over the HAN (or fails to)."""

    distribution: Distribution
    device: int


def handle_update(ctx: DspContext, admitted: Admitted) -> Response:
    """Validate an 11.1/11.4, answer with the warning lists, schedule the transfers."""
    request = admitted.parsed.request
    assert isinstance(request, UpdateFirmware)
    prefix = SR_RULES[request.sr.key].prefix
    _check_image(request, prefix, Envelope(request.request_id, request.sr))
    facts = image_facts(request.image, admitted.user.ds_public_key, request.ppmid)
    lists, accepted = _screen(ctx, admitted.user, request, facts.manufacturer_hash.hex())
    warnings = FirmwareWarnings(*(tuple(ids) for ids in lists))
    distribution = Distribution(request.request_id, facts, request.firmware_version,
                                request.ppmid)
    _schedule(ctx, distribution, accepted)
    code = "I99" if not warnings.rejected else f"W{prefix[1:]}01" if accepted else f"{prefix}01"
    ctx.stats["devices_accepted"] += len(accepted)
    return service_response(request.request_id, ctx.config.dcc_eui, code, ctx.now(),
                            request.sr.service_reference,
                            warnings=warnings if warnings.rejected else None)


def _check_image(request: UpdateFirmware, prefix: str, envelope: Envelope) -> None:
    try:
        header = parse_header(request.image)
    except ImageError as err:
        raise Rejected(f"{prefix}02", str(err), envelope) from err
    if f"{header.file_version:08X}" != request.firmware_version.upper().rjust(8, "0"):
        raise Rejected(f"{prefix}03", f"FirmwareVersion {request.firmware_version} is not the "
                       f"header's {header.file_version:08X}", envelope)


def _screen(ctx: DspContext, user: UserConfig, request: UpdateFirmware, image_hash: str
            ) -> tuple[list[list[str]], list[int]]:
    lists: list[list[str]] = [[], [], [], [], []]
    accepted: list[int] = []
    targets: dict[int, int | None] = {}
    reference = request.sr.service_reference
    for device_id in dict.fromkeys(request.device_ids):
        i = ctx.fleet.position(device_id)
        verdict = INVALID if i is None else _verdict(ctx, user, i, reference, image_hash, targets)
        if verdict is None:
            accepted.append(i)  # type: ignore[arg-type]
        else:
            lists[verdict].append(device_id)
    return lists, accepted


def _verdict(ctx: DspContext, user: UserConfig, i: int, reference: str, image_hash: str,
             targets: dict[int, int | None]) -> int | None:
    fleet = ctx.fleet
    device_type = fleet.device_type(i)
    rule = DEVICE_RULES.get(device_type, NO_RULE)
    if (fleet.party(i) != user.party or user.role not in rule.roles
            or rule.firmware_sr != reference):
        return INVALID
    if fleet.status(i) != COMMISSIONED:
        return NOT_COMMISSIONED
    model = fleet.model_code(i)
    if model not in targets:
        manufacturer, name, _ = fleet.models.values[model]
        targets[model] = fleet.catalogue.active_for_model(image_hash, manufacturer, name)
    target = targets[model]
    if target is None:
        return NOT_APPLICABLE
    if i in ctx.in_progress:
        return IN_PROGRESS
    hub_gbcs = _gbcs(fleet.hub(i)[1])
    needed = max(_gbcs(fleet.catalogue.entries[target].gbcs_version),
                 _gbcs(HUB_MIN_GBCS.get(device_type, "0")))
    return INVALID_GBCS if hub_gbcs < needed else None


def _schedule(ctx: DspContext, distribution: Distribution, accepted: list[int]) -> None:
    now, rid = ctx.now(), distribution.request_id
    for i in accepted:
        ctx.in_progress[i] = rid
        ctx.queue.push(now + ctx.dice.delay("han_delivery"), HanTransfer(distribution, i))


def on_transfer(ctx: DspContext, event: HanTransfer) -> None:
    """The HAN transfer ends: N60 and the device's verdict, or N61."""
    d, i, fleet = event.distribution, event.device, ctx.fleet
    if ctx.in_progress.get(i) == d.request_id:
        del ctx.in_progress[i]
    now, user = ctx.now(), d.request_id.originator
    device_id, hub_id = fleet.ids[i], fleet.hub(i)[0]
    delivered = ctx.reachable(i, now) and not ctx.dice.hit("delivery_failure")
    n6x = delivery_status(d.request_id, hub_id, device_id, d.version, delivered,
                          ctx.config.dcc_eui, ctx.next_counter(), now)
    ctx.emit(user, n6x, now, alert=True)
    if not delivered:
        if d.ppmid:
            _alert(ctx, 0x8F89, device_id, user, now)
        return
    verdict = receive_image(fleet, i, d.facts, d.version, ctx.dice.hit("verification_failure"))
    ctx.stats["verified" if verdict.ok else "verification_failed"] += 1
    if d.ppmid:
        _alert(ctx, 0x8F8A if verdict.ok else 0x8F89, device_id, user, now)
        return
    at = now + ctx.dice.delay("verification")
    _alert(ctx, 0x8F72 if verdict.ok else 0x8F1C, device_id, user, at, verdict.computed_hash)


def _alert(ctx: DspContext, code: int, device_id: str, user: str, at: datetime,
           firmware_hash: bytes | None = None) -> None:
    alert = device_alert(code, device_id, user, ctx.next_counter(), at, firmware_hash)
    ctx.emit(user, alert, at, alert=True)
