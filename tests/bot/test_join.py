"""申请入驻 in the bot, from an empty database (migrations and reference data only): a guest
applies, the county's regulator approves or rejects from the card, the applicant is told;
every wrong answer, /cancel, a stale or out-of-region tap."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import User
from sqlalchemy import func, select

from bot.i18n import t
from bot.sender import OutboxSender, SenderConfig
from core.db.models import (
    Account,
    Enterprise,
    EnterpriseApplication,
    OutboxMessage,
    ShortagePosting,
)
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.services.enterprise_applications import ApplyCommand, submit_application
from core.services.posting_approval import set_postings_need_approval
from tests.bot.conftest import new_invite
from tests.bot.harness import (
    BotDriver,
    Sent,
    answers,
    callback_for,
    inline_texts,
    last_reply_markup,
    last_text,
    reply_keyboard_rows,
    reply_keyboard_texts,
    texts,
    tg_user,
)
from tests.factories import make_account, make_enterprise, make_project, make_uscc

FAST = SenderConfig(global_rate=1000, chat_rate=1000, group_rate=1000, poll_interval=0.05)
APPLY = "🏢 申请入驻"
APPLICANT = tg_user(6101, name="李明")
COUNTY_REG = tg_user(6201, name="小店区住建局")
CITY_REG = tg_user(6202, name="太原市住建局")
OTHER_REG = tg_user(6203, name="晋中市住建局")
USCC = make_uscc("140105", 11)
NAME = "山西晋工劳务有限公司"


async def regulators(services: Services) -> None:
    async with services.uow() as uow:
        for user, region in ((COUNTY_REG, "140105"), (CITY_REG, "140100"), (OTHER_REG, "140700")):
            await make_account(
                uow,
                role=Role.REGULATOR,
                region_code=region,
                telegram_user_id=user.id,
                name=user.first_name,
            )
        await uow.commit()


async def deliver(driver: BotDriver, services: Services) -> dict[int, list[Sent]]:
    """Run the real sender over the outbox; what each chat received."""
    before = len(driver.requests)
    await OutboxSender(driver.bot, services, config=FAST).drain(timeout=10)
    received: dict[int, list[Sent]] = {}
    for sent in driver.requests[before:]:
        if sent.method == "sendMessage":
            received.setdefault(int(sent.params["chat_id"]), []).append(sent)
    return received


async def tap(driver: BotDriver, user: User, sent: list[Sent], text_part: str) -> list[Sent]:
    """Press a button of the last message with inline buttons, on that message."""
    shown = [
        s
        for s in sent
        if s.method in ("sendMessage", "editMessageText")
        and hasattr(s.reply_markup, "inline_keyboard")
    ][-1]
    message_id = shown.params.get("message_id") or 1
    data = callback_for(shown.reply_markup, text_part)
    return await driver.tap(user, data, message_id=message_id)


async def count(services: Services, model: Any) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def fill_in(driver: BotDriver, user: User = APPLICANT, uscc: str = USCC) -> list[Sent]:
    """All six steps with good answers; returns what the summary step sent."""
    await driver.send(user, APPLY)
    await driver.send(user, NAME)
    sent = await driver.send(user, uscc)
    sent = await tap(driver, user, sent, "劳务企业")
    sent = await tap(driver, user, sent, "太原市")
    sent = await tap(driver, user, sent, "小店区")
    return await driver.send(user, "李明 138-0013-8000")


async def test_a_labor_company_applies_the_county_approves_and_its_admin_has_the_menu(
    driver: BotDriver, services: Services
) -> None:
    await regulators(services)
    sent = await driver.send(APPLICANT, "/start")
    assert reply_keyboard_rows(last_reply_markup(sent)) == [[APPLY]]

    sent = await driver.send(APPLICANT, APPLY)
    assert t("join.intro", "zh") in texts(sent)
    assert last_text(sent) == t("join.ask_name", "zh")
    # every wrong answer: said, and the same step asked again
    sent = await driver.send(APPLICANT, "晋")
    assert t("error.enterprise_name_short", "zh", min=2) in last_text(sent)
    assert t("join.ask_name", "zh") in last_text(sent)
    sent = await driver.send(APPLICANT, "A" * 200)
    assert t("join.ask_name", "zh") in last_text(sent)
    assert last_text(sent) != t("join.ask_name", "zh")  # with the reason above it
    sent = await driver.send(APPLICANT, NAME)
    assert last_text(sent) == t("join.ask_uscc", "zh")
    bad = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    sent = await driver.send(APPLICANT, bad)
    assert t("error.bad_uscc", "zh", code=bad) in last_text(sent)
    sent = await driver.send(APPLICANT, USCC.lower())
    assert inline_texts(last_reply_markup(sent))[:3] == ["施工总承包", "专业分包", "劳务企业"]
    sent = await tap(driver, APPLICANT, sent, "劳务企业")
    assert "太原市" in inline_texts(last_reply_markup(sent))
    sent = await tap(driver, APPLICANT, sent, "太原市")
    assert last_text(sent) == t("join.ask_county", "zh", city="太原市")
    sent = await tap(driver, APPLICANT, sent, "小店区")
    assert last_text(sent) == t("join.ask_contact", "zh")
    sent = await driver.send(APPLICANT, "李明")
    assert t("error.contact_needs_phone", "zh") in last_text(sent)
    sent = await driver.send(APPLICANT, "李明 138-0013-8000")
    summary = last_text(sent)
    assert NAME in summary
    assert USCC in summary
    assert "太原市 小店区" in summary
    assert "13800138000" in summary
    assert await count(services, EnterpriseApplication) == 0  # nothing before Submit

    sent = await tap(driver, APPLICANT, sent, "提交申请")
    assert last_text(sent) == t("join.submitted", "zh", name=NAME)
    assert await driver.state(APPLICANT) is None
    # waiting: /start says so, and 申请入驻 again is refused
    assert texts(await driver.send(APPLICANT, "/start")) == [
        t("join.pending_status", "zh", name=NAME)
    ]
    assert texts(await driver.send(APPLICANT, APPLY)) == [
        t("join.pending_status", "zh", name=NAME)
    ]
    # an applicant is no user yet: the menu of a dispatcher is not theirs
    projects = t("menu.projects", "zh")
    assert texts(await driver.send(APPLICANT, projects)) == [t("access.denied", "zh")]

    received = await deliver(driver, services)
    assert set(received) == {COUNTY_REG.id}  # the county's bureau, not the city's
    card = received[COUNTY_REG.id][-1]
    assert NAME in (card.text or "")
    assert "138****8000" in (card.text or "")
    assert "13800138000" not in (card.text or "")
    assert inline_texts(card.reply_markup) == ["✅ 批准", "❌ 驳回"]

    approve = callback_for(card.reply_markup, "批准")
    sent = await driver.tap(COUNTY_REG, approve)
    assert t("join.card_approved", "zh") in last_text(sent)
    # the same button again: already decided, said clearly
    again = await driver.tap(COUNTY_REG, approve)
    assert answers(again)[0]["text"] == t("error.application_approved", "zh", name=NAME)

    received = await deliver(driver, services)
    notice = received[APPLICANT.id][-1]
    assert notice.text == t("join.approved", "zh", name=NAME)
    menu = reply_keyboard_texts(notice.reply_markup)
    assert projects in menu
    assert t("menu.invite_foreman", "zh") in menu
    sent = await driver.send(APPLICANT, "/start")
    assert reply_keyboard_texts(last_reply_markup(sent)) == menu
    async with services.uow() as uow:
        company = (await uow.session.scalars(select(Enterprise))).one()
        admin = (
            await uow.session.scalars(select(Account).where(Account.telegram_user_id == 6101))
        ).one()
        assert (company.name, company.uscc, company.type, company.county_code) == (
            NAME,
            USCC,
            "labor_service",
            "140105",
        )
        assert (admin.role, admin.is_admin, admin.enterprise_id, admin.phone) == (
            "dispatcher",
            True,
            company.id,
            "13800138000",
        )


async def test_a_rejection_asks_a_reason_and_the_applicant_is_told_and_may_apply_again(
    driver: BotDriver, services: Services
) -> None:
    await regulators(services)
    sent = await tap(driver, APPLICANT, await fill_in(driver), "提交申请")
    assert last_text(sent) == t("join.submitted", "zh", name=NAME)
    card = (await deliver(driver, services))[COUNTY_REG.id][-1]

    sent = await driver.tap(COUNTY_REG, callback_for(card.reply_markup, "驳回"))
    assert t("join.ask_reason", "zh", name=NAME) in last_text(sent)
    sent = await driver.send(COUNTY_REG, "理" * 201)  # too long: asked again
    assert t("join.ask_reason", "zh", name=NAME) in last_text(sent)
    sent = await driver.send(COUNTY_REG, "营业执照与名称不符")
    assert t("join.card_rejected", "zh", reason="营业执照与名称不符") in last_text(sent)
    # the approve button of the same card, tapped afterwards
    late = await driver.tap(COUNTY_REG, callback_for(card.reply_markup, "批准"))
    assert answers(late)[0]["text"] == t("error.application_rejected", "zh", name=NAME)
    assert await count(services, Enterprise) == 0

    notice = (await deliver(driver, services))[APPLICANT.id][-1]
    assert notice.text == t("join.rejected", "zh", name=NAME, reason="营业执照与名称不符")
    assert reply_keyboard_rows(notice.reply_markup) == [[APPLY]]
    sent = await driver.send(APPLICANT, APPLY)  # free to apply again
    assert last_text(sent) == t("join.ask_name", "zh")


async def test_a_regulator_of_another_region_is_refused_and_nothing_changes(
    driver: BotDriver, services: Services
) -> None:
    await regulators(services)
    async with services.uow() as uow:
        filed = await submit_application(
            uow,
            ApplyCommand(
                telegram_user_id=APPLICANT.id,
                chat_id=APPLICANT.id,
                language_code="zh",
                name=NAME,
                uscc=USCC,
                kind="labor",
                county_code="140105",
                contact="李明 13800138000",
            ),
        )
    card = (await deliver(driver, services))[COUNTY_REG.id][-1]
    for data in (callback_for(card.reply_markup, "批准"), callback_for(card.reply_markup, "驳回")):
        sent = await driver.tap(OTHER_REG, data)
        assert answers(sent)[0]["text"] == t("join.review_other_region", "zh", region="小店区")
    async with services.uow() as uow:
        row = await uow.session.get(EnterpriseApplication, filed.id)
        assert row is not None
        assert row.status == "pending"
    # the city's bureau holds the county: it may decide
    sent = await driver.tap(CITY_REG, callback_for(card.reply_markup, "批准"))
    assert t("join.card_approved", "zh") in last_text(sent)


async def test_a_registered_or_applied_uscc_is_refused_at_its_step(
    driver: BotDriver, services: Services
) -> None:
    await regulators(services)
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="先登记的公司")
        ent.uscc = USCC
        await uow.commit()
    await driver.send(APPLICANT, APPLY)
    await driver.send(APPLICANT, NAME)
    sent = await driver.send(APPLICANT, USCC)
    assert t("error.uscc_taken", "zh", code=USCC) in last_text(sent)
    assert t("join.ask_uscc", "zh") in last_text(sent)
    # somebody else's pending application holds this one
    other = tg_user(6102)
    await tap(driver, other, await fill_in(driver, other, make_uscc("140105", 12)), "提交申请")
    sent = await driver.send(APPLICANT, make_uscc("140105", 12))
    assert t("error.uscc_applied", "zh", code=make_uscc("140105", 12)) in last_text(sent)


@pytest.mark.parametrize("how", ["/cancel", "button"])
async def test_cancel_at_a_step_leaves_nothing_and_closes_the_gate(
    driver: BotDriver, services: Services, how: str
) -> None:
    await driver.send(APPLICANT, APPLY)
    sent = await driver.send(APPLICANT, NAME)
    if how == "/cancel":
        sent = await driver.send(APPLICANT, "/cancel")
    else:
        sent = await tap(driver, APPLICANT, sent, "取消")
    assert t("common.cancelled", "zh") in texts(sent)
    assert reply_keyboard_rows(last_reply_markup(sent)) == [[APPLY]]
    assert await driver.state(APPLICANT) is None
    # a guest again: typed text meets the access gate, not a dialog step
    assert texts(await driver.send(APPLICANT, "山西某公司")) == [t("access.denied", "zh")]
    assert await count(services, EnterpriseApplication) == 0
    assert await count(services, OutboxMessage) == 0


async def test_a_forged_county_of_another_city_is_not_taken(
    driver: BotDriver, services: Services
) -> None:
    await driver.send(APPLICANT, APPLY)
    await driver.send(APPLICANT, NAME)
    sent = await driver.send(APPLICANT, USCC)
    sent = await tap(driver, APPLICANT, sent, "劳务企业")
    sent = await tap(driver, APPLICANT, sent, "太原市")
    sent = await driver.dialog_tap(APPLICANT, "county:140702")  # 晋中 榆次区
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert await driver.state(APPLICANT) == "Join:county"


async def test_from_an_empty_database_to_a_foremans_posting_approved_by_the_new_admin(
    driver: BotDriver, services: Services
) -> None:
    """The issue's path, up to 需求待批: apply → the county approves → the admin's company gets
    a project and a foreman (CLI and admin screens, elsewhere) and turns 需求待批 on → the
    foreman's shortage waits → the admin changes the headcount → published for the foreman."""
    await regulators(services)
    await tap(driver, APPLICANT, await fill_in(driver), "提交申请")
    card = (await deliver(driver, services))[COUNTY_REG.id][-1]
    await driver.tap(COUNTY_REG, callback_for(card.reply_markup, "批准"))
    await deliver(driver, services)

    foreman = tg_user(6301, name="张工")
    async with services.uow() as uow:
        company = (await uow.session.scalars(select(Enterprise))).one()
        project = await make_project(uow, company, name="小店区保障房项目")
        await make_account(
            uow,
            role=Role.FOREMAN,
            enterprise=company,
            projects=[project],
            telegram_user_id=foreman.id,
            name="张工",
            phone="13912345678",
        )
        await uow.commit()
        company_id = company.id
    async with services.uow() as uow:  # `jingong enterprise approval ID on`
        await set_postings_need_approval(uow, Actor.system(), company_id, True)

    sent = await driver.send(foreman, t("menu.post_shortage", "zh"))
    for button in ("抹灰工", "三级", "4", "¥4,000", t("shortage.use_contact", "zh")):
        sent = await tap(driver, foreman, sent, button)
    sent = await tap(driver, foreman, sent, t("shortage.confirm", "zh"))
    assert last_text(sent).startswith("📨")
    assert await count(services, ShortagePosting) == 0

    request_card = (await deliver(driver, services))[APPLICANT.id][-1]
    assert "小店区保障房项目" in (request_card.text or "")
    assert "张工" in (request_card.text or "")
    sent = await driver.tap(APPLICANT, callback_for(request_card.reply_markup, "改人数"))
    assert t("approval.ask_headcount", "zh") in last_text(sent)
    sent = await driver.send(APPLICANT, "0")  # refused, asked again
    assert t("approval.ask_headcount", "zh") in last_text(sent)
    sent = await driver.send(APPLICANT, "3")
    assert t("approval.ask_price", "zh") in last_text(sent)
    sent = await tap(driver, APPLICANT, sent, t("approval.keep", "zh"))
    async with services.uow() as uow:
        posted = (await uow.session.scalars(select(ShortagePosting))).one()
        assert (posted.headcount, posted.price_fen) == (3, 400_000)
        shortage_id = posted.id
    assert t("approval.card_approved", "zh", shortage=shortage_id) in last_text(sent)

    told = (await deliver(driver, services))[foreman.id][-1]
    first_line = (told.text or "").splitlines()[0]
    assert first_line == t("approval.approved", "zh", id=1, shortage=shortage_id)
    assert t("approval.headcount_changed", "zh", before=4) in (told.text or "")


async def test_an_applicant_invited_meanwhile_can_still_redeem_the_invite(
    driver: BotDriver, services: Services
) -> None:
    """Regression: the applicant's placeholder account held the Telegram user, so an invite
    link was refused as "already bound"."""
    await regulators(services)
    await tap(driver, APPLICANT, await fill_in(driver), "提交申请")
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="别家劳务公司")
        await uow.commit()
        ent_id = ent.id
    invite = await new_invite(services, role=Role.DISPATCHER, enterprise_id=ent_id)
    sent = await driver.command(APPLICANT, "start", invite.token)
    assert last_text(sent) == t("start.welcome", "zh", name="张伟")
    async with services.uow() as uow:
        bound = (
            await uow.session.scalars(select(Account).where(Account.telegram_user_id == 6101))
        ).one()
        assert (bound.role, bound.enterprise_id) == ("dispatcher", ent_id)


async def test_a_uscc_registered_meanwhile_is_refused_and_the_card_can_still_reject(
    driver: BotDriver, services: Services
) -> None:
    await regulators(services)
    await tap(driver, APPLICANT, await fill_in(driver), "提交申请")
    card = (await deliver(driver, services))[COUNTY_REG.id][-1]
    async with services.uow() as uow:  # `jingong enterprise add` with the same code
        ent = await make_enterprise(uow, name="先登记的公司")
        ent.uscc = USCC
        await uow.commit()
    sent = await driver.tap(COUNTY_REG, callback_for(card.reply_markup, "批准"))
    assert answers(sent)[0]["text"] == t("error.uscc_taken", "zh", code=USCC)
    assert not [s for s in sent if s.method == "editMessageReplyMarkup"]  # buttons stay
    await driver.tap(COUNTY_REG, callback_for(card.reply_markup, "驳回"))
    sent = await driver.send(COUNTY_REG, "该企业已登记")
    assert t("join.card_rejected", "zh", reason="该企业已登记") in last_text(sent)
    assert await count(services, Enterprise) == 1
