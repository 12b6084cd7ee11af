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
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, ShowMode
from aiogram_dialog.api.internal import RawKeyboard
from aiogram_dialog.manager.message_manager import MessageManager
from aiogram_dialog.utils import intent_callback_data
from aiogram_dialog.widgets.input import MessageInput
from aiogram_dialog.widgets.kbd import Button, Column, Group, Keyboard, Row, Select
from aiogram_dialog.widgets.kbd.select import OnItemClick
from aiogram_dialog.widgets.markup.inline_keyboard import InlineKeyboardFactory
from aiogram_dialog.widgets.text import Format, Text

from bot.i18n import N_, render, tr
from bot.keyboards.common import ALL_MENU_KEYS, MenuText, inline_cancel_keyboard, main_menu
from bot.render.postings import locale, money
from core.domain.enums import RegionLevel
from core.domain.errors import DomainError
from core.domain.money import format_money
from core.domain.values import MAX_MONTHLY_PRICE, MIN_MONTHLY_PRICE
from core.services import regions
from core.services.guide_prices import is_far_from_guide
from core.services.paging import Direction, Page
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
            callback.from_user.id, _("common.cancelled"), reply_markup=main_menu(account.role)
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


# --- buttons another router answers ------------------------------------------------------

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


# --- a region filter: all of Shanxi, a city, or one of its counties -----------------------

SaveRegion = Callable[[DialogManager, str], Awaitable[None]]


class RegionFilter:
    """A region to narrow by, in two taps: 不限 (all of Shanxi) or a city, then "all of the
    city" or one of its counties (🔙 other city goes back). `save(manager, code)` gets "" for
    all of Shanxi, else a city or county code; a code the reference data lacks is stale."""

    def __init__(self, widget_id: str, save: SaveRegion) -> None:
        self.id, self.save = widget_id, save
        self.city_key = f"{widget_id}_city"

    async def _region(self, manager: DialogManager, code: str) -> Any:
        try:
            return await regions.get_region(manager.middleware_data["uow"], code)
        except DomainError:
            return None

    async def _picked(
        self, callback: CallbackQuery, _widget: Any, manager: DialogManager, code: str
    ) -> None:
        region = await self._region(manager, code)
        city = manager.dialog_data.get(self.city_key)
        if region is None or region.level not in (RegionLevel.CITY, RegionLevel.COUNTY):
            await toast(callback, _("common.stale"))
        elif region.level is RegionLevel.CITY and city is None:
            manager.dialog_data[self.city_key] = region.code  # its counties next
        elif region.level is RegionLevel.COUNTY and region.parent_code != city:
            await toast(callback, _("common.stale"))
        else:  # "all of the city" or a county of it
            manager.dialog_data.pop(self.city_key, None)
            await self.save(manager, region.code)

    async def _any(self, _callback: CallbackQuery, _button: Any, manager: DialogManager) -> None:
        manager.dialog_data.pop(self.city_key, None)
        await self.save(manager, "")

    async def _cities(
        self, _callback: CallbackQuery, _button: Any, manager: DialogManager
    ) -> None:
        manager.dialog_data.pop(self.city_key, None)

    async def getter(self, dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
        uow = dialog_manager.middleware_data["uow"]
        city_code = dialog_manager.dialog_data.get(self.city_key)
        loc = locale()
        if city_code is None:
            cities = await regions.children(uow, regions.PROVINCE_CODE)
            return {
                "region_prompt": _("search.pick_city"),
                "region_items": [(c.code, c.name(loc)) for c in cities],
                "region_in_city": False,
            }
        city = await regions.get_region(uow, str(city_code))
        counties = await regions.children(uow, city.code)
        return {
            "region_prompt": tr("search.pick_county", city=city.name(loc)),
            "region_items": [
                (city.code, _("search.all_of_city").format(city=city.name(loc))),
                *((c.code, c.name(loc)) for c in counties),
            ],
            "region_in_city": True,
        }

    def keyboard(self) -> Group:
        in_city = F["region_in_city"]
        return Group(
            Button(Tr("search.any_region"), id=f"{self.id}_any", on_click=self._any,
                   when=~in_city),
            Group(
                Select(
                    Format("{item[1]}"),
                    id=self.id,
                    item_id_getter=itemgetter(0),
                    items="region_items",
                    on_click=self._picked,
                ),
                width=3,
            ),
            Button(Tr("search.btn_other_city"), id=f"{self.id}_up", on_click=self._cities,
                   when=in_city),
        )  # fmt: skip
