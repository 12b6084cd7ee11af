from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine.url import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from core.config import Settings


def create_engine(settings: Settings | None = None, *, url: str | None = None) -> AsyncEngine:
    """The async engine: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (asyncpg)."""
    db_url = url or (settings.effective_database_url if settings else None)
    if not db_url:
        raise ValueError("no database url")
    parsed = make_url(db_url)
    kwargs: dict[str, Any] = {"echo": bool(settings and settings.sql_echo)}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
        # Every transaction takes the one write lock at BEGIN (below), so a second connection
        # can only wait for it, in SQLite's busy handler, which sleeps and polls (up to 100 ms
        # a round). Two connections: the next transaction waits in the pool's asyncio queue
        # instead and starts the moment the lock is free; and fewer threads and page caches
        # (aiosqlite runs each connection in a thread of its own).
        kwargs.update(pool_size=2, max_overflow=0, pool_timeout=30)
        engine = create_async_engine(db_url, **kwargs)
        _tune_sqlite(engine)
        return engine
    kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    return create_async_engine(db_url, **kwargs)


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # aiosqlite opens a transaction lazily; we issue BEGIN IMMEDIATE ourselves for writers.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # One writer at a time, taken up front: no SQLITE_BUSY upgrade deadlocks mid-transaction.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"
