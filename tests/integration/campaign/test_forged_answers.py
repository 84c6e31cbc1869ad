"""A DSP answer that fails verification is a security event: the answer is quarantined with
its reason, the device stops `quarantined` (never retried as if the DSP were down), and
nothing further is sent to it; every other device carries on."""
from __future__ import annotations

from collections.abc import Callable

from duis import respond
from duis.parse import parse_response
from duis.testing.pki import Pki
from orchestrator.domain.policy import Policy
from orchestrator.service import campaigns
from orchestrator.service.access import Principal
from orchestrator.service.driver import run_campaign
from orchestrator.service.wiring import DspGateway

from .conftest import World


class ForgingGateway:
    """Passes requests to the real (simulated) DSP, but answers those naming `victim` with
    the DSP's own answer re-signed by a key that copies the DCC's identity and is not the
    DCC's (a man in the middle)."""

    def __init__(self, inner: DspGateway, victim: str, forger: Pki):
        self.inner, self.victim, self.forger = inner, victim.encode(), forger
        self.forged = 0

    def send(self, xml: bytes) -> bytes:
        answer = self.inner.send(xml)
        if self.victim not in xml:
            return answer
        self.forged += 1
        return respond.sign_response(parse_response(answer), self.forger.dcc_xml.identity)


def test_a_forged_answer_is_quarantined_and_its_device_stops(
        make_world: Callable[..., World]) -> None:
    world = make_world()
    campaign_id = world.campaign(Policy(failure_thresholds=()), start=False)
    [(victim,)] = world.rows(f"select device_id from device_jobs where campaign_id = "
                             f"{campaign_id} and state = 'planned' order by device_id limit 1")
    gateway = ForgingGateway(world.ex.gateway, victim, Pki.generate())
    world.ex.gateway = gateway
    for action in ("submit", "start"):
        campaigns.act(world.ex, campaign_id, action, Principal("alice", "admin"))
    stats = run_campaign(world.ex, world.sim, campaign_id)  # never raises: nothing retried
    assert stats.final_state == "completed"
    [(state, failure)] = world.rows(f"select state, failure from device_jobs where "
                                    f"campaign_id = {campaign_id} and device_id = '{victim}'")
    assert (state, failure) == ("quarantined", "answer_rejected")
    assert gateway.forged == 1  # its pre-read: no image, no activation was ever sent to it
    quarantined = world.rows("select status, reason, kind from inbound_messages "
                             "where status = 'quarantined'")
    assert len(quarantined) == 1
    [(_, reason, kind)] = quarantined
    assert reason.startswith("AnswerRejectedError: DSP answer rejected") and kind == \
        "synchronous_answer"
    events = world.rows(f"select cause, to_state from job_events where campaign_id = "
                        f"{campaign_id} and device_id = '{victim}' order by id")
    assert events[-1] == ("answer_rejected", "quarantined")
    others = dict(world.rows(f"select state, count(*) from device_jobs where campaign_id = "
                             f"{campaign_id} and device_id != '{victim}' group by state"))
    assert others.get("done", 0) > 0 and "quarantined" not in others, others
    assert world.sim.simulation.fleet.bricked() == []
