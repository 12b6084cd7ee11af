"""PostgreSQL pool: a connection that died while idle is replaced before a unit of work gets it
(pinged after PING_AFTER_IDLE_S idle, not on every checkout)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from core.db import engine as engine_module
from core.db.engine import create_engine


async def test_a_connection_killed_while_idle_is_replaced(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if request.config.getoption("--db") == "sqlite":
        pytest.skip("PostgreSQL only")
    url = request.getfixturevalue("pg_database_url")
    eng, admin_engine = create_engine(url=url), create_engine(url=url)
    try:
        async with eng.connect() as conn:
            first = await conn.scalar(text("SELECT pg_backend_pid()"))
        async with admin_engine.connect() as admin:
            await admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            await admin.commit()
        monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_S", 0.0)
        async with eng.connect() as conn:
            again = await conn.scalar(text("SELECT pg_backend_pid()"))
            assert await conn.scalar(text("SELECT 1")) == 1
        assert again != first
    finally:
        await eng.dispose()
        await admin_engine.dispose()
