"""One unit of work per update, in handler data as `uow`; always closed (rolled back unless a
service committed).

The handlers' FSMContext is rebuilt over a storage proxy that first ends the update's open
read transaction. On SQLite every transaction takes the write lock at BEGIN, and the SQL FSM
storage uses a connection of its own: a handler that read through a service (no commit) and
then touched FSM state would wait for itself until the busy timeout. Ending the transaction
is safe here because every writing service commits before it returns, so what is still open
between service calls has only read.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, cast

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import TelegramObject

from bot.storage import SqlStorage
from core.db.uow import Services, UnitOfWork


async def end_read(uow: UnitOfWork) -> None:
    """Close the unit of work's current transaction if one is open (nothing to lose: reads)."""
    try:
        session = uow.session
    except RuntimeError:  # the unit of work is closed already (error handlers run later)
        return
    if session.in_transaction():
        await session.rollback()


_UNREAD: Any = object()


class _EndReadFirst(BaseStorage):
    """Per-update view of the FSM storage: each call first ends the update's read.

    Reads of the update's own key are remembered until that key is written: handlers read
    the dialog's data several times per step, and each read was a transaction of its own
    (with the write lock, on SQLite). Safe because the event-isolation lock keeps every other
    update of this user out until this one is done; other keys are never cached. After a
    write the cache holds what the storage would give back: JSON-backed storages (ours,
    Redis) round-trip the data through JSON, any other is simply read again."""

    def __init__(
        self,
        inner: BaseStorage,
        uow: UnitOfWork,
        own_key: StorageKey | None = None,
        state: Any = _UNREAD,
    ) -> None:
        self.inner = inner
        self.uow = uow
        self.own_key = own_key
        self._state = state  # aiogram's FSM middleware read it under the same lock
        self._data: Any = _UNREAD
        self._json_backed = isinstance(inner, SqlStorage | RedisStorage)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await end_read(self.uow)
        if key == self.own_key:
            self._state = _UNREAD
        await self.inner.set_state(key, state)
        if key == self.own_key:
            self._state = state.state if isinstance(state, State) else state

    async def get_state(self, key: StorageKey) -> str | None:
        if key == self.own_key and self._state is not _UNREAD:
            return cast(str | None, self._state)
        await end_read(self.uow)
        value = await self.inner.get_state(key)
        if key == self.own_key:
            self._state = value
        return value

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await end_read(self.uow)
        if key == self.own_key:
            self._data = _UNREAD
        await self.inner.set_data(key, data)
        if key == self.own_key and self._json_backed:
            self._data = json.loads(json.dumps(dict(data), ensure_ascii=False))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        if key == self.own_key and self._data is not _UNREAD:
            return copy.deepcopy(cast(dict[str, Any], self._data))
        await end_read(self.uow)
        value = await self.inner.get_data(key)
        if key == self.own_key:
            self._data = copy.deepcopy(value)
        return value

    async def close(self) -> None:
        """The real storage belongs to the dispatcher, which closes it on shutdown."""


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        async with self.services.uow() as uow:
            data["uow"] = uow
            state = data.get("state")
            if isinstance(state, FSMContext):
                view = _EndReadFirst(state.storage, uow, state.key, data.get("raw_state", _UNREAD))
                data["state"] = FSMContext(view, state.key)
            try:
                return await handler(event, data)
            finally:
                # error handlers run after this block: they must not reach a closed session
                data.pop("uow", None)
                if isinstance(state, FSMContext):
                    data["state"] = state
