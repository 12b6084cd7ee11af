"""The per-user update lock: one update at a time per key, and no lock kept once nobody
holds or waits for it (aiogram's SimpleEventIsolation keeps one per user forever)."""

from __future__ import annotations

import asyncio

from aiogram.fsm.storage.base import StorageKey

from bot.isolation import KeyedEventIsolation


def key(user_id: int) -> StorageKey:
    return StorageKey(bot_id=42, chat_id=user_id, user_id=user_id)


async def test_updates_of_one_user_run_one_at_a_time_and_others_do_not_wait() -> None:
    isolation = KeyedEventIsolation()
    order: list[str] = []
    inside = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with isolation.lock(key(1)):
            order.append("first in")
            inside.set()
            await release.wait()
            order.append("first out")

    async def second() -> None:
        async with isolation.lock(key(1)):
            order.append("second in")

    async def other_user() -> None:
        async with isolation.lock(key(2)):
            order.append("other user")

    one = asyncio.create_task(first())
    await inside.wait()
    two = asyncio.create_task(second())
    await asyncio.wait_for(other_user(), 1)  # not behind user 1
    await asyncio.sleep(0.05)
    assert order == ["first in", "other user"]  # the second update of user 1 waits
    release.set()
    await asyncio.gather(one, two)
    assert order == ["first in", "other user", "first out", "second in"]
    assert isolation.keys_held == 0


async def test_no_lock_is_kept_for_users_who_are_done() -> None:
    isolation = KeyedEventIsolation()

    async def update(user_id: int) -> None:
        async with isolation.lock(key(user_id)):
            await asyncio.sleep(0)

    await asyncio.gather(*(update(user_id) for user_id in range(1000)))
    assert isolation.keys_held == 0


async def test_a_cancelled_waiter_leaves_nothing_behind() -> None:
    isolation = KeyedEventIsolation()
    holding = asyncio.Event()
    release = asyncio.Event()

    async def holder() -> None:
        async with isolation.lock(key(1)):
            holding.set()
            await release.wait()

    async def waiter() -> None:
        async with isolation.lock(key(1)):
            raise AssertionError("never gets in")

    held = asyncio.create_task(holder())
    await holding.wait()
    waiting = asyncio.create_task(waiter())
    await asyncio.sleep(0.01)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    release.set()
    await held
    assert isolation.keys_held == 0
