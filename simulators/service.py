"""The simulated DSP as an HTTP service (FastAPI): POST signed DUIS XML, get the DCC answer.

| route | what |
|---|---|
| `POST /api/v1/serviceD` | DCC Boxed Non-Device service (CommandVariant 2, 8) |
| `POST /api/v1/serviceS` | DCC Boxed Send Command service (CommandVariant 1, 3, 5, 7) |
| `POST /api/v1/serviceT` | DCC Boxed Transform service (CommandVariant 4) |
| `POST /duis` (also `/`) | any CommandVariant (the simulator's own route) |
| `GET /health` | simulated time, pending events, fault profile |
| `GET /devices/{id}` | one simulated device (running entry, held image, bricked, ...) |
| `GET /truth` | bricked devices, SR counts per type per period, quarantines, stats, activations |
| `GET /messages?since=N` | messages kept when no receiver URL is configured |
| `POST /advance?seconds=S` | step simulated time (only when not running in real time) |

Each route takes a signed sr:Request and answers the DCC-signed sr:Response (XML, 200),
after `latency_s` of wall-clock time when one is configured (without holding the DSP:
answers to concurrent requests overlap, as a distant DSP's do). A
request sent to the wrong DCC Boxed service (say a CV4 to serviceS) is answered HTTP 400,
as a web service answers a request it does not serve.

In real-time mode a background thread lets simulated time flow at the clock's speed and
delivers responses and alerts to the receiver as they fall due, over several connections at
once as a DSP does (`delivery_lanes`), each device's messages in the order they fell due.
"""
from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from simulators import UnknownDeviceError
from simulators.dsp.receivers import CollectingReceiver
from simulators.dsp.runner import RealTimeRunner
from simulators.dsp.simulation import Simulation

XML = "application/xml"
DCC_BOXED_SERVICES = {"serviceD": frozenset({2, 8}), "serviceS": frozenset({1, 3, 5, 7}),
                      "serviceT": frozenset({4})}
_VARIANT = re.compile(rb"<(?:\w+:)?CommandVariant>\s*(\d+)\s*</(?:\w+:)?CommandVariant>")


def _counts(counts: dict[str, dict[Any, int]]) -> dict[str, dict[str, int]]:
    return {sr: {start.isoformat(): n for start, n in per.items()} for sr, per in counts.items()}


class _Routes:
    """The endpoints, bound to one simulation."""

    def __init__(self, sim: Simulation, runner: RealTimeRunner | None,
                 latency_s: float = 0.0) -> None:
        self.sim, self.runner, self.latency_s = sim, runner, latency_s

    async def submit(self, request: Request) -> Response:
        """Answer a signed DUIS request with the DCC-signed synchronous response."""
        return await self.submit_bytes(await request.body())

    def service(self, name: str, variants: frozenset[int]
                ) -> Callable[[Request], Awaitable[Response]]:
        """A DCC Boxed service route: only its CommandVariants, else HTTP 400."""
        async def endpoint(request: Request) -> Response:
            body = await request.body()
            found = _VARIANT.search(body, 0, 4096)
            if found is None or int(found.group(1)) not in variants:
                raise HTTPException(400, f"{name} serves CommandVariant "
                                         f"{', '.join(map(str, sorted(variants)))} only")
            return await self.submit_bytes(body)
        return endpoint

    async def submit_bytes(self, body: bytes) -> Response:
        """The DCC-signed synchronous response to one request body."""
        answer = await run_in_threadpool(self.sim.dsp.submit, body)
        if self.latency_s > 0:
            await asyncio.sleep(self.latency_s)
        return Response(answer, media_type=XML)

    def health(self) -> dict[str, Any]:
        """Simulated time, pending events, fault profile."""
        sim = self.sim
        due = sim.dsp.next_event_time()
        return {"status": "ok", "now": sim.clock.now().isoformat(),
                "pending_events": sim.dsp.pending_events(),
                "next_event": due.isoformat() if due else None,
                "faults": sim.dsp.faults.name, "real_time": self.runner is not None,
                "speed": sim.clock.speed, "devices": len(sim.fleet)}

    def device(self, device_id: str) -> dict[str, Any]:
        """One simulated device."""
        try:
            return self.sim.fleet.view(device_id, self.sim.clock.now()).to_dict()
        except UnknownDeviceError as err:
            raise HTTPException(404, str(err)) from err

    def truth(self) -> dict[str, Any]:
        """Bricked devices, SR counts per type per period, quarantines, stats, and every
        activation that ran (device, simulated time, 11.3, future-dated or not, outcome)."""
        dsp = self.sim.dsp
        return {"bricked": self.sim.fleet.bricked(), "sr_counts": _counts(dsp.sr_counts()),
                "quarantined": _counts(dsp.quarantine_counts()), "stats": dsp.stats,
                "activations": [a.to_dict() for a in dsp.activations]}

    def messages(self, since: int = 0) -> dict[str, Any]:
        """Messages kept when no receiver URL is configured."""
        receiver = self.sim.dsp.receiver
        if not isinstance(receiver, CollectingReceiver):
            raise HTTPException(409, "messages go to the configured receiver URL")
        kept = receiver.messages
        return {"count": len(kept), "messages": [m.decode() for m in kept[since:]]}

    def advance(self, seconds: float) -> dict[str, Any]:
        """Step simulated time (stepped mode only)."""
        if self.runner is not None:
            raise HTTPException(409, "time runs on its own in real-time mode")
        delivered = self.sim.dsp.advance_by(timedelta(seconds=seconds))
        return {"delivered": delivered, "now": self.sim.clock.now().isoformat()}


def _lifespan(runner: RealTimeRunner | None
              ) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()

    return lifespan


def create_app(sim: Simulation, *, real_time: bool = True, tick: float = 0.05,
               latency_s: float = 0.0, delivery_lanes: int = 1) -> FastAPI:
    """A FastAPI app serving `sim`; real time runs while the app is up, delivering over
    `delivery_lanes` concurrent senders; each synchronous answer waits `latency_s` first."""
    runner = RealTimeRunner(sim.dsp, tick, delivery_lanes) if real_time else None
    routes = _Routes(sim, runner, latency_s)
    app = FastAPI(title="Simulated DCC DSP", lifespan=_lifespan(runner))
    for name, variants in DCC_BOXED_SERVICES.items():
        app.add_api_route(f"/api/v1/{name}", routes.service(name, variants), methods=["POST"],
                          name=name)
    for path, method, endpoint in (
        ("/duis", "POST", routes.submit), ("/", "POST", routes.submit),
        ("/health", "GET", routes.health), ("/devices/{device_id}", "GET", routes.device),
        ("/truth", "GET", routes.truth), ("/messages", "GET", routes.messages),
        ("/advance", "POST", routes.advance),
    ):
        app.add_api_route(path, endpoint, methods=[method])
    return app
