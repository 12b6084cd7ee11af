"""Inline keyboards of the deal dialogs and of deal messages. Builders take the translate
function (`tr` in handlers, the recipient's `t` in renderers); button texts are plain text."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.callbacks_deals import DealActCb, DealFlowCb
from bot.callbacks_dispatch import DispatchCb
from bot.keyboards.common import cancel_button
from bot.notifier import Translate
from core.domain.enums import DealStatus, Side
from core.domain.money import format_money
from core.services.deals import DealListItem, DealView

HEADCOUNT_PRESETS = (1, 2, 3, 4, 5, 6, 8, 10)
WORKERS_PER_PAGE = 8
BUTTON_NAME_LEN = 12  # a project or company name on a button: the start is enough


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def _flow(text: str, action: str, value: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=DealFlowCb(a=action, v=value).pack())


def _act(text: str, action: str, deal_id: int, version: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=DealActCb(a=action, id=deal_id, v=version).pack()
    )


def short(name: str, limit: int = BUTTON_NAME_LEN) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


# --- a deal message ---------------------------------------------------------------------------


def deal_actions_keyboard(
    view: DealView, T: Translate, *, back: bool = False
) -> InlineKeyboardMarkup | None:
    """Accept / Counter / Decline when it is the viewer's turn; Withdraw for the offer the
    viewer made; nothing once closed. `back` adds "to the list" (the 🤝 Deals menu)."""
    rows: list[list[InlineKeyboardButton]] = []
    if view.status is DealStatus.PENDING and view.my_turn:
        rows.append(
            [
                _act(T("deals.btn_accept"), "a", view.id, view.version),
                _act(T("deals.btn_counter"), "c", view.id, view.version),
            ]
        )
        rows.append([_act(T("deals.btn_decline"), "d", view.id, view.version)])
    elif view.status is DealStatus.PENDING and view.my_sides:
        # after a counter it is the counter that is taken back, not the first offer
        withdraw = T("deals.btn_withdraw_counter") if view.version > 1 else T("deals.btn_withdraw")
        rows.append([_act(withdraw, "x", view.id, view.version)])
    elif view.status is DealStatus.ACCEPTED and Side.SHORTAGE in view.my_sides:
        # the dispatch after the handshake: who is on site, release, extend
        rows.append(
            [
                InlineKeyboardButton(
                    text=T("dispatch.open_card"),
                    callback_data=DispatchCb(a="o", d=view.id).pack(),
                )
            ]
        )
    if back:
        rows.append([_act(T("deals.btn_list"), "l", 0)])
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def deals_list_keyboard(
    items: Sequence[DealListItem], trade_names: dict[str, str]
) -> InlineKeyboardMarkup:
    """One button per deal: 🔔 my turn, ⏳ the other side's, ✅ accepted."""
    buttons = []
    for item in items:
        pending_icon = "🔔" if item.my_turn else "⏳"
        icon = pending_icon if item.status is DealStatus.PENDING else "✅"
        trade = trade_names.get(item.trade_code, item.trade_name_zh)
        text = f"{icon} #{item.id} {trade} ×{item.headcount} · {format_money(item.price)}"
        buttons.append(_act(text, "o", item.id))
    return InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons])


# --- the propose / counter / accept dialogs ---------------------------------------------------


def pick_shortage_keyboard(choices: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """One button per live shortage of mine: (id, label)."""
    rows = [[_flow(label, "s", sid)] for sid, label in choices]
    rows.append([cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def headcount_keyboard(T: Translate, open_count: int) -> InlineKeyboardMarkup:
    """Numbers as big buttons, up to the open count; "other" to type one when they don't fit."""
    if open_count <= len(HEADCOUNT_PRESETS):
        values = list(range(1, open_count + 1))
    else:
        values = [n for n in HEADCOUNT_PRESETS if n <= open_count]
    buttons = [_flow(str(n), "h", n) for n in values]
    rows = _rows(buttons, 4)
    if open_count > len(values):
        rows.append([_flow(T("deals.btn_other_number"), "h", 0)])
    rows.append([cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def workers_keyboard(
    page: Sequence[tuple[int, str]],
    chosen: set[int],
    *,
    offset: int,
    total: int,
    need: int,
    done_text: str,
) -> InlineKeyboardMarkup:
    """Toggle buttons (✅ when chosen), ◀ ▶ between pages, Done once exactly `need` chosen."""
    rows = [[_flow(("✅ " if wid in chosen else "▫️ ") + label, "w", wid)] for wid, label in page]
    nav = []
    if offset > 0:
        nav.append(_flow("◀", "wp", max(0, offset - WORKERS_PER_PAGE)))
    if offset + WORKERS_PER_PAGE < total:
        nav.append(_flow("▶", "wp", offset + WORKERS_PER_PAGE))
    if nav:
        rows.append(nav)
    if len(chosen) < need:
        rows.append([_flow(_("deals.btn_select_all").format(need=need), "wa")])
    if len(chosen) == need:
        rows.append([_flow(done_text, "wd")])
    rows.append([cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def price_keyboard(options: Sequence[tuple[str, int]]) -> InlineKeyboardMarkup:
    """Quick prices (label, fen); anything else is typed."""
    buttons = [_flow(label, "p", fen) for label, fen in options]
    rows = _rows(buttons, 2)
    rows.append([cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def start_keyboard(T: Translate, today: date) -> InlineKeyboardMarkup:
    """Tomorrow, in 3 days, next Monday (the value is days from today); or type a date."""
    to_monday = 7 - today.weekday()  # on a Monday: the one after

    def day(n: int) -> str:
        return (today + timedelta(days=n)).strftime("%m-%d")

    rows = [
        [_flow(T("deals.btn_tomorrow", day=day(1)), "d", 1)],
        [_flow(T("deals.btn_in_3_days", day=day(3)), "d", 3)],
        [_flow(T("deals.btn_next_monday", day=day(to_monday)), "d", to_monday)],
        [cancel_button()],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def summary_keyboard(
    T: Translate, *, send_text: str, edit_headcount: bool, edit_workers: bool
) -> InlineKeyboardMarkup:
    """Send, or change one answer and come back here."""
    edits = []
    if edit_headcount:
        edits.append(_flow(T("deals.btn_edit_headcount"), "eh"))
    elif edit_workers:
        edits.append(_flow(T("deals.btn_edit_workers"), "eh"))
    edits += [_flow(T("deals.btn_edit_price"), "ep"), _flow(T("deals.btn_edit_start"), "ed")]
    rows = [[_flow(send_text, "ok")], *_rows(edits, 3), [cancel_button()]]
    return InlineKeyboardMarkup(inline_keyboard=rows)
