"""ASGI middleware: request IDs bound into the logs, one access log line, latency metrics,
and bounded request bodies (413 before the body is read when Content-Length says so, and as
soon as a streamed body passes the limit otherwise)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import structlog

from orchestrator.adapters.metrics import Metrics

log = structlog.get_logger("fwo.api")
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ID_PARAMS = ("campaign_id", "device_id", "plan_id")  # path parameters bound into the log line


class BodyTooLargeError(Exception):
    """A streamed request body passed its limit."""


class CutAtShutdownMiddleware:
    """A request still running when the shutdown grace (`FWO_SHUTDOWN_GRACE_S`) ends is
    cancelled by the server: it is answered 503 with Retry-After (its transaction was never
    committed, so trying again is safe) and logged in one line, not as a traceback."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking(message: dict[str, Any]) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking)
        except asyncio.CancelledError:
            if scope["type"] != "http":
                raise
            log.warning("request_cut_at_shutdown", method=scope.get("method"),
                        path=scope.get("path"))
            if started:
                return
            body = json.dumps({"type": "about:blank", "title": "Service Unavailable",
                               "status": 503, "detail": "the server stopped before this "
                               "request finished; nothing was stored: try again"}).encode()
            with contextlib.suppress(Exception):  # the client may already be gone
                await send({"type": "http.response.start", "status": 503, "headers": [
                    (b"content-type", b"application/problem+json"), (b"retry-after", b"5"),
                    (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})


class RequestContextMiddleware:
    """Binds `request_id` (from X-Request-ID when sane, else new) and enforces body limits."""

    def __init__(self, app: Any, metrics: Metrics, limit_for: Callable[[str], int]):
        self.app = app
        self.metrics = metrics
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope["fwo_request_id"] = request_id
        started = time.perf_counter()
        status = {"code": 500}
        limit = self.limit_for(scope["path"])

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", []).append(
                    (b"x-request-id", request_id.encode()))
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                if _declared_length(scope) > limit:
                    await _too_large(send_with_id, limit)
                else:
                    await self._call(scope, receive, send_with_id, limit)
            finally:
                self._observe(scope, status["code"], time.perf_counter() - started)

    async def _call(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        seen = {"bytes": 0, "started": False}

        async def bounded() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > limit:
                    raise BodyTooLargeError(f"request body over {limit} bytes")
            return message

        async def tracking(message: dict[str, Any]) -> None:
            seen["started"] = seen["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, bounded, tracking)
        except BodyTooLargeError:
            if not seen["started"]:
                await _too_large(send, limit)

    def _observe(self, scope: Scope, status: int, seconds: float) -> None:
        route = getattr(scope.get("route"), "path", "unmatched")
        self.metrics.http_latency.labels(scope["method"], route, str(status)).observe(seconds)
        principal = scope.get("state", {}).get("principal")
        ids = {k: v for k, v in (scope.get("path_params") or {}).items() if k in ID_PARAMS}
        log.info("http_request", method=scope["method"], path=scope["path"], route=route,
                 status=status, duration_ms=round(seconds * 1000, 2),
                 user=getattr(principal, "name", None), **ids)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if REQUEST_ID.match(text):
                return text
    return uuid.uuid4().hex


def _declared_length(scope: Scope) -> int:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return 0
    return 0


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"type": "about:blank", "title": "Request too large", "status": 413,
                       "detail": f"the request body is over the limit of {limit} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
