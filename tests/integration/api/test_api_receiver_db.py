"""The DUIS receiver on real databases: stored raw, verified, deduplicated, quarantined,
bounded; and a dry run whose simulated DSP delivers every answer over HTTP."""
from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from duis.requestid import RequestId
from duis.respond import device_response_payload, sign_response
from duis.sign import SigningIdentity, sign_document
from orchestrator.adapters.simulated_gateway import simulated_execution
from orchestrator.domain.policy import Budget, Policy, parse_waves
from orchestrator.entrypoints.api import create_app
from orchestrator.service import campaigns
from orchestrator.service.access import Principal
from orchestrator.service.driver import run_campaign
from orchestrator.service.inbound import message_digest
from simulators.dsp.messages import delivery_status, device_alert, device_answer
from simulators.dsp.users import dcc_identity_from_keys

SUPPLIER = "90-B3-D5-1F-30-01-00-00"
DCC_EUI = "90-B3-D5-1F-30-00-00-02"
XML = {"Content-Type": "application/xml"}


def alert(keys: Path, counter: int, identity: SigningIdentity | None = None,
          device: str | None = None) -> bytes:
    """A 0x8F72 device alert about a fleet device, signed by the DCC (or by `identity`)."""
    signer = identity or dcc_identity_from_keys(keys)
    device = device or fleet_device(keys.parent)
    return sign_response(device_alert(0x8F72, device, SUPPLIER, counter,
                                      dt.datetime.now(dt.UTC), bytes(32)), signer)


def version(device: str, rid: RequestId) -> bytes:
    """An ECS52 GBCS payload: the device runs 00020130."""
    return device_response_payload(device, rid, 1, bytes.fromhex("00020130"))


def fleet_device(data: Path) -> str:
    """The first device of the generated fleet."""
    with (data / "fleet.csv").open() as rows:
        return next(csv.DictReader(rows))["device_id"]


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
    assert rows[0].sha256 == message_digest(good) == answers[0].json()["sha256"]
    assert "Signature" in rows[1].reason and rows[2].status == "quarantined"


def test_a_replay_is_a_duplicate_however_it_is_serialised(ops) -> None:  # type: ignore[no-untyped-def]
    """A genuine alert applied once; the same message with a trailing comment, a comment
    inside a field, another XML declaration, none, or re-signed by the DCC, is a duplicate
    (202, never applied twice), and only the first is stored as applied."""
    keys = ops.data / "keys"
    good = alert(keys, 7)
    body = good.split(b"?>", 1)[1].lstrip()
    replays = [good + b"<!-- again -->", good.replace(b"<sr:Header>", b"<sr:Header><!--x-->"),
               b"<?xml version='1.0' encoding='utf-8' standalone='yes'?>" + body, body,
               _resigned(good, dcc_identity_from_keys(keys))]
    assert len(set(replays)) == len(replays) and good not in replays
    answers = [ops.client.post("/duis/receiver", content=raw, headers=XML)
               for raw in (good, *replays)]
    assert [(a.status_code, a.json()["status"]) for a in answers] == (
        [(202, "applied")] + [(202, "duplicate")] * len(replays))
    statuses = [row.status for row in stored(ops.database_url)]
    assert statuses.count("applied") == 1 and set(statuses) <= {"applied", "duplicate"}
    assert "was applied as message" in answers[-1].json()["reason"]


def _resigned(signed: bytes, identity: SigningIdentity) -> bytes:
    """The same message signed again (ECDSA: another signature value)."""
    again = sign_document(signed, identity)
    assert again != signed
    return again


def test_answers_to_requests_never_sent_and_alerts_of_unknown_devices_are_quarantined(
        ops) -> None:  # type: ignore[no-untyped-def]
    """DCC-signed, but about a RequestID this deployment never sent (an 11.2 answer, an N60)
    or a device not in the fleet (an alert): each is quarantined with that reason (400),
    never applied; the same 11.2 answer to a request recorded as sent is applied."""
    keys, now = ops.data / "keys", dt.datetime.now(dt.UTC)
    dcc = dcc_identity_from_keys(keys)
    device = fleet_device(ops.data)
    rid = RequestId(SUPPLIER, device, 10**15)
    answer = sign_response(device_answer(rid, device, now, version(device, rid), "11.2"), dcc)
    n60 = sign_response(delivery_status(RequestId(SUPPLIER, DCC_EUI, 10**15 + 1), device,
                                        device, "0102", True, DCC_EUI, 3, now), dcc)
    stranger = alert(keys, 9, device="00-0D-6F-00-00-00-00-01")
    refused = [ops.client.post("/duis/receiver", content=raw, headers=XML)
               for raw in (answer, n60, stranger)]
    assert [r.status_code for r in refused] == [400, 400, 400]
    reasons = [r.json()["reason"] for r in refused]
    assert reasons[0].startswith("UnknownRequestError") and str(rid) in reasons[0]
    assert reasons[1].startswith("UnknownRequestError")
    assert reasons[2] == "UnknownDeviceError: device 00-0D-6F-00-00-00-00-01 is not in the fleet"
    with ops.app.uow() as uow:
        uow.requests.record_sent([{"request_id": str(rid), "campaign_id": None,
                                   "sr_type": "11.2", "command_variant": 1, "entry": None,
                                   "device_count": 1, "sent_at": now}])
        uow.commit()
    again = sign_response(device_answer(rid, device, now, version(device, rid), "11.2"), dcc)
    accepted = ops.client.post("/duis/receiver", content=again, headers=XML)
    assert (accepted.status_code, accepted.json()["status"]) == (202, "applied")
    assert [row.status for row in stored(ops.database_url)] == ["quarantined"] * 3 + ["applied"]


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
    policy = Policy(waves=parse_waves("100%"), budgets=tuple(
        Budget(sr, 10**6, 86400.0) for sr in ("11.1", "11.4", "11.3", "11.2")))
    olga = Principal("olga", "operator")
    created = campaigns.create_campaign(campaigns.CreateCampaign("http", policy=policy,
                                                                 created_by=olga),
                                        ops.app.uow(), ex.clock.now())
    campaigns.act(ex, created["campaign_id"], "submit", olga)
    campaigns.act(ex, created["campaign_id"], "approve", Principal("abe", "approver"))
    campaigns.act(ex, created["campaign_id"], "start", olga)
    stats = run_campaign(ex, world, created["campaign_id"])
    status = campaigns.status(ops.app.uow(), created["campaign_id"])
    assert stats.final_state == "completed" and status["states"].get("done", 0) > 0
    assert set(posted) == {202} and len(posted) >= 3 * status["states"]["done"]
    assert world.buffer == [] and world.simulation.fleet.bricked() == []
    statuses = {row.status for row in stored(ops.database_url)}
    assert statuses == {"applied"}
