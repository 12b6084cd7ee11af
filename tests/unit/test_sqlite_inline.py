"""The inline SQLite driver (core.db.sqlite_inline): writing transactions of one process queue
at the gate, another process's lock is waited for without blocking the event loop, a failed
transaction lets the next one in, and readers take no lock at all, so a read in progress never
holds up a write (the old 30-second self-deadlock)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db import engine as engine_module
from core.db.engine import READ_ONLY, create_engine, create_session_factory, read_only
from core.db.sqlite_inline import WriteGate


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[tuple[AsyncEngine, Path]]:
    path = tmp_path / "inline.db"
    engine = create_engine(url=f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT)"))
    yield engine, path
    await engine.dispose()


async def names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT name FROM item ORDER BY id"))
        return [row.name for row in rows]


async def test_another_process_holding_the_lock_does_not_stop_the_event_loop(
    db: tuple[AsyncEngine, Path],
) -> None:
    engine, path = db
    other = sqlite3.connect(path, isolation_level=None)  # as another process would
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO item (id, name) VALUES (1, 'theirs')")

    async def ours() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO item (id, name) VALUES (2, 'ours')"))

    twenty_ticks = asyncio.Event()

    async def ticker() -> None:
        for _ in range(20):
            await asyncio.sleep(0.01)
        twenty_ticks.set()

    insert = asyncio.create_task(ours())
    beat = asyncio.create_task(ticker())
    # a wait that blocked the loop would hold the ticker until the lock timeout (30 s), when
    # the insert has failed: the ticks come first only if the loop kept running
    await asyncio.wait_for(twenty_ticks.wait(), 10)
    assert not insert.done()  # still waiting for the lock
    other.execute("COMMIT")
    other.close()
    await asyncio.wait_for(insert, 5)
    beat.cancel()
    assert await names(engine) == ["theirs", "ours"]


async def test_transactions_of_one_process_wait_their_turn(
    db: tuple[AsyncEngine, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _ = db
    first_inside = asyncio.Event()
    release_first = asyncio.Event()

    async def first() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO item (id, name) VALUES (1, 'first')"))
            first_inside.set()
            await release_first.wait()

    async def second() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO item (id, name) VALUES (2, 'second')"))

    at_gate = 0
    second_at_gate = asyncio.Event()
    acquire = WriteGate.acquire

    async def acquire_and_tell(gate: WriteGate) -> None:
        nonlocal at_gate
        at_gate += 1
        if at_gate == 2:
            second_at_gate.set()
        await acquire(gate)

    monkeypatch.setattr(WriteGate, "acquire", acquire_and_tell)
    one = asyncio.create_task(first())
    await first_inside.wait()
    two = asyncio.create_task(second())
    await asyncio.wait_for(second_at_gate.wait(), 10)
    for _ in range(20):  # let it run on, had the gate let it through
        await asyncio.sleep(0)
    assert not two.done()  # queued at the gate, not failing on SQLITE_BUSY
    release_first.set()
    await asyncio.wait_for(asyncio.gather(one, two), 5)
    assert await names(engine) == ["first", "second"]


async def test_a_failed_transaction_lets_the_next_one_in(db: tuple[AsyncEngine, Path]) -> None:
    engine, _ = db
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO item (id, name) VALUES (1, 'kept')"))

    async def insert_then_fail() -> None:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO item (id, name) VALUES (2, 'rolled back')"))
            await conn.execute(text("INSERT INTO item (id, name) VALUES (1, 'duplicate')"))

    with pytest.raises(IntegrityError):
        await insert_then_fail()
    async with engine.begin() as conn:  # would wait forever if the gate were still held
        await asyncio.wait_for(
            conn.execute(text("INSERT INTO item (id, name) VALUES (3, 'next')")), 5
        )
    assert await names(engine) == ["kept", "next"]


async def test_a_lock_held_too_long_fails_with_database_is_locked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_LOCK_TIMEOUT_S", 0.3)
    path = tmp_path / "locked.db"
    engine = create_engine(url=f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY)"))
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(OperationalError, match="database is locked"):
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO item (id) VALUES (1)"))
        other.execute("ROLLBACK")
        other.close()
        async with engine.begin() as conn:  # the failed BEGIN left nothing held
            await conn.execute(text("INSERT INTO item (id) VALUES (1)"))
    finally:
        await engine.dispose()


async def test_a_read_in_progress_does_not_hold_up_a_second_connection_writing(
    db: tuple[AsyncEngine, Path],
) -> None:
    engine, _ = db
    async with engine.begin() as conn:
        await conn.execute(text("INSERT INTO item (id, name) VALUES (1, 'before')"))
    reading = asyncio.Event()
    written = asyncio.Event()
    seen_inside: list[list[str]] = []

    async def reader() -> None:
        async with read_only(engine).connect() as conn:  # a read-only unit of work
            rows = await conn.execute(text("SELECT name FROM item ORDER BY id"))
            seen_inside.append([row.name for row in rows])
            reading.set()
            await written.wait()  # the transaction stays open while the other one writes
            rows = await conn.execute(text("SELECT name FROM item ORDER BY id"))
            seen_inside.append([row.name for row in rows])

    async def writer() -> None:
        await reading.wait()
        async with engine.begin() as conn:  # a second connection, opened mid-read
            await conn.execute(text("INSERT INTO item (id, name) VALUES (2, 'during')"))
        written.set()

    # with the old lock-for-every-transaction driver this sat out the 30 s lock timeout
    async with asyncio.timeout(10):
        await asyncio.gather(reader(), writer())
    assert seen_inside == [["before"], ["before"]]  # the reader kept its snapshot
    assert await names(engine) == ["before", "during"]


async def test_a_read_only_unit_of_work_cannot_write(db: tuple[AsyncEngine, Path]) -> None:
    engine, _ = db
    factory = create_session_factory(engine)
    with pytest.raises(OperationalError, match="readonly"):
        async with factory(execution_options=READ_ONLY) as session:
            await session.execute(text("INSERT INTO item (id, name) VALUES (1, 'sneaked')"))
    async with factory() as session:  # the pooled connection writes again afterwards
        await session.execute(text("INSERT INTO item (id, name) VALUES (2, 'written')"))
        await session.commit()
    assert await names(engine) == ["written"]


async def test_a_second_writer_in_the_same_task_fails_at_once_instead_of_waiting_for_itself(
    db: tuple[AsyncEngine, Path],
) -> None:
    engine, _ = db
    async with asyncio.timeout(10):  # the old driver waited out its 30 s lock timeout here
        async with engine.begin() as first:
            await first.execute(text("INSERT INTO item (id, name) VALUES (1, 'first')"))
            with pytest.raises(OperationalError, match="already writing"):
                async with engine.begin() as second:
                    await second.execute(text("INSERT INTO item (id, name) VALUES (2, 'x')"))
    assert await names(engine) == ["first"]
