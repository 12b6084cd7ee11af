"""Fixtures: every integration test runs on a fresh SQLite file and on this machine's PostgreSQL.

`--db sqlite` or `--db postgres` narrows the run; PostgreSQL tests use a database of their own
(made per pytest session, dropped after), so parallel runs never collide.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.bootstrap import build_services
from core.config import Settings
from core.db.engine import create_engine
from core.db.models import Base
from core.db.uow import Services
from core.ports import FixedClock
from core.reference.loader import load_reference_data

PG_ADMIN_DSN = os.environ.get("JINGONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REFERENCE_TABLES = {"region", "trade", "grade"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db", default="all", choices=("all", "sqlite", "postgres"), help="databases to test on"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_kind" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        kinds = ["sqlite", "postgres"] if choice == "all" else [choice]
        metafunc.parametrize("db_kind", kinds, scope="session")


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A throw-away PostgreSQL database for this pytest session."""
    name = f"jingong_test_{uuid.uuid4().hex[:10]}"

    async def _admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    _run_in_thread(_admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    _run_in_thread(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _run_in_thread(coro: Coroutine[Any, Any, None]) -> None:
    # the fixture may be first requested from inside a running event loop
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, coro).result()


@pytest.fixture
def test_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-for-pii-0123456789",  # type: ignore[arg-type]
        bot_token="42:TEST",  # type: ignore[arg-type]
    )


@pytest.fixture
def clock() -> FixedClock:
    # 10:00 in Shanghai on a Wednesday
    return FixedClock(datetime(2026, 3, 4, 2, 0, tzinfo=UTC))


@pytest.fixture
async def engine(
    db_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[AsyncEngine]:
    if db_kind == "sqlite":
        url = f"sqlite+aiosqlite:///{(tmp_path / 'test.db').as_posix()}"
        eng = create_engine(url=url)
        async with eng.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
    else:
        url = request.getfixturevalue("pg_database_url")
        eng = create_engine(url=url)
        async with eng.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
            tables = ", ".join(
                f'"{t.name}"'
                for t in Base.metadata.sorted_tables
                if t.name not in REFERENCE_TABLES
            )
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield eng
    await eng.dispose()


@pytest.fixture
async def services(engine: AsyncEngine, test_settings: Settings, clock: FixedClock) -> Services:
    _, svc = build_services(test_settings, engine=engine, clock=clock)
    async with svc.uow() as uow:
        await load_reference_data(uow.session)
        await uow.commit()
    return svc
