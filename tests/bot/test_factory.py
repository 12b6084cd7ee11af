"""The composition root: Bot defaults, storage and isolation choice, update dedup, commands."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from aiogram.client.telegram import PRODUCTION
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis
from sqlalchemy import select

from bot.factory import create_bot, create_dispatcher, set_bot_commands
from bot.i18n import t
from bot.isolation import KeyedEventIsolation
from bot.storage import SqlStorage
from core.config import Settings
from core.db.models import ProcessedUpdate
from core.db.uow import Services
from tests.bot.conftest import FOREMAN_TG, Company, new_invite
from tests.bot.harness import BotDriver, texts, tg_user

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_the_bot_speaks_html_and_can_use_a_local_bot_api_server(test_settings: Settings) -> None:
    bot = create_bot(test_settings)
    assert bot.default.parse_mode == ParseMode.HTML
    assert bot.session.api == PRODUCTION
    local = create_bot(test_settings.model_copy(update={"telegram_api_base": "http://tg:8081"}))
    assert local.session.api.base == "http://tg:8081/bot{token}/{method}"


async def test_fsm_lives_in_our_database_by_default(services: Services) -> None:
    dp = create_dispatcher(services.settings, services=services)
    assert isinstance(dp.storage, SqlStorage)
    assert isinstance(dp.fsm.events_isolation, KeyedEventIsolation)
    assert "my_chat_member" in dp.resolve_used_update_types()


async def test_with_redis_the_fsm_and_the_user_lock_live_in_redis(services: Services) -> None:
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings = services.settings.model_copy(update={"redis_url": REDIS_URL})
    dp = create_dispatcher(settings, services=services)
    try:
        assert isinstance(dp.storage, RedisStorage)
        assert isinstance(dp.fsm.events_isolation, RedisEventIsolation)
        assert dp.storage.state_ttl == dp.storage.data_ttl == timedelta(days=7)
    finally:
        await dp.storage.close()
        await redis.aclose()


async def test_a_dialog_runs_on_redis_storage_too(services: Services, company: Company) -> None:
    # as bot.factory builds it: aiogram-dialog keeps its stacks under keys of their own destiny
    key_builder = DefaultKeyBuilder(with_bot_id=True, with_destiny=True)
    storage = RedisStorage.from_url(REDIS_URL, key_builder=key_builder)
    try:
        await storage.redis.ping()
    except OSError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    driver = BotDriver(services, storage=storage)
    user = tg_user(10**9 + uuid.uuid4().int % 10**6)  # no clash with other runs on this Redis
    try:
        invite = await new_invite(
            services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
        )
        await driver.send(user, f"/start {invite.token}")
        assert await driver.state(user) == "Onboarding:phone"
        await driver.share_contact(user, "13912345678", owner_id=user.id)
        await driver.send(user, "📝 发布缺工")
        assert await driver.state(user) == "PostShortage:trade"
        await driver.send(user, "/cancel")
        assert await driver.state(user) is None
    finally:
        await driver.close()


async def test_an_update_stored_by_the_webhook_as_received_is_processed_once(
    driver: BotDriver, services: Services, company: Company
) -> None:
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    update = driver.message(tg_user(FOREMAN_TG), text=f"/start {invite.token}")
    async with services.uow() as uow:
        uow.session.add(
            ProcessedUpdate(
                update_id=update.update_id, received_at=uow.now(), raw="{}", status="received"
            )
        )
        await uow.commit()

    first = await driver.feed(update)
    again = await driver.feed(update)

    assert texts(first) == [t("start.welcome", "zh", name="张伟")]
    assert again == []
    async with services.uow() as uow:
        status = await uow.session.scalar(
            select(ProcessedUpdate.status).where(ProcessedUpdate.update_id == update.update_id)
        )
    assert status == "done"


async def test_the_command_menu_is_set_in_both_languages(driver: BotDriver) -> None:
    await set_bot_commands(driver.bot)
    calls = [s.params for s in driver.requests if s.method == "setMyCommands"]
    assert [c.get("language_code") for c in calls] == [None, "en"]  # zh is the default list
    zh = {c.command: c.description for c in calls[0]["commands"]}
    assert zh["cancel"] == t("command.cancel", "zh")
    assert {c.command for c in calls[1]["commands"]} == set(zh)
