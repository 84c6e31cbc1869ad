"""The sender lock: RequestID counters must reach the DSP in increasing order per originator.

A worker takes the lock, reserves counters, records the requests, sends them, and only then
lets another worker do the same; so across any number of workers the DSP never sees a
counter lower than one it has already seen (which it would reject as a replay). Verifying
and applying answers, the bulk of the work, runs outside the lock on every worker.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import redis
from sqlalchemy import Engine, text

from orchestrator.errors import SenderBusyError

SEND_LOCK_KEY = 0x46574F53  # PostgreSQL advisory lock key


class ProcessSendLock:
    """One sender at a time within this process (the embedded runtime)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            yield


class RedisSendLock:
    """One sender at a time across every worker sharing the Redis (the scaled runtime)."""

    def __init__(self, client: redis.Redis, key: str = "fwo:send-lock", ttl_s: float = 120.0,
                 wait_s: float = 300.0):
        self.client, self.key, self.ttl_s, self.wait_s = client, key, ttl_s, wait_s

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        lock = self.client.lock(self.key, timeout=self.ttl_s, blocking_timeout=self.wait_s)
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
    """One sender at a time across workers sharing a PostgreSQL database (no Redis)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self.engine.connect() as connection:
            connection.execute(text(f"SELECT pg_advisory_lock({SEND_LOCK_KEY})"))
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text(f"SELECT pg_advisory_unlock({SEND_LOCK_KEY})"))
                connection.commit()
