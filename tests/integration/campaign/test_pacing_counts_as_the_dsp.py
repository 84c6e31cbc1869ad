"""Pacing counts each SR type as the DSP's anomaly detection does: an activation is one
11.3 (its CommandVariant 5 signed pre-command repeats the CV4's RequestID, and the DCC
counts the one command the device gets), so a budget of N 11.3 an hour admits N activations
an hour, and a DSP whose threshold is N an hour quarantines none of them."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

from orchestrator.domain.policy import Budget, Policy
from orchestrator.service.driver import run_campaign

from .conftest import GENEROUS, World

N = 6
HOUR = 3600.0


def _hour(at: object) -> int:
    moment = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(str(at))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() // HOUR)


def test_a_budget_of_n_activations_an_hour_admits_n(make_world: Callable[..., World]) -> None:
    """With 11.3 budgeted at 6 an hour and the DSP's threshold at 6 an hour: in the busiest
    hours 6 devices start activating (not 3), never more; the DSP counts exactly the 11.3s
    sent per hour and quarantines none (no AD1); the campaign completes."""
    world = make_world(thresholds={**GENEROUS, "11.3": N}, period=dt.timedelta(hours=1))
    budgets = tuple(Budget(sr, GENEROUS[sr], HOUR) for sr in ("11.1", "11.4", "11.2"))
    policy = Policy(budgets=(*budgets, Budget("11.3", N, HOUR)))
    campaign_id = world.campaign(policy)
    stats = run_campaign(world.ex, world.sim, campaign_id)
    assert stats.final_state == "completed"
    started = Counter(_hour(at) for (at,) in world.rows(
        f"select at from job_events where campaign_id = {campaign_id} "
        f"and to_state = 'activating'"))
    assert started and max(started.values()) == N
    sent = Counter(_hour(at) for (at,) in world.rows(
        "select sent_at from sent_requests where sr_type = '11.3'"))
    assert sent == started  # one sent request (one RequestID) per activation
    dsp = world.sim.simulation.dsp
    counted = {_hour(start): n for start, n in dsp.sr_counts().get("11.3", {}).items()}
    assert counted == dict(sent)
    assert "11.3" not in dsp.quarantine_counts()
    assert world.sim.simulation.fleet.bricked() == []
