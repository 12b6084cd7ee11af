"""Callbacks and keyboards of "⭐ Rate workers" (企业用工评价) and of the rating prompt."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import cancel_button, inline_rows
from core.services.ratings import AwaitingRating

STARS = (1, 2, 3, 4, 5)


class RateDealCb(CallbackData, prefix="rtd"):
    deal_id: int  # start (or resume) rating this deal's workers


class RateStarCb(CallbackData, prefix="rts"):
    deal_id: int
    worker_id: int
    stars: int  # 1..5; the handler refuses anything else


class RateSkipCb(CallbackData, prefix="rtk"):
    deal_id: int
    worker_id: int  # the worker whose comment is skipped


def rate_now_keyboard(deal_id: int, text: str) -> InlineKeyboardMarkup:
    """The outbox prompt's single button (its text is translated by the renderer)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=RateDealCb(deal_id=deal_id).pack())]
        ]
    )


def deals_keyboard(deals: Sequence[AwaitingRating], trades: Sequence[str]) -> InlineKeyboardMarkup:
    """A button per deal, with its trade and how many workers wait for stars."""
    buttons = [
        InlineKeyboardButton(
            text=f"#{d.deal_id} {trade} ({d.unrated})",
            callback_data=RateDealCb(deal_id=d.deal_id).pack(),
        )
        for d, trade in zip(deals, trades, strict=True)
    ]
    return inline_rows(buttons, cancel=False)


def stars_keyboard(deal_id: int, worker_id: int) -> InlineKeyboardMarkup:
    """Five big buttons, three and two a row, then Cancel."""
    buttons = [
        InlineKeyboardButton(
            text=f"★{n}",
            callback_data=RateStarCb(deal_id=deal_id, worker_id=worker_id, stars=n).pack(),
        )
        for n in STARS
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[:3], buttons[3:], [cancel_button()]])


def comment_keyboard(deal_id: int, worker_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("rating.skip"),
                    callback_data=RateSkipCb(deal_id=deal_id, worker_id=worker_id).pack(),
                ),
                cancel_button(),
            ]
        ]
    )
