"""Sender locks: the requests to one target reach the DSP in counter order.

A lock is named by a lane (`""`: the whole deployment). The dispatcher takes the lane of
the requests it sends to the DCC itself (11.1 and 11.4) across reserving their counters and
sending them, so however many workers send, the DCC's EUI sees its counters increase; the
requests to devices need no lock (docs/request-ordering.md). With `FWO_SEND_ORDER=originator`
the whole deployment takes the default lane, one sender at a time. Verifying and applying
answers run outside any lock on every worker.
"""
from __future__ import annotations

import contextlib
import threading
import zlib
from collections.abc import Iterator

import redis
from sqlalchemy import Engine, text

from orchestrator.errors import SenderBusyError

SEND_LOCK_KEY = 0x46574F53  # PostgreSQL advisory lock key


class ProcessSendLock:
    """One sender per lane at a time within this process (the embedded runtime)."""

    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextlib.contextmanager
    def __call__(self, lane: str = "") -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(lane, threading.Lock())
        with lock:
            yield


class RedisSendLock:
    """One sender per lane at a time across every worker sharing the Redis (scaled)."""

    def __init__(self, client: redis.Redis, key: str = "fwo:send-lock", ttl_s: float = 120.0,
                 wait_s: float = 300.0):
        self.client, self.key, self.ttl_s, self.wait_s = client, key, ttl_s, wait_s

    @contextlib.contextmanager
    def __call__(self, lane: str = "") -> Iterator[None]:
        key = f"{self.key}:{lane}" if lane else self.key
        lock = self.client.lock(key, timeout=self.ttl_s, blocking_timeout=self.wait_s)
        try:
            acquired = lock.acquire()
        except redis.RedisError as err:
            raise SenderBusyError(f"sender lock unavailable: {err}") from err
        if not acquired:
            raise SenderBusyError("sender lock busy: another worker is still sending")
        try:
            yield
        finally:
            with contextlib.suppress(redis.exceptions.LockError):
                lock.release()


class PostgresSendLock:
    """One sender per lane at a time across workers sharing a PostgreSQL database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextlib.contextmanager
    def __call__(self, lane: str = "") -> Iterator[None]:
        # the deployment's lane is the one-key lock; a named lane, the two-key (ours, lane)
        keys = (f"{SEND_LOCK_KEY}, {zlib.crc32(lane.encode()) - 2**31}" if lane
                else f"{SEND_LOCK_KEY}")
        with self.engine.connect() as connection:
            connection.execute(text(f"SELECT pg_advisory_lock({keys})"))
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text(f"SELECT pg_advisory_unlock({keys})"))
                connection.commit()
