"""Renderers of 申请入驻 (queued by core.services.enterprise_applications, payload
{"application_id"}):

- "join_application": the approval card of a reviewing regulator, ✅ 批准 / ❌ 驳回; an
  application decided before the card went out is shown decided, without buttons.
- "join_approved": the new admin is told, with the company admin's main menu.
- "join_rejected": the applicant is told why, with the 🏢 申请入驻 button to try again."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram.types import KeyboardButton, ReplyKeyboardMarkup

from bot.keyboards.common import menu_keys
from bot.keyboards.join import APPLY, KIND_LABELS, review_keyboard
from bot.notifier import OutgoingMessage, Renderers, Translate, decision_card, named
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.domain.rules import offers_shortage_posting
from core.domain.values import mask_phone
from core.services import enterprise_applications as applications
from core.services.enterprise_applications import ApplicationView
from core.services.enterprises import KINDS
from core.services.outbox import OutboxItem
from core.services.regions import get_region

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers
PER_ROW = 2


async def _load(item: OutboxItem, uow: UnitOfWork) -> ApplicationView:
    view: ApplicationView = await named(
        item, "application_id", partial(applications.get_application, uow)
    )
    return view


async def card_text(uow: UnitOfWork, view: ApplicationView, t: Translate, locale: str) -> str:
    """The application as a regulator reads it; the contact's phone masked (PII kept low)."""
    county = await get_region(uow, view.county_code)
    city = await get_region(uow, str(county.parent_code))
    return t(
        "join.card",
        id=view.id,
        name=view.name,
        uscc=view.uscc,
        kind=t(KIND_LABELS[view.kind]),
        region=f"{city.name(locale)} {county.name(locale)}",
        contact=view.contact_name,
        phone=mask_phone(view.contact_phone),
    )


def verdict_line(view: ApplicationView, t: Translate) -> str:
    if view.status == applications.APPROVED:
        return t("join.card_approved")
    if view.status == applications.REJECTED:
        return t("join.card_rejected", reason=view.reason or "")
    return ""


@RENDERERS.register(applications.KIND_CARD)
async def render_card(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _load(item, uow)
    text = await card_text(uow, view, t, item.locale)
    keyboard = review_keyboard(view.id, t("join.approve"), t("join.reject"))
    return decision_card(text, verdict_line(view, t), keyboard)


def _menu(t: Translate, keys: tuple[str, ...]) -> ReplyKeyboardMarkup:
    buttons = [KeyboardButton(text=t(key)) for key in keys]
    rows = [buttons[i : i + PER_ROW] for i in range(0, len(buttons), PER_ROW)]
    return ReplyKeyboardMarkup(keyboard=rows, resize_keyboard=True, is_persistent=True)


@RENDERERS.register(applications.KIND_APPROVED)
async def render_approved(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _load(item, uow)
    kind = KINDS.get(view.kind)  # "general" → EnterpriseType.GENERAL_CONTRACTOR
    posts = offers_shortage_posting(Role.DISPATCHER, kind.value if kind else None)
    return OutgoingMessage(
        text=t("join.approved", name=view.name),
        reply_markup=_menu(t, menu_keys(Role.DISPATCHER, admin=True, posts_shortages=posts)),
    )


@RENDERERS.register(applications.KIND_REJECTED)
async def render_rejected(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    view = await _load(item, uow)
    params: dict[str, Any] = {"name": view.name, "reason": view.reason or ""}
    return OutgoingMessage(text=t("join.rejected", **params), reply_markup=_menu(t, (APPLY,)))
