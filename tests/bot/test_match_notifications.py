"""The "match" notification: what the other side reads, its View / Propose buttons, and
silence when a posting closed while the notification waited (quiet hours, an outage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select, update

from bot import notifier
from bot.callbacks_deals import ProposeCb, ViewPostingCb
from bot.i18n import t
from bot.renderers import outbox_renderers
from bot.renderers.contact_exchange import ContactCb
from bot.sender import OutboxSender, SenderConfig
from core.db.models import Enterprise, OutboxMessage, ShortagePosting
from core.db.uow import Services
from core.domain.enums import Role
from core.domain.timeutil import as_utc
from core.services.matching import notify_matches
from core.services.outbox import OutboxItem
from tests.bot.harness import (
    BotDriver,
    callback_for,
    inline_buttons,
    inline_texts,
    last_reply_markup,
    last_text,
    tg_user,
)
from tests.factories import (
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)

DISPATCHER_TG = 6201
FAST = SenderConfig(global_rate=1000, chat_rate=1000, group_rate=1000, poll_interval=0.05)


@dataclass(frozen=True)
class Matched:
    shortage_id: int  # the new posting
    idle_id: int  # the recipient's posting
    dispatcher_id: int
    worker_ids: tuple[int, ...]


async def matched(services: Services, locale: str = "zh") -> Matched:
    """晋阳劳务 offers plasterers; 太原南站项目 then posts a shortage of plasterers."""
    async with services.uow() as uow:
        labour = await make_enterprise(uow, name="晋阳劳务有限公司", county_code="140106")
        dispatcher = await make_account(
            uow,
            role=Role.DISPATCHER,
            enterprise=labour,
            telegram_user_id=DISPATCHER_TG,
            locale=locale,
        )
        workers = [await make_worker(uow, labour, name=n) for n in ("王海东", "李强", "赵刚")]
        idle = await make_idle_posting(uow, labour, workers, posted_by_account_id=dispatcher.id)
        builder = await make_enterprise(uow, name="山西五建集团", type="general_contractor")
        project = await make_project(uow, builder, name="太原南站项目")
        shortage = await make_shortage(uow, project, headcount=4, price_fen=550_000)
        assert await notify_matches(uow, "shortage", shortage.id) == 1
        await uow.commit()
        return Matched(shortage.id, idle.id, dispatcher.id, tuple(w.id for w in workers))


async def queued_item(services: Services, account_id: int, locale: str = "zh") -> OutboxItem:
    """The match row queued for the account, as the sender would claim it."""
    async with services.uow() as uow:
        row = await uow.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.account_id == account_id, OutboxMessage.kind == "match"
            )
        )
        assert row is not None
        return OutboxItem(
            id=row.id,
            account_id=row.account_id,
            kind=row.kind,
            payload=dict(row.payload),
            attempts=0,
            created_at=as_utc(row.created_at),
            chat_id=DISPATCHER_TG,
            locale=locale,
            active=True,
        )


async def render(
    services: Services, item: OutboxItem, locale: str
) -> list[notifier.OutgoingMessage]:
    """The registered renderer of the row's kind, in `locale` (the sender's translate)."""

    def translate(key: str, /, **params: Any) -> str:
        return t(key, locale, **params)

    async with services.uow() as uow:
        return await outbox_renderers().render(item, uow, translate)


@pytest.mark.parametrize("locale", ["zh", "en"])
async def test_a_match_shows_the_new_posting_with_view_and_propose(
    services: Services, locale: str
) -> None:
    m = await matched(services, locale)
    item = await queued_item(services, m.dispatcher_id, locale)
    assert item.payload["my_posting_id"] == m.idle_id

    [message] = await render(services, item, locale)

    trade = "抹灰工" if locale == "zh" else "Plasterer"
    title = t("match.title_for_idle", locale, id=m.idle_id, trade=trade)
    assert message.text.startswith(f"<b>{title}</b>")
    assert "山西五建集团" in message.text
    assert t("deals.price", locale, amount="5,500") in message.text
    assert "13912345678" not in message.text
    assert "张伟" not in message.text
    assert inline_buttons(message.reply_markup) == [
        (
            t("match.view", locale),
            ViewPostingCb(kind="s", id=m.shortage_id, via=m.idle_id).pack(),
        ),
        (
            t("match.propose", locale),
            ProposeCb(shortage_id=m.shortage_id, idle_id=m.idle_id).pack(),
        ),
        (
            t("contacts.btn_request", locale),
            ContactCb(a="r", s=m.shortage_id, i=m.idle_id).pack(),
        ),
    ]


async def test_nothing_is_sent_for_a_posting_closed_before_delivery(
    driver: BotDriver, services: Services
) -> None:
    m = await matched(services)
    async with services.uow() as uow:
        await uow.session.execute(
            update(ShortagePosting)
            .where(ShortagePosting.id == m.shortage_id)
            .values(status="cancelled")
        )
        await uow.commit()
    item = await queued_item(services, m.dispatcher_id)

    assert await render(services, item, "zh") == []
    await OutboxSender(driver.bot, services, config=FAST).drain(timeout=10)
    assert [s for s in driver.requests if s.method == "sendMessage"] == []


async def test_view_opens_the_card_and_propose_starts_the_offer_with_the_posted_workers(
    driver: BotDriver, services: Services
) -> None:
    m = await matched(services, "en")
    [message] = await render(services, await queued_item(services, m.dispatcher_id, "en"), "en")
    view, propose = (data for _text, data in inline_buttons(message.reply_markup)[:2])
    dispatcher = tg_user(DISPATCHER_TG, language_code="en")
    assert view is not None
    assert propose is not None

    card = await driver.tap(dispatcher, view)
    assert "📞 张伟 139****5678" in last_text(card)
    assert (
        inline_buttons(last_reply_markup(card))[0][1]
        == ProposeCb(shortage_id=m.shortage_id, idle_id=m.idle_id).pack()
    )

    asked = await driver.tap(dispatcher, propose)
    # the supplier is asked how many it sends, under what the shortage asks for
    assert last_text(asked) == "Plasterer · Grade 3\n" + t(
        "deals.ask_send_headcount", "en", open=3
    )
    picker = await driver.dialog_tap(dispatcher, "count:2")
    assert t("deals.ask_workers", "en", need=2, chosen=0) in last_text(picker)
    assert all(name in last_text(picker) for name in ("王海东", "李强", "赵刚"))
    # one tap ticks as many as needed
    all_of = callback_for(last_reply_markup(picker), t("deals.btn_select_all", "en", need=2))
    picked = await driver.tap(dispatcher, all_of)
    assert t("deals.ask_workers", "en", need=2, chosen=2) in last_text(picked)
    assert t("deals.btn_done", "en") in inline_texts(last_reply_markup(picked))


async def test_exactly_as_many_fitting_workers_as_needed_come_ticked(
    driver: BotDriver, services: Services
) -> None:
    m = await matched(services, "en")
    [message] = await render(services, await queued_item(services, m.dispatcher_id, "en"), "en")
    _view, propose = (data for _text, data in inline_buttons(message.reply_markup)[:2])
    dispatcher = tg_user(DISPATCHER_TG, language_code="en")
    assert propose is not None
    await driver.tap(dispatcher, propose)
    picker = await driver.dialog_tap(dispatcher, "count:3")
    assert t("deals.ask_workers", "en", need=3, chosen=3) in last_text(picker)
    assert t("deals.btn_done", "en") in inline_texts(last_reply_markup(picker))


async def test_regression_view_and_propose_from_a_match_use_the_idle_posting_below_it(
    driver: BotDriver, services: Services
) -> None:
    # 👁 turned the notification into the card (no way back), and 🤝 from the card made a
    # deal without the idle posting: any idle worker, the dispatcher's own phone as contact
    m = await matched(services, "zh")
    async with services.uow() as uow:
        labour = await uow.session.scalar(
            select(Enterprise).where(Enterprise.name == "晋阳劳务有限公司")
        )
        assert labour is not None
        await make_worker(uow, labour, name="孙不在列")  # idle, but not in the posting
        await uow.commit()
    [message] = await render(services, await queued_item(services, m.dispatcher_id), "zh")
    view, _propose = (data for _text, data in inline_buttons(message.reply_markup)[:2])
    dispatcher = tg_user(DISPATCHER_TG)
    assert view is not None

    card = await driver.tap(dispatcher, view, message_id=500)  # the notification's id
    assert [s.method for s in card if s.method in ("sendMessage", "editMessageText")] == [
        "sendMessage"
    ]
    assert not [s for s in card if s.params.get("message_id") == 500]  # left as it was
    assert "山西五建集团" in last_text(card)

    picker_of = callback_for(last_reply_markup(card), t("search.btn_propose", "zh"))
    asked = await driver.tap(dispatcher, picker_of, message_id=501)
    assert not [s for s in asked if s.params.get("message_id") == 501]  # the card stays too
    picker = await driver.dialog_tap(dispatcher, "count:2")
    shown = last_text(picker)
    assert all(name in shown for name in ("王海东", "李强", "赵刚"))
    assert "孙不在列" not in shown  # only the workers of the matched idle posting
