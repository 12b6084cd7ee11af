"""A company admin's settings, one screen a command: /approval sets 需求待批 ("foremen's
postings need approval", bot/dialogs/posting_approval); /rings where new postings go by
default (🌐 公开 / 🏠 本公司内部) and after how many hours an internal one opens by itself.

Buttons carry target values, never "toggle": a repeated tap sets the same value; a forged
value is refused by the service (error handler) and changes nothing."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import role_router
from bot.i18n import tr
from bot.keyboards.common import checked
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Ring, Role
from core.domain.errors import PermissionDenied
from core.services import posting_approval as approval
from core.services import rings
from core.services.accounts import AccountView

HOURS = (6, 12, 24, 48, 72)
Screen = tuple[str, InlineKeyboardMarkup]


class ApprovalSettingCb(CallbackData, prefix="apprset"):
    on: bool


class RingSettingCb(CallbackData, prefix="ringset"):
    ring: str = ""  # "market" / "internal", or "" to keep
    hours: int = 0  # 0 to keep


def _button(text: str, data: CallbackData) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())


def approval_screen(on: bool) -> Screen:
    state = _("approval.setting_on") if on else _("approval.setting_off")
    button = _button(
        _("approval.turn_off") if on else _("approval.turn_on"), ApprovalSettingCb(on=not on)
    )
    return f"{state}\n\n{_('approval.setting_help')}", InlineKeyboardMarkup(
        inline_keyboard=[[button]]
    )


def rings_screen(view: rings.RingSettings) -> Screen:
    internal = view.default_ring == Ring.INTERNAL.value
    text = tr(
        "rings.settings",
        ring=_("rings.default_internal") if internal else _("rings.default_market"),
        hours=view.internal_open_hours,
    )
    target = Ring.MARKET.value if internal else Ring.INTERNAL.value
    switch = _("rings.set_market") if internal else _("rings.set_internal")
    hours = [
        _button(
            checked(h == view.internal_open_hours, tr("rings.hours", hours=h)),
            RingSettingCb(hours=h),
        )
        for h in HOURS
    ]
    rows = [[_button(switch, RingSettingCb(ring=target))], hours]
    return text, InlineKeyboardMarkup(inline_keyboard=rows)


def _enterprise_of(actor: Actor) -> int:
    if actor.enterprise_id is None:
        raise PermissionDenied("error.admin_only")
    return actor.enterprise_id


async def _show(message: Message, screen: Screen) -> None:
    text, markup = screen
    await message.answer(text, reply_markup=markup)


async def _saved(query: CallbackQuery, screen: Screen) -> None:
    await query.answer(_("settings.saved"))  # the toast of every settings screen
    await edit_or_send(query, *screen)


async def show_approval(message: Message, uow: UnitOfWork, account: AccountView) -> None:
    await _show(message, approval_screen(await approval.approval_setting(uow, account.actor())))


async def set_approval(
    query: CallbackQuery, callback_data: ApprovalSettingCb, uow: UnitOfWork, account: AccountView
) -> None:
    actor = account.actor()  # the service checks the admin right on every tap
    on = await approval.set_postings_need_approval(
        uow, actor, _enterprise_of(actor), callback_data.on
    )
    await _saved(query, approval_screen(on))


async def show_rings(message: Message, uow: UnitOfWork, account: AccountView) -> None:
    _enterprise_id, view = await rings.my_ring_settings(uow, account.actor())
    await _show(message, rings_screen(view))


async def set_rings(
    query: CallbackQuery, callback_data: RingSettingCb, uow: UnitOfWork, account: AccountView
) -> None:
    actor, cb = account.actor(), callback_data
    view = await rings.set_ring_settings(
        uow,
        actor,
        _enterprise_of(actor),
        default_ring=cb.ring or None,
        internal_open_hours=cb.hours or None,
    )
    await _saved(query, rings_screen(view))


def create_router() -> Router:
    router = role_router(__name__, Role.DISPATCHER)
    router.message.register(show_approval, Command("approval"))
    router.callback_query.register(set_approval, ApprovalSettingCb.filter())
    router.message.register(show_rings, Command("rings"))
    router.callback_query.register(set_rings, RingSettingCb.filter())
    return router
