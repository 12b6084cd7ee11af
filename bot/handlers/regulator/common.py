"""Shared pieces of the regulator's screens: one way to route a screen (its buttons and its
menu entry), replying to a button or a menu tap alike, monospace tables that fit a phone (or
lists), reference names and money."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from aiogram import Router, html
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.i18n import tr
from bot.keyboards.common import ALL_MENU_KEYS, MenuText, cancel_button
from bot.keyboards.regulator import markup, pager
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.money import format_money
from core.services import reference_choices
from core.services.accounts import AccountView
from core.services.paging import Page, decode_id_cursor
from core.services.region_scope import home_region

Event = Message | CallbackQuery
Reply = tuple[str, InlineKeyboardMarkup | None]
CbT = TypeVar("CbT", bound=CallbackData)
PAGE = 10  # rows of a paged list


def locale() -> str:
    """The current user's language (set by the locale middleware)."""
    i18n = I18n.get_current(no_error=False)
    return i18n.current_locale if i18n is not None else "zh"


def zh() -> bool:
    return locale().startswith("zh")


def home(account: AccountView) -> str:
    """The region this account answers for (an admin: the province)."""
    return home_region(account.actor())


@dataclass(frozen=True, slots=True)
class Ctx:
    """One tap or menu message: what it came with, who sent it, their unit of work and FSM."""

    event: Event
    uow: UnitOfWork
    account: AccountView
    state: FSMContext

    @property
    def actor(self) -> Actor:
        return self.account.actor()

    @property
    def message(self) -> Message:
        """The message of a message handler (a typed step, a command)."""
        assert isinstance(self.event, Message)  # on_message handlers get nothing else
        return self.event

    @property
    def home(self) -> str:
        return home(self.account)

    async def trades(self) -> dict[str, str]:
        """Trade code → its name in the user's language."""
        choices = await reference_choices.trade_choices(self.uow)
        return {c.code: c.name(locale()) for c in choices}

    async def grades(self) -> dict[int, str]:
        """Grade level → its name in the user's language."""
        choices = await reference_choices.grade_choices(self.uow)
        return {int(c.code): c.name(locale()) for c in choices}


# A screen renders the text and keyboard for its callback data, or answers the tap itself
# (a stale button's notice) and returns None.
Screen = Callable[[Ctx, CbT], Awaitable[Reply | None]]
MessageHandler = Callable[[Ctx], Awaitable[None]]


async def show(event: Event, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A menu tap gets a new message; a button tap edits the message the button sat on."""
    if isinstance(event, Message):
        await event.answer(text, reply_markup=markup)
        return
    await event.answer()
    await edit_or_send(event, text, markup)


async def show_screen(ctx: Ctx, render: Screen[CbT], data: CbT) -> None:
    reply = await render(ctx, data)
    if reply is not None:
        await show(ctx.event, *reply)


# Filled by the decorators below as the screen modules are imported; create_router routes them.
SCREENS: list[tuple[type[CallbackData], Screen[Any], str | None, Callable[[Ctx], Any] | None]] = []
MESSAGES: list[tuple[Callable[[Ctx], Awaitable[None]], tuple[Any, ...]]] = []
NOT_MENU = ~MenuText(*ALL_MENU_KEYS)  # a menu button's text is no answer: it opens that screen


def screen(
    data: type[CbT], menu: str | None = None, start: Callable[[Ctx], CbT] | None = None
) -> Callable[[Screen[CbT]], Screen[CbT]]:
    """The screen for the buttons carrying `data`; the `menu` button opens `start(ctx)` afresh
    (a typed step left half-done is dropped)."""

    def add(render: Screen[CbT]) -> Screen[CbT]:
        SCREENS.append((data, render, menu, start))
        return render

    return add


def on_message(*filters: Any) -> Callable[[MessageHandler], MessageHandler]:
    """A message handler (a menu entry, a command or a typed step) that gets a Ctx."""

    def add(handler: MessageHandler) -> MessageHandler:
        MESSAGES.append((handler, filters))
        return handler

    return add


def register(router: Router) -> None:
    for data, render, menu, start in SCREENS:
        router.callback_query.register(_tapped(render), data.filter())
        if menu is not None and start is not None:
            router.message.register(_opened(render, start), MenuText(menu))
    # entries (menu buttons, commands) before typed steps, whatever the modules' import order:
    # a command sent in the middle of a step is that command, not the step's answer
    for handler, filters in sorted(MESSAGES, key=lambda entry: _is_step(entry[1])):
        router.message.register(_received(handler), *filters)


def _is_step(filters: tuple[Any, ...]) -> bool:
    return any(isinstance(f, State | StateFilter) for f in filters)


def _tapped(render: Screen[Any]) -> Callable[..., Awaitable[None]]:
    async def tapped(
        query: CallbackQuery,
        callback_data: CallbackData,
        uow: UnitOfWork,
        account: AccountView,
        state: FSMContext,
    ) -> None:
        await show_screen(Ctx(query, uow, account, state), render, callback_data)

    return tapped


def _opened(render: Screen[Any], start: Callable[[Ctx], Any]) -> Callable[..., Awaitable[None]]:
    async def opened(
        message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
    ) -> None:
        await state.set_state(None)
        ctx = Ctx(message, uow, account, state)
        await show_screen(ctx, render, start(ctx))

    return opened


def _received(handler: MessageHandler) -> Callable[..., Awaitable[None]]:
    async def received(
        message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
    ) -> None:
        await handler(Ctx(message, uow, account, state))

    return received


def paging(
    page: Page[Any],
    at: Callable[[str], CallbackData],
    back: Callable[[str], CallbackData] | None = None,
) -> list[InlineKeyboardButton]:
    """◀ ▶ of a core page: `at(cursor)` is the data of the button to that page (`back(cursor)`
    towards newer rows, where the cursor must say its direction)."""
    prev = page.prev_cursor and (back or at)(page.prev_cursor)
    return pager(prev or None, (page.next_cursor and at(page.next_cursor)) or None)


def first_row(cursor: str) -> int:
    """The 0-based number of the first row of an offset-cursor page."""
    return decode_id_cursor(cursor) if cursor else 0


def page_no(cursor: str) -> int:
    return first_row(cursor) // PAGE + 1


def mark(chosen: bool, text: str) -> str:
    return f"✅ {text}" if chosen else text


async def send_file(c: Ctx, data: bytes, name: str, caption: str) -> None:
    """An .xlsx document to whoever tapped 📥 (a new message: the screen stays as it was)."""
    if isinstance(c.event, CallbackQuery) and c.event.bot is not None:
        await c.event.answer()
        document = BufferedInputFile(data, filename=name)
        await c.event.bot.send_document(c.event.from_user.id, document, caption=caption)


def cancel_only() -> InlineKeyboardMarkup:
    return markup([cancel_button()])


async def ask(message: Message, *lines: str) -> None:
    """A typed step's question again (after what was wrong, if any), with ✖ Cancel under it."""
    await message.answer("\n".join(lines), reply_markup=cancel_only())


async def stale(ctx: Ctx) -> Reply | None:
    """A button of an old screen or of another flow: a notice on the button, nothing changes
    (no screen to show)."""
    await ctx.event.answer(_("common.stale"))
    return None


def price_month(value: Decimal | None) -> str:
    """¥5,500/月 (or /month)."""
    if value is None:
        return "—"
    return tr("regulator.price_month", price=format_money(value, symbol=False))


def pct(value: Decimal) -> str:
    """A share already in percent, without needless decimals: 50.0 → "50%", 33.3 → "33.3%"."""
    value = value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value.normalize():f}%" if value != value.to_integral_value() else f"{int(value)}%"


def signed_pct(value: Decimal) -> str:
    if value > 0:
        return f"+{value}%"
    if value < 0:
        return f"−{-value}%"
    return f"{value}%"


# A <pre> line longer than this wraps on a 390 px phone and its columns fall apart.
PHONE_COLUMNS = 24


def display_width(text: str) -> int:
    """Columns a monospace font gives `text`: wide and full-width characters (汉字) count 2."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def pre_table(
    headers: Sequence[str], body: Sequence[Sequence[object]], right: set[int] | None = None
) -> str:
    """A monospace table in <pre>, columns padded to their display width; columns in `right`
    (default: all but the first) are right-aligned. A table wider than a phone's PHONE_COLUMNS
    becomes a list instead, one line per row. Cells are escaped."""
    right = set(range(1, len(headers))) if right is None else right
    cells = [[str(c) for c in headers], *([str(c) for c in row] for row in body)]
    widths = [max(display_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        " ".join(_pad(cell, widths[i], i in right) for i, cell in enumerate(row)).rstrip()
        for row in cells
    ]
    if max(display_width(line) for line in lines) > PHONE_COLUMNS:
        return row_list(headers, body)
    return "<pre>" + html.quote("\n".join(lines)) + "</pre>"


def row_list(headers: Sequence[str], body: Sequence[Sequence[object]]) -> str:
    """Each row as "<b>first cell</b>: header value · header value" (empty cells left out):
    proportional text wraps on a phone without losing which number is which."""
    colon = "：" if zh() else ": "
    lines = []
    for row in body:
        first, *rest = (str(c) for c in row)
        pairs = [f"{head} {value}" for head, value in zip(headers[1:], rest, strict=True) if value]
        lines.append(f"<b>{html.quote(first)}</b>{colon}{html.quote(' · '.join(pairs))}")
    return "\n".join(lines)


def clip(text: str, limit: int) -> str:
    """Shorten long names for buttons and narrow columns."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
