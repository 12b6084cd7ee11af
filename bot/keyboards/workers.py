"""Callbacks and keyboards of "👷 Workers" (工人管理): list with filters, card, busy ↔ idle.

Filters travel in the callback data (status letter, trade code, keyset anchor id), so an old
list message still pages correctly; a status button carries the target status (idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.i18n import N_
from bot.keyboards.common import checked, rows
from core.domain.enums import WorkerStatus
from core.services.workers import TradeCount, WorkerView

WORKERS_PAGE = 6
BUTTON_NAME_LEN = 12
STATUS_LETTERS = {"a": None, "b": WorkerStatus.BUSY, "i": WorkerStatus.IDLE}
STATUS_MARKS = {WorkerStatus.BUSY.value: "🟢", WorkerStatus.IDLE.value: "🟡"}
FILTERS = (
    ("a", N_("workers.filter_all")),
    ("b", N_("workers.filter_busy")),
    ("i", N_("workers.filter_idle")),
)


class WorkersCb(CallbackData, prefix="wkl"):
    st: str = "a"  # "a" all, "b" busy, "i" idle
    tr: str = ""  # trade code, "" = every trade
    at: int = 0  # keyset anchor: a worker id, 0 = the first page
    d: str = "n"  # "n" the page after the anchor, "p" the page before it


class WorkerCardCb(CallbackData, prefix="wkc"):
    worker_id: int
    st: str = "a"  # the list to go back to
    tr: str = ""


class WorkerSetCb(CallbackData, prefix="wks"):
    worker_id: int
    to: str  # "b" busy | "i" idle: the target, so a double tap changes nothing more
    st: str = "a"
    tr: str = ""


class WorkersTradesCb(CallbackData, prefix="wkt"):
    st: str = "a"


class WorkersFindCb(CallbackData, prefix="wkf"):
    pass


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def workers_keyboard(
    items: Sequence[WorkerView], st: str = "a", trade: str = ""
) -> list[list[InlineKeyboardButton]]:
    """A card button per worker, two a row; the card goes back to this list."""
    buttons = [
        _button(
            f"{STATUS_MARKS.get(w.status, '')} {w.name[:BUTTON_NAME_LEN]}",
            WorkerCardCb(worker_id=w.id, st=st, tr=trade),
        )
        for w in items
    ]
    return rows(buttons, 2)


def list_keyboard(
    items: Sequence[WorkerView],
    st: str,
    trade: str,
    trade_label: str,
    prev_anchor: int | None,
    next_anchor: int | None,
) -> InlineKeyboardMarkup:
    grid = workers_keyboard(items, st, trade)
    nav = [
        _button(arrow, WorkersCb(st=st, tr=trade, at=anchor, d=d))
        for arrow, anchor, d in (("◀", prev_anchor, "p"), ("▶", next_anchor, "n"))
        if anchor is not None
    ]
    filters = [_button(checked(st == s, _(key)), WorkersCb(st=s, tr=trade)) for s, key in FILTERS]
    tools = [
        _button(_("workers.filter_trade").format(trade=trade_label), WorkersTradesCb(st=st)),
        _button(_("workers.find"), WorkersFindCb()),
    ]
    return InlineKeyboardMarkup(inline_keyboard=[*grid, *([nav] if nav else []), filters, tools])


def trades_keyboard(trades: Sequence[TradeCount], st: str, locale: str) -> InlineKeyboardMarkup:
    buttons = [_button(_("workers.all_trades"), WorkersCb(st=st))] + [
        _button(f"{t.name(locale)} ({t.busy + t.idle})", WorkersCb(st=st, tr=t.trade_code))
        for t in trades
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows(buttons, 2))


def card_keyboard(w: WorkerView, st: str, trade: str) -> InlineKeyboardMarkup:
    busy = w.status == WorkerStatus.BUSY.value
    switch = _button(
        _("workers.set_idle") if busy else _("workers.set_busy"),
        WorkerSetCb(worker_id=w.id, to="i" if busy else "b", st=st, tr=trade),
    )
    back = _button(_("workers.back_to_list"), WorkersCb(st=st, tr=trade))
    return InlineKeyboardMarkup(inline_keyboard=[[switch], [back]])
