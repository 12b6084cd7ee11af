"""SqlStorage: aiogram FSM state in our database survives a restart, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.storage import SqlStorage, dialog_context_key, dialog_stack_key
from core.db.engine import create_engine, create_session_factory
from core.db.models import Base, FsmRecord
from tests.factories import make_id_number

BOT_ID = 42


class PostShortage(StatesGroup):
    trade = State()
    headcount = State()


def key_of(user_id: int = 1001, *, destiny: str = "default") -> StorageKey:
    return StorageKey(bot_id=BOT_ID, chat_id=user_id, user_id=user_id, destiny=destiny)


@pytest.fixture
def storage(engine: AsyncEngine) -> SqlStorage:
    return SqlStorage(create_session_factory(engine))


async def rows(engine: AsyncEngine) -> list[tuple[str, str | None, dict]]:
    async with create_session_factory(engine)() as session:
        result = await session.execute(select(FsmRecord.key, FsmRecord.state, FsmRecord.data))
        return [tuple(row) for row in result.all()]


async def test_state_and_data_written_are_read_back(storage: SqlStorage) -> None:
    key = key_of()
    await storage.set_state(key, PostShortage.trade)
    await storage.set_data(key, {"trade": "plasterer", "project_id": 7})

    assert await storage.get_state(key) == "PostShortage:trade"
    assert await storage.get_data(key) == {"trade": "plasterer", "project_id": 7}
    assert await storage.get_value(key, "trade") == "plasterer"


async def test_an_unknown_key_has_no_state_and_empty_data(storage: SqlStorage) -> None:
    assert await storage.get_state(key_of(555)) is None
    assert await storage.get_data(key_of(555)) == {}


async def test_update_data_merges_into_what_is_stored(storage: SqlStorage) -> None:
    key = key_of()
    await storage.set_data(key, {"trade": "mason"})
    merged = await storage.update_data(key, {"headcount": 4})

    assert merged == {"trade": "mason", "headcount": 4}
    assert await storage.get_data(key) == merged


async def test_the_key_names_bot_chat_user_and_destiny(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    await storage.set_state(key_of(1001), "A:b")
    await storage.set_state(key_of(1001, destiny="scene"), "C:d")

    assert sorted(k for k, _, _ in await rows(engine)) == [
        "fsm:42:1001:1001:default",
        "fsm:42:1001:1001:scene",
    ]
    assert await storage.get_state(key_of(1001)) == "A:b"


async def test_clearing_state_and_data_deletes_the_row(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    key = key_of()
    context = FSMContext(storage=storage, key=key)
    await context.set_state(PostShortage.headcount)
    await context.update_data(trade="welder")
    assert len(await rows(engine)) == 1

    await context.set_state(None)
    assert await rows(engine) == [(storage._key(key), None, {"trade": "welder"})]

    await context.clear()
    assert await rows(engine) == []
    assert await context.get_state() is None


async def test_setting_empty_state_on_a_new_key_writes_nothing(
    storage: SqlStorage, engine: AsyncEngine
) -> None:
    await storage.set_state(key_of(), None)
    await storage.set_data(key_of(), {})

    assert await rows(engine) == []


async def test_a_restart_mid_dialog_resumes_where_the_user_was(engine: AsyncEngine) -> None:
    key = key_of(2002)
    before = SqlStorage(create_session_factory(engine))
    await FSMContext(before, key).set_state(PostShortage.headcount)
    await FSMContext(before, key).update_data(
        trade="scaffolder", start=date(2026, 3, 5).isoformat()
    )
    await before.close()

    # a new process: a new engine on the same database, a new storage
    fresh_engine = create_engine(url=engine.url.render_as_string(hide_password=False))
    try:
        after = FSMContext(SqlStorage(create_session_factory(fresh_engine)), key)
        assert await after.get_state() == PostShortage.headcount.state
        assert await after.get_data() == {"trade": "scaffolder", "start": "2026-03-05"}
    finally:
        await fresh_engine.dispose()


async def test_concurrent_first_writes_to_one_key_all_succeed(
    engine: AsyncEngine, storage: SqlStorage
) -> None:
    # separate storages race the insert of a new row; the loser retries as an update
    storages = [SqlStorage(create_session_factory(engine)) for _ in range(6)]
    key = key_of(3003)
    await asyncio.gather(*(s.set_state(key, f"S:{n}") for n, s in enumerate(storages)))

    assert await storage.get_state(key) in {f"S:{n}" for n in range(6)}
    async with create_session_factory(engine)() as session:
        assert await session.scalar(select(func.count()).select_from(FsmRecord)) == 1


async def test_data_that_json_cannot_hold_is_refused(storage: SqlStorage) -> None:
    with pytest.raises(TypeError, match="JSON"):
        await storage.set_data(key_of(), {"start": date(2026, 3, 5)})
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(key_of(), [("a", 1)])  # type: ignore[arg-type]

    assert await storage.get_data(key_of()) == {}


async def test_a_raw_id_number_is_never_stored_in_dialog_data(storage: SqlStorage) -> None:
    id_number = make_id_number()
    with pytest.raises(ValueError, match="ID number"):
        await storage.set_data(key_of(), {"worker": {"id": id_number, "name": "王海东"}})
    with pytest.raises(ValueError, match="ID number"):
        await storage.update_data(key_of(), {"text": f"身份证 {id_number.lower()} 谢谢"})

    # the masked form and ordinary long numbers are fine
    masked = id_number[:6] + "********" + id_number[-4:]
    await storage.set_data(key_of(), {"id_masked": masked, "chat": 5_000_000_000_123})
    assert await storage.get_data(key_of()) == {"id_masked": masked, "chat": 5_000_000_000_123}


async def test_a_storage_with_its_own_sqlite_file_does_not_wait_on_an_open_transaction(
    tmp_path: Path,
) -> None:
    main = create_engine(url=f"sqlite+aiosqlite:///{(tmp_path / 'main.db').as_posix()}")
    fsm_url = f"sqlite+aiosqlite:///{(tmp_path / 'fsm.db').as_posix()}"
    storage = await SqlStorage.from_url(fsm_url)
    try:
        async with main.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with create_session_factory(main)() as handler_session:
            # a handler read something and has not committed: the main file is write-locked
            await handler_session.execute(select(func.count()).select_from(FsmRecord))
            await asyncio.wait_for(storage.set_state(key_of(), "A:b"), timeout=2)
            assert await storage.get_state(key_of()) == "A:b"
    finally:
        await storage.close()
        await main.dispose()

    reopened = await SqlStorage.from_url(fsm_url)  # a restart finds the dialog again
    try:
        assert await reopened.get_state(key_of()) == "A:b"
    finally:
        await reopened.close()


async def test_reading_the_state_brings_the_stack_and_the_top_dialogs_context_along(
    storage: SqlStorage,
) -> None:
    key = key_of()
    stack_key, context_key = dialog_stack_key(key), dialog_context_key(key, "top")
    await storage.set_state(key, PostShortage.trade)
    await storage.set_data(stack_key, {"intents": ["below", "top"]})
    await storage.set_data(context_key, {"state": "PostShortage:trade", "widget_data": {}})
    await storage.set_data(dialog_context_key(key, "below"), {"state": "x"})

    assert await storage.get_state(key) == PostShortage.trade.state

    assert storage.take_prefetched_data(stack_key) == {"intents": ["below", "top"]}
    assert storage.take_prefetched_data(context_key) == {
        "state": "PostShortage:trade",
        "widget_data": {},
    }
    assert storage.take_prefetched_data(dialog_context_key(key, "below")) is None  # not on top


async def test_a_chat_without_a_dialog_prefetches_no_context(storage: SqlStorage) -> None:
    key = key_of(2002)
    await storage.set_data(dialog_stack_key(key), {"intents": []})

    assert await storage.get_state(key) is None

    assert storage.take_prefetched_data(dialog_stack_key(key)) == {"intents": []}
    assert storage.take_prefetched_data(dialog_context_key(key, "top")) is None
