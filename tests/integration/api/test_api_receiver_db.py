"""The DUIS receiver on real databases: stored raw, verified, deduplicated, quarantined,
bounded; and a dry run whose simulated DSP delivers every answer over HTTP."""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from duis.respond import sign_response
from duis.sign import SigningIdentity
from orchestrator.adapters.simulated_gateway import simulated_execution
from orchestrator.domain.policy import Budget, Policy, parse_waves
from orchestrator.entrypoints.api import create_app
from orchestrator.service import campaigns
from orchestrator.service.driver import run_campaign
from simulators.dsp.messages import device_alert
from simulators.dsp.users import dcc_identity_from_keys

SUPPLIER = "90-B3-D5-1F-30-01-00-00"
XML = {"Content-Type": "application/xml"}


def alert(keys: Path, counter: int, identity: SigningIdentity | None = None) -> bytes:
    """A 0x8F72 device alert signed by the DCC (or by `identity`)."""
    signer = identity or dcc_identity_from_keys(keys)
    return sign_response(device_alert(0x8F72, "00-0D-6F-00-00-00-00-01", SUPPLIER, counter,
                                      dt.datetime.now(dt.UTC), bytes(32)), signer)


def stored(database_url: str) -> list[Any]:
    """(sha256, status, reason, raw) of every stored inbound message."""
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "select sha256, status, reason, raw from inbound_messages order by id")).all()
    engine.dispose()
    return list(rows)


def test_messages_are_stored_raw_verified_and_deduplicated(ops) -> None:  # type: ignore[no-untyped-def]
    """A signed alert is applied; the same bytes again are a duplicate (both 202); unsigned
    and wrongly signed messages are stored and quarantined with a reason, answered 400."""
    keys = ops.data / "keys"
    good = alert(keys, 1)
    supplier = SigningIdentity.load((keys / "supplier_xml.key.pem").read_bytes(),
                                    (keys / "supplier_xml.cert.pem").read_bytes())
    forged = alert(keys, 2, supplier)
    answers = [ops.client.post("/duis/receiver", content=body, headers=XML)
               for body in (good, good, b"<not-duis/>", forged)]
    assert [a.status_code for a in answers] == [202, 202, 400, 400]
    assert [a.json()["status"] for a in answers] == ["applied", "duplicate", "quarantined",
                                                     "quarantined"]
    rows = stored(ops.database_url)
    assert len(rows) == 3 and bytes(rows[0].raw) == good
    assert rows[0].sha256 == hashlib.sha256(good).hexdigest() == answers[0].json()["sha256"]
    assert "Signature" in rows[1].reason and rows[2].status == "quarantined"


def test_an_oversize_message_is_refused_and_not_stored(ops) -> None:  # type: ignore[no-untyped-def]
    """A body over FWO_RECEIVER_MAX_BODY_BYTES gets 413 and nothing is stored."""
    limit = ops.app.settings.receiver_max_body_bytes
    reply = ops.client.post("/duis/receiver", content=b"<x>" + b"a" * limit + b"</x>",
                            headers=XML)
    assert reply.status_code == 413 and stored(ops.database_url) == []


def test_a_dry_run_delivered_over_http_completes(ops) -> None:  # type: ignore[no-untyped-def]
    """With the simulated DSP POSTing every answer and alert to /duis/receiver, a campaign
    runs to completion: the receiver is the same inbound path the engine uses."""
    ex, world = simulated_execution(ops.app, ops.data, faults="none", seed=1,
                                    thresholds={"11.1": 200, "11.4": 200, "11.3": 20_000,
                                                "11.2": 20_000})
    client = TestClient(create_app(ops.app, ex))  # the receiver applies in simulated time
    posted: list[int] = []

    def over_http(xml: bytes) -> None:
        reply = client.post("/duis/receiver", content=xml, headers=XML)
        posted.append(reply.status_code)

    world.simulation.dsp.receiver = over_http
    policy = Policy(waves=parse_waves("100%"), approval_required_above=10**6,
                    budgets=tuple(Budget(sr, 10**6, 86400.0) for sr in ("11.1", "11.4",
                                                                        "11.3", "11.2")))
    created = campaigns.create_campaign(campaigns.CreateCampaign("http", policy=policy,
                                                                 created_by="olga"),
                                        ops.app.uow(), ex.clock.now())
    for action in ("submit", "start"):
        campaigns.act(ex, created["campaign_id"], action, "olga")
    stats = run_campaign(ex, world, created["campaign_id"])
    status = campaigns.status(ops.app.uow(), created["campaign_id"])
    assert stats.final_state == "completed" and status["states"].get("done", 0) > 0
    assert set(posted) == {202} and len(posted) >= 3 * status["states"]["done"]
    assert world.buffer == [] and world.simulation.fleet.bricked() == []
    statuses = {row.status for row in stored(ops.database_url)}
    assert statuses == {"applied"}
