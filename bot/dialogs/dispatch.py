"""The typed steps of a dispatch's life: the amount of a partial payment (部分), asked of the
receiving side (paid) or the labor side (received), and the last day of a dispatch typed by the
receiving side (退场 / 延期: "2026-12-20", "12月20日", "12/20", "明天"). A bad amount or an
unreadable or out-of-range day is said above the same prompt, which stays; nothing is written
until a valid answer arrives. /cancel and ✖️ leave at each step."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode

from bot.dialogs.answers import answer_window, started
from bot.dialogs.widgets import Tr, account_of, uow_of
from bot.i18n import tr
from bot.render.dispatch import dispatch_card, wage_keyboard, wage_text
from core.domain.errors import DomainError, ValidationError
from core.domain.money import format_money
from core.domain.values import parse_day
from core.services import dispatch, wages


class AmountSG(StatesGroup):
    amount = State()


class LastDaySG(StatesGroup):
    day = State()


def _t(key: str, /, **params: object) -> str:
    return tr(key, **params)


async def _saved(manager: DialogManager, text: str, markup: InlineKeyboardMarkup) -> None:
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    if isinstance(manager.event, Message):
        await manager.event.answer(_("dispatch.saved") + "\n" + text, reply_markup=markup)


# --- the amount of a partial payment --------------------------------------------------------


async def _amount_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    actor, period_id = account_of(dialog_manager).actor(), started(dialog_manager, "period")
    view = await wages.get_wage_period(uow_of(dialog_manager), actor, period_id)
    return {"due": format_money(view.due, symbol=False)}


async def amount_taken(manager: DialogManager, raw: str) -> None:
    uow, actor = uow_of(manager), account_of(manager).actor()
    data = manager.start_data
    assert isinstance(data, dict)
    period_id, side = started(manager, "period"), str(data["side"])
    if side == "shortage":
        view = await wages.answer_payer(uow, actor, period_id, "partial", amount=raw)
    else:
        # workers_paid left out: answer_labor keeps what was answered before
        view = await wages.answer_labor(uow, actor, period_id, "partial", amount=raw)
    await _saved(manager, wage_text(view, side, _t), wage_keyboard(view, side, _t))


# --- the last day of a dispatch -------------------------------------------------------------


async def _day_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    actor, deal_id = account_of(dialog_manager).actor(), started(dialog_manager, "deal")
    view = await dispatch.get_dispatch(uow_of(dialog_manager), actor, deal_id)
    return {
        "id": view.deal_id,
        "start": view.start_date.isoformat(),
        "today": view.report_date.isoformat(),
    }


async def day_taken(manager: DialogManager, raw: str) -> None:
    # a refusal (not the receiving side, the deal no longer active) ends nothing: the user
    # reads why and may type another day or cancel
    uow, account = uow_of(manager), account_of(manager)
    day = parse_day(raw, dispatch.today_of(uow))
    view = await dispatch.set_last_day(uow, account.actor(), started(manager, "deal"), day)
    await _saved(manager, *dispatch_card(view, _t, account.locale))


def create_router() -> Router:
    router = Router(name=__name__)
    amount = answer_window(
        AmountSG.amount,
        Tr("wage.ask_amount"),
        take=amount_taken,
        need="wage.amount_expected",
        retry=ValidationError,
        getter=_amount_getter,
    )
    day = answer_window(
        LastDaySG.day,
        Tr("dispatch.ask_last_day"),
        take=day_taken,
        need="dispatch.last_day_expected",
        retry=DomainError,
        getter=_day_getter,
    )
    router.include_routers(Dialog(amount), Dialog(day))
    return router
