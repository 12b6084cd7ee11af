"""Main-menu buttons (their texts are msgids, defined here once), the per-role reply menus,
and the `MenuText` filter that matches a button's text in any language."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from aiogram.filters import BaseFilter
from aiogram.types import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.callbacks import CancelCb
from bot.i18n import N_
from core.domain.enums import Role
from core.services.accounts import AccountView

B = TypeVar("B", KeyboardButton, InlineKeyboardButton)

# --- button keys (msgids). Feature routers match them with MenuText(KEY). ---------------------
POST_SHORTAGE = N_("menu.post_shortage")
MY_POSTINGS = N_("menu.my_postings")
SEARCH = N_("menu.search")
DEALS = N_("menu.deals")
RATE_WORKERS = N_("menu.rate_workers")
SETTINGS = N_("menu.settings")
PROJECTS = N_("menu.projects")
WORKERS = N_("menu.workers")
DECLARE_IDLE = N_("menu.declare_idle")
INVITE_FOREMAN = N_("menu.invite_foreman")
SUMMARY = N_("menu.summary")
STATISTICS = N_("menu.statistics")
SHORTAGES = N_("menu.shortages")
DEAL_RECORDS = N_("menu.deal_records")
RATINGS = N_("menu.ratings")
GUIDE_PRICES = N_("menu.guide_prices")
GRADING = N_("menu.grading")
ESCALATIONS = N_("menu.escalations")
COMPANY_ADMIN = N_("menu.company_admin")  # a company admin's (dispatcher with admin rights)
ARREARS = N_("menu.arrears")
ON_SITE = N_("menu.onsite")

CANCEL = N_("common.cancel")
SHARE_PHONE = N_("start.share_phone")

ROLE_MENUS: dict[Role, tuple[str, ...]] = {
    Role.FOREMAN: (POST_SHORTAGE, MY_POSTINGS, SEARCH, DEALS, RATE_WORKERS, SETTINGS),
    Role.DISPATCHER: (
        PROJECTS,
        WORKERS,
        DECLARE_IDLE,
        MY_POSTINGS,
        SEARCH,
        DEALS,
        INVITE_FOREMAN,
        SETTINGS,
    ),
    Role.REGULATOR: (
        SUMMARY,
        STATISTICS,
        SHORTAGES,
        DEAL_RECORDS,
        RATINGS,
        GUIDE_PRICES,
        GRADING,
        ESCALATIONS,
        ARREARS,
        ON_SITE,
        SETTINGS,
    ),
}
# the admin works from the CLI; in the bot it sees the market like the province bureau
ROLE_MENUS[Role.ADMIN] = ROLE_MENUS[Role.REGULATOR]

ALL_MENU_KEYS: tuple[str, ...] = tuple(
    dict.fromkeys([*(k for keys in ROLE_MENUS.values() for k in keys), COMPANY_ADMIN])
)


def menu_button(key: str) -> str:
    """The button text of `key` in the current user's language."""
    return _(key)


def button_texts(i18n: I18n, keys: Iterable[str]) -> dict[str, str]:
    """Every language's text of these buttons → the key (what a tap sends back)."""
    return {i18n.gettext(key, locale=loc): key for loc in i18n.available_locales for key in keys}


class MenuText(BaseFilter):
    """Matches a message whose text is one of these buttons in any language; passes the
    matched key to the handler as `menu_key`."""

    def __init__(self, *keys: str) -> None:
        if not keys:
            raise ValueError("MenuText needs at least one key")
        self.keys = keys

    async def __call__(self, message: Message, i18n: I18n) -> bool | dict[str, Any]:
        if not message.text:
            return False
        key = button_texts(i18n, self.keys).get(message.text.strip())
        return {"menu_key": key} if key else False


def rows(buttons: Sequence[B], per_row: int = 2) -> list[list[B]]:
    """Buttons (reply or inline) `per_row` a row."""
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def checked(chosen: bool, text: str) -> str:
    """The current choice among its siblings is ticked."""
    return f"✅ {text}" if chosen else text


def menu_keys(
    role: Role, *, admin: bool = False, posts_shortages: bool = False
) -> tuple[str, ...]:
    """The role's menu entries; a company admin's also has 🏢 公司管理 before the settings, a
    contractor's dispatcher 📝 发布缺工 before 📋 我的发布."""
    keys = list(ROLE_MENUS[role])
    if role is Role.DISPATCHER:
        if posts_shortages:
            keys.insert(keys.index(MY_POSTINGS), POST_SHORTAGE)
        if admin:
            keys.insert(keys.index(SETTINGS), COMPANY_ADMIN)
    return tuple(keys)


def main_menu(
    role: Role, *, admin: bool = False, posts_shortages: bool = False
) -> ReplyKeyboardMarkup:
    """The role's reply-keyboard menu: big buttons, two per row."""
    keys = menu_keys(role, admin=admin, posts_shortages=posts_shortages)
    buttons = [KeyboardButton(text=menu_button(key)) for key in keys]
    return ReplyKeyboardMarkup(keyboard=rows(buttons), resize_keyboard=True, is_persistent=True)


def account_menu(account: AccountView) -> ReplyKeyboardMarkup:
    """This account's menu: its role's, with what its company's kind and admin rights add."""
    return main_menu(account.role, admin=account.is_admin, posts_shortages=account.posts_shortages)


def cancel_keyboard() -> ReplyKeyboardMarkup:
    """Shown while a step waits for typed input: the only button is Cancel."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=menu_button(CANCEL))]], resize_keyboard=True
    )


def phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=menu_button(SHARE_PHONE), request_contact=True)],
            [KeyboardButton(text=menu_button(CANCEL))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def cancel_button() -> InlineKeyboardButton:
    return InlineKeyboardButton(text=menu_button(CANCEL), callback_data=CancelCb().pack())


def inline_cancel_keyboard() -> InlineKeyboardMarkup:
    """Cancel under a reminder or a typed-input prompt of a flow that goes on with inline
    buttons: unlike cancel_keyboard() it leaves the reply menu in place, which nothing would
    restore when the flow ends with a tap."""
    return InlineKeyboardMarkup(inline_keyboard=[[cancel_button()]])


def inline_rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int = 1, *, cancel: bool = True
) -> InlineKeyboardMarkup:
    """Inline buttons in rows, with the Cancel button last when asked."""
    grid = rows(buttons, per_row)
    if cancel:
        grid.append([cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=grid)
