"""The receiver's trust: DCC certificates from FWO_KEYS_DIR, checked when a message arrives
(or at FWO_DUIS_VERIFY_AT for expired test PKIs); unsigned messages are never accepted."""
from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from duis.parse import parse_response
from duis.testing.pki import Pki
from orchestrator.bootstrap import bootstrap
from orchestrator.config import Settings
from orchestrator.entrypoints.api import create_app

XML = {"Content-Type": "application/xml"}


@pytest.fixture
def keys(reference: Path, tmp_path: Path) -> Path:
    """Generated Supplier keys, trusting the DCC's 2015-2025 Z1 test certificate."""
    out = tmp_path / "keys"
    Pki.generate().write(out)
    shutil.copyfile(reference / "dcc" / "certs_Z1-accessControlBroker-ds.pem",
                    out / "dcc_z1.cert.pem")
    return out


def _client(keys: Path, tmp_path: Path, *sent: str, **settings: str) -> Iterator[TestClient]:
    """A receiver over a fresh database holding `sent` as requests this deployment sent."""
    app = bootstrap(Settings.from_env({"FWO_DATA_DIR": str(tmp_path / "work"),
                                       "FWO_KEYS_DIR": str(keys), **settings}))
    with app.uow() as uow:
        uow.requests.record_sent([{"request_id": rid, "campaign_id": None, "sr_type": "11.2",
                                   "command_variant": 1, "entry": None, "device_count": 1,
                                   "sent_at": dt.datetime.now(dt.UTC)} for rid in sent])
        uow.commit()
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        yield client
    app.close()


def test_an_unsigned_e_code_is_refused_at_the_receiver(keys: Path, reference: Path,
                                                       tmp_path: Path) -> None:
    """DCC Boxed's unsigned E65 acknowledgement is stored but refused (400, quarantined)."""
    unsigned = (reference / "dcc" / "boxed" / "acknowledgement-error.xml").read_bytes()
    for client in _client(keys, tmp_path):
        reply = client.post("/duis/receiver", content=unsigned, headers=XML)
        assert reply.status_code == 400
        assert reply.json()["status"] == "quarantined"
        assert "Signature" in reply.json()["reason"]


def test_certificates_are_checked_at_receipt_unless_a_verification_time_is_set(
        keys: Path, reference: Path, tmp_path: Path) -> None:
    """The genuine DCC response signed under the expired Z1 certificate is refused now, and
    accepted with FWO_DUIS_VERIFY_AT=2024-01-01T00:00:00Z."""
    genuine = (reference / "dcc" / "ECS52_11.2_SUCCESS_RESPONSE_DUIS.XML").read_bytes()
    sent = str(parse_response(genuine).header.request_id)  # the test Supplier's request
    for client in _client(keys, tmp_path, sent):
        refused = client.post("/duis/receiver", content=genuine, headers=XML)
        assert refused.status_code == 400 and "not valid at" in refused.json()["reason"]
    for client in _client(keys, tmp_path / "pinned", sent,
                          FWO_DUIS_VERIFY_AT="2024-01-01T00:00:00Z"):
        accepted = client.post("/duis/receiver", content=genuine, headers=XML)
        assert accepted.status_code == 202, accepted.json()
        assert accepted.json()["status"] == "applied"
