"""The gate: without an active account only /start, /help and /language (and its buttons) get
through, and 申请入驻 (its button, then everything while its dialog is open); everything else
gets one "no access" reply and reveals nothing."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.enums import ChatType
from aiogram.types import CallbackQuery, Message, TelegramObject, Update
from aiogram.utils.i18n import gettext as _

from bot.callbacks import LangCb
from bot.keyboards.join import APPLY, JOIN_GATE_STATE, guest_keyboard
from bot.middlewares import Handler

OPEN_COMMANDS = frozenset({"start", "help", "language"})


def command_of(message: Message) -> str | None:
    """The command's name ("/start@Bot abc" gives "start"); None if it is no command."""
    text = message.text or ""
    parts = text[1:].split(maxsplit=1) if text.startswith("/") else []
    return parts[0].split("@", 1)[0].lower() if parts else None


def _open_to_guests(update: Update, data: dict[str, Any]) -> bool:
    if data.get("raw_state") == JOIN_GATE_STATE:
        return True  # filling in an application: its own handlers decide
    if update.message is not None:
        if (update.message.text or "").strip() in _apply_texts(data):
            return True
        return command_of(update.message) in OPEN_COMMANDS
    if update.callback_query is not None:
        return (update.callback_query.data or "").startswith(LangCb.__prefix__ + ":")
    return update.my_chat_member is not None  # blocked / unblocked: handlers check the account


def _apply_texts(data: dict[str, Any]) -> set[str]:
    i18n = data.get("i18n")
    if i18n is None:
        return set()
    return {i18n.gettext(APPLY, locale=loc) for loc in i18n.available_locales}


class AccessMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        message = event.message or event.edited_message
        if message is not None and message.chat.type != ChatType.PRIVATE:
            return None  # the bot works in private chats only; groups get silence
        if data.get("account") is not None or _open_to_guests(event, data):
            return await handler(event, data)
        if event.message is not None:
            # a guest may still apply: the 🏢 申请入驻 button, whatever they typed
            await event.message.answer(_("access.denied"), reply_markup=guest_keyboard())
        elif event.callback_query is not None:
            await _deny_callback(event.callback_query)
        return None


async def _deny_callback(query: CallbackQuery) -> None:
    await query.answer(_("access.denied_short"), show_alert=True)
