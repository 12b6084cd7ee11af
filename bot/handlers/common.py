"""Commands that work in any state: /cancel (and every Cancel button), /help, /language, /menu."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager

from bot.callbacks import CancelCb, LangCb
from bot.i18n import N_, SUPPORTED_LOCALES, tr
from bot.keyboards.common import (
    CANCEL,
    ROLE_MENUS,
    MenuText,
    account_menu,
    inline_rows,
    menu_button,
)
from bot.keyboards.join import guest_keyboard
from bot.middlewares.locale import FSM_LOCALE_KEY
from bot.render.messages import drop_inline_keyboard, send_below
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.services import accounts
from core.services.accounts import AccountView

# what each menu button is for, shown by /help
MENU_HELP = {
    N_("menu.post_shortage"): N_("help.about.post_shortage"),
    N_("menu.my_postings"): N_("help.about.my_postings"),
    N_("menu.search"): N_("help.about.search"),
    N_("menu.deals"): N_("help.about.deals"),
    N_("menu.rate_workers"): N_("help.about.rate_workers"),
    N_("menu.settings"): N_("help.about.settings"),
    N_("menu.projects"): N_("help.about.projects"),
    N_("menu.workers"): N_("help.about.workers"),
    N_("menu.declare_idle"): N_("help.about.declare_idle"),
    N_("menu.invite_foreman"): N_("help.about.invite_foreman"),
    N_("menu.summary"): N_("help.about.summary"),
    N_("menu.statistics"): N_("help.about.statistics"),
    N_("menu.shortages"): N_("help.about.shortages"),
    N_("menu.deal_records"): N_("help.about.deal_records"),
    N_("menu.ratings"): N_("help.about.ratings"),
    N_("menu.guide_prices"): N_("help.about.guide_prices"),
    N_("menu.grading"): N_("help.about.grading"),
    N_("menu.escalations"): N_("help.about.escalations"),
    N_("menu.arrears"): N_("help.about.arrears"),
    N_("menu.onsite"): N_("help.about.onsite"),
}
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}  # each in its own language, never translated
ROLE_NAMES = {
    Role.FOREMAN: N_("role.foreman"),
    Role.DISPATCHER: N_("role.dispatcher"),
    Role.REGULATOR: N_("role.regulator"),
    Role.ADMIN: N_("role.admin"),
}


async def show_menu(message: Message, account: AccountView, text: str | None = None) -> None:
    await message.answer(text or _("menu.title"), reply_markup=account_menu(account))


# --- /cancel ---------------------------------------------------------------------------------


async def _leave_flow(state: FSMContext, dialog_manager: DialogManager | None) -> None:
    if dialog_manager is not None:  # an open dialog's buttons go away with it
        await dialog_manager.reset_stack()
    await state.set_state(None)
    # the dialog's scratch data goes; a guest's language choice stays
    data = await state.get_data()
    kept = {k: v for k, v in data.items() if k == FSM_LOCALE_KEY}
    if kept != data:
        await state.set_data(kept)


async def cancel(
    message: Message,
    state: FSMContext,
    account: AccountView | None,
    dialog_manager: DialogManager | None = None,
) -> None:
    """Leave whatever step the user is in and go back to the menu."""
    await _leave_flow(state, dialog_manager)
    if account is None:  # a guest leaving 申请入驻: its button stays
        await message.answer(_("common.cancelled"), reply_markup=guest_keyboard())
        return
    await show_menu(message, account, _("common.cancelled"))


async def cancel_inline(
    query: CallbackQuery,
    state: FSMContext,
    account: AccountView | None,
    dialog_manager: DialogManager | None = None,
) -> None:
    await _leave_flow(state, dialog_manager)
    await query.answer(_("common.cancelled"))
    await drop_inline_keyboard(query)
    if account is not None:
        await send_below(query, _("common.cancelled"), account_menu(account))


# --- /help, /menu ----------------------------------------------------------------------------


async def help_command(message: Message, account: AccountView | None) -> None:
    if account is None:
        await message.answer(_("help.guest"), reply_markup=ReplyKeyboardRemove())
        return
    # each button with what it is for (a list of names alone told a new user nothing)
    buttons = "\n".join(
        f"• {menu_button(key)} – {_(MENU_HELP[key])}"
        if key in MENU_HELP
        else f"• {menu_button(key)}"
        for key in ROLE_MENUS[account.role]
    )
    text = "\n\n".join(
        (
            tr("help.header", role=_(ROLE_NAMES[account.role])),
            _("help.commands"),
            tr("help.buttons", buttons=buttons),
        )
    )
    await show_menu(message, account, text)


async def menu_command(message: Message, account: AccountView) -> None:
    await show_menu(message, account)


# --- /language -------------------------------------------------------------------------------


def language_keyboard() -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=LANGUAGE_NAMES[code], callback_data=LangCb(code=code).pack())
        for code in SUPPORTED_LOCALES
    ]
    return inline_rows(buttons, len(buttons), cancel=False)


async def language_command(message: Message) -> None:
    await message.answer(_("language.pick"), reply_markup=language_keyboard())


async def language_chosen(
    query: CallbackQuery,
    callback_data: LangCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView | None,
    i18n: I18n,
) -> None:
    code = callback_data.code
    if code not in SUPPORTED_LOCALES:
        await query.answer(_("common.stale"))
        return
    if account is not None:
        account = await accounts.set_locale(uow, account.id, code)
    else:
        await state.update_data({FSM_LOCALE_KEY: code})
    with i18n.use_locale(code):
        await query.answer(_("language.changed"))
        await drop_inline_keyboard(query)
        # re-send the menu: the reply keyboard's button texts change language too
        menu = account_menu(account) if account is not None else None
        await send_below(query, _("language.changed"), menu)


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(cancel, Command("cancel"))
    router.message.register(cancel, MenuText(CANCEL))
    router.callback_query.register(cancel_inline, CancelCb.filter())
    router.message.register(help_command, Command("help"))
    router.message.register(menu_command, Command("menu"))
    router.message.register(language_command, Command("language"))
    router.callback_query.register(language_chosen, LangCb.filter())
    return router
