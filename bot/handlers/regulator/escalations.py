"""🧭 协调: shortages and idle postings escalated to the bureau (the third ring), each with its
suggested matches inside the region; "Broker" sends both companies a suggestion (outbox)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import Event, clip, home, locale, price_month, show
from bot.i18n import N_, tr
from bot.keyboards.regulator import (
    BrokerCb,
    EscCb,
    EscViewCb,
    button,
    markup,
    pager,
    with_cancel,
)
from core.db.uow import UnitOfWork
from core.domain.errors import ValidationError
from core.domain.timeutil import SHANGHAI
from core.services import brokering
from core.services.accounts import AccountView
from core.services.regions import get_region
from core.services.search import PostingCard

PAGE = 5
KINDS = {"s": "shortage", "i": "idle"}


def _grade(card: PostingCard) -> str:
    """一级 / 三级及以上 style: a shortage asks for a grade or better."""
    if card.kind == "shortage":
        return tr("regulator.esc.grade_min", level=card.grade_level)
    return tr("regulator.esc.grade", level=card.grade_level)


def card_line(card: PostingCard, loc: str) -> str:
    """One posting in two short lines: who and where, then what, how many, what price."""
    zh = loc.startswith("zh")
    trade = card.trade_name_zh if zh else card.trade_name_en
    county = card.county_name_zh if zh else card.county_name_en
    who = (
        tr(
            "regulator.esc.who_shortage",
            id=card.id,
            enterprise=clip(card.enterprise_name, 20),
            project=clip(card.project_name or "", 20),
            county=county,
        )
        if card.kind == "shortage"
        else tr(
            "regulator.esc.who_idle",
            id=card.id,
            enterprise=clip(card.enterprise_name, 20),
            county=county,
        )
    )
    what = tr(
        N_("regulator.esc.what_shortage")
        if card.kind == "shortage"
        else N_("regulator.esc.what_idle"),
        trade=trade,
        grade=_grade(card),
        headcount=card.open_headcount,
        price=price_month(card.price),
    )
    return f"{who}\n{what}"


async def _list(
    event: Event,
    uow: UnitOfWork,
    account: AccountView,
    kind: str,
    code: str,
    cursor: str,
    back: int,
) -> None:
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    page = await brokering.escalated_postings(
        uow,
        account.actor(),
        code,
        KINDS[kind],
        cursor=cursor or None,
        direction="prev" if back else "next",
        limit=PAGE,
    )
    region = await get_region(uow, code)
    loc = locale()
    title = N_("regulator.esc.title_shortage") if kind == "s" else N_("regulator.esc.title_idle")
    lines = [tr(title, region=region.name(loc))]
    if not page.items:
        lines.append(_("regulator.esc.empty"))
    buttons = []
    for card in page.items:
        lines.append(card_line(card, loc))
        buttons.append(
            [button(tr("regulator.esc.open", id=card.id), EscViewCb(kind=kind, id=card.id))]
        )
    toggle = [
        button(
            ("✅ " if kind == "s" else "") + _("regulator.esc.shortages"),
            EscCb(kind="s", code=code),
        ),
        button(
            ("✅ " if kind == "i" else "") + _("regulator.esc.idle"),
            EscCb(kind="i", code=code),
        ),
    ]
    prev = (
        EscCb(kind=kind, code=code, cursor=page.prev_cursor, back=1) if page.prev_cursor else None
    )
    nxt = EscCb(kind=kind, code=code, cursor=page.next_cursor) if page.next_cursor else None
    await show(event, "\n\n".join(lines), markup(toggle, *buttons, pager(prev, nxt)))


async def escalations_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    await state.set_state(None)
    await _list(message, uow, account, "s", home(account), "", 0)


async def escalations_tap(
    query: CallbackQuery, callback_data: EscCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    await _list(query, uow, account, cb.kind, cb.code, cb.cursor, cb.back)


async def posting_tap(
    query: CallbackQuery, callback_data: EscViewCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    if cb.kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    detail = await brokering.escalation_detail(uow, account.actor(), KINDS[cb.kind], cb.id)
    loc = locale()
    posting = detail.posting
    lines = [
        card_line(posting, loc),
        tr(
            "regulator.esc.contact",
            name=posting.contact_name,
            phone=posting.contact_phone_masked,
        ),
        "",
        _("regulator.esc.matches") if detail.matches else _("regulator.esc.no_matches"),
    ]
    buttons = []
    for index, match in enumerate(detail.matches, start=1):
        lines.append(f"{index}. {card_line(match.card, loc)}")
        lines.append(tr("regulator.esc.score", score=f"{match.score:.0f}"))
        if posting.kind == "shortage":
            pair = BrokerCb(shortage=posting.id, idle=match.posting_id)
        else:
            pair = BrokerCb(shortage=match.posting_id, idle=posting.id)
        buttons.append([button(tr("regulator.esc.broker", n=index), pair)])
    back = [button(_("regulator.back"), EscCb(kind=cb.kind, code=home(account)))]
    await show(query, "\n".join(lines), markup(*buttons, back))


async def broker_tap(
    query: CallbackQuery, callback_data: BrokerCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    actor = account.actor()
    loc = locale()
    if not cb.ok:
        shortage, idle = await brokering.pair_cards(uow, actor, cb.shortage, cb.idle)
        text = "\n\n".join(
            (_("regulator.broker.ask"), card_line(shortage, loc), card_line(idle, loc))
        )
        keyboard = with_cancel(
            [
                button(_("regulator.confirm"), BrokerCb(shortage=cb.shortage, idle=cb.idle, ok=1)),
                button(_("regulator.back"), EscViewCb(kind="s", id=cb.shortage)),
            ]
        )
        await show(query, text, keyboard)
        return
    result = await brokering.broker_pair(uow, actor, cb.shortage, cb.idle)
    text = tr(
        "regulator.broker.sent",
        shortage=result.shortage_id,
        idle=result.idle_id,
        n=len(result.recipient_account_ids),
    )
    back = [button(_("regulator.back"), EscViewCb(kind="s", id=cb.shortage))]
    await show(query, text, markup(back))


__all__ = ["SHANGHAI", "card_line"]
