"""Every RTDS-shaped alert, in each placement the DCC uses, moves a device job.

The simulated DSP's messages are handed to the inbound handler one at a time, so what each
one moved is known: N60/N61, FDRA 0x8F72 as DLMS (0x00CE) and as GBZ (0x00CF), and
0x8F66/0x8F67 (0x00CA) both as a `DeviceAlertMessage` and as a `ResponseMessage`'s
`FutureDatedDeviceAlertMessage`. (This generated fleet plans no PPMID: CCS08 0x8F8A and
CS09 0x8F8B move the PPMID of `tests/integration/duis/test_dcc_tool_campaign.py`.)
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest

from duis.models import DccAlert, DeviceAlert, ResponseMessage
from duis.parse import parse_response
from duis.respond import sign_response
from orchestrator.domain.policy import ActivationWindow, Policy
from orchestrator.service import inbound
from orchestrator.service.driver import run_campaign
from simulators.dsp.messages import alert_response, future_dated_response
from simulators.dsp.payloads import future_dated_alert
from simulators.dsp.users import dcc_identity_from_keys

from .conftest import World


def kind_of(xml: bytes) -> str:
    """A message's kind: alert code, placement and GBCS message code, or DCC alert code."""
    body = parse_response(xml).body
    if isinstance(body, DccAlert):
        return body.code
    if isinstance(body, ResponseMessage) and body.future_dated_alert is not None:
        return f"{body.future_dated_alert.alert_code:04X} FutureDatedDeviceAlertMessage"
    if isinstance(body, DeviceAlert):
        return f"{body.alert_code:04X} DeviceAlertMessage 0x{body.message_code or 0:04X}"
    return f"response {body.service_reference}"


def one_at_a_time(world: World, moved: Counter[str],
                  seen: Counter[str]) -> Callable[[bytes], None]:
    """A receiver applying each message alone, counting messages and jobs moved by kind
    (a `duplicate_alert` fault's second copy, re-signed, is a duplicate of the first)."""
    def receive(xml: bytes) -> None:
        result = inbound.receive(world.ex, xml)
        duplicate = result.status == "duplicate" and seen[kind_of(xml)] > 0
        assert result.status == "applied" or duplicate, (kind_of(xml), result.reason)
        moved[kind_of(xml)] += result.moved
        seen[kind_of(xml)] += 1
    return receive


def test_every_alert_shape_moves_a_job(make_world: Callable[..., World]) -> None:
    """Future-dated activations and faults: each alert kind and placement moved a job."""
    world = make_world(faults="default", seed=7)
    moved: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    world.sim.simulation.dsp.receiver = one_at_a_time(world, moved, seen)
    policy = Policy(failure_thresholds=(),
                    success_threshold=0.0,
                    activation_window=ActivationWindow.parse("01:00-05:00"))
    stats = run_campaign(world.ex, world.sim, world.campaign(policy))
    assert stats.final_state == "completed"
    for kind in ("N60", "N61", "8F72 DeviceAlertMessage 0x00CE",
                 "8F72 DeviceAlertMessage 0x00CF", "8F66 DeviceAlertMessage 0x00CA",
                 "8F66 FutureDatedDeviceAlertMessage"):
        assert moved[kind] > 0, f"{kind}: moved {sorted(moved.items())} of {sorted(seen.items())}"


def test_a_failed_future_dated_activation_moves_the_job_in_either_placement(
        make_world: Callable[..., World]) -> None:
    """0x8F67 (the image changed before the activation time) fails the waiting activation,
    whether it comes as a DeviceAlertMessage or in a FutureDatedDeviceAlertMessage."""
    world = make_world()
    policy = Policy(failure_thresholds=(),
                    success_threshold=0.0,
                    activation_window=ActivationWindow.parse("01:00-05:00"))
    campaign_id = world.campaign(policy)
    dsp = world.sim.simulation.dsp
    dsp.receiver = lambda xml: None if _is_activation_news(xml) else world.sim.buffer.append(xml)
    waiting: list = []  # type: ignore[type-arg]

    def stop_when_two_wait(_: object) -> None:
        waiting[:] = world.rows(f"select device_id, request_id from device_jobs where "
                                f"campaign_id = {campaign_id} and state = 'activating'")
        if len(waiting) >= 2:
            raise _Enough

    with pytest.raises(_Enough):
        run_campaign(world.ex, world.sim, campaign_id, on_turn=stop_when_two_wait)
    assert len(waiting) >= 2
    dcc = dcc_identity_from_keys(world.data / "keys")
    for (device, request_id), placement in zip(waiting[:2], ("alert", "response")):
        xml = sign_response(_failed(world, device, request_id, placement), dcc)
        result = inbound.receive(world.ex, xml)
        assert (result.status, result.moved) == ("applied", 1), result.reason
        [(state, failure)] = world.rows(
            f"select state, failure from device_jobs where campaign_id = {campaign_id} "
            f"and device_id = '{device}'")
        assert failure == "activation_failed" and state != "activating"


def _is_activation_news(xml: bytes) -> bool:
    kind = kind_of(xml)
    return kind.startswith(("8F66", "8F67")) or kind == "response 11.3"


class _Enough(Exception):
    """Stop the run: two activations wait for their future date."""


def _failed(world: World, device: str, request_id: str, placement: str):  # type: ignore[no-untyped-def]
    from duis.requestid import parse_request_id

    rid = parse_request_id(request_id)
    at = world.ex.clock.now() + timedelta(minutes=1)
    alert = future_dated_alert(0x8F67, device, rid.originator, 77, at, rid.counter, 2,
                               "00000000")
    if placement == "response":
        return future_dated_response(rid, alert, at)
    return alert_response(alert, device, rid.originator, 77, at)
