"""A minimal Supplier that talks to a Simulation: for tests, benchmarks and quick dry runs.

    supplier = SimulatedSupplier(sim, "IS")
    supplier.update_firmware("10004", devices)           # 11.1, signed, verified answer
    supplier.activate(device, sim.image_hash("10004"))   # 11.3 CV4 -> sign -> CV5
    messages = sim.deliver_all()                         # every response and alert, verified
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from duis import build
from duis.codes import DCC_EUI
from duis.models import (
    DccAlert,
    DeviceAlert,
    ReadFirmwareVersion,
    ReadInventory,
    Request,
    Response,
    SignedPreCommand,
)
from duis.requestid import CounterSource, InMemoryCounterSource, RequestId, next_request_id
from simulators.dsp.simulation import Simulation
from simulators.dsp.users import UserIdentity


class SimulatedSupplier:
    """Signs requests with one User identity, submits them, verifies the answers."""

    def __init__(self, sim: Simulation, user: str | UserIdentity = "IS",
                 counters: CounterSource | None = None) -> None:
        self.sim = sim
        self.user = sim.users[user] if isinstance(user, str) else user
        self.counters = counters or InMemoryCounterSource(floor=1_700_000_000_000)

    def request_id(self, target: str = DCC_EUI) -> RequestId:
        """A fresh RequestID to `target` (the DCC by default)."""
        return next_request_id(self.counters, self.user.eui, target)

    def send(self, request: Request) -> Response:
        """Sign, submit and verify: the DSP's synchronous answer."""
        return self.sim.verify(self.sim.dsp.submit(self.user.sign(request)))

    def update_firmware(self, entry_id: str, device_ids: Sequence[str],
                        image: bytes | None = None) -> Response:
        """11.1 (11.4 for PPMID entries) of a CPL entry's image to devices."""
        catalogue = self.sim.catalogue
        entry = catalogue.entries[catalogue.index_of(entry_id)]
        data = image if image is not None else self.sim.upgrade_image(entry_id, self.user)
        request = build.update_firmware(self.request_id(), data, entry.firmware_version,
                                        device_ids, ppmid=entry.device_type == "PPMID")
        return self.send(request)

    def activate(self, device_id: str, image_hash: str | bytes, *, at: datetime | None = None,
                 cancel: bool = False) -> Response:
        """11.3: CV4 for the pre-command, sign it, CV5 with the same RequestID."""
        rid = self.request_id(device_id)
        first = self.send(build.activate_firmware(rid, image_hash, at=at, cancel=cancel))
        pre = getattr(first.body, "pre_command", None)
        if first.header.response_code != "I0" or pre is None:
            return first
        return self.send(SignedPreCommand(rid, self.user.sign_pre_command(pre.gbcs_payload)))

    def read_version(self, device_id: str) -> Response:
        """11.2 to a device."""
        return self.send(ReadFirmwareVersion(self.request_id(device_id)))

    def read_inventory(self, device_id: str) -> Response:
        """8.2 for one device."""
        return self.send(ReadInventory(self.request_id(), device_id))


def device_alert_of(message: Response) -> DeviceAlert | None:
    """The device alert a message carries, in either placement (0x8F66/0x8F67 may come as a
    ResponseMessage's FutureDatedDeviceAlertMessage)."""
    body = message.body
    if isinstance(body, DeviceAlert):
        return body
    return getattr(body, "future_dated_alert", None)


def alerts_of(messages: Iterable[Response], code: int | str) -> list[Response]:
    """The device alerts (int code, e.g. 0x8F72) or DCC alerts ("N60") among messages."""
    return [m for m in messages
            if ((alert := device_alert_of(m)) is not None and alert.alert_code == code)
            or (isinstance(m.body, DccAlert) and m.body.code == code)]


def device_of(message: Response) -> str | None:
    """The device a response or alert is about."""
    alert = device_alert_of(message)
    if alert is not None:
        return alert.subject_device_id
    body = message.body
    if isinstance(body, DccAlert):
        target: str | None = getattr(body.detail, "target_device_id", None)
        return target
    rid = message.header.request_id
    return rid.target if rid else None
