"""🏷 指导价: view a city's guide prices; a city bureau (or the province / an admin, for a city
they choose) sets one in steps: trade → grade → price (typed, validated) → confirm."""

from __future__ import annotations

from decimal import Decimal

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import (
    Event,
    clip,
    home,
    locale,
    pre_table,
    price_month,
    show,
    signed_pct,
)
from bot.handlers.regulator.states import RegulatorGuide
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import cancel_button
from bot.keyboards.regulator import (
    ExportCb,
    GuideCb,
    button,
    export_button,
    markup,
    rows,
    with_cancel,
)
from bot.render.errors import error_text
from core.db.uow import UnitOfWork
from core.domain.enums import RegionLevel
from core.domain.errors import PermissionDenied, ValidationError
from core.domain.money import format_money
from core.domain.values import parse_price, percent_off
from core.services import guide_prices, reference_choices
from core.services.accounts import AccountView
from core.services.regions import children, city_of, region_level

DATA_KEY = "rg_guide"  # {"city", "trade", "grade", "price"?}: codes and the typed price


def _refusal(account: AccountView) -> PermissionDenied:
    if region_level(home(account)) is RegionLevel.COUNTY:
        return PermissionDenied("error.guide_price_county")
    return PermissionDenied("error.out_of_scope")


def _require_setter(account: AccountView, city: str) -> None:
    """Mirror of the core's rule, so the flow stops at its first step (the core re-checks)."""
    if not guide_prices.may_set_guide_price(account.actor(), city):
        raise _refusal(account)


async def _names(uow: UnitOfWork, trade: str, grade: int) -> tuple[str, str]:
    loc = locale()
    trade_name = {t.code: t.name(loc) for t in await reference_choices.trade_choices(uow)}.get(
        trade
    )
    grade_name = {g.code: g.name(loc) for g in await reference_choices.grade_choices(uow)}.get(
        str(grade)
    )
    if trade_name is None:
        raise ValidationError("error.trade_unknown")
    if grade_name is None:
        raise ValidationError("error.grade_unknown")
    return trade_name, grade_name


# --- view -----------------------------------------------------------------------------------


async def guide_text(uow: UnitOfWork, prices: guide_prices.CityGuidePrices) -> str:
    loc = locale()
    lines = [tr("regulator.guide.title", city=prices.city_name(loc), day=prices.day.isoformat())]
    if not prices.cells:
        lines.append(_("regulator.guide.empty"))
    else:
        trades = {t.code: t.name(loc) for t in await reference_choices.trade_choices(uow)}
        levels = sorted({c.grade_level for c in prices.cells})
        table: dict[str, dict[int, Decimal]] = {}
        for cell in prices.cells:  # by trade order already
            table.setdefault(cell.trade_code, {})[cell.grade_level] = cell.price
        body = [
            [
                clip(trades.get(code, code), 12),
                *(format_money(by.get(level), symbol=False) for level in levels),
            ]
            for code, by in table.items()
        ]
        head = [
            _("regulator.col.trade"),
            *(tr("regulator.stats.grade_col", level=level) for level in levels),
        ]
        lines.append(Safe(pre_table(head, body)))
    if not prices.may_set:
        lines.append(_("regulator.guide.view_only"))
    return "\n".join(lines)


async def _view(event: Event, uow: UnitOfWork, account: AccountView, city: str) -> None:
    prices = await guide_prices.city_guide_prices(uow, account.actor(), city)
    buttons = []
    if prices.may_set:
        buttons.append(button(_("regulator.guide.set"), GuideCb(act="s", city=prices.city_code)))
    buttons.append(export_button(ExportCb(table="p", code=prices.city_code)))
    filters = [
        button(_("regulator.guide.by_trade"), GuideCb(act="ft", city=prices.city_code)),
        button(_("regulator.guide.by_grade"), GuideCb(act="fg", city=prices.city_code)),
    ]
    bottom = []
    if region_level(home(account)) is RegionLevel.PROVINCE:
        bottom.append(button(_("regulator.guide.cities"), GuideCb(act="c")))
    await show(event, await guide_text(uow, prices), markup(filters, buttons, bottom))


async def _cities(event: Event, uow: UnitOfWork, account: AccountView) -> None:
    loc = locale()
    cities = await children(uow, home(account))
    buttons = [button(c.name(loc), GuideCb(act="v", city=c.code)) for c in cities]
    await show(event, _("regulator.guide.pick_city"), markup(*rows(buttons)))


async def guide_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    await state.set_state(None)
    own = home(account)
    level = region_level(own)
    if level is RegionLevel.PROVINCE:
        await _cities(message, uow, account)
    else:
        await _view(message, uow, account, city_of(own))


# --- the set flow ---------------------------------------------------------------------------


async def guide_tap(
    query: CallbackQuery,
    callback_data: GuideCb,
    uow: UnitOfWork,
    account: AccountView,
    state: FSMContext,
) -> None:
    cb = callback_data
    if cb.act == "c":
        await _cities(query, uow, account)
    elif cb.act == "v":
        await _view(query, uow, account, cb.city)
    elif cb.act == "s":
        _require_setter(account, cb.city)
        await _pick_trade(query, uow, account, cb.city)
    elif cb.act == "t":
        _require_setter(account, cb.city)
        await _pick_grade(query, uow, account, cb.city, cb.trade)
    elif cb.act == "g":
        _require_setter(account, cb.city)
        await _ask_price(query, uow, account, state, cb)
    elif cb.act == "ok":
        await _confirm(query, uow, account, state, cb)
    elif cb.act in ("ft", "fg"):
        await _filtered(query, uow, account, cb)
    elif cb.act == "h":
        await _history(query, uow, account, cb)
    elif cb.act in ("d", "dx"):
        await _delete(query, uow, account, cb)
    else:
        await query.answer(_("common.stale"))


async def _pick_trade(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, city: str
) -> None:
    prices = await guide_prices.city_guide_prices(uow, account.actor(), city)
    loc = locale()
    buttons = [
        button(t.name(loc), GuideCb(act="t", city=city, trade=t.code))
        for t in await reference_choices.trade_choices(uow)
    ]
    back = button(_("regulator.back"), GuideCb(act="v", city=city))
    text = tr("regulator.guide.pick_trade", city=prices.city_name(loc))
    await show(query, text, with_cancel(*rows(buttons), [back]))


async def _pick_grade(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, city: str, trade: str
) -> None:
    prices = await guide_prices.city_guide_prices(uow, account.actor(), city)
    loc = locale()
    trade_name, _grade = await _names(uow, trade, 1)
    buttons = []
    for grade in await reference_choices.grade_choices(uow):
        current = guide_prices.guide_price_of(prices, trade, int(grade.code))
        label = f"{grade.name(loc)} · {format_money(current, symbol=False)}"
        buttons.append(
            button(label, GuideCb(act="g", city=city, trade=trade, grade=int(grade.code)))
        )
    back = button(_("regulator.back"), GuideCb(act="s", city=city))
    text = tr("regulator.guide.pick_grade", city=prices.city_name(loc), trade=trade_name)
    await show(query, text, with_cancel(*rows(buttons, 2), [back]))


async def _ask_price(
    query: CallbackQuery,
    uow: UnitOfWork,
    account: AccountView,
    state: FSMContext,
    cb: GuideCb,
) -> None:
    prices = await guide_prices.city_guide_prices(uow, account.actor(), cb.city)
    trade_name, grade_name = await _names(uow, cb.trade, cb.grade)
    current = guide_prices.guide_price_of(prices, cb.trade, cb.grade)
    text = tr(
        "regulator.guide.ask_price",
        city=prices.city_name(locale()),
        trade=trade_name,
        grade=grade_name,
        current=price_month(current) if current is not None else _("regulator.guide.none"),
    )
    await state.set_state(RegulatorGuide.price)
    await state.update_data({DATA_KEY: {"city": cb.city, "trade": cb.trade, "grade": cb.grade}})
    await show(query, text, markup([cancel_button()]))


async def price_typed(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    data = (await state.get_data()).get(DATA_KEY) or {}
    if not {"city", "trade", "grade"} <= set(data):
        await state.set_state(None)
        await message.answer(_("common.stale"))
        return
    try:
        price = parse_price(message.text or "")
    except ValidationError as exc:
        # stay in the step: the same question again, with what was wrong
        await message.answer(
            "\n".join((error_text(exc), _("regulator.guide.retry"))),
            reply_markup=markup([cancel_button()]),
        )
        return
    city, trade, grade = str(data["city"]), str(data["trade"]), int(data["grade"])
    _require_setter(account, city)
    prices = await guide_prices.city_guide_prices(uow, account.actor(), city)
    trade_name, grade_name = await _names(uow, trade, grade)
    old = guide_prices.guide_price_of(prices, trade, grade)
    if old is None:
        change = _("regulator.guide.none")
    else:
        change = tr(
            "regulator.guide.old_price",
            price=price_month(old),
            change=signed_pct(percent_off(price, old)),
        )
    await state.update_data({DATA_KEY: {**data, "price": str(price)}})
    text = tr(
        "regulator.guide.confirm",
        city=prices.city_name(locale()),
        trade=trade_name,
        grade=grade_name,
        old=change,
        new=price_month(price),
    )
    keyboard = with_cancel(
        [
            button(_("regulator.confirm"), GuideCb(act="ok", city=city, trade=trade, grade=grade)),
            button(_("regulator.edit"), GuideCb(act="g", city=city, trade=trade, grade=grade)),
        ]
    )
    await message.answer(text, reply_markup=keyboard)


async def price_expected(message: Message) -> None:
    """A sticker, photo or anything but text where the price is due."""
    await message.answer(_("regulator.guide.retry"), reply_markup=markup([cancel_button()]))


async def _confirm(
    query: CallbackQuery,
    uow: UnitOfWork,
    account: AccountView,
    state: FSMContext,
    cb: GuideCb,
) -> None:
    data = (await state.get_data()).get(DATA_KEY) or {}
    same = (data.get("city"), data.get("trade"), data.get("grade")) == (
        cb.city,
        cb.trade,
        cb.grade,
    )
    if not same or "price" not in data:
        # an old confirm button, or one of another flow: nothing is written
        await query.answer(_("common.stale"))
        return
    saved = await guide_prices.set_guide_price(
        uow,
        account.actor(),
        city_code=cb.city,
        trade_code=cb.trade,
        grade_level=cb.grade,
        price=str(data["price"]),
    )
    await state.set_state(None)
    await state.update_data({DATA_KEY: None})
    trade_name, grade_name = await _names(uow, saved.trade_code, saved.grade_level)
    prices = await guide_prices.city_guide_prices(uow, account.actor(), cb.city)
    head = tr(
        "regulator.guide.saved",
        city=prices.city_name(locale()),
        trade=trade_name,
        grade=grade_name,
        price=price_month(saved.price),
    )
    text = "\n\n".join((head, await guide_text(uow, prices)))
    keyboard = markup(
        [
            button(_("regulator.guide.set"), GuideCb(act="s", city=cb.city)),
            export_button(ExportCb(table="p", code=cb.city)),
        ]
    )
    await show(query, text, keyboard)


# --- filters, history and delete ------------------------------------------------------------


async def _filtered(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, cb: GuideCb
) -> None:
    """One trade's prices (all grades) or one grade's (all trades); a picker first."""
    loc = locale()
    by_trade = cb.act == "ft"
    back = button(_("regulator.back"), GuideCb(act="v", city=cb.city))
    if (by_trade and not cb.trade) or (not by_trade and not cb.grade):
        await guide_prices.city_guide_prices(uow, account.actor(), cb.city)
        choices = (
            [
                button(t.name(loc), GuideCb(act="ft", city=cb.city, trade=t.code))
                for t in await reference_choices.trade_choices(uow)
            ]
            if by_trade
            else [
                button(g.name(loc), GuideCb(act="fg", city=cb.city, grade=int(g.code)))
                for g in await reference_choices.grade_choices(uow)
            ]
        )
        text = _(
            "regulator.guide.pick_trade_filter"
            if by_trade
            else "regulator.guide.pick_grade_filter"
        )
        await show(query, text, markup(*rows(choices), [back]))
        return
    prices = await guide_prices.city_guide_prices(
        uow,
        account.actor(),
        cb.city,
        trade_code=cb.trade if by_trade else None,
        grade_level=None if by_trade else cb.grade,
    )
    trades = {t.code: t.name(loc) for t in await reference_choices.trade_choices(uow)}
    grades = {int(g.code): g.name(loc) for g in await reference_choices.grade_choices(uow)}
    history = [
        button(
            tr(
                "regulator.guide.history_button",
                name=grades.get(c.grade_level, "") if by_trade else trades.get(c.trade_code, ""),
            ),
            GuideCb(act="h", city=cb.city, trade=c.trade_code, grade=c.grade_level),
        )
        for c in prices.cells
    ]
    await show(query, await guide_text(uow, prices), markup(*rows(history), [back]))


async def _history(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, cb: GuideCb
) -> None:
    actor = account.actor()
    entries = await guide_prices.price_history(uow, actor, cb.city, cb.trade, cb.grade)
    prices = await guide_prices.city_guide_prices(uow, actor, cb.city)
    trade_name, grade_name = await _names(uow, cb.trade, cb.grade)
    lines = [
        tr(
            "regulator.guide.history_title",
            city=prices.city_name(locale()),
            trade=trade_name,
            grade=grade_name,
        )
    ]
    if not entries:
        lines.append(_("regulator.guide.empty"))
    for entry in entries:
        lines.append(
            tr(
                N_("regulator.guide.history_line_now")
                if entry.in_force
                else N_("regulator.guide.history_line"),
                day=entry.effective_date.isoformat(),
                price=price_month(entry.price),
                by=entry.set_by or "—",
            )
        )
    deletes = []
    if prices.may_set:
        deletes = [
            button(
                tr("regulator.guide.delete_button", day=entry.effective_date.isoformat()),
                GuideCb(act="d", city=cb.city, trade=cb.trade, grade=cb.grade, id=entry.id),
            )
            for entry in entries
        ]
    back = button(_("regulator.back"), GuideCb(act="ft", city=cb.city, trade=cb.trade))
    await show(query, "\n".join(lines), markup(*rows(deletes, 2), [back]))


async def _delete(
    query: CallbackQuery, uow: UnitOfWork, account: AccountView, cb: GuideCb
) -> None:
    """ "d" asks, "dx" deletes (core checks the scope and the right to publish both times)."""
    actor = account.actor()
    history = GuideCb(act="h", city=cb.city, trade=cb.trade, grade=cb.grade)
    if cb.act == "d":
        entry = next(
            (e for e in await guide_prices.price_history(uow, actor, cb.city, cb.trade, cb.grade)
             if e.id == cb.id),
            None,
        )  # fmt: skip
        _require_setter(account, cb.city)
        if entry is None:
            await query.answer(_("common.stale"))
            return
        trade_name, grade_name = await _names(uow, cb.trade, cb.grade)
        text = tr(
            "regulator.guide.delete_confirm",
            trade=trade_name,
            grade=grade_name,
            day=entry.effective_date.isoformat(),
            price=price_month(entry.price),
        )
        ok = button(
            _("regulator.guide.delete_ok"),
            GuideCb(act="dx", city=cb.city, trade=cb.trade, grade=cb.grade, id=cb.id),
        )
        await show(query, text, markup([ok], [button(_("regulator.back"), history)]))
        return
    removed = await guide_prices.delete_guide_price(uow, actor, cb.id)
    await query.answer(
        tr(
            "regulator.guide.deleted",
            day=removed.effective_date.isoformat(),
            price=price_month(removed.price),
        )
    )
    await _history(query, uow, account, history)
