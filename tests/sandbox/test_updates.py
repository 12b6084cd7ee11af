"""Updates: true long polling with offsets and allowed_updates, and webhook delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from sandbox import RunningSandbox, SandboxState
from sandbox.server import RunningServer, serve_app
from tests.sandbox.conftest import make_bot


@pytest.fixture
def user_id(state: SandboxState) -> int:
    return state.create_user("王工", started=True).id


async def until(state: SandboxState, condition: Callable[[], bool]) -> None:
    """Wait for a change the sandbox makes in this event loop: woken by its signals, re-checked
    at least every 50 ms (the 5 s bound only stops a broken test from hanging)."""
    async with asyncio.timeout(5):
        while not condition():
            await state.events_changed.wait(0.05)


async def poll_started(state: SandboxState, before: int) -> None:
    await until(state, lambda: state.poll_generation > before)


async def test_an_idle_long_poll_returns_empty_when_its_timeout_passes(bot: Bot) -> None:
    started = time.monotonic()

    updates = await asyncio.wait_for(bot.get_updates(timeout=1), 10)

    assert updates == []
    assert time.monotonic() - started >= 0.9  # it did wait (no upper bound: a busy machine)


async def test_a_long_poll_returns_as_soon_as_an_update_arrives(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    before = state.poll_generation
    poll = asyncio.create_task(bot.get_updates(timeout=60))
    await poll_started(state, before)

    state.user_send_text(user_id, "/start")
    # far before the poll's 60 s: it returned on the update, not on its timeout
    updates = await asyncio.wait_for(poll, 20)

    assert len(updates) == 1
    assert updates[0].message is not None
    message = updates[0].message
    assert message.text == "/start"
    assert message.from_user is not None
    assert message.from_user.id == user_id
    assert message.from_user.language_code == "zh"
    assert message.entities is not None
    assert message.entities[0].type == "bot_command"


async def test_an_offset_confirms_everything_before_it(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    for text in ("一", "二", "三"):
        state.user_send_text(user_id, text)

    first = await bot.get_updates(timeout=0, limit=2)
    rest = await bot.get_updates(offset=first[-1].update_id + 1, timeout=0)
    after_all = await bot.get_updates(offset=rest[-1].update_id + 1, timeout=0)

    assert [u.message.text for u in first if u.message] == ["一", "二"]
    assert [u.message.text for u in rest if u.message] == ["三"]
    assert after_all == []
    assert len(state.updates) == 0


async def test_allowed_updates_filters_what_is_created(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    button = InlineKeyboardButton(text="A", callback_data="a")
    sent = await bot.send_message(
        user_id, "选", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
    )

    state.user_send_text(user_id, "这条不会送达")
    state.user_press_inline(user_id, sent.message_id, data="a")
    updates = await bot.get_updates(timeout=0)

    assert [u.event_type for u in updates] == ["callback_query"]
    assert state.dropped_updates == 1


async def test_blocking_and_unblocking_send_my_chat_member(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    state.set_blocked(user_id, True)
    state.set_blocked(user_id, False)

    updates = await bot.get_updates(timeout=0)

    changes = [u.my_chat_member for u in updates]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes if c] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]


async def test_a_second_poller_terminates_the_first_with_a_conflict(
    sandbox: RunningSandbox, bot: Bot
) -> None:
    other = make_bot(sandbox.url)
    before = sandbox.state.poll_generation
    first = asyncio.create_task(bot.get_updates(timeout=10))
    await poll_started(sandbox.state, before)
    try:
        second = asyncio.create_task(other.get_updates(timeout=1))
        with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
            await asyncio.wait_for(first, 5)
        assert await second == []
    finally:
        await other.session.close()


class Receiver:
    """A webhook endpoint on loopback that records what Telegram (the sandbox) posts."""

    def __init__(self, fail_first: int = 0, reply: dict[str, Any] | None = None) -> None:
        self.fail_first = fail_first
        self.reply = reply
        self.calls: list[tuple[dict[str, Any], str | None]] = []
        self.arrived = asyncio.Event()
        self.app = FastAPI()
        self.app.post("/hook")(self.hook)

    async def hook(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.calls.append((body, request.headers.get("x-telegram-bot-api-secret-token")))
        if len(self.calls) <= self.fail_first:
            return JSONResponse({"error": "not yet"}, status_code=500)
        self.arrived.set()
        return JSONResponse(self.reply or {})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, RunningServer]]:
    hook = Receiver()
    server = await serve_app(hook.app)
    yield hook, server
    await server.stop()


async def test_a_webhook_with_a_secret_receives_updates_with_the_header(
    bot: Bot, state: SandboxState, user_id: int, receiver: tuple[Receiver, RunningServer]
) -> None:
    hook, server = receiver
    await bot.set_webhook(f"{server.url}/hook", secret_token="s3cret_TOKEN-1")

    state.user_send_text(user_id, "你好")
    await asyncio.wait_for(hook.arrived.wait(), 5)

    body, secret = hook.calls[0]
    assert secret == "s3cret_TOKEN-1"
    assert body["message"]["text"] == "你好"
    assert body["update_id"] > 0
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_a_failing_webhook_is_retried_and_the_error_shows_in_webhook_info(
    bot: Bot, state: SandboxState, user_id: int, receiver: tuple[Receiver, RunningServer]
) -> None:
    hook, server = receiver
    hook.fail_first = 2
    await bot.set_webhook(f"{server.url}/hook")

    state.user_send_text(user_id, "重试")
    await asyncio.wait_for(hook.arrived.wait(), 10)
    info = await bot.get_webhook_info()

    assert len(hook.calls) == 3
    assert {body["update_id"] for body, _ in hook.calls} == {hook.calls[0][0]["update_id"]}
    assert hook.calls[0][1] is None  # no secret was set, so no header
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.pending_update_count == 0


async def test_pending_updates_wait_for_a_webhook_and_can_be_dropped(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    await bot.set_webhook("http://127.0.0.1:9/nobody-listens")
    state.user_send_text(user_id, "一")
    state.user_send_text(user_id, "二")
    await until(state, lambda: bool(state.webhook and state.webhook.last_error_message))

    assert (await bot.get_webhook_info()).pending_update_count == 2
    assert (await bot.get_webhook_info()).last_error_message
    await bot.delete_webhook(drop_pending_updates=True)
    assert await bot.get_updates(timeout=0) == []


async def test_a_webhook_reply_can_carry_a_method_call(
    bot: Bot, state: SandboxState, user_id: int, receiver: tuple[Receiver, RunningServer]
) -> None:
    hook, server = receiver
    hook.reply = {"method": "sendMessage", "chat_id": user_id, "text": "直接回复"}
    await bot.set_webhook(f"{server.url}/hook")

    state.user_send_text(user_id, "hi")
    await asyncio.wait_for(hook.arrived.wait(), 5)
    await until(state, lambda: len(state.history(user_id)) == 2)

    assert [m["text"] for m in state.history(user_id)] == ["hi", "直接回复"]
