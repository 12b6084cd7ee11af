"""🤝 Deals through the bot: propose from a card, counter back and forth, accept, decline, stale
and forged buttons, a worker taken meanwhile, expiry. The counterpart's messages are the real
outbox rows delivered by the real OutboxSender through the real renderers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import select

from bot.callbacks_deals import DealActCb, ProposeCb, ViewPostingCb
from bot.i18n import t
from bot.keyboards.workers import WorkersCb
from bot.sender import OutboxSender, SenderConfig
from core.db.models import (
    Account,
    Deal,
    Enterprise,
    IdlePosting,
    Project,
    ShortagePosting,
    Team,
    Worker,
)
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import DealStatus, Role, WorkerStatus
from core.ports import FixedClock
from core.services import deals
from core.services.deals import ProposeDeal
from core.services.postings import withdraw_idle
from core.services.workers import set_worker_status
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

FOREMAN_TG = 6001
DISPATCHER_TG = 6002
STRANGER_TG = 6003
FAST = SenderConfig(global_rate=1000, chat_rate=1000, group_rate=1000, poll_interval=0.05)


@dataclass(frozen=True)
class Market:
    shortage_id: int  # 太原南站项目 needs 4 plasterers, grade 3 or better, ¥5,500
    idle_id: int  # 晋阳劳务 offers 3 of its plasterers at ¥5,000
    project_id: int
    worker_ids: tuple[int, ...]  # 晋阳劳务's idle plasterers (the first three are in the posting)
    foreman_id: int
    dispatcher_id: int
    dispatcher_enterprise_id: int


@pytest.fixture
async def market(services: Services) -> Market:
    async with services.uow() as uow:
        builder = await make_enterprise(uow, name="山西五建集团", type="general_contractor")
        project = await make_project(uow, builder, name="太原南站项目")
        labour = await make_enterprise(uow, name="晋阳劳务有限公司", county_code="140106")
        foreman = await make_account(
            uow,
            role=Role.FOREMAN,
            enterprise=builder,
            projects=[project],
            telegram_user_id=FOREMAN_TG,
            name="张工",
        )
        dispatcher = await make_account(
            uow,
            role=Role.DISPATCHER,
            enterprise=labour,
            telegram_user_id=DISPATCHER_TG,
            name="Li Ming",
            locale="en",
            phone="13700001111",
        )
        names = ("王海东", "李强", "赵刚", "孙伟")
        workers = [
            await make_worker(uow, labour, name=name, grade_level=2, rating_sum=9, rating_count=2)
            for name in names
        ]
        shortage = await make_shortage(
            uow, project, headcount=4, price_fen=550_000, posted_by_account_id=foreman.id
        )
        idle = await make_idle_posting(
            uow, labour, workers[:3], price_fen=500_000, posted_by_account_id=dispatcher.id
        )
        await uow.commit()
        return Market(
            shortage_id=shortage.id,
            idle_id=idle.id,
            project_id=project.id,
            worker_ids=tuple(w.id for w in workers),
            foreman_id=foreman.id,
            dispatcher_id=dispatcher.id,
            dispatcher_enterprise_id=labour.id,
        )


FOREMAN = tg_user(FOREMAN_TG)
DISPATCHER = tg_user(DISPATCHER_TG, language_code="en", name="Li")
STRANGER = tg_user(STRANGER_TG)


async def deliver(driver: BotDriver, services: Services) -> dict[int, list[Sent]]:
    """Run the real sender over the outbox; what each chat received."""
    before = len(driver.requests)
    await OutboxSender(driver.bot, services, config=FAST).drain(timeout=10)
    received: dict[int, list[Sent]] = {}
    for sent in driver.requests[before:]:
        if sent.method == "sendMessage":
            received.setdefault(int(sent.params["chat_id"]), []).append(sent)
    return received


@dataclass(frozen=True)
class DealRow:
    id: int
    status: str
    version: int
    headcount: int
    price_fen: int
    start_date: date
    awaiting_side: str | None
    proposer_side: str
    idle_posting_id: int | None


async def only_deal(services: Services) -> DealRow:
    """The one deal in the database, as it is now."""
    async with services.uow() as uow:
        rows = list(await uow.session.scalars(select(Deal)))
        assert len(rows) == 1
        d = rows[0]
        return DealRow(
            d.id,
            d.status,
            d.version,
            d.headcount,
            d.price_fen,
            d.start_date,
            d.awaiting_side,
            d.proposer_side,
            d.idle_posting_id,
        )


async def any_deal(services: Services) -> int | None:
    async with services.uow() as uow:
        return await uow.session.scalar(select(Deal.id))


async def worker_states(services: Services, ids: tuple[int, ...]) -> list[tuple[str, int | None]]:
    """(status, team id) of these workers, in id order."""
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(Worker.status, Worker.team_id).where(Worker.id.in_(ids)).order_by(Worker.id)
        )
        return [(status, team_id) for status, team_id in rows]


def flow(action: str, value: int = 0) -> str:
    """A button of the open deal dialog (bot/dialogs/deal.py), by its widget."""
    widgets = {"h": "count", "d": "day", "w": "deal_workers", "s": "shortage"}
    if action in widgets:
        return f"{widgets[action]}:{value}"
    return {"wd": "pick_done"}.get(action, action)


def act(action: str, deal: DealRow | int, version: int | None = None) -> str:
    deal_id = deal if isinstance(deal, int) else deal.id
    v = version if version is not None else (0 if isinstance(deal, int) else deal.version)
    return DealActCb(a=action, id=deal_id, v=v).pack()


async def foreman_proposes(driver: BotDriver, market: Market, price: str = "5200") -> None:
    """From the idle posting's card: 3 workers, a typed price, tomorrow, Send."""
    card = await driver.tap(FOREMAN, ViewPostingCb(kind="i", id=market.idle_id).pack())
    await driver.tap(FOREMAN, callback_for(last_reply_markup(card), "发起调度"))
    await driver.dialog_tap(FOREMAN, flow("h", 3))
    await driver.send(FOREMAN, price)
    await driver.dialog_tap(FOREMAN, flow("d", 1))
    await driver.dialog_tap(FOREMAN, flow("ok"))


async def test_a_foreman_and_a_labour_company_negotiate_until_accepted(
    driver: BotDriver, services: Services, market: Market
) -> None:
    # the foreman opens the idle posting's card: the phone is masked
    card = await driver.tap(FOREMAN, ViewPostingCb(kind="i", id=market.idle_id).pack())
    assert "137****1111" in last_text(card)
    assert "13700001111" not in last_text(card)
    propose = callback_for(last_reply_markup(card), "发起调度")
    assert propose == ProposeCb(shortage_id=0, idle_id=market.idle_id).pack()

    # only one shortage of his fits, so the dialog goes straight to the headcount
    asked = await driver.tap(FOREMAN, propose)
    # what is asked for stays in sight: trade and grade above the question
    assert last_text(asked) == "抹灰工 · 三级\n" + t("deals.ask_headcount", "zh", open=3)
    assert inline_texts(last_reply_markup(asked))[:3] == ["1", "2", "3"]
    priced = await driver.dialog_tap(FOREMAN, flow("h", 3))
    assert t("deals.price_theirs", "zh", price="¥5,000/月") in last_text(priced)
    assert "对方 ¥5,000" in inline_texts(last_reply_markup(priced))
    dated = await driver.send(FOREMAN, "5200")
    assert last_text(dated) == t("deals.ask_start", "zh")
    summary = await driver.dialog_tap(FOREMAN, flow("d", 1))  # tomorrow, 03-05
    assert "¥5,200/月" in last_text(summary)
    assert "2026-03-05" in last_text(summary)
    assert await any_deal(services) is None  # nothing written before Send

    sent = await driver.dialog_tap(FOREMAN, flow("ok"))
    assert answers(sent)[-1]["text"] == t("deals.offer_sent", "zh")
    deal = await only_deal(services)
    assert (deal.status, deal.headcount, deal.price_fen, deal.start_date, deal.version) == (
        "pending",
        3,
        520_000,
        date(2026, 3, 5),
        1,
    )
    assert await driver.state(FOREMAN) is None

    # the dispatcher (English) gets the offer with Accept / Counter / Decline
    inbox = await deliver(driver, services)
    offer = inbox[DISPATCHER_TG][-1]
    assert t("deals.head_offer", "en", id=deal.id) in (offer.text or "")
    assert "13912345678" not in (offer.text or "")  # no full phone before a deal
    # his own asking price beside the offer; the lone first offer is not repeated as history
    assert t("deals.my_posted_price", "en", price="¥5,000/month") in (offer.text or "")
    assert t("deals.history", "en") not in (offer.text or "")
    assert len((offer.text or "").splitlines()) <= 8
    assert inline_buttons(offer.reply_markup)[:3] == [
        ("✅ Accept", act("a", deal)),
        ("💬 Counter", act("c", deal)),
        ("🚫 Decline", act("d", deal)),
    ]
    assert FOREMAN_TG not in inbox  # the proposer is not told about his own offer

    # the dispatcher counters at ¥5,800
    asked = await driver.tap(DISPATCHER, act("c", deal))
    assert t("deals.ask_price", "en") in last_text(asked)
    summary = await driver.send(DISPATCHER, "5800")
    assert t("deals.btn_send_counter", "en") in inline_texts(last_reply_markup(summary))
    await driver.dialog_tap(DISPATCHER, flow("ok"))
    deal = await only_deal(services)
    assert (deal.price_fen, deal.version, deal.awaiting_side) == (580_000, 2, "shortage")
    # his own counter is what he can take back now, and the button says so
    opened = await driver.tap(DISPATCHER, act("o", deal))
    assert t("deals.btn_withdraw_counter", "en") in inline_texts(last_reply_markup(opened))

    inbox = await deliver(driver, services)
    counter = inbox[FOREMAN_TG][-1].text or ""
    assert t("deals.head_counter", "zh", id=deal.id) in counter
    assert "您报价：👷 3 人 · 💰 ¥5,200/月" in counter  # the history, step by step
    assert "晋阳劳务有限公司还价：👷 3 人 · 💰 ¥5,800/月" in counter

    # the foreman counters back at ¥5,500 and moves the start to 03-09
    await driver.tap(FOREMAN, act("c", deal))
    await driver.send(FOREMAN, "5500")
    await driver.dialog_tap(FOREMAN, flow("ed"))
    await driver.send(FOREMAN, "03-09")
    await driver.dialog_tap(FOREMAN, flow("ok"))
    deal = await only_deal(services)
    assert (deal.price_fen, deal.start_date, deal.version) == (550_000, date(2026, 3, 9), 3)
    inbox = await deliver(driver, services)
    history = inbox[DISPATCHER_TG][-1].text or ""
    assert history.count("countered") == 2
    assert "offered" in history

    # buttons of older messages are stale now: the first offer's Accept can't take the newer
    # terms, the foreman's own older buttons do nothing either
    stale = await driver.tap(DISPATCHER, act("a", deal.id, 1))
    assert answers(stale)[-1]["text"] == t("deals.changed", "en")
    stale = await driver.tap(FOREMAN, act("a", deal.id, 2))
    assert answers(stale)[-1]["text"] == t("deals.changed", "zh")
    assert (await only_deal(services)).version == 3
    assert await worker_states(services, market.worker_ids[:1]) == [("idle", None)]

    # the dispatcher accepts: the three posted workers are ticked, one tap confirms
    picking = await driver.tap(DISPATCHER, act("a", deal))
    assert t("deals.ask_workers", "en", need=3, chosen=3) in last_text(picking)
    accepted = await driver.dialog_tap(DISPATCHER, flow("wd"))
    assert answers(accepted)[-1]["text"] == t("deals.accepted_toast", "en")
    assert "13912345678" in last_text(accepted)  # now the other side's full phone

    deal = await only_deal(services)
    assert deal.status == DealStatus.ACCEPTED
    async with services.uow() as uow:
        team_id = await uow.session.scalar(
            select(Team.id).where(Team.project_id == market.project_id)
        )
        idle = (
            await uow.session.execute(
                select(IdlePosting.status, IdlePosting.filled_count).where(
                    IdlePosting.id == market.idle_id
                )
            )
        ).one()
        filled = await uow.session.scalar(
            select(ShortagePosting.filled_count).where(ShortagePosting.id == market.shortage_id)
        )
    assert team_id is not None
    # the workers now belong to the receiving project's team; the fourth stays idle
    assert await worker_states(services, market.worker_ids) == [("busy", team_id)] * 3 + [
        ("idle", None)
    ]
    assert tuple(idle) == ("filled", 3)
    assert filled == 3

    # the foreman learns it with the dispatcher's contact and the registered workers
    inbox = await deliver(driver, services)
    confirmation = inbox[FOREMAN_TG][-1].text or ""
    assert t("deals.head_accepted", "zh", id=deal.id) in confirmation
    assert "李明 13700001111" in confirmation
    assert "王海东" in confirmation
    assert "********" not in confirmation
    # short for a phone: the number once, the phone he needs right under the terms
    lines = confirmation.splitlines()
    assert confirmation.count(f"#{deal.id}") == 1
    assert lines.index(next(x for x in lines if "13700001111" in x)) <= 6
    assert "（您发布的价格：¥5,500/月）" not in confirmation  # the same as agreed: not repeated
    assert DISPATCHER_TG not in inbox  # he accepted himself and saw it on the spot

    # an accepted offer's buttons are answered "no longer open"
    again = await driver.tap(DISPATCHER, act("a", deal.id, 3))
    assert answers(again)[-1]["text"] == t("deals.no_longer_open", "en")


async def test_a_declined_offer_tells_the_proposer(
    driver: BotDriver, services: Services, market: Market
) -> None:
    await foreman_proposes(driver, market)
    deal = await only_deal(services)
    await deliver(driver, services)

    sent = await driver.tap(DISPATCHER, act("d", deal))

    assert answers(sent)[-1]["text"] == t("deals.declined_toast", "en")
    assert (await only_deal(services)).status == DealStatus.DECLINED
    inbox = await deliver(driver, services)
    told = inbox[FOREMAN_TG][-1]
    assert t("deals.head_declined", "zh", id=deal.id) in (told.text or "")
    assert told.reply_markup is None  # nothing left to answer


async def test_counter_on_an_offer_asks_below_it_and_cancel_leaves_the_offer_readable(
    driver: BotDriver, services: Services, market: Market
) -> None:
    # 还价 used to rewrite the offer into the price prompt; after 取消 it was a dead prompt
    await foreman_proposes(driver, market)
    deal = await only_deal(services)
    await deliver(driver, services)
    offer_id = 900  # the offer notification in the dispatcher's chat

    asked = await driver.tap(DISPATCHER, act("c", deal), message_id=offer_id)
    assert t("deals.ask_price", "en") in last_text(asked)
    assert [s.method for s in asked if s.method in ("sendMessage", "editMessageText")] == [
        "sendMessage"
    ]
    cancelled = await driver.dialog_tap(DISPATCHER, "cancel")
    assert last_text(cancelled) == t("common.cancelled", "en")
    touched = [s for s in asked + cancelled if s.params.get("message_id") == offer_id]
    assert touched == []  # the offer still shows its text and its buttons
    # and its buttons still work: Accept goes on to picking who goes
    again = await driver.tap(DISPATCHER, act("a", deal), message_id=offer_id)
    assert t("common.stale", "en") not in [a.get("text") for a in answers(again)]
    assert "王" in last_text(again)


async def test_someone_elses_deal_cannot_be_answered_with_a_forged_button(
    driver: BotDriver, services: Services, market: Market
) -> None:
    async with services.uow() as uow:
        other = await make_enterprise(uow, name="别家建筑公司")
        project = await make_project(uow, other)
        await make_account(
            uow,
            role=Role.FOREMAN,
            enterprise=other,
            projects=[project],
            telegram_user_id=STRANGER_TG,
        )
        await uow.commit()
    await foreman_proposes(driver, market)
    deal = await only_deal(services)

    for action in ("a", "d", "c", "o"):
        sent = await driver.tap(STRANGER, act(action, deal))
        assert answers(sent)[-1]["text"] == t("error.forbidden", "zh")
    garbage = await driver.tap(DISPATCHER, act("zz", deal))
    assert answers(garbage)[-1]["text"] == t("common.stale", "en")
    assert (await only_deal(services)).status == DealStatus.PENDING
    # the proposer can't accept his own offer either
    own = await driver.tap(FOREMAN, act("a", deal))
    assert answers(own)[-1]["text"] == t("error.not_your_turn", "zh")
    assert (await only_deal(services)).version == 1


async def test_a_dispatcher_offers_chosen_workers_and_a_worker_taken_meanwhile_voids_the_accept(
    driver: BotDriver, services: Services, market: Market
) -> None:
    # from the shortage's card: the idle side picks WHICH workers
    card = await driver.tap(DISPATCHER, ViewPostingCb(kind="s", id=market.shortage_id).pack())
    await driver.tap(DISPATCHER, callback_for(last_reply_markup(card), "Propose"))
    picker = await driver.dialog_tap(DISPATCHER, flow("h", 2))
    assert t("deals.ask_workers", "en", need=2, chosen=0) in last_text(picker)
    assert "140106********" in last_text(picker)  # masked ID numbers only
    first, second, third = market.worker_ids[:3]
    await driver.dialog_tap(DISPATCHER, flow("w", first))
    await driver.dialog_tap(DISPATCHER, flow("w", second))
    full = await driver.dialog_tap(DISPATCHER, flow("w", third))
    assert answers(full)[-1]["text"] == t("deals.workers_enough", "en", need=2)
    priced = await driver.dialog_tap(DISPATCHER, flow("wd"))
    theirs = callback_for(last_reply_markup(priced), "5,500")  # the foreman's own price
    await driver.tap(DISPATCHER, theirs)
    await driver.dialog_tap(DISPATCHER, flow("d", 3))
    await driver.dialog_tap(DISPATCHER, flow("ok"))
    deal = await only_deal(services)
    assert (deal.proposer_side, deal.idle_posting_id, deal.headcount) == ("idle", None, 2)

    # meanwhile the second worker goes to another project through another deal
    async with services.uow() as uow:
        builder = await make_enterprise(uow, name="另一建筑公司")
        elsewhere = await make_shortage(uow, await make_project(uow, builder))
        dispatcher = actor_of(await uow.session.get_one(Account, market.dispatcher_id))
        await uow.commit()
    async with services.uow() as uow:
        other = await deals.propose_deal(
            uow,
            dispatcher,
            ProposeDeal(elsewhere.id, date(2026, 3, 5), 5000, worker_ids=(second,)),
        )
    async with services.uow() as uow:
        await deals.accept_deal(uow, Actor.system(), other.id)

    inbox = await deliver(driver, services)
    offer = inbox[FOREMAN_TG][-1]
    refused = await driver.tap(FOREMAN, callback_for(offer.reply_markup, "接受"))

    assert answers(refused)[-1]["text"] == t("error.worker_taken", "zh", name="李强")
    async with services.uow() as uow:
        status = await uow.session.scalar(select(Deal.status).where(Deal.id == deal.id))
    assert status == DealStatus.PENDING
    assert await worker_states(services, (first,)) == [("idle", None)]


async def test_an_unanswered_offer_expires_and_both_sides_are_told(
    driver: BotDriver, services: Services, market: Market, clock: FixedClock
) -> None:
    await foreman_proposes(driver, market)
    await deliver(driver, services)
    clock.advance(hours=49)
    async with services.uow() as uow:
        assert await deals.expire_deals(uow) == 1

    inbox = await deliver(driver, services)

    deal = await only_deal(services)
    assert t("deals.head_expired", "zh", id=deal.id) in (inbox[FOREMAN_TG][-1].text or "")
    assert t("deals.head_expired", "en", id=deal.id) in (inbox[DISPATCHER_TG][-1].text or "")
    late = await driver.tap(DISPATCHER, act("a", deal.id, 1))
    assert answers(late)[-1]["text"] == t("deals.no_longer_open", "en")


async def test_bad_answers_are_asked_again_and_cancel_writes_nothing(
    driver: BotDriver, services: Services, market: Market
) -> None:
    await driver.tap(FOREMAN, ProposeCb(shortage_id=0, idle_id=market.idle_id).pack())
    for typed, expected in (
        ("几个", t("error.headcount_not_number", "zh")),
        ("0", t("error.headcount_range", "zh", min=1, max=3)),
        ("10000", t("error.headcount_range", "zh", min=1, max=3)),
    ):
        assert last_text(await driver.send(FOREMAN, typed)).startswith(expected)
    hint = await driver.send_sticker(FOREMAN)
    assert last_text(hint) == t("deals.hint_headcount", "zh")
    assert await driver.state(FOREMAN) == "DealFlow:headcount"

    await driver.send(FOREMAN, "2")  # a typed number is fine too
    assert await driver.state(FOREMAN) == "DealFlow:price"
    for typed, expected in (
        ("1", t("error.price_range", "zh", min=100, max=100000)),
        ("1000000000", t("error.price_range", "zh", min=100, max=100000)),
        ("面议", t("error.price_not_number", "zh")),
        ("x" * 5000, t("error.price_not_number", "zh")),
    ):
        assert last_text(await driver.send(FOREMAN, typed)).startswith(expected)
    assert last_text(await driver.send_photo(FOREMAN)) == t("deals.hint_price", "zh")
    assert await driver.state(FOREMAN) == "DealFlow:price"

    await driver.send(FOREMAN, "5,300元/月")
    for typed, expected in (
        ("2026-13-45", t("error.start_date_format", "zh")),
        ("明天吧", t("error.start_date_format", "zh")),
        ("2026-03-01", t("error.start_date", "zh", max_days=90)),  # the past
        ("12-31", t("error.start_date", "zh", max_days=90)),  # too far ahead
    ):
        assert last_text(await driver.send(FOREMAN, typed)).startswith(expected)
    assert await driver.state(FOREMAN) == "DealFlow:start"
    summary = await driver.send(FOREMAN, "3/10")
    assert "2026-03-10" in last_text(summary)
    assert "¥5,300/月" in last_text(summary)

    old_intent = await driver.intent_id(FOREMAN)
    await driver.dialog_tap(FOREMAN, "cancel")
    assert await driver.state(FOREMAN) is None
    assert await any_deal(services) is None
    stale = await driver.tap(FOREMAN, f"{old_intent}{DIALOG_SEP}ok")
    assert answers(stale)[-1]["text"] == t("common.stale", "zh")
    assert await any_deal(services) is None


async def test_the_deals_menu_lists_offers_awaiting_me_first_and_an_offer_can_be_withdrawn(
    driver: BotDriver, services: Services, market: Market
) -> None:
    async with services.uow() as uow:
        foreman = actor_of(
            await uow.session.get_one(Account, market.foreman_id), [market.project_id]
        )
        dispatcher = actor_of(await uow.session.get_one(Account, market.dispatcher_id))
    start = date(2026, 3, 6)
    async with services.uow() as uow:  # mine, waiting for the company
        asked = await deals.propose_deal(
            uow, foreman, ProposeDeal(market.shortage_id, start, 5000, 1, market.idle_id)
        )
    async with services.uow() as uow:  # theirs, accepted
        done = await deals.propose_deal(
            uow,
            dispatcher,
            ProposeDeal(market.shortage_id, start, 5000, worker_ids=(market.worker_ids[3],)),
        )
    async with services.uow() as uow:
        await deals.accept_deal(uow, foreman, done.id)
    async with services.uow() as uow:  # theirs, waiting for me
        offered = await deals.propose_deal(
            uow,
            dispatcher,
            ProposeDeal(market.shortage_id, start, 5600, worker_ids=(market.worker_ids[2],)),
        )
    await deliver(driver, services)

    menu = await driver.send(FOREMAN, t("menu.deals", "zh"))

    assert t("deals.list_awaiting_me", "zh", n=1) in last_text(menu)
    assert t("deals.list_awaiting_them", "zh", n=1) in last_text(menu)
    assert t("deals.list_accepted", "zh", n=1) in last_text(menu)
    listed = [
        int((data or "").rsplit(":", 1)[1])
        for _text, data in inline_buttons(last_reply_markup(menu))
        if DIALOG_SEP + "deals:" in (data or "")
    ]
    assert listed == [offered.id, asked.id, done.id]
    assert inline_texts(last_reply_markup(menu))[0].startswith("🔔")

    opened = await driver.dialog_tap(FOREMAN, f"deals:{asked.id}")
    assert f"#{asked.id}" in last_text(opened)
    withdraw = callback_for(last_reply_markup(opened), "撤回")
    assert withdraw == act("x", asked.id, 1)  # answered by the deals feature, as it is
    back = await driver.dialog_tap(FOREMAN, "list")
    assert t("deals.list_awaiting_them", "zh", n=1) in last_text(back)
    sent = await driver.tap(FOREMAN, withdraw)

    assert answers(sent)[-1]["text"] == t("deals.withdrawn_toast", "zh")
    async with services.uow() as uow:
        status = await uow.session.scalar(select(Deal.status).where(Deal.id == asked.id))
    assert status == DealStatus.CANCELLED
    inbox = await deliver(driver, services)
    assert t("deals.head_cancelled", "en", id=asked.id) in (inbox[DISPATCHER_TG][-1].text or "")


async def test_a_foreman_with_two_fitting_shortages_picks_one_and_without_any_is_told(
    driver: BotDriver, services: Services, market: Market
) -> None:
    async with services.uow() as uow:
        project = await uow.session.get_one(Project, market.project_id)
        second = await make_shortage(uow, project, headcount=2, price_fen=560_000)
        labour = await uow.session.get_one(Enterprise, market.dispatcher_enterprise_id)
        welder = await make_worker(uow, labour, trade_code="welder")
        welders = await make_idle_posting(uow, labour, [welder])
        await uow.commit()

    picker = await driver.tap(FOREMAN, ProposeCb(shortage_id=0, idle_id=market.idle_id).pack())
    assert last_text(picker) == t("deals.pick_shortage", "zh")
    choices = [data or "" for _text, data in inline_buttons(last_reply_markup(picker))]
    assert choices[0].endswith(flow("s", second.id))
    assert choices[1].endswith(flow("s", market.shortage_id))
    forged = await driver.dialog_tap(FOREMAN, flow("s", 999))
    assert answers(forged)[-1]["text"] == t("common.stale", "zh")
    asked = await driver.dialog_tap(FOREMAN, flow("s", second.id))
    assert last_text(asked).endswith(t("deals.ask_headcount", "zh", open=2))

    told = await driver.tap(FOREMAN, ProposeCb(shortage_id=0, idle_id=welders.id).pack())
    assert last_text(told) == t("deals.no_matching_shortage", "zh")
    assert await driver.state(FOREMAN) is None
    assert await any_deal(services) is None


async def test_a_company_without_fitting_idle_workers_is_told_and_can_go_back_to_the_card(
    driver: BotDriver, services: Services, market: Market
) -> None:
    """Regression: the "no fitting idle workers" answer had no button at all (a dead end)."""
    async with services.uow() as uow:
        actor = Actor(
            account_id=market.dispatcher_id,
            role=Role.DISPATCHER,
            enterprise_id=market.dispatcher_enterprise_id,
        )
        await withdraw_idle(uow, actor, market.idle_id)
    async with services.uow() as uow:
        for worker_id in market.worker_ids:
            await set_worker_status(uow, actor, worker_id, WorkerStatus.BUSY)
    card = await driver.tap(DISPATCHER, ViewPostingCb(kind="s", id=market.shortage_id).pack())
    told = await driver.tap(DISPATCHER, callback_for(last_reply_markup(card), "Propose"))
    assert last_text(told) == t("deals.no_idle_workers", "en")
    back = ViewPostingCb(kind="s", id=market.shortage_id).pack()
    assert back in [data for _text, data in inline_buttons(last_reply_markup(told))]
    assert await any_deal(services) is None
    # and a way forward: the busy plasterers, to set some idle
    set_idle = callback_for(last_reply_markup(told), t("deals.btn_set_idle", "en"))
    assert set_idle == WorkersCb(st="b", tr="plasterer").pack()
    busy = await driver.tap(DISPATCHER, set_idle)
    assert all(name in last_text(busy) for name in ("王海东", "李强", "赵刚", "孙伟"))


# --- issue 10: what a foreman notices on a phone ---------------------------------------------


def touching(sent: list[Sent], message_id: int) -> list[Sent]:
    return [s for s in sent if s.params.get("message_id") == message_id]


async def test_propose_from_a_notification_opens_below_it_and_cancel_leaves_it_live(
    driver: BotDriver, services: Services, market: Market
) -> None:
    # UX 1: 🤝 rewrote the notification into the next prompt; after 取消 it was a dead prompt
    notification = 700
    propose = ProposeCb(shortage_id=market.shortage_id, idle_id=market.idle_id).pack()
    asked = await driver.tap(DISPATCHER, propose, message_id=notification)
    assert [s.method for s in asked if s.method.endswith("Message")] == ["sendMessage"]
    assert touching(asked, notification) == []

    cancelled = await driver.dialog_tap(DISPATCHER, "cancel")
    assert last_text(cancelled) == t("common.cancelled", "en")
    assert touching(cancelled, notification) == []  # its text and buttons stay as they were
    assert await driver.state(DISPATCHER) is None
    # the cancelled prompt is not left with live-looking buttons
    assert [s.method for s in cancelled if s.method == "editMessageReplyMarkup"]
    again = await driver.tap(DISPATCHER, propose, message_id=notification)
    assert await driver.state(DISPATCHER) == "DealFlow:headcount"
    assert touching(again, notification) == []


async def test_the_supplier_is_asked_how_many_it_sends_and_the_receiver_how_many_it_needs(
    driver: BotDriver, services: Services, market: Market
) -> None:
    # UX 7: the labour company was asked "需要几人？"
    async with services.uow() as uow:
        account = await uow.session.get_one(Account, market.dispatcher_id)
        account.locale = "zh"
        await uow.commit()
    supplier = tg_user(DISPATCHER_TG)
    propose = ProposeCb(shortage_id=market.shortage_id, idle_id=market.idle_id).pack()
    asked = await driver.tap(supplier, propose)
    assert "派几人？" in last_text(asked)
    assert "需要几人" not in last_text(asked)
    asked = await driver.tap(FOREMAN, propose)
    assert "需要几人？" in last_text(asked)


async def test_after_a_counter_its_sender_sees_withdraw_counter_not_withdraw_offer(
    driver: BotDriver, services: Services, market: Market
) -> None:
    # UX 7: after a counter the button still read "撤回报价"
    await foreman_proposes(driver, market)
    deal = await only_deal(services)
    await driver.tap(DISPATCHER, act("c", deal))
    await driver.send(DISPATCHER, "5800")
    sent = await driver.dialog_tap(DISPATCHER, flow("ok"))
    texts_now = inline_texts(last_reply_markup(sent))
    assert texts_now == [t("deals.btn_withdraw_counter", "en")]
    assert t("deals.btn_withdraw", "en") not in texts_now
    assert await driver.state(DISPATCHER) is None


async def test_a_finished_steps_keyboard_goes_away(
    driver: BotDriver, services: Services, market: Market
) -> None:
    # UX 5: finished prompts kept live-looking buttons (old price and 返回/取消 keyboards)
    await driver.tap(FOREMAN, ProposeCb(shortage_id=0, idle_id=market.idle_id).pack())
    priced = await driver.dialog_tap(FOREMAN, flow("h", 3))  # a tap: the prompt becomes the next
    [edited] = [s for s in priced if s.method in ("sendMessage", "editMessageText")]
    assert edited.method == "editMessageText"
    prompt = edited.params["message_id"]
    dated = await driver.send(FOREMAN, "5200")  # typed: a new prompt, the old one loses its keys
    stripped = [s for s in dated if s.method == "editMessageReplyMarkup"]
    assert [s.params.get("message_id") for s in stripped] == [prompt]
    assert stripped[0].params.get("reply_markup") is None
    await driver.dialog_tap(FOREMAN, flow("d", 1))
    sent = await driver.dialog_tap(FOREMAN, flow("ok"))
    # the summary became the offer: only the offer's own button, nothing of the dialog
    assert inline_texts(last_reply_markup(sent)) == [t("deals.btn_withdraw", "zh")]


async def test_the_supplier_changes_who_goes_from_the_summary(
    driver: BotDriver, services: Services, market: Market
) -> None:
    await driver.tap(DISPATCHER, ProposeCb(shortage_id=market.shortage_id, idle_id=0).pack())
    first, second, third = market.worker_ids[:3]
    await driver.dialog_tap(DISPATCHER, flow("h", 2))
    await driver.dialog_tap(DISPATCHER, flow("w", first))
    await driver.dialog_tap(DISPATCHER, flow("w", second))
    await driver.dialog_tap(DISPATCHER, flow("wd"))
    await driver.send(DISPATCHER, "5500")
    summary = await driver.dialog_tap(DISPATCHER, flow("d", 1))
    assert "李强" in last_text(summary)

    await driver.dialog_tap(DISPATCHER, "ew")
    picker = await driver.dialog_tap(DISPATCHER, flow("h", 2))  # as many, but who?
    assert await driver.state(DISPATCHER) == "DealFlow:workers"
    assert t("deals.ask_workers", "en", need=2, chosen=2) in last_text(picker)
    await driver.dialog_tap(DISPATCHER, flow("w", second))
    await driver.dialog_tap(DISPATCHER, flow("w", third))
    summary = await driver.dialog_tap(DISPATCHER, flow("wd"))
    assert await driver.state(DISPATCHER) == "DealFlow:summary"
    assert "赵刚" in last_text(summary)
    assert "李强" not in last_text(summary)
    await driver.dialog_tap(DISPATCHER, flow("ok"))
    async with services.uow() as uow:
        deal = await uow.session.scalar(select(Deal))
        assert deal is not None
        named = await deals.get_deal(uow, Actor.system(), deal.id)
    assert sorted(w.id for w in named.workers) == sorted((first, third))


async def test_the_deals_list_pages_five_at_a_time(
    driver: BotDriver, services: Services, market: Market
) -> None:
    async with services.uow() as uow:
        foreman = actor_of(
            await uow.session.get_one(Account, market.foreman_id), [market.project_id]
        )
        project = await uow.session.get_one(Project, market.project_id)
        shortages = [market.shortage_id]
        shortages += [(await make_shortage(uow, project)).id for _ in range(5)]
        await uow.commit()
    ids = []
    for shortage_id in shortages:  # one pending offer per pair of postings
        async with services.uow() as uow:
            asked = await deals.propose_deal(
                uow,
                foreman,
                ProposeDeal(shortage_id, date(2026, 3, 6), 5000, 1, market.idle_id),
            )
            ids.append(asked.id)

    menu = await driver.send(FOREMAN, t("menu.deals", "zh"))
    assert t("deals.list_awaiting_them", "zh", n=6) in last_text(menu)
    first = inline_texts(last_reply_markup(menu))
    assert [x.startswith("⏳") for x in first].count(True) == 5  # five a page
    assert all(x.startswith("⏳") for x in first[:5])
    assert "1/2" in first
    turned = await driver.dialog_tap(FOREMAN, "deals_x")
    second = inline_texts(last_reply_markup(turned))
    assert "2/2" in second
    assert len([x for x in second if x.startswith("⏳")]) == 1
    assert f"#{min(ids)}" in next(x for x in second if x.startswith("⏳"))  # the oldest last
