"""Renderers of 需求待批 (queued by core.services.posting_approval, payload {"request_id"}):

- "shortage_request": the card of a company dispatcher, ✅ 批准 / ✏️ 改人数或价格 / ❌ 驳回;
  a request decided before the card went out is shown decided, without buttons.
- "shortage_request_approved": the foreman's posting is published (with the changes, if any).
- "shortage_request_rejected": the foreman is told why."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.notifier import OutgoingMessage, Renderers, Translate, decision_card, named
from core.db.uow import UnitOfWork
from core.domain.money import format_money
from core.domain.values import fen_to_price, price_to_fen
from core.services import posting_approval as approval
from core.services.outbox import OutboxItem
from core.services.posting_approval import RequestView
from core.services.postings import list_grades, list_trades

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers


class RequestCb(CallbackData, prefix="shreq"):
    """A dispatcher's decision on a 需求待批 card; rights are checked again on every tap."""

    act: str  # "ok" | "chg" | "no"
    req_id: int


def request_keyboard(req_id: int, t: Translate) -> InlineKeyboardMarkup:
    def button(act: str, key: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            text=t(key), callback_data=RequestCb(act=act, req_id=req_id).pack()
        )

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button("ok", "approval.approve"), button("no", "approval.reject")],
            [button("chg", "approval.change")],
        ]
    )


async def request_text(uow: UnitOfWork, view: RequestView, t: Translate, locale: str) -> str:
    trades = {x.code: x.name(locale) for x in await list_trades(uow)}
    grades = {g.level: g.name(locale) for g in await list_grades(uow)}
    return t(
        "approval.card",
        id=view.id,
        project=view.project_name,
        trade=trades.get(view.trade_code, view.trade_code),
        grade=grades.get(view.min_grade, str(view.min_grade)),
        headcount=view.headcount,
        price=format_money(view.price),
        foreman=view.requested_by_name,
    )


def verdict_line(view: RequestView, t: Translate) -> str:
    if view.status == approval.APPROVED:
        return t("approval.card_approved", shortage=view.shortage_id or 0)
    if view.status == approval.REJECTED:
        return t("approval.card_rejected", reason=view.reason or "")
    return ""


async def _load(item: OutboxItem, uow: UnitOfWork) -> RequestView:
    view: RequestView = await named(item, "request_id", partial(approval.get_request, uow))
    return view


@RENDERERS.register(approval.KIND_REQUEST)
async def render_request(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _load(item, uow)
    text = await request_text(uow, view, t, item.locale)
    return decision_card(text, verdict_line(view, t), request_keyboard(view.id, t))


@RENDERERS.register(approval.KIND_APPROVED)
async def render_approved(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _load(item, uow)
    lines = [
        t("approval.approved", id=view.id, shortage=view.shortage_id or 0),
        await request_text(uow, view, t, item.locale),
    ]
    before: dict[str, Any] = item.payload.get("before") or {}
    if before.get("headcount") not in (None, view.headcount):
        lines.append(t("approval.headcount_changed", before=before["headcount"]))
    if before.get("price_fen") not in (None, price_to_fen(view.price)):
        lines.append(
            t(
                "approval.price_changed",
                before=format_money(fen_to_price(int(before["price_fen"]))),
            )
        )
    return OutgoingMessage(text="\n".join(lines))


@RENDERERS.register(approval.KIND_REJECTED)
async def render_rejected(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _load(item, uow)
    text = await request_text(uow, view, t, item.locale)
    return OutgoingMessage(
        text="\n".join((t("approval.rejected", id=view.id, reason=view.reason or ""), text))
    )
