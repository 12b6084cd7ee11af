"""One unit of work per update, in handler data as `uow`; always closed (rolled back unless a
service committed).

The handlers' FSMContext is rebuilt over a per-update view of the FSM storage (`_UpdateFsm`)
that keeps the update's own key in memory: its state and data are read once (with the SQL
storage, in the same SELECT as the state aiogram's FSM middleware read) and written back once,
after the handler, in one statement. A dialog step used to cost up to five FSM transactions.
Safe because the event-isolation lock keeps every other update of this user out until this
one is done, the write-back included.

Other keys go straight to the storage, after ending the update's open read: on SQLite every
transaction takes the write lock at BEGIN, and the SQL FSM storage uses a connection of its
own, so a handler that read through a service (no commit) would wait for itself until the busy
timeout. Ending the transaction is safe because every writing service commits before it
returns, so what is still open between service calls has only read.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, cast

from aiogram import BaseMiddleware
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StateType, StorageKey
from aiogram.types import TelegramObject

from bot.middlewares import Handler
from bot.storage import SqlStorage, dialog_context_key, dialog_stack_key, top_intent
from core.db.uow import Services, UnitOfWork

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

# the unit of work of the update this task is handling (None outside handlers: sender, jobs)
_current_uow: ContextVar[UnitOfWork | None] = ContextVar("current_uow", default=None)


async def end_read(uow: UnitOfWork) -> None:
    """Close the unit of work's current transaction if one is open (nothing to lose: reads)."""
    try:
        session = uow.session
    except RuntimeError:  # the unit of work is closed already (error handlers run later)
        return
    if session.in_transaction():
        await session.rollback()


class EndReadBeforeRequest(BaseRequestMiddleware):
    """Bot session middleware: a Bot API call first ends the handling update's open read.

    On SQLite the read holds the database's one write lock (BEGIN IMMEDIATE), and a reply to
    Telegram takes a network round trip: every other update would wait for it. Safe for the
    same reason as the FSM view's end_read: what is open between service calls has only read,
    and handlers hold service views, not ORM rows."""

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        uow = _current_uow.get()
        if uow is not None:
            await end_read(uow)
        return await make_request(bot, method)


_UNREAD: Any = object()
DIALOG_DESTINY = "aiogd:"  # aiogram-dialog's keys: stacks and contexts, data only


class _UpdateFsm(BaseStorage):
    """Per-update view of the FSM storage: the own key in memory, written back by `flush`.

    Only with our SQL storage are writes buffered (the memory then holds what the storage would
    give back: the data after its JSON round trip); any other storage is written through at
    once, and reads of the own key are still kept."""

    def __init__(
        self, inner: BaseStorage, uow: UnitOfWork, own_key: StorageKey, state: Any = _UNREAD
    ) -> None:
        self.inner = inner
        self.uow = uow
        self.own_key = own_key
        self._state = state  # aiogram's FSM middleware read it under the same lock
        self._data: Any = _UNREAD
        # writes are buffered with our SQL storage only; Redis (several processes) stays
        # write-through, as in the code the scale-out tests were proven on
        self._sql = inner if isinstance(inner, SqlStorage) else None
        if self._sql is not None and state is not _UNREAD:
            prefetched = self._sql.take_prefetched_data(own_key)
            if prefetched is not None:
                self._data = prefetched
        self._state_dirty = False
        self._data_dirty = False
        # aiogram-dialog's stacks and contexts (data only, destiny "aiogd:…"): read once and
        # written back with the own key, not in a transaction each (SQL storage only)
        self._dialog: dict[StorageKey, dict[str, Any]] = {}
        self._dialog_dirty: set[StorageKey] = set()
        if self._sql is not None and state is not _UNREAD:
            stack_key = dialog_stack_key(own_key)
            stack = self._sql.take_prefetched_data(stack_key)
            if stack is not None:
                self._dialog[stack_key] = stack
                # the context of the dialog on top, read along (aiogram-dialog loads it next)
                intent = top_intent(stack)
                if intent is not None:
                    context_key = dialog_context_key(own_key, intent)
                    context = self._sql.take_prefetched_data(context_key)
                    if context is not None:
                        self._dialog[context_key] = context

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        if key == self.own_key and self._sql is not None:
            self._state, self._state_dirty = value, True
            return
        await end_read(self.uow)
        if key == self.own_key:
            self._state = _UNREAD
        await self.inner.set_state(key, state)
        if key == self.own_key:
            self._state = value

    async def get_state(self, key: StorageKey) -> str | None:
        if key == self.own_key and self._state is not _UNREAD:
            return cast(str | None, self._state)
        await end_read(self.uow)
        value = await self.inner.get_state(key)
        if key == self.own_key:
            self._state = value
        return value

    def _buffered(self, key: StorageKey) -> bool:
        return self._sql is not None and key.destiny.startswith(DIALOG_DESTINY)

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if self._buffered(key):
            assert self._sql is not None
            checked = self._sql.check_data(data)
            if self._dialog.get(key) != checked:  # an unchanged stack is not written again
                self._dialog[key] = checked
                self._dialog_dirty.add(key)
            return
        if key == self.own_key and self._sql is not None:
            # what the storage would store and give back; refuses what it would refuse
            self._data = self._sql.check_data(data)
            self._data_dirty = True
            return
        await end_read(self.uow)
        if key == self.own_key:
            self._data = _UNREAD
        await self.inner.set_data(key, data)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        if self._buffered(key):
            if key not in self._dialog:
                await end_read(self.uow)
                self._dialog[key] = await self.inner.get_data(key)
            return copy.deepcopy(self._dialog[key])
        if key == self.own_key and self._data is not _UNREAD:
            return copy.deepcopy(cast(dict[str, Any], self._data))
        await end_read(self.uow)
        value = await self.inner.get_data(key)
        if key == self.own_key:
            self._data = copy.deepcopy(value)
        return value

    async def flush(self) -> None:
        """Write the own key's changes back: one statement with the SQL storage; then the
        dialog keys that changed, in one transaction."""
        if self._dialog_dirty:
            assert self._sql is not None
            await end_read(self.uow)
            await self._sql.write_data_many({k: self._dialog[k] for k in self._dialog_dirty})
            self._dialog_dirty.clear()
        if not (self._state_dirty or self._data_dirty):
            return
        await end_read(self.uow)
        assert self._sql is not None  # only the SQL storage buffers
        if self._state is _UNREAD:  # only the data changed, the state was never read
            await self._sql.set_data(self.own_key, self._data)
        elif self._data is _UNREAD:  # only the state changed, the data was never read
            await self._sql.set_state(self.own_key, self._state)
        else:
            await self._sql.write_record(self.own_key, self._state, self._data)
        self._state_dirty = self._data_dirty = False

    async def close(self) -> None:
        """The real storage belongs to the dispatcher, which closes it on shutdown."""


class UnitOfWorkMiddleware(BaseMiddleware):
    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        state = data.get("state")
        view: _UpdateFsm | None = None
        try:
            async with self.services.uow() as uow:
                data["uow"] = uow
                current = _current_uow.set(uow)
                if isinstance(state, FSMContext):
                    raw_state = data.get("raw_state", _UNREAD)
                    view = _UpdateFsm(state.storage, uow, state.key, raw_state)
                    data["state"] = FSMContext(view, state.key)
                    # aiogram-dialog reads its stacks through this too (ends the open read)
                    data["fsm_storage"] = view
                try:
                    return await handler(event, data)
                finally:
                    # error handlers run after this block: they must not reach a closed session
                    _current_uow.reset(current)
                    data.pop("uow", None)
                    if isinstance(state, FSMContext):
                        data["state"] = state
                        data["fsm_storage"] = state.storage
        finally:
            # after the unit of work closed (no lock held), still under the isolation lock;
            # also after an error, as the writes were immediate before the view buffered them
            if view is not None:
                await view.flush()
