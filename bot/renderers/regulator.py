"""Renderer of the "broker" outbox kind (queued by core.services.brokering.broker_pair).

payload {"shortage_id", "idle_id", "regulator_account_id"}: the bureau suggests a shortage and
an idle posting to each other. The message shows both postings (phones masked: nobody has
agreed to anything yet) with the deals feature's "propose" button, so either company can turn
the suggestion into an offer.
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks_deals import ProposeCb
from bot.keyboards.regulator import EscViewCb
from bot.notifier import OutgoingMessage, Renderers, Translate
from core.db.uow import UnitOfWork
from core.domain.money import format_money
from core.services.brokering import broker_note
from core.services.outbox import OutboxItem
from core.services.search import PostingCard, load_cards


def _line(card: PostingCard, locale: str, t: Translate) -> str:
    zh = locale.startswith("zh")
    params = {
        "id": card.id,
        "enterprise": card.enterprise_name,
        "county": card.county_name_zh if zh else card.county_name_en,
        "trade": card.trade_name_zh if zh else card.trade_name_en,
        "level": card.grade_level,
        "headcount": card.open_headcount,
        "price": format_money(card.price, symbol=False),
        "contact": card.contact_name,
        "phone": card.contact_phone_masked,
    }
    if card.kind == "shortage":
        return t("regulator.broker.note_shortage", project=card.project_name or "", **params)
    return t("regulator.broker.note_idle", **params)


RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers


@RENDERERS.register("broker")
async def render_broker(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    payload = item.payload
    shortage_id, idle_id = int(payload["shortage_id"]), int(payload["idle_id"])
    regulator_id = payload.get("regulator_account_id")
    note = await broker_note(
        uow, shortage_id, idle_id, int(regulator_id) if regulator_id is not None else None
    )
    locale = item.locale or "zh"
    zh = locale.startswith("zh")
    region = note.regulator_region_zh if zh else note.regulator_region_en
    lines = [
        t("regulator.broker.note_title", bureau=region or note.regulator_name or "—"),
    ]
    if note.shortage is not None:
        lines.append(_line(note.shortage, locale, t))
    if note.idle is not None:
        lines.append(_line(note.idle, locale, t))
    if note.shortage is None or note.idle is None:
        # a posting was deleted since: say so, offer nothing to propose
        lines.append(t("regulator.broker.note_gone"))
        return OutgoingMessage(text="\n\n".join(lines))
    lines.append(t("regulator.broker.note_hint"))
    button = InlineKeyboardButton(
        text=t("regulator.broker.propose"),
        callback_data=ProposeCb(shortage_id=shortage_id, idle_id=idle_id).pack(),
    )
    return OutgoingMessage(
        text="\n\n".join(lines), reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]])
    )


@RENDERERS.register("escalation")
async def render_escalation(
    item: OutboxItem, uow: UnitOfWork, t: Translate
) -> list[OutgoingMessage]:
    """A company escalated an unfilled posting to the bureau (the third dispatch ring).

    payload {"posting_kind": "shortage"|"idle", "posting_id"}: the card, phones masked, and a
    button to the escalation's screen with its suggested matches. Nothing when it is closed."""
    kind = str(item.payload["posting_kind"])
    posting_id = int(item.payload["posting_id"])
    card = (await load_cards(uow, kind, [posting_id])).get(posting_id)
    if card is None or card.status not in ("open", "partly_filled"):
        return []
    locale = item.locale or "zh"
    title = (
        t("regulator.escalation.title_shortage")
        if kind == "shortage"
        else t("regulator.escalation.title_idle")
    )
    button = InlineKeyboardButton(
        text=t("regulator.escalation.open"),
        callback_data=EscViewCb(kind="s" if kind == "shortage" else "i", id=posting_id).pack(),
    )
    return [
        OutgoingMessage(
            text=f"{title}\n\n{_line(card, locale, t)}",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
        )
    ]
