"""/settings: notifications on/off, quiet hours, the regulator's digest time, language, phone.
Buttons carry the target value, so a double tap sets the same value twice: one change."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.callbacks import SettingsCb
from bot.handlers.channels import channel_buttons, channel_lines, channels_of
from bot.handlers.common import LANGUAGE_NAMES, language_keyboard
from bot.i18n import tr
from bot.keyboards.common import SETTINGS, MenuText, checked, phone_keyboard
from bot.keyboards.common import rows as grid
from bot.render.messages import edit_or_send, send_below
from bot.states import Onboarding
from core.channels.service import ChannelView
from core.db.uow import UnitOfWork
from core.domain.values import mask_phone
from core.services import accounts
from core.services.accounts import AccountView

OFF = "off"


def _hm(value: time) -> str:
    return value.strftime("%H:%M")


def _code(*values: time) -> str:
    return "-".join(value.strftime("%H%M") for value in values)


# the callback value → (start, end) in local time, "HHMM-HHMM"
QUIET_PRESETS = {
    _code(*preset): preset
    for preset in (
        (time(22, 0), time(7, 0)),
        (time(21, 0), time(8, 0)),
        (time(23, 0), time(6, 0)),
        (time(12, 0), time(14, 0)),
    )
}
DIGEST_PRESETS = {_code(time(h, 0)): time(h, 0) for h in range(6, 11)}


def _button(text: str, field: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=SettingsCb(field=field, value=value).pack()
    )


def settings_text(account: AccountView, channels: Sequence[ChannelView] = ()) -> str:
    if account.quiet_start is not None and account.quiet_end is not None:
        quiet = f"{_hm(account.quiet_start)}–{_hm(account.quiet_end)}"
    else:
        quiet = _("settings.off")
    lines = [
        _("settings.title"),
        tr(
            "settings.notifications",
            value=_("settings.on") if account.notifications_enabled else _("settings.off"),
        ),
        tr("settings.quiet", value=quiet),
    ]
    if account.has_digest:
        lines.append(tr("settings.digest", value=_hm(account.digest_time)))
    lines.append(tr("settings.language", value=LANGUAGE_NAMES.get(account.locale, account.locale)))
    phone = mask_phone(account.phone) if account.phone else _("settings.phone_none")
    lines.append(tr("settings.phone", value=phone))
    lines += channel_lines(account, channels)
    return "\n".join(lines)


def settings_keyboard(
    account: AccountView, channels: Sequence[ChannelView] = ()
) -> InlineKeyboardMarkup:
    if account.notifications_enabled:
        notify = _button(_("settings.notify_turn_off"), "notify", "0")
    else:
        notify = _button(_("settings.notify_turn_on"), "notify", "1")
    rows = [[notify]]
    current_quiet = (
        _code(account.quiet_start, account.quiet_end)
        if account.quiet_start is not None and account.quiet_end is not None
        else OFF
    )
    quiet = [
        _button(checked(code == current_quiet, f"🌙 {_hm(s)}–{_hm(e)}"), "quiet", code)
        for code, (s, e) in QUIET_PRESETS.items()
    ]
    quiet.append(_button(checked(current_quiet == OFF, _("settings.quiet_off")), "quiet", OFF))
    rows += grid(quiet, 2)
    if account.has_digest:
        digest = [
            _button(checked(at == account.digest_time, f"⏰ {_hm(at)}"), "digest", code)
            for code, at in DIGEST_PRESETS.items()
        ]
        rows += grid(digest, 3)
    rows.append(
        [
            _button(_("settings.change_language"), "lang"),
            _button(_("settings.change_phone"), "phone"),
        ]
    )
    rows += channel_buttons(channels)
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def show_settings(message: Message, account: AccountView, uow: UnitOfWork) -> None:
    channels = await channels_of(uow, account)
    await message.answer(
        settings_text(account, channels), reply_markup=settings_keyboard(account, channels)
    )


async def setting_chosen(
    query: CallbackQuery,
    callback_data: SettingsCb,
    uow: UnitOfWork,
    state: FSMContext,
    account: AccountView,
) -> None:
    field, value = callback_data.field, callback_data.value
    if field == "notify" and value in ("0", "1"):
        account = await accounts.set_notifications(uow, account.id, value == "1")
    elif field == "quiet" and value == OFF:
        account = await accounts.set_quiet_hours(uow, account.id, None, None)
    elif field == "quiet" and value in QUIET_PRESETS:
        account = await accounts.set_quiet_hours(uow, account.id, *QUIET_PRESETS[value])
    elif field == "digest" and value in DIGEST_PRESETS:
        account = await accounts.set_digest_time(uow, account.id, DIGEST_PRESETS[value])
    elif field == "lang":
        await query.answer()
        await edit_or_send(query, _("language.pick"), language_keyboard())
        return
    elif field == "phone":
        await state.set_state(Onboarding.phone)
        await query.answer()
        await send_below(query, _("start.phone_ask"), phone_keyboard())
        return
    else:
        # forged or from an older keyboard: nothing changes
        await query.answer(_("common.stale"))
        return
    await query.answer(_("settings.saved"))
    channels = await channels_of(uow, account)
    await edit_or_send(
        query, settings_text(account, channels), settings_keyboard(account, channels)
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.message.register(show_settings, Command("settings"))
    router.message.register(show_settings, MenuText(SETTINGS))
    router.callback_query.register(setting_chosen, SettingsCb.filter())
    return router
