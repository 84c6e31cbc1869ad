"""The DUIS receiver: the DSP POSTs signed responses and alerts here.

Two modes (`FWO_RECEIVER_APPLY`). `inline` (the default) is described below: each answer
carries the verdict. `deferred` answers 202 `received` as soon as the raw bytes are stored
durably (or `duplicate` when those bytes were stored before) and hands the new ids to an
applier (`applier`): workers verify, parse and apply stored messages in batches. There the
DCC signature is checked at apply time, not before the ack: storing first is what makes a
message impossible to lose, verifying costs more than storing, and an unverifiable message
is quarantined with its reason, never applied, whichever mode stored it. Hostile XML is
never expanded in either mode: the digest is computed through the hardened parser (a
refused document is stored under the digest of its bytes, then quarantined). What the DSP
loses in `deferred` mode is only the 400 telling it a message was refused; the reason is on
the stored row, in the logs and the metrics.

No API token: the DCC's XML signature on each message is the authentication, checked by
`inbound.receive` after the raw bytes are stored (so nothing is lost, and anything unsigned,
badly signed or malformed is quarantined with a reason, never applied). The body is bounded:
a declared length over the limit is refused with 413 before any byte is read.

The answer is what DCC Boxed expects of a User's endpoint: 2xx when the message is stored
and accepted (applied, or a duplicate of one stored before), 4xx when it is refused (400:
stored but quarantined, with the reason; an unsigned message is always refused here, even
though a synchronous answer to our own request may be unsigned). When the message cannot be
stored or processed (the database, its connection or the keys failing) the answer is 503
with `Retry-After`, never a 500: what was stored stays `received` for the reconciler, and
the DSP's retry is answered `duplicate`.
"""
from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import SQLAlchemyError

from orchestrator.entrypoints.api.applier import Applier, CeleryApplier, ThreadApplier
from orchestrator.entrypoints.api.batching import InboundBatcher
from orchestrator.entrypoints.api.deps import ApiState, state
from orchestrator.entrypoints.api.middleware import BodyTooLargeError
from orchestrator.entrypoints.api.problems import problem
from orchestrator.entrypoints.nudge import celery_nudger
from orchestrator.errors import ConfigurationError, DatabaseError
from orchestrator.service import inbound

router = APIRouter(tags=["duis"])
PATH = "/duis/receiver"
log = structlog.get_logger("fwo.receiver")
RETRY_AFTER_S = 5
# deferred mode: stored batches in flight at once. Measured: 1 beats 2 and 4 (more batches
# in flight make smaller batches, each competing for the GIL and a commit of its own)
STORE_PARALLEL = 1
# the database, its connection or the key store failing: the DSP should send again later
STORAGE_FAILURES = (SQLAlchemyError, DatabaseError, ConfigurationError, OSError)
RECEIPT = {"type": "object", "properties": {
    "message_id": {"type": "integer"}, "status": {"type": "string"},
    "reason": {"type": "string"}, "sha256": {"type": "string"}}}


@router.post(PATH, status_code=202, summary="Receive a signed DUIS message",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/xml": {"schema": {"type": "string"}}}}},
             responses={202: {"content": {"application/json": {"schema": RECEIPT}}},
                        400: {"description": "empty body, or refused: stored but "
                                             "quarantined (unsigned, badly signed, unknown)",
                              "content": {"application/json": {"schema": RECEIPT}}},
                        413: {"description": "body over the configured limit"},
                        503: {"description": "could not be stored or processed now: send "
                                             "again after Retry-After seconds"}})
async def receive(request: Request) -> Response:
    """Store the raw message, then verify the DCC signature and apply it (idempotent); in
    deferred mode, store it and answer `received` (applied by workers).

    Concurrent messages are stored (and applied) together (see `batching`). `ReceiverPath`
    answers these posts before FastAPI's routing; this route documents the endpoint and
    serves it wherever that middleware is not installed."""
    st = state(request)
    raw = await read_bounded(request, st.app.settings.receiver_max_body_bytes)
    return await answer(st, batcher(request), raw)


async def answer(st: ApiState, inbound_batcher: InboundBatcher, raw: bytes) -> Response:
    """What the DSP is told about one posted message, once it is stored (and applied)."""
    if not raw:
        return problem(400, "Empty message", "POST one signed DUIS sr:Response as the body")
    try:
        with st.metrics.timed("inbound.receive"):
            result = await inbound_batcher.submit(raw)
    except STORAGE_FAILURES as err:
        st.metrics.inbound.labels("unavailable").inc()
        log.warning("duis_receiver_unavailable", error=type(err).__name__,
                    detail=(str(err).splitlines() or [""])[0][:200], bytes=len(raw))
        return problem(503, "Receiver unavailable", "the message could not be stored or "
                       "processed now; send it again after Retry-After seconds",
                       headers={"Retry-After": str(RETRY_AFTER_S)})
    st.metrics.inbound.labels(result.status).inc()
    digest = result.sha256
    log.info("duis_received", message_id=result.message_id, status=result.status,
             reason=result.reason[:200], sha256=digest[:16], bytes=len(raw))
    receipt = {"message_id": result.message_id, "status": result.status,
               "reason": result.reason, "sha256": digest}
    return JSONResponse(receipt, status_code=400 if result.status == "quarantined" else 202)


class ReceiverPath:
    """ASGI middleware answering `POST /duis/receiver` itself: the DSP's messages are most
    of what the server takes, and FastAPI's routing, dependency solving and exception layers
    cost about as much as storing one. Installed inside `RequestContextMiddleware`, so the
    request ID, body limit, access log, latency metric and shutdown handling are the same
    as for every route."""

    def __init__(self, app: Any, api: FastAPI) -> None:
        self.app, self.api = app, api
        self.route = next(r for r in router.routes if getattr(r, "path", "") == PATH)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        scope["route"] = self.route  # the latency metric's label, as the router sets it
        chunks: list[bytes] = []
        while True:  # the body limit is enforced by the receive it is given
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the DSP hung up before sending it all: nothing to store
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        api_state = self.api.state
        response = await answer(api_state.fwo, api_state.inbound_batcher, b"".join(chunks))
        await response(scope, receive, send)


def batcher(request: Request) -> InboundBatcher:
    """The app's batcher in front of `inbound.receive_many`."""
    found: InboundBatcher = request.app.state.inbound_batcher
    return found


def new_batcher(st: ApiState, applier: Applier | None = None) -> InboundBatcher:
    """A batcher that stores, verifies and applies through `inbound.receive_many`, or, with
    an applier (deferred mode), only stores and tells the applier what is new."""
    if applier is None:
        nudger = celery_nudger(st.app.uow, st.app.settings.broker_url)

        def receive(raws: list[bytes]) -> list[inbound.InboundResult]:
            results = inbound.receive_many(st.execution(), raws)
            if nudger is not None:
                nudger.applied(results)
            return results

        return InboundBatcher(receive)

    def store(raws: list[bytes]) -> list[inbound.InboundResult]:
        results = inbound.store_many(st.execution(), raws)
        applier.notify([r.message_id for r in results if r.status == "received"])
        return results

    return InboundBatcher(store, parallel=STORE_PARALLEL)


def new_applier(st: ApiState) -> Applier | None:
    """The applier of deferred mode (None inline): Celery tasks on a shared broker, else a
    thread of this process."""
    settings = st.app.settings
    if not settings.deferred_receiver:
        return None
    if settings.broker_url.startswith("memory://"):
        return ThreadApplier(lambda: inbound.apply_pending(st.execution()))
    return CeleryApplier(settings.broker_url)


async def read_bounded(request: Request, limit: int) -> bytes:
    """The request body, refusing (413) as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"request body over {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
