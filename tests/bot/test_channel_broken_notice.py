"""A WeCom robot that refuses its key: the regulator reads it once in Telegram, in their
language, however often the broken channel is tried again."""

from __future__ import annotations

import httpx
from aiogram import Bot

import bot.renderers  # noqa: F401 - the outbox renderers the sender needs
from bot.i18n import t
from bot.sender import OutboxSender
from core.channels.sender import ChannelSender
from core.channels.service import add_channel, queue_test
from core.channels.targets import ChannelKind
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from sandbox.robots import RobotState, create_robot_app
from tests.bot.test_sender import ScriptedSession
from tests.factories import make_account

KEY = "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"


async def test_the_account_is_told_once_in_its_language_that_the_robot_is_broken(
    services: Services,
) -> None:
    async with services.uow() as uow:
        account = await make_account(
            uow, role=Role.REGULATOR, region_code="140100", telegram_user_id=6001, locale="en"
        )
        await uow.commit()
        account_id = account.id
    async with services.uow() as uow:
        channel = await add_channel(
            uow,
            Actor.system(),
            account_id=account_id,
            kind=ChannelKind.WECOM,
            value=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
        )
    robots = RobotState()  # the key is unknown there: errcode 93000
    transport = httpx.ASGITransport(app=create_robot_app(robots))
    session = ScriptedSession()
    telegram = OutboxSender(Bot("42:TEST", session=session), services, channels=False)
    async with httpx.AsyncClient(transport=transport) as http:
        for _ in range(2):  # the broken channel is tested again later: no second notice
            async with services.uow() as uow:
                await queue_test(uow, Actor.system(), channel.id)
            await ChannelSender(services, http=http).drain()
            await telegram.drain()
    assert session.texts(6001) == [
        t("channels.broken_notice", "en", label="企业微信 key=693a…5aaa")
    ]
    assert KEY not in str(session.texts())
