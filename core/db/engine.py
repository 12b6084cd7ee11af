from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from core.config import Settings
from core.db.sqlite_inline import BUSY_TIMEOUT_MS, DRIVER, READ_ONLY_OPTION, WriteGate

SQLITE_LOCK_TIMEOUT_S = 30.0  # a transaction waits this long for the write lock, then fails


def create_engine(settings: Settings | None = None, *, url: str | None = None) -> AsyncEngine:
    """The async engine: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (asyncpg)."""
    db_url = url or (settings.effective_database_url if settings else None)
    if not db_url:
        raise ValueError("no database url")
    parsed = make_url(db_url)
    # hide_parameters: an error's text (and so its logged traceback) never carries the bound
    # values, which may be personal data or an attacker's bytes
    kwargs: dict[str, Any] = {
        "echo": bool(settings and settings.sql_echo),
        "hide_parameters": True,
    }
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # Statements run inline in the event loop (sqlite_inline: no thread hand-overs);
        # a writing transaction takes the one write lock at BEGIN (below), in this process
        # through the gate's asyncio queue; read-only units of work take neither.
        gate = WriteGate(lock_timeout=SQLITE_LOCK_TIMEOUT_S)
        kwargs["connect_args"] = {"gate": gate}
        kwargs.update(pool_size=2, max_overflow=0, pool_timeout=SQLITE_LOCK_TIMEOUT_S)
        engine = create_async_engine(parsed.set(drivername=f"sqlite+{DRIVER}"), **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs.update(pool_size=10, max_overflow=10)
    engine = create_async_engine(db_url, **kwargs)
    _ping_after_idle(engine)
    return engine


# A pooled connection unused for this long is pinged before it is handed out. SQLAlchemy's
# pool_pre_ping pings on every checkout: a round trip (and ~0.5 ms of CPU) per unit of work,
# several per update, for connections that were in use a moment ago. A connection that died
# within this window (a restart of the server) fails its statement once; SQLAlchemy then
# invalidates the pool, as after any disconnect.
PING_AFTER_IDLE_S = 5.0


def _ping_after_idle(engine: AsyncEngine) -> None:
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return  # new, or in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            # the pool drops this connection and checks out (or opens) another
            raise exc.DisconnectionError("pooled connection failed its ping") from error


_IDLE_SINCE = "jingong_idle_since"


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # autocommit mode (isolation_level None, set by the creator): we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # another process holding the lock: a short wait inline, then BEGIN retries asleep
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # which BEGIN: the dialect's do_begin below issues it
        if conn.get_execution_options().get(READ_ONLY_OPTION):
            # a reader: deferred, takes no lock (WAL), and the driver makes it query-only
            conn.connection.info[_BEGIN_SQL] = "BEGIN"
        else:
            # One writer at a time, taken up front: no SQLITE_BUSY upgrade deadlocks mid-way.
            conn.connection.info[_BEGIN_SQL] = "BEGIN IMMEDIATE"

    def _do_begin(dbapi_connection: Any) -> None:
        # straight on the DBAPI cursor: a BEGIN through exec_driver_sql paid for a whole
        # statement execution (context, events, result) on every transaction. Raised errors
        # are wrapped by SQLAlchemy as for any statement (do_begin runs inside its handler).
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(dbapi_connection.info.pop(_BEGIN_SQL, "BEGIN IMMEDIATE"))
        finally:
            cursor.close()

    engine.sync_engine.dialect.do_begin = _do_begin  # type: ignore[method-assign]


_BEGIN_SQL = "jingong_begin_sql"


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


# execution options of a unit of work that only reads: on SQLite it begins deferred and takes
# no write lock, so it neither waits for a writer nor makes one wait (ignored on PostgreSQL)
READ_ONLY: dict[str, Any] = {READ_ONLY_OPTION: True}


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (and pool) for reads that must not take SQLite's write lock."""
    return engine.execution_options(**READ_ONLY)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
