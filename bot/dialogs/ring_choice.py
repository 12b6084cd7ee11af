"""The ring toggle of the posting dialogs (📝 缺工, 📤 赋闲): 🏠 本公司内部 / 🌐 公开, on the
summary, starting from the company's default (公开 unless the company says otherwise)."""

from __future__ import annotations

from typing import Any

from aiogram.types import CallbackQuery
from aiogram_dialog import DialogManager
from aiogram_dialog.widgets.kbd import Button
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import account_of, uow_of
from bot.i18n import tr
from core.domain.enums import Ring
from core.services.rings import ring_settings


async def company_ring(manager: DialogManager) -> str:
    """The poster's company's default ring (公开 without a company)."""
    enterprise_id = account_of(manager).enterprise_id
    if enterprise_id is None:
        return Ring.MARKET.value
    return (await ring_settings(uow_of(manager), enterprise_id)).default_ring


def chosen(manager: DialogManager, key: str) -> str:
    value = manager.dialog_data.get(key)
    return Ring.INTERNAL.value if value == Ring.INTERNAL.value else Ring.MARKET.value


def ring_fields(manager: DialogManager, key: str) -> dict[str, Any]:
    """The summary's ring line and the toggle's label."""
    internal = chosen(manager, key) == Ring.INTERNAL.value
    return {
        "ring_line": tr("rings.line_internal" if internal else "rings.line_market"),
        "ring_toggle": tr("rings.to_market" if internal else "rings.to_internal"),
    }


def toggle_button(key: str) -> Button:
    """One tap switches the ring the posting will go to; nothing is written before Confirm."""

    async def toggle(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        internal = chosen(manager, key) == Ring.INTERNAL.value
        manager.dialog_data[key] = Ring.MARKET.value if internal else Ring.INTERNAL.value

    return Button(Format("{ring_toggle}"), id="ring", on_click=toggle)
