"""The users' side: client API, WebSocket pushes, SandboxClient, and an aiogram bot end to end."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiogram import Bot, F, Router
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from websockets.asyncio.client import connect

from sandbox import Persona, RunningSandbox, SandboxState
from sandbox.client import SandboxClient, SandboxClientError
from tests.sandbox.conftest import echo_router, polling


def contact_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text="发布缺工")],
            [KeyboardButton(text="分享手机号", request_contact=True)],
        ],
        resize_keyboard=True,
    )


async def test_users_and_personas_are_listed(client: SandboxClient, state: SandboxState) -> None:
    state.add_persona(Persona("王建国", "太原 · 项目工长", 501))
    created = await client.create_user("Li Hong", language_code="en")

    personas = await client.personas()
    users = {u["id"]: u for u in await client.users()}

    assert personas == [
        {"name": "王建国", "role": "太原 · 项目工长", "user_id": 501, "language_code": "zh"}
    ]
    assert users[501]["started"] is True  # a persona is already bound, so it started the bot
    assert users[created.user_id]["language_code"] == "en"
    with pytest.raises(SandboxClientError) as duplicate:
        await client.create_user("重复", user_id=501)
    assert duplicate.value.status == 409


async def test_a_command_a_user_sends_reaches_the_bot_with_its_entity(
    client: SandboxClient, bot: Bot
) -> None:
    user = await client.create_user("王工")

    await user.send_text("/start invite42")
    updates = await bot.get_updates(timeout=0)

    message = updates[0].message
    assert message is not None
    assert message.text == "/start invite42"
    assert message.entities is not None
    assert (message.entities[0].type, message.entities[0].length) == ("bot_command", 6)


async def test_sharing_a_contact_sends_the_users_own_id(client: SandboxClient, bot: Bot) -> None:
    user = await client.create_user("王工", started=True)
    await bot.send_message(user.user_id, "请分享手机号", reply_markup=contact_keyboard())

    with pytest.raises(SandboxClientError, match="give a phone_number"):
        await user.press_reply("分享手机号")
    shared = await user.press_reply("分享手机号", phone_number="+86 138 0013 8000")
    plain = await user.press_reply("发布缺工")
    updates = await bot.get_updates(timeout=0)

    assert shared.contact == {
        "phone_number": "+86 138 0013 8000",
        "first_name": "王工",
        "user_id": user.user_id,
    }
    contact = updates[0].message.contact if updates[0].message else None
    assert contact is not None
    assert contact.user_id == user.user_id
    assert plain.text == "发布缺工"
    with pytest.raises(SandboxClientError, match="no reply keyboard button"):
        await user.press_reply("不存在的按钮")


async def test_history_applies_edits_and_deletions_and_links_files(
    client: SandboxClient, bot: Bot
) -> None:
    user = await client.create_user("王工", started=True)
    kept = await bot.send_message(user.user_id, "草稿")
    gone = await bot.send_message(user.user_id, "要删掉")
    await bot.edit_message_text("定稿", chat_id=user.user_id, message_id=kept.message_id)
    await bot.delete_message(user.user_id, gone.message_id)
    await bot.send_document(user.user_id, BufferedInputFile(b"a,b\n1,2\n", "名单.csv"))

    history = await user.history()

    assert [m.text for m in history] == ["定稿", ""]
    assert history[0].edited
    assert history[1].document_name == "名单.csv"
    assert await client.download(history[1]) == b"a,b\n1,2\n"


async def test_pressing_an_inline_button_and_seeing_the_answer(
    client: SandboxClient, bot: Bot
) -> None:
    user = await client.create_user("王工", started=True)
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="接受", callback_data="deal:1:yes")]]
    )
    await bot.send_message(user.user_id, "接受报价吗？", reply_markup=keyboard)

    query_id = await user.press("接受")
    updates = await bot.get_updates(timeout=0)
    await bot.answer_callback_query(query_id, text="已接受", show_alert=True)

    assert updates[-1].callback_query is not None
    assert updates[-1].callback_query.data == "deal:1:yes"
    assert await client.callback_answer(query_id) == {
        "text": "已接受",
        "show_alert": True,
        "url": None,
    }
    with pytest.raises(LookupError, match="接受"):
        await user.press("拒绝")


async def test_a_user_who_blocked_the_bot_cannot_write_until_unblocking(
    client: SandboxClient,
) -> None:
    user = await client.create_user("王工", started=True)
    await user.block()

    with pytest.raises(SandboxClientError) as blocked:
        await user.send_text("你好")
    await user.unblock()
    assert blocked.value.status == 409
    assert (await user.send_text("你好")).text == "你好"


async def test_the_websocket_pushes_new_edited_and_deleted_messages(
    sandbox: RunningSandbox, bot: Bot, state: SandboxState
) -> None:
    user_id = state.create_user("王工", started=True).id
    await bot.send_message(user_id, "之前的消息")
    url = sandbox.url.replace("http://", "ws://") + f"/sandbox/ws/{user_id}"

    async with connect(url) as socket:

        async def next_event() -> dict[str, Any]:
            while True:
                event = json.loads(await asyncio.wait_for(socket.recv(), 5))
                if event["type"] not in ("ping", "chat_action"):
                    return dict(event)

        snapshot = await next_event()
        sent = await bot.send_message(user_id, "新消息", reply_markup=contact_keyboard())
        pushed = [await next_event(), await next_event()]
        await bot.edit_message_text("改过的", chat_id=user_id, message_id=sent.message_id)
        edited = await next_event()
        await bot.delete_message(user_id, sent.message_id)
        deleted = await next_event()

    assert snapshot["type"] == "snapshot"
    assert [m["text"] for m in snapshot["messages"]] == ["之前的消息"]
    assert [e["type"] for e in pushed] == ["message", "reply_keyboard"]
    assert pushed[0]["message"]["text"] == "新消息"
    assert pushed[1]["keyboard"]["keyboard"][1][0]["request_contact"] is True
    assert edited["type"] == "edited"
    assert edited["message"]["text"] == "改过的"
    assert deleted == {"seq": deleted["seq"], "type": "deleted", "message_id": sent.message_id}


async def test_an_aiogram_echo_bot_answers_a_client_end_to_end(
    client: SandboxClient, bot: Bot
) -> None:
    user = await client.create_user("王工")

    async with polling(bot, echo_router()):
        await user.send_text("缺钢筋工 3 人")
        echo = await user.wait_for_message(lambda m: m.text.startswith("回声"))
        query_id = await user.press("确认 OK")
        answer = await client.callback_answer(query_id)
        edited = await user.wait_for_message(lambda m: m.edited)

    assert echo.text == "回声: 缺钢筋工 3 人"
    assert echo.button_texts == ["确认 OK"]
    assert answer["text"] == "收到 got it"
    assert edited.message_id == echo.message_id
    assert edited.text == "回声: 缺钢筋工 3 人 ✓"


async def test_waiting_for_a_message_that_never_comes_times_out_with_what_arrived(
    client: SandboxClient, bot: Bot
) -> None:
    user = await client.create_user("王工", started=True)
    await user.send_text("hi")
    await bot.send_message(user.user_id, "别的回复")

    with pytest.raises(TimeoutError, match="别的回复"):
        await user.wait_for_message(lambda m: "不会出现" in m.text, timeout=0.5)


async def test_a_photo_from_the_bot_is_downloadable_by_the_client(
    client: SandboxClient, bot: Bot
) -> None:
    from tests.sandbox.test_bot_api import png

    user = await client.create_user("王工", started=True)
    router = Router()

    @router.message(F.text == "/chart")
    async def chart(message: Message) -> None:
        await message.answer_photo(BufferedInputFile(png(40, 20), "chart.png"), caption="图表")

    async with polling(bot, router):
        await user.send_text("/chart")
        photo = await user.wait_for_message(lambda m: m.has_photo)

    assert photo.text == "图表"
    assert await client.download(photo) == png(40, 20)
