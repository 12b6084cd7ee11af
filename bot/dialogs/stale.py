"""A tap whose dialog is gone answers "此按钮已失效" and offers the menu; never an error.

Gone means: the dialog's context expired or ended (UnknownIntent), a newer dialog replaced it
(OutdatedIntent), or a later release renamed its state group (UnknownState). Registered on the
Dispatcher's own `errors` observer, where aiogram-dialog's error middleware hands in a
`dialog_manager` over the user's stack, so a stack it cannot read is emptied here and the next
update starts clean."""

from __future__ import annotations

import logging

from aiogram import Dispatcher
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager
from aiogram_dialog.api.exceptions import OutdatedIntent, UnknownIntent, UnknownState

from bot.keyboards.common import account_menu
from bot.render.messages import drop_inline_keyboard
from core.services.accounts import AccountView

log = logging.getLogger(__name__)


async def on_stale_dialog(
    event: ErrorEvent, dialog_manager: DialogManager, account: AccountView | None = None
) -> None:
    log.info("stale dialog event in update %s: %s", event.update.update_id, event.exception)
    stack = dialog_manager.current_stack()
    if isinstance(event.exception, UnknownState) or not dialog_manager.has_context():
        await dialog_manager.reset_stack(remove_keyboard=False)
    open_dialog = bool(stack.intents)  # Stack.empty() is untyped
    query, message = event.update.callback_query, event.update.message
    if query is not None:
        await query.answer(_("common.stale"))
        await drop_inline_keyboard(query)
    if open_dialog or account is None:
        return  # the dialog still open is on screen; guests have no menu
    chat_id = query.from_user.id if query is not None else message.chat.id if message else None
    if chat_id is not None and event.update.bot is not None:
        await event.update.bot.send_message(
            chat_id,
            _("dialog.stale_menu"),
            reply_markup=account_menu(account),
        )


def register_stale_handler(dp: Dispatcher) -> None:
    dp.errors.register(
        on_stale_dialog, ExceptionTypeFilter(UnknownIntent, OutdatedIntent, UnknownState)
    )
