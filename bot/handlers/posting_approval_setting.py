"""/approval: the company admin sees and sets 需求待批 ("foremen's postings need approval").

A button carries the target value, never "toggle": a repeated tap sets the same value."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.filters import HasRole
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.services import posting_approval as approval
from core.services.accounts import AccountView


class ApprovalSettingCb(CallbackData, prefix="apprset"):
    on: bool


def _screen(on: bool) -> tuple[str, InlineKeyboardMarkup]:
    text = "\n\n".join(
        (_("approval.setting_on") if on else _("approval.setting_off"), _("approval.setting_help"))
    )
    target = not on
    button = InlineKeyboardButton(
        text=_("approval.turn_off") if on else _("approval.turn_on"),
        callback_data=ApprovalSettingCb(on=target).pack(),
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[[button]])


async def show(message: Message, uow: UnitOfWork, account: AccountView) -> None:
    on = await approval.approval_setting(uow, account.actor())
    text, markup = _screen(on)
    await message.answer(text, reply_markup=markup)


async def set_value(
    query: CallbackQuery,
    callback_data: ApprovalSettingCb,
    uow: UnitOfWork,
    account: AccountView,
) -> None:
    actor = account.actor()
    await approval.approval_setting(uow, actor)  # the admin check, on every tap
    assert actor.enterprise_id is not None  # approval_setting refused a dispatcher without one
    on = await approval.set_postings_need_approval(
        uow, actor, actor.enterprise_id, callback_data.on
    )
    await query.answer(_("approval.setting_saved"))
    await edit_or_send(query, *_screen(on))


def create_router() -> Router:
    router = Router(name=__name__)
    dispatcher = HasRole(Role.DISPATCHER)
    router.message.register(show, Command("approval"), dispatcher)
    router.callback_query.register(set_value, ApprovalSettingCb.filter(), dispatcher)
    return router
