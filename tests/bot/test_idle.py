"""📤 Declare idle (an aiogram-dialog) through the real dispatcher: county → trade → grade →
workers (multi-select over pages) → price → contact → summary → Confirm, and what may go wrong
on the way."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from bot.callbacks import DeclareIdleCb
from bot.callbacks_deals import ProposeCb
from bot.i18n import t
from core.db.models import Enterprise, GuidePrice, IdlePosting, IdlePostingWorker, Project
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role, WorkerStatus
from core.services import accounts
from core.services.workers import set_worker_status
from tests.bot.conftest import DISPATCHER_TG, Company
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
from tests.factories import make_enterprise, make_shortage, make_worker

DISPATCHER = tg_user(DISPATCHER_TG, name="李调度")
NAMES = ["王海东", "李文光", "赵伟", "孙小华", "吴玉兰", "张红飞", "周大勇", "郑小军"]
DECLARE = "📤 赋闲提报"


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


async def tap(driver: BotDriver, sent: list[Sent], text_part: str) -> list[Sent]:
    """Press the button of the last keyboard shown whose text contains `text_part`."""
    return await driver.tap(DISPATCHER, callback_for(last_reply_markup(sent), text_part))


async def picked(driver: BotDriver) -> list[int]:
    context = await driver.dialog_context(DISPATCHER)
    assert context is not None
    return [int(w) for w in (context.get("widget_data") or {}).get("idle_workers", [])]


async def to_picker(driver: BotDriver) -> list[Sent]:
    sent = await driver.send(DISPATCHER, DECLARE)
    sent = await tap(driver, sent, "小店区")
    sent = await tap(driver, sent, "抹灰工")
    return await tap(driver, sent, "三级")


async def to_contact(driver: BotDriver, crew: Crew) -> list[Sent]:
    """One worker picked, the guide price taken: the contact step."""
    sent = await to_picker(driver)
    sent = await tap(driver, sent, NAMES[0])
    sent = await tap(driver, sent, t("idle.done", "zh").format(count=1))
    return await tap(driver, sent, "指导价")


async def test_a_dispatcher_declares_idle_workers_picked_across_two_pages(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)

    sent = await driver.send(DISPATCHER, DECLARE)
    assert last_text(sent) == t("idle.ask_county", "zh")
    assert inline_texts(last_reply_markup(sent))[:2] == ["小店区", "🗺 其他城市…"]

    sent = await tap(driver, sent, "小店区")
    assert inline_texts(last_reply_markup(sent))[0] == "抹灰工 (9)"
    sent = await tap(driver, sent, "抹灰工")
    # 一级 has nobody at or above it; 四级 and 五级 also offer the 四级 worker; the national
    # level stands beside the seed's grade
    assert inline_texts(last_reply_markup(sent))[:4] == [
        "二级 技师 (8)",
        "三级 高级工 (8)",
        "四级 中级工 (9)",
        "五级 初级工 (9)",
    ]
    sent = await tap(driver, sent, "三级")
    page1 = last_text(sent)
    assert t("idle.pick_title", "zh", trade="抹灰工", grade="三级", total=8) in page1
    assert "1. ⬜ 王海东 · 140105********" in page1
    assert "★4.5" in page1
    assert "钱老四" not in page1
    assert "冯在岗" not in page1
    assert "外人" not in page1
    assert "1/2" in inline_texts(last_reply_markup(sent))

    a, b = crew.grade2[0], crew.grade2[1]
    sent = await tap(driver, sent, "王海东")
    sent = await tap(driver, sent, "李文光")
    sent = await tap(driver, sent, "李文光")  # ticked off again
    assert t("idle.selected_count", "zh", count=1) in last_text(sent)
    assert "✅ 1. 王海东" in inline_texts(last_reply_markup(sent))
    sent = await tap(driver, sent, "▶")
    assert "7. ⬜ 周大勇" in last_text(sent)
    assert "2/2" in inline_texts(last_reply_markup(sent))
    sent = await tap(driver, sent, "周大勇")
    assert "7. ✅ 周大勇" in last_text(sent)
    assert await picked(driver) == [a, crew.grade2[6]]
    assert b not in await picked(driver)

    # the bot restarts: the dialog and the ticks are in the SQL FSM storage
    done = callback_for(last_reply_markup(sent), "✔️")
    await driver.close()
    seen = driver._update_ids  # the new process keeps getting new update ids, not repeats
    driver = BotDriver(services)
    driver._update_ids = seen
    try:
        sent = await driver.tap(DISPATCHER, done)
        assert await driver.state(DISPATCHER) == "DeclareIdle:price"
        assert "抹灰工 · 三级及以上 · 2人" in last_text(sent)
        assert "¥4,000" in last_text(sent)

        for bad, key in (
            ("面议", "error.price_not_number"),
            ("1", "error.price_range"),
            ("1000000000", "error.price_range"),
        ):
            sent = await driver.send(DISPATCHER, bad)
            assert last_text(sent).startswith(t(key, "zh", min=100, max=100000)), bad
        assert last_text(await driver.send_sticker(DISPATCHER)) == t("shortage.need_number", "zh")
        sent = await driver.send(DISPATCHER, "6000")  # 50 % above the guide
        assert "高 50%" in last_text(sent)
        assert await driver.state(DISPATCHER) == "DeclareIdle:price_confirm"
        sent = await driver.send(DISPATCHER, "4,600元")
        assert last_text(sent) == t(
            "shortage.ask_contact", "zh", name="李调度", phone="13912345678"
        )

        sent = await tap(driver, sent, t("shortage.other_contact", "zh"))
        # the seed's own bad data: a contact named "11" with phone "11"
        assert last_text(await driver.send(DISPATCHER, "11 11")).startswith(
            t("error.bad_name", "zh", field="contact_name")
        )
        sent = await driver.send(DISPATCHER, "李四 12345678")
        assert last_text(sent).startswith(t("error.phone", "zh"))
        # another person's name alone: the phone is asked next, not taken from the profile
        sent = await driver.send(DISPATCHER, "张三丰")
        assert await driver.state(DISPATCHER) == "DeclareIdle:contact_phone"
        sent = await driver.send(DISPATCHER, "139-0000-1111")
        summary = last_text(sent)
        workers = "王海东（二级）、周大勇（二级）"
        assert t("idle.summary_workers", "zh", count=2, workers=workers) in summary
        assert t("idle.summary_price", "zh", price="¥4,600") in summary
        assert t("idle.summary_contact", "zh", name="张三丰", phone="13900001111") in summary
        assert await postings(services) == []  # nothing written before Confirm

        sent = await tap(driver, sent, t("idle.confirm", "zh"))
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
    buttons = inline_buttons(last_reply_markup(sent))
    propose = ProposeCb(shortage_id=crew.internal_shortage, idle_id=posting.id).pack()
    assert buttons[1][1] == propose
    assert await driver.state(DISPATCHER) is None


async def test_in_english_select_all_take_the_guide_price_and_the_profile_contact(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    async with services.uow() as uow:
        await accounts.set_locale(uow, company.dispatcher_id, "en")
    sent = await driver.send(DISPATCHER, "📤 Declare idle")
    assert last_text(sent) == t("idle.ask_county", "en")
    sent = await tap(driver, sent, "Xiaodian")
    sent = await tap(driver, sent, "Plasterer")
    sent = await tap(driver, sent, "Grade 3")
    title = t("idle.pick_title", "en", trade="Plasterer", grade="Grade 3", total=8)
    assert title in last_text(sent)

    sent = await tap(driver, sent, t("picker.select_all", "en"))
    assert "✔️ Done (8)" in inline_texts(last_reply_markup(sent))
    assert t("picker.clear_all", "en") in inline_texts(last_reply_markup(sent))
    sent = await tap(driver, sent, "✔️")
    sent = await tap(driver, sent, "guide")
    sent = await tap(driver, sent, t("shortage.use_contact", "en"))
    summary = last_text(sent)
    assert t("idle.summary_title", "en") in summary
    assert t("idle.summary_price", "en", price="¥4,000") in summary
    assert t("idle.summary_guide", "en", guide="¥4,000", pct="+0.0") in summary
    sent = await tap(driver, sent, t("idle.confirm", "en"))
    [(posting, worker_ids)] = await postings(services)
    assert last_text(sent).startswith(t("idle.posted", "en", id=posting.id, count=8))
    assert worker_ids == sorted(crew.grade2)
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
    sent = await to_contact(driver, crew)
    sent = await driver.send(DISPATCHER, typed)
    assert t("idle.summary_contact", "zh", name="李明", phone="13800138000") in last_text(sent)
    await tap(driver, sent, t("idle.confirm", "zh"))
    [(posting, _workers)] = await postings(services)
    assert (posting.contact_name, posting.contact_phone) == ("李明", "13800138000")


async def test_a_strangers_phone_alone_is_not_stored_under_the_dispatchers_name(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    await to_contact(driver, crew)
    sent = await driver.send(DISPATCHER, "138 0013 8000")
    assert last_text(sent).startswith(t("error.contact_needs_name", "zh"))
    assert await driver.state(DISPATCHER) == "DeclareIdle:contact"
    # the dispatcher's own phone alone is the dispatcher's own contact
    sent = await driver.send(DISPATCHER, "139-1234-5678")
    assert t("idle.summary_contact", "zh", name="李调度", phone="13912345678") in last_text(sent)
    assert await postings(services) == []


async def test_done_with_nobody_picked_asks_again(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await make_crew(services, company)
    sent = await to_picker(driver)
    sent = await tap(driver, sent, "✔️")
    [answer] = answers(sent)
    assert (answer["text"], answer["show_alert"]) == (t("idle.pick_none", "zh"), True)
    assert await driver.state(DISPATCHER) == "DeclareIdle:workers"


async def test_a_worker_taken_before_confirm_is_dropped_and_the_summary_offered_again(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    a, b = crew.grade2[:2]
    sent = await to_picker(driver)
    sent = await tap(driver, sent, "王海东")
    sent = await tap(driver, sent, "李文光")
    sent = await tap(driver, sent, "✔️")
    sent = await driver.send(DISPATCHER, "4500")
    sent = await tap(driver, sent, t("shortage.use_contact", "zh"))
    # Edit in the summary: only the price is asked again, then the summary is back
    sent = await tap(driver, sent, t("idle.edit_price", "zh"))
    assert await driver.state(DISPATCHER) == "DeclareIdle:price"
    sent = await driver.send(DISPATCHER, "4800")
    assert t("idle.summary_price", "zh", price="¥4,800") in last_text(sent)

    dispatcher = Actor(company.dispatcher_id, Role.DISPATCHER, enterprise_id=company.enterprise_id)
    async with services.uow() as uow:
        await set_worker_status(uow, dispatcher, a, WorkerStatus.BUSY)

    confirm = callback_for(last_reply_markup(sent), t("idle.confirm", "zh"))
    sent = await driver.tap(DISPATCHER, confirm)
    error = t("error.worker_not_idle", "zh", name="王海东")
    assert answers(sent)[0]["text"] == error
    assert answers(sent)[0]["show_alert"] is True
    again = last_text(sent)
    assert again.startswith(error)
    assert t("idle.summary_workers", "zh", count=1, workers="李文光（二级）") in again
    assert await postings(services) == []

    await tap(driver, sent, t("idle.confirm", "zh"))
    [(posting, worker_ids)] = await postings(services)
    assert (posting.headcount, posting.price_fen, worker_ids) == (1, 480000, [b])


async def test_cancel_at_each_step_writes_nothing_and_old_buttons_are_answered(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await make_crew(services, company)
    steps = ("小店区", "抹灰工", "三级", "✔️", "指导价", t("shortage.use_contact", "zh"))
    for done in range(len(steps) + 1):
        sent = await driver.send(DISPATCHER, DECLARE)
        for button in steps[:done]:
            if button == "✔️":
                sent = await tap(driver, sent, "王海东")  # the picker's step: one ticked
            sent = await tap(driver, sent, button)
        state = await driver.state(DISPATCHER)
        old = last_reply_markup(sent)
        how = done % 3  # the inline ❌, the reply keyboard's ❌ 取消, /cancel
        if how == 0:
            sent = await tap(driver, sent, t("common.cancel", "zh"))
            assert answers(sent)[0]["text"] == t("common.cancelled", "zh")
        else:
            sent = await (
                driver.send(DISPATCHER, "❌ 取消")
                if how == 1
                else driver.command(DISPATCHER, "cancel")
            )
            assert last_text(sent) == t("common.cancelled", "zh"), state
        assert await driver.state(DISPATCHER) is None, state
        # UX 5: the prompt left behind has no live-looking buttons
        methods = [x.method for x in sent if x.params.get("reply_markup") is None]
        assert "editMessageReplyMarkup" in methods, (state, [x.method for x in sent])
        # the finished dialog's buttons are answered, not crashed on, and change nothing
        sent = await driver.tap(DISPATCHER, inline_buttons(old)[0][1] or "")
        assert answers(sent)[0]["text"] == t("common.stale", "zh"), state
    assert await postings(services) == []


async def test_forged_picks_of_other_companies_or_ineligible_workers_change_nothing(
    driver: BotDriver, services: Services, company: Company
) -> None:
    crew = await make_crew(services, company)
    sent = await driver.send(DISPATCHER, DECLARE)
    for forged in ("region:999999", "region:140000"):  # no such county; the province
        assert answers(await driver.dialog_tap(DISPATCHER, forged))[0]["text"] == t(
            "common.stale", "zh"
        )
    sent = await tap(driver, sent, "小店区")
    sent = await tap(driver, sent, "抹灰工")
    answer = answers(await driver.dialog_tap(DISPATCHER, "grade:1"))[0]  # nobody at 一级
    assert answer["text"] == t("common.stale", "zh")
    assert await driver.state(DISPATCHER) == "DeclareIdle:grade"
    await tap(driver, sent, "三级")
    sent = await driver.dialog_tap(DISPATCHER, f"idle_workers:{crew.foreign}")
    assert answers(sent)[0]["text"] == t("error.worker_not_yours", "zh")
    assert answers(sent)[0]["show_alert"] is True
    for own_but_not_offered in (crew.busy, crew.grade4):
        sent = await driver.dialog_tap(DISPATCHER, f"idle_workers:{own_but_not_offered}")
        assert answers(sent)[0]["text"] == t("idle.not_selectable", "zh")
    sent = await driver.dialog_tap(DISPATCHER, "idle_workers:notanumber")
    assert answers(sent)[0]["text"] == t("common.stale", "zh")
    assert await picked(driver) == []
    assert await postings(services) == []


async def test_a_typed_prompt_loses_its_buttons_and_the_summary_its_keyboard_once_posted(
    driver: BotDriver, services: Services, company: Company
) -> None:
    """UX 5: a finished step leaves no live-looking buttons behind."""
    crew = await make_crew(services, company)
    sent = await to_picker(driver)
    sent = await tap(driver, sent, "王海东")
    sent = await tap(driver, sent, "✔️")
    price_prompt = [s for s in sent if s.method == "editMessageText"][-1].params["message_id"]
    sent = await driver.send(DISPATCHER, "4500")
    dropped = [
        s
        for s in sent
        if s.method == "editMessageReplyMarkup" and s.params["message_id"] == price_prompt
    ]
    assert dropped
    assert dropped[0].params.get("reply_markup") is None
    sent = await tap(driver, sent, t("shortage.use_contact", "zh"))
    sent = await tap(driver, sent, t("idle.confirm", "zh"))
    assert len(await postings(services)) == 1
    # the summary became the result: only the result's own buttons are left
    texts = inline_texts(last_reply_markup(sent))
    assert t("idle.confirm", "zh") not in texts
    assert t("common.cancel", "zh") not in texts
    assert crew.internal_shortage > 0


async def test_declare_idle_from_a_proposal_that_found_nobody_leads_back_to_it(
    driver: BotDriver, services: Services, company: Company
) -> None:
    """UX 4: "本公司没有符合条件的赋闲工人" offers 📤 declare idle; the posted message leads back
    to proposing on that shortage with the new posting."""
    crew = await make_crew(services, company)
    dispatcher = Actor(company.dispatcher_id, Role.DISPATCHER, enterprise_id=company.enterprise_id)
    async with services.uow() as uow:  # every plasterer of the company is on duty
        for worker_id in (*crew.grade2, crew.grade4):
            await set_worker_status(uow, dispatcher, worker_id, WorkerStatus.BUSY)
    shortage = crew.market_shortage
    sent = await driver.tap(DISPATCHER, ProposeCb(shortage_id=shortage, idle_id=0).pack())
    assert t("deals.no_idle_workers", "zh") in last_text(sent)
    declare = callback_for(last_reply_markup(sent), DECLARE)
    assert declare == DeclareIdleCb(s=shortage, tr="plasterer").pack()
    assert t("deals.btn_set_idle", "zh") in inline_texts(last_reply_markup(sent))
    async with services.uow() as uow:  # what 👷 does: one of them is set idle again
        await set_worker_status(uow, dispatcher, crew.grade2[0], WorkerStatus.IDLE)

    sent = await driver.tap(DISPATCHER, declare)
    assert answers(sent)  # the tap is answered (no spinner left on the button)
    assert last_text(sent) == t("idle.ask_county", "zh")
    # a new message: the proposal's text above stays readable, only its buttons go (UX 5)
    assert "editMessageText" not in [x.method for x in sent]
    sent = await tap(driver, sent, "小店区")  # the trade is known: the grade comes next
    assert await driver.state(DISPATCHER) == "DeclareIdle:grade"
    sent = await tap(driver, sent, "三级")
    sent = await tap(driver, sent, "王海东")
    sent = await tap(driver, sent, "✔️")
    sent = await tap(driver, sent, "指导价")
    sent = await tap(driver, sent, t("shortage.use_contact", "zh"))
    sent = await tap(driver, sent, t("idle.confirm", "zh"))
    [(posting, worker_ids)] = await postings(services)
    assert worker_ids == [crew.grade2[0]]
    back = inline_buttons(last_reply_markup(sent))[0]
    assert back == (
        t("idle.back_to_shortage", "zh").format(id=shortage),
        ProposeCb(shortage_id=shortage, idle_id=posting.id).pack(),
    )
    # and back it goes: the proposal now names the new posting's worker
    sent = await driver.tap(DISPATCHER, back[1])
    assert t("deals.no_idle_workers", "zh") not in last_text(sent)


async def test_nobody_to_declare_offers_to_set_workers_idle(
    driver: BotDriver, services: Services, company: Company
) -> None:
    sent = await driver.send(DISPATCHER, DECLARE)
    assert last_text(sent) == t("idle.nobody_idle", "zh")
    assert inline_texts(last_reply_markup(sent)) == [t("deals.btn_set_idle", "zh")]
    assert await driver.state(DISPATCHER) is None


async def test_late_taps_whose_answers_telegram_refuses_still_tick_and_post(
    driver: BotDriver, services: Services, company: Company
) -> None:
    await make_crew(services, company)
    sent = await to_picker(driver)
    driver.session.refuse_callback_answers = True  # "query is too old"
    sent = await tap(driver, sent, "王海东")
    assert "✅ 1. 王海东" in inline_texts(last_reply_markup(sent))
    sent = await tap(driver, sent, "✔️")
    sent = await tap(driver, sent, "指导价")
    sent = await tap(driver, sent, t("shortage.use_contact", "zh"))
    sent = await tap(driver, sent, t("idle.confirm", "zh"))
    [(posting, _workers)] = await postings(services)
    assert last_text(sent).startswith(t("idle.posted", "zh", id=posting.id, count=1))
    assert await driver.state(DISPATCHER) is None
