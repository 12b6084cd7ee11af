"""Conversations built on aiogram-dialog (one module per conversation).

`setup(dp)` wires aiogram-dialog into the dispatcher once. aiogram-dialog keeps its dialog
stacks in the dispatcher's FSM storage directly (not through the handler's FSMContext), so on
SQLite, where every transaction takes the write lock at BEGIN, its calls first end the update's
open read, as the handlers' FSM view does (bot.middlewares.db).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import BaseMiddleware, Dispatcher
from aiogram.filters import ExceptionTypeFilter
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.types import ErrorEvent, TelegramObject
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import setup_dialogs
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent

from bot.middlewares.db import end_read
from core.db.uow import UnitOfWork


class EndReadStorage(BaseStorage):
    """The FSM storage, each call made after the update's unit of work ended its read."""

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


class DialogStorageMiddleware(BaseMiddleware):
    """Hands aiogram-dialog the storage wrapped for this update's unit of work."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        uow = data.get("uow")
        storage = data.get("fsm_storage")
        if isinstance(uow, UnitOfWork) and isinstance(storage, BaseStorage):
            data["fsm_storage"] = EndReadStorage(storage, uow)
        return await handler(event, data)


async def stale_dialog_button(event: ErrorEvent) -> None:
    """A button of a dialog that has ended (published, dropped, replaced): change nothing."""
    if event.update.callback_query is not None:
        await event.update.callback_query.answer(_("common.stale"))


def setup(dp: Dispatcher) -> None:
    """aiogram-dialog's middlewares on the dispatcher; the dialogs are routers of the root."""
    dp.update.outer_middleware(DialogStorageMiddleware())
    dp.errors.register(stale_dialog_button, ExceptionTypeFilter(UnknownIntent, OutdatedIntent))
    setup_dialogs(dp)
