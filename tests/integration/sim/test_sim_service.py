"""The DSP as an HTTP service: FastAPI routes, and `fwo sim dsp` delivering to a receiver."""
from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from duis import build
from duis.models import ReadFirmwareVersion, SignedPreCommand
from simulators import SimulatedSupplier, build_simulation
from simulators.service import create_app


def _gas_meter(sim) -> str:  # type: ignore[no-untyped-def]
    fleet = sim.fleet
    return next(d for d in fleet.ids if fleet.device_type(fleet.index(d)) == "GSME"
                and fleet.status(fleet.index(d)) == "Commissioned")


def test_routes_submit_step_and_tell_the_truth(generated: Path) -> None:
    """POST /duis answers signed XML; /advance steps time; /messages, /truth, /devices report."""
    sim = build_simulation(generated)
    gas = SimulatedSupplier(sim, "GS")
    device = _gas_meter(sim)
    xml = gas.user.sign(ReadFirmwareVersion(gas.request_id(device)))
    with TestClient(create_app(sim, real_time=False)) as client:
        answer = client.post("/duis", content=xml, headers={"Content-Type": "application/xml"})
        assert answer.headers["content-type"].startswith("application/xml")
        assert sim.verify(answer.content).header.response_code == "I99"
        assert client.get("/health").json()["pending_events"] == 1
        assert client.post("/advance", params={"seconds": 3600}).json()["delivered"] == 1
        [kept] = client.get("/messages").json()["messages"]
        assert sim.verify(kept.encode()).body.firmware_version
        truth = client.get("/truth").json()
        assert truth["bricked"] == [] and list(truth["sr_counts"]["11.2"].values()) == [1]
        assert client.get(f"/devices/{device}").json()["device_id"] == device
        assert client.get("/devices/00-11-22-33-44-55-66-77").status_code == 404


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A tiny HTTP server collecting POSTed messages."""
    got: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/duis", got
    server.shutdown()


def test_fwo_sim_dsp_serves_and_posts_to_the_receiver(generated: Path, receiver) -> None:
    """The CLI service answers over HTTP and, in real time, POSTs the 11.2 answer back."""
    url, got = receiver
    port = _free_port()
    command = [str(Path(sys.executable).parent / "fwo"), "sim", "dsp", "--catalogue",
               str(generated), "--port", str(port), "--receiver", url, "--speed", "3600"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               env={**os.environ, "NO_COLOR": "1"})
    try:
        sim = build_simulation(generated)
        gas = SimulatedSupplier(sim, "GS")
        xml = gas.user.sign(ReadFirmwareVersion(gas.request_id(_gas_meter(sim))))
        answer = _post_when_up(f"http://127.0.0.1:{port}/duis", xml)
        assert sim.verify(answer).header.response_code == "I99"
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(got) == 1 and sim.verify(got[0]).header.response_code == "I0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _post_when_up(url: str, xml: bytes) -> bytes:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.post(url, content=xml, timeout=5).content
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_the_three_dcc_boxed_services_take_their_command_variants(generated: Path) -> None:
    """The product's HTTP gateway, pointed at the simulator's base URL, gets an 11.3 through
    serviceT (CV4) and serviceS (CV5) and an 11.2 through serviceS; a CV4 POSTed to
    serviceS is refused with 400."""
    from orchestrator.adapters.http_gateway import HttpDspGateway
    from orchestrator.errors import DspRefusedError

    sim = build_simulation(generated)
    supplier = SimulatedSupplier(sim, "GS")
    device = _gas_meter(sim)
    with TestClient(create_app(sim, real_time=False)) as client:
        gateway = HttpDspGateway("http://testserver", transport=client._transport)
        read = supplier.user.sign(ReadFirmwareVersion(supplier.request_id(device)))
        assert sim.verify(gateway.send(read)).header.response_code == "I99"
        rid = supplier.request_id(device)
        cv4 = supplier.user.sign(build.activate_firmware(rid, "ab" * 32))
        wrong = client.post("/api/v1/serviceS", content=cv4,
                            headers={"Content-Type": "application/xml"})
        assert wrong.status_code == 400
        first = sim.verify(gateway.send(cv4))
        pre = first.body.pre_command  # type: ignore[union-attr]
        assert first.header.response_code == "I0" and pre is not None
        cv5 = supplier.user.sign(SignedPreCommand(rid, supplier.user.sign_pre_command(
            pre.gbcs_payload)))
        assert sim.verify(gateway.send(cv5)).header.response_code == "I99"
        with pytest.raises(DspRefusedError):
            HttpDspGateway("http://testserver/nowhere", transport=client._transport).send(read)
    assert [d.code for d in sim.dsp.journal] == ["I99", "I0", "I99"]
