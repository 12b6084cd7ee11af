"""Pieces every dialog uses (aiogram-dialog 2.x): catalog texts, Back / Cancel, the steps that
recur (trade, grade, headcount, price), typed input that leaves menu buttons alone, and a
callback answered once.

Dialog data holds ids, numbers and short strings only (JSON in the FSM storage)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from operator import itemgetter
from typing import Any

from aiogram import Bot, F
from aiogram.enums import ContentType
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.manager.message_manager import MessageManager
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Group, Row, Select
from aiogram_dialog.widgets.kbd.select import OnItemClick
from aiogram_dialog.widgets.text import Format, Text

from bot.i18n import N_, render
from bot.keyboards.common import ALL_MENU_KEYS, MenuText, inline_cancel_keyboard, main_menu
from bot.render.postings import locale, money
from core.domain.money import format_money
from core.domain.values import MAX_MONTHLY_PRICE, MIN_MONTHLY_PRICE
from core.services.guide_prices import is_far_from_guide
from core.services.postings import GradeChoice, TradeChoice

HEADCOUNT_BUTTONS = (1, 2, 3, 4, 5, 6, 8, 10)
PRICES_WITHOUT_GUIDE = (4000, 5000, 6000, 7000, 8000, 9000)
PRICE_STEP = 500
BUTTON_LEN = 40  # long project names make unreadable buttons
ANY_GRADE = 0  # the 不限 button of the grade step
# national vocational levels beside the seed's grades (五级 = 初级工 … 一级 = 高级技师)
NATIONAL_GRADE = {
    1: N_("grade.national.1"),
    2: N_("grade.national.2"),
    3: N_("grade.national.3"),
    4: N_("grade.national.4"),
    5: N_("grade.national.5"),
}

OnClick = Callable[[CallbackQuery, Any, DialogManager], Awaitable[None]]
OnItem = OnItemClick[Any, Any]
OnMessage = Callable[[Message, Any, DialogManager], Awaitable[None]]


class Tr(Text):
    """A catalog message, its {fields} filled from the window's data (str values escaped
    unless wrapped in bot.i18n.Safe)."""

    def __init__(self, key: str, when: Any = None) -> None:
        super().__init__(when=when)
        self.key = key

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        return render(_(self.key), data)


# --- answering a callback once ------------------------------------------------------------

_answered: ContextVar[str | None] = ContextVar("dialog_callback_answered", default=None)


async def toast(callback: CallbackQuery, text: str, *, alert: bool = False) -> None:
    """Answer the tap with a short text; aiogram-dialog then skips its own empty answer."""
    _answered.set(callback.id)
    await callback.answer(text, show_alert=alert)


class AnswerOnceMessageManager(MessageManager):
    """aiogram-dialog answers every processed tap; not again when a handler gave a toast."""

    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        if _answered.get() == callback_query.id:
            return
        await super().answer_callback(bot, callback_query)


# --- Back, Cancel, typed input ------------------------------------------------------------


async def cancel_dialog(callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    """Leave the whole dialog: its keyboard goes away, the menu comes back."""
    await manager.done()
    await toast(callback, _("common.cancelled"))
    account = manager.middleware_data.get("account")
    if account is not None and callback.bot is not None:
        await callback.bot.send_message(
            callback.from_user.id,
            _("common.cancelled"),
            reply_markup=main_menu(account.role, admin=account.is_admin),
        )


def cancel_button() -> Button:
    return Button(Tr("common.cancel"), id="cancel", on_click=cancel_dialog)


def nav_row(on_back: OnClick | None, *, back_when: Any = None) -> Row:
    """⬅️ Back (when given and `back_when` holds) and ❌ Cancel."""
    buttons = []
    if on_back is not None:
        buttons.append(Button(Tr("shortage.back"), id="back", on_click=on_back, when=back_when))
    return Row(*buttons, cancel_button())


async def _button_expected(message: Message, _widget: Any, manager: DialogManager) -> None:
    manager.show_mode = ShowMode.NO_UPDATE  # the step's buttons stay where they are
    await message.answer(_("fallback.in_step"), reply_markup=inline_cancel_keyboard())


def typed(on_text: OnMessage, need_text_key: str) -> tuple[MessageInput, MessageInput]:
    """Typed text goes to `on_text`; a sticker or photo is told what is due. A menu button's
    text is not taken: it falls through to its feature (the dialogs router comes last)."""

    async def not_text(message: Message, _widget: Any, manager: DialogManager) -> None:
        manager.show_mode = ShowMode.NO_UPDATE
        await message.answer(_(need_text_key))

    return (
        MessageInput(on_text, content_types=ContentType.TEXT, filter=~MenuText(*ALL_MENU_KEYS)),
        MessageInput(not_text, filter=~F.text),
    )


def buttons_only() -> MessageInput:
    """Where a tap is due, typed text gets a reminder with Cancel."""
    return MessageInput(_button_expected, filter=~MenuText(*ALL_MENU_KEYS))


def show_error(manager: DialogManager, text: str) -> None:
    """Put a validation message above the step's prompt (shown once, see pop_error)."""
    manager.dialog_data["error"] = text


def pop_error(manager: DialogManager) -> str:
    return str(manager.dialog_data.pop("error", "") or "")


# --- trade and grade ----------------------------------------------------------------------


def trade_items(trades: Sequence[TradeChoice], *, more: bool) -> dict[str, Any]:
    """Getter data of the trade step: the nine guided trades, or (more) the others."""
    loc = locale()
    shown = [(t.code, t.name(loc)) for t in trades if t.guided != more]
    toggle = ""
    if any(not t.guided for t in trades):
        toggle = _("shortage.fewer_trades") if more else _("shortage.more_trades")
    return {"trades": shown, "trade_toggle": toggle}


def trade_keyboard(on_trade: OnItem, on_toggle: OnClick) -> Group:
    return Group(
        Group(
            Select(
                Format("{item[1]}"),
                id="trade",
                item_id_getter=itemgetter(0),
                items="trades",
                on_click=on_trade,
            ),
            width=3,
        ),
        Button(Format("{trade_toggle}"), id="more", on_click=on_toggle, when="trade_toggle"),
    )


def grade_label(grade: GradeChoice) -> str:
    """ "三级 高级工": the seed's grade with the national level people also use."""
    return f"{grade.name(locale())} {_(NATIONAL_GRADE[grade.level])}".strip()


def grade_items(grades: Sequence[GradeChoice], *, with_any: bool) -> list[tuple[int, str]]:
    items = [(g.level, grade_label(g)) for g in grades]
    if with_any:
        items.append((ANY_GRADE, _("grade.any")))
    return items


def grade_keyboard(on_grade: OnItem) -> Group:
    return Group(
        Select(
            Format("{item[1]}"),
            id="grade",
            item_id_getter=itemgetter(0),
            items="grades",
            type_factory=int,
            on_click=on_grade,
        ),
        width=2,
    )


# --- headcount and price ------------------------------------------------------------------


def headcount_keyboard(on_count: OnItem, on_type: OnClick) -> Group:
    return Group(
        Select(
            Format("{item}"),
            id="n",
            item_id_getter=str,
            items=lambda _data: HEADCOUNT_BUTTONS,
            type_factory=int,
            on_click=on_count,
        ),
        Button(Tr("shortage.other_number"), id="ntype", on_click=on_type),
        width=3,
    )


def price_options(guide: Decimal | None) -> list[Decimal]:
    """Round prices around the guide (none more than the warning limit off it), or common
    ones when the city has no guide price for this trade and grade."""
    if guide is None:
        return [Decimal(p) for p in PRICES_WITHOUT_GUIDE]
    base = (guide / PRICE_STEP).to_integral_value() * PRICE_STEP
    options = []
    for step in (-1, 0, 1, 2):
        value = Decimal(base + step * PRICE_STEP)
        if (
            value != guide
            and MIN_MONTHLY_PRICE <= value <= MAX_MONTHLY_PRICE
            and not is_far_from_guide(value, guide)
        ):
            options.append(value)
    return options


def price_items(guide: Decimal | None) -> dict[str, Any]:
    """Getter data of a price step: the guide price on a row of its own, then the others."""
    guided = [(str(guide), _("shortage.guide_button").format(price=money(guide)))] if guide else []
    return {
        "guide_prices": guided,
        "prices": [(str(p), format_money(p)) for p in price_options(guide)],
    }


def price_keyboard(on_price: OnItem, on_type: OnClick) -> Group:
    return Group(
        Select(
            Format("{item[1]}"),
            id="guide",
            item_id_getter=itemgetter(0),
            items="guide_prices",
            on_click=on_price,
        ),
        Group(
            Select(
                Format("{item[1]}"),
                id="price",
                item_id_getter=itemgetter(0),
                items="prices",
                on_click=on_price,
            ),
            width=3,
        ),
        Button(Tr("shortage.other_price"), id="ptype", on_click=on_type),
    )
