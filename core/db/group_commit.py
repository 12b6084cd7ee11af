"""Group commit: many concurrent callers, one transaction for all who arrive together.

Under load a webhook worker takes in dozens of updates at once, and on SQLite each
transaction takes the database's one write lock. Callers that arrive while a batch is being
written wait for the next batch, which takes them all: one BEGIN/COMMIT per batch instead of
one per caller, and no timer (an idle worker writes at once, a busy one in larger batches).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """`await batcher.submit(item)` → this item's result of `write(items)`, which gets every
    item waiting at the time (at most `max_batch`) and returns one result per item, in order.
    A failed `write` fails every caller of that batch."""

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], *, max_batch: int = 500
    ) -> None:
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._drain_task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.create_task(self._drain(), name="group-commit")
        # shielded: a caller that gives up (client gone) must not cancel the others' batch
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        while self._waiting:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            try:
                results = await self._write([item for item, _future in batch])
            except Exception as exc:
                for _item, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException as exc:  # cancelled (shutdown): nobody may wait for ever
                for _item, future in [*batch, *self._waiting]:
                    if not future.done():
                        future.set_exception(exc)
                self._waiting.clear()
                raise
            for (_item, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)

    async def wait_idle(self) -> None:
        """Until every submitted item is written (shutdown)."""
        if self._drain_task is not None:
            await asyncio.gather(self._drain_task, return_exceptions=True)
