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
from bot.keyboards.common import SETTINGS, MenuText, phone_keyboard
from bot.render.messages import edit_or_send
from bot.states import Onboarding
from core.channels.service import ChannelView
from core.db.uow import UnitOfWork
from core.domain.values import mask_phone
from core.services import accounts
from core.services.accounts import AccountView

# (start, end) in local time; the callback value is "HHMM-HHMM"
QUIET_PRESETS: tuple[tuple[time, time], ...] = (
    (time(22, 0), time(7, 0)),
    (time(21, 0), time(8, 0)),
    (time(23, 0), time(6, 0)),
    (time(12, 0), time(14, 0)),
)
DIGEST_PRESETS: tuple[time, ...] = tuple(time(h, 0) for h in range(6, 11))
OFF = "off"


def _hm(value: time) -> str:
    return value.strftime("%H:%M")


def _code(value: time) -> str:
    return value.strftime("%H%M")


def _parse_code(code: str) -> time | None:
    if len(code) != 4 or not code.isdigit():
        return None
    hour, minute = int(code[:2]), int(code[2:])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _quiet_code(start: time, end: time) -> str:
    return f"{_code(start)}-{_code(end)}"


def _button(text: str, field: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=text, callback_data=SettingsCb(field=field, value=value).pack()
    )


def _mark(chosen: bool, text: str) -> str:
    return f"✅ {text}" if chosen else text


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
        _quiet_code(account.quiet_start, account.quiet_end)
        if account.quiet_start is not None and account.quiet_end is not None
        else OFF
    )
    quiet = [
        _button(
            _mark(_quiet_code(s, e) == current_quiet, f"🌙 {_hm(s)}–{_hm(e)}"),
            "quiet",
            _quiet_code(s, e),
        )
        for s, e in QUIET_PRESETS
    ]
    quiet.append(_button(_mark(current_quiet == OFF, _("settings.quiet_off")), "quiet", OFF))
    rows += [quiet[i : i + 2] for i in range(0, len(quiet), 2)]
    if account.has_digest:
        digest = [
            _button(_mark(at == account.digest_time, f"⏰ {_hm(at)}"), "digest", _code(at))
            for at in DIGEST_PRESETS
        ]
        rows += [digest[:3], digest[3:]]
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
    elif field == "quiet" and value in {_quiet_code(s, e) for s, e in QUIET_PRESETS}:
        start, end = (_parse_code(part) for part in value.split("-"))
        account = await accounts.set_quiet_hours(uow, account.id, start, end)
    elif field == "digest" and (at := _parse_code(value)) in DIGEST_PRESETS and at is not None:
        account = await accounts.set_digest_time(uow, account.id, at)
    elif field == "lang":
        await query.answer()
        await edit_or_send(query, _("language.pick"), language_keyboard())
        return
    elif field == "phone":
        await state.set_state(Onboarding.phone)
        await query.answer()
        if query.bot is not None:
            await query.bot.send_message(
                query.from_user.id, _("start.phone_ask"), reply_markup=phone_keyboard()
            )
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
