"""Structured logs: request and campaign IDs bound on every request line, no secrets."""
from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import LogCapture


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> Iterator[LogCapture]:
    """structlog with context variables merged, captured in memory.

    The product caches each module's logger on first use, so a test that ran the CLI earlier
    in this process has frozen them with its configuration: each module-level ``log`` is
    replaced by a fresh proxy that picks up this configuration.
    """
    capture = LogCapture()
    structlog.configure(processors=[structlog.contextvars.merge_contextvars, capture],
                        cache_logger_on_first_use=False)
    for name, module in list(sys.modules.items()):
        proxy = getattr(module, "log", None) if name.startswith("orchestrator") else None
        if isinstance(proxy, structlog._config.BoundLoggerLazyProxy):
            monkeypatch.setattr(module, "log", structlog.get_logger(*proxy._logger_factory_args))
    yield capture
    structlog.reset_defaults()


def test_request_lines_carry_ids_and_never_the_token(fake_api, captured) -> None:  # type: ignore[no-untyped-def]
    """The access line has request, campaign and user; the audit line its row; no token."""
    token = fake_api.tokens["viewer"]
    fake_api.client.post("/api/campaigns/5/pause", headers={
        "Authorization": f"Bearer {token}", "X-Request-ID": "req-42"},
        json={"reason": "night"})
    access = next(e for e in captured.entries if e["event"] == "http_request")
    assert (access["request_id"], access["campaign_id"], access["user"], access["status"]) == (
        "req-42", "5", "vera", 403)
    assert access["route"] == "/api/campaigns/{campaign_id}/pause"
    text = json.dumps(captured.entries, default=str)
    assert token not in text and "Bearer" not in text


def test_receiver_posts_get_the_same_request_id_access_line_and_metric(  # type: ignore[no-untyped-def]
        fake_api, captured) -> None:
    """The receiver answers before FastAPI's routing (`ReceiverPath`), yet its posts carry
    the request ID, one access line with the route, and the route's latency metric."""
    reply = fake_api.client.post("/duis/receiver", content=b"", headers={"X-Request-ID": "dsp-7"})
    assert (reply.status_code, reply.headers["x-request-id"]) == (400, "dsp-7")
    assert reply.headers["content-type"] == "application/problem+json"
    access = next(e for e in captured.entries if e["event"] == "http_request")
    assert (access["request_id"], access["route"], access["status"]) == (
        "dsp-7", "/duis/receiver", 400)
    metrics = fake_api.client.get("/metrics", headers={
        "Authorization": f"Bearer {fake_api.tokens['viewer']}"}).text
    assert 'route="/duis/receiver",status="400"' in metrics
