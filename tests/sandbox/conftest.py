from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from sandbox import FloodLimit, RunningSandbox, SandboxState, run_sandbox
from sandbox.client import SandboxClient

TOKEN = "123456789:SANDBOX-test-token"


@pytest.fixture
def state() -> SandboxState:
    # no flood limit unless a test asks for one: tests send in bursts
    return SandboxState(TOKEN, flood=FloodLimit(None, None))


@pytest.fixture
async def sandbox(state: SandboxState) -> AsyncIterator[RunningSandbox]:
    running = await run_sandbox(state)
    yield running
    await running.stop()


def make_bot(url: str, token: str = TOKEN) -> Bot:
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(url)))


@pytest.fixture
async def bot(sandbox: RunningSandbox) -> AsyncIterator[Bot]:
    bot = make_bot(sandbox.url)
    yield bot
    await bot.session.close()


@pytest.fixture
async def client(sandbox: RunningSandbox) -> AsyncIterator[SandboxClient]:
    async with SandboxClient(sandbox.url, timeout=5.0) as client:
        yield client


def echo_router() -> Router:
    """A tiny bot: echoes text with a button, answers the button, edits the message."""
    router = Router(name="echo")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="确认 OK", callback_data="ok")]]
        )
        await message.answer(f"回声: {message.text}", reply_markup=keyboard)

    @router.callback_query(F.data == "ok")
    async def confirm(callback: CallbackQuery) -> None:
        await callback.answer("收到 got it")
        assert isinstance(callback.message, Message)
        await callback.message.edit_text(f"{callback.message.text} ✓")

    return router


@contextlib.asynccontextmanager
async def polling(bot: Bot, router: Router) -> AsyncIterator[Dispatcher]:
    """Run a Dispatcher's real long polling against the sandbox for the block's duration."""
    dp = Dispatcher()
    dp.include_router(router)
    task = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    try:
        yield dp
    finally:
        with contextlib.suppress(RuntimeError):
            await dp.stop_polling()
        await asyncio.wait_for(task, 10)
