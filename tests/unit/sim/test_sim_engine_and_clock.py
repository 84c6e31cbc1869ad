"""The discrete-event loop, the receivers, real-time mode and the simulated clock."""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from duis.models import DccAlert
from simulators import (
    ClockError,
    ReceiverError,
    SimulatedClock,
    SimulatedSupplier,
    build_simulation,
)
from simulators.dsp.receivers import HttpReceiver
from simulators.dsp.runner import RealTimeRunner

START = datetime(2025, 1, 6, 9, tzinfo=UTC)


def _device(sim):  # type: ignore[no-untyped-def]
    fleet = sim.fleet
    return next(d for d in fleet.ids if fleet.device_type(fleet.index(d)) == "GSME"
                and fleet.status(fleet.index(d)) == "Commissioned")


def test_events_wait_for_advance_to_and_arrive_in_time_order(data) -> None:
    """Nothing is delivered until time moves; then everything due, in time order."""
    sim = build_simulation(data)
    gas = SimulatedSupplier(sim, "GS")
    assert sim.dsp.next_event_time() is None
    device = _device(sim)
    gas.read_version(device)
    due = sim.dsp.next_event_time()
    assert due == START + timedelta(seconds=15) and sim.received == []
    assert sim.dsp.advance_to(due) == 0 and sim.clock.now() == due
    assert sim.dsp.advance_to(START + timedelta(hours=1)) == 1
    assert sim.clock.now() == START + timedelta(hours=1)
    times = [sim.verify(m).header.response_datetime for m in sim.received]
    assert times == sorted(times) and sim.dsp.next_event_time() is None


def test_a_receiver_may_submit_while_being_delivered_to(data) -> None:
    """A callback that answers an N60 with an 11.2 is served in the same advance."""
    box: list[bytes] = []
    sim = build_simulation(data, receiver=box.append)
    gas = SimulatedSupplier(sim, "GS")
    old, new = next((a, b) for a, b in sim.catalogue.permitted_upgrades()
                    if b.device_type == "GSME")
    sim.fleet.add("AA-BB-CC-00-00-00-01-01", "GSME", old.manufacturer, old.model,
                  old.hardware_version, old.image_hash, old.firmware_version, "Commissioned",
                  "AA-BB-CD-00-00-00-01-01", "4.2")

    def react(xml: bytes) -> None:
        box.append(xml)
        if isinstance(sim.verify(xml).body, DccAlert):
            gas.read_version("AA-BB-CC-00-00-00-01-01")

    sim.dsp.receiver = react
    gas.update_firmware(new.cpl_entry_id, ["AA-BB-CC-00-00-00-01-01"])
    assert sim.dsp.advance_to(START + timedelta(days=1)) == 3
    kinds = [type(sim.verify(m).body).__name__ for m in box]
    assert kinds == ["DccAlert", "ResponseMessage", "DeviceAlert"]
    assert sim.verify(box[1]).body.firmware_version == old.firmware_version


def test_a_failing_receiver_gets_the_message_again_later(data) -> None:
    """ReceiverError makes the DSP retry a minute later instead of losing the message."""
    failures = [1, 1]
    box: list[bytes] = []

    def flaky(xml: bytes) -> None:
        if failures:
            failures.pop()
            raise ReceiverError("receiver down")
        box.append(xml)

    sim = build_simulation(data, receiver=flaky)
    SimulatedSupplier(sim, "GS").read_version(_device(sim))
    sim.dsp.run_until_idle()
    assert len(box) == 1 and sim.dsp.stats["receiver_retries"] == 2


def test_http_receiver_posts_xml_and_reports_refusals() -> None:
    """HttpReceiver POSTs application/xml; an HTTP error status becomes ReceiverError."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202 if len(seen) == 1 else 503)

    receiver = HttpReceiver("http://supplier/duis", client=httpx.Client(
        transport=httpx.MockTransport(handler)))
    receiver(b"<x/>")
    with pytest.raises(ReceiverError):
        receiver(b"<y/>")
    assert seen[0].content == b"<x/>"
    assert seen[0].headers["content-type"] == "application/xml"


def test_real_time_mode_delivers_without_being_stepped(data) -> None:
    """With the clock flowing fast, the background runner delivers due events by itself."""
    sim = build_simulation(data, speed=36_000)
    SimulatedSupplier(sim, "GS").read_version(_device(sim))
    runner = RealTimeRunner(sim.dsp, tick=0.01)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while not sim.received and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        runner.stop()
    assert len(sim.received) == 1 and not sim.clock.flowing


def test_stepped_clock_stands_still_and_never_runs_back() -> None:
    """A stepped clock moves only when told, and only forwards."""
    clock = SimulatedClock(START)
    assert clock.now() == START and clock.now().tzinfo is not None
    clock.advance_to(START + timedelta(hours=2))
    clock.advance_to(START)
    assert clock.now() == START + timedelta(hours=2)
    with pytest.raises(ClockError):
        clock.advance_by(timedelta(seconds=-1))
    with pytest.raises(ClockError):
        clock.advance_to(datetime(2025, 1, 1))
    with pytest.raises(ClockError):
        SimulatedClock(START, speed=0)


def test_flowing_clock_runs_at_its_speed_factor() -> None:
    """Started at x3600, a few wall milliseconds are simulated seconds; stop freezes it."""
    clock = SimulatedClock(START, speed=3600)
    clock.start()
    time.sleep(0.01)
    clock.stop()
    frozen = clock.now()
    assert frozen >= START + timedelta(seconds=36)
    time.sleep(0.01)
    assert clock.now() == frozen
