"""🤝 Deals (确认调度价格): the one-tap actions on a deal message: open, accept, decline,
withdraw. Counter, and an accept that must name workers, open the deal dialog below the
message; the list of my offers and deals is a dialog too (both in bot/dialogs/deal.py).

Buttons on deal messages carry the deal's version: once the deal moved on (a counter, an
accept, expiry) an older button is answered "no longer open" / "changed", the message shows
the deal as it is now, and nothing changes. The core services re-check every right and race
(two accepts of one worker: one wins); a forged button for someone else's deal is refused.
The counterpart is told through the outbox (bot/renderers/deals.py).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.callbacks_deals import DealActCb
from bot.dialogs.deal import start_accept_with_workers, start_counter
from bot.filters import role_router
from bot.i18n import N_, tr
from bot.keyboards.deals import deal_actions_keyboard
from bot.middlewares.db import end_read
from bot.render.messages import edit_or_send
from bot.renderers.deals import deal_text
from bot.renderers.match import grade_names
from core.db.uow import UnitOfWork
from core.domain.enums import DealStatus, Role, Side
from core.domain.errors import PermissionDenied
from core.services import deals
from core.services.accounts import AccountView
from core.services.deals import DealView

# the one-tap actions: the service and its toast
ACTIONS = {
    "x": (deals.cancel_deal, N_("deals.withdrawn_toast")),
    "d": (deals.decline_deal, N_("deals.declined_toast")),
    "a": (deals.accept_deal, N_("deals.accepted_toast")),
}


def needs_workers_named(view: DealView) -> bool:
    """An offer to idle workers that named none: the idle side picks them when accepting."""
    return (
        view.awaiting_side is Side.IDLE and not view.workers and view.idle_posting_id is not None
    )


async def show_deal(
    query: CallbackQuery,
    uow: UnitOfWork,
    view: DealView,
    *,
    headline: str | None = None,
) -> None:
    locale = get_i18n().current_locale
    grades = await grade_names(uow, locale)
    await end_read(uow)
    text = deal_text(view, tr, locale, grades, headline=headline)
    await edit_or_send(query, text, deal_actions_keyboard(view, tr))


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
    account: AccountView,
    dialog_manager: DialogManager,
) -> None:
    actor = account.actor()
    a, deal_id, version = callback_data.a, callback_data.id, callback_data.v
    if a not in ("o", "a", "c", "d", "x") or deal_id <= 0:
        await query.answer(_("common.stale"))
        return
    view = await deals.get_deal(uow, actor, deal_id)  # forbidden for anyone not a party
    if a == "o":
        await query.answer()
        await show_deal(query, uow, view)
        return
    if not await still_open(query, uow, view, version):
        return
    if a != "x" and not view.my_turn:  # withdrawing is the offerer's, the rest the other's
        raise PermissionDenied("error.not_your_turn")
    if a == "c" or (a == "a" and needs_workers_named(view)):
        # the counter's price, or the workers of an offer made without them: a dialog below
        await (start_counter if a == "c" else start_accept_with_workers)(dialog_manager, view)
        await query.answer()
        return
    act, toast = ACTIONS[a]
    view = await act(uow, actor, deal_id, expected_version=version)
    await query.answer(_(toast))
    await show_deal(query, uow, view, headline=_(toast) if a == "a" else None)


def create_router() -> Router:
    router = role_router(__name__, Role.FOREMAN, Role.DISPATCHER)
    router.callback_query.register(deal_action, DealActCb.filter())
    return router
