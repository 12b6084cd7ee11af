"""🎖 评级 through the real dispatcher: browsing the region's workers with filters, and the
bureau's workbook sent back (preview, refusals with why, confirm applies all, audited)."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from bot.i18n import t
from bot.keyboards.regulator import GradeListCb
from core.db.models import AuditLog, Worker
from core.db.uow import Services
from tests.bot.harness import (
    BotDriver,
    Sent,
    answers,
    callback_for,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.integration.regulator_world import (
    JINZHONG_REGULATOR_TG,
    TAIYUAN_REGULATOR_TG,
    RegWorld,
    build_reg_world,
)

TAIYUAN = tg_user(TAIYUAN_REGULATOR_TG)
JINZHONG = tg_user(JINZHONG_REGULATOR_TG)


@pytest.fixture
async def world(services: Services) -> RegWorld:
    return await build_reg_world(services)


def document_rows(sent: list[Sent]) -> list[list[object]]:
    [doc] = [s for s in sent if s.method == "sendDocument"]
    sheet = load_workbook(io.BytesIO(doc.params["document"].data)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_browsing_the_regions_workers_with_filters_opens_their_grading_card(
    driver: BotDriver, world: RegWorld
) -> None:
    opened = await driver.send(TAIYUAN, t("menu.grading", "zh"))
    listed = await driver.tap(TAIYUAN, callback_for(last_reply_markup(opened), "浏览"))
    text = last_text(listed)
    assert "工人评级 · 共 6 人 · 第 1 页" in text
    assert "筛选：全部" in text
    assert "孙小华" not in text  # 晋中's worker
    assert "王海东 · 男" in text or "王海东 · 女" in text
    picker = await driver.tap(TAIYUAN, GradeListCb(act="f", v="t").pack())
    rebar = await driver.tap(TAIYUAN, callback_for(last_reply_markup(picker), "钢筋工"))
    assert "共 2 人" in last_text(rebar)
    assert "筛选：工种 钢筋工" in last_text(rebar)
    assert "✅ 工种" in inline_texts(last_reply_markup(rebar))
    card = await driver.tap(TAIYUAN, callback_for(last_reply_markup(rebar), "赵伟"))
    assert (
        "赵伟" in last_text(card) and "请选择新的等级" in last_text(card)
    ) or "赵伟" in last_text(card)
    # a forged filter value changes nothing and is refused
    forged = await driver.tap(TAIYUAN, GradeListCb(act="s", v="X").pack())
    assert [s.method for s in forged] == ["answerCallbackQuery"]
    still = await driver.tap(TAIYUAN, GradeListCb(act="l").pack())
    assert "筛选：工种 钢筋工" in last_text(still)  # the forged value was not kept


async def test_the_returned_workbook_is_previewed_with_refusals_and_applied_on_confirm(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    exported = await driver.tap(TAIYUAN, GradeListCb(act="x").pack())
    header, *rows = document_rows(exported)
    assert header[0] == "编号"
    assert header[-1] == "新等级"
    assert len(rows) == 6
    by_name = {row[1]: row for row in rows}
    by_name["王海东"][-1] = 1
    by_name["赵伟"][-1] = 9
    sheet = [header, *rows, [world.sun_id, "孙小华", "", None, None, "", 2, 3]]

    await driver.tap(TAIYUAN, GradeListCb(act="u").pack())
    not_xlsx = await driver.send_document(TAIYUAN, "grades.xlsx", b"not a workbook")
    assert t("error.grading_not_xlsx", "zh") in last_text(not_xlsx)
    wrong = await driver.send_document(TAIYUAN, "grades.xlsx", xlsx([["工号", "等级"], [1, 2]]))
    assert "表头不对" in last_text(wrong)
    async with services.uow() as uow:
        assert (await uow.session.scalars(select(AuditLog))).all() == []

    preview = await driver.send_document(TAIYUAN, "grades.xlsx", xlsx(sheet))
    text = last_text(preview)
    assert "读取 7 行：1 人将改等级，2 行未接受，4 行不变。" in text
    assert "王海东：2级 → 1级" in text
    assert "（编号 " in text
    assert "新等级应为 1–5" in text
    assert "不是本辖区的工人" in text
    async with services.uow() as uow:  # nothing written before the confirm
        assert (
            await uow.session.scalar(select(Worker.grade_level).where(Worker.id == world.wang_id))
            == 2
        )
    done = await driver.tap(TAIYUAN, callback_for(last_reply_markup(preview), "确认修改 1 人"))
    assert "已修改 1 名工人的等级" in last_text(done)
    again = await driver.tap(TAIYUAN, GradeListCb(act="ok").pack())
    assert answers(again)  # a second tap: stale, nothing applied twice
    async with services.uow() as uow:
        assert (
            await uow.session.scalar(select(Worker.grade_level).where(Worker.id == world.wang_id))
            == 1
        )
        assert (
            await uow.session.scalar(select(Worker.grade_level).where(Worker.id == world.sun_id))
            == 2
        )
        audits = (await uow.session.scalars(select(AuditLog))).all()
        assert [(a.action, a.entity_id) for a in audits] == [("worker.grade", str(world.wang_id))]


async def test_another_bureau_cannot_grade_this_regions_workers_by_workbook(
    driver: BotDriver, services: Services, world: RegWorld
) -> None:
    await driver.tap(JINZHONG, GradeListCb(act="u").pack())
    header = ["编号", "姓名", "性别", "出生日期", "身份证号（隐藏）", "工种", "现等级", "新等级"]
    preview = await driver.send_document(
        JINZHONG, "g.xlsx", xlsx([header, [world.wang_id, "王海东", "", None, None, "", 2, 1]])
    )
    assert "0 人将改等级，1 行未接受" in last_text(preview)
    assert not any("确认修改" in b for b in inline_texts(last_reply_markup(preview)))
    listed = await driver.tap(JINZHONG, GradeListCb(act="l").pack())
    assert "王海东" not in last_text(listed)
    assert "孙小华" in last_text(listed)
