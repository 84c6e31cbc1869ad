"""SR 11.1 / 11.4: screen each device into the five warning lists, then distribute.

Per device, the first failing check names its list: unknown, not the User's or not served by
this SR (InvalidDeviceIDList); not Commissioned (NotCommissionedDeviceIDList); image hash not
an Active CPL entry of the device's model (NotApplicableFirmwareDeviceIDList); another
firmware distribution under way (OtherRequestInProgressList); comms hub GBCS version below the
target entry's, or below the minimum for PPMID/HCALCS distribution (InvalidGBCSVersionList).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from duis.errors import ImageError
from duis.image import parse_header
from duis.models import FirmwareWarnings, Response, UpdateFirmware
from duis.requestid import RequestId
from simulators.dsp.admission import Admitted, Envelope, Rejected
from simulators.dsp.codes import DEVICE_RULES, HUB_MIN_GBCS, NO_RULE, SR_RULES
from simulators.dsp.context import DspContext
from simulators.dsp.messages import alert_response, delivery_status, service_response
from simulators.dsp.payloads import distribution_receipt, transfer_alert
from simulators.dsp.users import UserConfig
from simulators.fleet.behaviour import ImageFacts, image_facts, receive_image
from simulators.fleet.catalogue import gbcs_tuple
from simulators.fleet.devices import COMMISSIONED

INVALID, NOT_COMMISSIONED, NOT_APPLICABLE, IN_PROGRESS, INVALID_GBCS = range(5)


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
    screen = _Screen(ctx, user, request.sr.service_reference, image_hash)
    for device_id in dict.fromkeys(request.device_ids):
        i = ctx.fleet.position(device_id)
        verdict = INVALID if i is None else screen.verdict(i)
        if verdict is None:
            assert i is not None  # an unknown device's verdict is INVALID
            accepted.append(i)
        else:
            lists[verdict].append(device_id)
    return lists, accepted


class _Screen:
    """The per-device checks of one request, memoised on the fleet's small-int codes."""

    def __init__(self, ctx: DspContext, user: UserConfig, reference: str,
                 image_hash: str) -> None:
        self.ctx, self.user, self.reference, self.image_hash = ctx, user, reference, image_hash
        self.commissioned = ctx.fleet.statuses.code(COMMISSIONED)
        self.served: dict[tuple[int, int], bool] = {}
        self.targets: dict[int, int | None] = {}
        self.hub_ok: dict[tuple[str, int, int], bool] = {}

    def verdict(self, i: int) -> int | None:
        """The warning list the device belongs in, or None when it is accepted."""
        kind, model, status, hub, party = self.ctx.fleet.codes(i)
        if not self._served(kind, party):
            return INVALID
        if status != self.commissioned:
            return NOT_COMMISSIONED
        target = self._target(model)
        if target is None:
            return NOT_APPLICABLE
        if i in self.ctx.in_progress:
            return IN_PROGRESS
        return None if self._hub_ok(hub, target, kind) else INVALID_GBCS

    def _served(self, kind: int, party: int) -> bool:
        key = (kind, party)
        if key not in self.served:
            fleet = self.ctx.fleet
            rule = DEVICE_RULES.get(fleet.types.values[kind], NO_RULE)
            self.served[key] = (fleet.parties.values[party] == self.user.party
                                and not self.user.roles.isdisjoint(rule.roles)
                                and rule.firmware_sr == self.reference)
        return self.served[key]

    def _target(self, model: int) -> int | None:
        if model not in self.targets:
            manufacturer, name, _ = self.ctx.fleet.models.values[model]
            self.targets[model] = self.ctx.fleet.catalogue.active_for_model(
                self.image_hash, manufacturer, name)
        return self.targets[model]

    def _hub_ok(self, hub: int, target: int, kind: int) -> bool:
        fleet = self.ctx.fleet
        key = (fleet.hubs.values[hub][1], target, kind)
        if key not in self.hub_ok:
            needed = max(gbcs_tuple(fleet.catalogue.entries[target].gbcs_version),
                         gbcs_tuple(HUB_MIN_GBCS.get(fleet.types.values[kind], "0")))
            self.hub_ok[key] = gbcs_tuple(key[0]) >= needed
        return self.hub_ok[key]


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
            _transfer(ctx, 0x8F89, event, user, now)
        return
    verdict = receive_image(fleet, i, d.facts, d.version, ctx.dice.hit("verification_failure"))
    ctx.stats["verified" if verdict.ok else "verification_failed"] += 1
    if d.ppmid:
        _transfer(ctx, 0x8F8A if verdict.ok else 0x8F89, event, user, now)
        return
    at, counter = now + ctx.dice.delay("verification"), ctx.next_counter()
    alert = distribution_receipt(0x8F72 if verdict.ok else 0x8F1C, fleet.device_type(i),
                                 device_id, user, counter, at, verdict.computed_hash)
    ctx.emit(user, alert_response(alert, device_id, user, counter, at), at, alert=True)


def _transfer(ctx: DspContext, code: int, event: HanTransfer, user: str, at: datetime) -> None:
    """CCS08: the hub reports the transfer to the PPMID/HCALCS (0x8F8A done, 0x8F89 failed)."""
    fleet, counter = ctx.fleet, ctx.next_counter()
    hub, device = fleet.hub(event.device)[0], fleet.ids[event.device]
    alert = transfer_alert(code, hub, device, ctx.config.dcc_eui, counter, at,
                           event.distribution.version)
    ctx.emit(user, alert_response(alert, hub, user, counter, at), at, alert=True)
