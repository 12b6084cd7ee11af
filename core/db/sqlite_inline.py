"""SQLite for the async engine without a thread per connection: statements run inline.

SQLAlchemy's aiosqlite dialect talks to aiosqlite, which runs each connection in a thread of
its own and hands every call over to it and back: four round trips between threads per
statement (cursor, execute, fetch, close), each a queue put, a wake-up of the event loop and a
GIL hand-over. An indexed SQLite statement takes tens of microseconds, the hand-overs cost
more than that; on a bot update (7 to 20 statements) they were most of the database time.

This module is a small async driver of our own over the stdlib sqlite3 module (an
aiosqlite-like interface whose calls run directly in the event loop thread; only BEGIN of a
writer may await) and a dialect built from SQLAlchemy's public pieces: the pysqlite dialect
marked `is_async`, registered as `sqlite+jingong_inline`, its DBAPI adapted by the
`sqlalchemy.connectors.asyncio` base classes every SQLAlchemy asyncio dialect uses.

Transactions (engine.py issues BEGIN itself, the connection is in autocommit mode):
- writers (the default unit of work): `BEGIN IMMEDIATE`, so no transaction ever upgrades a
  read lock mid-way (SQLITE_BUSY). Among this process's connections a `WriteGate` (an asyncio
  lock per engine) lets one writer in at a time, in arrival order, from BEGIN to COMMIT or
  ROLLBACK; another process (the scheduler, a CLI command) can still hold SQLite's lock:
  BEGIN then fails at once (a short busy timeout) and is retried after an asyncio sleep, up
  to `lock_timeout`. Every other statement of a writer runs after BEGIN, so it never waits.
- readers (a unit of work opened read-only): a deferred `BEGIN` with `PRAGMA query_only`, so
  they take neither the gate nor the lock (WAL readers never wait) and cannot write.
- a task that already holds the gate and opens a second writer (a second connection of the
  same update) would wait for itself: the gate refuses at once with "database is locked"
  instead of sitting out the lock timeout.

The price: a slow statement (a report over a whole province) holds the event loop for its
duration instead of a thread.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import pool
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection, AsyncAdapt_dbapi_module
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine.url import URL

BUSY_TIMEOUT_MS = 5  # another process holds the lock: wait this long inline, then yield
_RETRY_SLEEP_S = (0.002, 0.005, 0.01, 0.02, 0.05)

DRIVER = "jingong_inline"
READ_ONLY_OPTION = "jingong_read_only"  # execution option: this unit of work only reads


class WriteGate:
    """One writing transaction at a time among this process's connections to one database."""

    def __init__(self, lock_timeout: float) -> None:
        self.lock_timeout = lock_timeout
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._holder: asyncio.Task[Any] | None = None

    def _current(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:  # an engine outlives a test's loop
            self._lock, self._loop, self._holder = asyncio.Lock(), loop, None
        return self._lock

    async def acquire(self) -> None:
        lock = self._current()
        task = asyncio.current_task()
        if lock.locked() and task is not None and task is self._holder:
            # it would wait for its own other connection's transaction: fail now, not in 30 s
            raise sqlite3.OperationalError(
                "database is locked: this task is already writing on another connection"
            )
        try:
            await asyncio.wait_for(lock.acquire(), self.lock_timeout)
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._holder = task

    def release(self) -> None:
        lock = self._lock
        if lock is not None and lock.locked():
            self._holder = None
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
    """An aiosqlite-like async connection over a sqlite3 connection in autocommit mode (our
    engine issues BEGIN itself), every call inline; a writer holds the `WriteGate`."""

    def __init__(self, sqlite: sqlite3.Connection, gate: WriteGate) -> None:
        self.sqlite = sqlite
        self.gate = gate
        self._in_gate = False
        self._read_only = False

    @staticmethod
    def begins_transaction(sql: str) -> bool:
        return sql.lstrip()[:5].upper() == "BEGIN"

    async def begin(self, cursor: sqlite3.Cursor, sql: str, parameters: Sequence[Any]) -> None:
        """BEGIN IMMEDIATE (a writer): first this process's gate, then SQLite's lock, which
        another process may hold: retried after a sleep instead of blocking the loop.
        A plain (deferred) BEGIN is a reader's: no lock to wait for in WAL mode, and
        query_only makes a write in it fail instead of taking the lock behind the gate."""
        if "IMMEDIATE" not in sql.upper() and "EXCLUSIVE" not in sql.upper():
            cursor.execute("PRAGMA query_only=ON")
            self._read_only = True
            try:
                cursor.execute(sql, parameters)
            except BaseException:
                self._leave_gate()
                raise
            return
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
        if self._read_only:
            self._read_only = False
            self.sqlite.execute("PRAGMA query_only=OFF")
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
        self._read_only = False  # the connection goes, and its query_only with it
        try:
            self.sqlite.close()
        finally:
            self._leave_gate()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.sqlite.create_function(*args, **kwargs)


class InlineAdaptedConnection(AsyncAdapt_dbapi_connection):
    """The DBAPI connection SQLAlchemy sees, over an `InlineConnection`."""

    __slots__ = ()

    @property
    def isolation_level(self) -> str | None:
        return self.inline.sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        # pysqlite's dialect sets None (autocommit), as our connections already are
        self.inline.sqlite.isolation_level = value  # type: ignore[assignment]

    @property
    def inline(self) -> InlineConnection:
        driver: InlineConnection = self.driver_connection
        return driver

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.inline.sqlite.create_function(*args, **kwargs)


class InlineDBAPI(AsyncAdapt_dbapi_module):
    """The DBAPI module of the dialect: sqlite3's names and errors; `connect` opens an
    `InlineConnection` sharing the engine's gate (given in connect_args)."""

    def __init__(self) -> None:
        super().__init__(sqlite3, dbapi_module=sqlite3)
        self.paramstyle = "qmark"
        for name in (
            "DatabaseError",
            "DataError",
            "Error",
            "IntegrityError",
            "InterfaceError",
            "InternalError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "Warning",
            "Binary",
            "PARSE_COLNAMES",
            "PARSE_DECLTYPES",
            "sqlite_version",
            "sqlite_version_info",
        ):
            setattr(self, name, getattr(sqlite3, name))

    def connect(self, database: str, *, gate: WriteGate, **_ignored: Any) -> Any:
        sqlite = sqlite3.connect(
            database,
            timeout=BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,  # autocommit: our engine issues BEGIN itself
            check_same_thread=False,  # the pool may close it from another thread at exit
            detect_types=0,
        )
        inline: Any = InlineConnection(sqlite, gate)  # the async-driver protocol, duck-typed
        return InlineAdaptedConnection(self, inline)


class InlineSQLiteDialect(SQLiteDialect_pysqlite):
    """pysqlite's dialect (SQL, types, reflection) over `InlineDBAPI`."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return InlineDBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        in_memory = url.database in (None, "", ":memory:") or "mode=memory" in str(url)
        return pool.StaticPool if in_memory else pool.AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection.driver_connection


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSQLiteDialect")
