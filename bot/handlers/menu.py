"""➕ 邀请工长, the dispatcher's invite of a foreman: project → name → a one-time link."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import InviteProjectCb
from bot.filters import HasRole
from bot.handlers.common import show_menu
from bot.i18n import tr
from bot.keyboards.common import (
    ALL_MENU_KEYS,
    INVITE_FOREMAN,
    MenuText,
    cancel_keyboard,
    inline_rows,
)
from bot.render.messages import drop_inline_keyboard, send_below
from bot.states import InviteForeman
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.services import accounts
from core.services.accounts import AccountView

PROJECT_BUTTON_LEN = 40  # long project names make unreadable buttons


async def invite_start(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    projects = await accounts.list_invite_projects(uow, account.actor())
    if not projects:
        await message.answer(_("invite.no_projects"))
        return
    await state.set_state(InviteForeman.project)
    buttons = [
        InlineKeyboardButton(
            text=p.name[:PROJECT_BUTTON_LEN], callback_data=InviteProjectCb(project_id=p.id).pack()
        )
        for p in projects
    ]
    await message.answer(_("invite.pick_project"), reply_markup=inline_rows(buttons))


async def invite_project_chosen(
    query: CallbackQuery,
    callback_data: InviteProjectCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    # the id came from the client: it must still be one of this company's active projects
    projects = await accounts.list_invite_projects(uow, account.actor())
    chosen = next((p for p in projects if p.id == callback_data.project_id), None)
    if chosen is None:
        raise PermissionDenied("error.invite_project_scope")
    await state.update_data(invite_project_id=chosen.id)
    await state.set_state(InviteForeman.name)
    await query.answer()
    await drop_inline_keyboard(query)
    await send_below(query, tr("invite.ask_name", project=chosen.name), cancel_keyboard())


async def invite_project_expected(message: Message) -> None:
    await message.answer(_("invite.pick_project_hint"), reply_markup=cancel_keyboard())


async def invite_name_typed(
    message: Message, uow: UnitOfWork, state: FSMContext, account: AccountView
) -> None:
    data = await state.get_data()
    project_id = data.get("invite_project_id")
    if not isinstance(project_id, int):
        await state.clear()
        await show_menu(message, account, _("common.stale"))
        return
    invite = await accounts.create_invite(
        uow,
        account.actor(),
        role=Role.FOREMAN,
        display_name=message.text or "",
        enterprise_id=account.enterprise_id,
        project_ids=(project_id,),
    )
    await state.clear()
    hours = uow.settings.invite_ttl_hours
    await message.answer(
        tr("invite.created", name=invite.display_name, link=invite.link, hours=hours),
        reply_markup=None,
    )
    await show_menu(message, account)


async def invite_name_expected(message: Message) -> None:
    await message.answer(_("invite.ask_name_again"), reply_markup=cancel_keyboard())


def create_router() -> Router:
    router = Router(name=__name__)
    dispatcher_only = HasRole(Role.DISPATCHER)
    router.message.register(invite_start, MenuText(INVITE_FOREMAN), dispatcher_only)
    router.callback_query.register(
        invite_project_chosen, InviteProjectCb.filter(), InviteForeman.project, dispatcher_only
    )
    router.message.register(invite_project_expected, InviteForeman.project)
    router.message.register(
        # a menu button's text is not a name: it goes on to the button's own handler
        invite_name_typed,
        InviteForeman.name,
        F.text,
        ~MenuText(*ALL_MENU_KEYS),
        dispatcher_only,
    )
    router.message.register(invite_name_expected, InviteForeman.name)
    return router
