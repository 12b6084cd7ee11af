"""Successful calls: aiogram's own session parses every answer into its types."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import httpx
import pytest
from aiogram import Bot
from aiogram.enums import ChatAction
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    ChatFullInfo,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)

from sandbox import RunningSandbox, SandboxState
from tests.sandbox.conftest import TOKEN


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\0" + bytes([200, 80, 40]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def dump(value: Any) -> Any:
    """aiogram objects compare their bound bot too; compare what Telegram sent instead."""
    if isinstance(value, list):
        return [dump(item) for item in value]
    return value.model_dump(exclude_none=True) if value is not None else None


@pytest.fixture
def user_id(state: SandboxState) -> int:
    return state.create_user("王工", language_code="zh", started=True).id


def menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="接受", callback_data="deal:7:accept")],
            [InlineKeyboardButton(text="说明", url="https://example.org/help")],
        ]
    )


async def test_get_me_describes_the_sandbox_bot(bot: Bot, state: SandboxState) -> None:
    me = await bot.get_me()

    assert me.is_bot
    assert me.id == 123456789
    assert me.username == state.bot_user["username"]


async def test_a_message_with_an_inline_keyboard_parses_into_aiogram_types(
    bot: Bot, user_id: int
) -> None:
    sent = await bot.send_message(
        user_id, "<b>新匹配</b>：钢筋工 3 人", parse_mode="HTML", reply_markup=menu()
    )

    assert isinstance(sent, Message)
    assert sent.from_user is not None
    assert sent.from_user.is_bot
    assert sent.chat.id == user_id
    assert sent.chat.type == "private"
    assert sent.text == "新匹配：钢筋工 3 人"
    assert dump(sent.reply_markup) == dump(menu())
    assert sent.date.year >= 2024


async def test_edits_come_back_as_edited_messages(bot: Bot, user_id: int) -> None:
    sent = await bot.send_message(user_id, "报价 300 元/天", reply_markup=menu())

    text = await bot.edit_message_text(
        "报价 <s>300</s> 320 元/天",
        chat_id=user_id,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=menu(),
    )
    markup = await bot.edit_message_reply_markup(chat_id=user_id, message_id=sent.message_id)

    assert isinstance(text, Message)
    assert text.edit_date is not None
    assert text.text == "报价 300 320 元/天"
    assert dump(text.reply_markup) == dump(menu())
    assert isinstance(markup, Message)
    assert markup.reply_markup is None


async def test_a_callback_query_round_trip(bot: Bot, state: SandboxState, user_id: int) -> None:
    sent = await bot.send_message(user_id, "是否接受？", reply_markup=menu())
    query = state.user_press_inline(user_id, sent.message_id, text="接受")

    updates = await bot.get_updates(timeout=0)
    answered = await bot.answer_callback_query(query.id, text="已接受", show_alert=True)

    callback = updates[-1].callback_query
    assert callback is not None
    assert callback.data == "deal:7:accept"
    assert callback.from_user.id == user_id
    assert isinstance(callback.message, Message)
    assert callback.message.message_id == sent.message_id
    assert answered is True
    assert state.callback_queries[query.id].answer == {
        "text": "已接受",
        "show_alert": True,
        "url": None,
    }


async def test_photo_and_document_upload_and_download_back(bot: Bot, user_id: int) -> None:
    chart = png(64, 32)
    workbook = b"PK\x03\x04 fake xlsx bytes"

    photo = await bot.send_photo(
        user_id, BufferedInputFile(chart, "chart.png"), caption="<b>图</b>", parse_mode="HTML"
    )
    document = await bot.send_document(
        user_id, BufferedInputFile(workbook, "日报.xlsx"), caption="日报", reply_markup=menu()
    )

    assert photo.photo is not None
    size = photo.photo[-1]
    assert (size.width, size.height, size.file_size) == (64, 32, len(chart))
    assert photo.caption == "图"
    assert photo.caption_entities is not None
    assert document.document is not None
    assert document.document.file_name == "日报.xlsx"
    assert document.document.mime_type == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    file = await bot.get_file(size.file_id)
    assert file.file_path is not None
    assert file.file_size == len(chart)
    downloaded_photo = await bot.download(size.file_id)
    downloaded_doc = await bot.download(document.document.file_id)
    assert downloaded_photo is not None
    assert downloaded_photo.read() == chart
    assert downloaded_doc is not None
    assert downloaded_doc.read() == workbook


async def test_a_photo_is_resent_by_file_id_but_not_from_the_internet(
    bot: Bot, user_id: int
) -> None:
    from aiogram.exceptions import TelegramBadRequest

    first = await bot.send_photo(user_id, BufferedInputFile(png(8, 8), "a.png"))
    assert first.photo is not None

    again = await bot.send_photo(user_id, first.photo[-1].file_id)

    assert again.photo is not None
    assert again.photo[-1].file_id == first.photo[-1].file_id
    with pytest.raises(TelegramBadRequest, match="failed to get HTTP URL content"):
        await bot.send_photo(user_id, "https://example.org/a.png")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(user_id, BufferedInputFile(b"not an image", "a.png"))


async def test_editing_a_caption(bot: Bot, user_id: int) -> None:
    sent = await bot.send_document(user_id, BufferedInputFile(b"x", "a.csv"), caption="旧")

    edited = await bot.edit_message_caption(
        chat_id=user_id, message_id=sent.message_id, caption="新"
    )

    assert isinstance(edited, Message)
    assert edited.caption == "新"
    assert edited.edit_date


async def test_deleting_a_message(bot: Bot, state: SandboxState, user_id: int) -> None:
    from aiogram.exceptions import TelegramBadRequest

    sent = await bot.send_message(user_id, "临时")

    assert await bot.delete_message(user_id, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user_id, sent.message_id)
    assert state.history(user_id) == []


async def test_reply_keyboards_are_kept_per_chat_until_removed(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    keyboard = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="分享手机号", request_contact=True)]], resize_keyboard=True
    )

    first = await bot.send_message(user_id, "请分享手机号", reply_markup=keyboard)
    kept = state.chats[user_id].reply_keyboard
    await bot.send_message(user_id, "谢谢", reply_markup=ReplyKeyboardRemove())

    assert first.reply_markup is None  # a Message only ever carries inline keyboards
    assert kept == {
        "keyboard": [[{"text": "分享手机号", "request_contact": True}]],
        "resize_keyboard": True,
    }
    assert state.chats[user_id].reply_keyboard is None


async def test_replies_point_at_the_message_they_answer(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    question = state.user_send_text(user_id, "明天有活吗？")

    answer = await bot.send_message(
        user_id, "有", reply_parameters=ReplyParameters(message_id=question.message_id)
    )

    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "明天有活吗？"


async def test_chat_info_commands_menu_and_actions(bot: Bot, user_id: int) -> None:
    chat = await bot.get_chat(user_id)
    commands = [
        BotCommand(command="start", description="开始"),
        BotCommand(command="help", description="帮助"),
    ]

    assert isinstance(chat, ChatFullInfo)
    assert chat.first_name == "王工"
    assert await bot.set_my_commands(commands) is True
    assert await bot.set_my_commands(
        commands[:1], scope=BotCommandScopeChat(chat_id=user_id), language_code="zh"
    )
    assert dump(await bot.get_my_commands()) == dump(commands)
    chat_scope = BotCommandScopeChat(chat_id=user_id)
    assert dump(await bot.get_my_commands(scope=chat_scope, language_code="zh")) == dump(
        commands[:1]
    )
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == []
    assert await bot.set_chat_menu_button(chat_id=user_id, menu_button=MenuButtonCommands())
    assert isinstance(await bot.get_chat_menu_button(chat_id=user_id), MenuButtonCommands)
    assert await bot.send_chat_action(user_id, ChatAction.UPLOAD_DOCUMENT) is True
    assert await bot.set_my_description("晋工调度") is True
    assert (await bot.get_my_description()).description == "晋工调度"


async def test_webhook_info_and_lifecycle_stubs(bot: Bot) -> None:
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="s3cret-token_1")
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    assert info.pending_update_count == 0
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert await bot.log_out() is True
    assert await bot.close() is True


async def test_json_bodies_query_strings_and_any_method_case_work(
    sandbox: RunningSandbox, user_id: int
) -> None:
    base = f"{sandbox.url}/bot{TOKEN}"
    async with httpx.AsyncClient(trust_env=False) as http:
        json_body = await http.post(
            f"{base}/sendMessage", json={"chat_id": user_id, "text": "json"}
        )
        query = await http.get(f"{base}/sendmessage", params={"chat_id": user_id, "text": "query"})
        form = await http.post(
            f"{base}/SENDMESSAGE", data={"chat_id": str(user_id), "text": "form"}
        )

    assert [r.json()["result"]["text"] for r in (json_body, query, form)] == [
        "json",
        "query",
        "form",
    ]


async def test_every_call_is_recorded_for_tests(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    await bot.send_message(user_id, "a")
    await bot.send_chat_action(user_id, "typing")

    assert list(state.requests)[-2:] == ["sendMessage", "sendChatAction"]
