"""After the deal, through the production dispatcher: the foreman's arrival list (per worker
and 全部到岗), forged taps refused, the monthly wage question with a partial amount typed in
the dialog (bad amounts re-asked), the labor side's answers, and the regulator's /arrears."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select, update

import bot.renderers  # noqa: F401 - registers the dispatch renderers
from bot.callbacks_dispatch import ArrivalCb, DispatchCb, WageCb
from bot.i18n import t
from bot.renderers import outbox_renderers
from core.db.models import Account, DispatchAssignment, OutboxMessage, WagePeriod
from core.db.uow import Services
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from core.services.dispatch import queue_arrival_prompts
from core.services.outbox import OutboxItem
from core.services.wages import queue_wage_prompts
from tests.bot.harness import (
    BotDriver,
    answers,
    inline_buttons,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.integration.deal_world import World, build_world
from tests.integration.test_dispatch_life import START, accepted

FOREMAN = tg_user(7001, name="张伟")
OUTSIDER = tg_user(7002, name="王五")
SUPPLIER = tg_user(7003, name="李明")
REGULATOR = tg_user(7004, name="太原监管")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


async def bind(services: Services, w: World) -> None:
    async with services.uow() as uow:
        for actor, user in (
            (w.foreman, FOREMAN),
            (w.outsider, OUTSIDER),
            (w.supplier_dispatcher, SUPPLIER),
            (w.taiyuan_regulator, REGULATOR),
        ):
            await uow.session.execute(
                update(Account)
                .where(Account.id == actor.account_id)
                .values(telegram_user_id=user.id, chat_id=user.id)
            )
        await uow.commit()


async def rendered(services: Services, kind: str, locale: str = "zh") -> list[Any]:
    """Render the queued outbox rows of `kind` as the sender would."""
    async with services.uow() as uow:
        rows = (
            await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
            )
        ).all()
        items = [
            OutboxItem(
                id=r.id,
                account_id=r.account_id,
                kind=r.kind,
                payload=dict(r.payload),
                attempts=0,
                created_at=r.created_at,
                chat_id=None,
                locale=locale,
                active=True,
            )
            for r in rows
        ]
        out = []
        for item in items:
            out += await outbox_renderers().render(
                item, uow, lambda key, /, **p: t(key, locale, **p)
            )
        return out


async def arrivals(services: Services) -> list[str]:
    async with services.uow() as uow:
        rows = await uow.session.scalars(
            select(DispatchAssignment.arrival).order_by(DispatchAssignment.id)
        )
        return list(rows)


async def test_the_foreman_answers_the_arrival_list_per_worker_and_all_at_once(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    await bind(services, w)
    clock.at = at(START, 10, 0)
    async with services.uow() as uow:
        await queue_arrival_prompts(uow, clock.now())
    [prompt] = await rendered(services, "arrival_check")
    assert prompt.text.startswith(f"📋 今日到岗确认 #{deal_id} 小店区保障房项目")
    buttons = inline_buttons(prompt.reply_markup)
    assert [text for text, _ in buttons] == [
        "✅ 王海东", "❌ 未到", "✅ 李文光", "❌ 未到", "✅ 赵伟", "❌ 未到", "✅ 全部到岗"
    ]  # fmt: skip
    first_yes = buttons[0][1]
    assert first_yes is not None

    # another project's foreman forges the tap: refused, nothing written
    sent = await driver.tap(OUTSIDER, first_yes)
    assert answers(sent)[-1]["show_alert"] is True
    assert await arrivals(services) == ["pending"] * 3

    sent = await driver.tap(FOREMAN, first_yes)
    assert answers(sent)[0]["text"] == "已记录"
    assert "✅ 王海东" in last_text(sent)
    assert "⏳ 李文光" in last_text(sent)
    sent = await driver.tap(FOREMAN, first_yes)  # a second tap changes nothing
    assert answers(sent)[0]["text"] == "已记录过，无需再点"

    sent = await driver.tap(FOREMAN, ArrivalCb(a="all", d=deal_id).pack())
    assert await arrivals(services) == ["arrived"] * 3
    assert "全部已确认" in last_text(sent)


async def test_partial_payment_is_typed_and_bad_amounts_are_asked_again(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    await bind(services, w)
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        await queue_wage_prompts(uow, clock.now())
    payer, labor = await rendered(services, "wage_prompt")
    async with services.uow() as uow:
        period = await uow.session.scalar(select(WagePeriod))
        assert period is not None
        period_id, due_fen = period.id, period.due_fen
    due = f"{due_fen / 100:,.2f}".rstrip("0").rstrip(".")
    assert payer.text.startswith("💴 2026-03 工资：本月应付 晋中劳务有限公司")
    assert f"75 人天 × ¥5,000/月 = ¥{due}，已支付？" in payer.text
    assert [text for text, _ in inline_buttons(payer.reply_markup)] == [
        "✅ 已付",
        "部分",
        "❌ 未付",
    ]
    assert "工人工资发了吗" in labor.text

    # the labor company cannot answer for the payer
    sent = await driver.tap(SUPPLIER, WageCb(a="paid", p=period_id).pack())
    assert answers(sent)[-1]["show_alert"] is True

    await driver.tap(FOREMAN, WageCb(a="part", p=period_id).pack())
    assert "请输入金额" in driver.last_text()
    await driver.send(FOREMAN, "一万块")
    assert driver.last_text().startswith("金额要是数字")
    await driver.send(FOREMAN, "999999")
    assert driver.last_text().startswith("部分支付要少于应付的")
    async with services.uow() as uow:
        untouched = await uow.session.scalar(select(WagePeriod.payer_answer))
    assert untouched is None  # nothing half-written
    sent = await driver.send(FOREMAN, "10000")
    assert last_text(sent).startswith("已记录")
    assert "已付 ¥10,000" in last_text(sent)
    assert "已报欠薪预警" in last_text(sent)
    assert inline_buttons(last_reply_markup(sent))[0][0] == "✅ 已付"
    async with services.uow() as uow:
        row = (
            await uow.session.execute(select(WagePeriod.payer_answer, WagePeriod.paid_fen))
        ).one()
    assert tuple(row) == ("partial", 1_000_000)

    # the labor company: received the same part, workers not paid yet
    await driver.tap(SUPPLIER, WageCb(a="wp0", p=period_id).pack())
    async with services.uow() as uow:
        workers_paid = await uow.session.scalar(select(WagePeriod.workers_paid))
    assert workers_paid is False

    # the regulator of 太原 sees the alert with both contacts
    sent = await driver.command(REGULATOR, "arrears")
    text = last_text(sent)
    assert text.startswith("📉 欠薪预警（未解决）太原市：1 条")
    assert (f"派遣 #{deal_id}" in text and "张伟" in text) or "13912345678" in text
    [alert] = await rendered(services, "arrears_alert")
    assert alert.text.startswith("📉 欠薪预警 #")


async def test_the_dispatch_card_extends_and_releases(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    await bind(services, w)
    clock.at = at(date(2026, 3, 20), 10, 0)
    # the accepted deal's card leads to the dispatch card
    from bot.keyboards.deals import deal_actions_keyboard
    from core.services.deals import get_deal

    async with services.uow() as uow:
        deal = await get_deal(uow, w.foreman, deal_id)
    markup = deal_actions_keyboard(deal, lambda key, /, **p: t(key, "zh", **p))
    assert inline_buttons(markup) == [
        ("🏗 派遣（到岗 / 退场 / 延期）", DispatchCb(a="o", d=deal_id).pack())
    ]
    sent = await driver.tap(FOREMAN, DispatchCb(a="o", d=deal_id).pack())
    assert f"🏗 派遣 #{deal_id}" in last_text(sent)
    sent = await driver.command(FOREMAN, "dispatch", str(deal_id))
    assert f"🏗 派遣 #{deal_id}" in last_text(sent)
    assert "退场为止" in last_text(sent)
    sent = await driver.tap(FOREMAN, DispatchCb(a="ext", d=deal_id, m=1).pack())
    assert "2026-04-19" in last_text(sent)
    sent = await driver.tap(OUTSIDER, DispatchCb(a="rel", d=deal_id).pack())
    assert answers(sent)[-1]["show_alert"] is True
    sent = await driver.tap(FOREMAN, DispatchCb(a="rel", d=deal_id).pack())
    assert "（2026-03-20 退场）" in last_text(sent)
    [notice] = await rendered(services, "workers_released")
    assert "已于 2026-03-20 退场" in notice.text


async def test_earned_credit_shows_on_the_top_list_and_the_worker_card(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    from bot.keyboards.regulator import TopCb
    from bot.keyboards.workers import WorkerCardCb
    from core.services.credit import recompute_credit
    from core.services.dispatch import get_dispatch, mark_arrival

    w = await build_world(services)
    deal_id = await accepted(services, w)
    await bind(services, w)
    clock.at = at(START, 10, 0)
    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
        no_show = view.assignments[0]
        await mark_arrival(uow, w.foreman, deal_id, no_show.id, arrived=False)
    async with services.uow() as uow:
        await recompute_credit(uow, START)

    sent = await driver.tap(REGULATOR, TopCb(code="140100").pack())
    # the receiver: a newcomer's neutral 79 (A), with its components under the line
    assert "山西五建集团有限公司" in last_text(sent)
    assert "信用 A 79 分" in last_text(sent)
    assert "    履约 24.00 · 付款 20.00 · 评价 15.00 · 欠薪 20.00 · 未到 0.00" in last_text(sent)

    sent = await driver.tap(SUPPLIER, WorkerCardCb(worker_id=no_show.worker_id).pack())
    assert "信用等级：C" in last_text(sent)  # 3.5 without ratings − 1 for the no-show


async def test_a_no_show_reaches_the_labor_company_which_sends_a_replacement_in_one_tap(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    from bot.callbacks_dispatch import ReplaceCb

    w = await build_world(services)  # four idle plasterers, three go on the deal
    deal_id = await accepted(services, w)
    await bind(services, w)
    clock.at = at(START, 10, 0)
    async with services.uow() as uow:
        await queue_arrival_prompts(uow, clock.now())
    [prompt] = await rendered(services, "arrival_check")
    no_show_data = inline_buttons(prompt.reply_markup)[1][1]
    assert no_show_data is not None
    await driver.tap(FOREMAN, no_show_data)

    [notice] = await rendered(services, "no_show")
    assert notice.text.startswith(f"❌ 王海东 未到岗：派遣 #{deal_id}")
    # the company's idle plasterers not on this deal: the spare one (not the no-show himself)
    options = inline_buttons(notice.reply_markup)
    assert [text for text, _ in options] == ["🔁 派 孙小华 顶替"]
    spare = options[0][1]
    assert spare is not None

    sent = await driver.tap(FOREMAN, spare)  # not the labor company: refused
    assert answers(sent)[-1]["show_alert"] is True
    sent = await driver.tap(SUPPLIER, spare)
    assert last_text(sent).startswith("✅ 已派 孙小华 顶替")
    assert ReplaceCb.unpack(spare).w == w.worker_ids[3]
    async with services.uow() as uow:
        rows = (
            await uow.session.execute(
                select(DispatchAssignment.worker_id, DispatchAssignment.replaces_assignment_id)
            )
        ).all()
    assert rows[-1][0] == w.worker_ids[3]
    assert rows[-1][1] is not None
    [told] = await rendered(services, "replacement_offered")
    assert "孙小华" in told.text


async def test_the_regulator_opens_arrears_and_on_site_workers_from_the_menu(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    from core.services.dispatch import get_dispatch, mark_arrival

    w = await build_world(services)
    deal_id = await accepted(services, w)
    await bind(services, w)
    clock.at = at(START, 11, 0)
    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
        await mark_arrival(uow, w.foreman, deal_id, view.assignments[0].id, arrived=False)

    sent = await driver.send(REGULATOR, t("menu.onsite", "zh"))
    text = last_text(sent)
    assert text.startswith("👷 太原市 各项目在场派遣工人")
    assert "• 小店区保障房项目：在场 2 人（进 2 / 退 0）" in text  # one of three did not come

    sent = await driver.send(REGULATOR, t("menu.arrears", "zh"))
    assert last_text(sent).startswith("📉 欠薪预警（未解决）太原市：0 条")
    assert "没有欠薪预警。" in last_text(sent)

    # April's wage day: the foreman answers 未付, the alert is in the list at once
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        await queue_wage_prompts(uow, clock.now())
        period_id = await uow.session.scalar(select(WagePeriod.id))
    assert period_id is not None
    await driver.tap(FOREMAN, WageCb(a="unpaid", p=period_id).pack())
    sent = await driver.send(REGULATOR, t("menu.arrears", "zh"))
    text = last_text(sent)
    assert text.startswith("📉 欠薪预警（未解决）太原市：1 条")
    assert f"派遣 #{deal_id}" in text
    assert inline_buttons(last_reply_markup(sent))[0][0] == "已解决"

    # the same button text from a foreman opens nothing of the bureau's
    sent = await driver.send(FOREMAN, t("menu.arrears", "zh"))
    assert "欠薪预警（" not in last_text(sent)


async def deal_row(services: Services, deal_id: int) -> tuple[Any, list[Any]]:
    from core.db.models import Deal

    async with services.uow() as uow:
        end = await uow.session.scalar(select(Deal.end_date).where(Deal.id == deal_id))
        released = list(
            await uow.session.scalars(
                select(DispatchAssignment.released_on).order_by(DispatchAssignment.id)
            )
        )
    return end, released


async def test_the_last_day_is_typed_and_bad_or_out_of_range_days_are_asked_again(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)  # on site from 2026-03-07, until released
    await bind(services, w)
    clock.at = at(date(2026, 3, 20), 10, 0)
    card = await driver.command(FOREMAN, "dispatch", str(deal_id))
    type_day = DispatchCb(a="day", d=deal_id).pack()
    assert ("📅 输入退场 / 结束日期", type_day) in inline_buttons(last_reply_markup(card))

    # neither another project's foreman nor the labor company may change the period
    for stranger in (OUTSIDER, SUPPLIER):
        sent = await driver.tap(stranger, type_day)
        assert answers(sent)[-1]["show_alert"] is True

    sent = await driver.tap(FOREMAN, type_day)
    assert last_text(sent).startswith(f"派遣 #{deal_id}（2026-03-07 进场）的最后一天是哪天？")
    for typed, said in (
        ("过几天", "没看懂这个日期。请写成 2026-12-20、12月20日、12/20 或 明天。"),
        ("2月30日", "没看懂这个日期。"),
        ("3月1日", "日期不能早于进场日 2026-03-07。"),
        ("2028-01-01", "结束日期最多在 366 天之内。"),
    ):
        sent = await driver.send(FOREMAN, typed)
        assert last_text(sent).startswith(said), typed
        assert "的最后一天是哪天？" in last_text(sent)  # the same question again
    assert await deal_row(services, deal_id) == (None, [None, None, None])  # nothing written

    # a day ahead: the dispatch ends then (an early end; the daily sweep releases them after)
    sent = await driver.send(FOREMAN, "4月30日")
    assert last_text(sent).startswith(f"已记录\n🏗 派遣 #{deal_id}")
    assert "期间：2026-03-07 至 2026-04-30" in last_text(sent)
    assert await deal_row(services, deal_id) == (date(2026, 4, 30), [None, None, None])
    [told] = await rendered(services, "dispatch_end_date")
    assert "2026-04-30" in told.text

    # /cancel leaves the question; a date typed afterwards changes nothing
    await driver.tap(FOREMAN, type_day)
    sent = await driver.send(FOREMAN, "/cancel")
    assert "已取消" in last_text(sent)
    await driver.send(FOREMAN, "明天")
    assert await deal_row(services, deal_id) == (date(2026, 4, 30), [None, None, None])

    # yesterday: everyone still on site leaves with yesterday as the last day
    await driver.tap(FOREMAN, type_day)
    sent = await driver.send(FOREMAN, "昨天")
    assert "（2026-03-19 退场）" in last_text(sent)
    yesterday = date(2026, 3, 19)
    assert await deal_row(services, deal_id) == (yesterday, [yesterday] * 3)
    [notice] = await rendered(services, "workers_released")
    assert "已于 2026-03-19 退场" in notice.text


async def test_one_worker_is_released_early_from_the_dispatch_card(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    await bind(services, w)
    clock.at = at(date(2026, 3, 20), 10, 0)
    card = await driver.command(FOREMAN, "dispatch", str(deal_id))
    buttons = inline_buttons(last_reply_markup(card))
    one = [(label, data) for label, data in buttons if label.endswith("今天退场")]
    assert [label for label, _ in one] == [
        "🚪 王海东 今天退场", "🚪 李文光 今天退场", "🚪 赵伟 今天退场"
    ]  # fmt: skip
    first = one[0][1]
    assert first is not None

    sent = await driver.tap(OUTSIDER, first)  # not the receiving project's: refused
    assert answers(sent)[-1]["show_alert"] is True
    sent = await driver.tap(FOREMAN, first)
    assert last_text(sent).count("（2026-03-20 退场）") == 1
    assert "在场 2 人" in last_text(sent)
    left = [label for label, _ in inline_buttons(last_reply_markup(sent))]
    assert "🚪 王海东 今天退场" not in left
    assert "🚪 李文光 今天退场" in left
    assert await deal_row(services, deal_id) == (None, [date(2026, 3, 20), None, None])
    [notice] = await rendered(services, "workers_released")
    assert "王海东 已于 2026-03-20 退场" in notice.text
    assert "李文光" not in notice.text

    sent = await driver.tap(FOREMAN, first)  # the old button again: nothing more to do
    assert answers(sent)[-1]["show_alert"] is True
    assert await deal_row(services, deal_id) == (None, [date(2026, 3, 20), None, None])
