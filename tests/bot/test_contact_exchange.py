"""📞 交换电话 in the bot: on a search card, the other side's ✅ 同意 / ❌ 拒绝 card, the phones
shown only after consent, and old or forged buttons answered clearly (nothing changes)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.i18n import t
from bot.renderers.contact_exchange import ContactCb
from core.db.models import AuditLog, ContactExchange
from core.db.uow import Services
from core.domain.enums import Role
from tests.bot.harness import (
    BotDriver,
    answers,
    callback_for,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.bot.test_join import deliver
from tests.factories import (
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)

FOREMAN = tg_user(6501, name="张工")
DISPATCHER = tg_user(6502, name="李调度")
REGULATOR = tg_user(6503, name="小店区住建局")


@pytest.fixture
async def pair(services: Services) -> tuple[int, int]:
    """A foreman's open shortage and a labor company's idle posting of the same trade."""
    async with services.uow() as uow:
        builder = await make_enterprise(uow, name="山西五建集团", type="general_contractor")
        project = await make_project(uow, builder, name="太原南站项目")
        foreman = await make_account(
            uow, enterprise=builder, projects=[project], telegram_user_id=FOREMAN.id
        )
        labor = await make_enterprise(uow, name="晋阳劳务有限公司", county_code="140106")
        dispatcher = await make_account(
            uow, role=Role.DISPATCHER, enterprise=labor, telegram_user_id=DISPATCHER.id
        )
        await make_account(
            uow, role=Role.REGULATOR, region_code="140100", telegram_user_id=REGULATOR.id
        )
        shortage = await make_shortage(
            uow, project, posted_by_account_id=foreman.id, contact_phone="13911112222"
        )
        worker = await make_worker(uow, labor)
        idle = await make_idle_posting(
            uow, labor, [worker], posted_by_account_id=dispatcher.id, contact_phone="13833334444"
        )
        await uow.commit()
        return shortage.id, idle.id


async def reads(services: Services) -> int:
    async with services.uow() as uow:
        found = await uow.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "contact.read")
        )
        return int(found or 0)


async def test_from_a_search_card_the_other_side_agrees_and_both_see_the_phones(
    driver: BotDriver, services: Services, pair: tuple[int, int]
) -> None:
    shortage_id, idle_id = pair
    screen = await driver.send(FOREMAN, t("menu.search", "zh"))
    found = await driver.tap(FOREMAN, callback_for(last_reply_markup(screen), "查看结果"))
    label = next(x for x in inline_texts(last_reply_markup(found)) if x.startswith("1. "))
    card = await driver.tap(FOREMAN, callback_for(last_reply_markup(found), label))
    assert "13833334444" not in last_text(card)
    button = t("contacts.btn_request", "zh")
    assert button in inline_texts(last_reply_markup(card))

    sent = await driver.tap(FOREMAN, callback_for(last_reply_markup(card), "交换电话"))
    assert answers(sent)[0]["text"] == t("contacts.sent", "zh")
    # the same button again: one request per pair
    again = await driver.tap(FOREMAN, callback_for(last_reply_markup(card), "交换电话"))
    assert answers(again)[0]["text"] == t("error.contact_already_pending", "zh")

    ask = (await deliver(driver, services))[DISPATCHER.id][-1]
    assert "山西五建集团" in (ask.text or "")
    assert "13911112222" not in (ask.text or "")
    assert inline_texts(ask.reply_markup) == ["✅ 同意", "❌ 拒绝"]
    assert await reads(services) == 0

    sent = await driver.tap(DISPATCHER, callback_for(ask.reply_markup, "同意"))
    assert "13911112222" in last_text(sent)
    told = (await deliver(driver, services))[FOREMAN.id][-1]
    assert t("contacts.accepted", "zh", shortage=shortage_id, idle=idle_id) in (told.text or "")
    assert "13833334444" in (told.text or "")
    assert await reads(services) == 2

    # the old card's buttons, tapped again: answered, nothing changes
    for word in ("同意", "拒绝"):
        late = await driver.tap(DISPATCHER, callback_for(ask.reply_markup, word))
        assert answers(late)[0]["text"] == t("error.contact_answered", "zh")
    assert await reads(services) == 2


async def test_a_decline_keeps_the_phones_hidden(
    driver: BotDriver, services: Services, pair: tuple[int, int]
) -> None:
    shortage_id, idle_id = pair
    await driver.tap(FOREMAN, ContactCb(a="r", s=shortage_id, i=idle_id).pack())
    ask = (await deliver(driver, services))[DISPATCHER.id][-1]
    sent = await driver.tap(DISPATCHER, callback_for(ask.reply_markup, "拒绝"))
    assert last_text(sent) == t("contacts.you_declined", "zh")
    assert "13911112222" not in last_text(sent)
    told = (await deliver(driver, services))[FOREMAN.id][-1]
    assert told.text == t("contacts.declined", "zh", shortage=shortage_id, idle=idle_id)
    assert await reads(services) == 0


async def test_forged_and_unknown_buttons_are_answered_and_write_nothing(
    driver: BotDriver, services: Services, pair: tuple[int, int]
) -> None:
    shortage_id, idle_id = pair
    sent = await driver.tap(REGULATOR, ContactCb(a="r", s=shortage_id, i=idle_id).pack())
    assert answers(sent)[0]["text"] == t("error.contact_regulator", "zh")
    sent = await driver.tap(FOREMAN, ContactCb(a="y", id=999).pack())
    assert answers(sent)[0]["text"] == t("error.contact_not_found", "zh")
    sent = await driver.tap(FOREMAN, ContactCb(a="z").pack())
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    # the foreman answering its own request
    await driver.tap(FOREMAN, ContactCb(a="r", s=shortage_id, i=idle_id).pack())
    async with services.uow() as uow:
        exchange_id = await uow.session.scalar(select(ContactExchange.id))
    sent = await driver.tap(FOREMAN, ContactCb(a="y", id=exchange_id or 0).pack())
    assert answers(sent)[0]["text"] == t("error.contact_not_found", "zh")
    assert await reads(services) == 0
