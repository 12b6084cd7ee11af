"""The whole market end to end through the Telegram emulator, no mocks.

The real demo runs in this test's event loop: a seeded SQLite database in tmp, the sandbox,
the production dispatcher polling it through aiogram's own HTTP session, the outbox sender
(throttling relaxed) and the scheduler with its lease. The personas act only through the
sandbox's client API, pressing the buttons the bot sent them:

a foreman posts a shortage → a labour company's dispatcher (another company) gets the match
notification → proposes two of its workers at a price → the foreman counters with a lower
price → the dispatcher accepts → both see the other side's full phone and the workers → the
day the workers start, the foreman rates them → the 太原 regulator's digest (text, chart,
workbook) reports the deal.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from decimal import Decimal

import openpyxl

from bot.callbacks_deals import ProposeCb
from bot.demo.app import DIGEST_ACTION, RunningDemo
from bot.keyboards.ratings import RateDealCb, RateSkipCb
from core.domain.actor import Actor
from core.domain.enums import DealStatus
from core.ports import FixedClock
from core.services import deals, postings, ratings
from core.services.search import PostingCard, PostingQuery, search_postings
from sandbox.client import ChatMessage, SandboxClient, UserClient

MATCHES_NOTIFIED = 5  # core.services.postings.post_shortage: notify_matches(top=5)
HEADCOUNT = 2
COUNTER_OFF = Decimal(300)  # the foreman's counter: ¥300 a month below the offer


def has_button(data: str) -> Callable[[ChatMessage], bool]:
    return lambda m: any(b.callback_data == data for row in m.buttons for b in row)


DIALOG_SEP = "\x1d"  # aiogram-dialog callback data: "<intent id>\x1d<widget id>[:<item>]"


def dialog_button(message: ChatMessage, widget_data: str) -> str:
    """The callback data of a dialog's button: "<intent id>\\x1d<widget id>[:<item>]"."""
    found = [
        b.callback_data
        for row in message.buttons
        for b in row
        if b.callback_data and b.callback_data.endswith(DIALOG_SEP + widget_data)
    ]
    assert len(found) == 1, (widget_data, message.buttons)
    return found[0]


def has_dialog_button(widget_data: str) -> Callable[[ChatMessage], bool]:
    return lambda m: any(
        (b.callback_data or "").endswith(DIALOG_SEP + widget_data)
        for row in m.buttons
        for b in row
    )


def button_data(message: ChatMessage, prefix: str) -> list[str]:
    return [
        b.callback_data
        for row in message.buttons
        for b in row
        if b.callback_data and b.callback_data.startswith(prefix)
    ]


async def tap(user: UserClient, data: str) -> dict[str, object]:
    """Press the button with this callback data; the bot's answer to the query."""
    query_id = await user.press(data)
    return await user.sandbox.callback_answer(query_id)


async def pick_idle_posting(demo: RunningDemo) -> PostingCard:
    """A live idle posting of the dispatcher's company that the foreman's shortage of the same
    trade and grade must be told about: guided trade (a button on the first page), room for
    two workers, and fewer than MATCHES_NOTIFIED competitors (postings of that trade at that
    grade or better in 太原, or of the foreman's own company, which always ranks first)."""
    foreman, dispatcher = demo.persona("foreman"), demo.persona("dispatcher2")
    system = Actor.system()
    async with demo.services.uow() as uow:
        guided = {t.code for t in await postings.list_trades(uow) if t.guided}
        offered = await search_postings(
            uow,
            system,
            PostingQuery(kind="idle", enterprise_id=dispatcher.enterprise_id, limit=50),
        )
        best: tuple[int, PostingCard] | None = None
        for card in offered.items:
            if card.trade_code not in guided or card.open_headcount < HEADCOUNT:
                continue
            rivals: set[int] = set()
            for query in (
                PostingQuery(
                    kind="idle", region_code="140100", trade_code=card.trade_code, limit=50
                ),
                PostingQuery(
                    kind="idle",
                    enterprise_id=foreman.enterprise_id,
                    trade_code=card.trade_code,
                    limit=50,
                ),
            ):
                found = await search_postings(uow, system, query)
                rivals |= {
                    c.id
                    for c in found.items
                    if c.grade_level <= card.grade_level and c.id != card.id
                }
            if best is None or len(rivals) < best[0]:
                best = (len(rivals), card)
    assert best is not None, f"the seed gives {dispatcher.enterprise_name} no idle posting"
    assert best[0] < MATCHES_NOTIFIED, (
        f"the seed gives {dispatcher.enterprise_name} no idle posting that surely makes the "
        f"top {MATCHES_NOTIFIED} of a 太原 shortage: {best}"
    )
    return best[1]


async def test_a_shortage_becomes_a_rated_deal_and_shows_in_the_regulators_digest(
    demo: RunningDemo, client: SandboxClient, demo_clock: FixedClock
) -> None:
    foreman_p, dispatcher_p = demo.persona("foreman"), demo.persona("dispatcher2")
    regulator_p = demo.persona("regulator_taiyuan")
    assert foreman_p.enterprise_id != dispatcher_p.enterprise_id  # another company
    foreman, dispatcher = client.user(foreman_p.user_id), client.user(dispatcher_p.user_id)
    idle = await pick_idle_posting(demo)
    asking = idle.price

    # 1. the foreman posts a shortage of that trade, grade and price, button by button
    await foreman.press_reply("📝 发布缺工")
    step = await foreman.wait_for_message(has_dialog_button(f"trade:{idle.trade_code}"))
    await tap(foreman, dialog_button(step, f"trade:{idle.trade_code}"))
    step = await foreman.wait_for_message(has_dialog_button(f"grade:{idle.grade_level}"))
    await tap(foreman, dialog_button(step, f"grade:{idle.grade_level}"))
    step = await foreman.wait_for_message(has_dialog_button(f"n:{HEADCOUNT}"))
    await tap(foreman, dialog_button(step, f"n:{HEADCOUNT}"))
    step = await foreman.wait_for_message(has_dialog_button("ptype"))
    await tap(foreman, dialog_button(step, "ptype"))
    await foreman.wait_for_message(lambda m: "月薪" in m.text)
    await foreman.send_text(f"{asking:.0f}")
    step = await foreman.wait_for_message(
        lambda m: has_dialog_button("me")(m) or has_dialog_button("keep")(m)
    )
    if has_dialog_button("keep")(step):  # far from the guide price: keep it
        await tap(foreman, dialog_button(step, "keep"))
        step = await foreman.wait_for_message(has_dialog_button("me"))
    await tap(foreman, dialog_button(step, "me"))
    step = await foreman.wait_for_message(has_dialog_button("confirm"))
    await tap(foreman, dialog_button(step, "confirm"))
    posted = await foreman.wait_for_message(lambda m: "已发布缺工" in m.text)
    shortage_id = int(re.search(r"#(\d+)", posted.text).group(1))  # type: ignore[union-attr]
    assert dispatcher_p.enterprise_name
    assert dispatcher_p.enterprise_name in posted.text, (
        f"{dispatcher_p.enterprise_name} is not among the foreman's top matches: {posted.text}"
    )

    # 2. the dispatcher of the other company hears of it and proposes two workers
    propose = ProposeCb(shortage_id=shortage_id, idle_id=idle.id).pack()
    match = await dispatcher.wait_for_message(has_button(propose))
    assert f"#{idle.id}" in match.text
    assert "成交后双方可见完整联系方式" in match.text
    assert foreman_p.phone
    assert foreman_p.phone not in match.text
    await tap(dispatcher, propose)
    step = await dispatcher.wait_for_message(has_dialog_button(f"count:{HEADCOUNT}"))
    await tap(dispatcher, dialog_button(step, f"count:{HEADCOUNT}"))
    workers = DIALOG_SEP + "deal_workers:"
    picker = await dispatcher.wait_for_message(
        lambda m: any(workers in (b.callback_data or "") for row in m.buttons for b in row)
    )
    chosen = [
        b.callback_data
        for row in picker.buttons
        for b in row
        if b.callback_data and workers in b.callback_data
    ][:HEADCOUNT]
    for data in chosen:  # each tap ticks one (✅)
        await tap(dispatcher, data)
        picker = await dispatcher.wait_for_message(
            lambda m, data=data: any(
                b.callback_data == data and b.text.startswith("✅")
                for row in m.buttons
                for b in row
            )
        )
    await tap(dispatcher, dialog_button(picker, "pick_done"))
    await dispatcher.wait_for_message(lambda m: "每人每月价格" in m.text)
    await dispatcher.send_text(f"{asking:.0f}")
    step = await dispatcher.wait_for_message(has_dialog_button("day:1"))
    await tap(dispatcher, dialog_button(step, "day:1"))  # they start tomorrow
    step = await dispatcher.wait_for_message(has_dialog_button("ok"))
    await tap(dispatcher, dialog_button(step, "ok"))
    await dispatcher.wait_for_message(lambda m: "报价已发送" in m.text)

    # 3. the foreman counters with a lower price
    offer = await foreman.wait_for_message(lambda m: "新的调度报价" in m.text)
    deal_id = int(re.search(r"#(\d+)", offer.text).group(1))  # type: ignore[union-attr]
    (counter,) = [d for d in button_data(offer, "da:c:") if d.startswith(f"da:c:{deal_id}:")]
    await tap(foreman, counter)
    await foreman.wait_for_message(lambda m: "每人每月价格" in m.text)
    lower = asking - COUNTER_OFF
    await foreman.send_text(f"{lower:.0f}")
    step = await foreman.wait_for_message(has_dialog_button("ok"))
    await tap(foreman, dialog_button(step, "ok"))
    await foreman.wait_for_message(lambda m: "还价已发送" in m.text)

    # 4. the dispatcher accepts the counter
    countered = await dispatcher.wait_for_message(lambda m: "对方还价" in m.text)
    (accept,) = button_data(countered, f"da:a:{deal_id}:")
    await tap(dispatcher, accept)

    # 5. both see the other side's full phone and the registered workers
    async with demo.services.uow() as uow:
        view = await deals.get_deal(uow, foreman_p.actor(), deal_id)
        idle_view = await postings.get_idle(uow, dispatcher_p.actor(), idle.id)
        shortage_view = await postings.get_shortage(uow, foreman_p.actor(), shortage_id)
    assert view.status is DealStatus.ACCEPTED
    assert view.price == lower
    assert len(view.workers) == HEADCOUNT
    # the foreman is told; the dispatcher's accepted offer turns into the deal card
    foreman_sees = await foreman.wait_for_message(lambda m: f"交易 #{deal_id} 已成交" in m.text)
    dispatcher_sees = await dispatcher.wait_for_message(
        lambda m: "已成交" in m.text and f"交易 #{deal_id}" in m.text
    )
    assert idle_view.contact_phone_private in foreman_sees.text, foreman_sees.text
    assert shortage_view.contact_phone_private in dispatcher_sees.text, dispatcher_sees.text
    for worker in view.workers:
        assert worker.name in foreman_sees.text
        assert worker.name in dispatcher_sees.text

    # 6. the day they start, the foreman rates both workers (5 stars, 4 stars with a comment)
    demo_clock.advance(days=1)
    await foreman.press_reply("⭐ 工人评价")
    await foreman.wait_for_message(has_button(RateDealCb(deal_id=deal_id).pack()))
    await tap(foreman, RateDealCb(deal_id=deal_id).pack())
    names = {w.id: w.name for w in view.workers}
    # each answer comes with the next worker's stars, the last one with the deal's summary
    prompt = await foreman.wait_for_message(lambda m: bool(button_data(m, f"rts:{deal_id}:")))
    for stars, comment in ((5, None), (4, "干活认真")):
        (star,) = [d for d in button_data(prompt, f"rts:{deal_id}:") if d.endswith(f":{stars}")]
        worker_id = int(star.split(":")[2])
        await tap(foreman, star)
        skip = RateSkipCb(deal_id=deal_id, worker_id=worker_id).pack()
        await foreman.wait_for_message(has_button(skip))
        if comment is None:
            await tap(foreman, skip)
        else:
            await foreman.send_text(comment)
        prompt = await foreman.wait_for_message(
            lambda m, name=names[worker_id]: f"已评价 {name}" in m.text
        )
    assert "已全部评价" in prompt.text, prompt.text
    async with demo.services.uow() as uow:
        summary = await ratings.deal_rating_summary(uow, foreman_p.actor(), deal_id)
    assert sorted(r.stars for r in summary.rated) == [4, 5]

    # 7. the 太原 regulator's digest of that day: text, chart, workbook with the deal in it
    regulator = client.user(regulator_p.user_id)
    assert [a["id"] for a in await regulator.actions()] == [DIGEST_ACTION]
    await regulator.run_action(DIGEST_ACTION)
    text = await regulator.wait_for_message(lambda m: "日报" in m.text and not m.has_photo)
    photo = await regulator.wait_for_message(lambda m: m.has_photo)
    sheet = await regulator.wait_for_message(lambda m: (m.document_name or "").endswith(".xlsx"))
    assert "太原" in text.text
    assert (await client.download(photo))[:8] == b"\x89PNG\r\n\x1a\n"
    workbook = openpyxl.load_workbook(io.BytesIO(await client.download(sheet)), read_only=True)
    cells = {
        str(value)
        for ws in workbook.worksheets
        for row in ws.iter_rows(values_only=True)
        for value in row
        if value is not None
    }
    assert dispatcher_p.enterprise_name in cells, f"the deal is missing: {workbook.sheetnames}"
