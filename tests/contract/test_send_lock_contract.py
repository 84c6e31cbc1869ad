"""Every send lock lets one sender through at a time, and lets go when the sender fails."""
from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest

from orchestrator.adapters.locks import ProcessSendLock
from tests.fakes import InMemorySendLock

SendLock = Callable[..., AbstractContextManager[None]]


@pytest.fixture(params=["memory", "process", "redis", "postgres"])
def send_lock(request: pytest.FixtureRequest) -> Iterator[SendLock]:
    """Each send lock (a fresh Redis key, a fresh PostgreSQL schema)."""
    if request.param == "memory":
        yield InMemorySendLock()
    elif request.param == "process":
        yield ProcessSendLock()
    elif request.param == "redis":
        import redis

        from orchestrator.adapters.locks import RedisSendLock

        client = redis.Redis.from_url(request.getfixturevalue("redis_server"))
        yield RedisSendLock(client, key=f"fwo:test:lock:{uuid.uuid4().hex}", wait_s=10)
        client.close()
    else:
        from orchestrator.adapters.db import create_db_engine
        from orchestrator.adapters.locks import PostgresSendLock

        engine = create_db_engine(request.getfixturevalue("postgres_url"))
        yield PostgresSendLock(engine)
        engine.dispose()


def test_one_sender_at_a_time(send_lock: SendLock) -> None:
    """A second sender enters only after the first has left."""
    trace: list[str] = []
    inside = threading.Event()

    def first() -> None:
        with send_lock():
            trace.append("first in")
            inside.set()
            time.sleep(0.3)
            trace.append("first out")

    def second() -> None:
        inside.wait(5)
        with send_lock():
            trace.append("second in")

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert trace == ["first in", "first out", "second in"]


def test_a_failing_sender_releases_the_lock(send_lock: SendLock) -> None:
    """An exception inside the lock propagates and the next sender gets in at once."""
    with pytest.raises(RuntimeError), send_lock():
        raise RuntimeError("DSP unreachable")
    entered = threading.Event()

    def other() -> None:
        with send_lock():
            entered.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert entered.wait(3)
    thread.join()


def test_lanes_are_independent(send_lock: SendLock) -> None:
    """A sender inside one lane does not hold back a sender of another lane (or of the
    deployment's own), while a second sender of the same lane waits."""
    inside = threading.Event()
    release = threading.Event()
    entered: list[str] = []

    def holder() -> None:
        with send_lock("target:dcc"):
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=holder)
    thread.start()
    assert inside.wait(5)

    def enter(lane: str) -> None:
        with send_lock(lane):
            entered.append(lane)

    others = [threading.Thread(target=enter, args=(lane,)) for lane in ("target:other", "")]
    same = threading.Thread(target=enter, args=("target:dcc",))
    for t in [*others, same]:
        t.start()
    for t in others:
        t.join(5)
    time.sleep(0.2)
    assert sorted(entered) == ["", "target:other"]  # the same lane is still waiting
    release.set()
    thread.join(5)
    same.join(5)
    assert entered[-1] == "target:dcc"
