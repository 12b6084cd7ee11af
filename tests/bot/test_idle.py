"""📤 Declare idle through the real dispatcher: county → trade → grade → workers (multi-select
over pages) → price → contact → summary → Confirm, and what may go wrong on the way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from bot.callbacks_deals import ProposeCb
from bot.i18n import t
from bot.keyboards.idle import (
    IdleAllCb,
    IdleContactCb,
    IdleCountyCb,
    IdleDoneCb,
    IdleGradeCb,
    IdlePageCb,
    IdlePickCb,
    IdlePriceCb,
    IdleSummaryCb,
    IdleTradeCb,
)
from core.db.models import Enterprise, GuidePrice, IdlePosting, IdlePostingWorker, Project
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role, WorkerStatus
from core.services import accounts
from core.services.workers import set_worker_status
from tests.bot.conftest import DISPATCHER_TG, Company
from tests.bot.harness import (
    BotDriver,
    answers,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.factories import make_enterprise, make_shortage, make_worker

DISPATCHER = tg_user(DISPATCHER_TG, name="李调度")
NAMES = ["王海东", "李文光", "赵伟", "孙小华", "吴玉兰", "张红飞", "周大勇", "郑小军"]


@dataclass(frozen=True)
class Crew:
    grade2: tuple[int, ...]  # eight idle plasterers of 二级: two picker pages at 三级
    grade4: int  # an idle plasterer of 四级: not offered when 三级 is asked
    busy: int
    foreign: int  # another company's idle plasterer
    internal_shortage: int  # a shortage of the company's own project
    market_shortage: int  # another company's shortage


async def make_crew(services: Services, company: Company) -> Crew:
    async with services.uow() as uow:
        ent = await uow.session.get(Enterprise, company.enterprise_id)
        project = await uow.session.get(Project, company.project_ids[0])
        other_project = await uow.session.get(Project, company.other_project_id)
        assert ent is not None
        assert project is not None
        assert other_project is not None
        grade2 = [
            (
                await make_worker(uow, ent, name=name, grade_level=2, rating_sum=9, rating_count=2)
            ).id
            for name in NAMES
        ]
        grade4 = await make_worker(uow, ent, name="钱老四", grade_level=4)
        busy = await make_worker(uow, ent, name="冯在岗", status="busy")
        stranger = await make_enterprise(uow, name="外地劳务公司")
        foreign = await make_worker(uow, stranger, name="外人")
        internal = await make_shortage(uow, project, min_grade=3, headcount=2, price_fen=460000)
        market = await make_shortage(uow, other_project, min_grade=3, headcount=3)
        # 太原 plasterer 三级: 4,000 a month
        uow.session.add(
            GuidePrice(
                city_code="140100",
                trade_code="plasterer",
                grade_level=3,
                price_fen=400000,
                effective_date=date(2026, 1, 1),
                created_at=uow.now(),
            )
        )
        await uow.commit()
        return Crew(tuple(grade2), grade4.id, busy.id, foreign.id, internal.id, market.id)


@dataclass(frozen=True)
class Posted:
    id: int
    county_code: str
    trade_code: str
    grade_level: int
    headcount: int
    price_fen: int
    contact_name: str
    contact_phone: str


async def postings(services: Services) -> list[tuple[Posted, list[int]]]:
    """Idle postings in the database with their workers' ids."""
    async with services.uow() as uow:
        rows = (await uow.session.scalars(select(IdlePosting).order_by(IdlePosting.id))).all()
        result = []
        for p in rows:
            ids = await uow.session.scalars(
                select(IdlePostingWorker.worker_id)
                .where(IdlePostingWorker.posting_id == p.id)
                .order_by(IdlePostingWorker.worker_id)
            )
            posted = Posted(
                p.id,
                p.county_code,
                p.trade_code,
                p.grade_level,
                p.headcount,
                p.price_fen,
                p.contact_name,
                p.contact_phone,
            )
            result.append((posted, list(ids)))
        return result


async def to_picker(driver: BotDriver) -> None:
    await driver.send(DISPATCHER, "📤 赋闲提报")
    await driver.tap(DISPATCHER, IdleCountyCb(code=140105).pack())
    await driver.tap(DISPATCHER, IdleTradeCb(code="plasterer").pack())
    await driver.tap(DISPATCHER, IdleGradeCb(level=3).pack())


def pick(worker_id: int, on: bool = True, offset: int = 0) -> str:
    return IdlePickCb(worker_id=worker_id, on=on, offset=offset).pack()


async def test_a_dispatcher_declares_idle_workers_picked_across_two_pages(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)

    sent = await driver.send(DISPATCHER, "📤 赋闲提报")
    assert last_text(sent) == t("idle.ask_county", "zh")
    assert inline_texts(last_reply_markup(sent))[:2] == ["小店区", "🗺 其他城市…"]

    sent = await driver.tap(DISPATCHER, IdleCountyCb(code=140105).pack())
    assert inline_texts(last_reply_markup(sent))[0] == "抹灰工 (9)"
    sent = await driver.tap(DISPATCHER, IdleTradeCb(code="plasterer").pack())
    # 一级 has nobody at or above it; 四级 and 五级 also offer the 四级 worker
    assert inline_texts(last_reply_markup(sent))[:4] == [
        "二级 (8)",
        "三级 (8)",
        "四级 (9)",
        "五级 (9)",
    ]
    sent = await driver.tap(DISPATCHER, IdleGradeCb(level=3).pack())
    page1 = last_text(sent)
    assert t("idle.pick_title", "zh", trade="抹灰工", grade="三级", total=8) in page1
    assert "1. ⬜ 王海东 · 140105********" in page1
    assert "★4.5" in page1
    assert "钱老四" not in page1
    assert "冯在岗" not in page1
    assert "外人" not in page1
    assert "1/2" in inline_texts(last_reply_markup(sent))

    a, b = crew.grade2[0], crew.grade2[1]
    await driver.tap(DISPATCHER, pick(a))
    await driver.tap(DISPATCHER, pick(a))  # the same tap twice: still one selection
    await driver.tap(DISPATCHER, pick(b))
    sent = await driver.tap(DISPATCHER, pick(b, on=False))  # deselected again
    assert t("idle.selected_count", "zh", count=1) in last_text(sent)
    sent = await driver.tap(DISPATCHER, IdlePageCb(offset=6).pack())
    assert "7. ⬜ 周大勇" in last_text(sent)
    assert "2/2" in inline_texts(last_reply_markup(sent))
    sent = await driver.tap(DISPATCHER, pick(crew.grade2[6], offset=6))
    assert "7. ✅ 周大勇" in last_text(sent)
    assert (await driver.data(DISPATCHER))["idle_sel"] == [a, crew.grade2[6]]

    # the bot restarts: the dialog and the selection are in the SQL FSM storage
    await driver.close()
    seen = driver._update_ids  # the new process keeps getting new update ids, not repeats
    driver = BotDriver(services)
    driver._update_ids = seen
    try:
        sent = await driver.tap(DISPATCHER, IdleDoneCb().pack())
        assert last_text(sent) == t("idle.ask_price", "zh", guide="¥4,000")

        for bad, key, params in (
            ("五千", "error.price_not_number", {}),
            ("1", "error.price_range", {"min": 100, "max": 100000}),
            ("1000000000", "error.price_range", {"min": 100, "max": 100000}),
        ):
            assert last_text(await driver.send(DISPATCHER, bad)) == t(key, "zh", **params)
        assert last_text(await driver.send_sticker(DISPATCHER)) == t(
            "idle.ask_price", "zh", guide="¥4,000"
        )
        sent = await driver.send(DISPATCHER, "6000")  # 50 % above the guide
        assert last_text(sent) == t(
            "idle.price_warning", "zh", price="¥6,000", guide="¥4,000", pct="+50.0"
        )
        assert await driver.state(DISPATCHER) == "DeclareIdle:price"
        sent = await driver.send(DISPATCHER, "4,600元")
        assert last_text(sent) == t(
            "idle.ask_contact_prefilled", "zh", name="李调度", phone="13912345678"
        )

        # the seed's own bad data: a contact named "11" with phone "11"
        assert last_text(await driver.send(DISPATCHER, "11 11")) == t(
            "error.bad_name", "zh", field="contact_name"
        )
        assert last_text(await driver.send(DISPATCHER, "李四 12345678")) == t("error.phone", "zh")
        # regression: another person's name alone kept the dispatcher's own number under it
        assert last_text(await driver.send(DISPATCHER, "王五")) == t(
            "error.contact_needs_phone", "zh"
        )
        sent = await driver.send(DISPATCHER, "张三丰 139-0000-1111")
        summary = last_text(sent)
        assert t(
            "idle.summary_workers", "zh", count=2, workers="王海东（二级）、周大勇（二级）"
        ) in (summary)
        assert t("idle.summary_price", "zh", price="¥4,600") in summary
        assert t("idle.summary_contact", "zh", name="张三丰", phone="13900001111") in summary
        assert await postings(services) == []  # nothing written before Confirm

        sent = await driver.tap(DISPATCHER, IdleSummaryCb(action="ok").pack())
    finally:
        await driver.close()
    [(posting, worker_ids)] = await postings(services)
    assert (posting.county_code, posting.trade_code, posting.grade_level) == (
        "140105",
        "plasterer",
        3,
    )
    assert (posting.headcount, posting.price_fen, posting.contact_name) == (2, 460000, "张三丰")
    assert worker_ids == sorted([a, crew.grade2[6]])
    posted = last_text(sent)
    assert posted.startswith(t("idle.posted", "zh", id=posting.id, count=2))
    # the company's own project first (internal ring), then the market
    assert posted.index("🏠本公司") < posted.index("别家建筑公司")
    buttons = [data for row in last_reply_markup(sent).inline_keyboard for data in row]
    assert (
        buttons[1].callback_data
        == ProposeCb(shortage_id=crew.internal_shortage, idle_id=posting.id).pack()
    )
    assert await driver.state(DISPATCHER) is None


async def test_in_english_select_a_whole_page_take_the_guide_price_and_the_profile_contact(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    async with services.uow() as uow:
        await accounts.set_locale(uow, company.dispatcher_id, "en")
    sent = await driver.send(DISPATCHER, "📤 Declare idle")
    assert last_text(sent) == t("idle.ask_county", "en")
    await driver.tap(DISPATCHER, IdleCountyCb(code=140105).pack())
    await driver.tap(DISPATCHER, IdleTradeCb(code="plasterer").pack())
    sent = await driver.tap(DISPATCHER, IdleGradeCb(level=3).pack())
    assert t("idle.pick_title", "en", trade="Plasterer", grade="Grade 3", total=8) in last_text(
        sent
    )

    sent = await driver.tap(DISPATCHER, IdleAllCb(offset=0).pack())
    assert "✔️ Done (6)" in inline_texts(last_reply_markup(sent))
    await driver.tap(DISPATCHER, IdleDoneCb().pack())
    await driver.tap(DISPATCHER, IdlePriceCb(action="guide").pack())
    sent = await driver.tap(DISPATCHER, IdleContactCb().pack())
    summary = last_text(sent)
    assert t("idle.summary_title", "en") in summary
    assert t("idle.summary_price", "en", price="¥4,000") in summary
    assert t("idle.summary_guide", "en", guide="¥4,000", pct="+0.0") in summary
    sent = await driver.tap(DISPATCHER, IdleSummaryCb(action="ok").pack())
    [(posting, worker_ids)] = await postings(services)
    assert last_text(sent).startswith(t("idle.posted", "en", id=posting.id, count=6))
    assert worker_ids == sorted(crew.grade2[:6])
    assert (posting.price_fen, posting.contact_name, posting.contact_phone) == (
        400000,
        "李调度",
        "13912345678",
    )


@pytest.mark.parametrize("typed", ["李明13800138000", "李明 138 0013 8000", "13800138000李明"])
async def test_regression_a_typed_contact_keeps_its_own_name_in_either_order_and_spacing(
    driver: BotDriver, services: Services, company: Company, typed: str
) -> None:
    """Issue 10: the first stored the dispatcher's name with Li Ming's phone, the second was
    refused as a bad name, the third as a bad phone."""
    crew = await make_crew(services, company)
    await to_picker(driver)
    await driver.tap(DISPATCHER, pick(crew.grade2[0]))
    await driver.tap(DISPATCHER, IdleDoneCb().pack())
    await driver.tap(DISPATCHER, IdlePriceCb(action="guide").pack())
    sent = await driver.send(DISPATCHER, typed)
    assert t("idle.summary_contact", "zh", name="李明", phone="13800138000") in last_text(sent)
    await driver.tap(DISPATCHER, IdleSummaryCb(action="ok").pack())
    [(posting, _workers)] = await postings(services)
    assert (posting.contact_name, posting.contact_phone) == ("李明", "13800138000")


async def test_a_strangers_phone_alone_is_not_stored_under_the_dispatchers_name(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    await to_picker(driver)
    await driver.tap(DISPATCHER, pick(crew.grade2[0]))
    await driver.tap(DISPATCHER, IdleDoneCb().pack())
    await driver.tap(DISPATCHER, IdlePriceCb(action="guide").pack())
    sent = await driver.send(DISPATCHER, "138 0013 8000")
    assert last_text(sent) == t("error.contact_needs_name", "zh")
    assert await driver.state(DISPATCHER) == "DeclareIdle:contact"
    # the dispatcher's own phone alone is the dispatcher's own contact
    sent = await driver.send(DISPATCHER, "139-1234-5678")
    assert t("idle.summary_contact", "zh", name="李调度", phone="13912345678") in last_text(sent)
    assert await postings(services) == []


async def test_done_with_nobody_picked_asks_again(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await make_crew(services, company)
    await to_picker(driver)
    sent = await driver.tap(DISPATCHER, IdleDoneCb().pack())
    [answer] = answers(sent)
    assert (answer["text"], answer["show_alert"]) == (t("idle.pick_none", "zh"), True)
    assert await driver.state(DISPATCHER) == "DeclareIdle:workers"


async def test_a_worker_taken_before_confirm_is_dropped_and_the_summary_offered_again(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    a, b = crew.grade2[:2]
    await to_picker(driver)
    await driver.tap(DISPATCHER, pick(a))
    await driver.tap(DISPATCHER, pick(b))
    await driver.tap(DISPATCHER, IdleDoneCb().pack())
    await driver.send(DISPATCHER, "4500")
    await driver.tap(DISPATCHER, IdleContactCb().pack())
    # Edit in the summary: only the price is asked again, then the summary is back
    sent = await driver.tap(DISPATCHER, IdleSummaryCb(action="price").pack())
    assert last_text(sent) == t("idle.ask_price", "zh", guide="¥4,000")
    sent = await driver.send(DISPATCHER, "4800")
    assert t("idle.summary_price", "zh", price="¥4,800") in last_text(sent)

    dispatcher = Actor(company.dispatcher_id, Role.DISPATCHER, enterprise_id=company.enterprise_id)
    async with services.uow() as uow:
        await set_worker_status(uow, dispatcher, a, WorkerStatus.BUSY)

    sent = await driver.tap(DISPATCHER, IdleSummaryCb(action="ok").pack())
    error = t("error.worker_not_idle", "zh", name="王海东")
    assert answers(sent)[0]["text"] == error
    assert answers(sent)[0]["show_alert"] is True
    again = last_text(sent)
    assert again.startswith(error)
    assert t("idle.summary_workers", "zh", count=1, workers="李文光（二级）") in again
    assert await postings(services) == []

    await driver.tap(DISPATCHER, IdleSummaryCb(action="ok").pack())
    [(posting, worker_ids)] = await postings(services)
    assert (posting.headcount, posting.price_fen, worker_ids) == (1, 480000, [b])


async def test_cancel_mid_way_writes_nothing(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    await to_picker(driver)
    await driver.tap(DISPATCHER, pick(crew.grade2[0]))
    await driver.tap(DISPATCHER, IdleDoneCb().pack())
    sent = await driver.send(DISPATCHER, "❌ 取消")
    assert last_text(sent) == t("common.cancelled", "zh")
    assert await driver.state(DISPATCHER) is None
    assert "idle_sel" not in await driver.data(DISPATCHER)
    # the old summary buttons are stale now
    sent = await driver.tap(DISPATCHER, IdleSummaryCb(action="ok").pack())
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert await postings(services) == []


async def test_forged_picks_of_other_companies_or_ineligible_workers_change_nothing(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    await to_picker(driver)
    sent = await driver.tap(DISPATCHER, pick(crew.foreign))
    assert answers(sent)[0]["text"] == t("error.worker_not_yours", "zh")
    assert answers(sent)[0]["show_alert"] is True
    for own_but_not_offered in (crew.busy, crew.grade4):
        sent = await driver.tap(DISPATCHER, pick(own_but_not_offered))
        assert answers(sent)[0]["text"] == t("idle.not_selectable", "zh")
    sent = await driver.tap(DISPATCHER, "idlw:notanumber:1:0")
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert (await driver.data(DISPATCHER))["idle_sel"] == []
    assert await postings(services) == []
