"""Issue 12, item 1: released workers go back to their labor company as idle, and its
dispatcher is asked whether to declare them idle again: the release notice's 📤 opens the
declare-idle dialog with those workers ticked and their trade set, as a new message."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from bot.callbacks_dispatch import ReIdleCb
from bot.i18n import t
from core.db.models import Account, IdlePosting, IdlePostingWorker
from core.db.uow import Services
from core.domain.enums import WorkerStatus
from core.ports import FixedClock
from core.services.dispatch import release_workers
from core.services.workers import set_worker_status
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
from tests.bot.test_dispatch_bot import FOREMAN, SUPPLIER, at, bind, rendered
from tests.integration.deal_world import World, build_world
from tests.integration.test_dispatch_life import accepted

DAY = date(2026, 3, 20)
RECEIVER = tg_user(7005, name="赵调度")  # a dispatcher, but of the receiving company
BUTTON = "📤 重新提报赋闲"


async def released(services: Services, w: World, clock: FixedClock) -> tuple[int, list[int]]:
    """A dispatch of three plasterers, all released by the foreman on DAY."""
    deal_id = await accepted(services, w)
    await bind(services, w)
    async with services.uow() as uow:
        await uow.session.execute(
            update(Account)
            .where(Account.id == w.receiver_dispatcher.account_id)
            .values(telegram_user_id=RECEIVER.id, chat_id=RECEIVER.id)
        )
        await uow.commit()
    clock.at = at(DAY, 10, 0)
    async with services.uow() as uow:
        view = await release_workers(uow, w.foreman, deal_id, on=DAY)
    return deal_id, [a.worker_id for a in view.assignments]


async def idle_postings(services: Services) -> list[tuple[int, str, int, list[int]]]:
    """(id, trade, grade, worker ids) of each idle posting, newest last."""
    async with services.uow() as uow:
        rows = (await uow.session.scalars(select(IdlePosting).order_by(IdlePosting.id))).all()
        out = []
        for p in rows:
            ids = await uow.session.scalars(
                select(IdlePostingWorker.worker_id)
                .where(IdlePostingWorker.posting_id == p.id)
                .order_by(IdlePostingWorker.worker_id)
            )
            out.append((p.id, p.trade_code, p.grade_level, list(ids)))
        return out


async def ticked(driver: BotDriver) -> list[int]:
    context = await driver.dialog_context(SUPPLIER)
    assert context is not None
    return sorted(int(w) for w in (context.get("widget_data") or {}).get("idle_workers", []))


async def press(driver: BotDriver, sent: list[Sent], text_part: str) -> list[Sent]:
    return await driver.tap(SUPPLIER, callback_for(last_reply_markup(sent), text_part))


async def test_the_release_notice_carries_a_button_to_declare_them_idle_again(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id, _ = await released(services, w, clock)
    again = ReIdleCb(d=deal_id, on="2026-03-20").pack()

    [notice] = await rendered(services, "workers_released")
    assert "已于 2026-03-20 退场" in notice.text
    assert "点下面的「📤 重新提报赋闲」" in notice.text
    assert inline_buttons(notice.reply_markup) == [(BUTTON, again)]
    [english] = await rendered(services, "workers_released", locale="en")
    assert inline_buttons(english.reply_markup) == [("📤 Declare idle again", again)]


async def test_the_button_opens_the_dialog_with_the_released_workers_ticked_and_posts_them(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)  # four idle plasterers on offer, three go on the deal
    deal_id, gone_home = await released(services, w, clock)
    [notice] = await rendered(services, "workers_released")
    again = inline_buttons(notice.reply_markup)[0][1]
    assert again is not None

    sent = await driver.tap(SUPPLIER, again)
    assert answers(sent)  # the tap is answered
    # a new message: the notice above stays readable
    assert "editMessageText" not in [x.method for x in sent]
    assert last_text(sent) == t("idle.ask_county", "zh")
    assert await ticked(driver) == sorted(gone_home)

    sent = await press(driver, sent, "榆次区")  # the trade is set: the grade comes next
    assert await driver.state(SUPPLIER) == "DeclareIdle:grade"
    # a looser grade than theirs keeps them ticked
    sent = await press(driver, sent, "三级")
    page = last_text(sent)
    assert "抹灰工" in page
    assert t("idle.selected_count", "zh", count=3) in page
    ticked_buttons = [x for x in inline_texts(last_reply_markup(sent)) if x.startswith("✅")]
    assert len(ticked_buttons) == 3
    assert await ticked(driver) == sorted(gone_home)

    sent = await press(driver, sent, "✔️")
    assert await driver.state(SUPPLIER) == "DeclareIdle:price"
    sent = await driver.send(SUPPLIER, "5000")
    sent = await press(driver, sent, t("shortage.use_contact", "zh"))
    assert "王海东" in last_text(sent)  # the summary names them
    sent = await press(driver, sent, t("idle.confirm", "zh"))
    # the deal's original posting keeps its fourth worker; the new one has exactly the three
    posting_id, *posted = (await idle_postings(services))[-1]
    assert posted == ["plasterer", 3, sorted(gone_home)]
    assert last_text(sent).startswith(t("idle.posted", "zh", id=posting_id, count=3))
    assert await driver.state(SUPPLIER) is None

    # the old button after they were declared: said clearly, no dialog opened
    sent = await driver.tap(SUPPLIER, again)
    assert answers(sent)[-1]["text"] == t("reidle.none_left", "zh", id=deal_id)
    assert answers(sent)[-1]["show_alert"] is True
    assert await driver.state(SUPPLIER) is None
    assert len(await idle_postings(services)) == 2


async def test_one_worker_busy_again_is_left_out_and_strangers_are_refused(
    driver: BotDriver, services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id, gone_home = await released(services, w, clock)
    again = ReIdleCb(d=deal_id, on="2026-03-20").pack()

    # neither the receiving company's dispatcher nor the foreman may declare them
    sent = await driver.tap(RECEIVER, again)
    assert answers(sent)[-1]["show_alert"] is True
    assert await driver.state(RECEIVER) is None
    await driver.tap(FOREMAN, again)
    assert await driver.state(FOREMAN) is None
    # a forged day, and a day nobody left on, open nothing
    sent = await driver.tap(SUPPLIER, ReIdleCb(d=deal_id, on="yesterday").pack())
    assert answers(sent)[-1]["text"] == t("common.stale", "zh")
    sent = await driver.tap(SUPPLIER, ReIdleCb(d=deal_id, on="2026-03-19").pack())
    assert answers(sent)[-1]["text"] == t("reidle.none_left", "zh", id=deal_id)
    assert await driver.state(SUPPLIER) is None

    async with services.uow() as uow:  # one of them went on duty again meanwhile
        await set_worker_status(uow, w.supplier_dispatcher, gone_home[0], WorkerStatus.BUSY)
    sent = await driver.tap(SUPPLIER, again)
    assert answers(sent)[-1]["text"] == t("reidle.some_left", "zh", count=2, gone=1)
    assert await ticked(driver) == sorted(gone_home[1:])
    assert last_text(sent) == t("idle.ask_county", "zh")
