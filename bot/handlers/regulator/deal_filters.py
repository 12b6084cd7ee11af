"""The typed filters of 💰 成交: a date range ("2026-11-01 2026-11-30"), a headcount and a
monthly price range. They are kept in the FSM data (a button's 64 bytes cannot hold them) until
the 成交 menu is opened again; the list's buttons carry span "r" for the typed date range."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State

from bot.handlers.regulator.common import Reply, cancel_only
from bot.handlers.regulator.states import RegulatorDeals
from bot.i18n import tr
from bot.keyboards.regulator import DealCb, DealPickCb
from core.domain.money import format_money
from core.domain.ranges import (
    MAX_RANGE_DAYS,
    parse_date_range,
    parse_headcount_range,
    parse_price_range,
)

CUSTOM_SPAN = "r"
DATA_KEY = "deal_filter"
TYPED: dict[str, State] = {
    "d": RegulatorDeals.dates,
    "h": RegulatorDeals.headcount,
    "p": RegulatorDeals.price,
}
QUESTIONS = {
    "d": "regulator.deals.ask_dates",
    "h": "regulator.deals.ask_headcount",
    "p": "regulator.deals.ask_price",
}


@dataclass(frozen=True, slots=True)
class Chosen:
    dates: tuple[date, date] | None = None
    headcount: tuple[int, int] | None = None
    price: tuple[Decimal, Decimal] | None = None


async def _data(state: FSMContext) -> dict[str, Any]:
    return dict((await state.get_data()).get(DATA_KEY) or {})


async def current(state: FSMContext) -> Chosen:
    """The typed filters in force (checked again: FSM data outlives a release)."""
    data = await _data(state)
    try:
        dates = (date.fromisoformat(data["from"]), date.fromisoformat(data["to"]))
    except (KeyError, TypeError, ValueError):
        dates = None
    headcount = tuple(int(v) for v in data["hc"]) if data.get("hc") else None
    price = tuple(Decimal(v) for v in data["price"]) if data.get("price") else None
    return Chosen(dates, headcount, price)  # type: ignore[arg-type]


async def forget(state: FSMContext) -> None:
    await state.update_data({DATA_KEY: {}})


async def clear_bounds(state: FSMContext) -> None:
    data = await _data(state)
    data.pop("hc", None)
    data.pop("price", None)
    await state.update_data({DATA_KEY: data})


def describe(chosen: Chosen) -> list[str]:
    """A line naming the headcount and price bounds, if any."""
    parts = []
    if chosen.headcount:
        low, high = chosen.headcount
        parts.append(tr("regulator.deals.headcount_bounds", low=low, high=high))
    if chosen.price:
        cheap, dear = (format_money(v, symbol=False) for v in chosen.price)
        parts.append(tr("regulator.deals.price_bounds", low=cheap, high=dear))
    return [" · ".join(parts)] if parts else []


async def ask(state: FSMContext, cb: DealPickCb) -> Reply:
    """Ask for the typed value; the list's place (area, span, trade) waits in the FSM data."""
    data = await _data(state)
    data["back"] = {"area": cb.area, "span": cb.span, "trade": cb.trade}
    await state.update_data({DATA_KEY: data})
    await state.set_state(TYPED[cb.what])
    return tr(QUESTIONS[cb.what], max=MAX_RANGE_DAYS), cancel_only()


def question_of(state_name: str | None) -> str:
    for what, typed_state in TYPED.items():
        if typed_state.state == state_name:
            return QUESTIONS[what]
    return QUESTIONS["d"]


async def store(state: FSMContext, state_name: str | None, text: str, home: str) -> DealCb:
    """Parse what was typed for the step `state_name` (ValidationError if it does not read),
    keep it, leave the step; returns where the list was (area, span, trade)."""
    data = await _data(state)
    back = dict(data.get("back") or {})
    span = str(back.get("span") or "w")
    if state_name == RegulatorDeals.dates.state:
        found = parse_date_range(text)
        data["from"], data["to"] = found.start.isoformat(), found.end.isoformat()
        span = CUSTOM_SPAN
    elif state_name == RegulatorDeals.headcount.state:
        data["hc"] = list(parse_headcount_range(text))
    else:
        data["price"] = [str(v) for v in parse_price_range(text)]
    await state.update_data({DATA_KEY: data})
    await state.set_state(None)
    area, trade = str(back.get("area") or home), str(back.get("trade") or "")
    return DealCb(area=area, span=span, trade=trade)
