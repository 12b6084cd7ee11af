"""Paste-to-post through the real dispatcher: a chat-group post typed to the bot becomes a
summary, the missing fields are asked, ✅ writes exactly one posting, a regulator is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aiogram.types import MessageOriginHiddenUser, User
from sqlalchemy import func, select

from bot.i18n import t
from core.db.models import Enterprise, IdlePosting, Project, ShortagePosting
from core.db.uow import Services
from core.domain.enums import Role
from tests.bot.conftest import DISPATCHER_TG, FOREMAN_TG, REGULATOR_TG, Company
from tests.bot.harness import (
    BotDriver,
    answers,
    callback_for,
    inline_texts,
    last_reply_markup,
    last_text,
)
from tests.bot.harness import tg_user as make_user
from tests.factories import make_account, make_worker

POST = "急招钢筋工5人，中级，小店区，8000/月，联系张工13912345678"


async def add_account(
    services: Services, company: Company, *, role: Role, tg: int, projects: int = 1
) -> User:
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        chosen = [await uow.session.get(Project, pid) for pid in company.project_ids[:projects]]
        await make_account(
            uow,
            role=role,
            enterprise=own if role is not Role.REGULATOR else None,
            projects=[p for p in chosen if p is not None] if role is Role.FOREMAN else [],
            region_code="140100" if role is Role.REGULATOR else None,
            telegram_user_id=tg,
            name="张伟",
        )
        await uow.commit()
    return make_user(tg)


async def shortages(services: Services) -> list[SimpleNamespace]:
    """The shortage rows as plain values (read inside their session)."""
    async with services.uow() as uow:
        rows = (await uow.session.scalars(select(ShortagePosting))).all()
        columns = ShortagePosting.__table__.columns
        return [SimpleNamespace(**{c.key: getattr(r, c.key) for c in columns}) for r in rows]


async def test_a_foreman_posts_a_pasted_shortage_with_one_tap(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)

    sent = await driver.send(foreman, POST)
    summary = last_text(sent)
    assert summary.startswith(t("paste.read_title", "zh"))
    for part in ("钢筋工", "5人", "太原南站项目", "¥8,000/月", "张工", "13912345678"):
        assert part in summary
    markup = last_reply_markup(sent)
    assert inline_texts(markup) == ["✅ 发布", "✏️ 修改", "❌ 不对"]
    assert await shortages(services) == []  # nothing before ✅

    posted = await driver.tap(foreman, callback_for(markup, "发布"))
    [row] = await shortages(services)
    assert (row.trade_code, row.min_grade, row.headcount, row.price_fen) == ("rebar", 4, 5, 800000)
    assert (row.project_id, row.contact_name) == (company.project_ids[0], "张工")
    assert f"#{row.id}" in last_text(posted)

    # a second tap of the same ✅ finds no dialog: answered as stale, still one row
    again = await driver.tap(foreman, callback_for(markup, "发布"))
    assert answers(again)[-1]["text"] == t("common.stale", "zh")
    assert len(await shortages(services)) == 1


async def test_a_daily_rate_is_shown_with_its_monthly_figure_and_posted_monthly(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)
    sent = await driver.send(foreman, "缺木工三名 小店区 三级 日薪350 联系电话：186-3521-7788")
    # a phone without a name, and the foreman has no phone of his own: whose is it?
    assert last_text(sent) == t("paste.ask_contact", "zh")
    sent = await driver.send(foreman, "张伟186-3521-7788")
    assert "350元/天 ≈ ¥9,100/月，按26天" in last_text(sent)
    await driver.tap(foreman, callback_for(last_reply_markup(sent), "发布"))
    [row] = await shortages(services)
    assert (row.trade_code, row.price_fen, row.contact_phone) == (
        "carpenter",
        910000,
        "18635217788",
    )
    assert row.contact_name == "张伟"


async def test_missing_headcount_and_price_are_asked_then_the_summary_comes(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)
    sent = await driver.send(foreman, "急招架子工，高级，联系王师傅 15835120000")
    assert "需要多少人" in last_text(sent)

    bad = await driver.send(foreman, "很多")
    # the reason above the same question
    assert last_text(bad).startswith(t("error.headcount_not_number", "zh"))
    assert "需要多少人" in last_text(bad)
    asked_price = await driver.send(foreman, "6")
    assert last_text(asked_price) == t("paste.ask_price", "zh")

    summary = await driver.send(foreman, "7500")
    text = last_text(summary)
    assert "6人" in text
    assert "¥7,500/月" in text
    assert "王师傅" in text
    await driver.tap(foreman, callback_for(last_reply_markup(summary), "发布"))
    [row] = await shortages(services)
    assert (row.trade_code, row.min_grade, row.headcount) == ("scaffolder", 3, 6)


async def test_a_foreman_of_two_projects_is_asked_which_one(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG, projects=2)
    sent = await driver.send(foreman, POST)
    assert last_text(sent) == t("paste.ask_project", "zh")
    markup = last_reply_markup(sent)
    assert inline_texts(markup) == [*company.project_names, "❌ 取消"]
    summary = await driver.tap(foreman, callback_for(markup, company.project_names[1]))
    assert company.project_names[1] in last_text(summary)
    await driver.tap(foreman, callback_for(last_reply_markup(summary), "发布"))
    [row] = await shortages(services)
    assert row.project_id == company.project_ids[1]


async def test_wrong_writes_nothing_and_edit_changes_a_field(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)
    sent = await driver.send(foreman, POST)
    dropped = await driver.tap(foreman, callback_for(last_reply_markup(sent), "不对"))
    assert last_text(dropped) == t("paste.dropped", "zh")
    assert await shortages(services) == []

    sent = await driver.send(foreman, POST)
    menu = await driver.tap(foreman, callback_for(last_reply_markup(sent), "修改"))
    asked = await driver.tap(foreman, callback_for(last_reply_markup(menu), "人数"))
    summary = await driver.send(foreman, "12")
    assert "12人" in last_text(summary)
    await driver.tap(foreman, callback_for(last_reply_markup(summary), "发布"))
    [row] = await shortages(services)
    assert row.headcount == 12
    assert "需要多少人" in last_text(asked)


async def test_text_that_is_not_a_post_gets_the_hint_and_an_example(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)
    sent = await driver.send(foreman, "明天几点开会？")
    text = last_text(sent)
    assert text.startswith(t("fallback.hint", "zh"))
    assert "急招钢筋工5人" in text
    assert await driver.state(foreman) is None


async def test_a_regulators_paste_is_refused(
    driver: BotDriver, services: Services, company: Company
) -> None:
    regulator = await add_account(services, company, role=Role.REGULATOR, tg=REGULATOR_TG)
    sent = await driver.send(regulator, POST)
    assert last_text(sent) == t("paste.regulator_refused", "zh")
    assert await shortages(services) == []
    other = await driver.send(regulator, "你好")
    assert last_text(other) == t("fallback.hint", "zh")


async def test_a_dispatcher_declares_pasted_idle_workers_after_picking_them(
    driver: BotDriver, services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        assert own is not None
        ids = [
            (await make_worker(uow, own, trade_code="scaffolder", grade_level=3)).id
            for _ in range(3)
        ]
        await uow.commit()
    dispatcher = make_user(DISPATCHER_TG)
    sent = await driver.send(
        dispatcher, "我公司有架子工2人赋闲，三级，小店区，6800一个月，联系陈静13703519999"
    )
    markup = last_reply_markup(sent)
    # two of the three are ticked, as the post said
    assert sum(text.startswith("✅") for text in inline_texts(markup)) == 2
    summary = await driver.tap(dispatcher, callback_for(markup, "完成"))
    assert "2人" in last_text(summary)
    assert "小店区" in last_text(summary)
    await driver.tap(dispatcher, callback_for(last_reply_markup(summary), "发布"))
    async with services.uow() as uow:
        [posting] = (await uow.session.scalars(select(IdlePosting))).all()
        assert (posting.trade_code, posting.county_code, posting.headcount) == (
            "scaffolder",
            "140105",
            2,
        )
        count: Any = await uow.session.scalar(select(func.count()).select_from(ShortagePosting))
        assert count == 0
    assert ids


@pytest.mark.parametrize("text", ["📝 发布缺工"])
async def test_a_menu_button_is_not_read_as_a_paste(
    driver: BotDriver, services: Services, company: Company, text: str
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)
    sent = await driver.send(foreman, text)
    assert t("paste.read_title", "zh") not in last_text(sent)


async def test_a_line_with_two_trades_posts_one_shortage_per_trade_in_turn(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)
    first = await driver.send(
        foreman, "缺钢筋工5人、木工3人，中级，小店区，月薪8000，张工13912340001"
    )
    assert "钢筋工" in last_text(first)
    assert t("paste.more_waiting", "zh", count=1) in last_text(first)
    second = await driver.tap(foreman, callback_for(last_reply_markup(first), "发布"))
    assert "木工" in last_text(second)
    assert "3人" in last_text(second)
    await driver.tap(foreman, callback_for(last_reply_markup(second), "发布"))
    rows = await shortages(services)
    assert sorted((r.trade_code, r.headcount) for r in rows) == [("carpenter", 3), ("rebar", 5)]


async def test_a_forwarded_group_message_is_read_like_a_typed_one(
    driver: BotDriver, services: Services, company: Company
) -> None:
    foreman = await add_account(services, company, role=Role.FOREMAN, tg=FOREMAN_TG)
    origin = MessageOriginHiddenUser(date=datetime.now(UTC), sender_user_name="工友群")
    sent = await driver.feed(driver.message(foreman, text=POST, forward_origin=origin))
    assert last_text(sent).startswith(t("paste.read_title", "zh"))
    await driver.tap(foreman, callback_for(last_reply_markup(sent), "发布"))
    assert len(await shortages(services)) == 1


async def test_regression_a_pasted_strangers_name_does_not_get_the_posters_phone(
    driver: BotDriver, services: Services, company: Company
) -> None:
    """Issue 10's contact defect, in the paste: 联系王师傅 without a number was posted with the
    dispatcher's own phone under 王师傅's name."""
    dispatcher = make_user(DISPATCHER_TG)  # 李调度 13912345678
    sent = await driver.send(dispatcher, "急招钢筋工5人，中级，小店区，8000/月，联系王师傅")
    sent = await driver.tap(dispatcher, callback_for(last_reply_markup(sent), "太原南站项目"))
    assert last_text(sent) == t("paste.ask_contact", "zh")
    sent = await driver.send(dispatcher, "王师傅 158-3512-0000")
    assert "王师傅 15835120000" in last_text(sent)
    await driver.tap(dispatcher, callback_for(last_reply_markup(sent), "发布"))
    [row] = await shortages(services)
    assert (row.contact_name, row.contact_phone) == ("王师傅", "15835120000")


async def test_an_idle_post_naming_a_city_asks_for_one_of_its_counties(
    driver: BotDriver, services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        assert own is not None
        await make_worker(uow, own, trade_code="scaffolder", grade_level=3)
        await uow.commit()
    dispatcher = make_user(DISPATCHER_TG)
    sent = await driver.send(
        dispatcher, "架子工1人赋闲，三级，太原市，6800一个月，联系陈静13703519999"
    )
    assert last_text(sent) == t("idle.ask_county_of", "zh", city="太原市")
    assert "迎泽区" in inline_texts(last_reply_markup(sent))  # 太原's, not only the company's
    sent = await driver.tap(dispatcher, callback_for(last_reply_markup(sent), "迎泽区"))
    assert "1." in last_text(sent)  # the worker picker comes next
