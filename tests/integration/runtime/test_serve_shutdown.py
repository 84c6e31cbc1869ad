"""`fwo serve` stays responsive during a slow catalogue sync and stops on SIGTERM.

A real server process, a real local listener that trickles a workbook (each chunk well
inside the read timeout, so only a total bound ends it) and a real SIGTERM.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

FWO = str(Path(sys.executable).with_name("fwo"))


class _Trickle(BaseHTTPRequestHandler):
    started = threading.Event()

    def do_GET(self) -> None:
        _Trickle.started.set()
        self.send_response(200)
        self.end_headers()
        try:
            for _ in range(600):  # a minute of a byte every 0.1 s
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(0.1)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def trickle() -> Iterator[str]:
    _Trickle.started.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_during_a_slow_sync_and_stops_on_sigterm(tmp_path: Path,
                                                                trickle: str) -> None:
    env = {**os.environ, "FWO_DATA_DIR": str(tmp_path), "FWO_SHUTDOWN_GRACE_S": "2",
           "FWO_FETCH_ALLOW_HTTP_HOSTS": "127.0.0.1",
           "FWO_FETCH_ALLOW_PRIVATE_HOSTS": "127.0.0.1"}
    env.pop("FWO_DATABASE_URL", None)
    created = subprocess.run([FWO, "user", "create", "ops", "--role", "admin", "--json"],
                             env=env, cwd=tmp_path, capture_output=True, check=True)
    token = json.loads(created.stdout)["token"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([FWO, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("fwo serve did not answer /healthz")

        answers: list[httpx.Response] = []

        def slow_sync() -> None:
            try:
                answers.append(httpx.post(f"{base}/api/catalogue/sync", timeout=120,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"cpl": f"{trickle}/cpl.xlsx", "fir": f"{trickle}/fir.xlsx",
                                 "reason": "slow source"}))
            except httpx.HTTPError:
                pass

        request = threading.Thread(target=slow_sync, daemon=True)
        request.start()
        assert _Trickle.started.wait(30), "the sync never reached the source"
        # Responsive while the sync runs: other requests are answered at once.
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)  # the grace is 2 s; the trickle would last a minute
        except subprocess.TimeoutExpired:
            pytest.fail("fwo serve ignored SIGTERM while a request was running")
        output = b"".join(server.communicate(timeout=10)).decode()
        assert "Traceback" not in output, output
        assert "request_cut_at_shutdown" in output, output
        request.join(10)
        # The cut request is told to come back, not left hanging or given a 500.
        assert [(a.status_code, a.headers.get("retry-after")) for a in answers] == [(503, "5")]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
