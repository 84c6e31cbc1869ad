"""The DSP over HTTPS: POST signed DUIS XML, read the synchronous signed answer."""
from __future__ import annotations

import httpx

from orchestrator.errors import DspUnavailableError

MAX_ANSWER_BYTES = 16 * 1024 * 1024


class HttpDspGateway:
    """Sends requests to a DSP endpoint (the real DCC gateway or `fwo sim dsp`)."""

    def __init__(self, url: str, *, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.url = url
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def send(self, xml: bytes) -> bytes:
        """POST one request; connection errors and 5xx become DspUnavailableError."""
        try:
            response = self._client.post(self.url, content=xml,
                                         headers={"Content-Type": "application/xml"})
        except httpx.HTTPError as err:
            raise DspUnavailableError(f"DSP at {self.url} unreachable: {err}") from err
        if response.status_code >= 500:
            raise DspUnavailableError(f"DSP at {self.url} answered HTTP {response.status_code}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise DspUnavailableError(f"DSP answer of {len(response.content)} bytes is too big")
        return response.content

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


class UnconfiguredGateway:
    """Stands in when FWO_DSP_URL is not set: control commands work, sending says why not."""

    def send(self, xml: bytes) -> bytes:
        """Refuse to send, naming the missing setting."""
        raise DspUnavailableError("FWO_DSP_URL is not set: no DSP to send requests to")
