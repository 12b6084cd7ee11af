"""core.db.group_commit: callers arriving together share one write; failures reach them all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from core.db.group_commit import GroupCommit


async def test_callers_arriving_while_a_batch_is_written_share_the_next_write() -> None:
    writes: list[list[int]] = []
    gate = asyncio.Event()

    async def write(items: Sequence[int]) -> list[int]:
        writes.append(list(items))
        await gate.wait()
        return [item * 10 for item in items]

    batcher: GroupCommit[int, int] = GroupCommit(write)
    first = asyncio.create_task(batcher.submit(1))
    await asyncio.sleep(0)  # the first write starts and blocks on the gate
    later = [asyncio.create_task(batcher.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    gate.set()

    assert await first == 10
    assert await asyncio.gather(*later) == [20, 30, 40]
    assert writes == [[1], [2, 3, 4]]


async def test_a_failed_write_fails_every_caller_of_that_batch_only() -> None:
    async def write(items: Sequence[int]) -> list[int]:
        if 13 in items:
            raise RuntimeError("database is down")
        return list(items)

    batcher: GroupCommit[int, int] = GroupCommit(write)
    results = await asyncio.gather(batcher.submit(12), batcher.submit(13), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    assert await batcher.submit(14) == 14  # the next batch is written as usual


async def test_a_caller_that_gives_up_does_not_cancel_the_others() -> None:
    gate = asyncio.Event()
    written: list[int] = []

    async def write(items: Sequence[int]) -> list[int]:
        await gate.wait()
        written.extend(items)
        return list(items)

    batcher: GroupCommit[int, int] = GroupCommit(write)
    first = asyncio.create_task(batcher.submit(0))
    await asyncio.sleep(0)  # its write runs, held at the gate
    gone = asyncio.create_task(batcher.submit(1))
    stays = asyncio.create_task(batcher.submit(2))
    await asyncio.sleep(0)
    gone.cancel()
    gate.set()

    assert (await first, await stays) == (0, 2)
    with pytest.raises(asyncio.CancelledError):
        await gone
    await batcher.wait_idle()
    assert written == [0, 1, 2]
