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
from core.domain.enums import WorkerStatus
from core.services.workers import TradeCount, WorkerView

WORKERS_PAGE = 6
BUTTON_NAME_LEN = 12
STATUS_LETTERS = {"a": None, "b": WorkerStatus.BUSY, "i": WorkerStatus.IDLE}
STATUS_MARKS = {WorkerStatus.BUSY.value: "🟢", WorkerStatus.IDLE.value: "🟡"}


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


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def _marked(chosen: bool, text: str) -> str:
    return f"✅ {text}" if chosen else text


def list_keyboard(
    items: Sequence[WorkerView],
    st: str,
    trade: str,
    trade_label: str,
    prev_anchor: int | None,
    next_anchor: int | None,
) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=f"{STATUS_MARKS.get(w.status, '')} {w.name[:BUTTON_NAME_LEN]}",
            callback_data=WorkerCardCb(worker_id=w.id, st=st, tr=trade).pack(),
        )
        for w in items
    ]
    rows = _rows(buttons, 2)
    nav = []
    if prev_anchor is not None:
        nav.append(
            InlineKeyboardButton(
                text="◀", callback_data=WorkersCb(st=st, tr=trade, at=prev_anchor, d="p").pack()
            )
        )
    if next_anchor is not None:
        nav.append(
            InlineKeyboardButton(
                text="▶", callback_data=WorkersCb(st=st, tr=trade, at=next_anchor, d="n").pack()
            )
        )
    if nav:
        rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(
                text=_marked(st == letter, _(key)),
                callback_data=WorkersCb(st=letter, tr=trade).pack(),
            )
            for letter, key in (
                ("a", N_("workers.filter_all")),
                ("b", N_("workers.filter_busy")),
                ("i", N_("workers.filter_idle")),
            )
        ]
    )
    rows.append(
        [
            InlineKeyboardButton(
                text=_("workers.filter_trade").format(trade=trade_label),
                callback_data=WorkersTradesCb(st=st).pack(),
            ),
            InlineKeyboardButton(text=_("workers.find"), callback_data=WorkersFindCb().pack()),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def trades_keyboard(trades: Sequence[TradeCount], st: str, locale: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=_("workers.all_trades"), callback_data=WorkersCb(st=st).pack())
    ]
    buttons += [
        InlineKeyboardButton(
            text=f"{t.name(locale)} ({t.busy + t.idle})",
            callback_data=WorkersCb(st=st, tr=t.trade_code).pack(),
        )
        for t in trades
    ]
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 2))


def card_keyboard(w: WorkerView, st: str, trade: str) -> InlineKeyboardMarkup:
    if w.status == WorkerStatus.BUSY.value:
        switch = InlineKeyboardButton(
            text=_("workers.set_idle"),
            callback_data=WorkerSetCb(worker_id=w.id, to="i", st=st, tr=trade).pack(),
        )
    else:
        switch = InlineKeyboardButton(
            text=_("workers.set_busy"),
            callback_data=WorkerSetCb(worker_id=w.id, to="b", st=st, tr=trade).pack(),
        )
    back = InlineKeyboardButton(
        text=_("workers.back_to_list"), callback_data=WorkersCb(st=st, tr=trade).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[switch], [back]])


def found_keyboard(items: Sequence[WorkerView]) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=f"{STATUS_MARKS.get(w.status, '')} {w.name[:BUTTON_NAME_LEN]}",
            callback_data=WorkerCardCb(worker_id=w.id).pack(),
        )
        for w in items
    ]
    return InlineKeyboardMarkup(inline_keyboard=_rows(buttons, 2))
