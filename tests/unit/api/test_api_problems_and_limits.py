"""Errors become problem+json with the right status; bodies are bounded; batching."""
from __future__ import annotations

import asyncio
from typing import Any

import pytest

from orchestrator.adapters.metrics import Metrics
from orchestrator.domain.errors import ApprovalError, InvalidTransitionError, PolicyError
from orchestrator.entrypoints.api.batching import InboundBatcher
from orchestrator.entrypoints.api.middleware import RequestContextMiddleware
from orchestrator.entrypoints.api.problems import classify
from orchestrator.errors import (
    AuthenticationError,
    CampaignError,
    CampaignNotFoundError,
    ConfigurationError,
    DeviceNotFoundError,
    NoCatalogueError,
    PermissionDeniedError,
    SelectionError,
    SyncRefusedError,
)


def caused(err: Exception, cause: Exception) -> Exception:
    """`err` raised from `cause`."""
    err.__cause__ = cause
    return err


@pytest.mark.parametrize("err,status", [
    (AuthenticationError("x"), 401), (PermissionDeniedError("x"), 403),
    (caused(CampaignError("needs approval by someone else"), ApprovalError("x")), 403),
    (caused(CampaignError("campaign 1 is paused: cannot pause"), InvalidTransitionError()), 409),
    (CampaignNotFoundError("no campaign 5"), 404),
    (CampaignNotFoundError("device X is not in campaign 1"), 404),
    (caused(CampaignError("bad waves"), PolicyError("x")), 422),
    (DeviceNotFoundError("x"), 404), (SelectionError("x"), 422), (NoCatalogueError("x"), 409),
    (SyncRefusedError("x"), 422), (ConfigurationError("x"), 503), (ValueError("x"), 500),
])
def test_errors_map_to_statuses(err: Exception, status: int) -> None:
    """The table maps each project error (and the four-eyes cause) to its HTTP status."""
    assert classify(err)[0] == status


def test_validation_errors_are_problem_json_422(fake_api) -> None:  # type: ignore[no-untyped-def]
    """A bad query value answers 422 problem+json naming the parameter, never a 500."""
    reply = fake_api.client.get("/api/campaigns?limit=100000", headers=fake_api.auth("viewer"))
    assert reply.status_code == 422
    assert reply.headers["content-type"] == "application/problem+json"
    assert reply.json()["detail"].startswith("query.limit")


def test_every_response_carries_a_request_id(fake_api) -> None:  # type: ignore[no-untyped-def]
    """X-Request-ID is echoed when sane and generated otherwise."""
    client = fake_api.client
    assert client.get("/healthz", headers={"X-Request-ID": "abc-1"}).headers[
        "x-request-id"] == "abc-1"
    assert len(client.get("/healthz", headers={"X-Request-ID": "bad id!"}).headers[
        "x-request-id"]) == 32


def test_a_declared_oversize_body_is_refused_before_it_is_read() -> None:
    """Content-Length over the limit: 413 without one receive() call reaching the app."""
    calls: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        calls.append("app")

    async def receive() -> dict[str, Any]:
        calls.append("receive")
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    middleware = RequestContextMiddleware(app, Metrics(), lambda path: 100)
    scope = {"type": "http", "method": "POST", "path": "/duis/receiver",
             "headers": [(b"content-length", b"101")]}
    asyncio.run(middleware(scope, receive, send))
    assert calls == [] and sent[0]["status"] == 413


def test_a_streamed_oversize_body_is_cut_off(fake_api) -> None:  # type: ignore[no-untyped-def]
    """A chunked body passing the receiver limit gets 413 (the fake app has 4096 bytes)."""
    def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 1000

    reply = fake_api.client.post("/duis/receiver", content=chunks())
    assert reply.status_code == 413
    assert reply.headers["content-type"] == "application/problem+json"


def test_an_empty_message_is_a_400(fake_api) -> None:  # type: ignore[no-untyped-def]
    """The receiver needs a body."""
    assert fake_api.client.post("/duis/receiver", content=b"").status_code == 400


def test_concurrent_messages_share_a_batch_and_each_gets_its_result() -> None:
    """Messages queued together are processed in one call, results returned in order."""
    batches: list[list[bytes]] = []

    def process(raws: list[bytes]) -> list[str]:
        batches.append(raws)
        return [r.decode().upper() for r in raws]

    async def main() -> list[str]:
        batcher = InboundBatcher(process)
        results = await asyncio.gather(*(batcher.submit(f"m{i}".encode()) for i in range(20)))
        await batcher.close()
        return list(results)

    assert asyncio.run(main()) == [f"M{i}" for i in range(20)]
    assert sum(len(b) for b in batches) == 20 and len(batches) < 20


def test_a_failing_batch_fails_each_waiting_request() -> None:
    """If processing raises, every request of the batch sees the error (none hangs)."""
    def process(raws: list[bytes]) -> list[str]:
        raise ConfigurationError("no keys")

    async def main() -> list[Any]:
        batcher = InboundBatcher(process)
        return await asyncio.gather(*(batcher.submit(b"m") for _ in range(3)),
                                    return_exceptions=True)

    assert all(isinstance(r, ConfigurationError) for r in asyncio.run(main()))
