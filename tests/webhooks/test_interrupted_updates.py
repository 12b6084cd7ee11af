"""A process dies between an update's claim and the end of its handler (issue 15, defect 5):
the action may be half done and is not run again, so the user is told, in their language,
once: "您的上一步可能没有完成，请检查后重试"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from aiogram import Bot
from aiogram.methods import TelegramMethod
from sqlalchemy import select

from bot.factory import create_bot, create_dispatcher
from bot.i18n import load_i18n
from bot.sender import OutboxSender
from core.config import Settings
from core.db.models import OutboxMessage, ProcessedUpdate
from core.db.uow import Services
from core.domain.enums import Role
from core.ports import FixedClock
from core.services.digest_schedule import run_maintenance
from core.services.update_progress import CLAIM_TIMEOUT, INTERRUPTED_KIND
from tests.bot.harness import RecordingSession
from tests.factories import make_account
from tests.webhooks.conftest import (
    WEBHOOK_PATH,
    WEBHOOK_SECRET,
    open_web,
    tg_update,
    web_settings_of,
)
from webhooks.app import create_app

EN_USER, ZH_USER = 9201, 9202


class HangingSession(RecordingSession):
    """Telegram never answers a sendMessage: the handler hangs after its claim committed."""

    def __init__(self) -> None:
        super().__init__()
        self.hanging = 0
        self.all_hang = asyncio.Event()
        self.expected = 2

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        if method.__api_method__ == "sendMessage":
            self.hanging += 1
            if self.hanging == self.expected:
                self.all_hang.set()
            await asyncio.Event().wait()  # until the process "dies"
        return await super().make_request(bot, method, timeout)


@asynccontextmanager
async def process_that_dies(services: Services, settings: Settings) -> AsyncIterator[Any]:
    """A webhook process whose handlers hang; leaving the block kills it mid-handler (its
    update tasks are cancelled, as a kill would stop them: nothing after the claim runs)."""
    session = HangingSession()
    tg_bot = create_bot(settings, session=session)
    app = create_app(
        settings,
        services=services,
        bot=tg_bot,
        dispatcher=create_dispatcher(settings, services=services),
    )
    async with app.router.lifespan_context(app):
        yield app, session
        await app.state.intake.close(grace=0)


async def status_of(services: Services) -> dict[int, tuple[str, int | None]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(ProcessedUpdate.update_id, ProcessedUpdate.status, ProcessedUpdate.account_id)
        )
        return {update_id: (status, account) for update_id, status, account in rows}


async def notices(services: Services) -> list[int]:
    async with services.uow() as uow:
        return list(
            await uow.session.scalars(
                select(OutboxMessage.account_id).where(OutboxMessage.kind == INTERRUPTED_KIND)
            )
        )


async def test_a_user_whose_update_a_crash_cut_short_is_told_once_in_their_language(
    services: Services, test_settings: Settings, clock: FixedClock
) -> None:
    settings = web_settings_of(test_settings)
    async with services.uow() as uow:
        en = await make_account(uow, role=Role.FOREMAN, telegram_user_id=EN_USER, locale="en")
        zh = await make_account(uow, role=Role.FOREMAN, telegram_user_id=ZH_USER, locale="zh")
        await uow.commit()

    async with process_that_dies(services, settings) as (app, session):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for update in (tg_update(301, EN_USER, "/help"), tg_update(302, ZH_USER, "/help")):
                response = await client.post(
                    WEBHOOK_PATH,
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
                )
                assert response.status_code == 200
        await asyncio.wait_for(session.all_hang.wait(), 10)
    assert await status_of(services) == {301: ("claimed", en.id), 302: ("claimed", zh.id)}

    # restarted at once: a claim this young may be a live process's, so nobody is told yet
    async for _web in open_web(services, settings):
        pass
    assert await notices(services) == []

    clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
    for _restart in range(2):  # the second start finds nothing left to tell
        async for _web in open_web(services, settings):
            pass
    await run_maintenance(services, clock.now())  # nor does the periodic pass
    assert sorted(await notices(services)) == sorted([en.id, zh.id])
    assert await status_of(services) == {301: ("abandoned", en.id), 302: ("abandoned", zh.id)}

    delivered = RecordingSession()
    i18n = load_i18n()
    sender = OutboxSender(
        create_bot(settings, session=delivered),
        services,
        translate=lambda key, locale, **kw: i18n.gettext(key, locale=locale).format(**kw),
    )
    await sender.drain(timeout=10)
    sent = {s.params["chat_id"]: s.params["text"] for s in delivered.requests}
    assert len(delivered.requests) == 2
    assert sent[ZH_USER] == "您的上一步可能没有完成，请检查后重试"
    assert (
        sent[EN_USER] == "Your last step may not have been completed. Please check and try again."
    )


async def test_a_claim_left_behind_is_told_by_the_maintenance_job_when_no_process_restarts(
    services: Services, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        account = await make_account(uow, telegram_user_id=ZH_USER)
        uow.session.add(
            ProcessedUpdate(
                update_id=401,
                received_at=clock.now(),
                status="claimed",
                claimed_at=clock.now(),
                account_id=account.id,
            )
        )
        await uow.commit()

    before = await run_maintenance(services, clock.now())
    clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
    after = await run_maintenance(services, clock.now())
    again = await run_maintenance(services, clock.now())

    assert (before.interrupted_told, after.interrupted_told, again.interrupted_told) == (0, 1, 0)
    assert await notices(services) == [account.id]


async def test_an_update_handled_to_the_end_is_done_and_nobody_is_told(
    services: Services, test_settings: Settings, clock: FixedClock
) -> None:
    settings = web_settings_of(test_settings)
    async with services.uow() as uow:
        account = await make_account(uow, telegram_user_id=ZH_USER)
        await uow.commit()
    async for web in open_web(services, settings):
        await web.post_update(tg_update(501, ZH_USER, "/help"))
        await web.settle()
        assert web.calls("sendMessage")
    clock.advance(seconds=CLAIM_TIMEOUT.total_seconds() + 1)
    await run_maintenance(services, clock.now())

    assert await status_of(services) == {501: ("done", account.id)}
    assert await notices(services) == []
