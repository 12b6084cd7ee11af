"""bot.inline_filters: magic filters run in the event loop's thread and still route right."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.types import Chat, Message, Update, User

from bot.inline_filters import run_sync_filters_inline


def text_update(update_id: int, text: str) -> Update:
    user = User(id=7, is_bot=False, first_name="工长")
    message = Message(
        message_id=update_id,
        date=datetime.now(UTC),
        chat=Chat(id=7, type="private"),
        from_user=user,
        text=text,
    )
    return Update(update_id=update_id, message=message)


async def test_magic_filters_route_without_a_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    inner = Router()

    @inner.message(F.text == "🔍 用工搜索")
    async def search(message: Message) -> None:
        seen.append("search")

    @inner.message(F.text.startswith("/start"), lambda message: message.chat.id == 7)
    async def start(message: Message) -> None:
        seen.append("start")

    dp = Dispatcher()
    dp.include_router(inner)
    assert run_sync_filters_inline(dp) == 3

    async def no_threads(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("a filter went to a thread")

    monkeypatch.setattr(asyncio, "to_thread", no_threads)
    bot = Bot("42:TEST")  # the handlers above never call the Bot API
    await dp.feed_update(bot, text_update(1, "🔍 用工搜索"))
    await dp.feed_update(bot, text_update(2, "/start abc"))
    await dp.feed_update(bot, text_update(3, "something else"))
    assert seen == ["search", "start"]
