"""The regulator's menu through the real dispatcher, on the hand-built world of
tests/integration/regulator_world.py (numbers checked by hand there)."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from bot.i18n import t
from bot.keyboards.regulator import (
    BrokerCb,
    DealCb,
    DealPickCb,
    EscViewCb,
    ExportCb,
    GradeCb,
    GuideCb,
    RateCb,
    ShortCb,
    SilentCb,
    StatCb,
    SumCb,
    TopCb,
)
from bot.renderers import outbox_renderers
from core.db.models import (
    Account,
    AuditLog,
    GuidePrice,
    OutboxMessage,
    Project,
    ShortagePosting,
    Worker,
)
from core.db.uow import Services
from core.services.outbox import OutboxItem
from tests.bot.harness import (
    BotDriver,
    Sent,
    answers,
    callback_for,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    texts,
    tg_user,
)
from tests.factories import make_enterprise
from tests.integration.regulator_world import (
    TAIYUAN_REGULATOR_TG,
    XIAODIAN_REGULATOR_TG,
    RegWorld,
    add_deal,
    build_reg_world,
    shanghai,
)

TAIYUAN = tg_user(TAIYUAN_REGULATOR_TG)
XIAODIAN = tg_user(XIAODIAN_REGULATOR_TG)


@pytest.fixture
async def world(services: Services) -> RegWorld:
    return await build_reg_world(services)


def table(text: str) -> list[list[str]]:
    """The cells of the <pre> table in a message, row by row."""
    found = re.search(r"<pre>(.*?)</pre>", text, re.S)
    assert found, f"no table in {text!r}"
    return [line.split() for line in found.group(1).splitlines()]


def documents(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.method == "sendDocument"]


def sheet_rows(doc: Sent) -> list[tuple[object, ...]]:
    """The rows of the first sheet of the .xlsx the bot sent (header first)."""
    data = doc.params["document"].data
    ws = load_workbook(io.BytesIO(data)).worksheets[0]
    return [tuple(row) for row in ws.iter_rows(values_only=True)]


async def menu(driver: BotDriver, user: object, key: str, locale: str = "zh") -> list[Sent]:
    return await driver.send(user, t(key, locale))  # type: ignore[arg-type]


def alert(sent: list[Sent]) -> str:
    (answer,) = answers(sent)
    assert answer.get("show_alert") is True
    return str(answer["text"])


# --- 汇总 ------------------------------------------------------------------------------------


async def test_the_summary_counts_each_county_with_totals_and_drills_down(
    driver: BotDriver, world: RegWorld
) -> None:
    sent = await menu(driver, TAIYUAN, "menu.summary")

    text = last_text(sent)
    assert text.startswith("📊 <b>太原市</b> 用工调度汇总 · 2026-03-04")
    rows = table(text)
    assert rows[0] == ["地区", "缺工", "赋闲", "差额"]
    assert rows[1:3] == [["小店区", "5", "2", "-3"], ["迎泽区", "5", "4", "-1"]]
    assert ["杏花岭区", "0", "0", "+0"] in rows
    assert rows[-1] == ["合计", "10", "6", "-4"]
    keyboard = last_reply_markup(sent)
    assert "⬆ 上级" not in inline_texts(keyboard)  # the city is this bureau's top

    drill = await driver.tap(TAIYUAN, callback_for(keyboard, "小店区"))
    county = last_text(drill)
    assert county.startswith("📊 <b>小店区</b>")
    assert table(county) == [["地区", "缺工", "赋闲", "差额"], ["小店区", "5", "2", "-3"]]
    assert callback_for(last_reply_markup(drill), "上级") == SumCb(code="140100").pack()


def tables(text: str) -> list[list[list[str]]]:
    """The cells of every <pre> table in a message."""
    return [
        [line.split() for line in found.splitlines()]
        for found in re.findall(r"<pre>(.*?)</pre>", text, re.S)
    ]


async def test_the_summary_shows_the_reporting_rate_and_lists_silent_projects(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:  # 迎泽区学校项目 has not reported for 45 days
        await uow.session.execute(
            update(Project)
            .where(Project.name == "迎泽区学校项目")
            .values(created_at=shanghai(date(2026, 1, 1), 9))
        )
        await uow.session.execute(
            update(ShortagePosting)
            .where(ShortagePosting.id == world.s2)
            .values(updated_at=shanghai(date(2026, 1, 18), 9))
        )
        await uow.commit()
    sent = await menu(driver, TAIYUAN, "menu.summary")
    text = last_text(sent)
    assert "采集上报率（近 7 天更新过用工情况的在建项目）" in text
    coverage = tables(text)[1]
    assert coverage[0] == ["地区", "在建", "上报率"]
    assert ["小店区", "2", "100%"] in coverage
    assert ["迎泽区", "1", "0%"] in coverage
    assert ["杏花岭区", "0", "—"] in coverage
    assert coverage[-1] == ["合计", "3", "66.7%"]
    assert "1 个在建项目已 30 天未上报" in text

    silent = await driver.tap(TAIYUAN, callback_for(last_reply_markup(sent), "未上报"))
    assert last_text(silent).splitlines()[1:] == [
        "• 迎泽区学校项目（山西五建集团）· 迎泽区 · 45 天"
    ]
    again = await driver.tap(XIAODIAN, SilentCb(code="140105").pack())
    assert "没有。" in last_text(again)  # the county bureau's own region: nothing silent


async def test_the_top_enterprises_by_credit_page_ten_at_a_time(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        for n in range(10):
            await make_enterprise(uow, name=f"太原劳务{n:02d}", county_code="140107",
                                  credit_score=50 + n)  # fmt: skip
        await uow.commit()
    first = await driver.tap(TAIYUAN, TopCb(code="140100").pack())
    text = last_text(first)
    assert "信用排名前 13 的企业（第 1/2 页）" in text
    assert "1. 山西五建集团 · 信用 AA 95 分 · 小店区\n    缺工 8 人 · 赋闲 0 人" in text
    assert "10. 太原劳务03" in text
    assert "11." not in text
    assert (
        next(d for _t, d in inline_buttons(last_reply_markup(first)))
        == TopCb(code="140100", page=1).pack()
    )

    second = await driver.tap(TAIYUAN, TopCb(code="140100", page=1).pack())
    text = last_text(second)
    assert "（第 2/2 页）" in text
    ranks = [
        line.split(" · ")[0] for line in text.splitlines() if line[:3] in ("11.", "12.", "13.")
    ]
    assert ranks == [
        "11. 太原劳务02",
        "12. 太原劳务01",
        "13. 太原劳务00",
    ]  # fmt: skip
    assert inline_texts(last_reply_markup(second))[0] == "◀ 上一页"


# --- 统计 / 需求 / 成交 / 评价 -----------------------------------------------------------------


async def test_statistics_show_short_and_idle_workers_per_trade_and_grade(
    driver: BotDriver, world: RegWorld
) -> None:
    text = last_text(await menu(driver, TAIYUAN, "menu.statistics"))
    assert text.startswith("📈 <b>太原市</b> 用工调度统计（工种 × 等级）")
    header, *body = table(text)
    assert header == ["工种", "1级", "2级", "3级", "合计"]
    # blank cells collapse when split: rebar has no 3级, plasterer no 1级
    assert body == [["钢筋工", "0/2", "5/0", "5/2"], ["抹灰工", "2/4", "3/0", "5/4"]]
    assert "合计：缺工 10 人 · 赋闲 6 人" in text


async def test_open_shortages_list_the_oldest_company_first_then_by_project(
    driver: BotDriver, world: RegWorld
) -> None:
    sent = await menu(driver, TAIYUAN, "menu.shortages")
    text = last_text(sent)
    assert "共 3 个 · 3 条 · 缺 10 人 · 第 1 页" in text
    # a company is listed under each county its short projects lie in
    assert (
        "1. <b>山西五建集团</b> · 小店区\n    1 条 · 缺 3 人 · 最早 02-25（7 天）\n"
        "    抹灰工 3\n2. <b>山西五建集团</b> · 迎泽区\n    1 条 · 缺 5 人 · 最早 03-01（3 天）\n"
        "    钢筋工 5\n3. <b>小店建工</b> · 小店区"
    ) in text
    by_project = await driver.tap(TAIYUAN, callback_for(last_reply_markup(sent), "按项目"))
    lines = [ln for ln in last_text(by_project).splitlines() if re.match(r"\d\. ", ln)]
    assert lines == [
        "1. <b>小店区保障房项目</b>（山西五建集团）· 小店区",
        "2. <b>迎泽区学校项目</b>（山西五建集团）· 迎泽区",
        "3. <b>小店商业中心</b>（小店建工）· 小店区",
    ]


async def test_deal_records_filter_by_date_preset_trade_and_county(
    driver: BotDriver, world: RegWorld
) -> None:
    def deal_lines(sent: list[Sent]) -> list[str]:
        return [ln for ln in last_text(sent).splitlines() if re.match(r"\d\d-\d\d \d\d:", ln)]

    week = await menu(driver, TAIYUAN, "menu.deal_records")
    assert "成交记录 2026-02-26 至 2026-03-04 · 工种：全部" in last_text(week)
    # person-days come from the workers' real stays; this world's deals record no workers
    # (tests/integration/test_deals.py and test_dispatch_life.py count real ones)
    assert "共 2 笔 · 3 人 · 0 人日" in last_text(week)
    assert deal_lines(week) == [
        "03-03 11:11 山西五建集团 · 抹灰工 1 人 · 0 人日 · ¥5,500/月",
        "02-27 09:00 山西五建集团 · 钢筋工 2 人 · 0 人日 · ¥6,100/月",
    ]
    yesterday = await driver.tap(TAIYUAN, callback_for(last_reply_markup(week), "昨天"))
    assert len(deal_lines(yesterday)) == 1
    assert "2026-03-03 至 2026-03-03" in last_text(yesterday)
    this_month = await driver.tap(TAIYUAN, DealCb(area="140100", span="c").pack())
    assert [ln[:5] for ln in deal_lines(this_month)] == ["03-03"]
    month = await driver.tap(TAIYUAN, DealCb(area="140100", span="m").pack())
    assert "共 3 笔 · 6 人 · 0 人日" in last_text(month)

    trades = await driver.tap(TAIYUAN, callback_for(last_reply_markup(month), "工种："))
    rebar = await driver.tap(TAIYUAN, callback_for(last_reply_markup(trades), "钢筋工"))
    assert [ln[:5] for ln in deal_lines(rebar)] == ["02-27"]
    areas = await driver.tap(TAIYUAN, callback_for(last_reply_markup(month), "地区："))
    xiaodian = await driver.tap(TAIYUAN, callback_for(last_reply_markup(areas), "小店区"))
    assert "💰 <b>小店区</b>" in last_text(xiaodian)
    assert [ln[:5] for ln in deal_lines(xiaodian)] == ["03-03", "02-10"]


async def test_deal_records_for_a_typed_date_range_headcount_and_price(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    def deal_lines(sent: list[Sent]) -> list[str]:
        return [ln for ln in last_text(sent).splitlines() if re.match(r"\d\d-\d\d \d\d:", ln)]

    week = await menu(driver, TAIYUAN, "menu.deal_records")
    assert "人日按每名工人实际在场天数计：到岗日至退场日（未退场算到今天）" in last_text(week)
    ask = await driver.tap(TAIYUAN, callback_for(last_reply_markup(week), "自选日期"))
    assert "2026-11-01 2026-11-30" in last_text(ask)
    # bad input: the reason and the same question again, nothing else changes
    for typed, reason in (
        ("2026-03-04 2026-02-01", "开始日期晚于结束日期。"),
        ("上个月", "请输入两个日期"),
        ("2026-02-30 2026-03-01", "看不懂日期“2026-02-30”"),
        ("2025-01-01 2026-03-01", "日期范围最长 366 天"),
    ):
        again = await driver.send(TAIYUAN, typed)
        assert reason in last_text(again), typed
        assert "请输入起止日期" in last_text(again), typed
    ranged = await driver.send(TAIYUAN, "2026-02-01 2026-02-28")
    assert "成交记录 2026-02-01 至 2026-02-28" in last_text(ranged)
    assert [ln[:5] for ln in deal_lines(ranged)] == ["02-27", "02-10"]
    # the typed range stays while paging through filters: headcount 2-3, then a price cap
    ask = await driver.tap(TAIYUAN, callback_for(last_reply_markup(ranged), "人数"))
    refused = await driver.send(TAIYUAN, "5-2")
    assert "前一个数大于后一个数" in last_text(refused)
    by_headcount = await driver.send(TAIYUAN, "2-3")
    assert "人数 2–3" in last_text(by_headcount)
    assert "2026-02-01 至 2026-02-28" in last_text(by_headcount)
    assert [ln[:5] for ln in deal_lines(by_headcount)] == ["02-27", "02-10"]
    await driver.tap(TAIYUAN, callback_for(last_reply_markup(by_headcount), "¥ 价格"))
    by_price = await driver.send(TAIYUAN, "4000-5500")
    assert "价格 ¥4,000–¥5,500/月" in last_text(by_price)
    # the world's hand-made deals have no workers on site, so no person-days yet
    assert deal_lines(by_price) == ["02-10 15:00 山西五建集团 · 抹灰工 3 人 · 0 人日 · ¥5,000/月"]
    assert "共 1 笔 · 3 人 · 0 人日" in last_text(by_price)
    cleared = await driver.tap(TAIYUAN, callback_for(last_reply_markup(by_price), "清除"))
    assert len(deal_lines(cleared)) == 2
    # a forged picker for another city is refused
    forged = await driver.tap(
        TAIYUAN, DealPickCb(area="140700", span="w", trade="", what="d").pack()
    )
    assert alert(forged) == t("error.out_of_scope", "zh")


async def test_deal_records_page_ten_at_a_time_both_ways(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        for n in range(11):  # one a day from 02-12 to 02-22, 9:00
            await add_deal(
                uow, shortage_id=world.s2, idle_id=None, receiver=world.wujian_id,
                supplier=world.xiaodian_build_id, trade="rebar", county="140106", headcount=1,
                price_fen=600_000, at=shanghai(date(2026, 2, 12 + n), 9),
            )  # fmt: skip
        await uow.commit()

    def days(sent: list[Sent]) -> list[str]:
        return [ln[:5] for ln in last_text(sent).splitlines() if re.match(r"\d\d-\d\d ", ln)]

    first = await driver.tap(TAIYUAN, DealCb(area="140100", span="m").pack())
    assert "共 14 笔" in last_text(first)
    assert days(first) == ["03-03", "02-27", *(f"02-{d}" for d in range(22, 14, -1))]
    assert inline_texts(last_reply_markup(first))[-2] == "下一页 ▶"
    second = await driver.tap(TAIYUAN, callback_for(last_reply_markup(first), "下一页"))
    assert days(second) == ["02-14", "02-13", "02-12", "02-10"]
    back = await driver.tap(TAIYUAN, callback_for(last_reply_markup(second), "上一页"))
    assert days(back) == days(first)


async def test_worker_ratings_come_lowest_first_with_the_four_shares_and_masked_ids(
    driver: BotDriver, world: RegWorld
) -> None:
    text = last_text(await menu(driver, TAIYUAN, "menu.ratings"))
    masked = world.wang_id_number[:6] + "********" + world.wang_id_number[-4:]
    names = [ln.split(" ")[1] for ln in text.splitlines() if re.match(r"\d\. ", ln)]
    assert names == ["赵伟", "王海东", "李文光"]  # 1.00, 3.50, 4.00; 晋中's 孙小华 not here
    assert (
        f"2. 王海东 {masked} · 抹灰工 · 太原迎泽劳务\n"
        "    平均 3.50 分（2 条）不满意 50% · 一般 0% · 比较满意 0% · 非常满意 50%"
    ) in text
    assert world.wang_id_number not in text


# --- 📥 Excel --------------------------------------------------------------------------------


async def test_excel_exports_arrive_as_documents_holding_the_screens_rows(
    driver: BotDriver, world: RegWorld
) -> None:
    summary = await driver.tap(TAIYUAN, ExportCb(table="s", code="140100").pack())
    (doc,) = documents(summary)
    assert doc.params["document"].filename == "用工调度汇总_太原市_2026-03-04.xlsx"
    rows = sheet_rows(doc)
    assert rows[0] == ("地区代码", "地区", "缺工条数", "缺工", "赋闲条数", "赋闲", "差额")
    assert rows[1] == ("140105", "小店区", 2, 5, 1, 2, -3)
    assert rows[2] == ("140106", "迎泽区", 1, 5, 1, 4, -1)
    assert rows[-1] == ("140100", "合计", 3, 10, 2, 6, -4)

    month = await driver.tap(TAIYUAN, ExportCb(table="d", code="140100", a="m").pack())
    rows = sheet_rows(documents(month)[0])
    assert rows[0] == (
        "成交时间", "企业", "派出企业", "工种", "人数", "人日", "成交价（元/月）", "地区"
    )  # fmt: skip
    assert [r[1:] for r in rows[1:]] == [
        ("山西五建集团", "太原迎泽劳务", "抹灰工", 1, 0, 5500, "小店区"),
        ("山西五建集团", "小店建工", "钢筋工", 2, 0, 6100, "迎泽区"),
        ("山西五建集团", "太原迎泽劳务", "抹灰工", 3, 0, 5000, "小店区"),
    ]
    assert str(rows[1][0]) == "2026-03-03 11:11:00"  # Shanxi wall time

    ratings = await driver.tap(TAIYUAN, ExportCb(table="r", code="140100").pack())
    rows = sheet_rows(documents(ratings)[0])
    assert rows[2][:2] == (
        "王海东",
        world.wang_id_number[:6] + "********" + world.wang_id_number[-4:],
    )
    assert float(rows[2][5]) == 3.5
    assert float(rows[2][6]) == 0.5


# --- forged buttons --------------------------------------------------------------------------


async def test_forged_buttons_for_another_city_are_refused_and_change_nothing(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    refused = {t("error.out_of_scope", "zh"), t("error.forbidden", "zh")}
    forged = [
        SumCb(code="140700"),
        SumCb(code="140702"),
        TopCb(code="140700"),
        StatCb(code="140700"),
        ShortCb(code="140702", group="p"),
        SilentCb(code="140700"),
        DealCb(area="140702", span="m"),
        RateCb(code="140700"),
        GuideCb(act="v", city="140700"),
        GuideCb(act="s", city="140700"),
        GradeCb(worker=world.sun_id),
        GradeCb(worker=world.sun_id, grade=1, ok=1),
        EscViewCb(kind="s", id=world.s9),
        BrokerCb(shortage=world.s9, idle=world.i9, ok=1),
        BrokerCb(shortage=world.s1, idle=world.i9, ok=1),
        ExportCb(table="s", code="140700"),
        ExportCb(table="d", code="140702", a="m"),
    ]
    for data in forged:
        sent = await driver.tap(TAIYUAN, data.pack())
        assert alert(sent) in refused, data
        assert [s.method for s in sent] == ["answerCallbackQuery"], data
    async with services.uow() as uow:
        assert (
            await uow.session.scalar(select(Worker.grade_level).where(Worker.id == world.sun_id))
            == 2
        )
        assert (await uow.session.scalars(select(OutboxMessage.id))).all() == []
        assert (await uow.session.scalars(select(AuditLog.id))).all() == []


# --- 指导价 ----------------------------------------------------------------------------------


async def test_a_city_bureau_sets_a_guide_price_step_by_step_and_bad_prices_are_asked_again(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    view = await menu(driver, TAIYUAN, "menu.guide_prices")
    assert table(last_text(view)) == [["工种", "1级", "2级"], ["抹灰工", "—", "4,000"],
                                      ["木工", "7,500", "—"]]  # fmt: skip
    trades = await driver.tap(TAIYUAN, callback_for(last_reply_markup(view), "设置指导价"))
    grades = await driver.tap(TAIYUAN, callback_for(last_reply_markup(trades), "抹灰工"))
    assert "二级 · 4,000" in inline_texts(last_reply_markup(grades))
    ask = await driver.tap(TAIYUAN, callback_for(last_reply_markup(grades), "二级"))
    assert "现行指导价：¥4,000/月" in last_text(ask)
    assert await driver.state(TAIYUAN) == "RegulatorGuide:price"

    for bad, key in (("1", "error.price_range"), ("面议", "error.price_not_number")):
        sent = await driver.send(TAIYUAN, bad)
        assert last_text(sent).startswith(t(key, "zh", min=100, max=100000))
        assert await driver.state(TAIYUAN) == "RegulatorGuide:price"
    sticker = await driver.send_sticker(TAIYUAN)
    assert last_text(sticker) == t("regulator.guide.retry", "zh")

    confirm = await driver.send(TAIYUAN, "4,200")
    assert last_text(confirm) == (
        "请确认：\n太原市 · 抹灰工 · 二级\n原指导价：¥4,000/月（变动 +5.0%）\n新指导价：¥4,200/月"
    )
    async with services.uow() as uow:  # nothing written before Confirm
        assert len((await uow.session.scalars(select(GuidePrice.id))).all()) == 3
    done = await driver.tap(TAIYUAN, callback_for(last_reply_markup(confirm), "确认"))
    assert last_text(done).startswith("✅ 已发布：太原市 · 抹灰工 · 二级 ¥4,200/月")
    assert ["抹灰工", "—", "4,200"] in table(last_text(done))
    assert await driver.state(TAIYUAN) is None
    again = await driver.tap(TAIYUAN, callback_for(last_reply_markup(confirm), "确认"))
    assert answers(again)[0]["text"] == t("common.stale", "zh")  # a second tap writes nothing

    async with services.uow() as uow:
        row = await uow.session.scalar(
            select(GuidePrice).where(GuidePrice.effective_date == date(2026, 3, 4))
        )
        audits = (await uow.session.scalars(select(AuditLog))).all()
        assert row is not None
        assert (row.city_code, row.trade_code, row.grade_level, row.price_fen) == (
            "140100", "plasterer", 2, 420_000
        )  # fmt: skip
        assert [(a.action, a.before, a.after["price"], a.actor_account_id) for a in audits] == [
            ("guide_price.set", {"price": "4000.00", "effective_date": "2026-01-01"}, "4200.00",
             world.taiyuan.account_id)
        ]  # fmt: skip


async def test_a_county_bureau_sees_its_city_guide_prices_but_may_not_set_them(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    view = await menu(driver, XIAODIAN, "menu.guide_prices")
    assert "🏷 <b>太原市</b>" in last_text(view)
    assert t("regulator.guide.view_only", "zh") in last_text(view)
    assert not any("设置" in text for text in inline_texts(last_reply_markup(view)))

    for forged in (
        GuideCb(act="s", city="140100"),
        GuideCb(act="g", city="140100", trade="plasterer", grade=2),
    ):
        sent = await driver.tap(XIAODIAN, forged.pack())
        assert alert(sent) == t("error.guide_price_county", "zh")
    assert await driver.state(XIAODIAN) is None
    async with services.uow() as uow:
        assert len((await uow.session.scalars(select(GuidePrice.id))).all()) == 3


# --- 评级 ------------------------------------------------------------------------------------


async def test_grading_by_full_id_number_never_echoes_it_and_is_audited(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    await menu(driver, TAIYUAN, "menu.grading")
    short = await driver.send(TAIYUAN, world.wang_id_number[:17])
    assert last_text(short).startswith(t("error.id_length", "zh"))
    assert await driver.state(TAIYUAN) == "RegulatorGrading:query"
    foreign = await driver.send(TAIYUAN, "孙小华")  # 晋中's worker: not in this bureau's area
    assert last_text(foreign) == t("regulator.grading.not_found", "zh")

    found = await driver.send(TAIYUAN, world.wang_id_number)
    assert "deleteMessage" in [s.method for s in found]  # the typed number leaves the chat
    masked = world.wang_id_number[:6] + "********" + world.wang_id_number[-4:]
    card = last_text(found)
    assert f"身份证：{masked}" in card
    assert "现等级：二级" in card
    assert inline_texts(last_reply_markup(found))[:3] == ["一级", "✅ 二级", "三级"]
    confirm = await driver.tap(TAIYUAN, callback_for(last_reply_markup(found), "一级"))
    assert last_text(confirm) == f"将 <b>王海东</b>（{masked}）的技能等级由 二级 调整为 一级？"
    async with services.uow() as uow:  # not before Confirm
        assert (
            await uow.session.scalar(select(Worker.grade_level).where(Worker.id == world.wang_id))
            == 2
        )
    done = await driver.tap(TAIYUAN, callback_for(last_reply_markup(confirm), "确认"))
    assert last_text(done).startswith("✅ 已将 王海东 的技能等级调整为 一级。")
    assert all(world.wang_id_number not in text for text in texts(driver.requests))

    async with services.uow() as uow:
        assert (
            await uow.session.scalar(select(Worker.grade_level).where(Worker.id == world.wang_id))
            == 1
        )
        audits = [
            (a.action, a.entity_id, a.before, a.after)
            for a in (await uow.session.scalars(select(AuditLog))).all()
        ]
    assert audits == [("worker.grade", str(world.wang_id), {"grade_level": 2}, {"grade_level": 1})]


# --- 协调 ------------------------------------------------------------------------------------


async def test_brokering_an_escalated_pair_sends_both_companies_an_offer_button(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    listing = await menu(driver, TAIYUAN, "menu.escalations")
    assert f"缺工 #{world.s1} · 山西五建集团 · 小店区保障房项目 · 小店区" in last_text(listing)
    assert f"#{world.s9}" not in last_text(listing)  # 晋中's escalation is not shown
    detail = await driver.tap(TAIYUAN, callback_for(last_reply_markup(listing), f"#{world.s1}"))
    text = last_text(detail)
    assert f"1. 赋闲 #{world.i1} · 太原迎泽劳务 · 迎泽区" in text
    assert f"#{world.i9}" not in text  # 晋中's idle workers fit, but are not ours to broker
    ask = await driver.tap(TAIYUAN, callback_for(last_reply_markup(detail), "撮合第 1 个"))
    assert last_text(ask).startswith(t("regulator.broker.ask", "zh"))
    async with services.uow() as uow:
        assert (await uow.session.scalars(select(OutboxMessage.id))).all() == []
    sent = await driver.tap(TAIYUAN, callback_for(last_reply_markup(ask), "确认"))
    assert last_text(sent).startswith("✅ 已向双方发送撮合建议")

    async with services.uow() as uow:
        rows = (await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert sorted(r.account_id for r in rows) == sorted(
            [world.wujian_dispatcher, world.yingze_dispatcher]
        )
        item = OutboxItem(
            id=rows[0].id, account_id=rows[0].account_id, kind=rows[0].kind,
            payload=rows[0].payload, attempts=0, created_at=rows[0].created_at, chat_id=1,
            locale="zh", active=True,
        )  # fmt: skip
        (message,) = await outbox_renderers().render(item, uow, lambda key, **p: t(key, "zh", **p))
    assert message.text.startswith("🧭 太原市主管部门建议以下双方对接：")
    assert f"🔴 缺工 #{world.s1}：山西五建集团 · 小店区保障房项目 · 小店区" in message.text
    assert "139****5678" in message.text
    assert "13912345678" not in message.text
    assert inline_buttons(message.reply_markup) == [("🤝 发起交易", f"pp:{world.s1}:{world.i1}")]


# --- English ---------------------------------------------------------------------------------


async def test_the_summary_reads_in_english_for_an_english_speaking_bureau(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        await uow.session.execute(
            update(Account).where(Account.id == world.taiyuan.account_id).values(locale="en")
        )
        await uow.commit()
    sent = await menu(driver, TAIYUAN, "menu.summary", "en")
    text = last_text(sent)
    assert text.startswith("📊 <b>Taiyuan</b> dispatch summary · 2026-03-04")
    # "Xinghualing District" makes the table wider than a phone: a list instead
    assert "<pre>" not in text
    assert "<b>Xiaodian District</b>: Short 5 · Idle 2 · Balance -3\n" in text
    assert "<b>Total</b>: Short 10 · Idle 6 · Balance -4\n" in text
    assert "Xiaodian District" in inline_texts(last_reply_markup(sent))
    assert "🏢 Top 50 by credit" in inline_texts(last_reply_markup(sent))


async def test_a_city_bureau_browses_a_price_history_and_deletes_a_price(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        uow.session.add(
            GuidePrice(
                city_code="140100", trade_code="plasterer", grade_level=2, price_fen=420_000,
                effective_date=date(2026, 3, 1), set_by_account_id=world.taiyuan.account_id,
                created_at=uow.now(),
            )
        )  # fmt: skip
        await uow.commit()
    view = await menu(driver, TAIYUAN, "menu.guide_prices")
    trades = await driver.tap(TAIYUAN, callback_for(last_reply_markup(view), "按工种"))
    plasterer = await driver.tap(TAIYUAN, callback_for(last_reply_markup(trades), "抹灰工"))
    assert table(last_text(plasterer)) == [["工种", "2级"], ["抹灰工", "4,200"]]
    history = await driver.tap(TAIYUAN, callback_for(last_reply_markup(plasterer), "历史"))
    lines = last_text(history).splitlines()
    assert lines[1:] == [
        "✅ 2026-03-01 起 ¥4,200/月 · 太原住建局（现行）",
        "2026-01-01 起 ¥4,000/月 · —",
    ]
    ask = await driver.tap(TAIYUAN, callback_for(last_reply_markup(history), "删除 2026-03-01"))
    assert "删除后，之前的价格重新生效" in last_text(ask)
    done = await driver.tap(TAIYUAN, callback_for(last_reply_markup(ask), "确认删除"))
    assert last_text(done).splitlines()[1:] == ["✅ 2026-01-01 起 ¥4,000/月 · —（现行）"]
    async with services.uow() as uow:
        actions = (await uow.session.scalars(select(AuditLog.action))).all()
    assert actions == ["guide_price.delete"]

    by_grade = await driver.tap(TAIYUAN, GuideCb(act="fg", city="140100", grade=1).pack())
    assert table(last_text(by_grade)) == [["工种", "1级"], ["木工", "7,500"]]
    # the county bureau reads the history but gets no delete buttons, and a forged one fails
    county = await driver.tap(
        XIAODIAN, GuideCb(act="h", city="140100", trade="plasterer", grade=2).pack()
    )
    assert not any("删除" in text for text in inline_texts(last_reply_markup(county)))
    async with services.uow() as uow:
        price_id = await uow.session.scalar(
            select(GuidePrice.id).where(GuidePrice.grade_level == 2)
        )
    forged = await driver.tap(
        XIAODIAN, GuideCb(act="dx", city="140100", trade="plasterer", grade=2, id=price_id).pack()
    )
    assert alert(forged) in {t("error.forbidden", "zh"), t("error.out_of_scope", "zh")}
    jinzhong = await driver.tap(
        TAIYUAN, GuideCb(act="h", city="140700", trade="plasterer", grade=4).pack()
    )
    assert alert(jinzhong) == t("error.out_of_scope", "zh")
