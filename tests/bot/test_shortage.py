"""📝 Post a shortage through the bot: every step, its bad inputs, Edit / Cancel, the row written
on Confirm (once), and the matches shown right after."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from aiogram.types import User
from sqlalchemy import func, select

from bot.callbacks import CancelCb
from bot.callbacks_deals import ProposeCb
from bot.i18n import t
from core.db.models import Account, Enterprise, Project, ShortagePosting
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.services.enterprises import suspend_enterprise
from core.services.guide_prices import set_guide_price
from tests.bot.conftest import DISPATCHER_TG, FOREMAN_TG, Company
from tests.bot.harness import (
    BotDriver,
    Sent,
    answers,
    callback_for,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.factories import make_account, make_enterprise, make_idle_posting, make_worker

POST = {"zh": "📝 发布缺工", "en": "📝 Post shortage"}


@dataclass(frozen=True)
class Market:
    foreman: User
    internal_idle_id: int  # idle plasterers of the foreman's own company
    external_idle_id: int  # a stranger's, better placed and cheaper


@pytest.fixture
async def market(services: Services, company: Company) -> Market:
    """A foreman of the company's first project; a 太原 guide price for 抹灰工 三级 of ¥5,000;
    idle plasterers of the own company and of another one."""
    async with services.uow() as uow:
        await set_guide_price(
            uow,
            Actor.system(),
            city_code="140100",
            trade_code="plasterer",
            grade_level=3,
            price="5000",
        )
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        project = await uow.session.get(Project, company.project_ids[0])
        assert own is not None
        assert project is not None
        await make_account(
            uow,
            role=Role.FOREMAN,
            enterprise=own,
            projects=[project],
            telegram_user_id=FOREMAN_TG,
            name="张伟",
            phone="13912345678",
        )
        stranger = await make_enterprise(uow, name="晋中优选劳务", credit_score=100)
        mine = [await make_worker(uow, own, name="王海东", grade_level=2) for _ in range(2)]
        theirs = [await make_worker(uow, stranger, name="赵强", grade_level=1) for _ in range(3)]
        internal = await make_idle_posting(
            uow, own, mine, price_fen=600000, contact_phone="13700002222"
        )
        external = await make_idle_posting(
            uow, stranger, theirs, price_fen=450000, contact_phone="13700003333"
        )
        await uow.commit()
    return Market(tg_user(FOREMAN_TG), internal.id, external.id)


async def tap(driver: BotDriver, user: User, sent: list[Sent], text_part: str) -> list[Sent]:
    """Press the button of the last message whose text contains `text_part`."""
    return await driver.tap(user, callback_for(last_reply_markup(sent), text_part))


async def shortages(services: Services) -> list[ShortagePosting]:
    async with services.uow() as uow:
        rows = list((await uow.session.scalars(select(ShortagePosting))).all())
        uow.session.expunge_all()  # keep the loaded values past the unit of work
        return rows


async def to_summary(driver: BotDriver, user: User) -> list[Sent]:
    """The zh happy path up to the summary: 抹灰工, 三级, 4 workers, ¥5,500, the profile."""
    sent = await driver.send(user, POST["zh"])
    sent = await tap(driver, user, sent, "抹灰工")
    sent = await tap(driver, user, sent, "三级")
    sent = await tap(driver, user, sent, "4")
    sent = await driver.send(user, "5,500")
    return await tap(driver, user, sent, t("shortage.use_contact", "zh"))


# --- the whole flow -------------------------------------------------------------------------


async def test_a_foreman_posts_a_shortage_and_sees_the_matches_own_company_first(
    driver: BotDriver, services: Services, company: Company, market: Market
) -> None:
    user = market.foreman
    sent = await driver.send(user, POST["zh"])
    # one project only: straight to the trade, named after the project
    assert last_text(sent) == t("shortage.pick_trade", "zh", project=company.project_names[0])
    sent = await tap(driver, user, sent, "抹灰工")
    assert "抹灰工" in last_text(sent)
    # the seed's grades with the national levels people also use, and 不限
    assert inline_texts(last_reply_markup(sent))[:6] == [
        "一级 高级技师",
        "二级 技师",
        "三级 高级工",
        "四级 中级工",
        "五级 初级工",
        "不限",
    ]
    sent = await tap(driver, user, sent, "三级")
    assert last_text(sent) == t("shortage.ask_headcount", "zh", trade="抹灰工", grade="三级")
    sent = await tap(driver, user, sent, "4")

    text = last_text(sent)
    assert "太原市抹灰工三级指导价：¥5,000/月" in text
    prices = inline_texts(last_reply_markup(sent))
    assert prices[0] == "¥5,000/月（指导价）"
    assert {"¥4,500", "¥5,500", "¥6,000"} <= set(prices)

    sent = await driver.send(user, "5,500")
    assert last_text(sent) == t("shortage.ask_contact", "zh", name="张伟", phone="13912345678")
    sent = await tap(driver, user, sent, t("shortage.use_contact", "zh"))
    summary = last_text(sent)
    for part in ("太原南站项目", "抹灰工", "三级", "人数：4", "¥5,500/月", "张伟 13912345678"):
        assert part in summary
    assert "⚠️" not in summary  # 10 % above the guide is fine
    assert await shortages(services) == []  # nothing written before Confirm

    sent = await tap(driver, user, sent, t("shortage.confirm", "zh"))
    [row] = await shortages(services)
    assert (row.trade_code, row.min_grade, row.headcount, row.price_fen) == (
        "plasterer",
        3,
        4,
        550_000,
    )
    assert (row.contact_name, row.contact_phone, row.project_id) == (
        "张伟",
        "13912345678",
        company.project_ids[0],
    )
    assert await driver.state(user) is None

    text = last_text(sent)
    assert text.startswith(f"✅ 已发布缺工 #{row.id}")
    first, second = [line for line in text.splitlines() if line[:2] in ("1.", "2.")]
    assert first.startswith("1. 🏠 山西五建集团")
    assert "¥6,000/月" in first
    assert second.startswith("2. 晋中优选劳务")
    assert "🏠" not in second
    # where (city and county), and a fit that says what it is out of
    assert " · 太原市小店区 · " in first
    assert "匹配度 " in first
    assert first.endswith("/100")
    assert "13700002222" not in text
    assert "1370000" not in text
    buttons = inline_buttons(last_reply_markup(sent))
    # one button a row, named after its line: no matching "提议 2" up by number
    assert [text for text, _data in buttons] == ["🤝 1. 山西五建集团", "🤝 2. 晋中优选劳务"]
    assert buttons[0][1] == ProposeCb(shortage_id=row.id, idle_id=market.internal_idle_id).pack()
    assert buttons[1][1] == ProposeCb(shortage_id=row.id, idle_id=market.external_idle_id).pack()


async def test_a_dispatcher_posts_in_english_picking_the_project_typing_count_and_contact(
    driver: BotDriver, services: Services, company: Company, market: Market
) -> None:
    async with services.uow() as uow:
        dispatcher = await uow.session.get(Account, company.dispatcher_id)
        assert dispatcher is not None
        dispatcher.locale = "en"
        await uow.commit()
    user = tg_user(DISPATCHER_TG, language_code="en")

    sent = await driver.send(user, POST["en"])
    assert last_text(sent) == t("shortage.pick_project", "en")
    assert inline_texts(last_reply_markup(sent))[:2] == sorted(company.project_names)
    sent = await tap(driver, user, sent, company.project_names[1])
    sent = await tap(driver, user, sent, "Rebar worker")
    sent = await tap(driver, user, sent, "Grade 2")
    sent = await tap(driver, user, sent, t("shortage.other_number", "en"))
    assert last_text(sent) == t("shortage.type_headcount", "en", max=500)
    sent = await driver.send(user, "12")
    assert t("posting.no_guide", "en", city="Taiyuan") in last_text(sent)
    sent = await tap(driver, user, sent, "¥6,000")
    sent = await tap(driver, user, sent, t("shortage.other_contact", "en"))
    sent = await driver.send(user, "Li Ming")
    assert last_text(sent) == t("shortage.type_contact_phone", "en", name="Li Ming")
    sent = await driver.send(user, "+86 138-0013-8000")
    summary = last_text(sent)
    assert "Workers: 12" in summary
    assert "¥6,000/month" in summary
    assert "Li Ming 13800138000" in summary
    sent = await tap(driver, user, sent, t("shortage.confirm", "en"))

    [row] = await shortages(services)
    assert (row.project_id, row.trade_code, row.min_grade, row.headcount) == (
        company.project_ids[1],
        "rebar",
        2,
        12,
    )
    assert (row.price_fen, row.contact_name, row.contact_phone) == (
        600_000,
        "Li Ming",
        "13800138000",
    )
    assert row.posted_by_account_id == company.dispatcher_id
    assert last_text(sent).startswith(f"✅ Shortage #{row.id} posted")
    assert t("shortage.no_matches", "en") in last_text(sent)


async def test_a_forged_project_of_another_company_is_refused(
    driver: BotDriver, services: Services, company: Company, market: Market
) -> None:
    user = tg_user(DISPATCHER_TG)
    await driver.send(user, POST["zh"])
    sent = await driver.dialog_tap(user, f"proj:{company.other_project_id}")
    assert answers(sent)[-1]["text"] == t("error.forbidden", "zh")
    assert await driver.state(user) == "PostShortage:project"
    assert await shortages(services) == []


# --- the trade and grade keyboards ----------------------------------------------------------


async def test_the_nine_guided_trades_come_first_and_more_shows_the_rest(
    driver: BotDriver, market: Market
) -> None:
    user = market.foreman
    sent = await driver.send(user, POST["zh"])
    keyboard = last_reply_markup(sent).inline_keyboard
    guided = [
        "钢筋工",
        "砌筑工",
        "防水工",
        "抹灰工",
        "模板工",
        "木工",
        "电焊工",
        "架子工",
        "管道工",
    ]
    assert [[b.text for b in row] for row in keyboard[:3]] == [
        guided[0:3],
        guided[3:6],
        guided[6:9],
    ]
    assert keyboard[3][0].text == t("shortage.more_trades", "zh")
    sent = await tap(driver, user, sent, t("shortage.more_trades", "zh"))
    rest = inline_texts(last_reply_markup(sent))
    assert "普工" in rest
    assert "塔吊司机" in rest
    assert "抹灰工" not in rest
    assert all(len(row) <= 3 for row in last_reply_markup(sent).inline_keyboard)
    sent = await tap(driver, user, sent, "普工")
    assert last_text(sent) == t("shortage.pick_grade", "zh", trade="普工")


async def test_an_unknown_trade_or_grade_button_changes_nothing(
    driver: BotDriver, market: Market
) -> None:
    user = market.foreman
    await driver.send(user, POST["zh"])
    sent = await driver.dialog_tap(user, "trade:astronaut")
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    assert await driver.state(user) == "PostShortage:trade"
    await driver.dialog_tap(user, "trade:mason")
    sent = await driver.dialog_tap(user, "grade:9")
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    assert await driver.state(user) == "PostShortage:grade"
    assert "sh_grade" not in await driver.data(user)


# --- bad input ------------------------------------------------------------------------------


async def test_bad_headcounts_are_asked_again_in_the_same_step(
    driver: BotDriver, market: Market
) -> None:
    user = market.foreman
    sent = await driver.send(user, POST["zh"])
    sent = await tap(driver, user, sent, "抹灰工")
    await tap(driver, user, sent, "三级")
    for typed, key in (
        ("几个", "error.headcount_not_number"),
        ("0", "error.headcount_range"),
        ("10000", "error.headcount_range"),
    ):
        sent = await driver.send(user, typed)
        assert last_text(sent).startswith(t(key, "zh", min=1, max=500)), typed
        assert await driver.state(user) == "PostShortage:headcount"
    sent = await driver.send_sticker(user)
    assert last_text(sent) == t("shortage.need_number", "zh")
    sent = await driver.send(user, "七个人")  # as a foreman types it
    assert (await driver.data(user))["sh_count"] == 7
    assert await driver.state(user) == "PostShortage:price"


async def test_typing_where_a_button_is_due_reminds_with_an_inline_cancel_keeping_the_menu(
    driver: BotDriver, market: Market
) -> None:
    # a reply keyboard with only Cancel here stayed after the flow ended with a tap: no menu
    user = market.foreman
    await driver.send(user, POST["zh"])
    sent = await driver.send(user, "abc")
    assert last_text(sent) == t("fallback.in_step", "zh")
    assert inline_buttons(last_reply_markup(sent)) == [
        (t("common.cancel", "zh"), CancelCb().pack())
    ]
    assert await driver.state(user) == "PostShortage:trade"


async def test_bad_prices_are_refused_and_one_far_from_the_guide_needs_a_second_word(
    driver: BotDriver, services: Services, market: Market
) -> None:
    user = market.foreman
    sent = await driver.send(user, POST["zh"])
    sent = await tap(driver, user, sent, "抹灰工")
    sent = await tap(driver, user, sent, "三级")
    await tap(driver, user, sent, "4")
    for typed, key in (
        ("1", "error.price_range"),
        ("1000000000", "error.price_range"),
        ("abc", "error.price_not_number"),
    ):
        sent = await driver.send(user, typed)
        assert last_text(sent).startswith(t(key, "zh", min=100, max=100000)), typed
        assert await driver.state(user) == "PostShortage:price"

    # ¥1,000 is 80 % below the ¥5,000 guide: warned, then typed again
    sent = await driver.send(user, "1000")
    assert "低 80%" in last_text(sent)
    assert "¥5,000/月" in last_text(sent)
    assert await driver.state(user) == "PostShortage:price_confirm"
    sent = await tap(driver, user, sent, t("shortage.reenter", "zh"))
    assert await driver.state(user) == "PostShortage:price"
    assert "sh_price" not in await driver.data(user)

    # ¥8,000 is 60 % above it: kept on purpose; typed the way the bot shows prices
    sent = await driver.send(user, "¥8,000/月")
    assert "高 60%" in last_text(sent)
    sent = await tap(driver, user, sent, t("shortage.keep_price", "zh"))
    assert (await driver.data(user))["sh_price"] == "8000.00"
    assert await driver.state(user) == "PostShortage:contact"
    assert await shortages(services) == []


async def test_a_typed_contact_must_be_a_name_and_a_mainland_mobile(
    driver: BotDriver, market: Market
) -> None:
    user = market.foreman
    sent = await to_summary(driver, user)
    sent = await tap(driver, user, sent, t("shortage.edit", "zh"))
    sent = await tap(driver, user, sent, t("shortage.field.contact", "zh"))
    sent = await tap(driver, user, sent, t("shortage.other_contact", "zh"))
    assert last_text(sent) == t("shortage.type_contact_name", "zh")

    sent = await driver.send(user, "王" * 5000)
    assert last_text(sent).startswith(t("error.text_too_long", "zh", max=30))
    sent = await driver.send(user, "11")
    assert last_text(sent).startswith(t("error.bad_name", "zh"))
    sent = await driver.send_photo(user)
    assert last_text(sent) == t("shortage.need_text", "zh")
    assert await driver.state(user) == "PostShortage:contact"

    # markup is no part of a person's name (so none can reach a card)
    sent = await driver.send(user, "刘<b>芳")
    assert last_text(sent).startswith(t("error.bad_name", "zh"))
    await driver.send(user, "刘芳")
    sent = await driver.send(user, "12345")
    assert last_text(sent).startswith(t("error.phone", "zh"))
    assert await driver.state(user) == "PostShortage:contact_phone"
    sent = await driver.send(user, "136 0000 1111")
    assert "刘芳 13600001111" in last_text(sent)
    assert await driver.state(user) == "PostShortage:summary"


@pytest.mark.parametrize("typed", ["李明13800138000", "李明 138 0013 8000", "13800138000李明"])
async def test_regression_name_and_phone_in_one_message_fill_the_contact_in_either_order(
    driver: BotDriver, market: Market, typed: str
) -> None:
    user = market.foreman
    sent = await to_summary(driver, user)
    sent = await tap(driver, user, sent, t("shortage.edit", "zh"))
    sent = await tap(driver, user, sent, t("shortage.field.contact", "zh"))
    sent = await tap(driver, user, sent, t("shortage.other_contact", "zh"))
    sent = await driver.send(user, typed)
    assert "李明 13800138000" in last_text(sent)
    assert await driver.state(user) == "PostShortage:summary"


async def test_a_strangers_phone_alone_asks_for_the_name_with_it(
    driver: BotDriver, market: Market
) -> None:
    user = market.foreman
    sent = await to_summary(driver, user)
    sent = await tap(driver, user, sent, t("shortage.edit", "zh"))
    sent = await tap(driver, user, sent, t("shortage.field.contact", "zh"))
    sent = await tap(driver, user, sent, t("shortage.other_contact", "zh"))
    sent = await driver.send(user, "138-0013-8000")
    assert last_text(sent) == "\n".join(
        (t("error.contact_needs_name", "zh"), t("shortage.type_contact_name", "zh"))
    )
    assert await driver.state(user) == "PostShortage:contact"


# --- edit, cancel, confirm ------------------------------------------------------------------


async def test_edit_from_the_summary_changes_one_field_and_comes_back(
    driver: BotDriver, services: Services, market: Market
) -> None:
    user = market.foreman
    sent = await to_summary(driver, user)
    sent = await tap(driver, user, sent, t("shortage.edit", "zh"))
    fields = inline_texts(last_reply_markup(sent))
    assert "项目" not in fields  # one project: nothing to choose
    sent = await tap(driver, user, sent, t("shortage.field.headcount", "zh"))
    sent = await tap(driver, user, sent, "8")
    assert "人数：8" in last_text(sent)
    sent = await tap(driver, user, sent, t("shortage.edit", "zh"))
    sent = await tap(driver, user, sent, t("shortage.field.grade", "zh"))
    sent = await tap(driver, user, sent, "二级")
    assert "最低等级：二级" in last_text(sent)
    await tap(driver, user, sent, t("shortage.confirm", "zh"))
    [row] = await shortages(services)
    assert (row.headcount, row.min_grade, row.price_fen) == (8, 2, 550_000)


@pytest.mark.parametrize("step", ["trade", "headcount", "price_confirm", "summary"])
async def test_cancel_at_any_step_writes_nothing_and_ends_the_dialog(
    driver: BotDriver, services: Services, market: Market, step: str
) -> None:
    user = market.foreman
    sent = await driver.send(user, POST["zh"])
    if step != "trade":
        sent = await tap(driver, user, sent, "抹灰工")
        sent = await tap(driver, user, sent, "三级")
    if step in ("price_confirm", "summary"):
        sent = await tap(driver, user, sent, "4")
        sent = await driver.send(user, "1000" if step == "price_confirm" else "4800")
    if step == "summary":
        sent = await tap(driver, user, sent, t("shortage.use_contact", "zh"))
    assert await driver.state(user) == f"PostShortage:{step}"

    if step == "headcount":
        sent = await driver.send(user, "❌ 取消")  # the reply-keyboard button
    else:
        sent = await tap(driver, user, sent, t("common.cancel", "zh"))
    assert last_text(sent) == t("common.cancelled", "zh")
    assert await driver.state(user) is None
    assert not any(k.startswith("sh_") for k in await driver.data(user))
    assert await shortages(services) == []


async def test_a_double_tap_on_confirm_posts_once(
    driver: BotDriver, services: Services, market: Market
) -> None:
    user = market.foreman
    sent = await to_summary(driver, user)
    confirm = callback_for(last_reply_markup(sent), t("shortage.confirm", "zh"))
    first, second = await asyncio.gather(driver.tap(user, confirm), driver.tap(user, confirm))
    assert len(await shortages(services)) == 1
    stale = [a for a in answers(first + second) if a.get("text") == t("common.stale", "zh")]
    assert len(stale) == 1
    # and once more, later: still one
    await driver.tap(user, confirm)
    async with services.uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(ShortagePosting))
    assert count == 1


async def test_a_suspended_companys_foreman_is_told_the_reason_and_nothing_is_posted(
    driver: BotDriver, services: Services, company: Company, market: Market
) -> None:
    user = market.foreman
    sent = await to_summary(driver, user)
    async with services.uow() as uow:  # suspended while the foreman fills the form
        await suspend_enterprise(uow, Actor.system(), company.enterprise_id, "安全事故整改中")
        await uow.commit()

    sent = await tap(driver, user, sent, t("shortage.confirm", "zh"))

    expected = t("error.enterprise_suspended", "zh", reason="安全事故整改中")
    assert expected == "本企业已被暂停发布信息：安全事故整改中。如有疑问请联系监管部门。"
    assert [(a["text"], a["show_alert"]) for a in answers(sent)] == [(expected, True)]
    assert await shortages(services) == []
