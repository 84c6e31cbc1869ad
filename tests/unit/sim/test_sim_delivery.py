"""The real-time DSP's concurrent delivery: messages overlap, each device's stay in order."""
from __future__ import annotations

import dataclasses
import threading
import time
from datetime import UTC, datetime

import pytest

from duis.models import DccAlert, FirmwareDeliveryStatus, Response, ResponseHeader
from duis.requestid import RequestId
from duis.testing.samples import sample_responses
from simulators import ReceiverError, SimulatedSupplier, build_simulation
from simulators.dsp.context import Outbound
from simulators.dsp.delivery import Lanes, order_key
from simulators.dsp.runner import RealTimeRunner

AT = datetime(2025, 6, 1, tzinfo=UTC)
DCC, USER = "90-B3-D5-1F-30-00-00-01", "90-B3-D5-1F-30-01-00-00"


def _about(device: str, counter: int) -> Outbound:
    """A device alert raised by `device`, the `counter`-th it sends."""
    alert = sample_responses()["device_alert"]
    header = ResponseHeader(None, RequestId(device, USER, counter), "I0", AT)
    return Outbound(USER, dataclasses.replace(alert, header=header))


def _device(i: int) -> str:
    return f"00-DB-12-34-56-78-00-{i:02X}"


def test_order_key_names_the_device_a_message_concerns() -> None:
    """A service response's request target, an alert's raiser, a delivery status's device."""
    samples = sample_responses()
    version = samples["version"]
    assert version.header.request_id is not None
    assert order_key(Outbound(USER, version)) == version.header.request_id.target
    assert order_key(_about(_device(7), 1)) == _device(7)
    n60 = samples["n60"]
    assert isinstance(n60.body, DccAlert) and isinstance(n60.body.detail, FirmwareDeliveryStatus)
    status = dataclasses.replace(n60, header=ResponseHeader(
        None, RequestId(DCC, USER, 9), "I0", AT))
    assert order_key(Outbound(USER, status)) == n60.body.detail.target_device_id
    anonymous = Response("5.4", ResponseHeader(None, None, "I0", AT), samples["ad1"].body)
    assert order_key(Outbound(USER, anonymous)) == ""


def test_lanes_overlap_devices_and_keep_each_devices_order() -> None:
    """Forty messages for eight devices over four lanes: several in flight at once, and each
    device's arrive in the order they were handed over."""
    seen: list[tuple[str, int]] = []
    in_flight, most = 0, 0
    lock = threading.Lock()

    def deliver(outbound: Outbound) -> bool:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.005)  # a round trip
        rid = outbound.response.header.response_id
        assert rid is not None
        with lock:
            in_flight -= 1
            seen.append((rid.originator, rid.counter))
        return True

    lanes = Lanes(deliver, 4)
    for counter in range(5):
        for i in range(8):
            lanes.put(_about(_device(i), counter))
    lanes.close()
    assert len(seen) == 40 and most > 1
    for i in range(8):
        assert [c for d, c in seen if d == _device(i)] == list(range(5))


def test_a_lane_outlives_a_delivery_that_raises() -> None:
    """One message whose delivery blows up is logged; the lane delivers the next."""
    delivered: list[int] = []

    def deliver(outbound: Outbound) -> bool:
        rid = outbound.response.header.response_id
        assert rid is not None
        if rid.counter == 0:
            raise RuntimeError("boom")
        delivered.append(rid.counter)
        return True

    lanes = Lanes(deliver, 1)
    for counter in range(3):
        lanes.put(_about(_device(1), counter))
    lanes.close()
    assert delivered == [1, 2]
    with pytest.raises(ValueError, match="1 to 64"):
        Lanes(deliver, 0)


def test_real_time_runner_delivers_over_lanes_and_retries_refusals(data) -> None:
    """With lanes, due messages reach the receiver; one it refuses goes back on the DSP's
    queue (the DSP's own retry, a simulated minute later) and arrives then."""
    refused: list[bytes] = []
    taken: list[bytes] = []

    def receiver(xml: bytes) -> None:
        if not refused:
            refused.append(xml)
            raise ReceiverError("endpoint down")
        taken.append(xml)

    sim = build_simulation(data, speed=36_000, receiver=receiver)
    supplier = SimulatedSupplier(sim, "GS")
    fleet = sim.fleet
    devices = [d for d in fleet.ids if fleet.device_type(fleet.index(d)) == "GSME"
               and fleet.status(fleet.index(d)) == "Commissioned"][:4]
    for device in devices:
        supplier.read_version(device)
    runner = RealTimeRunner(sim.dsp, tick=0.01, lanes=4)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while len(taken) < len(devices) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        runner.stop()
    stats = sim.dsp.stats
    assert len(refused) == 1 and stats["receiver_retries"] == 1
    assert stats["delivered"] == len(taken) == len(devices)
