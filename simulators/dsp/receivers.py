"""Where the DSP delivers signed responses and alerts: a callback, a list, or an HTTP URL.

The receiver contract is `Callable[[bytes], None]`: one signed sr:Response per call, in
simulated-time order. Raise `ReceiverError` to make the DSP retry the message later.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import httpx
import structlog

from duis.keys import TrustStore
from duis.models import Response
from duis.parse import parse_response, verify_response
from simulators import ReceiverError

Receiver = Callable[[bytes], None]
log = structlog.get_logger(__name__)


class CollectingReceiver:
    """Keeps every delivered message in `messages` (the default receiver)."""

    def __init__(self) -> None:
        self.messages: list[bytes] = []

    def __call__(self, xml: bytes) -> None:
        self.messages.append(xml)

    def __len__(self) -> int:
        return len(self.messages)

    def clear(self) -> None:
        """Forget the messages received so far."""
        self.messages.clear()

    def responses(self, trust: TrustStore | None = None, at: datetime | None = None
                  ) -> list[Response]:
        """The messages parsed (and verified when `trust` is given)."""
        if trust is None:
            return [parse_response(m) for m in self.messages]
        return [verify_response(m, trust, at) for m in self.messages]


class HttpReceiver:
    """POSTs each message to a URL (Content-Type application/xml).

    Connection errors and 5xx make the DSP retry the message later; a 4xx is the User's
    endpoint refusing that message: it is counted in `refused` and not sent again.
    """

    def __init__(self, url: str, timeout: float = 10.0,
                 client: httpx.Client | None = None) -> None:
        self.url = url
        self._client = client or httpx.Client(timeout=timeout)
        self.refused = 0

    def __call__(self, xml: bytes) -> None:
        try:
            reply = self._client.post(self.url, content=xml,
                                      headers={"Content-Type": "application/xml"})
        except httpx.HTTPError as err:
            raise ReceiverError(f"cannot deliver to {self.url}: {err}") from err
        if reply.status_code >= 500:
            raise ReceiverError(f"{self.url} failed on a message: HTTP {reply.status_code}")
        if reply.status_code >= 400:
            self.refused += 1
            log.warning("receiver_refused_message", url=self.url, status=reply.status_code,
                        body=reply.text[:200])

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
