"""The receiver under database loss: PostgreSQL connections terminated (pg_terminate_backend)
in the middle of its transactions during a burst of posts over real HTTP. Every post is
answered, 202 or 503 with Retry-After, never a 500 or a dropped connection; re-sent after a
503, every message ends stored once and applied once."""
from __future__ import annotations

import socket
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from orchestrator.entrypoints.api import create_app
from orchestrator.service import inbound

from .conftest import ops_app
from .test_api_receiver_db import alert, fleet_device

XML = {"Content-Type": "application/xml"}
MESSAGES = 120
KILLS = 6


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Killer(threading.Thread):
    """Holds a lock on inbound_messages until one of the server's connections waits on it,
    then terminates that connection (so it dies inside a receiver transaction), `KILLS`
    times; counts the connections it terminated."""

    def __init__(self, admin_url: str, application: str):
        super().__init__(daemon=True)
        self.engine = sa.create_engine(admin_url)
        self.application = application
        self.killed = 0
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while self.killed < KILLS and not self.done.is_set():
                self.killed += self._once()
        finally:
            self.engine.dispose()

    def _once(self) -> int:
        with self.engine.connect() as connection, connection.begin():
            connection.execute(sa.text("lock table inbound_messages in exclusive mode"))
            for _ in range(400):  # until a receiver transaction waits on the lock
                killed = connection.execute(sa.text(
                    "select count(*) filter (where pg_terminate_backend(pid)) "
                    "from pg_stat_activity where application_name = :a "
                    "and wait_event_type = 'Lock'"), {"a": self.application}).scalar_one()
                if killed or self.done.is_set():
                    return int(killed)
                time.sleep(0.025)
        return 0


@pytest.fixture
def served(postgres_url: str, api_data: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`fwo serve`'s app under uvicorn on a PostgreSQL schema, its connections named."""
    application = f"fwo-receiver-{uuid.uuid4().hex[:8]}"
    url = f"{postgres_url}&application_name={application}"
    app = ops_app(url, api_data, tmp_path)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(app), host="127.0.0.1", port=port,
                                           log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(400):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield app, f"http://127.0.0.1:{port}", postgres_url, application
    server.should_exit = True
    thread.join(timeout=30)
    app.close()


def _post(base: str, bodies: list[bytes]) -> list[tuple[int, str, str | None]]:
    """(status, receipt status or error, Retry-After) of each post, one connection each."""
    out = []
    for body in bodies:
        try:
            reply = httpx.post(f"{base}/duis/receiver", content=body, headers=XML, timeout=60)
        except httpx.HTTPError as err:  # a dropped connection
            out.append((0, type(err).__name__, None))
            continue
        status = reply.json().get("status", "") if reply.status_code != 503 else "unavailable"
        out.append((reply.status_code, status, reply.headers.get("retry-after")))
    return out


def test_the_receiver_answers_503_with_retry_after_when_its_database_connections_die(
        served) -> None:  # type: ignore[no-untyped-def]
    """A burst of 120 genuine alerts from 8 senders while 6 of the receiver's PostgreSQL
    connections are terminated mid-transaction: each post is answered 202 or 503 with
    Retry-After (no 500, no dropped connection); the 503s, sent again, are accepted; after
    the reconciler's pass every message is stored once and applied once."""
    app, base, admin_url, application = served
    device = fleet_device(app.settings.keys_dir.parent)
    bodies = [alert(app.settings.keys_dir, n + 1, device=device) for n in range(MESSAGES)]
    killer = Killer(admin_url, application)
    killer.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = [a for part in pool.map(lambda i: _post(base, bodies[i::8]), range(8))
                       for a in part]
    finally:
        killer.done.set()
        killer.join(timeout=60)
    assert killer.killed > 0
    codes = Counter(code for code, _, _ in answers)
    assert set(codes) <= {202, 503}, codes
    assert codes[503] > 0, "no post met a terminated connection"
    assert all(after == "5" for code, _, after in answers if code == 503)
    again = [i for i, (code, _, _) in enumerate(_answers_by_body(answers)) if code == 503]
    for _ in range(5):  # the DSP sends a 503'd message again, later
        retried = _post(base, [bodies[i] for i in again])
        again = [i for i, (code, _, _) in zip(again, retried) if code == 503]
        if not again:
            break
    assert again == []
    inbound_pending(app)
    engine = sa.create_engine(admin_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "select status, count(*) from inbound_messages group by status")).all()
    engine.dispose()
    assert dict(rows) == {"applied": MESSAGES}


def _answers_by_body(answers: list[tuple[int, str, str | None]]
                     ) -> list[tuple[int, str, str | None]]:
    """Answers back in body order (sender i posted bodies i, i+8, ...)."""
    per = [answers[k * (MESSAGES // 8):(k + 1) * (MESSAGES // 8)] for k in range(8)]
    return [per[n % 8][n // 8] for n in range(MESSAGES)]


def inbound_pending(app) -> None:  # type: ignore[no-untyped-def]
    """What the reconciler does with messages stored but never processed."""
    ex = app.execution()
    with app.uow() as uow:
        pending = uow.requests.pending_messages(10_000)
    inbound.process_many(ex, pending)
