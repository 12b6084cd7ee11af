"""After the deal, one tap at a time: ✅ 到岗 / ❌ 未到 per worker and 全部到岗 on the arrival
list, the wage answers (已付 / 未付, 已收到 / 未收到, 工人工资已发 / 未发), and release / extend
on the dispatch card (/dispatch N). The amounts of a partial payment and a dispatch's last day
(退场 / 延期 to a typed date) are typed in dialogs (bot/dialogs/dispatch.py). Callback data
carries ids only; every tap goes through a core service, which re-checks who may answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _
from aiogram_dialog import DialogManager, StartMode

from bot.callbacks_dispatch import ArrivalCb, DispatchCb, ReplaceCb, WageCb
from bot.dialogs.dispatch import AmountSG, LastDaySG
from bot.filters import role_router
from bot.i18n import tr
from bot.render.dispatch import (
    arrival_keyboard,
    arrival_text,
    dispatch_card,
    wage_keyboard,
    wage_text,
)
from bot.render.messages import edit_or_send
from core.db.uow import UnitOfWork
from core.domain.enums import DealStatus, Role, Side
from core.domain.errors import Conflict, PermissionDenied, ValidationError
from core.services import dispatch, wages
from core.services.accounts import AccountView

MONTH_DAYS = 30
PAYER = {"paid": "paid", "unpaid": "unpaid"}
LABOR = {"rcv": "received", "none": "none"}
WORKERS_PAID = {"wp1": True, "wp0": False}


async def _ask_typed(
    query: CallbackQuery, manager: DialogManager, state: State, data: dict[str, Any]
) -> None:
    """A typed answer is due (the right to give it checked before): its dialog opens."""
    await query.answer()
    await manager.start(state, mode=StartMode.RESET_STACK, data=data)


async def arrival_tapped(
    query: CallbackQuery, callback_data: ArrivalCb, uow: UnitOfWork, account: AccountView
) -> None:
    actor = account.actor()
    cb = callback_data
    if cb.a == "all":
        result = await dispatch.mark_all_arrived(uow, actor, cb.d)
    elif cb.a in ("y", "n"):
        result = await dispatch.mark_arrival(uow, actor, cb.d, cb.s, arrived=cb.a == "y")
    else:
        raise ValidationError("error.bad_answer")
    await query.answer(_("dispatch.saved") if result.changed else _("dispatch.already"))
    view = result.view
    await edit_or_send(query, arrival_text(view, tr), arrival_keyboard(view, tr))


async def wage_tapped(
    query: CallbackQuery,
    callback_data: WageCb,
    uow: UnitOfWork,
    account: AccountView,
    dialog_manager: DialogManager,
) -> None:
    actor = account.actor()
    cb = callback_data
    if cb.a in ("part", "rpart"):
        side = Side.SHORTAGE if cb.a == "part" else Side.IDLE
        # check the right to answer before asking for a number
        if side not in (await wages.get_wage_period(uow, actor, cb.p)).my_sides:
            raise PermissionDenied("error.forbidden")
        data = {"period": cb.p, "side": side.value}
        await _ask_typed(query, dialog_manager, AmountSG.amount, data)
        return
    if cb.a in PAYER:
        view = await wages.answer_payer(uow, actor, cb.p, PAYER[cb.a])
    elif cb.a in LABOR:
        view = await wages.answer_labor(uow, actor, cb.p, LABOR[cb.a])
    elif cb.a in WORKERS_PAID:
        view = await wages.answer_labor(uow, actor, cb.p, workers_paid=WORKERS_PAID[cb.a])
    else:
        raise ValidationError("error.bad_answer")
    side = Side.SHORTAGE if cb.a in PAYER else Side.IDLE
    await query.answer(_("dispatch.saved"))
    await edit_or_send(query, wage_text(view, side, tr), wage_keyboard(view, side, tr))


async def show_dispatch(
    message: Message, command: CommandObject, uow: UnitOfWork, account: AccountView
) -> None:
    """/dispatch N: the dispatch card of deal N with release and extend buttons."""
    raw = (command.args or "").strip().lstrip("#")
    if not raw.isdigit():
        await message.answer(_("dispatch.usage"))
        return
    view = await dispatch.get_dispatch(uow, account.actor(), int(raw))
    text, markup = dispatch_card(view, tr, account.locale)
    await message.answer(text, reply_markup=markup)


async def dispatch_tapped(
    query: CallbackQuery,
    callback_data: DispatchCb,
    uow: UnitOfWork,
    account: AccountView,
    dialog_manager: DialogManager,
) -> None:
    actor = account.actor()
    cb = callback_data
    today = dispatch.today_of(uow)
    if cb.a == "rel":
        only = [cb.s] if cb.s else None
        view = await dispatch.release_workers(uow, actor, cb.d, on=today, assignment_ids=only)
    elif cb.a == "ext":
        current = await dispatch.get_dispatch(uow, actor, cb.d)
        base = max(current.end_date or today, today)
        end = base + timedelta(days=MONTH_DAYS * cb.m) if cb.m else None
        view = await dispatch.set_end_date(uow, actor, cb.d, end)
    elif cb.a == "o":
        view = await dispatch.get_dispatch(uow, actor, cb.d)
    elif cb.a == "day":
        # the right to change the period is checked before asking for a day
        view = await dispatch.get_dispatch(uow, actor, cb.d)
        if Side.SHORTAGE not in view.my_sides:
            raise PermissionDenied("error.forbidden")
        if view.status is not DealStatus.ACCEPTED:
            raise Conflict("error.dispatch_not_active")
        await _ask_typed(query, dialog_manager, LastDaySG.day, {"deal": view.deal_id})
        return
    else:
        raise ValidationError("error.bad_answer")
    await query.answer(_("dispatch.saved"))
    text, markup = dispatch_card(view, tr, account.locale)
    await edit_or_send(query, text, markup)


async def replacement_tapped(
    query: CallbackQuery, callback_data: ReplaceCb, uow: UnitOfWork, account: AccountView
) -> None:
    cb = callback_data
    view = await dispatch.offer_replacement(uow, account.actor(), cb.d, cb.s, cb.w)
    await query.answer(_("dispatch.saved"))
    name = next((a.worker_name for a in view.assignments if a.worker_id == cb.w), "")
    await edit_or_send(query, tr("dispatch.replacement_sent", name=name, id=view.deal_id))


def create_router() -> Router:
    router = role_router(__name__, Role.FOREMAN, Role.DISPATCHER)
    router.callback_query.register(arrival_tapped, ArrivalCb.filter())
    router.callback_query.register(wage_tapped, WageCb.filter())
    router.callback_query.register(dispatch_tapped, DispatchCb.filter())
    router.callback_query.register(replacement_tapped, ReplaceCb.filter())
    router.message.register(show_dispatch, Command("dispatch"))
    return router
