"""🤝 Deals (确认调度价格): the list of my offers and deals, and the actions on one deal:
accept, counter, decline, withdraw. The dialogs that build an offer or a counter-offer are in
bot/handlers/deal_flow.py; this module's router registers them too.

Buttons on deal messages carry the deal's version: once the deal moved on (a counter, an
accept, expiry) an older button is answered "no longer open" / "changed", the message shows
the deal as it is now, and nothing changes. The core services re-check every right and race
(two accepts of one worker: one wins); a forged button for someone else's deal is refused.
The counterpart is told through the outbox (bot/renderers/deals.py).
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import DealActCb, DealFlowCb, ProposeCb
from bot.filters import HasRole
from bot.handlers.deal_flow import (
    DealFlow,
    Flow,
    ask_price,
    ask_workers,
    below,
    cards_of,
    eligible_workers,
    flow_tapped,
    headcount_typed,
    open_limit,
    price_typed,
    propose_tapped,
    show_deal,
    start_typed,
    text_expected,
)
from bot.i18n import tr
from bot.keyboards.common import ALL_MENU_KEYS, DEALS, MenuText
from bot.keyboards.deals import deals_list_keyboard
from bot.middlewares.db import end_read
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.enums import DealStatus, Role, Side
from core.domain.errors import Conflict, PermissionDenied
from core.services import deals, postings
from core.services.accounts import AccountView
from core.services.deals import DealView

LIST_PENDING = 20
LIST_ACCEPTED = 10


# --- actions on a deal ------------------------------------------------------------------------


async def still_open(query: CallbackQuery, uow: UnitOfWork, view: DealView, version: int) -> bool:
    """A button of an older message: say so, show the deal as it is now, change nothing."""
    if view.status is not DealStatus.PENDING:
        await query.answer(_("deals.no_longer_open"), show_alert=True)
        await show_deal(query, uow, view)
        return False
    if view.version != version:
        await query.answer(_("deals.changed"), show_alert=True)
        await show_deal(query, uow, view)
        return False
    return True


async def deal_action(
    query: CallbackQuery,
    callback_data: DealActCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    actor = account.actor()
    a, deal_id, version = callback_data.a, callback_data.id, callback_data.v
    if a == "l":
        await query.answer()
        await show_list(query, uow, account)
        return
    if a not in ("o", "a", "c", "d", "x") or deal_id <= 0:
        await query.answer(_("common.stale"))
        return
    view = await deals.get_deal(uow, actor, deal_id)  # forbidden for anyone not a party
    if a == "o":
        await query.answer()
        await show_deal(query, uow, view, back=True)
        return
    if not await still_open(query, uow, view, version):
        return
    if a == "x":
        view = await deals.cancel_deal(uow, actor, deal_id, expected_version=version)
        await query.answer(_("deals.withdrawn_toast"))
        await show_deal(query, uow, view)
        return
    if not view.my_turn:
        raise PermissionDenied("error.not_your_turn")
    side = view.awaiting_side
    assert side is not None
    if a == "d":
        view = await deals.decline_deal(uow, actor, deal_id, expected_version=version)
        await query.answer(_("deals.declined_toast"))
        await show_deal(query, uow, view)
    elif a == "a":
        if side is Side.IDLE and not view.workers and view.idle_posting_id is not None:
            await start_accept_with_workers(query, uow, state, account, view)
            return
        view = await deals.accept_deal(uow, actor, deal_id, expected_version=version)
        await query.answer(_("deals.accepted_toast"))
        await show_deal(query, uow, view, headline=_("deals.accepted_toast"))
    else:
        await start_counter(query, uow, state, account, view)


async def start_accept_with_workers(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView, view: DealView
) -> None:
    """The idle side accepts an ask that names nobody: it picks who goes (the first fitting
    ones are ticked already)."""
    flow = Flow(
        mode="accept",
        side=Side.IDLE.value,
        s=view.shortage_id,
        i=view.idle_posting_id or 0,
        deal=view.id,
        ver=view.version,
        hc=view.headcount,
        open=view.headcount,
    )
    pool = await eligible_workers(uow, account.actor(), view.trade_code, view.min_grade, flow.i)
    if len(pool) < view.headcount:
        raise Conflict("error.not_enough_workers", available=len(pool))
    flow.w = [w.id for w in pool[: view.headcount]]
    await query.answer()
    await ask_workers(below(query), uow, state, account, flow)


async def start_counter(
    query: CallbackQuery, uow: UnitOfWork, state: FSMContext, account: AccountView, view: DealView
) -> None:
    side = view.awaiting_side
    assert side is not None
    flow = Flow(
        mode="counter",
        side=side.value,
        s=view.shortage_id,
        i=view.idle_posting_id or 0,
        deal=view.id,
        ver=view.version,
        hc=view.headcount,
        w=[w.id for w in view.workers],
        orig_w=[w.id for w in view.workers],
        named=bool(view.workers),
        price=str(view.price),
        table=str(view.price),
        start=view.start_date.isoformat(),
        edit=True,
    )
    sides = await cards_of(uow, account.actor(), flow)
    # the deal's own headcount may stay whatever the postings' open counts say now
    flow.open = max(open_limit(sides), view.headcount)
    await query.answer()
    await ask_price(below(query), uow, state, account, flow)


# --- 🤝 Deals: my offers and deals -------------------------------------------------------------


async def list_text_and_markup(
    uow: UnitOfWork, account: AccountView
) -> tuple[str, InlineKeyboardMarkup | None]:
    actor = account.actor()
    locale = get_i18n().current_locale
    pending = await deals.list_deals(uow, actor, status=DealStatus.PENDING, limit=LIST_PENDING)
    accepted = await deals.list_deals(uow, actor, status=DealStatus.ACCEPTED, limit=LIST_ACCEPTED)
    trade_names = {t.code: t.name(locale) for t in await postings.list_trades(uow)}
    await end_read(uow)
    mine = [d for d in pending.items if d.my_turn]
    theirs = [d for d in pending.items if not d.my_turn]
    if not pending.items and not accepted.items:
        return _("deals.list_empty"), None
    text = "\n".join(
        (
            _("deals.list_title"),
            tr("deals.list_awaiting_me", n=len(mine)),
            tr("deals.list_awaiting_them", n=len(theirs)),
            tr("deals.list_accepted", n=len(accepted.items)),
        )
    )
    return text, deals_list_keyboard([*mine, *theirs, *accepted.items], trade_names)


async def deals_menu(message: Message, uow: UnitOfWork, account: AccountView) -> None:
    text, markup = await list_text_and_markup(uow, account)
    await message.answer(text, reply_markup=markup)


async def show_list(query: CallbackQuery, uow: UnitOfWork, account: AccountView) -> None:
    text, markup = await list_text_and_markup(uow, account)
    await edit_or_send(query, text, markup)


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.FOREMAN, Role.DISPATCHER)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)
    router.message.register(deals_menu, MenuText(DEALS))
    router.callback_query.register(propose_tapped, ProposeCb.filter())
    router.callback_query.register(flow_tapped, DealFlowCb.filter())
    router.callback_query.register(deal_action, DealActCb.filter())
    not_a_button = ~MenuText(*ALL_MENU_KEYS)  # a menu button goes on to its own handler
    router.message.register(headcount_typed, DealFlow.headcount, F.text, not_a_button)
    router.message.register(price_typed, DealFlow.price, F.text, not_a_button)
    router.message.register(start_typed, DealFlow.start, F.text, not_a_button)
    for step in (DealFlow.shortage, DealFlow.headcount, DealFlow.workers, DealFlow.price):
        router.message.register(text_expected, step, not_a_button)
    for step in (DealFlow.start, DealFlow.summary):
        router.message.register(text_expected, step, not_a_button)
    return router
