"""Inline keyboards of deal messages. Builders take the translate
function (`tr` in handlers, the recipient's `t` in renderers); button texts are plain text."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks_deals import DealActCb
from bot.callbacks_dispatch import DispatchCb
from bot.notifier import Translate
from core.domain.enums import DealStatus, Side
from core.services.deals import DealView

BUTTON_NAME_LEN = 12  # a project or company name on a button: the start is enough


def _act(text: str, action: str, deal_id: int, version: int = 0) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=DealActCb(a=action, id=deal_id, v=version).pack()
    )


def short(name: str, limit: int = BUTTON_NAME_LEN) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


# --- a deal message ---------------------------------------------------------------------------


def deal_actions_keyboard(view: DealView, T: Translate) -> InlineKeyboardMarkup | None:
    """Accept / Counter / Decline when it is the viewer's turn; Withdraw for the offer the
    viewer made; nothing once closed."""
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
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
