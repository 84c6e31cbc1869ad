"""Concurrent delivery for the real-time DSP: many messages in flight, each device's in order.

A DSP posts responses and alerts to a User's endpoint over many connections at once; one
at a time, every message would wait for the previous one's round trip. `Lanes` hands each
message to one of `count` sender threads chosen by the device it concerns, so messages
about one device still arrive in the order they fell due while different devices' overlap.
A message that cannot be delivered goes back on the DSP's queue (the DSP's own retry).
"""
from __future__ import annotations

import queue
import threading
import zlib
from collections.abc import Callable

import structlog

from duis.models import DccAlert, FirmwareDeliveryStatus
from simulators.dsp.context import Outbound

log = structlog.get_logger(__name__)
MAX_LANES = 64


def order_key(outbound: Outbound) -> str:
    """The device a message concerns (its order must be kept), or the DCC's ID when it
    concerns no one device (an SR 11.1 response, a quarantine alert)."""
    body, header = outbound.response.body, outbound.response.header
    if isinstance(body, DccAlert) and isinstance(body.detail, FirmwareDeliveryStatus):
        return body.detail.target_device_id
    if header.request_id is not None:
        return header.request_id.target
    return header.response_id.originator if header.response_id is not None else ""


class Lanes:
    """`count` sender threads; `put` queues a message on its device's lane."""

    def __init__(self, deliver: Callable[[Outbound], bool], count: int) -> None:
        if not 1 <= count <= MAX_LANES:
            raise ValueError(f"delivery lanes must be 1 to {MAX_LANES}, got {count}")
        self._deliver = deliver
        self._queues: list[queue.SimpleQueue[Outbound | None]] = [
            queue.SimpleQueue() for _ in range(count)]
        self._threads = [threading.Thread(target=self._run, args=(q,), daemon=True,
                                          name=f"dsp-delivery-{i}")
                         for i, q in enumerate(self._queues)]
        for thread in self._threads:
            thread.start()

    def put(self, outbound: Outbound) -> None:
        """Queue a message behind the earlier ones about the same device."""
        key = order_key(outbound).encode()
        self._queues[zlib.crc32(key) % len(self._queues)].put(outbound)

    def close(self) -> None:
        """Deliver what is queued, then stop the threads."""
        for lane in self._queues:
            lane.put(None)
        for thread in self._threads:
            thread.join()

    def _run(self, lane: queue.SimpleQueue[Outbound | None]) -> None:
        while (outbound := lane.get()) is not None:
            try:
                self._deliver(outbound)
            except Exception:  # a lane must outlive one bad message; the error is logged
                log.exception("dsp_delivery_lane_failed")
