"""Everything the sandbox knows, in memory: the bot, users, their chats, updates, files.

The Bot API side (sandbox.botapi) and the client side (sandbox.clientapi, the page, the tests)
both act on one SandboxState inside one event loop, so no locking is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import math
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.entities import detect_bot_commands, utf16_len
from sandbox.errors import ApiError, SandboxError, bad_request, forbidden

UPDATE_TYPES = (
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "message_reaction", "message_reaction_count", "inline_query", "chosen_inline_result",
    "callback_query", "shipping_query", "pre_checkout_query", "purchased_paid_media", "poll",
    "poll_answer", "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
    "removed_chat_boost",
)  # fmt: skip
# what Telegram delivers when allowed_updates was never set or set to []
DEFAULT_ALLOWED_UPDATES = frozenset(UPDATE_TYPES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}
MAX_TEXT = 4096
MAX_CAPTION = 1024


@dataclass(frozen=True)
class Persona:
    """A ready-made user for the page's picker: the demo fills these from its seeded database."""

    name: str
    role: str  # label shown in the picker, e.g. "太原 · 项目工长"
    user_id: int
    language_code: str = "zh"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "role": self.role,
            "user_id": self.user_id,
            "language_code": self.language_code,
        }


ActionRunner = Callable[[int], Awaitable[str | None]]


@dataclass(frozen=True)
class PageAction:
    """A button the page shows above a chat, outside Telegram: the host program's hook (the demo
    registers "send the digest now" for regulators). `run(user_id)` may return a short note
    for the page to show; `user_ids` None means every chat shows it."""

    id: str
    label: str
    run: ActionRunner
    user_ids: frozenset[int] | None = None

    def shown_to(self, user_id: int) -> bool:
        return self.user_ids is None or user_id in self.user_ids

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label}


@dataclass
class FloodLimit:
    """Sends and edits per second, per chat and in total, as token buckets: Telegram allows
    short bursts, then answers 429. None switches a limit off."""

    per_chat_per_second: float | None = 1.0
    per_chat_burst: int = 20
    global_per_second: float | None = 30.0
    global_burst: int = 30


@dataclass
class TokenBucket:
    tokens: float | None = None  # None: full, sized by the limit in force when first used
    updated: float = 0.0

    def refill(self, now: float, rate: float, burst: int) -> float:
        capacity = max(1, burst)
        if self.tokens is None:
            self.tokens = float(capacity)
        else:
            self.tokens = min(capacity, self.tokens + (now - self.updated) * rate)
        self.updated = now
        return self.tokens


@dataclass
class SandboxUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "zh"
    phone_number: str | None = None
    blocked_bot: bool = False
    # Telegram refuses to let a bot write first; a persona counts as having started the bot
    started: bool = False

    def to_api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def to_chat(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    def to_json(self) -> dict[str, Any]:
        return {
            **self.to_api(),
            "phone_number": self.phone_number,
            "blocked_bot": self.blocked_bot,
            "started": self.started,
        }


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str  # "photo" | "document"
    data: bytes
    file_path: str
    mime_type: str
    file_name: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        return len(self.data)

    def photo_size(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "width": self.width,
            "height": self.height,
        }

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "mime_type": self.mime_type,
        }
        if self.file_name:
            doc["file_name"] = self.file_name
        return doc


@dataclass
class StoredMessage:
    message_id: int
    chat: SandboxUser
    sender: dict[str, Any]  # the User object of whoever sent it
    date: int
    text: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    photo: StoredFile | None = None
    document: StoredFile | None = None
    contact: dict[str, Any] | None = None
    inline_markup: dict[str, Any] | None = None
    reply_to: StoredMessage | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def from_bot(self) -> bool:
        return bool(self.sender.get("is_bot"))

    @property
    def has_media(self) -> bool:
        return self.photo is not None or self.document is not None

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        msg: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender,
            "chat": self.chat.to_chat(),
            "date": self.date,
        }
        if self.edit_date is not None:
            msg["edit_date"] = self.edit_date
        if self.reply_to is not None and with_reply:
            msg["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.text is not None:
            msg["text"] = self.text
            if self.entities:
                msg["entities"] = self.entities
        if self.photo is not None:
            msg["photo"] = [self.photo.photo_size()]
        if self.document is not None:
            msg["document"] = self.document.document()
        if self.caption:
            msg["caption"] = self.caption
            if self.caption_entities:
                msg["caption_entities"] = self.caption_entities
        if self.contact is not None:
            msg["contact"] = self.contact
        if self.inline_markup is not None:
            msg["reply_markup"] = self.inline_markup
        return msg

    def view(self) -> dict[str, Any]:
        """The Bot API shape plus what the page needs to show files."""
        msg = self.to_api()
        media = self.photo or self.document
        if media is not None:
            msg["file_url"] = f"/sandbox/files/{media.file_id}"
        return msg


@dataclass
class CallbackQueryRecord:
    id: str
    user_id: int
    message_id: int
    data: str
    created: float
    answered: bool = False
    answer: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            "answer": self.answer,
        }


@dataclass
class ChatState:
    user: SandboxUser
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    reply_keyboard: dict[str, Any] | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    flood: TokenBucket = field(default_factory=TokenBucket)


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None


class _Signal:
    """Wakes every waiter on each fire; waiters re-check their own condition."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, seconds: float) -> None:
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), seconds)


class SandboxState:
    """The emulated Telegram: one bot, private chats with sandbox users, and the update queue."""

    def __init__(
        self,
        token: str = "123456789:SANDBOX-local-token",
        *,
        bot_first_name: str = "晋工调度",
        bot_username: str = "jingong_dispatch_bot",
        flood: FloodLimit | None = None,
        callback_query_ttl: float | None = 15.0,
        webhook_retry_delay: float = 0.2,
        clock: Callable[[], float] = time.time,
        first_update_id: int = 1,
    ) -> None:
        """`first_update_id`: a host whose bot remembers update ids across runs (dedup) starts
        each run above the last one, as Telegram does after a pause."""
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or not secret:
            raise ValueError("token must look like '<digits>:<secret>'")
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(bot_id),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.flood = flood if flood is not None else FloodLimit()
        self.callback_query_ttl = callback_query_ttl
        self.webhook_retry_delay = webhook_retry_delay
        self.clock = clock

        self.personas: list[Persona] = []
        self.actions: dict[str, PageAction] = {}
        self.users: dict[int, SandboxUser] = {}
        self.chats: dict[int, ChatState] = {}
        self.files: dict[str, StoredFile] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}  # (name|description|short, lang)

        self.updates: deque[dict[str, Any]] = deque()
        self.dropped_updates = 0  # filtered out by allowed_updates
        self.allowed_updates: frozenset[str] = DEFAULT_ALLOWED_UPDATES
        self.webhook: WebhookConfig | None = None
        self.poll_generation = 0
        self.closed = False
        # Bot API method names in call order, for tests; bounded for long demo runs
        self.requests: deque[str] = deque(maxlen=10_000)

        if first_update_id < 1:
            raise ValueError("first_update_id must be positive")
        self._update_ids = itertools.count(first_update_id)
        self._user_ids = itertools.count(1_000_001)
        self._file_numbers = itertools.count(1)
        self._seq = itertools.count(1)
        self._global_flood = TokenBucket()
        self.updates_changed = _Signal()
        self.events_changed = _Signal()
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle ---------------------------------------------------------------------------
    def start_task(self, coro: Any, name: str) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def has_task(self, name: str) -> bool:
        return any(t.get_name() == name and not t.done() for t in self._tasks)

    async def aclose(self) -> None:
        """Wake every long poll and stop background delivery."""
        self.closed = True
        self.updates_changed.fire()
        self.events_changed.fire()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def now(self) -> int:
        return int(self.clock())

    # -- users and personas ------------------------------------------------------------------
    def create_user(
        self,
        first_name: str,
        *,
        user_id: int | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh",
        phone_number: str | None = None,
        started: bool = False,
    ) -> SandboxUser:
        first_name = first_name.strip()
        if not first_name or len(first_name) > 64:
            raise SandboxError(422, "first_name must be 1-64 characters")
        if user_id is None:
            user_id = next(self._user_ids)
            while user_id in self.users or user_id == self.bot_user["id"]:
                user_id = next(self._user_ids)
        if user_id <= 0 or user_id >= 2**52:
            raise SandboxError(422, "user id must be a positive 52-bit integer")
        if user_id in self.users or user_id == self.bot_user["id"]:
            raise SandboxError(409, f"user {user_id} already exists")
        user = SandboxUser(
            id=user_id,
            first_name=first_name,
            last_name=last_name or None,
            username=username or None,
            language_code=language_code or None,
            phone_number=phone_number or None,
            started=started,
        )
        self.users[user_id] = user
        self.chats[user_id] = ChatState(user=user)
        return user

    def add_persona(self, persona: Persona) -> SandboxUser:
        """List a persona and make sure its user exists (already bound, so already started)."""
        self.personas = [p for p in self.personas if p.user_id != persona.user_id] + [persona]
        user = self.users.get(persona.user_id)
        if user is None:
            user = self.create_user(
                persona.name,
                user_id=persona.user_id,
                language_code=persona.language_code,
                started=True,
            )
        return user

    # -- page actions (the host program's hooks) ---------------------------------------------
    def add_action(self, action: PageAction) -> None:
        if not action.id or not action.label:
            raise ValueError("a page action needs an id and a label")
        self.actions[action.id] = action

    def actions_for(self, user_id: int) -> list[PageAction]:
        self.user(user_id)
        return [a for a in self.actions.values() if a.shown_to(user_id)]

    async def run_action(self, user_id: int, action_id: str) -> str | None:
        """Run a page action for this user; a failure is the host's bug, reported as 500."""
        self.user(user_id)
        action = self.actions.get(action_id)
        if action is None or not action.shown_to(user_id):
            raise SandboxError(404, f"no action {action_id!r} for user {user_id}")
        try:
            return await action.run(user_id)
        except SandboxError:
            raise
        except Exception as exc:
            raise SandboxError(500, f"{type(exc).__name__}: {exc}") from exc

    def user(self, user_id: int) -> SandboxUser:
        try:
            return self.users[user_id]
        except KeyError:
            raise SandboxError(404, f"no user {user_id}") from None

    # -- updates -----------------------------------------------------------------------------
    def enqueue_update(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        update_id = next(self._update_ids)
        if kind not in self.allowed_updates:
            self.dropped_updates += 1  # Telegram never creates updates the bot opted out of
            return None
        update = {"update_id": update_id, kind: payload}
        self.updates.append(update)
        self.updates_changed.fire()
        return update

    def confirm_updates(self, offset: int) -> None:
        if offset > 0:
            while self.updates and self.updates[0]["update_id"] < offset:
                self.updates.popleft()
        elif offset < 0:
            while len(self.updates) > -offset:
                self.updates.popleft()

    def pending_updates(self, offset: int, limit: int) -> list[dict[str, Any]]:
        result = []
        for update in self.updates:
            if offset <= 0 or update["update_id"] >= offset:
                result.append(update)
                if len(result) >= limit:
                    break
        return result

    def drop_pending_updates(self) -> None:
        self.updates.clear()

    # -- chats and events --------------------------------------------------------------------
    def chat(self, chat_id: int) -> ChatState:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def publish(self, chat: ChatState, event: dict[str, Any]) -> dict[str, Any]:
        event = {"seq": next(self._seq), **event}
        chat.events.append(event)
        self.events_changed.fire()
        return event

    def last_seq(self, user_id: int) -> int:
        events = self.chats[user_id].events if user_id in self.chats else []
        return events[-1]["seq"] if events else 0

    def events_after(self, user_id: int, after: int) -> list[dict[str, Any]]:
        events = self.chats[self.user(user_id).id].events
        # events are in seq order: scan back from the end, the usual case is "the last few"
        index = len(events)
        while index > 0 and events[index - 1]["seq"] > after:
            index -= 1
        return events[index:]

    async def wait_events(self, user_id: int, after: int, seconds: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + seconds
        while True:
            events = self.events_after(user_id, after)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0 or self.closed:
                return events
            await self.events_changed.wait(remaining)

    def history(self, user_id: int) -> list[dict[str, Any]]:
        chat = self.chats[self.user(user_id).id]
        return [m.view() for m in chat.messages.values() if not m.deleted]

    def new_message(self, chat: ChatState, sender: dict[str, Any], **fields: Any) -> StoredMessage:
        message = StoredMessage(
            message_id=chat.next_message_id,
            chat=chat.user,
            sender=sender,
            date=self.now(),
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        self.publish(chat, {"type": "message", "message": message.view()})
        return message

    def set_reply_keyboard(self, chat: ChatState, keyboard: dict[str, Any] | None) -> None:
        if chat.reply_keyboard != keyboard:
            chat.reply_keyboard = keyboard
            self.publish(chat, {"type": "reply_keyboard", "keyboard": keyboard})

    # -- sending rules -----------------------------------------------------------------------
    def check_can_write(self, chat: ChatState) -> None:
        if chat.user.blocked_bot:
            raise forbidden("bot was blocked by the user")
        if not chat.user.started:
            raise forbidden("bot can't initiate conversation with a user")

    def check_flood(self, chat: ChatState) -> None:
        """Count one send or edit, or answer 429 like Telegram when over the limit."""
        now = time.monotonic()
        limits = (
            (chat.flood, self.flood.per_chat_per_second, self.flood.per_chat_burst),
            (self._global_flood, self.flood.global_per_second, self.flood.global_burst),
        )
        refilled = []
        for bucket, rate, burst in limits:
            if not rate or rate <= 0:
                continue
            tokens = bucket.refill(now, rate, burst)
            if tokens < 1:
                retry_after = max(1, math.ceil((1 - tokens) / rate))
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
                )
            refilled.append((bucket, tokens))
        for bucket, tokens in refilled:  # only a send that passes every limit counts
            bucket.tokens = tokens - 1

    # -- files -------------------------------------------------------------------------------
    def store_file(
        self,
        kind: str,
        data: bytes,
        *,
        mime_type: str,
        extension: str,
        file_name: str | None = None,
        width: int = 0,
        height: int = 0,
    ) -> StoredFile:
        number = next(self._file_numbers)
        digest = hashlib.sha256(data).hexdigest()
        folder = "photos" if kind == "photo" else "documents"
        stored = StoredFile(
            file_id=f"{kind[:3].upper()}{number}-{secrets.token_urlsafe(24)}",
            file_unique_id=f"U{digest[:14]}",
            kind=kind,
            data=data,
            file_path=f"{folder}/file_{number}{extension}",
            mime_type=mime_type,
            file_name=file_name,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        return stored

    def file_by_path(self, file_path: str) -> StoredFile | None:
        return next((f for f in self.files.values() if f.file_path == file_path), None)

    # -- what users do (the client side) -----------------------------------------------------
    def _writable_chat(self, user_id: int) -> ChatState:
        user = self.user(user_id)
        if user.blocked_bot:
            raise SandboxError(409, "the user has blocked the bot: unblock it first")
        user.started = True
        return self.chats[user.id]

    def user_send_text(self, user_id: int, text: str) -> StoredMessage:
        chat = self._writable_chat(user_id)
        text = text.strip()
        if not text:
            raise SandboxError(422, "text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise SandboxError(422, f"text is longer than {MAX_TEXT} characters")
        message = self.new_message(
            chat, chat.user.to_api(), text=text, entities=detect_bot_commands(text)
        )
        self.enqueue_update("message", message.to_api())
        return message

    def user_send_contact(
        self,
        user_id: int,
        phone_number: str,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
    ) -> StoredMessage:
        """Share the user's own contact, as the share-contact button does."""
        chat = self._writable_chat(user_id)
        phone_number = phone_number.strip()
        if not phone_number:
            raise SandboxError(422, "phone_number is empty")
        user = chat.user
        user.phone_number = phone_number
        contact: dict[str, Any] = {
            "phone_number": phone_number,
            "first_name": first_name or user.first_name,
            "user_id": user.id,
        }
        if last_name or user.last_name:
            contact["last_name"] = last_name or user.last_name
        message = self.new_message(chat, user.to_api(), contact=contact)
        self.enqueue_update("message", message.to_api())
        return message

    def user_press_inline(
        self, user_id: int, message_id: int, *, data: str | None = None, text: str | None = None
    ) -> CallbackQueryRecord:
        """Press an inline button (found by callback data or by its text) under a bot message."""
        if data is None and text is None:
            raise SandboxError(422, "say which button: its callback data or its text")
        chat = self._writable_chat(user_id)
        message = chat.messages.get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise SandboxError(404, f"no bot message {message_id} in this chat")
        rows = (message.inline_markup or {}).get("inline_keyboard", [])
        button = next(
            (
                b
                for row in rows
                for b in row
                if "callback_data" in b
                and (data is None or b["callback_data"] == data)
                and (text is None or b["text"] == text)
            ),
            None,
        )
        if button is None:
            raise SandboxError(404, "no such callback button on that message")
        query = CallbackQueryRecord(
            id=str(secrets.randbits(63)),
            user_id=chat.user.id,
            message_id=message.message_id,
            data=button["callback_data"],
            created=time.monotonic(),
        )
        self.callback_queries[query.id] = query
        self.enqueue_update(
            "callback_query",
            {
                "id": query.id,
                "from": chat.user.to_api(),
                "message": message.to_api(),
                "chat_instance": self._chat_instance(chat.user.id),
                "data": query.data,
            },
        )
        return query

    def _chat_instance(self, user_id: int) -> str:
        # stable per chat, opaque, numeric like Telegram's
        digest = hashlib.sha256(f"{self.token}:{user_id}".encode()).hexdigest()
        return str(int(digest[:15], 16))

    def user_press_reply(
        self, user_id: int, text: str, *, phone_number: str | None = None
    ) -> StoredMessage:
        """Press a button of the chat's reply keyboard: its text, or a contact if it asks one."""
        chat = self._writable_chat(user_id)
        keyboard = chat.reply_keyboard or {}
        button = next(
            (b for row in keyboard.get("keyboard", []) for b in row if b.get("text") == text),
            None,
        )
        if button is None:
            raise SandboxError(404, f"no reply keyboard button {text!r}")
        if keyboard.get("one_time_keyboard"):
            self.set_reply_keyboard(chat, None)
        if button.get("request_contact"):
            phone = phone_number or chat.user.phone_number
            if not phone:
                raise SandboxError(422, "this button shares a contact: give a phone_number")
            return self.user_send_contact(user_id, phone)
        return self.user_send_text(user_id, text)

    def set_blocked(self, user_id: int, blocked: bool) -> None:
        """Block or unblock the bot; the bot learns it from a my_chat_member update."""
        user = self.user(user_id)
        if user.blocked_bot == blocked:
            return
        user.blocked_bot = blocked
        bot_member = {"user": self.bot_user, "status": "member"}
        kicked = {"user": self.bot_user, "status": "kicked", "until_date": 0}
        old, new = (bot_member, kicked) if blocked else (kicked, bot_member)
        self.enqueue_update(
            "my_chat_member",
            {
                "chat": user.to_chat(),
                "from": user.to_api(),
                "date": self.now(),
                "old_chat_member": old,
                "new_chat_member": new,
            },
        )
        self.publish(self.chats[user.id], {"type": "blocked", "blocked": blocked})

    def callback_query(self, query_id: str) -> CallbackQueryRecord:
        query = self.callback_queries.get(query_id)
        if query is None:
            raise SandboxError(404, f"no callback query {query_id}")
        return query
