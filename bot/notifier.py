"""Outbox renderers: one function per notification kind turns a queued row into Telegram messages.

    RENDERERS = Renderers()

    @RENDERERS.register("match")
    async def render_match(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
        ...

`t(key, **params)` is bot.i18n.t bound to the recipient's locale; it HTML-escapes str params.
A renderer may be sync or async, may read the database through `uow` (never commit: the sender
opens a throw-away unit of work) and returns one OutgoingMessage or a list of them. Text is
HTML: quote user data you format yourself with `aiogram.html.quote`, and keep each tag on one
line, because long texts are split at lines. A renderer that raises marks the row dead (it
would fail the same way next time).
Each feature module keeps its own `RENDERERS` table (like an aiogram Router); the runtime
builder combines them (bot.renderers.outbox_renderers) and hands the result to the sender.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeAlias

from aiogram.types import InlineKeyboardMarkup, ReplyKeyboardMarkup

from core.db.uow import UnitOfWork
from core.services.outbox import OutboxItem

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024


class Translate(Protocol):
    def __call__(self, key: str, /, **params: Any) -> str: ...


@dataclass(frozen=True)
class OutgoingMessage:
    """What a renderer wants sent. `photo`/`document`: a file_id, a URL or raw bytes."""

    text: str
    # a reply keyboard only where a notice brings a new main menu (an approved company admin)
    reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
    photo: str | bytes | None = None
    document: str | bytes | None = None
    filename: str | None = None
    parse_mode: str | None = "HTML"


@dataclass(frozen=True)
class Part:
    """One Bot API call: `sendMessage` (kind "text"), `sendPhoto` or `sendDocument`."""

    kind: str
    text: str | None
    reply_markup: InlineKeyboardMarkup | ReplyKeyboardMarkup | None = None
    media: str | bytes | None = None
    filename: str | None = None
    parse_mode: str | None = "HTML"


RenderResult: TypeAlias = OutgoingMessage | Sequence[OutgoingMessage]
Renderer: TypeAlias = Callable[
    [OutboxItem, UnitOfWork, Translate], RenderResult | Awaitable[RenderResult]
]


class UnknownKind(LookupError):
    """No renderer registered for an outbox kind."""


class Renderers:
    """A table from outbox kind to its renderer; filled by `@table.register(kind)`."""

    def __init__(self) -> None:
        self._by_kind: dict[str, Renderer] = {}

    def register(self, kind: str) -> Callable[[Renderer], Renderer]:
        """Decorator: `fn` renders outbox rows of `kind`; a kind has one renderer."""

        def decorator(fn: Renderer) -> Renderer:
            existing = self._by_kind.get(kind)
            if existing is not None and existing is not fn:
                raise ValueError(f"a renderer for {kind!r} is already registered: {existing!r}")
            self._by_kind[kind] = fn
            return fn

        return decorator

    @classmethod
    def combine(cls, *tables: Renderers) -> Renderers:
        """One table with every kind of `tables`; a kind in two of them is an error."""
        combined = cls()
        for table in tables:
            for kind, fn in table._by_kind.items():
                combined.register(kind)(fn)
        return combined

    def get(self, kind: str) -> Renderer | None:
        return self._by_kind.get(kind)

    def kinds(self) -> frozenset[str]:
        return frozenset(self._by_kind)

    async def render(
        self, item: OutboxItem, uow: UnitOfWork, t: Translate
    ) -> list[OutgoingMessage]:
        """Render a row with its kind's renderer; raises UnknownKind if there is none."""
        fn = self._by_kind.get(item.kind)
        if fn is None:
            raise UnknownKind(item.kind)
        result = fn(item, uow, t)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, OutgoingMessage):
            return [result]
        return list(result)


async def named(item: OutboxItem, key: str, load: Callable[[int], Awaitable[Any]]) -> Any:
    """The row an outbox item names by id (`payload[key]`), through `load`; gone: LookupError."""
    row_id = int(item.payload[key])
    found = await load(row_id)
    if found is None:
        raise LookupError(f"{key} {row_id} is gone")
    return found


def decision_card(text: str, verdict: str, keyboard: InlineKeyboardMarkup) -> OutgoingMessage:
    """A card to decide (an application, a 需求待批 request): its buttons while undecided
    (`verdict` empty), else the verdict under it and no buttons."""
    if verdict:
        return OutgoingMessage(text=f"{text}\n\n{verdict}")
    return OutgoingMessage(text=text, reply_markup=keyboard)


# --- splitting ------------------------------------------------------------------------------


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts 2, a 汉字 counts 1)."""
    return len(text.encode("utf-16-le")) // 2


def _hard_split(line: str, limit: int) -> list[str]:
    """A single line longer than the limit: cut at the last space in reach, else anywhere."""
    pieces: list[str] = []
    rest = line
    while tg_len(rest) > limit:
        cut, units = 0, 0
        for i, ch in enumerate(rest):
            units += 2 if ord(ch) > 0xFFFF else 1
            if units > limit:
                break
            cut = i + 1
        space = rest.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space
        pieces.append(rest[:cut])
        rest = rest[cut:].lstrip(" ")
    if rest:
        pieces.append(rest)
    return pieces


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Split at line boundaries into chunks of at most `limit` UTF-16 units; never empty ones."""
    if tg_len(text) <= limit:
        return [text] if text.strip() else []
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for piece in _hard_split(line, limit) if tg_len(line) > limit else [line]:
            add = tg_len(piece) + (1 if current else 0)
            if current and size + add > limit:
                chunks.append("\n".join(current))
                current, size = [piece], tg_len(piece)
            else:
                current.append(piece)
                size += add
    if current:
        chunks.append("\n".join(current))
    return [chunk for chunk in chunks if chunk.strip()]


def plan_parts(message: OutgoingMessage) -> list[Part]:
    """The Bot API calls for one message; the keyboard goes on the last of them."""
    mode = message.parse_mode
    media_kind = "photo" if message.photo is not None else "document" if message.document else None
    media = message.photo if message.photo is not None else message.document
    if media_kind is not None and tg_len(message.text) <= CAPTION_LIMIT:
        caption = message.text if message.text.strip() else None
        return [Part(media_kind, caption, message.reply_markup, media, message.filename, mode)]
    texts = split_text(message.text)
    if not texts and media_kind is None:
        raise ValueError("nothing to send: empty text and no media")
    parts = [Part("text", chunk, None, parse_mode=mode) for chunk in texts]
    if media_kind is not None:
        # the caption did not fit: text first, then the file without caption
        parts.append(Part(media_kind, None, None, media, message.filename, mode))
    last = parts[-1]
    parts[-1] = Part(
        last.kind, last.text, message.reply_markup, last.media, last.filename, last.parse_mode
    )
    return parts


# --- the generic kind -----------------------------------------------------------------------

RENDERERS = Renderers()


@RENDERERS.register("text")
def render_text(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    """payload {"key": msgid, "params": {...}}: one message in the recipient's language.

    `t` (bot.i18n.t) HTML-escapes str params, so a name with `<` or `&` shows as typed."""
    return OutgoingMessage(text=t(item.payload["key"], **(item.payload.get("params") or {})))
