"""SQLite for the async engine without a thread per connection: statements run inline.

SQLAlchemy's aiosqlite dialect talks to aiosqlite, which runs each connection in a thread of
its own and hands every call over to it and back: four round trips between threads per
statement (cursor, execute, fetch, close), each a queue put, a wake-up of the event loop and a
GIL hand-over. An indexed SQLite statement takes tens of microseconds, the hand-overs cost
more than that; on a bot update (7 to 20 statements) they were most of the database time.

This module gives the dialect (through `create_async_engine(async_creator=…)`) an object with
the part of aiosqlite's interface the dialect uses, running the stdlib sqlite3 calls directly
in the event loop thread. The one thing that must not block the loop is waiting for the
write lock, and every transaction of ours takes it at BEGIN (engine.py: BEGIN IMMEDIATE):
- between the connections of this process, a `WriteGate` (an asyncio lock per database file)
  lets one transaction in at a time, in arrival order, from BEGIN to COMMIT/ROLLBACK;
- another process (the scheduler, a CLI command) can still hold the lock: BEGIN then fails
  at once (a short busy timeout) and is retried after an asyncio sleep, up to `lock_timeout`.
Every other statement runs inside such a transaction, so it never waits for a lock.

The price: a slow statement (a report over a whole province) holds the event loop for its
duration instead of a thread. On SQLite it holds the write lock all the same, so every other
update waited for it anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

BUSY_TIMEOUT_MS = 5  # another process holds the lock: wait this long inline, then yield
_RETRY_SLEEP_S = (0.002, 0.005, 0.01, 0.02, 0.05)


class WriteGate:
    """One transaction at a time among this process's connections to one database file."""

    def __init__(self, lock_timeout: float) -> None:
        self.lock_timeout = lock_timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _current(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # an engine outlives a test's loop
            self._lock, self._loop = asyncio.Lock(), loop
        return self._lock

    async def acquire(self) -> None:
        try:
            await asyncio.wait_for(self._current().acquire(), self.lock_timeout)
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None

    def release(self) -> None:
        lock = self._lock
        if lock is not None and lock.locked():
            lock.release()


class _Cursor:
    """aiosqlite's Cursor interface over a sqlite3 cursor, every call inline."""

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def __aenter__(self) -> _Cursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        if self._connection.begins_transaction(sql):
            await self._connection.begin(self._cursor, sql, parameters or ())
        else:
            self._cursor.execute(sql, parameters or ())
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> _Cursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class _CursorContext:
    """What aiosqlite's `connection.cursor()` returns: awaitable and an async context."""

    def __init__(self, connection: InlineConnection) -> None:
        self._cursor = _Cursor(connection, connection.sqlite.cursor())

    def __await__(self) -> Any:
        async def done() -> _Cursor:
            return self._cursor

        return done().__await__()

    async def __aenter__(self) -> _Cursor:
        return self._cursor

    async def __aexit__(self, *_exc: object) -> None:
        await self._cursor.close()


class InlineConnection:
    """aiosqlite's Connection interface over a sqlite3 connection in autocommit mode (our
    engine issues BEGIN itself), every call inline; the transaction holds the `WriteGate`."""

    def __init__(self, sqlite: sqlite3.Connection, gate: WriteGate) -> None:
        self.sqlite = sqlite
        self.gate = gate
        self._in_gate = False

    # the dialect reads these; isolation_level is fixed (None: we issue BEGIN ourselves)
    @property
    def isolation_level(self) -> str | None:
        return self.sqlite.isolation_level

    @property
    def _conn(self) -> sqlite3.Connection:
        return self.sqlite

    @property
    def _connection(self) -> sqlite3.Connection:  # the dialect's "still open?" check
        return self.sqlite

    @staticmethod
    def begins_transaction(sql: str) -> bool:
        return sql.lstrip()[:5].upper() == "BEGIN"

    async def begin(self, cursor: sqlite3.Cursor, sql: str, parameters: Sequence[Any]) -> None:
        """BEGIN (IMMEDIATE): first this process's gate, then SQLite's lock, which another
        process may hold: retried after a sleep instead of blocking the loop."""
        await self.gate.acquire()
        self._in_gate = True
        deadline = time.monotonic() + self.gate.lock_timeout
        try:
            for attempt in range(1_000_000):
                try:
                    cursor.execute(sql, parameters)
                    return
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) or time.monotonic() > deadline:
                        raise
                await asyncio.sleep(_RETRY_SLEEP_S[min(attempt, len(_RETRY_SLEEP_S) - 1)])
        except BaseException:
            self._leave_gate()
            raise

    def _leave_gate(self) -> None:
        if self._in_gate:
            self._in_gate = False
            self.gate.release()

    def cursor(self) -> _CursorContext:
        return _CursorContext(self)

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> _Cursor:
        cursor = _Cursor(self, self.sqlite.cursor())
        return await cursor.execute(sql, parameters)

    async def commit(self) -> None:
        try:
            if self.sqlite.in_transaction:
                self.sqlite.execute("COMMIT")
        finally:
            self._leave_gate()

    async def rollback(self) -> None:
        try:
            if self.sqlite.in_transaction:
                self.sqlite.execute("ROLLBACK")
        finally:
            self._leave_gate()

    async def close(self) -> None:
        try:
            self.sqlite.close()
        finally:
            self._leave_gate()

    def stop(self) -> None:  # aiosqlite's "terminate": nothing runs elsewhere to stop
        self.sqlite.close()
        self._leave_gate()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.sqlite.create_function(*args, **kwargs)


def inline_creator(path: str, gate: WriteGate) -> Any:
    """`async_creator` for create_async_engine: a new inline connection to `path`."""

    async def connect() -> InlineConnection:
        sqlite = sqlite3.connect(
            path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,  # the pool may close it from another thread at exit
            detect_types=0,
        )
        return InlineConnection(sqlite, gate)

    return connect
