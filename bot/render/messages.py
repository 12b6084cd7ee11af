"""Small sending helpers shared by handlers."""

from __future__ import annotations

import contextlib

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardMarkup


async def edit_or_send(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the message the button sat on; send a new one if it can't be edited (too old).
    "message is not modified" (the same tap twice) is not an error."""
    message = query.message
    if isinstance(message, Message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except TelegramBadRequest as exc:
            if "not modified" in exc.message:
                return
    await send_below(query, text, markup)


async def send_below(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None
) -> None:
    """A new message to whoever tapped: a reply keyboard (the menu, Cancel) can't go on an
    edited message."""
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)


async def drop_inline_keyboard(query: CallbackQuery) -> None:
    """Take the buttons off a message whose step is done, so old taps can't repeat it."""
    if isinstance(query.message, Message) and query.message.reply_markup is not None:
        with contextlib.suppress(TelegramBadRequest):  # already edited, or too old
            await query.message.edit_reply_markup(reply_markup=None)
