"""👁 A posting's card from a match notification, a deal or a dead end of another flow
(ViewPostingCb): who, where, what, how many, how much; the phone masked; 🤝 when the viewer's
side may propose. From a notification it comes as a new message below it, so the
notification stays readable. (Cards of search results live in the search dialog.)"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import ViewPostingCb
from bot.filters import role_router
from bot.i18n import tr
from bot.render.messages import edit_or_send
from bot.renderers.match import (
    KIND_OF_CODE,
    grade_names,
    is_live,
    posting_card_text,
    propose_callback,
)
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.rules import may_propose_on
from core.services.accounts import AccountView
from core.services.search import get_posting_card


async def view_posting(
    query: CallbackQuery,
    callback_data: ViewPostingCb,
    uow: UnitOfWork,
    account: AccountView,
    i18n: I18n,
) -> None:
    kind = KIND_OF_CODE.get(callback_data.kind)
    if kind is None:
        await query.answer(_("common.stale"))
        return
    locale = i18n.current_locale
    card = await get_posting_card(uow, account.actor(), kind, callback_data.id)
    now = uow.now()
    grades = await grade_names(uow, locale)
    text = posting_card_text(card, tr, locale, grades, now)
    mine = max(callback_data.via, 0)
    markup = None
    if is_live(card, now) and may_propose_on(account.role, card.kind):
        # anyone of the other side may: a project asks for idle workers, a labour company
        # offers workers to a shortage
        button = InlineKeyboardButton(
            text=_("search.btn_propose"), callback_data=propose_callback(card, mine)
        )
        markup = InlineKeyboardMarkup(inline_keyboard=[[button]])
    await query.answer()
    if mine and isinstance(query.message, Message):
        await query.message.answer(text, reply_markup=markup)
        return
    await edit_or_send(query, text, markup)


def create_router() -> Router:
    router = role_router(__name__, Role.FOREMAN, Role.DISPATCHER)
    router.callback_query.register(view_posting, ViewPostingCb.filter())
    return router
