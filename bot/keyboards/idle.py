"""Callbacks and keyboards of "📤 Declare idle" (赋闲工人提报).

Callback data carries opaque integers and short reference codes only; every handler asks the
core again whether the company may use the id. A worker toggle carries the target value
(`on`), never "flip", so a repeated tap has one effect.
Button texts are plain text (not HTML): they are formatted with str.format, never `tr`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.keyboards.common import cancel_button
from core.domain.money import format_money
from core.services.regions import RegionView
from core.services.workers import GradeCount, TradeCount, WorkerView

PICK_PAGE = 6  # workers per picker page: fits a phone screen with the buttons
BUTTON_NAME_LEN = 12


class IdleCountyCb(CallbackData, prefix="idlc"):
    code: int  # six-digit county code


class IdleCityCb(CallbackData, prefix="idly"):
    code: int  # six-digit city code; 0 = the list of cities


class IdleTradeCb(CallbackData, prefix="idlt"):
    code: str  # trade reference code


class IdleGradeCb(CallbackData, prefix="idlg"):
    level: int


class IdlePickCb(CallbackData, prefix="idlw"):
    worker_id: int
    on: bool  # the state the tap asks for
    offset: int  # the page the button sat on


class IdlePageCb(CallbackData, prefix="idlp"):
    offset: int


class IdleAllCb(CallbackData, prefix="idla"):
    offset: int  # select every worker of this page


class IdleDoneCb(CallbackData, prefix="idld"):
    pass


class IdlePriceCb(CallbackData, prefix="idlx"):
    action: str  # "keep": the price typed despite the warning; "guide": the guide price


class IdleContactCb(CallbackData, prefix="idln"):
    pass  # use the contact of the profile


class IdleSummaryCb(CallbackData, prefix="idls"):
    action: str  # "ok" | "workers" | "price" | "contact"


class IdleBackCb(CallbackData, prefix="idlb"):
    to: str  # "county" | "trade" | "grade"


def _rows(
    buttons: Sequence[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def _back(to: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=_("idle.back"), callback_data=IdleBackCb(to=to).pack())


def county_keyboard(counties: Sequence[RegionView], locale: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=c.name(locale), callback_data=IdleCountyCb(code=int(c.code)).pack()
        )
        for c in counties
    ]
    rows = _rows(buttons, 2)
    rows.append(
        [InlineKeyboardButton(text=_("idle.other_city"), callback_data=IdleCityCb(code=0).pack())]
    )
    rows.append([cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def cities_keyboard(cities: Sequence[RegionView], locale: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=c.name(locale), callback_data=IdleCityCb(code=int(c.code)).pack()
        )
        for c in cities
    ]
    rows = _rows(buttons, 3)
    rows.append([_back("county"), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def counties_of_city_keyboard(counties: Sequence[RegionView], locale: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=c.name(locale), callback_data=IdleCountyCb(code=int(c.code)).pack()
        )
        for c in counties
    ]
    rows = _rows(buttons, 3)
    rows.append(
        [
            InlineKeyboardButton(text=_("idle.back"), callback_data=IdleCityCb(code=0).pack()),
            cancel_button(),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def trade_keyboard(trades: Sequence[TradeCount], locale: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=f"{t.name(locale)} ({t.declarable})",
            callback_data=IdleTradeCb(code=t.trade_code).pack(),
        )
        for t in trades
    ]
    rows = _rows(buttons, 2)
    rows.append([_back("county"), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def grade_keyboard(grades: Sequence[GradeCount], locale: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            text=f"{g.name(locale)} ({g.at_or_above})",
            callback_data=IdleGradeCb(level=g.level).pack(),
        )
        for g in grades
        if g.at_or_above > 0
    ]
    rows = _rows(buttons, 3)
    rows.append([_back("trade"), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def picker_keyboard(
    workers: Sequence[WorkerView], selected: set[int], offset: int, total: int
) -> InlineKeyboardMarkup:
    buttons = []
    for number, w in enumerate(workers, start=offset + 1):
        chosen = w.id in selected
        mark = "✅" if chosen else "⬜"
        buttons.append(
            InlineKeyboardButton(
                text=f"{mark} {number}. {w.name[:BUTTON_NAME_LEN]}",
                callback_data=IdlePickCb(worker_id=w.id, on=not chosen, offset=offset).pack(),
            )
        )
    rows = _rows(buttons, 2)
    pages = max(1, -(-total // PICK_PAGE))
    page = offset // PICK_PAGE + 1
    if pages > 1:
        nav = []
        if offset > 0:
            nav.append(
                InlineKeyboardButton(
                    text="◀", callback_data=IdlePageCb(offset=max(0, offset - PICK_PAGE)).pack()
                )
            )
        nav.append(
            InlineKeyboardButton(
                text=f"{page}/{pages}", callback_data=IdlePageCb(offset=offset).pack()
            )
        )
        if offset + PICK_PAGE < total:
            nav.append(
                InlineKeyboardButton(
                    text="▶", callback_data=IdlePageCb(offset=offset + PICK_PAGE).pack()
                )
            )
        rows.append(nav)
    rows.append(
        [
            InlineKeyboardButton(
                text=_("idle.select_page"), callback_data=IdleAllCb(offset=offset).pack()
            ),
            InlineKeyboardButton(
                text=_("idle.done").format(count=len(selected)), callback_data=IdleDoneCb().pack()
            ),
        ]
    )
    rows.append([_back("grade"), cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def price_keyboard(guide: Decimal | None) -> InlineKeyboardMarkup:
    rows = []
    if guide is not None:
        rows.append(
            [
                InlineKeyboardButton(
                    text=_("idle.use_guide").format(price=format_money(guide)),
                    callback_data=IdlePriceCb(action="guide").pack(),
                )
            ]
        )
    rows.append([cancel_button()])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def price_warning_keyboard(price: Decimal) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("idle.keep_price").format(price=format_money(price)),
                    callback_data=IdlePriceCb(action="keep").pack(),
                )
            ],
            [cancel_button()],
        ]
    )


def contact_keyboard(name: str, phone: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=_("idle.use_contact").format(name=name, phone=phone),
                    callback_data=IdleContactCb().pack(),
                )
            ],
            [cancel_button()],
        ]
    )


def summary_keyboard() -> InlineKeyboardMarkup:
    def edit(key: str, action: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=_(key), callback_data=IdleSummaryCb(action=action).pack())

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [edit("idle.confirm", "ok")],
            [
                edit("idle.edit_workers", "workers"),
                edit("idle.edit_price", "price"),
                edit("idle.edit_contact", "contact"),
            ],
            [cancel_button()],
        ]
    )
