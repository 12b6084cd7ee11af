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
from aiogram.fsm.middleware import FSMContextMiddleware
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StateType, StorageKey
from aiogram.types import TelegramObject

from bot.middlewares import Handler
from bot.storage import FsmRecords, SqlStorage, dialog_context_key, dialog_stack_key, top_intent
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
# handler data: the update's FSM view when its writes can join the update's mark-done commit
# (the SQL storage on the unit of work's own database; bot.middlewares.dedup)
FSM_VIEW_KEY = "update_fsm_view"
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

    def joins(self, services: Services) -> bool:
        """Whether the buffered writes can be committed in a unit of work of `services`."""
        return self._sql is not None and self._sql.shares_engine(services.session_factory)

    def pending_records(self) -> tuple[SqlStorage, FsmRecords] | None:
        """The buffered writes as whole records (row key → state, data), for a caller that
        writes them in a transaction of its own (the update's mark-done commit), then calls
        `written()`; None when there is nothing to write or they are not all whole records
        (the own key's state or data was never read: `flush` writes those)."""
        if self._sql is None:
            return None
        own_dirty = self._state_dirty or self._data_dirty
        if own_dirty and (self._state is _UNREAD or self._data is _UNREAD):
            return None
        if not (own_dirty or self._dialog_dirty):
            return None
        records: FsmRecords = {
            self._sql.key_name(key): (None, self._dialog[key]) for key in self._dialog_dirty
        }
        if own_dirty:
            records[self._sql.key_name(self.own_key)] = (
                cast(str | None, self._state),
                cast(dict[str, Any], self._data),
            )
        return self._sql, records

    def written(self) -> None:
        """What `pending_records` gave is committed: nothing left for `flush`."""
        self._dialog_dirty.clear()
        self._state_dirty = self._data_dirty = False

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


class StateInUnitOfWork(FSMContextMiddleware):
    """aiogram's FSM middleware (the context, the event-isolation lock) leaving the state
    unread when the SQL storage lives in the unit of work's database: UnitOfWorkMiddleware
    reads it in the update's first transaction, with the account read and the dedup claim,
    instead of a connection and a transaction of its own."""

    def __init__(
        self, storage: BaseStorage, events_isolation: BaseEventIsolation, services: Services
    ) -> None:
        super().__init__(storage=storage, events_isolation=events_isolation)
        self._deferred = isinstance(storage, SqlStorage) and storage.shares_engine(
            services.session_factory
        )

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not self._deferred:
            return await super().__call__(handler, event, data)
        context = self.resolve_event_context(cast("Bot", data["bot"]), data)
        data["fsm_storage"] = self.storage
        if context is None:
            return await handler(event, data)
        # the state is loaded after the lock is taken (aiogram issue 1317), by the unit of work
        async with self.events_isolation.lock(key=context.key):
            data["state"] = context
            return await handler(event, data)


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
                    if (
                        raw_state is _UNREAD
                        and isinstance(state.storage, SqlStorage)
                        and state.storage.shares_engine(self.services.session_factory)
                    ):
                        # left unread by StateInUnitOfWork: read in this unit of work's
                        # transaction, which the dedup claim commits
                        connection = await uow.session.connection()
                        raw_state = await state.storage.get_state_on(connection, state.key)
                        data["raw_state"] = raw_state
                    view = _UpdateFsm(state.storage, uow, state.key, raw_state)
                    data["state"] = FSMContext(view, state.key)
                    # aiogram-dialog reads its stacks through this too (ends the open read)
                    data["fsm_storage"] = view
                    if view.joins(self.services):
                        data[FSM_VIEW_KEY] = view
                try:
                    return await handler(event, data)
                finally:
                    # error handlers run after this block: they must not reach a closed session
                    _current_uow.reset(current)
                    data.pop("uow", None)
                    data.pop(FSM_VIEW_KEY, None)
                    if isinstance(state, FSMContext):
                        data["state"] = state
                        data["fsm_storage"] = state.storage
        finally:
            # after the unit of work closed (no lock held), still under the isolation lock;
            # also after an error, as the writes were immediate before the view buffered them
            if view is not None:
                await view.flush()
