"""The typed filters of 💰 成交: a date range ("2026-11-01 2026-11-30"), a headcount and a
monthly price range. What was typed is kept in the FSM data (a button's 64 bytes cannot hold
it) until the 成交 menu is opened again, and read again by the same parsers each time; the
list's buttons carry span "r" for the typed date range."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State

from bot.handlers.regulator.common import Reply, cancel_only
from bot.handlers.regulator.states import RegulatorDeals
from bot.i18n import N_, tr
from bot.keyboards.regulator import DealCb, DealPickCb
from core.domain.errors import ValidationError
from core.domain.money import format_money
from core.domain.ranges import (
    MAX_RANGE_DAYS,
    parse_date_range,
    parse_headcount_range,
    parse_price_range,
)

CUSTOM_SPAN = "r"
DATA_KEY = "deal_filter"
# what → the step that asks for it, its question and the parser of the answer
TYPED: dict[str, tuple[State, str, Callable[[str], Any]]] = {
    "d": (RegulatorDeals.dates, N_("regulator.deals.ask_dates"), parse_date_range),
    "h": (RegulatorDeals.headcount, N_("regulator.deals.ask_headcount"), parse_headcount_range),
    "p": (RegulatorDeals.price, N_("regulator.deals.ask_price"), parse_price_range),
}

DEAL_STEPS = StateFilter(*(step for step, _question, _parse in TYPED.values()))


@dataclass(frozen=True, slots=True)
class Chosen:
    dates: tuple[date, date] | None = None
    headcount: tuple[int, int] | None = None
    price: tuple[Decimal, Decimal] | None = None


async def _data(state: FSMContext) -> dict[str, Any]:
    return dict((await state.get_data()).get(DATA_KEY) or {})


async def current(state: FSMContext) -> Chosen:
    """The typed filters in force (a value that no longer reads after a release is dropped)."""
    data, found = await _data(state), {}
    for what, (_step, _question, parse) in TYPED.items():
        with contextlib.suppress(ValidationError):
            found[what] = parse(str(data[what])) if data.get(what) else None
    dates = found.get("d")
    return Chosen(dates and (dates.start, dates.end), found.get("h"), found.get("p"))


async def forget(state: FSMContext) -> None:
    await state.update_data({DATA_KEY: {}})


async def clear_bounds(state: FSMContext) -> None:
    data = await _data(state)
    await state.update_data({DATA_KEY: {**data, "h": None, "p": None}})


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
    step, question, _parse = TYPED[cb.what]
    await state.set_state(step)
    return tr(question, max=MAX_RANGE_DAYS), cancel_only()


def _what(state_name: str | None) -> str:
    return next((what for what, (step, *_) in TYPED.items() if step.state == state_name), "d")


def question_of(state_name: str | None) -> str:
    return tr(TYPED[_what(state_name)][1], max=MAX_RANGE_DAYS)


async def store(state: FSMContext, state_name: str | None, text: str, home: str) -> DealCb:
    """Check what was typed for the step `state_name` (ValidationError if it does not read),
    keep it, leave the step; returns where the list was (area, span, trade)."""
    what = _what(state_name)
    TYPED[what][2](text)
    data = await _data(state)
    back = dict(data.get("back") or {})
    await state.update_data({DATA_KEY: {**data, what: text}})
    await state.set_state(None)
    span = CUSTOM_SPAN if what == "d" else str(back.get("span") or "w")
    area, trade = str(back.get("area") or home), str(back.get("trade") or "")
    return DealCb(area=area, span=span, trade=trade)
