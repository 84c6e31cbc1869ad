"""A campaign completes on responses and alerts signed by the DCC's own tool.

The simulated devices answer in the RTDS shapes; every asynchronous message is re-signed
with the DCC Boxed signing tool's `Sign` and the current DCC Boxed key
(`reference/dcc/boxed/`), then POSTed to the receiver, which must verify it against
`dcc_boxed.cert.pem` and move the devices through delivery, activation and read-back.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient
from lxml import etree

from duis.parse import parse_response
from duis.xmlsafe import parse_xml
from orchestrator.adapters.simulated_gateway import simulated_execution
from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.domain.policy import Budget, Policy, parse_waves
from orchestrator.entrypoints.api import create_app
from orchestrator.service import campaigns, catalogue, fleet, planning
from orchestrator.service.access import Principal
from orchestrator.service.driver import run_campaign
from simulators.generate import generate

from .dcc_tool import DccTool

BOXED = "dcc/boxed"
XML = {"Content-Type": "application/xml"}
DS = "{http://www.w3.org/2000/09/xmldsig#}Signature"
CAUSES = ("delivered", "activated", "version_read")
TYPES = ("ESME", "GSME", "PPMID")


def _unsigned(xml: bytes) -> bytes:
    root = parse_xml(xml)
    for signature in root.findall(DS):
        root.remove(signature)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _world(tmp_path: Path, reference: Path):  # type: ignore[no-untyped-def]
    data = tmp_path / "data"
    generate(data, entries=60, devices=300, seed=1, image_size=512)
    shutil.copyfile(reference / BOXED / "Z1-accessControlBroker-dSPXmlSign.pem",
                    data / "keys" / "dcc_boxed.cert.pem")
    app = bootstrap(Settings(data_dir=tmp_path / "work", keys_dir=data / "keys",
                             image_dir=data / "images"))
    catalogue.sync_catalogue(catalogue.SyncCatalogue(str(data / "cpl.xlsx"),
                                                     str(data / "fir.xlsx")),
                             app.uow(), app.fetch_options())
    fleet.import_fleet(app.uow(), data / "fleet.csv")
    return app, data


def _devices(app) -> list[str]:  # type: ignore[no-untyped-def]
    """One planned device of each type: ESME (DLMS), GSME (GBZ) and PPMID (ASN.1, 11.4)."""
    plan = planning.plan_fleet(planning.PlanFleet("latest", ()), app.uow(),
                               app.clock())
    picked: dict[str, str] = {}
    for planned in plan.devices:
        kind = planned.device.device_type
        if planned.outcome.status == "planned" and kind in TYPES:
            picked.setdefault(kind, planned.device_id)
    assert set(picked) == set(TYPES), picked
    return sorted(picked.values())


def test_a_campaign_completes_on_messages_signed_by_the_dcc_tool(
        dcc_tool: DccTool, reference: Path, tmp_path: Path) -> None:
    """Delivery, activation and read-back of an ESME, a GSME and a PPMID, every async
    message signed by the DCC tool with the DCC Boxed key and accepted (202) by the receiver."""
    app, data = _world(tmp_path, reference)
    ex, world = simulated_execution(app, data, faults="none", seed=1)
    client = TestClient(create_app(app, ex))
    cert = reference / BOXED / "Z1-accessControlBroker-dSPXmlSign.pem"
    key = reference / BOXED / "dsp-xml-sign-90B3D51F30000002-ds.key.pem"
    posted: list[tuple[int, str]] = []

    def through_the_tool(xml: bytes) -> None:
        path = tmp_path / f"message-{len(posted)}.xml"
        path.write_bytes(_unsigned(xml))
        signed = dcc_tool.sign(path, cert, key)
        reply = client.post("/duis/receiver", content=signed, headers=XML)
        posted.append((reply.status_code, reply.json()["status"]))

    world.simulation.dsp.receiver = through_the_tool
    devices = _devices(app)
    policy = Policy(waves=parse_waves("100%"), budgets=tuple(
        Budget(sr, 10**6, 86400.0) for sr in ("11.1", "11.4", "11.3", "11.2")))
    created = campaigns.create_campaign(
        campaigns.CreateCampaign("boxed", selection=(f"device_id={','.join(devices)}",),
                                 policy=policy, created_by=Principal("olga", "admin")), app.uow(), ex.clock.now())
    for action in ("submit", "start"):
        campaigns.act(ex, created["campaign_id"], action, Principal("olga", "admin"))
    stats = run_campaign(ex, world, created["campaign_id"])
    assert stats.final_state == "completed"
    assert posted and set(posted) == {(202, "applied")}
    engine = sa.create_engine(app.settings.resolved_database_url)
    with engine.connect() as connection:
        jobs = dict(connection.execute(sa.text(
            "select device_id, state from device_jobs where campaign_id = :c"),
            {"c": created["campaign_id"]}).all())
        causes = {(d, c) for d, c in connection.execute(sa.text(
            "select device_id, cause from job_events where campaign_id = :c"),
            {"c": created["campaign_id"]})}
        raws = [bytes(r) for (r,) in connection.execute(sa.text(
            "select raw from inbound_messages"))]
        kinds = {k for (k,) in connection.execute(sa.text(
            "select kind from inbound_messages"))}
    engine.dispose()
    assert jobs == {d: "done" for d in devices}
    assert all((d, c) in causes for d in devices for c in CAUSES), sorted(causes)
    # the PPMID's delivery is the hub's CCS08 0x8F8A; its activation also raises CS09
    assert {"device_alert:0x8F72", "device_alert:0x8F8A", "device_alert:0x8F8B"} <= kinds
    serial = str(_boxed_serial(cert))
    assert raws and all(serial.encode() in raw for raw in raws)
    assert all(parse_response(raw).signed for raw in raws)
    assert world.simulation.fleet.bricked() == []


def _boxed_serial(cert: Path) -> int:
    from duis.keys import load_certificate

    return load_certificate(cert.read_bytes()).serial_number
