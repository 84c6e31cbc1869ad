"""Natural batching of inbound messages: concurrent POSTs share one `receive_many` call.

Each request queues its body and waits for its own result. One worker takes everything
queued at that moment (up to `max_batch`) and hands it to `inbound.receive_many`, which
stores the whole batch raw in one transaction before verifying and applying it. Under light
load a batch is one message (no added latency); under load the batches grow by themselves.
A request is answered only after its message is stored and processed.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi.concurrency import run_in_threadpool

Process = Callable[[list[bytes]], list[Any]]


class InboundBatcher:
    """Queue → `parallel` workers per event loop → `process(batch)` in the thread pool."""

    def __init__(self, process: Process, max_batch: int = 200, parallel: int = 1):
        self.process = process
        self.max_batch = max_batch
        self.parallel = parallel  # batches in flight at once (their database waits overlap)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[tuple[bytes, asyncio.Future[Any]]] | None = None
        self._workers: list[asyncio.Task[None]] = []

    async def submit(self, raw: bytes) -> Any:
        """Queue one message and wait for what became of it."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._queue is None:  # a new server (or test) loop
            self._loop, self._queue = loop, asyncio.Queue()
            self._workers = [loop.create_task(self._run(self._queue))
                             for _ in range(self.parallel)]
        future: asyncio.Future[Any] = loop.create_future()
        await self._queue.put((raw, future))
        return await future

    async def _run(self, queue: asyncio.Queue[tuple[bytes, asyncio.Future[Any]]]) -> None:
        while True:
            batch = [await queue.get()]
            while len(batch) < self.max_batch and not queue.empty():
                batch.append(queue.get_nowait())
            try:
                results = await run_in_threadpool(self.process, [raw for raw, _ in batch])
            except Exception as err:  # noqa: BLE001 - forwarded: each waiting request raises it
                for _, future in batch:
                    if not future.done():
                        future.set_exception(err)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)

    async def close(self) -> None:
        """Stop the worker (at shutdown)."""
        for worker in self._workers:
            worker.cancel()
        self._workers = []
        self._queue = None
