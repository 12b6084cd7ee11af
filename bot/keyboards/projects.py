"""Callbacks and keyboards of "🏗 Projects" (项目用工)."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

PROJECTS_PAGE = 8  # projects per message: a phone screen of the enterprise table


class ProjectsPageCb(CallbackData, prefix="prj"):
    page: int  # zero-based


def projects_pager(page: int, pages: int) -> InlineKeyboardMarkup | None:
    if pages <= 1:
        return None
    row = []
    if page > 0:
        row.append(
            InlineKeyboardButton(text="◀", callback_data=ProjectsPageCb(page=page - 1).pack())
        )
    row.append(
        InlineKeyboardButton(
            text=f"{page + 1}/{pages}", callback_data=ProjectsPageCb(page=page).pack()
        )
    )
    if page + 1 < pages:
        row.append(
            InlineKeyboardButton(text="▶", callback_data=ProjectsPageCb(page=page + 1).pack())
        )
    return InlineKeyboardMarkup(inline_keyboard=[row])
