"""📋 My postings (a dialog): lists and pages, the card and its actions (headcount, price,
filled, cancel, escalate, matches), a stale card, a forged button and an old one."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from aiogram.types import User
from sqlalchemy import select

from bot.i18n import t
from core.db.models import Enterprise, IdlePosting, OutboxMessage, Project, ShortagePosting
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.services.guide_prices import set_guide_price
from core.services.postings import edit_shortage
from tests.bot.conftest import DISPATCHER_TG, FOREMAN_TG, Company
from tests.bot.harness import (
    DIALOG_SEP,
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
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)

MY_POSTINGS = "📋 我的发布"


@dataclass(frozen=True)
class Desk:
    foreman: User
    foreman_actor: Actor
    dispatcher: User
    taiyuan_regulator_id: int
    jinzhong_regulator_id: int
    foreign_shortage_id: int  # another company's


@pytest.fixture
async def desk(services: Services, company: Company) -> Desk:
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
        foreman = await make_account(
            uow, role=Role.FOREMAN, enterprise=own, projects=[project], telegram_user_id=FOREMAN_TG
        )
        taiyuan = await make_account(
            uow, role=Role.REGULATOR, region_code="140100", name="王科长", phone=None
        )
        jinzhong = await make_account(
            uow, role=Role.REGULATOR, region_code="140700", name="赵科长", phone=None
        )
        stranger = await make_enterprise(uow, name="别家劳务")
        foreign = await make_shortage(uow, await make_project(uow, stranger))
        await uow.commit()
    return Desk(
        foreman=tg_user(FOREMAN_TG),
        foreman_actor=actor_of(foreman, [project.id]),
        dispatcher=tg_user(DISPATCHER_TG),
        taiyuan_regulator_id=taiyuan.id,
        jinzhong_regulator_id=jinzhong.id,
        foreign_shortage_id=foreign.id,
    )


async def new_shortage(services: Services, project_id: int, **overrides: object) -> int:
    async with services.uow() as uow:
        project = await uow.session.get(Project, project_id)
        assert project is not None
        posting = await make_shortage(uow, project, **overrides)
        await uow.commit()
        return posting.id


async def shortage_row(services: Services, posting_id: int) -> tuple[int, int, int, str, str]:
    """(headcount, price_fen, version, status, ring)"""
    async with services.uow() as uow:
        s = await uow.session.get(ShortagePosting, posting_id)
        assert s is not None
        return s.headcount, s.price_fen, s.version, s.status, s.ring


async def tap(driver: BotDriver, user: User, sent: list[Sent], text_part: str) -> list[Sent]:
    return await driver.tap(user, callback_for(last_reply_markup(sent), text_part))


async def open_card(
    driver: BotDriver, user: User, posting_id: int, idle: bool = False
) -> list[Sent]:
    """📋, the idle tab for `idle`, then the posting's button (found on whichever page)."""
    sent = await driver.send(user, MY_POSTINGS)
    if idle:
        sent = await tap(driver, user, sent, t("mp.tab_idle", "zh"))
    while True:
        buttons = [d for text, d in inline_buttons(last_reply_markup(sent))
                   if text.startswith(f"#{posting_id} ")]  # fmt: skip
        if buttons:
            return await driver.tap(user, buttons[0] or "")
        sent = await tap(driver, user, sent, t("list.next", "zh"))


# --- the list -------------------------------------------------------------------------------


async def test_the_list_pages_five_live_shortages_newest_first_and_shows_closed_on_request(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    mine = [await new_shortage(services, company.project_ids[0]) for _ in range(7)]
    closed = await new_shortage(services, company.project_ids[0], status="cancelled")
    other_project = await new_shortage(services, company.project_ids[1])

    sent = await driver.send(desk.foreman, MY_POSTINGS)
    lines = last_text(sent).splitlines()
    assert lines[0] == "📋 <b>我的发布 · 缺工 · 进行中</b>"
    assert [line.split()[0] for line in lines[1:]] == [f"#{i}" for i in mine[::-1][:5]]
    assert "太原南站项目 · 抹灰工 三级 · 0/4人 · ¥5,500/月 · 招募中" in lines[1]
    labels = inline_texts(last_reply_markup(sent))
    assert labels[:5] == [f"#{i} 抹灰工 4人" for i in mine[::-1][:5]]
    assert labels[5:7] == ["1/2", t("list.next", "zh")]  # page x/y, no ◀ on the first
    assert t("mp.tab_idle", "zh") not in labels  # a foreman has shortages only

    sent = await tap(driver, desk.foreman, sent, t("list.next", "zh"))
    shown = [line.split()[0] for line in last_text(sent).splitlines()[1:]]
    assert shown == [f"#{mine[1]}", f"#{mine[0]}"]
    labels = inline_texts(last_reply_markup(sent))
    assert t("list.next", "zh") not in labels
    assert "2/2" in labels
    sent = await tap(driver, desk.foreman, sent, t("list.prev", "zh"))
    assert last_text(sent).splitlines()[1].startswith(f"#{mine[-1]} ")

    sent = await tap(driver, desk.foreman, sent, t("mp.show_closed", "zh"))
    lines = last_text(sent).splitlines()
    assert lines[0] == "📋 <b>我的发布 · 缺工 · 已结束</b>"
    assert [line.split()[0] for line in lines[1:]] == [f"#{closed}"]
    assert "已撤销" in lines[1]
    assert f"#{other_project}" not in last_text(sent)
    assert "1/1" not in inline_texts(last_reply_markup(sent))  # one page: no ◀ x/y ▶ row


async def test_a_dispatcher_sees_the_company_shortages_and_idle_postings_and_withdraws_one(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    other_project = await new_shortage(services, company.project_ids[1], min_grade=3)
    async with services.uow() as uow:
        own = await uow.session.get(Enterprise, company.enterprise_id)
        assert own is not None
        workers = [await make_worker(uow, own, grade_level=2) for _ in range(2)]
        idle = await make_idle_posting(uow, own, workers)
        await uow.commit()

    sent = await driver.send(desk.dispatcher, MY_POSTINGS)
    assert f"#{other_project} 晋阳湖公寓" in last_text(sent)
    post = callback_for(last_reply_markup(sent), t("menu.post_shortage", "zh"))
    assert DIALOG_SEP not in post  # answered by the shortage dialog's own entry
    posting = await driver.tap(desk.dispatcher, post)
    assert last_text(posting) == t("shortage.pick_project", "zh")
    assert await driver.state(desk.dispatcher) == "PostShortage:project"
    sent = await driver.send(desk.dispatcher, MY_POSTINGS)
    sent = await tap(driver, desk.dispatcher, sent, t("mp.tab_idle", "zh"))
    assert last_text(sent).splitlines()[1].startswith(f"#{idle.id} 小店区 · 抹灰工 二级 · 0/2人")

    sent = await open_card(driver, desk.dispatcher, idle.id, idle=True)
    card = last_text(sent)
    assert card.startswith(f"<b>赋闲工人 #{idle.id}</b> · 招募中")
    assert "137****1111" in card
    assert "13700001111" not in card
    buttons = inline_texts(last_reply_markup(sent))
    assert t("mp.close_filled", "zh") not in buttons  # idle workers are withdrawn, not filled

    matches = await tap(driver, desk.dispatcher, sent, t("mp.matches", "zh"))
    assert last_text(matches).splitlines()[1].startswith("1. 🏠 山西五建集团")
    propose = [d for _t, d in inline_buttons(last_reply_markup(matches)) if d and "pp:" in d]
    assert propose
    assert all(d.startswith("pp:") for d in propose)  # the deals feature answers 🤝
    sent = await tap(driver, desk.dispatcher, matches, t("mp.back_card", "zh"))

    sent = await tap(driver, desk.dispatcher, sent, t("mp.cancel_posting", "zh"))
    assert last_text(sent) == t("mp.confirm_cancel", "zh", id=idle.id)
    sent = await tap(driver, desk.dispatcher, sent, t("mp.yes_cancel", "zh"))
    assert answers(sent)[-1]["text"] == t("mp.cancelled_ok", "zh")
    async with services.uow() as uow:
        row = await uow.session.get(IdlePosting, idle.id)
        assert row is not None
        assert row.status == "cancelled"


# --- card actions ---------------------------------------------------------------------------


async def test_headcount_below_the_filled_count_is_refused_then_a_valid_one_is_saved(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    pid = await new_shortage(services, company.project_ids[0], headcount=4, filled_count=2,
                             status="partly_filled")  # fmt: skip
    sent = await open_card(driver, desk.foreman, pid)
    assert "人数：4（已成交 2，剩余 2）" in last_text(sent)
    sent = await tap(driver, desk.foreman, sent, t("mp.change_headcount", "zh"))
    assert "已成交 2人" in last_text(sent)

    sent = await driver.send(desk.foreman, "1")
    assert last_text(sent).startswith(t("error.headcount_below_filled", "zh", filled=2))
    assert "已成交 2人" in last_text(sent)  # the same question again
    sent = await driver.send(desk.foreman, "abc")
    assert last_text(sent).startswith(t("error.headcount_not_number", "zh"))
    assert await driver.state(desk.foreman) == "MyPostings:headcount"
    assert (await shortage_row(services, pid))[:3] == (4, 550_000, 1)

    sent = await driver.send(desk.foreman, "6")
    assert last_text(sent).startswith(t("mp.saved", "zh"))
    assert "人数：6（已成交 2，剩余 4）" in last_text(sent)
    assert (await shortage_row(services, pid))[:3] == (6, 550_000, 2)
    assert await driver.state(desk.foreman) == "MyPostings:card"


async def test_a_new_price_far_from_the_guide_is_kept_only_when_confirmed(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    pid = await new_shortage(services, company.project_ids[0])
    sent = await open_card(driver, desk.foreman, pid)
    sent = await tap(driver, desk.foreman, sent, t("mp.change_price", "zh"))
    assert "太原市抹灰工三级指导价：¥5,000/月" in last_text(sent)

    sent = await driver.send(desk.foreman, "1")
    assert last_text(sent).startswith(t("error.price_range", "zh", min=100, max=100000))
    sent = await driver.send(desk.foreman, "9,000元")
    assert "高 80%" in last_text(sent)
    assert (await shortage_row(services, pid))[1] == 550_000
    sent = await tap(driver, desk.foreman, sent, t("shortage.keep_price", "zh"))
    assert answers(sent)[-1]["text"] == t("mp.saved", "zh")
    assert (await shortage_row(services, pid))[1:3] == (900_000, 2)

    # a round value near the guide goes straight through
    sent = await tap(driver, desk.foreman, sent, t("mp.change_price", "zh"))
    sent = await tap(driver, desk.foreman, sent, "¥4,500")
    assert (await shortage_row(services, pid))[1:3] == (450_000, 3)
    assert "月薪：¥4,500/月" in last_text(sent)


async def test_close_as_filled_asks_first_then_closes(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    pid = await new_shortage(services, company.project_ids[0])
    sent = await open_card(driver, desk.foreman, pid)
    sent = await tap(driver, desk.foreman, sent, t("mp.close_filled", "zh"))
    assert last_text(sent) == t("mp.confirm_filled", "zh", id=pid)
    assert (await shortage_row(services, pid))[3] == "open"
    sent = await tap(driver, desk.foreman, sent, t("mp.yes_filled", "zh"))
    assert (await shortage_row(services, pid))[3] == "filled"
    assert "已招满" in last_text(sent).splitlines()[0]
    assert inline_texts(last_reply_markup(sent)) == [
        t("mp.back_list", "zh"),
        t("common.cancel", "zh"),
    ]


async def test_cancel_asks_first_and_going_back_changes_nothing(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    pid = await new_shortage(services, company.project_ids[0])
    sent = await open_card(driver, desk.foreman, pid)
    sent = await tap(driver, desk.foreman, sent, t("mp.cancel_posting", "zh"))
    sent = await tap(driver, desk.foreman, sent, t("mp.back_card", "zh"))
    assert (await shortage_row(services, pid))[3] == "open"
    sent = await tap(driver, desk.foreman, sent, t("mp.cancel_posting", "zh"))
    sent = await tap(driver, desk.foreman, sent, t("mp.yes_cancel", "zh"))
    assert (await shortage_row(services, pid))[3] == "cancelled"
    # back on the list the cancelled one is gone from the live postings
    sent = await tap(driver, desk.foreman, sent, t("mp.back_list", "zh"))
    assert f"#{pid}" not in last_text(sent)


async def test_escalation_shows_who_is_told_and_queues_a_note_for_that_regulator_only(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    pid = await new_shortage(services, company.project_ids[0])
    sent = await open_card(driver, desk.foreman, pid)
    sent = await tap(driver, desk.foreman, sent, t("mp.escalate", "zh"))
    assert last_text(sent) == "\n".join(
        (t("mp.escalate_preview", "zh", id=pid), "• 太原市：王科长")
    )
    sent = await tap(driver, desk.foreman, sent, t("mp.yes_escalate", "zh"))
    assert answers(sent)[-1]["text"] == t("mp.escalated_ok", "zh")
    assert (await shortage_row(services, pid))[4] == "escalated"
    assert t("mp.escalate", "zh") not in inline_texts(last_reply_markup(sent))
    async with services.uow() as uow:
        notes = (
            await uow.session.execute(
                select(OutboxMessage.account_id, OutboxMessage.kind, OutboxMessage.payload)
            )
        ).all()
    escalations = [(a, p) for a, kind, p in notes if kind == "escalation"]
    assert escalations == [
        (desk.taiyuan_regulator_id, {"posting_kind": "shortage", "posting_id": pid,
                                     "trade_code": "plasterer", "open_headcount": 4}),
    ]  # fmt: skip


# --- stale, forged and old buttons ----------------------------------------------------------


async def test_a_stale_card_changes_nothing_and_shows_the_fresh_one(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    pid = await new_shortage(services, company.project_ids[0])
    card = await open_card(driver, desk.foreman, pid)
    await tap(driver, desk.foreman, card, t("mp.change_headcount", "zh"))  # at version 1
    async with services.uow() as uow:  # meanwhile someone else changes the price
        await edit_shortage(uow, desk.foreman_actor, pid, price="6000")

    sent = await driver.send(desk.foreman, "9")
    assert last_text(sent).startswith(t("error.stale", "zh"))
    assert "<b>缺工" in last_text(sent)
    assert "¥6,000/月" in last_text(sent)
    assert (await shortage_row(services, pid))[:4] == (4, 600_000, 2, "open")

    async with services.uow() as uow:  # and again, while the card is on screen
        await edit_shortage(uow, desk.foreman_actor, pid, price="6500")
    sent = await tap(driver, desk.foreman, sent, t("mp.close_filled", "zh"))
    assert answers(sent)[-1]["text"] == t("error.stale", "zh")
    assert answers(sent)[-1]["show_alert"] is True
    assert "¥6,500/月" in last_text(sent)
    assert (await shortage_row(services, pid))[2:4] == (3, "open")
    sent = await tap(driver, desk.foreman, sent, t("mp.close_filled", "zh"))  # the fresh card
    await tap(driver, desk.foreman, sent, t("mp.yes_filled", "zh"))
    assert (await shortage_row(services, pid))[2:4] == (4, "filled")


async def test_forged_buttons_for_another_companys_posting_are_refused(
    driver: BotDriver, services: Services, desk: Desk
) -> None:
    before = await shortage_row(services, desk.foreign_shortage_id)
    await driver.send(desk.foreman, MY_POSTINGS)
    sent = await driver.dialog_tap(desk.foreman, f"mp:{desk.foreign_shortage_id}")
    assert answers(sent)[-1]["text"] == t("error.forbidden", "zh")
    assert await driver.state(desk.foreman) == "MyPostings:list"
    sent = await driver.dialog_tap(desk.foreman, "kind")  # a foreman has no idle tab
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    sent = await driver.dialog_tap(desk.foreman, "mp_x")  # no next page
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    assert await shortage_row(services, desk.foreign_shortage_id) == before


async def test_an_old_button_after_cancel_is_answered_as_stale(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    pid = await new_shortage(services, company.project_ids[0])
    card = await open_card(driver, desk.foreman, pid)
    await driver.send(desk.foreman, "/cancel")
    sent = await tap(driver, desk.foreman, card, t("mp.cancel_posting", "zh"))
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    assert (await shortage_row(services, pid))[3] == "open"


async def test_a_button_of_the_hand_written_screens_before_the_dialogs_is_stale(
    driver: BotDriver, services: Services, company: Company, desk: Desk
) -> None:
    """Messages sent before the switch to the dialog keep their old callback data."""
    pid = await new_shortage(services, company.project_ids[0])
    for old in (f"mpa:s:{pid}:1:cancel_ok", "mpl:s:1::n", f"sq:i.....:0:{pid}:n", "sf:go::"):
        sent = await driver.tap(desk.foreman, old)
        assert answers(sent)[-1]["text"] == t("common.stale", "zh"), old
    assert (await shortage_row(services, pid))[3] == "open"
