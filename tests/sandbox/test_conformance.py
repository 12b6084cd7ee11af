"""Each limit Telegram enforces: the emulator's answer, and the aiogram exception it becomes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from sandbox import FloodLimit, RunningSandbox, SandboxState
from sandbox.errors import ApiError
from tests.sandbox.conftest import TOKEN, make_bot

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"


def keyboard(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="按钮", callback_data=data)]]
    )


@pytest.fixture
def user_id(state: SandboxState) -> int:
    return state.create_user("王工", started=True).id


async def raw_call(sandbox: RunningSandbox, method: str, **params: object) -> httpx.Response:
    async with httpx.AsyncClient(trust_env=False) as http:
        return await http.post(f"{sandbox.url}/bot{TOKEN}/{method}", json=params)


async def test_a_wrong_token_is_unauthorized(sandbox: RunningSandbox) -> None:
    stranger = make_bot(sandbox.url, token="42:WRONG")
    try:
        with pytest.raises(TelegramUnauthorizedError, match="Unauthorized"):
            await stranger.get_me()
    finally:
        await stranger.session.close()


async def test_errors_have_telegrams_shape_and_matching_http_status(
    sandbox: RunningSandbox,
) -> None:
    async with httpx.AsyncClient(trust_env=False) as http:
        unauthorized = await http.post(f"{sandbox.url}/bot1:nope/getMe")
        unknown = await http.post(f"{sandbox.url}/bot{TOKEN}/sendCarrierPigeon")
    missing_chat = await raw_call(sandbox, "sendMessage", chat_id=42, text="你好")

    assert (unauthorized.status_code, unauthorized.json()) == (
        401,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
    )
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"ok": False, "error_code": 404, "description": "Not Found"},
    )
    assert (missing_chat.status_code, missing_chat.json()) == (
        400,
        {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
    )


async def test_sending_to_an_unknown_chat_is_chat_not_found(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(777, "你好")


async def test_empty_or_whitespace_text_is_refused(bot: Bot, user_id: int) -> None:
    for text in ("", "   \n ", "<b> </b>"):
        with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
            await bot.send_message(user_id, text, parse_mode="HTML")


async def test_text_limit_counts_the_text_after_entity_parsing(bot: Bot, user_id: int) -> None:
    fits = await bot.send_message(user_id, f"<b>{'工' * 4096}</b>", parse_mode="HTML")

    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(user_id, "工" * 4097)
    assert fits.text is not None
    assert len(fits.text) == 4096


async def test_a_caption_over_1024_characters_is_refused(bot: Bot, user_id: int) -> None:
    from aiogram.types import BufferedInputFile

    document = BufferedInputFile(b"data", "a.txt")
    await bot.send_document(user_id, document, caption="字" * 1024)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_document(user_id, document, caption="字" * 1025)


async def test_callback_data_must_be_1_to_64_bytes(bot: Bot, user_id: int) -> None:
    # a Chinese character is 3 bytes in UTF-8: 21 fit, 22 do not
    await bot.send_message(user_id, "ok", reply_markup=keyboard("数" * 21 + "x"))
    for data in ("数" * 22, ""):
        with pytest.raises(TelegramBadRequest, match="Bad Request: BUTTON_DATA_INVALID"):
            await bot.send_message(user_id, "bad", reply_markup=keyboard(data))


async def test_invalid_html_is_refused_with_the_parse_error(bot: Bot, user_id: int) -> None:
    cases = {
        "<b>未闭合": 'Can\'t find end tag corresponding to start tag "b"',
        "工资 < 300": 'Unsupported start tag "" at byte offset 7',
        "<br>换行": 'Unsupported start tag "br" at byte offset 0',
        "<div>块</div>": 'Unsupported start tag "div" at byte offset 0',
    }
    for markup, reason in cases.items():
        with pytest.raises(TelegramBadRequest) as caught:
            await bot.send_message(user_id, markup, parse_mode="HTML")
        assert caught.value.message == f"Bad Request: can't parse entities: {reason}"


async def test_html_entities_come_back_as_telegram_entities(bot: Bot, user_id: int) -> None:
    message = await bot.send_message(
        user_id, '<b>缺工</b> <a href="https://example.org">详情</a>', parse_mode="HTML"
    )

    assert message.text == "缺工 详情"
    assert message.entities is not None
    assert [(e.type, e.offset, e.length, e.url) for e in message.entities] == [
        ("bold", 0, 2, None),
        ("text_link", 3, 2, "https://example.org"),
    ]


async def test_the_bot_edits_only_its_own_messages_in_that_chat(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    theirs = state.user_send_text(user_id, "我自己的消息")
    other = state.create_user("李工", started=True).id
    mine_elsewhere = await bot.send_message(other, "给李工")

    with pytest.raises(TelegramBadRequest, match="Bad Request: message can't be edited"):
        await bot.edit_message_text("改", chat_id=user_id, message_id=theirs.message_id)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_text(
            "改", chat_id=user_id, message_id=mine_elsewhere.message_id + 5
        )
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to edit not found"):
        await bot.edit_message_reply_markup(chat_id=user_id, message_id=999)


async def test_an_edit_that_changes_nothing_is_not_modified(bot: Bot, user_id: int) -> None:
    sent = await bot.send_message(
        user_id, "<b>同样</b>", parse_mode="HTML", reply_markup=keyboard("a")
    )

    with pytest.raises(TelegramBadRequest) as caught:
        await bot.edit_message_text(
            "<b>同样</b>",
            chat_id=user_id,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("a"),
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=user_id, message_id=sent.message_id, reply_markup=keyboard("a")
        )
    assert caught.value.message == NOT_MODIFIED
    # the same text without the keyboard is a change: Telegram drops the keyboard
    edited = await bot.edit_message_text(
        "<b>同样</b>", chat_id=user_id, message_id=sent.message_id, parse_mode="HTML"
    )
    assert not isinstance(edited, bool)
    assert edited.reply_markup is None


async def test_a_callback_query_is_answered_once(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    sent = await bot.send_message(user_id, "选", reply_markup=keyboard("pick"))
    query = state.user_press_inline(user_id, sent.message_id, data="pick")

    with pytest.raises(TelegramBadRequest, match="MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query.id, text="长" * 201)
    assert await bot.answer_callback_query(query.id, text="好" * 200) is True
    with pytest.raises(TelegramBadRequest) as again:
        await bot.answer_callback_query(query.id)
    with pytest.raises(TelegramBadRequest) as unknown:
        await bot.answer_callback_query("123456")
    assert again.value.message == unknown.value.message == QUERY_TOO_OLD


async def test_a_callback_query_expires_after_its_time_to_live(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    sent = await bot.send_message(user_id, "选", reply_markup=keyboard("pick"))
    query = state.user_press_inline(user_id, sent.message_id, data="pick")
    query.created -= 60  # as if the bot took a minute

    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)


async def test_a_user_who_blocked_the_bot_is_forbidden(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    sent = await bot.send_message(user_id, "在吗")
    state.set_blocked(user_id, True)

    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(user_id, "在吗？")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.edit_message_text("改", chat_id=user_id, message_id=sent.message_id)
    state.set_blocked(user_id, False)
    assert (await bot.send_message(user_id, "回来了")).text == "回来了"


async def test_the_bot_cannot_write_first_to_a_user_who_never_started_it(
    bot: Bot, state: SandboxState
) -> None:
    stranger = state.create_user("陌生人")

    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(stranger.id, "你好")
    state.user_send_text(stranger.id, "/start")
    assert (await bot.send_message(stranger.id, "你好")).chat.id == stranger.id


async def test_flooding_one_chat_answers_429_with_retry_after(
    sandbox: RunningSandbox, bot: Bot, state: SandboxState, user_id: int
) -> None:
    state.flood = FloodLimit(per_chat_per_second=0.5, per_chat_burst=2, global_per_second=None)
    other = state.create_user("李工", started=True).id
    await bot.send_message(user_id, "1")
    await bot.send_message(user_id, "2")

    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user_id, "3")
    raw = await raw_call(sandbox, "sendMessage", chat_id=user_id, text="4")
    assert caught.value.retry_after in (1, 2)  # a token comes back every 2 s
    assert "Too Many Requests: retry after" in caught.value.message
    assert raw.status_code == 429
    assert raw.json()["parameters"]["retry_after"] >= 1
    assert (await bot.send_message(other, "别的聊天不受影响")).chat.id == other


async def test_after_a_429_the_chat_recovers_at_the_configured_rate(
    bot: Bot, state: SandboxState, user_id: int
) -> None:
    state.flood = FloodLimit(per_chat_per_second=5, per_chat_burst=1, global_per_second=None)
    await bot.send_message(user_id, "1")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(user_id, "2")

    await asyncio.sleep(0.25)

    assert (await bot.send_message(user_id, "3")).text == "3"


def test_by_default_a_chat_takes_a_burst_of_20_then_one_message_a_second() -> None:
    state = SandboxState(TOKEN)
    chat = state.chats[state.create_user("王工", started=True).id]
    for _ in range(20):
        state.check_flood(chat)

    with pytest.raises(ApiError) as caught:
        state.check_flood(chat)

    assert (caught.value.code, caught.value.retry_after) == (429, 1)


async def test_the_global_flood_limit_spans_chats(bot: Bot, state: SandboxState) -> None:
    state.flood = FloodLimit(per_chat_per_second=None, global_per_second=1, global_burst=3)
    users = [state.create_user(f"工人{i}", started=True).id for i in range(4)]
    for uid in users[:3]:
        await bot.send_message(uid, "通知")

    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(users[3], "通知")


async def test_get_updates_conflicts_while_a_webhook_is_set(bot: Bot) -> None:
    await bot.set_webhook("http://127.0.0.1:9/hook")

    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == []


async def test_a_webhook_off_this_machine_is_refused(bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="bad webhook"):
        await bot.set_webhook("https://example.com/hook")
    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook("http://127.0.0.1:9/hook", secret_token="有空格 no")


async def test_markdown_parse_mode_is_refused_clearly(bot: Bot, user_id: int) -> None:
    with pytest.raises(TelegramBadRequest, match="emulates parse_mode HTML only"):
        await bot.send_message(user_id, "*粗*", parse_mode="MarkdownV2")
