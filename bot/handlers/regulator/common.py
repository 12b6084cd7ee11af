"""Shared pieces of the regulator's screens: the home region, replying to a button or a menu
tap alike, monospace tables that fit a phone (or lists) and money."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from aiogram import html
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n

from bot.i18n import tr
from bot.render.messages import edit_or_send
from core.domain.money import format_money
from core.services.accounts import AccountView
from core.services.region_scope import home_region

Event = Message | CallbackQuery


def locale() -> str:
    """The current user's language (set by the locale middleware)."""
    i18n = I18n.get_current(no_error=False)
    return i18n.current_locale if i18n is not None else "zh"


def zh() -> bool:
    return locale().startswith("zh")


def home(account: AccountView) -> str:
    """The region this account answers for (an admin: the province)."""
    return home_region(account.actor())


async def show(event: Event, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """A menu tap gets a new message; a button tap edits the message the button sat on."""
    if isinstance(event, Message):
        await event.answer(text, reply_markup=markup)
        return
    await event.answer()
    await edit_or_send(event, text, markup)


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
