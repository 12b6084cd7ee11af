"""🏗 Projects (the seed's enterprise table) and 👷 Workers (list, card, busy ↔ idle, find)."""

from __future__ import annotations

from sqlalchemy import select

from bot.i18n import t
from bot.keyboards.projects import ProjectsPageCb
from bot.keyboards.workers import WorkerCardCb, WorkersCb, WorkerSetCb, WorkersFindCb
from core.db.models import Enterprise, Project, Worker
from core.db.uow import Services
from tests.bot.conftest import DISPATCHER_TG, Company
from tests.bot.harness import (
    BotDriver,
    answers,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    reply_keyboard_texts,
    texts,
    tg_user,
)
from tests.factories import make_enterprise, make_project, make_shortage, make_team, make_worker

DISPATCHER = tg_user(DISPATCHER_TG, name="李调度")
NUMERALS = "一二三四五六七八九十"


async def status_of(services: Services, worker_id: int) -> str:
    async with services.uow() as uow:
        return str(await uow.session.scalar(select(Worker.status).where(Worker.id == worker_id)))


async def test_the_projects_table_shows_each_projects_shortage_and_idle_and_the_totals(
    driver: BotDriver, services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        ent = await uow.session.get(Enterprise, company.enterprise_id)
        south = await uow.session.get(Project, company.project_ids[0])
        assert ent is not None
        assert south is not None
        crew = await make_team(uow, south, "plasterer")
        for name in ("王海东", "李文光", "赵伟"):
            await make_worker(uow, ent, name=name, status="busy", team=crew)
        await make_worker(uow, ent, name="孙小华", status="idle", team=crew)
        for name in ("吴玉兰", "张红飞"):  # idle, in no team yet
            await make_worker(uow, ent, name=name, trade_code="mason", status="idle")
        await make_shortage(uow, south, trade_code="rebar", headcount=5, filled_count=1)
        for n in range(8):  # ten projects in all: two pages
            await make_project(uow, ent, name=f"二期{n + 1}号楼")
        await uow.commit()

    sent = await driver.send(DISPATCHER, "🏗 项目用工")
    lines = last_text(sent).split("\n")
    assert lines[:3] == [
        t("projects.title", "zh", name="山西五建集团", day="2026-03-04"),
        # surplus: workers on offer in open idle postings (none yet), as a bureau counts it;
        # the three idle workers show per project below
        t("projects.totals", "zh", shortage=4, surplus=0),
        t("projects.today", "zh", new_workers=6, new_idle=3),
    ]
    assert lines[4:8] == [
        t("projects.project", "zh", n=1, name="太原南站项目", on_duty=3),
        "   钢筋工 🔴4 · 抹灰工 🟡1",
        t("projects.project", "zh", n=2, name="晋阳湖公寓", on_duty=0),
        t("projects.balanced", "zh"),
    ]
    assert "9." not in last_text(sent)
    assert inline_texts(last_reply_markup(sent)) == ["1/2", "▶"]

    sent = await driver.tap(DISPATCHER, ProjectsPageCb(page=1).pack())
    page2 = last_text(sent)
    assert t("projects.project", "zh", n=9, name="二期7号楼", on_duty=0) in page2
    assert "太原南站项目" not in page2
    assert inline_texts(last_reply_markup(sent)) == ["◀", "2/2"]
    # a forged page number shows the last page, nothing more
    assert last_text(await driver.tap(DISPATCHER, ProjectsPageCb(page=99).pack())) == page2


async def test_a_worker_goes_idle_and_busy_again_from_the_card_and_it_is_saved(
    driver: BotDriver, services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        ent = await uow.session.get(Enterprise, company.enterprise_id)
        assert ent is not None
        ids = [
            (await make_worker(uow, ent, name=f"工人{NUMERALS[n]}", status="busy")).id
            for n in range(7)
        ]
        await uow.commit()

    sent = await driver.send(DISPATCHER, "👷 工人管理")
    listing = last_text(sent)
    assert listing.startswith(t("workers.title", "zh", trade="全部工种", busy=7, idle=0))
    assert "🟢 工人一 · 140105********" in listing
    assert "· 抹灰工 二级 · ☆ 暂无评分 · 在岗" in listing
    buttons = inline_buttons(last_reply_markup(sent))
    assert len([data for _text, data in buttons if data and data.startswith("wkc:")]) == 6

    sent = await driver.tap(DISPATCHER, WorkerCardCb(worker_id=ids[0]).pack())
    assert t("workers.card_status", "zh", status="在岗") in last_text(sent)
    set_idle = WorkerSetCb(worker_id=ids[0], to="i").pack()
    assert inline_buttons(last_reply_markup(sent))[0] == (t("workers.set_idle", "zh"), set_idle)

    sent = await driver.tap(DISPATCHER, set_idle)
    assert answers(sent)[0]["text"] == t("workers.saved", "zh")
    assert t("workers.card_status", "zh", status="赋闲") in last_text(sent)
    assert await status_of(services, ids[0]) == "idle"
    await driver.tap(DISPATCHER, set_idle)  # a double tap: still idle, nothing toggles back
    assert await status_of(services, ids[0]) == "idle"

    sent = await driver.tap(DISPATCHER, WorkersCb(st="i").pack())
    assert t("workers.title", "zh", trade="全部工种", busy=6, idle=1) in last_text(sent)
    assert "工人一" in last_text(sent)
    assert "工人二" not in last_text(sent)

    await driver.tap(DISPATCHER, WorkerSetCb(worker_id=ids[0], to="b").pack())
    assert await status_of(services, ids[0]) == "busy"


async def test_the_list_pages_forward_and_back(
    driver: BotDriver, services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        ent = await uow.session.get(Enterprise, company.enterprise_id)
        assert ent is not None
        for n in range(8):
            await make_worker(uow, ent, name=f"工人{NUMERALS[n]}")
        await uow.commit()
    await driver.send(DISPATCHER, "👷 工人管理")
    forward = [d for text, d in inline_buttons(driver.last_reply_markup()) if text == "▶"]
    sent = await driver.tap(DISPATCHER, str(forward[0]))
    assert "工人七" in last_text(sent)
    assert "工人一" not in last_text(sent)
    back = [d for text, d in inline_buttons(last_reply_markup(sent)) if text == "◀"]
    sent = await driver.tap(DISPATCHER, str(back[0]))
    assert "工人一" in last_text(sent)
    assert "工人七" not in last_text(sent)


async def test_find_a_worker_by_name_and_bad_input_asks_again(
    driver: BotDriver, services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        ent = await uow.session.get(Enterprise, company.enterprise_id)
        assert ent is not None
        wanted = await make_worker(uow, ent, name="王海东")
        await make_worker(uow, ent, name="李文光")
        await uow.commit()
    await driver.send(DISPATCHER, "👷 工人管理")
    sent = await driver.tap(DISPATCHER, WorkersFindCb().pack())
    assert last_text(sent) == t("workers.ask_name", "zh")

    assert last_text(await driver.send(DISPATCHER, "x" * 5000)) == t(
        "error.text_too_long", "zh", field="name", max=30
    )
    assert last_text(await driver.send_sticker(DISPATCHER)) == t("workers.ask_name", "zh")
    assert last_text(await driver.send(DISPATCHER, "张")) == t("workers.not_found", "zh")

    sent = await driver.send(DISPATCHER, "海东")
    found, listing = texts(sent)
    assert found == t("workers.found", "zh", count=1)
    assert reply_keyboard_texts(sent[0].reply_markup)[0] == "🏗 项目用工"  # the menu is back
    assert "王海东" in listing
    assert "李文光" not in listing
    assert inline_buttons(last_reply_markup(sent)) == [
        ("🟡 王海东", WorkerCardCb(worker_id=wanted.id).pack())
    ]
    assert await driver.state(DISPATCHER) is None


async def test_another_companys_worker_cannot_be_opened_or_switched(
    driver: BotDriver, services: Services, company: Company
) -> None:
    async with services.uow() as uow:
        stranger = await make_enterprise(uow, name="外地劳务公司")
        foreign = await make_worker(uow, stranger, name="外人", status="busy")
        await uow.commit()
    sent = await driver.tap(DISPATCHER, WorkerCardCb(worker_id=foreign.id).pack())
    assert answers(sent)[0]["text"] == t("error.worker_not_found", "zh")
    sent = await driver.tap(DISPATCHER, WorkerSetCb(worker_id=foreign.id, to="i").pack())
    assert answers(sent)[0]["text"] == t("error.forbidden", "zh")
    for forged in (WorkersCb(st="x"), WorkersCb(tr="astronaut"), WorkersCb(at=-5)):
        sent = await driver.tap(DISPATCHER, forged.pack())
        assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert await status_of(services, foreign.id) == "busy"
