"""Included LAST: whatever no other router took. Short hint plus the menu; inside a dialog, a
reminder to finish the step or cancel; an unknown button tap is answered as expired."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.common import show_menu
from bot.keyboards.common import inline_cancel_keyboard
from core.services.accounts import AccountView

log = logging.getLogger(__name__)


async def unknown_message(
    message: Message, state: FSMContext, account: AccountView | None
) -> None:
    if account is None:  # the access gate keeps guests out; this is belt and braces
        await message.answer(_("start.no_access"))
        return
    if await state.get_state() is not None:
        await message.answer(_("fallback.in_step"), reply_markup=inline_cancel_keyboard())
        return
    await show_menu(message, account, _("fallback.hint"))


async def unknown_callback(query: CallbackQuery) -> None:
    # old keyboards, double taps after the step moved on, forged data: change nothing
    log.warning("a button tap no handler takes (stale or forged)")
    await query.answer(_("common.stale"))


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(unknown_message)
    router.callback_query.register(unknown_callback)
    return router
