"""The typed steps of a dispatch's life: the amount of a partial payment (部分), asked of the
receiving side (paid) or the labor side (received), and the last day of a dispatch typed by the
receiving side (退场 / 延期: "2026-12-20", "12月20日", "12/20", "明天"). A bad amount or an
unreadable or out-of-range day is said above the same prompt, which stays; nothing is written
until a valid answer arrives. /cancel and ✖️ leave at each step."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import Dialog, DialogManager, ShowMode, Window
from aiogram_dialog.widgets.kbd import Row
from aiogram_dialog.widgets.text import Format

from bot.dialogs.widgets import Tr, cancel_button, pop_error, show_error, typed
from bot.i18n import tr
from bot.render.dispatch import dispatch_card, wage_keyboard, wage_text
from bot.render.errors import error_text
from core.db.uow import UnitOfWork
from core.domain.errors import DomainError, ValidationError
from core.domain.money import format_money
from core.domain.values import parse_day
from core.services import dispatch, wages
from core.services.accounts import AccountView


class AmountSG(StatesGroup):
    amount = State()


class LastDaySG(StatesGroup):
    day = State()


def _t(key: str, /, **params: object) -> str:
    return tr(key, **params)


async def _getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow: UnitOfWork = dialog_manager.middleware_data["uow"]
    account: AccountView = dialog_manager.middleware_data["account"]
    data = dialog_manager.start_data
    assert isinstance(data, dict)
    period_id = int(data["period"])
    view = await wages.get_wage_period(uow, account.actor(), period_id)
    return {"error": pop_error(dialog_manager), "due": format_money(view.due, symbol=False)}


async def amount_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    uow: UnitOfWork = manager.middleware_data["uow"]
    account: AccountView = manager.middleware_data["account"]
    data = manager.start_data
    assert isinstance(data, dict)
    period_id, side = int(data["period"]), str(data["side"])
    try:
        if side == "shortage":
            view = await wages.answer_payer(
                uow, account.actor(), period_id, "partial", amount=message.text or ""
            )
        else:
            current = await wages.get_wage_period(uow, account.actor(), period_id)
            view = await wages.answer_labor(
                uow,
                account.actor(),
                period_id,
                "partial",
                amount=message.text or "",
                workers_paid=current.workers_paid,
            )
    except ValidationError as exc:
        await uow.rollback()
        show_error(manager, error_text(exc))
        return
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    await message.answer(
        _("dispatch.saved") + "\n" + wage_text(view, side, _t),
        reply_markup=wage_keyboard(view, side, _t),
    )


def _dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{error}", when="error"),
            Tr("wage.ask_amount"),
            Row(cancel_button()),
            *typed(amount_typed, "wage.amount_expected"),
            getter=_getter,
            state=AmountSG.amount,
        )
    )


# --- the last day of a dispatch -------------------------------------------------------------


async def _day_getter(dialog_manager: DialogManager, **_kwargs: Any) -> dict[str, Any]:
    uow: UnitOfWork = dialog_manager.middleware_data["uow"]
    account: AccountView = dialog_manager.middleware_data["account"]
    data = dialog_manager.start_data
    assert isinstance(data, dict)
    view = await dispatch.get_dispatch(uow, account.actor(), int(data["deal"]))
    return {
        "error": pop_error(dialog_manager),
        "id": view.deal_id,
        "start": view.start_date.isoformat(),
        "today": view.report_date.isoformat(),
    }


async def day_typed(message: Message, _widget: Any, manager: DialogManager) -> None:
    uow: UnitOfWork = manager.middleware_data["uow"]
    account: AccountView = manager.middleware_data["account"]
    data = manager.start_data
    assert isinstance(data, dict)
    deal_id = int(data["deal"])
    try:
        day = parse_day(message.text, dispatch.today_of(uow))
        view = await dispatch.set_last_day(uow, account.actor(), deal_id, day)
    except DomainError as exc:
        # a refusal (not the receiving side, the deal no longer active) ends nothing: the
        # user reads why and may type another day or cancel
        await uow.rollback()
        show_error(manager, error_text(exc))
        return
    await manager.done(show_mode=ShowMode.NO_UPDATE)
    text, markup = dispatch_card(view, _t, account.locale)
    await message.answer(_("dispatch.saved") + "\n" + text, reply_markup=markup)


def _day_dialog() -> Dialog:
    return Dialog(
        Window(
            Format("{error}", when="error"),
            Tr("dispatch.ask_last_day"),
            Row(cancel_button()),
            *typed(day_typed, "dispatch.last_day_expected"),
            getter=_day_getter,
            state=LastDaySG.day,
        )
    )


def create_router() -> Router:
    router = Router(name=__name__)
    router.include_routers(_dialog(), _day_dialog())
    return router
