"""Who applies what the receiver stored when `FWO_RECEIVER_APPLY=deferred`.

The receiver answers as soon as a batch is stored; it then tells an applier the new ids.
On a shared broker that is a `fwo.inbound.process` Celery task for the batches stored in
each 50 ms (any worker verifies and applies it); on the in-process `memory://` broker
(`fwo serve` alone, `fwo run`) it is a thread of this process that applies every pending
message, oldest first, in batches.
Either way a lost notice costs time, not messages: what is stored stays `received` until a
worker, the thread's next poll or the reconciler applies it, and `inbound.process_many`
claims each message so none is applied twice.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import structlog

log = structlog.get_logger("fwo.receiver")
POLL_S = 5.0  # the thread also looks for pending messages this often without a notice
WINDOW_S = 0.05  # CeleryApplier: stored batches this close together share one task
MAX_IDS = 500  # CeleryApplier: ids in one task at most (one apply batch)


class Applier(Protocol):
    """Told the ids of newly stored messages; applies them off the request path."""

    def start(self) -> None:
        """Begin (at server start-up)."""

    def notify(self, message_ids: list[int]) -> None:
        """These messages were stored and wait to be applied."""

    def close(self) -> None:
        """Stop (at shutdown)."""


class CeleryApplier:
    """`fwo.inbound.process` tasks through the shared broker, one per `window_s` of stored
    batches (at most `max_ids` ids a task): a task costs the receiver about half a
    millisecond to send, so one per stored batch of a few messages was most of its work."""

    def __init__(self, broker_url: str, window_s: float = WINDOW_S,
                 max_ids: int = MAX_IDS) -> None:
        from celery import Celery

        self.celery = Celery("fwo-receiver", broker=broker_url)
        self.window_s, self.max_ids = window_s, max_ids
        self._pending: list[int] = []
        self._ready = threading.Condition()
        self._closed = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the sending thread once."""
        with self._ready:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._loop, name="fwo-inbound-notices",
                                                daemon=True)
                self._thread.start()

    def notify(self, message_ids: list[int]) -> None:
        """Queue the ids for the next task (the sending thread starts on first use)."""
        if not message_ids:
            return
        self.start()
        with self._ready:
            self._pending.extend(message_ids)
            self._ready.notify()

    def _loop(self) -> None:
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                deadline = time.monotonic() + self.window_s  # the next batches join this task
                while not self._closed and (left := deadline - time.monotonic()) > 0:
                    self._ready.wait(left)
                taken, self._pending, closed = self._pending, [], self._closed
            for start in range(0, len(taken), self.max_ids):
                self._send(taken[start:start + self.max_ids])
            if closed:
                return

    def _send(self, message_ids: list[int]) -> None:
        """One task; on a broker failure the reconciler applies these later."""
        try:
            self.celery.send_task("fwo.inbound.process", args=[message_ids])
        except Exception as err:  # noqa: BLE001 - stored already: the reconciler applies it
            log.warning("inbound_enqueue_failed", error=type(err).__name__,
                        detail=(str(err).splitlines() or [""])[0][:200],
                        messages=len(message_ids))

    def close(self, timeout_s: float = 10.0) -> None:
        """Send what is queued, then stop."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)


class ThreadApplier:
    """A thread applying every pending message when told (and every `poll_s` anyway)."""

    def __init__(self, apply_pending: Callable[[], int], poll_s: float = POLL_S) -> None:
        self.apply_pending, self.poll_s = apply_pending, poll_s
        self._wake, self._stop = threading.Event(), threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread once (its first pass applies what a crash left pending)."""
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._loop, name="fwo-inbound-applier",
                                                daemon=True)
                self._thread.start()
        self._wake.set()

    def notify(self, message_ids: list[int]) -> None:
        """Wake the thread (started on first use)."""
        if message_ids:
            self.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.apply_pending()
            except Exception:  # logged with its traceback; retried on the next pass
                log.exception("inbound_apply_failed")
                self._stop.wait(self.poll_s)

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop after the batch being applied (what remains stays `received`)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
