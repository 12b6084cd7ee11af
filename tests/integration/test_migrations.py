"""Alembic: upgrade → downgrade → upgrade on both databases; models match the migrations."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.engine import create_engine
from core.db.migrate import downgrade, upgrade
from core.db.models import Base


async def _fresh_engine(engine: AsyncEngine) -> AsyncEngine:
    """The fixture's engine already has create_all's tables: start from an empty schema."""
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.drop_all)
        if conn.dialect.name == "postgresql":
            await conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    return create_engine(url=engine.url.render_as_string(hide_password=False))


async def test_upgrade_downgrade_upgrade_leaves_the_schema_the_models_describe(
    engine: AsyncEngine,
) -> None:
    eng = await _fresh_engine(engine)
    try:
        await upgrade(eng)
        await downgrade(eng, "base")
        async with eng.connect() as conn:
            tables = await conn.run_sync(lambda c: inspect(c).get_table_names())
        assert set(tables) <= {"alembic_version"}
        await upgrade(eng)

        def _diff(connection: object) -> list[object]:
            ctx = MigrationContext.configure(connection, opts={"compare_type": False})  # type: ignore[arg-type]
            return compare_metadata(ctx, Base.metadata)

        async with eng.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == []
    finally:
        await eng.dispose()
