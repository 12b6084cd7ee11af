"""aiogram FSM storage in our SQL database (table fsm_record), so a restart resumes a dialog.

aiogram ships Memory (lost on restart, one process), Redis and Mongo storages but no SQL one;
this one works on SQLite and PostgreSQL alike. One row per key holds state and data; a row
whose state and data are both empty is deleted.

Data must be JSON-serializable (str, int, float, bool, None, lists, dicts with str keys): it
is stored in a JSON column, so dates travel as ISO strings and Decimals as strings.
Raw ID numbers are never stored in FSM data (PIPL: sensitive personal information; FSM rows
are neither encrypted nor audited): a handler that asks for an ID number validates it and
hands it to a service in the same update, keeping at most the masked form in the dialog.
`set_data` refuses data containing anything that checks out as an 18-character ID number.

Each call runs in its own short transaction. `get_state` reads the data in the same SELECT
and keeps it for the update's FSM view (bot.middlewares.db), which takes it with
`take_prefetched_data` instead of a second transaction and writes state and data back once at
the end of the update with `write_record` (one statement).

On SQLite a writing transaction takes the write lock at BEGIN; the storage's reads begin
deferred and take none (core.db.sqlite_inline), so they can run while the handler's unit of
work is open. An FSM *write* made while the same update's unit of work has a transaction open
(any query not followed by commit/rollback) would wait for itself: the driver refuses it at
once with "database is locked". Keep FSM writes outside open transactions, or on SQLite give
the storage a file of its own: `SqlStorage.from_url("sqlite+aiosqlite:///…/fsm.db")`
(PostgreSQL locks rows, no such issue).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from stdnum.cn import ric

from core.db.engine import create_engine, create_session_factory, read_only
from core.db.models import FsmRecord

_MAX_UPSERT_TRIES = 5


def _upsert(insert: Any) -> Any:
    stmt = insert(FsmRecord).values(
        key=bindparam("key"),
        state=bindparam("state"),
        data=bindparam("data", type_=FsmRecord.data.type),
        updated_at=bindparam("updated_at"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[FsmRecord.key],
        set_={
            "state": stmt.excluded.state,
            "data": stmt.excluded.data,
            "updated_at": stmt.excluded.updated_at,
        },
    )


_READ = select(FsmRecord.state, FsmRecord.data).where(FsmRecord.key == bindparam("key"))
_READ_WITH_STACK = select(FsmRecord.key, FsmRecord.state, FsmRecord.data).where(
    FsmRecord.key.in_([bindparam("key"), bindparam("stack")])
)
_READ_DATA = select(FsmRecord.data).where(FsmRecord.key == bindparam("key"))
_DELETE = delete(FsmRecord).where(FsmRecord.key == bindparam("key"))
_UPSERT = {"sqlite": _upsert(sqlite.insert), "postgresql": _upsert(postgresql.insert)}
_UNSET: Any = object()
# whole records to write: row key → (state, data as check_data gave it)
FsmRecords = dict[str, tuple[str | None, dict[str, Any]]]
# (key, data) of the last get_state in this task: the FSM middleware reads the state of the
# update's own key under the event-isolation lock, the update's FSM view takes the data once
_prefetched: ContextVar[dict[str, dict[str, Any]] | None] = ContextVar(
    "fsm_prefetched", default=None
)
DIALOG_STACK_DESTINY = "aiogd:stack:"  # aiogram-dialog's default stack of a chat
DIALOG_CONTEXT_DESTINY = "aiogd:context:"  # + intent id: one dialog's context


def dialog_stack_key(key: StorageKey) -> StorageKey:
    """The key under which aiogram-dialog keeps the chat's default dialog stack."""
    return StorageKey(
        bot_id=key.bot_id,
        chat_id=key.chat_id,
        user_id=key.chat_id,
        thread_id=key.thread_id,
        business_connection_id=key.business_connection_id,
        destiny=DIALOG_STACK_DESTINY,
    )


def dialog_context_key(key: StorageKey, intent_id: str) -> StorageKey:
    """The key under which aiogram-dialog keeps the context of one of the chat's dialogs."""
    return StorageKey(
        bot_id=key.bot_id,
        chat_id=key.chat_id,
        user_id=key.chat_id,
        thread_id=key.thread_id,
        business_connection_id=key.business_connection_id,
        destiny=f"{DIALOG_CONTEXT_DESTINY}{intent_id}",
    )


def top_intent(stack_data: Mapping[str, Any]) -> str | None:
    """The id of the dialog on top of a stack (its data as stored), if any."""
    intents = stack_data.get("intents")
    if isinstance(intents, list) and intents and isinstance(intents[-1], str):
        return intents[-1]
    return None


_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _contains_id_number(value: Any) -> bool:
    if isinstance(value, str):
        for match in _ID_LIKE.finditer(value):
            candidate = match.group().upper()
            if ric.calc_check_digit(candidate) == candidate[-1]:
                return True
        return False
    if isinstance(value, Mapping):
        return any(_contains_id_number(k) or _contains_id_number(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_id_number(v) for v in value)
    return False


def _check_data(data: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(data, dict):
        msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
        raise DataNotDictLikeError(msg)
    try:
        # a round trip gives what a later read returns, and rejects what JSON cannot hold
        copy: dict[str, Any] = json.loads(json.dumps(data, ensure_ascii=False, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise TypeError(f"FSM data must be JSON-serializable: {exc}") from exc
    if _contains_id_number(copy):
        raise ValueError("FSM data must not contain an ID number (store it via a service)")
    return copy


class SqlStorage(BaseStorage):
    """FSM state and data in the `fsm_record` table through an async_sessionmaker."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        key_builder: KeyBuilder | None = None,
        now: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.session_factory = session_factory
        # the per-update read and write-back go through Core with the statements below, built
        # once: an ORM session and a fresh statement cost more than the SQL itself
        self._engine: AsyncEngine = session_factory.kw["bind"]
        # reads take no write lock on SQLite: callable while the update's unit of work writes
        self._reader = read_only(self._engine)
        # PostgreSQL: what runs as one statement (or reads under the event-isolation lock)
        # needs no transaction of its own; in autocommit it costs one round trip, not three
        # (BEGIN, the statement, COMMIT / ROLLBACK). SQLite keeps its reader/writer begins.
        self._single: AsyncEngine | None = (
            self._engine.execution_options(isolation_level="AUTOCOMMIT")
            if self._engine.dialect.name == "postgresql"
            else None
        )
        self.key_builder = key_builder or DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
        self._now = now
        self._owned_engine: AsyncEngine | None = None

    @classmethod
    async def from_url(cls, url: str, **kwargs: Any) -> SqlStorage:
        """A storage with an engine of its own (created table included); close() disposes it."""
        engine = create_engine(url=url)
        async with engine.begin() as conn:
            await conn.run_sync(
                lambda sync: FsmRecord.metadata.create_all(
                    sync, tables=[FsmRecord.metadata.tables["fsm_record"]], checkfirst=True
                )
            )
        storage = cls(create_session_factory(engine), **kwargs)
        storage._owned_engine = engine
        return storage

    @staticmethod
    def check_data(data: Mapping[str, Any]) -> dict[str, Any]:
        """What set_data would store; raises for what it refuses (not JSON, an ID number)."""
        return _check_data(data)

    def _key(self, key: StorageKey) -> str:
        return self.key_builder.build(key)

    def key_name(self, key: StorageKey) -> str:
        """The row's key for a storage key."""
        return self.key_builder.build(key)

    def shares_engine(self, session_factory: async_sessionmaker[AsyncSession]) -> bool:
        """True when this storage's rows live in the database of `session_factory` (so a
        unit of work can write them in its own transaction)."""
        return self._owned_engine is None and session_factory.kw.get("bind") is self._engine

    async def write_records_on(self, conn: AsyncConnection, records: FsmRecords) -> None:
        """Replace whole records (row key → state, data as checked by check_data) in the
        caller's transaction: one executemany for the upserts, one for the deletes (a record
        with no state and no data)."""
        deletes = [
            {"key": name} for name, (state, data) in records.items() if state is None and not data
        ]
        now = self._now()
        upserts = [
            {"key": name, "state": state, "data": data, "updated_at": now}
            for name, (state, data) in records.items()
            if state is not None or data
        ]
        if deletes:
            await conn.execute(_DELETE, deletes)
        if upserts:
            await conn.execute(_UPSERT[conn.dialect.name], upserts)

    async def close(self) -> None:
        """Disposes an engine made by from_url; a shared one is the composition root's to close."""
        if self._owned_engine is not None:
            await self._owned_engine.dispose()
            self._owned_engine = None

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        await self._write(self._key(key), state=value)

    async def get_state(self, key: StorageKey) -> str | None:
        """The state; the key's data and the chat's dialog stack come along in the same SELECT
        (aiogram-dialog reads the stack on every update of the chat next), and the context of
        the dialog on top of the stack in the same transaction (which it reads next)."""
        async with (self._single or self._engine).connect() as conn:
            return await self.get_state_on(conn, key)

    async def get_state_on(self, conn: AsyncConnection, key: StorageKey) -> str | None:
        """get_state in the caller's transaction (the update's unit of work: one transaction
        for the FSM read, the account read and the dedup claim)."""
        name, stack = self._key(key), self._key(dialog_stack_key(key))
        context: str | None = None
        rows = (await conn.execute(_READ_WITH_STACK, {"key": name, "stack": stack})).all()
        found = {row.key: row for row in rows}
        own = found.get(name)
        stack_row = found.get(stack)
        stack_data = dict(stack_row.data) if stack_row is not None and stack_row.data else {}
        intent = top_intent(stack_data)
        if intent is not None:
            context = self._key(dialog_context_key(key, intent))
            context_data = await conn.scalar(_READ_DATA, {"key": context})
        prefetched = {name: dict(own.data) if own is not None and own.data else {}}
        prefetched[stack] = stack_data
        if context is not None:
            prefetched[context] = dict(context_data) if context_data else {}
        _prefetched.set(prefetched)
        return own.state if own is not None else None

    def take_prefetched_data(self, key: StorageKey) -> dict[str, Any] | None:
        """The data read along with the last get_state in this task, once; else None."""
        found = _prefetched.get()
        if found is None:
            return None
        return found.pop(self._key(key), None)

    async def read_record(self, key: StorageKey) -> tuple[str | None, dict[str, Any]]:
        """State and data in one SELECT."""
        async with (self._single or self._reader).connect() as conn:
            row = (await conn.execute(_READ, {"key": self._key(key)})).first()
        if row is None:
            return None, {}
        return row.state, dict(row.data) if row.data else {}

    async def write_record(
        self, key: StorageKey, state: StateType, data: Mapping[str, Any]
    ) -> None:
        """Replace state and data in one statement: an upsert, or a delete when both are empty."""
        value = state.state if isinstance(state, State) else state
        checked = _check_data(data)
        name = self._key(key)
        async with (self._single or self._engine).begin() as conn:
            if value is None and not checked:
                await conn.execute(_DELETE, {"key": name})
                return
            await conn.execute(
                _UPSERT[conn.dialect.name],
                {"key": name, "state": value, "data": checked, "updated_at": self._now()},
            )

    async def write_data_many(self, items: Mapping[StorageKey, Mapping[str, Any]]) -> None:
        """Replace the data of keys that hold data only (no state), in one transaction: an
        upsert each, a delete for empty data."""
        if not items:
            return
        checked = {self._key(key): _check_data(data) for key, data in items.items()}
        async with self._engine.begin() as conn:
            for name, data in checked.items():
                if not data:
                    await conn.execute(_DELETE, {"key": name})
                    continue
                await conn.execute(
                    _UPSERT[conn.dialect.name],
                    {"key": name, "state": None, "data": data, "updated_at": self._now()},
                )

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        await self._write(self._key(key), data=_check_data(data))

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        async with (self._single or self._reader).connect() as conn:
            data = await conn.scalar(_READ_DATA, {"key": self._key(key)})
        return dict(data) if data else {}

    async def _write(self, key: str, *, state: Any = _UNSET, data: Any = _UNSET) -> None:
        """Dialect-neutral upsert: update; insert if no row; a lost insert race retries."""
        values: dict[str, Any] = {}
        if state is not _UNSET:
            values["state"] = state
        if data is not _UNSET:
            values["data"] = data
        for _ in range(_MAX_UPSERT_TRIES):
            values["updated_at"] = self._now()
            try:
                async with self.session_factory() as session, session.begin():
                    row = (
                        await session.execute(
                            update(FsmRecord)
                            .where(FsmRecord.key == key)
                            .values(**values)
                            .returning(FsmRecord.state, FsmRecord.data)
                        )
                    ).first()
                    if row is not None:
                        if row.state is None and not row.data:
                            await session.execute(delete(FsmRecord).where(FsmRecord.key == key))
                        return
                    new_state = values.get("state")
                    new_data = values.get("data") or {}
                    if new_state is None and not new_data:
                        return  # nothing to keep, and nothing stored
                    session.add(
                        FsmRecord(
                            key=key,
                            state=new_state,
                            data=new_data,
                            updated_at=values["updated_at"],
                        )
                    )
                return
            except IntegrityError:
                continue  # another writer inserted the row first: now the update finds it
        raise RuntimeError(f"could not write FSM record {key!r}")
