"""The simulated DSP as a discrete-event simulation.

`submit(xml)` checks a signed DUIS request, answers synchronously (DCC-signed bytes) and
schedules what follows (device commands, HAN transfers, responses, alerts) on an event queue
keyed by simulated time. `advance_to(t)` runs every event due by `t` in time order, moving
the clock to each, and delivers the messages to the receiver; `next_event_time()` says when
the next one falls due. Nothing happens between calls, so a dry run is deterministic.
"""
from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

import structlog

from duis.models import Response
from duis.respond import sign_response
from duis.sign import SigningIdentity
from simulators import ReceiverError
from simulators.clock import SimulatedClock
from simulators.dsp import activation, device, firmware, reads
from simulators.dsp.admission import Admitted, Rejected, admit
from simulators.dsp.codes import SR_RULES
from simulators.dsp.config import DspConfig
from simulators.dsp.context import ActivationRecord, Decision, DspContext, Outbound
from simulators.dsp.messages import quarantined, service_response
from simulators.dsp.receivers import CollectingReceiver, Receiver
from simulators.dsp.users import UserConfig, UserRegistry
from simulators.faults import FaultDice, FaultProfile, profile
from simulators.fleet.devices import Fleet

log = structlog.get_logger(__name__)

REQUEST_HANDLERS: dict[str, Callable[[DspContext, Admitted], Response]] = {
    "update_firmware": firmware.handle_update,
    "update_ppmid_firmware": firmware.handle_update,
    "activate_firmware": activation.handle_pre_command,
    "activate_firmware_signed": activation.handle_signed,
    "read_firmware_version": reads.handle_read_version,
    "read_inventory": reads.handle_inventory,
}
EVENT_HANDLERS: dict[type, Callable[[DspContext, Any], None]] = {
    firmware.HanTransfer: firmware.on_transfer,
    device.DeviceCommand: device.on_device_command,
    activation.FutureActivation: activation.on_future_activation,
}
UNNAMED_REFERENCE = "11.1"  # answers to requests too broken to name their SR
RETRY_AFTER, MAX_ATTEMPTS = timedelta(minutes=1), 10


class Dsp:
    """A DCC DSP with its fleet: submit requests, advance time, receive what follows."""

    def __init__(self, config: DspConfig, fleet: Fleet, clock: SimulatedClock,
                 users: Iterable[UserConfig], dcc_identity: SigningIdentity, *,
                 faults: str | FaultProfile = "none", seed: int = 0,
                 receiver: Receiver | None = None) -> None:
        dice = FaultDice(profile(faults), seed)
        self.ctx = DspContext(config, fleet, clock, dice, UserRegistry(users))
        self.receiver: Receiver = receiver if receiver is not None else CollectingReceiver()
        self.dcc_identity = dcc_identity
        self._lock = threading.RLock()

    @property
    def fleet(self) -> Fleet:
        """The simulated devices (truth: running entries, bricked devices)."""
        return self.ctx.fleet

    @property
    def clock(self) -> SimulatedClock:
        """Simulated time."""
        return self.ctx.clock

    @property
    def faults(self) -> FaultProfile:
        """The fault profile in force."""
        return self.ctx.dice.profile

    # ---- requests ------------------------------------------------------------------------
    def submit(self, xml: bytes) -> bytes:
        """Check and act on a signed DUIS request; return the signed synchronous response."""
        with self._lock:
            return sign_response(self._answer(xml), self.dcc_identity)

    def send(self, xml: bytes) -> bytes:
        """`submit` under the name of the orchestrator's DspGateway port."""
        return self.submit(xml)

    def _answer(self, xml: bytes) -> Response:
        ctx = self.ctx
        try:
            admitted = admit(ctx, xml)
            response = self._handle(admitted)
        except Rejected as err:
            rid, sr = err.envelope.request_id, err.envelope.sr
            reference = sr.service_reference if sr else UNNAMED_REFERENCE
            self._record(str(rid) if rid else None, reference, err.code, err.reason)
            responder = rid.target if rid else ctx.config.dcc_eui
            return service_response(rid, responder, err.code, ctx.now(), reference)
        self._record(str(admitted.request_id), admitted.sr.service_reference,
                     response.header.response_code, "")
        return response

    def _handle(self, admitted: Admitted) -> Response:
        ctx, rid = self.ctx, admitted.request_id
        counted = SR_RULES[admitted.sr.key].counted_as
        if counted and not ctx.anomaly.admit(admitted.user.eui, counted, ctx.now()):
            at = ctx.now() + ctx.dice.timings.dsp_alert
            ctx.emit(rid.originator, quarantined(rid, ctx.config.dcc_eui, ctx.next_counter(), at),
                     at, alert=True)
            ctx.stats["quarantined"] += 1
            return service_response(rid, rid.target, "I99", ctx.now(),
                                    admitted.sr.service_reference)
        return REQUEST_HANDLERS[admitted.sr.key](ctx, admitted)

    def _record(self, rid: str | None, reference: str, code: str, reason: str) -> None:
        self.ctx.journal.append(Decision(self.ctx.now(), rid, reference, code, reason))
        self.ctx.stats[f"answered_{code}"] += 1
        if reason:
            log.info("dsp_request_rejected", request_id=rid, code=code, reason=reason)

    # ---- time ----------------------------------------------------------------------------
    def next_event_time(self) -> datetime | None:
        """When the next scheduled event falls due, or None when nothing is pending."""
        with self._lock:
            return self.ctx.queue.next_time()

    def pending_events(self) -> int:
        """How many events are scheduled."""
        return len(self.ctx.queue)

    def advance_to(self, until: datetime,
                   hand_off: Callable[[Outbound], None] | None = None) -> int:
        """Run every event due by `until` in time order; return the messages delivered
        (or, given `hand_off`, passed to it to deliver: see `deliver`)."""
        delivered = 0
        while True:
            with self._lock:
                item = self.ctx.queue.pop_due(until)
                if item is None:
                    self.clock.advance_to(until)
                    return delivered
                at, event = item
                self.clock.advance_to(at)
                outbound = self._process(event)
            if outbound is None:
                continue
            if hand_off is not None:
                hand_off(outbound)
                delivered += 1
            elif self.deliver(outbound):
                delivered += 1

    def advance_by(self, delta: timedelta) -> int:
        """Advance simulated time by `delta`."""
        return self.advance_to(self.clock.now() + delta)

    def run_until_idle(self, limit: datetime | None = None) -> int:
        """Advance event by event until nothing is pending (or the next is after `limit`)."""
        delivered = 0
        while (due := self.next_event_time()) is not None and (limit is None or due <= limit):
            delivered += self.advance_to(due)
        return delivered

    def _process(self, event: object) -> Outbound | None:
        if isinstance(event, Outbound):
            return event
        EVENT_HANDLERS[type(event)](self.ctx, event)
        return None

    def deliver(self, outbound: Outbound) -> bool:
        """Sign and send one message to the receiver (from any thread); one it refuses to
        take goes back on the queue a minute later."""
        xml = sign_response(outbound.response, self.dcc_identity)
        try:
            self.receiver(xml)
        except ReceiverError as err:
            self._retry(outbound, err)
            return False
        with self._lock:
            self.ctx.stats["delivered"] += 1
        return True

    def _retry(self, outbound: Outbound, err: ReceiverError) -> None:
        """Queue the message again a minute later, up to MAX_ATTEMPTS deliveries."""
        with self._lock:
            if outbound.attempt + 1 >= MAX_ATTEMPTS:
                self.ctx.stats["undeliverable"] += 1
                log.warning("dsp_message_dropped", error=str(err), attempts=MAX_ATTEMPTS)
                return
            again = dataclasses.replace(outbound, attempt=outbound.attempt + 1)
            self.ctx.queue.push(self.clock.now() + RETRY_AFTER, again)
            self.ctx.stats["receiver_retries"] += 1
        log.warning("dsp_delivery_failed", error=str(err), attempt=outbound.attempt + 1)

    # ---- truth ---------------------------------------------------------------------------
    def sr_counts(self, user: str | None = None) -> dict[str, dict[datetime, int]]:
        """Admitted SRs per type ("11.1", ...) per anomaly-detection period start."""
        with self._lock:
            return self.ctx.anomaly.sr_counts(user)

    def quarantine_counts(self, user: str | None = None) -> dict[str, dict[datetime, int]]:
        """Quarantined (AD1) SRs per type per period start."""
        with self._lock:
            return self.ctx.anomaly.quarantine_counts(user)

    @property
    def journal(self) -> deque[Decision]:
        """The last 10,000 synchronous answers, with the reason for each rejection."""
        return self.ctx.journal

    @property
    def activations(self) -> list[ActivationRecord]:
        """Every activation that ran on a device, in the order they ran (ground truth)."""
        return self.ctx.activations

    @property
    def stats(self) -> dict[str, int]:
        """Counts of what happened (delivered, lost, duplicated, bricked activations, ...)."""
        return dict(self.ctx.stats)
