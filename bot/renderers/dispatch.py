"""Renderers of a dispatch's outbox kinds (core.services.dispatch / wages): the arrival list
with its buttons, no-show and replacement notices, release and period changes, the monthly
wage questions and the bureau's 欠薪预警. Rendered at send time from the rows, as the system
(the recipient was chosen by the service that queued the row)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks_dispatch import ReIdleCb, ReplaceCb
from bot.notifier import OutgoingMessage, Renderers, Translate
from bot.render.dispatch import (
    arrears_text,
    arrival_keyboard,
    arrival_text,
    dispatch_card,
    wage_keyboard,
    wage_text,
)
from core.db.models import Worker
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import WorkerStatus
from core.services import dispatch, wages
from core.services.outbox import OutboxItem
from core.services.workers import list_workers


async def _view(item: OutboxItem, uow: UnitOfWork) -> dispatch.DispatchView:
    return await dispatch.get_dispatch(uow, Actor.system(), int(item.payload["deal_id"]))


RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers


@RENDERERS.register(dispatch.KIND_ARRIVAL)
async def render_arrival(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _view(item, uow)
    return OutgoingMessage(text=arrival_text(view, t), reply_markup=arrival_keyboard(view, t))


@RENDERERS.register(dispatch.KIND_ARRIVAL_REMINDER)
async def render_arrival_reminder(
    item: OutboxItem, uow: UnitOfWork, t: Translate
) -> OutgoingMessage:
    view = await _view(item, uow)
    return OutgoingMessage(
        text=arrival_text(view, t, reminder=True), reply_markup=arrival_keyboard(view, t)
    )


async def _worker_name(uow: UnitOfWork, worker_id: int) -> str:
    worker = await uow.session.get(Worker, worker_id)
    return worker.name if worker is not None else "?"


REPLACEMENTS_SHOWN = 5


@RENDERERS.register(dispatch.KIND_NO_SHOW)
async def render_no_show(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    """The labor company hears of the no-show at once, with its idle workers of the trade as
    one-tap replacements (the service checks grade and availability again on the tap)."""
    view = await _view(item, uow)
    name = await _worker_name(uow, int(item.payload["worker_id"]))
    text = t(
        "dispatch.no_show_notice",
        name=name,
        id=view.deal_id,
        project=view.project_name,
        company=view.receiving_enterprise_name,
    )
    idle = await list_workers(
        uow,
        Actor.system(),
        status=WorkerStatus.IDLE,
        trade_code=view.trade_code,
        enterprise_id=view.labor_enterprise_id,
        limit=REPLACEMENTS_SHOWN + 1,
    )
    on_deal = {a.worker_id for a in view.assignments}
    spare = [w for w in idle.items if w.id not in on_deal][:REPLACEMENTS_SHOWN]
    markup = None
    if spare:
        markup = InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    InlineKeyboardButton(
                        text=t("dispatch.replace_with", name=w.name),
                        callback_data=ReplaceCb(
                            d=view.deal_id, s=int(item.payload["assignment_id"]), w=w.id
                        ).pack(),
                    )
                ]
                for w in spare
            ]
        )
    return OutgoingMessage(text=text, reply_markup=markup)


@RENDERERS.register(dispatch.KIND_REPLACEMENT)
async def render_replacement(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _view(item, uow)
    name = await _worker_name(uow, int(item.payload["worker_id"]))
    text = t("dispatch.replacement_notice", name=name, id=view.deal_id)
    return OutgoingMessage(text=text, reply_markup=arrival_keyboard(view, t))


@RENDERERS.register(dispatch.KIND_RELEASED)
async def render_released(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _view(item, uow)
    names = [a.worker_name for a in view.assignments if a.worker_id in item.payload["worker_ids"]]
    text = t(
        "dispatch.released_notice",
        id=view.deal_id,
        names="、".join(names),
        day=str(item.payload["on"]),
        project=view.project_name,
    )
    # one tap to the declare-idle dialog with them ticked; the button stays (it re-checks)
    again = ReIdleCb(d=view.deal_id, on=str(item.payload["on"])).pack()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t("reidle.button"), callback_data=again)]]
    )
    return OutgoingMessage(text=text, reply_markup=markup)


@RENDERERS.register(dispatch.KIND_END_DATE)
async def render_end_date(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _view(item, uow)
    text, _markup = dispatch_card(view, t, item.locale)
    return OutgoingMessage(text=t("dispatch.period_changed", id=view.deal_id) + "\n" + text)


@RENDERERS.register(wages.KIND_WAGE)
async def render_wage_prompt(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await wages.get_wage_period(uow, Actor.system(), int(item.payload["wage_period_id"]))
    side = str(item.payload["side"])
    return OutgoingMessage(
        text=wage_text(view, side, t), reply_markup=wage_keyboard(view, side, t)
    )


@RENDERERS.register(wages.KIND_ARREARS)
async def render_arrears(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await wages.get_arrears(uow, Actor.system(), int(item.payload["alert_id"]))
    return OutgoingMessage(text=arrears_text(view, t))
