"""Benchmark the DUIS receiver: 10,000 DCC-signed alerts POSTed to `fwo serve` over loopback.

The server runs in its own process (`fwo serve` on SQLite, and on PostgreSQL too when
FWO_DATABASE_URL names one: each run gets a fresh schema of it); this process signs the
alerts first (not timed), then posts them with N concurrent connections, re-posting 2% of
them to check deduplication. Each backend runs in both receiver modes (FWO_RECEIVER_APPLY):
`inline` (stored, verified and applied before the answer) and `deferred` (stored and
acknowledged at once, applied in batches by workers: `fwo worker` processes on the Redis
broker given by --broker / FWO_BENCH_BROKER_URL, else the serving process's applier
thread). After the posts the run waits until no message is left `received`, then the
database is read directly. Prints ONE JSON line; per backend and mode:
- `accepted_per_s`: 2xx answers per wall-clock second of the posting phase (HTTP intake);
- `applied_per_s`: stored messages per second from the first post until none is left
  `received` (for inline mode the same phase);
- `stored`: rows in inbound_messages; `duplicates`: posts answered `duplicate`;
- `lost`: acknowledged messages missing from the database, or never applied (must be 0);
- `applied_twice`: messages stored or applied more than once (must be 0);
- `statuses`: stored rows by status.
`baseline` (same run): the same posts to a trivial FastAPI endpoint answering 204 under the
same uvicorn (HTTP + framework floor), and in-process `inbound.receive` / `receive_many`
rates on a fresh SQLite database and, with PostgreSQL, on a fresh schema of it (the work
floor without HTTP).
`--workers-after` starts the workers only once every post is answered: the receiver's own
intake, then the workers' apply rate on their own.
Usage: python bench/receiver.py [--messages 10000] [--concurrency 16] [--broker URL]
       [--workers 2] [--workers-after] [--modes inline,deferred]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from duis.respond import sign_response
from orchestrator.service.inbound import message_digest
from simulators.dsp.messages import device_alert
from simulators.dsp.users import dcc_identity_from_keys
from simulators.generate import generate

SUPPLIER = "90-B3-D5-1F-30-01-00-00"
TRIVIAL = """
from fastapi import FastAPI, Request, Response
app = FastAPI()
@app.post("/duis/receiver")
async def receive(request: Request) -> Response:
    await request.body()
    return Response(status_code=204)
@app.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}
"""


def free_port() -> int:
    """An unused loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def signed_alerts(keys: Path, devices: list[str], count: int) -> list[bytes]:
    """`count` distinct 0x8F72 alerts, DCC-signed (distinct counters, so distinct bytes)."""
    identity = dcc_identity_from_keys(keys)
    now = dt.datetime.now(dt.UTC)
    return [sign_response(device_alert(0x8F72, devices[i % len(devices)], SUPPLIER, i + 1, now,
                                       hashlib.sha256(str(i).encode()).digest()), identity)
            for i in range(count)]


def start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Start a server process and wait until /healthz answers."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"server on port {port} did not come up: {command}")


async def _post(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str,
                body: bytes) -> tuple[int, bytes]:
    """One HTTP/1.1 keep-alive POST on an open connection: (status, response body)."""
    writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml"
                 f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = next((int(v) for k, _, v in (line.partition(":") for line in lines[1:])
                   if k.lower() == "content-length"), 0)
    return status, await reader.readexactly(length) if length else b""


async def post_all(port: int, bodies: list[bytes], concurrency: int
                   ) -> tuple[float, list[tuple[int, bytes, dict[str, object]]]]:
    """POST every body over `concurrency` keep-alive connections (a lean client, so the
    client's own cost stays small next to the server's); (seconds, [(status, body, json)])."""
    results: list[tuple[int, bytes, dict[str, object]]] = []
    queue = list(reversed(bodies))

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            body = queue.pop()
            status, answer = await _post(reader, writer, "/duis/receiver", body)
            parsed = json.loads(answer) if answer.startswith(b"{") else {}
            results.append((status, body, parsed))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, results


def serve_env(base: Path, database_url: str, keys: Path, mode: str = "inline",
              broker: str = "") -> dict[str, str]:
    """Environment for `fwo serve` (and its workers) against one database."""
    env = {**os.environ, "FWO_DATABASE_URL": database_url, "FWO_DATA_DIR": str(base),
           "FWO_KEYS_DIR": str(keys), "FWO_LOG_LEVEL": "WARNING", "NO_COLOR": "1",
           "FWO_RECEIVER_APPLY": mode, "FWO_BROKER_URL": broker or "memory://",
           "FWO_DSP_URL": "http://127.0.0.1:9/unused", "FWO_IMAGE_DIR": str(base),
           "FWO_RECONCILE_INTERVAL_S": "60"}
    return env


def fresh_schema(url: str) -> str:
    """`url` (PostgreSQL) with its search_path on a new, empty schema."""
    schema = f"bench_receiver_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f"create schema {schema}"))
    engine.dispose()
    base = url.split("?", 1)[0]
    return f"{base}?options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    """Drop the schema `fresh_schema` made."""
    schema = url.rsplit("%3D", 1)[1]
    engine = sa.create_engine(url.split("?", 1)[0])
    with engine.begin() as connection:
        connection.execute(sa.text(f"drop schema if exists {schema} cascade"))
    engine.dispose()


def wait_applied(database_url: str, limit_s: float = 120.0) -> None:
    """Until no stored message is left `received` (or `limit_s` passes)."""
    engine = sa.create_engine(database_url)
    deadline = time.monotonic() + limit_s
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                left = connection.scalar(sa.text(
                    "select count(*) from inbound_messages where status = 'received'"))
            if not left:
                return
            time.sleep(0.05)
    finally:
        engine.dispose()


def check(database_url: str, results: list[tuple[int, bytes, dict[str, object]]],
          seconds: float, applied_s: float) -> dict[str, object]:
    """Compare what the server acknowledged with what the database holds."""
    acked = {message_digest(b) for code, b, _ in results if 200 <= code < 300}
    fresh = Counter(message_digest(b) for code, b, j in results
                    if 200 <= code < 300 and j.get("status") != "duplicate")
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("select sha256, status from inbound_messages")).all()
    engine.dispose()
    stored = Counter(sha for sha, _ in rows)
    done = {sha for sha, status in rows if status != "received"}
    accepted = sum(1 for code, _, _ in results if 200 <= code < 300)
    return {"posted": len(results), "accepted": accepted,
            "accepted_per_s": round(accepted / seconds, 1), "seconds": round(seconds, 2),
            "applied_per_s": round(len(rows) / applied_s, 1),
            "applied_seconds": round(applied_s, 2), "stored": len(rows),
            "duplicates": sum(1 for _, _, j in results if j.get("status") == "duplicate"),
            "lost": len(acked - done),
            "applied_twice": sum(n - 1 for n in fresh.values() if n > 1)
            + sum(n - 1 for n in stored.values() if n > 1),
            "refused": sum(1 for code, _, _ in results if code >= 300),
            "statuses": dict(Counter(status for _, status in rows))}


def run_backend(base: Path, database_url: str, keys: Path, bodies: list[bytes],
                concurrency: int, mode: str = "inline", broker: str = "",
                workers: int = 2, workers_after: bool = False) -> dict[str, object]:
    """`fwo serve` on one database in one receiver mode (with `fwo worker`s on `broker` in
    deferred mode), all posts, until all is applied, then the database check."""
    port = free_port()
    fwo = str(Path(sys.executable).parent / "fwo")
    fleet = keys.parent / "fleet.csv"  # alerts about devices not in the fleet are refused
    env = serve_env(base, database_url, keys, mode, broker if mode == "deferred" else "")
    admin = subprocess.run([fwo, "user", "create", "bench", "--role", "admin", "--json"],
                           env=env, check=True, capture_output=True, text=True)
    env["FWO_TOKEN"] = json.loads(admin.stdout)["token"]  # the first admin, created locally
    subprocess.run([fwo, "fleet", "import", str(fleet)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    helpers: list[subprocess.Popen[bytes]] = []

    def start_workers() -> None:
        base.mkdir(parents=True, exist_ok=True)
        with open(base / "worker.log", "ab") as log:  # the child keeps its own handle
            helpers.append(subprocess.Popen([fwo, "worker", "--concurrency", str(workers)],
                                            env=env, stdout=log, stderr=subprocess.STDOUT))

    if mode == "deferred" and broker:
        import redis

        redis.Redis.from_url(broker).flushdb()  # no task left from an earlier run
        if not workers_after:
            start_workers()
    server = start([fwo, "serve", "--host", "127.0.0.1", "--port", str(port)], env, port)
    try:
        started = time.perf_counter()
        seconds, results = asyncio.run(post_all(port, bodies, concurrency))
        if mode == "deferred" and broker and workers_after:
            start_workers()
        wait_applied(database_url)
        applied_s = time.perf_counter() - started
    finally:
        for process in [server, *helpers]:
            process.terminate()
        for process in [server, *helpers]:
            process.wait(timeout=30)
    return {"mode": mode, "applier": (("workers after the posts" if workers_after
                                       else "workers") if broker else "thread")
            if mode == "deferred" else "request",
            **check(database_url, results, seconds, applied_s)}


def trivial_baseline(bodies: list[bytes], concurrency: int) -> float:
    """Posts per second to an endpoint that only reads the body and answers 204."""
    port = free_port()
    app_dir = Path(tempfile.mkdtemp(prefix="fwo-bench-trivial-"))
    (app_dir / "trivial_app.py").write_text(TRIVIAL)
    command = [sys.executable, "-m", "uvicorn", "trivial_app:app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning", "--app-dir", str(app_dir)]
    server = start(command, dict(os.environ), port)
    try:
        seconds, results = asyncio.run(post_all(port, bodies, concurrency))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return round(sum(1 for c, _, _ in results if c == 204) / seconds, 1)


def in_process(base: Path, keys: Path, bodies: list[bytes], postgres: str = ""
               ) -> dict[str, float]:
    """`inbound.receive` one by one and `receive_many` in batches of 500, fresh SQLite (and
    `receive_many` on a fresh PostgreSQL schema when given one)."""
    from orchestrator.bootstrap import bootstrap
    from orchestrator.config import Settings
    from orchestrator.service import fleet, inbound

    rates: dict[str, float] = {}
    runs = [("receive_per_s", 1, ""), ("receive_many_per_s", 500, "")]
    if postgres:
        runs.append(("postgresql_receive_many_per_s", 500, fresh_schema(postgres)))
    for name, batch, url in runs:
        app = bootstrap(Settings(data_dir=base / name, keys_dir=keys, database_url=url))
        fleet.import_fleet(app.uow(), keys.parent / "fleet.csv")
        ex = app.execution()
        sample = bodies[:2000] if batch == 1 else bodies
        started = time.perf_counter()
        for i in range(0, len(sample), batch):
            inbound.receive_many(ex, sample[i:i + batch])
        rates[name] = round(len(sample) / (time.perf_counter() - started), 1)
        app.close()
        if url:
            drop_schema(url)
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--broker", default=os.environ.get("FWO_BENCH_BROKER_URL", ""),
                        help="Redis broker for deferred mode's `fwo worker`s (its database "
                             "is flushed); none: the serving process's applier thread")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--modes", default="inline,deferred")
    parser.add_argument("--workers-after", action="store_true",
                        help="start the workers once every post is answered (intake alone)")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fwo-bench-receiver-"))
    generate(base / "data", entries=16, devices=200, seed=1, image_size=256)
    keys = base / "data" / "keys"
    devices = [line.split(",")[0] for line in
               (base / "data" / "fleet.csv").read_text().splitlines()[1:]]
    alerts = signed_alerts(keys, devices, args.messages)
    bodies = alerts + alerts[: max(1, args.messages // 50)]  # 2% posted twice
    postgres = os.environ.get("FWO_DATABASE_URL", "")
    postgres = postgres if postgres.startswith("postgresql") else ""
    report: dict[str, object] = {"messages": args.messages, "posts": len(bodies),
                                 "concurrency": args.concurrency, "workers": args.workers,
                                 "message_bytes": len(alerts[0]), "cpus": os.cpu_count()}
    for mode in args.modes.split(","):
        name = f"sqlite_{mode}"
        report[name] = run_backend(base / name, f"sqlite:///{base / name}.sqlite3", keys,
                                   bodies, args.concurrency, mode, args.broker, args.workers,
                                   args.workers_after)
        if postgres:
            name, url = f"postgresql_{mode}", fresh_schema(postgres)
            try:
                report[name] = run_backend(base / name, url, keys, bodies, args.concurrency,
                                           mode, args.broker, args.workers,
                                           args.workers_after)
            finally:
                drop_schema(url)
    report["baseline"] = {"trivial_204_per_s": trivial_baseline(bodies, args.concurrency),
                          **in_process(base / "inproc", keys, alerts, postgres)}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
