"""Drive the real dispatcher (bot.factory.create_dispatcher) with hand-made updates and a Bot
whose session records every request instead of calling Telegram.

    driver = BotDriver(services)
    sent = await driver.send(alice, "/start")
    assert "invite" in last_text(sent)
"""

from __future__ import annotations

import itertools
import logging
import typing
from collections.abc import AsyncGenerator, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import Default
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.storage.base import BaseStorage, StorageKey
from aiogram.methods import AnswerCallbackQuery, GetFile, GetMe, TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Contact,
    Document,
    File,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Sticker,
    Update,
    User,
)

from bot.factory import create_bot, create_dispatcher
from core.config import Settings
from core.db.uow import Services

BOT_ID = 42  # the token in tests/conftest.py is "42:TEST"

QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
DIALOG_SEP = "\x1d"  # aiogram-dialog's callback data: "<intent id>\x1d<widget id>:<item>"

FOREVER = datetime.fromtimestamp(0, UTC)  # Telegram's until_date 0: banned for good

# the requests of the feed running in this task (concurrent feeds each get their own list)
_feed_requests: ContextVar[list[Sent] | None] = ContextVar("feed_requests", default=None)


@dataclass
class Sent:
    """One Bot API request the handlers made."""

    method: str  # the Bot API name: "sendMessage", "answerCallbackQuery", …
    params: dict[str, Any]

    @property
    def text(self) -> str | None:
        return self.params.get("text")

    @property
    def reply_markup(self) -> Any:
        return self.params.get("reply_markup")


class RecordingSession(BaseSession):
    """A Bot session that records requests and answers like Telegram would, without network."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Sent] = []
        self.files: dict[str, bytes] = {}  # file_id → content, for getFile and the download
        # Telegram refuses answers to callback queries older than ~15 s: a late tap
        self.refuse_callback_answers = False
        self._message_ids = itertools.count(10_000)
        self.me = User(id=BOT_ID, is_bot=True, first_name="JinGong", username="JinGongDispatchBot")

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        params = {
            name: value
            for name in type(method).model_fields
            if (value := getattr(method, name)) is not None and not isinstance(value, Default)
        }
        sent = Sent(method.__api_method__, params)
        self.requests.append(sent)
        per_feed = _feed_requests.get()
        if per_feed is not None:
            per_feed.append(sent)
        if self.refuse_callback_answers and isinstance(method, AnswerCallbackQuery):
            raise TelegramBadRequest(method, "Bad Request: " + QUERY_TOO_OLD)
        return self._result(bot, method, params)

    def _result(self, bot: Bot, method: TelegramMethod[Any], params: dict[str, Any]) -> Any:
        if isinstance(method, GetMe):
            return self.me
        if isinstance(method, GetFile):
            data = self.files[method.file_id]
            return File(
                file_id=method.file_id,
                file_unique_id=f"{method.file_id}-u",
                file_size=len(data),
                file_path=f"documents/{method.file_id}",
            )
        returning = method.__returning__
        options = typing.get_args(returning) or (returning,)
        if Message in options and (params.get("chat_id") or params.get("message_id")):
            markup = params.get("reply_markup")
            return Message(
                message_id=params.get("message_id") or next(self._message_ids),
                date=datetime.now(UTC),
                chat=Chat(id=params.get("chat_id", 0), type="private"),
                from_user=self.me,
                text=params.get("text"),
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            ).as_(bot)
        if bool in options:
            return True
        raise NotImplementedError(f"RecordingSession has no answer for {method.__api_method__}")

    async def close(self) -> None:
        pass

    async def stream_content(
        self,
        url: str,
        headers: dict[str, Any] | None = None,
        timeout: int = 30,  # noqa: ASYNC109 - BaseSession's signature
        chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield self.files.get(url.rsplit("/", 1)[-1], b"")


def tg_user(user_id: int, *, language_code: str | None = "zh", name: str = "王工") -> User:
    return User(id=user_id, is_bot=False, first_name=name, language_code=language_code)


class _ErrorLog(logging.Handler):
    """Collects what the catch-all error handler logs: a test must not pass over a crash."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class BotDriver:
    """The production dispatcher fed with updates whose ids only ever grow."""

    services: Services
    settings: Settings | None = None
    storage: BaseStorage | None = None
    session: RecordingSession = field(default_factory=RecordingSession)

    def __post_init__(self) -> None:
        settings = self.settings or self.services.settings
        self.bot = create_bot(settings, session=self.session)
        self.dp: Dispatcher = create_dispatcher(
            settings, services=self.services, storage=self.storage
        )
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._errors = _ErrorLog()
        logging.getLogger("bot.errors").addHandler(self._errors)

    async def close(self) -> None:
        logging.getLogger("bot.errors").removeHandler(self._errors)
        await self.dp.storage.close()
        await self.bot.session.close()

    # --- feeding --------------------------------------------------------------------------

    def next_update_id(self) -> int:
        return next(self._update_ids)

    async def feed(self, update: Update) -> list[Sent]:
        """Feed one update; returns the requests made while handling it."""
        mine: list[Sent] = []
        token = _feed_requests.set(mine)
        try:
            await self.dp.feed_update(self.bot, update)
        finally:
            _feed_requests.reset(token)
        if self._errors.records:
            record = self._errors.records.pop(0)
            raise AssertionError(f"a handler crashed: {record.getMessage()}") from (
                record.exc_info[1] if record.exc_info else None
            )
        return mine

    def message(self, user: User, **fields: Any) -> Update:
        message = Message(
            message_id=next(self._message_ids),
            date=datetime.now(UTC),
            chat=Chat(id=user.id, type="private"),
            from_user=user,
            **fields,
        )
        return Update(update_id=self.next_update_id(), message=message)

    async def send(self, user: User, text: str) -> list[Sent]:
        """A text message (commands are text too: "/start abc")."""
        return await self.feed(self.message(user, text=text))

    async def command(self, user: User, name: str, args: str = "") -> list[Sent]:
        """A command: `await driver.command(user, "start", token)`."""
        return await self.send(user, f"/{name} {args}".strip())

    async def share_contact(self, user: User, phone: str, *, owner_id: int | None) -> list[Sent]:
        """A contact card; owner_id is the Telegram user it belongs to (None: not a user)."""
        contact = Contact(phone_number=phone, first_name="Card", user_id=owner_id)
        return await self.feed(self.message(user, contact=contact))

    async def send_sticker(self, user: User) -> list[Sent]:
        sticker = Sticker(
            file_id="stk",
            file_unique_id="stk-u",
            type="regular",
            width=512,
            height=512,
            is_animated=False,
            is_video=False,
        )
        return await self.feed(self.message(user, sticker=sticker))

    async def send_photo(self, user: User) -> list[Sent]:
        photo = [PhotoSize(file_id="ph", file_unique_id="ph-u", width=90, height=90)]
        return await self.feed(self.message(user, photo=photo))

    async def send_document(self, user: User, file_name: str, data: bytes) -> list[Sent]:
        """A file (document) the user sends; the bot may download it with getFile."""
        file_id = f"doc{next(self._message_ids)}"
        self.session.files[file_id] = data
        document = Document(
            file_id=file_id,
            file_unique_id=f"{file_id}-u",
            file_name=file_name,
            file_size=len(data),
        )
        return await self.feed(self.message(user, document=document))

    def callback(self, user: User, data: str, *, message_id: int = 1) -> Update:
        query = CallbackQuery(
            id=f"cq{next(self._message_ids)}",
            from_user=user,
            chat_instance="ci",
            data=data,
            message=Message(
                message_id=message_id,
                date=datetime.now(UTC),
                chat=Chat(id=user.id, type="private"),
                from_user=self.session.me,
                text="…",
                reply_markup=InlineKeyboardMarkup(inline_keyboard=[]),
            ),
        )
        return Update(update_id=self.next_update_id(), callback_query=query)

    async def tap(self, user: User, data: str, *, message_id: int = 1) -> list[Sent]:
        """Press an inline button carrying this callback data."""
        return await self.feed(self.callback(user, data, message_id=message_id))

    async def dialog_tap(self, user: User, widget_data: str) -> list[Sent]:
        """A tap on the open dialog with callback data of our choosing ("trade:mason"), as a
        forged or outdated client could send."""
        intent_id = await self.intent_id(user)
        assert intent_id is not None, "no dialog is open"
        return await self.tap(user, f"{intent_id}{DIALOG_SEP}{widget_data}")

    async def member_status(self, user: User, *, blocked: bool) -> list[Sent]:
        """my_chat_member: the user blocked (or unblocked) the bot."""
        me = self.session.me
        old = (
            ChatMemberMember(user=me) if blocked else ChatMemberBanned(user=me, until_date=FOREVER)
        )
        new = (
            ChatMemberBanned(user=me, until_date=FOREVER) if blocked else ChatMemberMember(user=me)
        )
        event = ChatMemberUpdated(
            chat=Chat(id=user.id, type="private"),
            from_user=user,
            date=datetime.now(UTC),
            old_chat_member=old,
            new_chat_member=new,
        )
        return await self.feed(Update(update_id=self.next_update_id(), my_chat_member=event))

    # --- state ----------------------------------------------------------------------------

    def key(self, user: User) -> StorageKey:
        return StorageKey(bot_id=BOT_ID, chat_id=user.id, user_id=user.id)

    async def state(self, user: User) -> str | None:
        """The step the user is in: the open dialog's state, else the plain FSM state."""
        context = await self.dialog_context(user)
        if context is not None:
            return str(context["state"])
        return await self.dp.storage.get_state(self.key(user))

    async def data(self, user: User) -> dict[str, Any]:
        """The plain FSM data, with the open dialog's dialog_data over it."""
        data = await self.dp.storage.get_data(self.key(user))
        context = await self.dialog_context(user)
        if context is not None:
            data.update(context.get("dialog_data") or {})
        return data

    def _dialog_key(self, user: User, destiny: str) -> StorageKey:
        return StorageKey(bot_id=BOT_ID, chat_id=user.id, user_id=user.id, destiny=destiny)

    async def intent_id(self, user: User) -> str | None:
        """The id of the dialog on top of the user's aiogram-dialog stack."""
        stack = await self.dp.storage.get_data(self._dialog_key(user, "aiogd:stack:"))
        intents = stack.get("intents") or []
        return str(intents[-1]) if intents else None

    async def dialog_context(self, user: User) -> dict[str, Any] | None:
        intent_id = await self.intent_id(user)
        if intent_id is None:
            return None
        key = self._dialog_key(user, f"aiogd:context:{intent_id}")
        return await self.dp.storage.get_data(key) or None

    # --- everything sent so far -----------------------------------------------------------

    @property
    def requests(self) -> list[Sent]:
        return self.session.requests

    def last_text(self) -> str:
        return last_text(self.requests)

    def last_reply_markup(self) -> Any:
        return last_reply_markup(self.requests)


# --- assertion helpers over a list of requests ---------------------------------------------


def messages(sent: Iterable[Sent]) -> list[Sent]:
    """Requests that show text in the chat (sent or edited messages)."""
    return [s for s in sent if s.method in ("sendMessage", "editMessageText")]


def texts(sent: Iterable[Sent]) -> list[str]:
    return [s.text or "" for s in messages(sent)]


def last_text(sent: Sequence[Sent]) -> str:
    shown = texts(sent)
    assert shown, f"no message was sent; requests: {[s.method for s in sent]}"
    return shown[-1]


def last_reply_markup(sent: Sequence[Sent]) -> Any:
    shown = messages(sent)
    assert shown, "no message was sent"
    return shown[-1].reply_markup


def answers(sent: Iterable[Sent]) -> list[dict[str, Any]]:
    """answerCallbackQuery calls (text, show_alert)."""
    return [s.params for s in sent if s.method == "answerCallbackQuery"]


def inline_buttons(markup: Any) -> list[tuple[str, str | None]]:
    """(text, callback_data) of every inline button, row by row."""
    assert isinstance(markup, InlineKeyboardMarkup), f"not an inline keyboard: {markup!r}"
    return [(b.text, b.callback_data) for row in markup.inline_keyboard for b in row]


def inline_texts(markup: Any) -> list[str]:
    return [text for text, _data in inline_buttons(markup)]


def callback_for(markup: Any, text_part: str) -> str:
    """The callback data of the inline button whose text contains `text_part`."""
    found = [data for text, data in inline_buttons(markup) if text_part in text and data]
    assert len(found) == 1, f"{text_part!r} matches {len(found)} buttons: {inline_texts(markup)}"
    return found[0]


def reply_keyboard_texts(markup: Any) -> list[str]:
    """Texts of a reply keyboard's buttons, row by row."""
    assert isinstance(markup, ReplyKeyboardMarkup), f"not a reply keyboard: {markup!r}"
    return [b.text for row in markup.keyboard for b in row]


def reply_keyboard_rows(markup: Any) -> list[list[str]]:
    assert isinstance(markup, ReplyKeyboardMarkup), f"not a reply keyboard: {markup!r}"
    return [[b.text for b in row] for row in markup.keyboard]


def removes_keyboard(markup: Any) -> bool:
    return isinstance(markup, ReplyKeyboardRemove)
