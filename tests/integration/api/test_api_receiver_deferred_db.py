"""The receiver in deferred mode (FWO_RECEIVER_APPLY=deferred) on real databases: each POST
is stored and acknowledged at once, stored messages are verified and applied later in
batches, once each however many workers reach them, and what a crash left stored but not
applied is applied by the reconciler."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from duis.sign import SigningIdentity
from orchestrator.config import Settings
from orchestrator.entrypoints.api import create_app
from orchestrator.errors import ConfigurationError
from orchestrator.service import inbound
from orchestrator.service.reconcile import reconcile
from simulators.dsp.users import dcc_identity_from_keys

from .conftest import ops_app
from .test_api_receiver_db import _resigned, alert, stored

XML = {"Content-Type": "application/xml"}


def _settled(database_url: str, count: int, wait_s: float = 60.0) -> list[object]:
    """The stored rows once `count` are stored and none is still `received` (the applier
    thread works beside the test; this waits for it, it does not time it)."""
    deadline = time.monotonic() + wait_s
    while True:
        rows = stored(database_url)
        if len(rows) >= count and all(r.status != "received" for r in rows):
            return rows
        if time.monotonic() > deadline:
            raise AssertionError(f"not applied: {[r.status for r in rows]}")
        time.sleep(0.05)


def test_deferred_posts_are_acknowledged_when_stored_and_applied_by_the_applier(
        database_url: str, api_data: Path, tmp_path: Path) -> None:
    """202 `received` for each new message (even a forged or malformed one: the signature is
    checked when applying), 202 `duplicate` for the same bytes again; the applier thread then
    applies the genuine alert once and quarantines the others with their reason."""
    app = ops_app(database_url, api_data, tmp_path, receiver_apply="deferred")
    keys = api_data / "keys"
    good = alert(keys, 1)
    supplier = SigningIdentity.load((keys / "supplier_xml.key.pem").read_bytes(),
                                    (keys / "supplier_xml.cert.pem").read_bytes())
    forged = alert(keys, 2, supplier)
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        answers = [client.post("/duis/receiver", content=body, headers=XML)
                   for body in (good, good, b"<not-duis/>", forged)]
        assert [(a.status_code, a.json()["status"]) for a in answers] == [
            (202, "received"), (202, "duplicate"), (202, "received"), (202, "received")]
        assert answers[0].json()["message_id"] == answers[1].json()["message_id"]
        rows = _settled(database_url, 3)
    app.close()
    assert [r.status for r in rows] == ["applied", "quarantined", "quarantined"]
    assert bytes(rows[0].raw) == good and "Signature" in rows[1].reason
    assert rows[2].reason.startswith("UntrustedCertificateError")


def test_stored_messages_are_applied_once_by_concurrent_workers(
        database_url: str, api_data: Path, tmp_path: Path) -> None:
    """Stored but not applied, a batch is applied by four workers at once over overlapping
    ids and a reconciler: every message ends applied exactly once, and a re-signed copy of
    one of them (same signed content, other bytes) is a duplicate, never applied."""
    app = ops_app(database_url, api_data, tmp_path)
    ex = app.execution()
    keys = api_data / "keys"
    alerts = [alert(keys, n) for n in range(1, 41)]
    copy = _resigned(alerts[0], dcc_identity_from_keys(keys))
    acks = inbound.store_many(ex, [*alerts, copy])
    assert {a.status for a in acks} == {"received"}
    ids = [a.message_id for a in acks]
    results: list[inbound.InboundResult] = []
    errors: list[BaseException] = []

    def worker(part: list[int]) -> None:
        try:
            results.extend(inbound.apply_stored(app.execution(), part))
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    parts = [ids, ids[::-1], ids[10:], ids[:30]]
    threads = [threading.Thread(target=worker, args=(p,)) for p in parts]
    for t in threads:
        t.start()
    reconcile(ex)
    for t in threads:
        t.join()
    assert errors == []
    rows = stored(database_url)
    assert [r.status for r in rows].count("applied") == 40
    assert {r.status for r in rows} == {"applied", "duplicate"} and len(rows) == 41
    assert len([r for r in results if r.status == "applied"]) <= 40
    assert inbound.apply_pending(ex) == 0
    app.close()


def test_a_message_stored_before_a_crash_is_applied_by_the_reconciler(
        database_url: str, api_data: Path, tmp_path: Path) -> None:
    """Acknowledged and stored, then the worker that was to apply it died: it stays
    `received` until the reconciler applies it, once."""
    app = ops_app(database_url, api_data, tmp_path, receiver_apply="deferred")
    good = alert(api_data / "keys", 5)
    api = create_app(app)
    api.state.inbound_applier.close()  # the applier is dead before it applies anything
    client = TestClient(api)
    reply = client.post("/duis/receiver", content=good, headers=XML)
    assert (reply.status_code, reply.json()["status"]) == (202, "received")
    assert [r.status for r in stored(database_url)] == ["received"]
    ex = app.execution()
    assert reconcile(ex).reprocessed == 0  # a receiver may be applying it right now
    ex.unacknowledged_grace_s = 0.0  # once it has waited the grace, the reconciler does
    assert reconcile(ex).reprocessed == 1
    assert reconcile(ex).reprocessed == 0
    assert [r.status for r in stored(database_url)] == ["applied"]
    app.close()


def test_an_unknown_receiver_mode_is_one_line(tmp_path: Path) -> None:
    """FWO_RECEIVER_APPLY must name a mode."""
    settings = Settings.from_env({"FWO_RECEIVER_APPLY": "later",
                                  "FWO_DATA_DIR": str(tmp_path)})
    with pytest.raises(ConfigurationError, match="FWO_RECEIVER_APPLY='later' is neither"):
        assert settings.deferred_receiver
