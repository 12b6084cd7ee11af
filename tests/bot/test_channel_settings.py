"""⚙️ 设置 of a regulator: the delivery channels, masked, with a test button each."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select, update

from bot.handlers.channels import ChannelTestCb
from bot.i18n import t
from core.channels.service import add_channel
from core.channels.targets import ChannelKind
from core.db.models import ChannelMessage, DeliveryChannel
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from tests.bot.conftest import REGULATOR_TG
from tests.bot.harness import (
    BotDriver,
    answers,
    callback_for,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.factories import make_account

REGULATOR = tg_user(REGULATOR_TG)
KEY = "693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"


async def _regulator_with_channels(services: Services) -> tuple[int, int, int]:
    async with services.uow() as uow:
        account = await make_account(
            uow, role=Role.REGULATOR, region_code="140100", telegram_user_id=REGULATOR_TG
        )
        account.digest_time = time(8, 0)
        other = await make_account(uow, role=Role.REGULATOR, region_code="140700")
        await uow.commit()
        account_id, other_id = account.id, other.id
    ids = []
    for owner, kind, value in (
        (
            account_id,
            ChannelKind.WECOM,
            f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={KEY}",
        ),
        (account_id, ChannelKind.EMAIL, "ju.zhang@jsj.example.cn"),
        (other_id, ChannelKind.EMAIL, "boss@jinzhong.example.cn"),
    ):
        async with services.uow() as uow:
            ids.append(
                (
                    await add_channel(
                        uow, Actor.system(), account_id=owner, kind=kind, value=value
                    )
                ).id
            )
    async with services.uow() as uow:
        await uow.session.execute(
            update(DeliveryChannel).where(DeliveryChannel.id == ids[1]).values(status="broken")
        )
        await uow.commit()
    return ids[0], ids[1], ids[2]


async def _test_rows(services: Services) -> list[int]:
    async with services.uow() as uow:
        return list(
            (
                await uow.session.scalars(
                    select(ChannelMessage.channel_id).order_by(ChannelMessage.id)
                )
            ).all()
        )


async def test_a_regulator_sees_the_channels_masked_and_sends_a_test(
    driver: BotDriver, services: Services
) -> None:
    wecom, _mail, _ = await _regulator_with_channels(services)
    sent = await driver.send(REGULATOR, "⚙️ 设置")
    text = last_text(sent)
    assert t("channels.settings_title", "zh") in text
    assert "💬 企业微信 key=693a…5aaa" in text
    assert "✉️ j***@jsj.example.cn（已失效）" in text
    assert KEY not in text
    assert "ju.zhang" not in text
    markup = last_reply_markup(sent)
    assert [b for b in inline_texts(markup) if b.startswith("🔔")] == [
        "🔔 测试 企业微信 key=693a…5aaa",
        "🔔 测试 j***@jsj.example.cn",
    ]
    sent = await driver.tap(REGULATOR, callback_for(markup, "🔔 测试 企业微信"))
    assert answers(sent)[0]["text"] == t(
        "channels.test_queued", "zh", label="企业微信 key=693a…5aaa"
    )
    assert await _test_rows(services) == [wecom]


async def test_a_forged_test_button_for_another_bureaus_channel_queues_nothing(
    driver: BotDriver, services: Services
) -> None:
    _, _, others = await _regulator_with_channels(services)
    sent = await driver.tap(REGULATOR, ChannelTestCb(id=others).pack())
    assert answers(sent)[0]["show_alert"] is True
    assert "boss" not in str(answers(sent)[0]["text"])
    assert await _test_rows(services) == []


async def test_a_regulator_without_channels_is_told_how_they_are_added(
    driver: BotDriver, services: Services
) -> None:
    async with services.uow() as uow:
        await make_account(
            uow, role=Role.REGULATOR, region_code="140100", telegram_user_id=REGULATOR_TG
        )
        await uow.commit()
    text = last_text(await driver.send(REGULATOR, "⚙️ 设置"))
    assert t("channels.settings_none", "zh") in text
