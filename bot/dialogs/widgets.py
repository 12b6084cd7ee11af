"""Pieces every dialog uses (aiogram-dialog 2.x): catalog texts, Back / Cancel, typed input
that leaves menu buttons alone, a callback answered once, the order of a form's steps, and
the steps that recur: trade, grade (with 不限), headcount, monthly price (with the city's
guide price), contact, region (a county) and a worker multi-select.

Dialog data holds ids, numbers and short strings only (JSON in the FSM storage)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextvars import ContextVar
from decimal import Decimal
from operator import itemgetter
from typing import Any

from aiogram import Bot, F
from aiogram.enums import ContentType
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode, StartMode, Window
from aiogram_dialog.api.entities import NewMessage
from aiogram_dialog.api.internal import RawKeyboard
from aiogram_dialog.manager.message_manager import MessageManager
from aiogram_dialog.utils import intent_callback_data
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import (
    Button,
    Column,
    Group,
    Keyboard,
    Multiselect,
    Row,
    Select,
    SwitchTo,
)
from aiogram_dialog.widgets.kbd.select import OnItemClick
from aiogram_dialog.widgets.markup.inline_keyboard import InlineKeyboardFactory
from aiogram_dialog.widgets.text import Const, Format, Text

from bot.i18n import N_, Safe, render, tr
from bot.keyboards.common import ALL_MENU_KEYS, MenuText, account_menu, inline_cancel_keyboard
from bot.keyboards.workers import WorkersCb
from bot.render.errors import error_text
from bot.render.postings import deviation_line, grade_name, guide_line, locale, money
from core.db.uow import UnitOfWork
from core.domain.contact import Contact, own_contact, parse_contact, split_contact
from core.domain.enums import RegionLevel
from core.domain.errors import DomainError, ValidationError
from core.domain.money import format_money
from core.domain.rules import may_declare_idle
from core.domain.values import (
    MAX_MONTHLY_PRICE,
    MIN_MONTHLY_PRICE,
    parse_headcount,
    parse_mobile,
    parse_price,
)
from core.services import postings, regions, workers
from core.services.accounts import AccountView
from core.services.guide_prices import is_far_from_guide
from core.services.paging import MAX_PAGE_SIZE, Direction, Page
from core.services.postings import GradeChoice, TradeChoice
from core.services.workers import WorkerSlice

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
Save = Callable[[DialogManager, Any], Awaitable[None]]
TYPING = F["typing"]
CHOOSING = ~F["typing"]
ERROR = Format("{error}", when="error")


class Tr(Text):
    """A catalog message, its {fields} filled from the window's data (str values escaped
    unless wrapped in bot.i18n.Safe)."""

    def __init__(self, key: str, when: Any = None) -> None:
        super().__init__(when=when)
        self.key = key

    async def _render_text(self, data: dict[str, Any], manager: DialogManager) -> str:
        return render(_(self.key), data)


def uow_of(manager: DialogManager) -> UnitOfWork:
    uow: UnitOfWork = manager.middleware_data["uow"]
    return uow


def account_of(manager: DialogManager) -> AccountView:
    account: AccountView = manager.middleware_data["account"]
    return account


def choice(
    widget_id: str,
    items: str,
    on_click: Any,
    *,
    width: int = 2,
    type_factory: Any = str,
    when: Any = None,
) -> Group:
    """Buttons of the getter's `items` ([(id, label), …]), `width` a row."""
    select: Select[Any] = Select(
        Format("{item[1]}"),
        id=widget_id,
        item_id_getter=itemgetter(0),
        items=items,
        type_factory=type_factory,
        on_click=on_click,
    )
    return Group(select, width=width, when=when)


# --- answering a callback once ------------------------------------------------------------

_answered: ContextVar[str | None] = ContextVar("dialog_callback_answered", default=None)


async def toast(callback: CallbackQuery, text: str, *, alert: bool = False) -> None:
    """Answer the tap with a short text; aiogram-dialog then skips its own empty answer."""
    _answered.set(callback.id)
    await callback.answer(text, show_alert=alert)


_below: ContextVar[bool] = ContextVar("dialog_opened_below", default=False)


class AnswerOnceMessageManager(MessageManager):
    """aiogram-dialog answers every processed tap; not again when a handler gave a toast.
    A dialog opened below a notification (`start_below`) leaves that message as it was."""

    async def answer_callback(self, bot: Bot, callback_query: CallbackQuery) -> None:
        if _answered.get() == callback_query.id:
            return
        await super().answer_callback(bot, callback_query)

    async def show_message(self, bot: Bot, new_message: NewMessage, old_message: Any) -> Any:
        if _below.get():
            old_message = None  # not the tapped message: it is not the dialog's
        return await super().show_message(bot, new_message, old_message)


async def start_below(manager: DialogManager, state: State, data: dict[str, Any]) -> None:
    """Open a dialog as a new message under a notification or card, whose text and buttons
    stay readable and live (the tapped message is not the dialog's to edit or strip)."""
    token = _below.set(True)
    try:
        await manager.start(state, mode=StartMode.RESET_STACK, data=data, show_mode=ShowMode.SEND)
    finally:
        _below.reset(token)


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
            reply_markup=account_menu(account),
        )


def cancel_button() -> Button:
    return Button(Tr("common.cancel"), id="cancel", on_click=cancel_dialog)


def with_cancel(*buttons: Keyboard) -> Row:
    """A step's last row: its own way back, then ❌ Cancel."""
    return Row(*buttons, cancel_button())


def nav_row(on_back: OnClick | None, *, back_when: Any = None) -> Row:
    """⬅️ Back (when given and `back_when` holds) and ❌ Cancel."""
    if on_back is None:
        return with_cancel()
    return with_cancel(Button(Tr("shortage.back"), id="back", on_click=on_back, when=back_when))


def back_to(key: str, state: State, widget_id: str = "back", on_click: Any = None) -> Row:
    """A button back to another window of the dialog, and ❌ Cancel."""
    return with_cancel(SwitchTo(Tr(key), id=widget_id, state=state, on_click=on_click))


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


Parse = Callable[[Any, DialogManager], Any]


def read(parse: Parse, save: Save) -> OnMessage:
    """Typed text through a core parser (`parse(text, manager)`): the value is saved, or the
    parser's reason shown above the same question."""

    async def on_text(message: Message, _widget: Any, manager: DialogManager) -> None:
        try:
            value = parse(message.text or "", manager)
        except ValidationError as exc:
            show_error(manager, error_text(exc))
            return
        await save(manager, value)

    return on_text


def tap(parse: Parse, save: Save) -> OnItem:
    """A tapped value through the same parser as typed text: one it refuses is an old or
    forged button."""

    async def on_tap(
        callback: CallbackQuery, _widget: Any, manager: DialogManager, raw: Any
    ) -> None:
        try:
            value = parse(raw, manager)
        except ValidationError:
            await toast(callback, _("common.stale"))
            return
        await save(manager, value)

    return on_tap


def buttons_only() -> MessageInput:
    """Where a tap is due, typed text gets a reminder with Cancel."""
    return MessageInput(_button_expected, filter=~MenuText(*ALL_MENU_KEYS))


def step(
    state: State,
    getter: Any,
    *widgets: Any,
    on_text: OnMessage | None = None,
    need: str = N_("shortage.need_text"),
    **window: Any,
) -> Window:
    """A dialog window: the pending error above its texts and buttons; typed text goes to
    `on_text` (`need` says what a sticker or photo is not), else a tap is due."""
    inputs = typed(on_text, need) if on_text is not None else (buttons_only(),)
    return Window(ERROR, *widgets, *inputs, getter=getter, state=state, **window)


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


def trade_keyboard(on_trade: OnItem, on_toggle: OnClick | None = None) -> Group:
    """The trades of the getter's "trades"; with `on_toggle`, its "trade_toggle" button."""
    toggle = Button(Format("{trade_toggle}"), id="more", on_click=on_toggle, when="trade_toggle")
    return Group(
        choice("trade", "trades", on_trade, width=3), *([toggle] if on_toggle is not None else [])
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
    return choice("grade", "grades", on_grade, type_factory=int)


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
        choice("guide", "guide_prices", on_price, width=1),
        choice("price", "prices", on_price, width=3),
        Button(Tr("shortage.other_price"), id="ptype", on_click=on_type),
    )


# --- the order of a form's steps ----------------------------------------------------------


async def start_typing(_callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
    """ "Other number / price / contact": the step already takes typed text; the prompt says so."""
    manager.dialog_data["typing"] = True


async def step_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    """The dialog-wide getter part of a form: the pending error and whether text is due."""
    return {
        "error": pop_error(dialog_manager),
        "typing": bool(dialog_manager.dialog_data.get("typing")),
    }


class StepOrder:
    """A form's steps in order, the summary last. A finished step goes on to the next one, or
    back to the summary when the user came from its ✏️ Edit; ⬅️ Back goes one step back.
    `substeps` maps a step's follow-up window (a price confirmation, a phone after a name) to
    the step it belongs to."""

    def __init__(self, *order: State, substeps: dict[State, State] | None = None) -> None:
        self.order = order
        self.substeps = substeps or {}

    def _step(self, manager: DialogManager) -> State:
        state = manager.current_context().state
        return self.substeps.get(state, state)

    async def after(self, manager: DialogManager) -> None:
        manager.dialog_data["typing"] = False
        if manager.dialog_data.get("editing"):
            await manager.switch_to(self.order[-1])
            return
        following = self.order[self.order.index(self._step(manager)) + 1]
        if following is self.order[-1]:
            manager.dialog_data["editing"] = False
        await manager.switch_to(following)

    async def back(self, _callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        manager.dialog_data["typing"] = False
        if manager.dialog_data.get("editing"):
            await manager.switch_to(self.order[-1])
            return
        await manager.switch_to(self.order[max(self.order.index(self._step(manager)) - 1, 0)])

    def saving(self, *keys: str) -> Save:
        """A step's value kept under its key (a Contact's name and phone under two), then on
        to the step after it."""

        async def save(manager: DialogManager, value: Any) -> None:
            values = (value.name, value.phone) if isinstance(value, Contact) else (value,)
            manager.dialog_data.update(zip(keys, values, strict=True))
            await self.after(manager)

        return save

    async def edit(self, manager: DialogManager, step: State) -> None:
        """From the summary to one step; done, it comes back to the summary."""
        manager.dialog_data["editing"] = True
        await manager.switch_to(step)


# --- grade and headcount steps ------------------------------------------------------------


async def grade_level(manager: DialogManager, level: int) -> int | None:
    """A tapped grade as stored: 不限 is the lowest grade (every worker qualifies); None for a
    level the reference data does not have (an old or forged button)."""
    levels = [g.level for g in await postings.list_grades(uow_of(manager))]
    if level == ANY_GRADE:
        return max(levels)
    return level if level in levels else None


def on_grade(save: Save) -> OnItem:
    async def chosen(
        callback: CallbackQuery, _widget: Any, manager: DialogManager, level: int
    ) -> None:
        found = await grade_level(manager, level)
        if found is None:
            await toast(callback, _("common.stale"))
            return
        await save(manager, found)

    return chosen


def headcount_window(
    state: State, save: Save, *, ask: str, type_: str, nav: Any, getter: Any
) -> Window:
    """How many: the common numbers as buttons, or typed (1–MAX_HEADCOUNT, 五 and 十二 too)."""

    async def chosen(
        _callback: CallbackQuery, _widget: Any, manager: DialogManager, count: int
    ) -> None:
        await save(manager, parse_headcount(count))

    async def typed_count(message: Message, _widget: Any, manager: DialogManager) -> None:
        try:
            count = parse_headcount(message.text or "")
        except ValidationError as exc:
            # the reason above the same question, its buttons back
            show_error(manager, error_text(exc))
            manager.dialog_data["typing"] = False
            return
        await save(manager, count)

    return Window(
        ERROR,
        Tr(ask, when=CHOOSING),
        Tr(type_, when=TYPING),
        Group(headcount_keyboard(chosen, start_typing), when=CHOOSING),
        nav,
        *typed(typed_count, N_("shortage.need_number")),
        getter=getter,
        state=state,
    )


# --- the monthly price step ---------------------------------------------------------------

PriceContext = Callable[[DialogManager], Awaitable[tuple[dict[str, Any], Decimal | None, str]]]
PENDING_PRICE = "pending_price"


class PriceStep:
    """A monthly price per worker: the city's guide price and round prices near it as
    buttons, or typed ("5,500元"). One far from the guide asks "keep it?" first.
    `context` gives the prompt's fields (trade, grade, headcount), the guide price and the
    city's name; `save` gets the price as a string ("5500.00")."""

    def __init__(
        self,
        ask: State,
        confirm: State,
        context: PriceContext,
        save: Save,
        *,
        texts: tuple[str, str] = (N_("shortage.ask_price"), N_("shortage.type_price")),
    ) -> None:
        self.ask, self.confirm = ask, confirm
        self.context, self.save = context, save
        self.ask_text, self.type_text = texts  # the prompt with the buttons, then to type

    async def _take(self, manager: DialogManager, raw: str) -> None:
        price = parse_price(raw)
        _fields, guide, _city = await self.context(manager)
        if is_far_from_guide(price, guide):
            manager.dialog_data[PENDING_PRICE] = str(price)
            await manager.switch_to(self.confirm)
            return
        manager.dialog_data[PENDING_PRICE] = None
        await self.save(manager, str(price))

    async def chosen(
        self, _callback: CallbackQuery, _widget: Any, manager: DialogManager, value: str
    ) -> None:
        await self._take(manager, value)

    async def typed(self, message: Message, _widget: Any, manager: DialogManager) -> None:
        try:
            await self._take(manager, message.text or "")
        except ValidationError as exc:
            show_error(manager, error_text(exc))
            manager.dialog_data.update(typing=True, **{PENDING_PRICE: None})
            await manager.switch_to(self.ask)

    async def kept(self, callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        pending = manager.dialog_data.get(PENDING_PRICE)
        if not isinstance(pending, str):
            await toast(callback, _("common.stale"))
            return
        manager.dialog_data[PENDING_PRICE] = None
        await self.save(manager, pending)

    async def reenter(
        self, _callback: CallbackQuery, _button: Any, manager: DialogManager
    ) -> None:
        manager.dialog_data[PENDING_PRICE] = None
        await manager.switch_to(self.ask)

    async def getter(self, dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        fields, guide, city = await self.context(dialog_manager)
        line = guide_line(guide, city, str(fields.get("trade", "")), str(fields.get("grade", "")))
        pending = dialog_manager.dialog_data.get(PENDING_PRICE)
        far = ""
        if pending:
            far = tr(
                "shortage.price_far",
                price=money(Decimal(pending)),
                warning=Safe(deviation_line(Decimal(pending), guide)),
            )
        return {**fields, "guide": Safe(line), "far": Safe(far), **price_items(guide)}

    def windows(self, nav: Any, confirm_nav: Any = None) -> tuple[Window, Window]:
        need = N_("shortage.need_number")
        return (
            step(
                self.ask,
                self.getter,
                Tr(self.ask_text, when=CHOOSING),
                Tr(self.type_text, when=TYPING),
                Group(price_keyboard(self.chosen, start_typing), when=CHOOSING),
                nav,
                on_text=self.typed,
                need=need,
            ),
            Window(
                Format("{far}"),
                Row(
                    Button(Tr("shortage.keep_price"), id="keep", on_click=self.kept),
                    Button(Tr("shortage.reenter"), id="reenter", on_click=self.reenter),
                ),
                confirm_nav or with_cancel(),
                *typed(self.typed, need),
                getter=self.getter,
                state=self.confirm,
            ),
        )


# --- the contact step ---------------------------------------------------------------------

TYPED_NAME = "contact_typed_name"


def profile_contact(manager: DialogManager) -> Contact | None:
    account = manager.middleware_data.get("account")
    return None if account is None else own_contact(account.display_name, account.phone)


class ContactStep:
    """The posting's contact: the profile's name and phone with one tap, or typed. Typed text
    is read by core.domain.contact (name and phone in either order, with or without a space,
    the phone's groups split by spaces or dashes); a name alone asks for the phone next.
    `save` gets a Contact."""

    def __init__(self, ask: State, phone: State, save: Save) -> None:
        self.ask, self.phone, self.save = ask, phone, save

    async def from_profile(
        self, callback: CallbackQuery, _button: Any, manager: DialogManager
    ) -> None:
        profile = profile_contact(manager)
        if profile is None:
            await toast(callback, _("common.stale"))
            return
        await self.save(manager, profile)

    async def name_typed(self, message: Message, _widget: Any, manager: DialogManager) -> None:
        manager.dialog_data["typing"] = True
        try:
            parts = split_contact(message.text)
            own = profile_contact(manager)
            contact = parse_contact(message.text, own=own) if parts.phone is not None else None
        except ValidationError as exc:
            show_error(manager, error_text(exc))
            return
        if contact is not None:
            await self.save(manager, contact)
            return
        manager.dialog_data[TYPED_NAME] = parts.name
        await manager.switch_to(self.phone)

    async def _phone_saved(self, manager: DialogManager, phone: str) -> None:
        await self.save(manager, Contact(str(manager.dialog_data.get(TYPED_NAME, "")), phone))

    async def getter(self, dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        profile = profile_contact(dialog_manager)
        return {
            "prefilled": profile is not None,
            "name": profile.name if profile else "",
            "phone": profile.phone if profile else "",
        }

    def windows(self, nav: Any) -> tuple[Window, Window]:
        need = N_("shortage.need_text")
        prefilled = F["prefilled"]
        return (
            Window(
                ERROR,
                Tr("shortage.ask_contact", when=CHOOSING & prefilled),
                Tr("shortage.type_contact_name", when=TYPING | ~prefilled),
                Button(
                    Tr("shortage.use_contact"),
                    id="me",
                    on_click=self.from_profile,
                    when=CHOOSING & prefilled,
                ),
                Button(
                    Tr("shortage.other_contact"), id="other", on_click=start_typing, when=CHOOSING
                ),
                nav,
                *typed(self.name_typed, need),
                getter=self.getter,
                state=self.ask,
            ),
            Window(
                ERROR,
                Tr("shortage.type_contact_phone"),
                nav,
                *typed(read(lambda text, _m: parse_mobile(text), self._phone_saved), need),
                getter=self._phone_getter,
                state=self.phone,
            ),
        )

    async def _phone_getter(self, dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        return {"name": str(dialog_manager.dialog_data.get(TYPED_NAME, ""))}


# --- a region: a city, then one of its counties ---------------------------------------------

SaveRegion = Callable[[DialogManager, str], Awaitable[None]]
ALL_CITIES = "all"  # the city key of a picker with `home`: the cities, not the company's counties


class RegionPicker:
    """A region in one window: the cities, then the counties of the tapped one (🏙 换个市 back).
    `asks` are the prompts of the cities and of a city's counties ({city}); with `home`, the
    company's own counties come first under that prompt, 🗺 other city leading to the rest;
    `whole` (a filter) adds 全省 among the cities and "all of the city" among its counties.
    `save(manager, code)` gets a county (else a city, or "" for all of Shanxi); a code the
    reference data lacks, or a county of another city than the one shown, is stale. The city
    shown lives in dialog data (`city_key`)."""

    def __init__(
        self,
        widget_id: str,
        save: SaveRegion,
        *,
        asks: tuple[str, str],
        state: State | None = None,
        home: str | None = None,
        whole: bool = False,
        up: str = N_("search.btn_other_city"),
    ) -> None:
        self.id, self.save, self.asks, self.state = widget_id, save, asks, state
        self.home, self.whole, self.up = home, whole, up
        self.city_key = f"{widget_id}_city"

    async def _picked(
        self, callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
    ) -> None:
        level: RegionLevel | None = None
        parent: str | None = None
        try:
            region = await regions.get_region(uow_of(manager), code)
            level, parent = region.level, region.parent_code
        except DomainError:
            pass  # an unknown code: stale below
        shown = manager.dialog_data.get(self.city_key)
        # a county shown is one of the city's, or (home) one of the company's, in any city
        listed = parent == shown or (self.home is not None and shown is None)
        if level is RegionLevel.CITY and shown in (None, ALL_CITIES):
            manager.dialog_data[self.city_key] = code  # its counties next
        elif (level is RegionLevel.CITY and self.whole and shown == code) or (
            level is RegionLevel.COUNTY and listed
        ):
            await self._save(manager, code)
        else:
            await toast(callback, _("common.stale"))

    async def _save(self, manager: DialogManager, code: str) -> None:
        manager.dialog_data.pop(self.city_key, None)
        await self.save(manager, code)  # a rule it breaks is answered by bot.handlers.errors

    async def _any(self, _callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        await self._save(manager, "")

    async def _up(self, _callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        """From a city to the cities; with `home`, between the company's counties and cities."""
        wider = self.home is not None and manager.dialog_data.get(self.city_key) != ALL_CITIES
        manager.dialog_data[self.city_key] = ALL_CITIES if wider else None

    async def getter(self, dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        uow, loc = uow_of(dialog_manager), locale()
        shown = dialog_manager.dialog_data.get(self.city_key)
        first: list[tuple[str, str]] = []
        if shown is None and self.home:
            found = await regions.company_counties(uow, account_of(dialog_manager).actor())
            prompt, up = _(self.home), _("idle.other_city")
        elif shown in (None, ALL_CITIES):
            found = await regions.children(uow, regions.PROVINCE_CODE)
            prompt, up = _(self.asks[0]), _("idle.back") if self.home else ""
        else:
            city = await regions.get_region(uow, str(shown))
            found = await regions.children(uow, city.code)
            prompt, up = tr(self.asks[1], city=city.name(loc)), _(self.up)
            if self.whole:
                first = [(city.code, _("search.all_of_city").format(city=city.name(loc)))]
        return {
            "region_prompt": prompt,
            "region_items": first + [(r.code, r.name(loc)) for r in found],
            "region_up": up,
            "region_any": self.whole and shown is None,
        }

    def keyboard(self) -> Group:
        return Group(
            Button(Tr("search.any_region"), id=f"{self.id}_any", on_click=self._any,
                   when="region_any"),
            choice(self.id, "region_items", self._picked, width=3),
            Button(Format("{region_up}"), id=f"{self.id}_up", on_click=self._up,
                   when="region_up"),
        )  # fmt: skip

    def window(self, nav: Any) -> Window:
        assert self.state is not None, "a picker with its own window names its state"
        return Window(
            Format("{region_prompt}"),
            self.keyboard(),
            nav,
            buttons_only(),
            getter=self.getter,
            state=self.state,
        )


class RegionStep(RegionPicker):
    """A county for a posting: the company's own counties first (`ask`), or 🗺 another city."""

    def __init__(self, state: State, save: SaveRegion, *, ask: str) -> None:
        asks = (N_("idle.ask_city"), N_("idle.ask_county_of"))
        super().__init__("region", save, asks=asks, state=state, home=ask, up=N_("idle.back"))


REGION_CITY = "region_city"  # RegionStep's city key: paste opens it on the city a post named


class RegionFilter(RegionPicker):
    """A region to narrow by: 全省, a city ("all of the city") or one of its counties."""

    def __init__(self, widget_id: str, save: SaveRegion) -> None:
        asks = (N_("search.pick_city"), N_("search.pick_county"))
        super().__init__(widget_id, save, asks=asks, whole=True)


# --- picking workers ----------------------------------------------------------------------

PICK_PAGE = 6  # workers per page: the list and its buttons fit a phone screen
BUTTON_NAME_LEN = 12
LoadWorkers = Callable[[DialogManager, int, int], Awaitable[WorkerSlice]]
MayPick = Callable[[DialogManager, int], Awaitable[str | None]]


class _GuardedMultiselect(Multiselect[str]):
    """A Multiselect that asks before ticking: callback data comes from the client."""

    def __init__(
        self, guard: Callable[[CallbackQuery, DialogManager, str], Awaitable[bool]], **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.guard = guard

    async def _on_click(
        self, callback: CallbackQuery, select: Any, manager: DialogManager, item_id: str
    ) -> None:
        if self.is_checked(item_id, manager) or await self.guard(callback, manager, item_id):
            await super()._on_click(callback, select, manager, item_id)


class WorkerPicker:
    """Which workers: a numbered page of them (name, masked ID, grade, rating) with a ✅/⬜
    button each, ◀ ▶ between pages, ☑️ select all / clear, ✔️ Done (n). The ticks are ids in
    the widget's data, kept across pages. `load(manager, offset, limit)` gives a page of the
    workers that may be picked; `refusal(manager, worker_id)` the error key why one may not
    (a forged or outdated button), else None; `done(manager, ids)` takes the pick."""

    def __init__(self, widget_id: str, load: LoadWorkers, refusal: MayPick, done: Save) -> None:
        self.id, self.load, self.refusal, self.done_with = widget_id, load, refusal, done
        self.offset_key = f"{widget_id}_offset"
        self.select = _GuardedMultiselect(
            self._guard,
            checked_text=Format("✅ {item[1]}"),
            unchecked_text=Format("⬜ {item[1]}"),
            id=widget_id,
            item_id_getter=itemgetter(0),
            items="pick_items",
        )

    def checked(self, manager: DialogManager) -> list[int]:
        return [int(w) for w in self.select.get_checked(manager) if w.isdigit()]

    async def set_checked(self, manager: DialogManager, ids: Sequence[int]) -> None:
        await self.select.reset_checked(manager.event, manager)
        for worker_id in ids:
            await self.select.set_checked(manager.event, str(worker_id), True, manager)

    async def _guard(self, callback: CallbackQuery, manager: DialogManager, item: str) -> bool:
        key = await self.refusal(manager, int(item)) if item.isdigit() else "common.stale"
        if key is not None:
            await toast(callback, _(key), alert=key != "common.stale")
        return key is None

    async def turn(self, _callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
        step = PICK_PAGE if button.widget_id == "pick_next" else -PICK_PAGE
        offset = int(manager.dialog_data.get(self.offset_key) or 0)
        manager.dialog_data[self.offset_key] = max(0, offset + step)

    async def all_or_none(
        self, _callback: CallbackQuery, _button: Any, manager: DialogManager
    ) -> None:
        everyone = await self._everyone(manager)
        chosen = set(self.checked(manager))
        await self.set_checked(manager, [] if chosen >= set(everyone) else everyone)

    async def _everyone(self, manager: DialogManager) -> list[int]:
        found: list[int] = []
        while True:
            page = await self.load(manager, len(found), MAX_PAGE_SIZE)
            found += [w.id for w in page.items]
            if not page.items or len(found) >= page.total:
                return found

    async def finish(self, callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        # drop whoever stopped qualifying while the dialog was open
        picked = self.checked(manager)
        kept = [w for w in picked if await self.refusal(manager, w) is None]
        if kept != picked:
            await self.set_checked(manager, kept)
        if not kept:
            await toast(callback, _("idle.pick_none"), alert=True)
            return
        await self.done_with(manager, kept)

    async def getter(self, dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        offset = int(dialog_manager.dialog_data.get(self.offset_key) or 0)
        page = await self.load(dialog_manager, offset, PICK_PAGE)
        dialog_manager.dialog_data[self.offset_key] = page.offset
        chosen = set(self.checked(dialog_manager))
        grades = await postings.list_grades(uow_of(dialog_manager))
        lines = []
        for number, w in enumerate(page.items, start=page.offset + 1):
            rating = f"★{w.avg_rating}" if w.avg_rating is not None else _("idle.unrated")
            lines.append(
                tr(
                    "idle.pick_line",
                    n=number,
                    mark="✅" if w.id in chosen else "⬜",
                    name=w.name,
                    id=w.id_masked,
                    grade=grade_name(grades, w.grade_level),
                    rating=rating,
                )
            )
        lines.append(tr("idle.selected_count", count=len(chosen)))
        pages = max(1, -(-page.total // PICK_PAGE))
        everyone = page.total > 0 and len(chosen) >= page.total
        return {
            "pick_lines": Safe("\n".join(lines)),
            "pick_items": [
                (str(w.id), f"{n}. {w.name[:BUTTON_NAME_LEN]}")
                for n, w in enumerate(page.items, start=page.offset + 1)
            ],
            "pick_total": page.total,
            "pick_pages": pages > 1,
            "pick_page": f"{page.offset // PICK_PAGE + 1}/{pages}",
            "pick_prev": page.offset > 0,
            "pick_next": page.offset + PICK_PAGE < page.total,
            "pick_all": _("picker.clear_all") if everyone else _("picker.select_all"),
            "pick_done": _("idle.done").format(count=len(chosen)),
        }

    def keyboard(self) -> Group:
        return Group(
            Group(self.select, width=2),
            Row(
                Button(Const("◀"), id="pick_prev", on_click=self.turn, when="pick_prev"),
                Button(Format("{pick_page}"), id="pick_page", when="pick_pages"),
                Button(Const("▶"), id="pick_next", on_click=self.turn, when="pick_next"),
            ),
            Row(
                Button(Format("{pick_all}"), id="pick_all", on_click=self.all_or_none),
                Button(Format("{pick_done}"), id="pick_done", on_click=self.finish),
            ),
        )


async def _declarable_page(manager: DialogManager, offset: int, limit: int) -> WorkerSlice:
    data, account = manager.dialog_data, account_of(manager)
    return await workers.declarable_workers(
        uow_of(manager),
        account.actor(),
        trade_code=str(data["trade"]),
        max_grade=int(data["grade"]),
        offset=offset,
        limit=limit,
    )


async def _declare_refusal(manager: DialogManager, worker_id: int) -> str | None:
    found = await workers.get_workers(uow_of(manager), account_of(manager).actor(), [worker_id])
    if not found:  # another company's worker, or none at all: the id came from the client
        return "error.worker_not_yours"
    w, data = found[0], manager.dialog_data
    # get_workers returns the actor's own company's workers only
    if not may_declare_idle(
        w.terms,
        enterprise_id=w.enterprise_id,
        trade_code=str(data["trade"]),
        grade_level=int(data["grade"]),
    ):
        return N_("idle.not_selectable")
    return None


def declarable_picker(widget_id: str, done: Save) -> WorkerPicker:
    """Which of the company's idle workers of dialog_data's "trade", at or above its "grade",
    a declaration names (core.domain.rules.may_declare_idle decides every tick)."""
    return WorkerPicker(widget_id, _declarable_page, _declare_refusal, done)


# --- buttons another router answers ------------------------------------------------------


def set_idle_button(trade_code: str) -> InlineKeyboardButton:
    """👷 the trade's busy workers, to set some idle: where nobody idle fits, not a dead end."""
    data = WorkersCb(st="b", tr=trade_code).pack()
    return InlineKeyboardButton(text=_("deals.btn_set_idle"), callback_data=data)


PASS = "\x1e"  # marks a button's callback data to be sent as it is (no dialog intent id)


class Passthrough(Keyboard):
    """Rows of ready-made buttons (list[list[InlineKeyboardButton]] under the getter's `key`)
    that another router answers: a deal's 🤝, the shortage dialog's 📝. Their windows need
    `markup_factory=PASSTHROUGH`, which leaves these buttons' callback data as they are."""

    def __init__(self, key: str, when: Any = None) -> None:
        super().__init__(when=when)
        self.key = key

    async def _render_keyboard(self, data: dict[str, Any], manager: DialogManager) -> RawKeyboard:
        rows: list[list[InlineKeyboardButton]] = data.get(self.key) or []
        return [
            [b.model_copy(update={"callback_data": PASS + (b.callback_data or "")}) for b in row]
            for row in rows
        ]


class _PassthroughFactory(InlineKeyboardFactory):
    async def render_markup(
        self, data: dict[str, Any], manager: DialogManager, keyboard: RawKeyboard
    ) -> InlineKeyboardMarkup:
        intent_id = manager.current_context().id
        rows = [[b for b in row if isinstance(b, InlineKeyboardButton)] for row in keyboard]
        for button in (b for row in rows for b in row if b.callback_data is not None):
            data_ = str(button.callback_data)
            if data_.startswith(PASS):
                button.callback_data = data_[len(PASS) :]
            else:
                button.callback_data = intent_callback_data(intent_id, data_)
        return InlineKeyboardMarkup(inline_keyboard=rows)


PASSTHROUGH = _PassthroughFactory()


# --- a paged list: big buttons, ◀ x/y ▶ ---------------------------------------------------

LoadPage = Callable[[DialogManager, str | None, Direction, int], Awaitable[Page[Any]]]
CountItems = Callable[[DialogManager], Awaitable[int]]
OnPick = Callable[[CallbackQuery, DialogManager, int], Awaitable[None]]


class PagedList:
    """A page of items as big buttons, one a row, then ◀ x/y ▶. Pages are core's keyset
    pages (a cursor per direction, stable while rows come and go between taps); where the
    user is lives in dialog data under this list's id. The dialog's getter calls `page()`
    for the items (to write their lines too) and merges `data()`; `load(manager, cursor,
    direction, size)` gives a page, `count(manager)` how many there are (asked once, until
    `reset` or `recount`), `label(n, item)` the button text of the page's n-th item; a tap
    gives `on_pick` the item's id (client data: check it)."""

    def __init__(
        self,
        widget_id: str,
        *,
        load: LoadPage,
        count: CountItems,
        label: Callable[[int, Any], str],
        on_pick: OnPick,
        size: int = 5,
    ) -> None:
        self.id, self.load, self.count, self.label = widget_id, load, count, label
        self.on_pick, self.size = on_pick, size
        self.keys = {k: f"{widget_id}_{k}" for k in ("at", "dir", "no", "of", "next", "prev")}

    def reset(self, manager: DialogManager) -> None:
        """Back to the first page (the filters changed)."""
        for key in self.keys.values():
            manager.dialog_data.pop(key, None)

    def recount(self, manager: DialogManager) -> None:
        """Keep the page, count again (items were closed or changed)."""
        manager.dialog_data.pop(self.keys["of"], None)

    async def page(self, manager: DialogManager) -> Page[Any]:
        data, k = manager.dialog_data, self.keys
        direction: Direction = "prev" if data.get(k["dir"]) == "prev" else "next"
        page = await self.load(manager, data.get(k["at"]), direction, self.size)
        if data.get(k["of"]) is None:
            data[k["of"]] = await self.count(manager)
        pages = max(1, -(-int(data[k["of"]]) // self.size))
        number = int(data.get(k["no"]) or 1)
        if page.prev_cursor is None:
            number = 1
        elif page.next_cursor is None:
            number = max(number, pages)
        else:
            number = min(max(number, 2), max(pages - 1, 2))
        data.update({k["no"]: number, k["next"]: page.next_cursor, k["prev"]: page.prev_cursor})
        return page

    def data(self, manager: DialogManager, page: Page[Any]) -> dict[str, Any]:
        k = self.keys
        number = int(manager.dialog_data.get(k["no"]) or 1)
        pages = max(number, -(-int(manager.dialog_data.get(k["of"]) or 0) // self.size))
        return {
            f"{self.id}_items": [
                (item.id, self.label(n, item)) for n, item in enumerate(page.items, 1)
            ],
            f"{self.id}_pos": f"{number}/{pages}",
            f"{self.id}_paged": page.next_cursor is not None or page.prev_cursor is not None,
            f"{self.id}_has_prev": page.prev_cursor is not None,
            f"{self.id}_has_next": page.next_cursor is not None,
        }

    async def _turn(self, callback: CallbackQuery, button: Any, manager: DialogManager) -> None:
        back = button.widget_id == f"{self.id}_p"
        data, k = manager.dialog_data, self.keys
        cursor = data.get(k["prev"] if back else k["next"])
        if not cursor:  # a button of a page that has changed since
            await toast(callback, _("common.stale"))
            return
        number = int(data.get(k["no"]) or 1) + (-1 if back else 1)
        data.update({k["at"]: cursor, k["dir"]: "prev" if back else "next", k["no"]: number})

    async def _picked(
        self, callback: CallbackQuery, _widget: Any, manager: DialogManager, item_id: int
    ) -> None:
        await self.on_pick(callback, manager, item_id)

    def keyboard(self) -> Group:
        return Group(
            Column(
                Select(
                    Format("{item[1]}"),
                    id=self.id,
                    item_id_getter=itemgetter(0),
                    items=f"{self.id}_items",
                    type_factory=int,
                    on_click=self._picked,
                )
            ),
            Row(
                Button(Tr("list.prev"), id=f"{self.id}_p", on_click=self._turn,
                       when=f"{self.id}_has_prev"),
                Button(Format(f"{{{self.id}_pos}}"), id=f"{self.id}_n", when=f"{self.id}_paged"),
                Button(Tr("list.next"), id=f"{self.id}_x", on_click=self._turn,
                       when=f"{self.id}_has_next"),
            ),
        )  # fmt: skip
