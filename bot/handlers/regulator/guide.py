"""🏷 指导价: view a city's guide prices (all, one trade's or one grade's, a price's history);
a city bureau (or the province / an admin, for a city they choose) sets one in steps: trade →
grade → price (typed, validated) → confirm, and may delete a published one."""

from __future__ import annotations

from decimal import Decimal

from aiogram import F
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import (
    NOT_MENU,
    Ctx,
    Reply,
    Screen,
    ask,
    cancel_only,
    clip,
    locale,
    on_message,
    pre_table,
    price_month,
    screen,
    signed_pct,
    stale,
)
from bot.handlers.regulator.states import RegulatorGuide
from bot.handlers.regulator.summary import grade_columns
from bot.i18n import N_, Safe, tr
from bot.keyboards.common import GUIDE_PRICES
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
from core.domain.enums import RegionLevel
from core.domain.errors import PermissionDenied, ValidationError
from core.domain.money import format_money
from core.domain.values import parse_price, percent_off
from core.services import guide_prices
from core.services.regions import children, city_of, region_level

DATA_KEY = "rg_guide"  # {"city", "trade", "grade", "price"?}: codes and the typed price
SETTING = ("s", "t", "g")  # the steps of setting a price, refused early to whom may not


def start(c: Ctx) -> GuideCb:
    """The province picks a city first; a city or county bureau sees its city."""
    if region_level(c.home) is RegionLevel.PROVINCE:
        return GuideCb(act="c")
    return GuideCb(act="v", city=city_of(c.home))


def _require_setter(c: Ctx, city: str) -> None:
    """Mirror of the core's rule, so the flow stops at its first step (the core re-checks)."""
    if guide_prices.may_set_guide_price(c.actor, city):
        return
    if region_level(c.home) is RegionLevel.COUNTY:
        raise PermissionDenied("error.guide_price_county")
    raise PermissionDenied("error.out_of_scope")


async def _names(c: Ctx, trade: str, grade: int) -> tuple[str, str]:
    trade_name, grade_name = (await c.trades()).get(trade), (await c.grades()).get(grade)
    if trade_name is None:
        raise ValidationError("error.trade_unknown")
    if grade_name is None:
        raise ValidationError("error.grade_unknown")
    return trade_name, grade_name


async def _prices(c: Ctx, cb: GuideCb) -> guide_prices.CityGuidePrices:
    return await guide_prices.city_guide_prices(c.uow, c.actor, cb.city)


async def guide_text(c: Ctx, prices: guide_prices.CityGuidePrices) -> str:
    lines = [
        tr("regulator.guide.title", city=prices.city_name(locale()), day=prices.day.isoformat())
    ]
    if not prices.cells:
        lines.append(_("regulator.guide.empty"))
    else:
        trades = await c.trades()
        levels = sorted({cell.grade_level for cell in prices.cells})
        table: dict[str, dict[int, Decimal]] = {}
        for cell in prices.cells:  # by trade order already
            table.setdefault(cell.trade_code, {})[cell.grade_level] = cell.price
        body = [
            [
                clip(trades.get(code, code), 12),
                *(format_money(by.get(n), symbol=False) for n in levels),
            ]
            for code, by in table.items()
        ]
        lines.append(Safe(pre_table([_("regulator.col.trade"), *grade_columns(levels)], body)))
    if not prices.may_set:
        lines.append(_("regulator.guide.view_only"))
    return "\n".join(lines)


async def _view(c: Ctx, cb: GuideCb) -> Reply:
    prices = await _prices(c, cb)
    city = prices.city_code
    actions = [button(_("regulator.guide.set"), GuideCb(act="s", city=city))]
    actions = actions if prices.may_set else []
    filters = [
        button(_("regulator.guide.by_trade"), GuideCb(act="ft", city=city)),
        button(_("regulator.guide.by_grade"), GuideCb(act="fg", city=city)),
    ]
    cities = []
    if region_level(c.home) is RegionLevel.PROVINCE:
        cities.append(button(_("regulator.guide.cities"), GuideCb(act="c")))
    export = export_button(ExportCb(table="p", code=city))
    return await guide_text(c, prices), markup(filters, [*actions, export], cities)


async def _cities(c: Ctx, cb: GuideCb) -> Reply:
    cities = await children(c.uow, c.home)
    buttons = [button(city.name(locale()), GuideCb(act="v", city=city.code)) for city in cities]
    return _("regulator.guide.pick_city"), markup(*rows(buttons))


# --- the set flow ---------------------------------------------------------------------------


async def _pick_trade(c: Ctx, cb: GuideCb) -> Reply:
    prices = await _prices(c, cb)
    buttons = [
        button(name, GuideCb(act="t", city=cb.city, trade=code))
        for code, name in (await c.trades()).items()
    ]
    back = button(_("regulator.back"), GuideCb(act="v", city=cb.city))
    text = tr("regulator.guide.pick_trade", city=prices.city_name(locale()))
    return text, with_cancel(*rows(buttons), [back])


async def _pick_grade(c: Ctx, cb: GuideCb) -> Reply:
    prices = await _prices(c, cb)
    trade_name, _grade = await _names(c, cb.trade, 1)
    buttons = []
    for level, name in (await c.grades()).items():
        current = guide_prices.guide_price_of(prices, cb.trade, level)
        label = f"{name} · {format_money(current, symbol=False)}"
        buttons.append(button(label, GuideCb(act="g", city=cb.city, trade=cb.trade, grade=level)))
    back = button(_("regulator.back"), GuideCb(act="s", city=cb.city))
    text = tr("regulator.guide.pick_grade", city=prices.city_name(locale()), trade=trade_name)
    return text, with_cancel(*rows(buttons, 2), [back])


async def _ask_price(c: Ctx, cb: GuideCb) -> Reply:
    prices = await _prices(c, cb)
    trade_name, grade_name = await _names(c, cb.trade, cb.grade)
    current = guide_prices.guide_price_of(prices, cb.trade, cb.grade)
    text = tr(
        "regulator.guide.ask_price",
        city=prices.city_name(locale()),
        trade=trade_name,
        grade=grade_name,
        current=price_month(current) if current is not None else _("regulator.guide.none"),
    )
    await c.state.set_state(RegulatorGuide.price)
    await c.state.update_data({DATA_KEY: {"city": cb.city, "trade": cb.trade, "grade": cb.grade}})
    return text, cancel_only()


@on_message(RegulatorGuide.price, F.text, NOT_MENU)
async def price_typed(c: Ctx) -> None:
    data = (await c.state.get_data()).get(DATA_KEY) or {}
    if not {"city", "trade", "grade"} <= set(data):
        await c.state.set_state(None)
        await c.message.answer(_("common.stale"))
        return
    try:
        price = parse_price(c.message.text or "")
    except ValidationError as exc:
        # stay in the step: the same question again, with what was wrong
        await ask(c.message, error_text(exc), _("regulator.guide.retry"))
        return
    cb = GuideCb(
        act="g", city=str(data["city"]), trade=str(data["trade"]), grade=int(data["grade"])
    )
    _require_setter(c, cb.city)
    prices = await _prices(c, cb)
    trade_name, grade_name = await _names(c, cb.trade, cb.grade)
    old = guide_prices.guide_price_of(prices, cb.trade, cb.grade)
    change = (
        tr(
            "regulator.guide.old_price",
            price=price_month(old),
            change=signed_pct(percent_off(price, old)),
        )
        if old is not None
        else _("regulator.guide.none")
    )
    await c.state.update_data({DATA_KEY: {**data, "price": str(price)}})
    text = tr(
        "regulator.guide.confirm",
        city=prices.city_name(locale()),
        trade=trade_name,
        grade=grade_name,
        old=change,
        new=price_month(price),
    )
    ok = GuideCb(act="ok", city=cb.city, trade=cb.trade, grade=cb.grade)
    keyboard = with_cancel([button(_("regulator.confirm"), ok), button(_("regulator.edit"), cb)])
    await c.message.answer(text, reply_markup=keyboard)


@on_message(RegulatorGuide.price, NOT_MENU)
async def price_expected(c: Ctx) -> None:
    """A sticker, photo or anything but text where the price is due."""
    await ask(c.message, _("regulator.guide.retry"))


async def _confirm(c: Ctx, cb: GuideCb) -> Reply | None:
    data = (await c.state.get_data()).get(DATA_KEY) or {}
    asked = (data.get("city"), data.get("trade"), data.get("grade"))
    if asked != (cb.city, cb.trade, cb.grade) or "price" not in data:
        # an old confirm button, or one of another flow: nothing is written
        return await stale(c)
    saved = await guide_prices.set_guide_price(
        c.uow,
        c.actor,
        city_code=cb.city,
        trade_code=cb.trade,
        grade_level=cb.grade,
        price=str(data["price"]),
    )
    await c.state.set_state(None)
    await c.state.update_data({DATA_KEY: None})
    trade_name, grade_name = await _names(c, saved.trade_code, saved.grade_level)
    prices = await _prices(c, cb)
    head = tr(
        "regulator.guide.saved",
        city=prices.city_name(locale()),
        trade=trade_name,
        grade=grade_name,
        price=price_month(saved.price),
    )
    keyboard = markup(
        [
            button(_("regulator.guide.set"), GuideCb(act="s", city=cb.city)),
            export_button(ExportCb(table="p", code=cb.city)),
        ]
    )
    return "\n\n".join((head, await guide_text(c, prices))), keyboard


# --- filters, history and delete ------------------------------------------------------------


async def _filtered(c: Ctx, cb: GuideCb) -> Reply:
    """One trade's prices (all grades) or one grade's (all trades); a picker first."""
    by_trade = cb.act == "ft"
    back = [button(_("regulator.back"), GuideCb(act="v", city=cb.city))]
    trades, grades = await c.trades(), await c.grades()
    if not (cb.trade if by_trade else cb.grade):
        await _prices(c, cb)  # the scope check
        if by_trade:
            text = _("regulator.guide.pick_trade_filter")
            choices = [
                button(n, GuideCb(act="ft", city=cb.city, trade=k)) for k, n in trades.items()
            ]
        else:
            text = _("regulator.guide.pick_grade_filter")
            choices = [
                button(n, GuideCb(act="fg", city=cb.city, grade=k)) for k, n in grades.items()
            ]
        return text, markup(*rows(choices), back)
    prices = await guide_prices.city_guide_prices(
        c.uow,
        c.actor,
        cb.city,
        trade_code=cb.trade if by_trade else None,
        grade_level=None if by_trade else cb.grade,
    )
    history = [
        button(
            tr(
                "regulator.guide.history_button",
                name=grades.get(p.grade_level, "") if by_trade else trades.get(p.trade_code, ""),
            ),
            GuideCb(act="h", city=cb.city, trade=p.trade_code, grade=p.grade_level),
        )
        for p in prices.cells
    ]
    return await guide_text(c, prices), markup(*rows(history), back)


async def _history(c: Ctx, cb: GuideCb) -> Reply:
    entries = await guide_prices.price_history(c.uow, c.actor, cb.city, cb.trade, cb.grade)
    prices = await _prices(c, cb)
    trade_name, grade_name = await _names(c, cb.trade, cb.grade)
    city = prices.city_name(locale())
    lines = [tr("regulator.guide.history_title", city=city, trade=trade_name, grade=grade_name)]
    if not entries:
        lines.append(_("regulator.guide.empty"))
    for entry in entries:
        key = (
            N_("regulator.guide.history_line_now")
            if entry.in_force
            else N_("regulator.guide.history_line")
        )
        day, price = entry.effective_date.isoformat(), price_month(entry.price)
        lines.append(tr(key, day=day, price=price, by=entry.set_by or "—"))
    deletes = [
        button(
            tr("regulator.guide.delete_button", day=entry.effective_date.isoformat()),
            GuideCb(act="d", city=cb.city, trade=cb.trade, grade=cb.grade, id=entry.id),
        )
        for entry in (entries if prices.may_set else ())
    ]
    back = button(_("regulator.back"), GuideCb(act="ft", city=cb.city, trade=cb.trade))
    return "\n".join(lines), markup(*rows(deletes, 2), [back])


async def _delete(c: Ctx, cb: GuideCb) -> Reply | None:
    """ "d" asks, "dx" deletes (core checks the scope and the right to publish both times)."""
    history = GuideCb(act="h", city=cb.city, trade=cb.trade, grade=cb.grade)
    if cb.act == "dx":
        removed = await guide_prices.delete_guide_price(c.uow, c.actor, cb.id)
        day, price = removed.effective_date.isoformat(), price_month(removed.price)
        await c.event.answer(tr("regulator.guide.deleted", day=day, price=price))
        return await _history(c, history)
    entries = await guide_prices.price_history(c.uow, c.actor, cb.city, cb.trade, cb.grade)
    entry = next((e for e in entries if e.id == cb.id), None)
    _require_setter(c, cb.city)
    if entry is None:
        return await stale(c)
    trade_name, grade_name = await _names(c, cb.trade, cb.grade)
    text = tr(
        "regulator.guide.delete_confirm",
        trade=trade_name,
        grade=grade_name,
        day=entry.effective_date.isoformat(),
        price=price_month(entry.price),
    )
    ok = button(_("regulator.guide.delete_ok"), cb.model_copy(update={"act": "dx"}))
    return text, markup([ok], [button(_("regulator.back"), history)])


STEPS: dict[str, Screen[GuideCb]] = {
    "c": _cities,
    "v": _view,
    "s": _pick_trade,
    "t": _pick_grade,
    "g": _ask_price,
    "ok": _confirm,
    "ft": _filtered,
    "fg": _filtered,
    "h": _history,
    "d": _delete,
    "dx": _delete,
}


@screen(GuideCb, GUIDE_PRICES, start)
async def guide(c: Ctx, cb: GuideCb) -> Reply | None:
    if cb.act in SETTING:
        _require_setter(c, cb.city)
    step = STEPS.get(cb.act)
    return await step(c, cb) if step else await stale(c)
