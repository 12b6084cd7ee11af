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

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.types import TelegramObject

from core.db.uow import Services, UnitOfWork


async def end_read(uow: UnitOfWork) -> None:
    """Close the unit of work's current transaction if one is open (nothing to lose: reads)."""
    try:
        session = uow.session
    except RuntimeError:  # the unit of work is closed already (error handlers run later)
        return
    if session.in_transaction():
        await session.rollback()


class _EndReadFirst(BaseStorage):
    """Per-update view of the FSM storage: each call first ends the update's read."""

    def __init__(self, inner: BaseStorage, uow: UnitOfWork) -> None:
        self.inner = inner
        self.uow = uow

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        await end_read(self.uow)
        await self.inner.set_state(key, state)

    async def get_state(self, key: StorageKey) -> str | None:
        await end_read(self.uow)
        return await self.inner.get_state(key)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await end_read(self.uow)
        await self.inner.set_data(key, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        await end_read(self.uow)
        return await self.inner.get_data(key)

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
                data["state"] = FSMContext(_EndReadFirst(state.storage, uow), state.key)
            try:
                return await handler(event, data)
            finally:
                # error handlers run after this block: they must not reach a closed session
                data.pop("uow", None)
                if isinstance(state, FSMContext):
                    data["state"] = state
