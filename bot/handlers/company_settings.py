"""A company admin's settings, one screen a command: /approval sets 需求待批 ("foremen's
postings need approval", bot/dialogs/posting_approval); /rings where new postings go by
default (🌐 公开 / 🏠 本公司内部) and after how many hours an internal one opens by itself.

Buttons carry target values, never "toggle": a repeated tap sets the same value; a forged
value is refused by the service (error handler) and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

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


async def show_approval(uow: UnitOfWork, actor: Actor) -> Screen:
    return approval_screen(await approval.approval_setting(uow, actor))


async def set_approval(uow: UnitOfWork, actor: Actor, cb: ApprovalSettingCb) -> Screen:
    # the service checks the admin right on every tap
    return approval_screen(
        await approval.set_postings_need_approval(uow, actor, _enterprise_of(actor), cb.on)
    )


async def show_rings(uow: UnitOfWork, actor: Actor) -> Screen:
    _enterprise_id, view = await rings.my_ring_settings(uow, actor)
    return rings_screen(view)


async def set_rings(uow: UnitOfWork, actor: Actor, cb: RingSettingCb) -> Screen:
    view = await rings.set_ring_settings(
        uow,
        actor,
        _enterprise_of(actor),
        default_ring=cb.ring or None,
        internal_open_hours=cb.hours or None,
    )
    return rings_screen(view)


def _register(
    router: Router,
    command: str,
    show: Callable[[UnitOfWork, Actor], Awaitable[Screen]],
    save: Callable[[UnitOfWork, Actor, Any], Awaitable[Screen]],
    cb: type[CallbackData],
    saved_key: str,
) -> None:
    """/command shows the screen; its buttons save and show it again."""

    async def shown(message: Message, uow: UnitOfWork, account: AccountView) -> None:
        text, markup = await show(uow, account.actor())
        await message.answer(text, reply_markup=markup)

    async def tapped(
        query: CallbackQuery, callback_data: CallbackData, uow: UnitOfWork, account: AccountView
    ) -> None:
        screen = await save(uow, account.actor(), callback_data)
        await query.answer(_(saved_key))
        await edit_or_send(query, *screen)

    router.message.register(shown, Command(command))
    router.callback_query.register(tapped, cb.filter())


def create_router() -> Router:
    router = role_router(__name__, Role.DISPATCHER)
    _register(
        router,
        "approval",
        show_approval,
        set_approval,
        ApprovalSettingCb,
        "approval.setting_saved",
    )
    _register(router, "rings", show_rings, set_rings, RingSettingCb, "rings.setting_saved")
    return router
