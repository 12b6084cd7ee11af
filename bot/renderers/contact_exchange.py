"""📞 交换电话 renderers (queued by core.services.contact_exchange, payload {"exchange_id"}):

- "contact_request": the asked side gets who asks about which pair, ✅ 同意 / ❌ 拒绝; a request
  answered before the card went out is shown answered, without buttons.
- "contact_answer": the requester is told the answer; on ✅ with the other side's full phone
  (that read is in the audit log, written with the answer).

`ContactCb` is also the "📞 交换电话" button of search cards and match notifications."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.notifier import OutgoingMessage, Renderers, Translate
from core.db.uow import UnitOfWork
from core.services import contact_exchange as cx
from core.services.outbox import OutboxItem

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers


class ContactCb(CallbackData, prefix="cx"):
    """ "r": ask for the phones of pair (s, i) (0: "my own posting of that kind");
    "y" / "n": accept / decline request `id`. Rights are checked in core on every tap."""

    a: str
    s: int = 0
    i: int = 0
    id: int = 0


def request_button(t: Translate, shortage_id: int, idle_id: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=t("contacts.btn_request"),
        callback_data=ContactCb(a="r", s=shortage_id, i=idle_id).pack(),
    )


def answer_keyboard(t: Translate, exchange_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=t("contacts.btn_accept"),
                    callback_data=ContactCb(a="y", id=exchange_id).pack(),
                ),
                InlineKeyboardButton(
                    text=t("contacts.btn_decline"),
                    callback_data=ContactCb(a="n", id=exchange_id).pack(),
                ),
            ]
        ]
    )


def contact_line(t: Translate, contact: cx.Contact) -> str:
    return t("contacts.phone_line", name=contact.name, phone=contact.phone)


@RENDERERS.register(cx.KIND_REQUEST)
async def render_request(item: OutboxItem, uow: UnitOfWork, t: Translate) -> list[OutgoingMessage]:
    view = await cx.get_exchange(uow, int(item.payload.get("exchange_id", 0)))
    if view is None:
        return []
    text = t(
        "contacts.request_card",
        enterprise=view.requester_enterprise,
        shortage=view.shortage_id,
        idle=view.idle_posting_id,
    )
    if view.status != cx.PENDING:
        return [OutgoingMessage(text=text + "\n" + t("contacts.already_answered"))]
    return [OutgoingMessage(text=text, reply_markup=answer_keyboard(t, view.id))]


@RENDERERS.register(cx.KIND_ANSWER)
async def render_answer(item: OutboxItem, uow: UnitOfWork, t: Translate) -> list[OutgoingMessage]:
    exchange_id = int(item.payload.get("exchange_id", 0))
    view = await cx.get_exchange(uow, exchange_id)
    if view is None:
        return []
    pair = {"shortage": view.shortage_id, "idle": view.idle_posting_id}
    revealed = await cx.requester_view(uow, exchange_id)
    if revealed is None:
        return [OutgoingMessage(text=t("contacts.declined", **pair))]
    text = t("contacts.accepted", **pair) + "\n" + contact_line(t, revealed.other)
    return [OutgoingMessage(text=text)]
