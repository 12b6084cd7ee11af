"""/rings: the company admin sees and sets the dispatch rings: where new postings go by
default (🌐 公开 / 🏠 本公司内部) and after how many hours an internal one opens by itself.

Buttons carry target values, never "toggle": a repeated tap sets the same value; a forged
value is refused by the service (error handler) and changes nothing."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
from bot.i18n import tr
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.enums import Ring, Role
from core.services import rings
from core.services.accounts import AccountView

HOURS = (6, 12, 24, 48, 72)


class RingSettingCb(CallbackData, prefix="ringset"):
    ring: str = ""  # "market" / "internal", or "" to keep
    hours: int = 0  # 0 to keep


def _screen(view: rings.RingSettings) -> tuple[str, InlineKeyboardMarkup]:
    internal = view.default_ring == Ring.INTERNAL.value
    text = tr(
        "rings.settings",
        ring=_("rings.default_internal") if internal else _("rings.default_market"),
        hours=view.internal_open_hours,
    )
    target = Ring.MARKET.value if internal else Ring.INTERNAL.value
    rows = [
        [
            InlineKeyboardButton(
                text=_("rings.set_market") if internal else _("rings.set_internal"),
                callback_data=RingSettingCb(ring=target).pack(),
            )
        ],
        [
            InlineKeyboardButton(
                text=("✅ " if h == view.internal_open_hours else "") + tr("rings.hours", hours=h),
                callback_data=RingSettingCb(hours=h).pack(),
            )
            for h in HOURS
        ],
    ]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


async def show(message: Message, uow: UnitOfWork, account: AccountView) -> None:
    _enterprise_id, view = await rings.my_ring_settings(uow, account.actor())
    text, markup = _screen(view)
    await message.answer(text, reply_markup=markup)


async def set_value(
    query: CallbackQuery, callback_data: RingSettingCb, uow: UnitOfWork, account: AccountView
) -> None:
    actor = account.actor()
    enterprise_id, _view = await rings.my_ring_settings(uow, actor)  # the admin check
    view = await rings.set_ring_settings(
        uow,
        actor,
        enterprise_id,
        default_ring=callback_data.ring or None,
        internal_open_hours=callback_data.hours or None,
    )
    await query.answer(_("rings.setting_saved"))
    await edit_or_send(query, *_screen(view))


def create_router() -> Router:
    router = Router(name=__name__)
    dispatcher = HasRole(Role.DISPATCHER)
    router.message.register(show, Command("rings"), dispatcher)
    router.callback_query.register(set_value, RingSettingCb.filter(), dispatcher)
    return router
