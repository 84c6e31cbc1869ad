"""The DSP over HTTPS, as DCC Boxed and the DCC gateway expose it.

`FWO_DSP_URL` is the base URL; each request is POSTed to the service its CommandVariant
needs: Non-Device `/api/v1/serviceD` (CV 2, 8), Send Command `/api/v1/serviceS` (CV 1, 3,
5, 7) and Transform `/api/v1/serviceT` (CV 4). Connection errors and HTTP 5xx are transient
(`DspUnavailableError`, retried later); any other 4xx is the DSP refusing the request
(`DspRefusedError` with the status, not retried as is). A 2xx body is returned as is:
reading it (signed or not) is the caller's job.
"""
from __future__ import annotations

import re

import httpx

from orchestrator.errors import DspRefusedError, DspUnavailableError

MAX_ANSWER_BYTES = 16 * 1024 * 1024
SERVICES = {1: "serviceS", 2: "serviceD", 3: "serviceS", 4: "serviceT", 5: "serviceS",
            7: "serviceS", 8: "serviceD"}
TRANSIENT_4XX = frozenset({408, 425, 429})  # timeouts and throttling: try again later
_VARIANT = re.compile(rb"<(?:\w+:)?CommandVariant>\s*(\d+)\s*</(?:\w+:)?CommandVariant>")
_HEADER_BYTES = 4096  # the header comes first; an 11.1 body can be megabytes


def command_variant(xml: bytes) -> int:
    """The CommandVariant of a DUIS request, read from its header."""
    found = _VARIANT.search(xml, 0, _HEADER_BYTES)
    if found is None:
        raise DspRefusedError("no_command_variant", "request has no sr:CommandVariant header")
    return int(found.group(1))


def service_url(base: str, variant: int) -> str:
    """The DCC Boxed service URL for a CommandVariant under `base`."""
    service = SERVICES.get(variant)
    if service is None:
        raise DspRefusedError("unknown_command_variant",
                              f"CommandVariant {variant} has no DCC service to send it to")
    return f"{base.rstrip('/')}/api/v1/{service}"


class HttpDspGateway:
    """Sends requests to a DSP (DCC Boxed, the DCC gateway or `fwo sim dsp`)."""

    def __init__(self, base_url: str, *, timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None):
        self.base_url = base_url
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def send(self, xml: bytes) -> bytes:
        """POST one request to its service; the body of the DSP's 2xx answer."""
        url = service_url(self.base_url, command_variant(xml))
        try:
            response = self._client.post(url, content=xml,
                                         headers={"Content-Type": "application/xml"})
        except httpx.HTTPError as err:
            raise DspUnavailableError(f"DSP at {url} unreachable: {err}") from err
        status = response.status_code
        if status >= 500 or status in TRANSIENT_4XX:
            raise DspUnavailableError(f"DSP at {url} answered HTTP {status}")
        if status >= 400:
            raise DspRefusedError(f"HTTP {status}", f"DSP at {url} refused the request: "
                                  f"HTTP {status} {_excerpt(response)}")
        if len(response.content) > MAX_ANSWER_BYTES:
            raise DspUnavailableError(f"DSP answer of {len(response.content)} bytes is too big")
        return response.content

    def close(self) -> None:
        """Release the connection pool."""
        self._client.close()


def _excerpt(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:200]


class UnconfiguredGateway:
    """Stands in when FWO_DSP_URL is not set: control commands work, sending says why not."""

    def send(self, xml: bytes) -> bytes:
        """Refuse to send, naming the missing setting."""
        raise DspUnavailableError("FWO_DSP_URL is not set: no DSP to send requests to")
