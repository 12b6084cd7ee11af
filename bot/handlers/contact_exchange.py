"""📞 交换电话 taps (ContactCb): ask the other side of a pair for its phone, and ✅ / ❌ of the
asked side. Rules are in core.services.contact_exchange; refusals come back as domain errors
(an alert in the user's language, bot.handlers.errors); an unknown action is a stale button."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from bot.i18n import tr
from bot.render.messages import edit_or_send
from bot.renderers.contact_exchange import ContactCb, contact_line
from core.db.uow import UnitOfWork
from core.services import contact_exchange as cx
from core.services.accounts import AccountView


async def contact_tapped(
    query: CallbackQuery, callback_data: ContactCb, uow: UnitOfWork, account: AccountView
) -> None:
    actor = account.actor()
    if callback_data.a == "r":
        await cx.request_exchange(
            uow, actor, shortage_id=callback_data.s, idle_posting_id=callback_data.i
        )
        await query.answer(_("contacts.sent"), show_alert=True)
        return
    if callback_data.a not in ("y", "n"):
        await query.answer(_("common.stale"))
        return
    accept = callback_data.a == "y"
    revealed = await cx.answer_exchange(uow, actor, callback_data.id, accept=accept)
    await query.answer()
    if revealed is None:
        await edit_or_send(query, _("contacts.you_declined"), None)
        return
    requester = revealed.idle if revealed.mine_side == cx.SHORTAGE else revealed.shortage
    text = _("contacts.you_accepted") + "\n" + contact_line(tr, requester)
    await edit_or_send(query, text, None)


def create_router() -> Router:
    router = Router(name=__name__)
    router.callback_query.register(contact_tapped, ContactCb.filter())
    return router
