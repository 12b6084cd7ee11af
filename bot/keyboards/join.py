"""申请入驻 outside its dialog: the guest's "🏢 申请入驻" button, the plain-FSM marker that lets
a guest through the access gate while the application dialog is open, and the callback data
of the regulators' approval cards.

Kept free of dialog imports: the access middleware and /start import it."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import gettext as _

from bot.i18n import N_

APPLY = N_("join.apply_button")
KIND_LABELS = {  # an applying company's kind, as the form and the regulator's card name it
    "general": N_("join.kind.general"),
    "specialty": N_("join.kind.specialty"),
    "labor": N_("join.kind.labor"),
}


class JoinGate(StatesGroup):
    """Set while a guest's application dialog is open (aiogram-dialog keeps its own state
    elsewhere): the access middleware reads the plain FSM state, which it already has."""

    open = State()


JOIN_GATE_STATE = JoinGate.open.state


class ReviewCb(CallbackData, prefix="jrev"):
    """A regulator's ✅ / ❌ on an approval card; the region is checked again on every tap."""

    act: str  # "ok" | "no"
    app_id: int


def guest_keyboard() -> ReplyKeyboardMarkup:
    """The one thing a user without an account can do besides following an invite link."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=_(APPLY))]], resize_keyboard=True, is_persistent=True
    )


def review_keyboard(app_id: int, approve: str, reject: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=approve, callback_data=ReviewCb(act="ok", app_id=app_id).pack()
                ),
                InlineKeyboardButton(
                    text=reject, callback_data=ReviewCb(act="no", app_id=app_id).pack()
                ),
            ]
        ]
    )
