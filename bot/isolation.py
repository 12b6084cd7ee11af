"""One update at a time per user within a process, without a lock per user kept forever.

aiogram's SimpleEventIsolation keeps every key's asyncio.Lock in a dict for the life of the
process (its own TODO: "Unused locks cleaner is needed"): with a province's ~100k accounts that
is tens of MB that only grows. Here a key's lock exists while an update holds or waits for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Hashable
from contextlib import asynccontextmanager

from aiogram.fsm.storage.base import BaseEventIsolation, StorageKey


class KeyedEventIsolation(BaseEventIsolation):
    def __init__(self) -> None:
        self._locks: dict[Hashable, asyncio.Lock] = {}
        self._users: dict[Hashable, int] = {}  # holders and waiters of each key's lock

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncGenerator[None, None]:
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            # close() at shutdown may have cleared the tables while this update was running
            left = self._users.get(key, 1) - 1
            if left:
                self._users[key] = left
            else:  # nobody holds or waits for it: forget it
                self._users.pop(key, None)
                self._locks.pop(key, None)

    @property
    def keys_held(self) -> int:
        """How many keys have a lock now (held or waited for)."""
        return len(self._locks)

    async def close(self) -> None:
        self._locks.clear()
        self._users.clear()
