"""The DUIS receiver: the DSP POSTs signed responses and alerts here.

No API token: the DCC's XML signature on each message is the authentication, checked by
`inbound.receive` after the raw bytes are stored (so nothing is lost, and anything unsigned,
badly signed or malformed is quarantined with a reason, never applied). The body is bounded:
a declared length over the limit is refused with 413 before any byte is read.

The answer is what DCC Boxed expects of a User's endpoint: 2xx when the message is stored
and accepted (applied, or a duplicate of one stored before), 4xx when it is refused (400:
stored but quarantined, with the reason; an unsigned message is always refused here, even
though a synchronous answer to our own request may be unsigned).
"""
from __future__ import annotations

from typing import Any

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from orchestrator.entrypoints.api.batching import InboundBatcher
from orchestrator.entrypoints.api.deps import ApiState, state
from orchestrator.entrypoints.api.middleware import BodyTooLargeError
from orchestrator.entrypoints.api.problems import problem
from orchestrator.service import inbound

router = APIRouter(tags=["duis"])
log = structlog.get_logger("fwo.receiver")
RECEIPT = {"type": "object", "properties": {
    "message_id": {"type": "integer"}, "status": {"type": "string"},
    "reason": {"type": "string"}, "sha256": {"type": "string"}}}


@router.post("/duis/receiver", status_code=202, summary="Receive a signed DUIS message",
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/xml": {"schema": {"type": "string"}}}}},
             responses={202: {"content": {"application/json": {"schema": RECEIPT}}},
                        400: {"description": "empty body, or refused: stored but "
                                             "quarantined (unsigned, badly signed, unknown)",
                              "content": {"application/json": {"schema": RECEIPT}}},
                        413: {"description": "body over the configured limit"}})
async def receive(request: Request) -> Any:
    """Store the raw message, then verify the DCC signature and apply it (idempotent).

    Concurrent messages are stored and applied together (see `batching`)."""
    st = state(request)
    raw = await read_bounded(request, st.app.settings.receiver_max_body_bytes)
    if not raw:
        return problem(400, "Empty message", "POST one signed DUIS sr:Response as the body")
    with st.metrics.timed("inbound.receive"):
        result = await batcher(request).submit(raw)
    st.metrics.inbound.labels(result.status).inc()
    digest = result.sha256
    log.info("duis_received", message_id=result.message_id, status=result.status,
             reason=result.reason[:200], sha256=digest[:16], bytes=len(raw))
    receipt = {"message_id": result.message_id, "status": result.status,
               "reason": result.reason, "sha256": digest}
    return JSONResponse(receipt, status_code=400 if result.status == "quarantined" else 202)


def batcher(request: Request) -> InboundBatcher:
    """The app's batcher in front of `inbound.receive_many`."""
    found: InboundBatcher = request.app.state.inbound_batcher
    return found


def new_batcher(st: ApiState) -> InboundBatcher:
    """A batcher that stores, verifies and applies through `inbound.receive_many`."""
    return InboundBatcher(lambda raws: inbound.receive_many(st.execution(), raws))


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
