"""The simulated DSP as an HTTP service (FastAPI): POST signed DUIS XML, get the DCC answer.

| route | what |
|---|---|
| `POST /duis` (also `/`) | body: signed sr:Request bytes; answer: signed sr:Response (XML) |
| `GET /health` | simulated time, pending events, fault profile |
| `GET /devices/{id}` | one simulated device (running entry, held image, bricked, ...) |
| `GET /truth` | bricked devices, SR counts per type per period, quarantines, stats |
| `GET /messages?since=N` | messages kept when no receiver URL is configured |
| `POST /advance?seconds=S` | step simulated time (only when not running in real time) |

In real-time mode a background thread lets simulated time flow at the clock's speed and
delivers responses and alerts to the receiver as they fall due.
"""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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


def _counts(counts: dict[str, dict[Any, int]]) -> dict[str, dict[str, int]]:
    return {sr: {start.isoformat(): n for start, n in per.items()} for sr, per in counts.items()}


def create_app(sim: Simulation, *, real_time: bool = True, tick: float = 0.05) -> FastAPI:
    """A FastAPI app serving `sim`; real time runs while the app is up."""
    runner = RealTimeRunner(sim.dsp, tick) if real_time else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        try:
            yield
        finally:
            if runner is not None:
                runner.stop()

    app = FastAPI(title="Simulated DCC DSP", lifespan=lifespan)

    async def submit(request: Request) -> Response:
        answer = await run_in_threadpool(sim.dsp.submit, await request.body())
        return Response(answer, media_type=XML)

    app.add_api_route("/duis", submit, methods=["POST"], response_class=Response)
    app.add_api_route("/", submit, methods=["POST"], response_class=Response)

    @app.get("/health")
    def health() -> dict[str, Any]:
        due = sim.dsp.next_event_time()
        return {"status": "ok", "now": sim.clock.now().isoformat(),
                "pending_events": sim.dsp.pending_events(),
                "next_event": due.isoformat() if due else None,
                "faults": sim.dsp.faults.name, "real_time": runner is not None,
                "speed": sim.clock.speed, "devices": len(sim.fleet)}

    @app.get("/devices/{device_id}")
    def device(device_id: str) -> dict[str, Any]:
        try:
            return sim.fleet.view(device_id, sim.clock.now()).to_dict()
        except UnknownDeviceError as err:
            raise HTTPException(404, str(err)) from err

    @app.get("/truth")
    def truth() -> dict[str, Any]:
        return {"bricked": sim.fleet.bricked(), "sr_counts": _counts(sim.dsp.sr_counts()),
                "quarantined": _counts(sim.dsp.quarantine_counts()), "stats": sim.dsp.stats}

    @app.get("/messages")
    def messages(since: int = 0) -> dict[str, Any]:
        receiver = sim.dsp.receiver
        if not isinstance(receiver, CollectingReceiver):
            raise HTTPException(409, "messages go to the configured receiver URL")
        kept = receiver.messages
        return {"count": len(kept), "messages": [m.decode() for m in kept[since:]]}

    @app.post("/advance")
    def advance(seconds: float) -> dict[str, Any]:
        if runner is not None:
            raise HTTPException(409, "time runs on its own in real-time mode")
        delivered = sim.dsp.advance_by(timedelta(seconds=seconds))
        return {"delivered": delivered, "now": sim.clock.now().isoformat()}

    return app
