"""Renderer of the "rating_prompt" outbox kind (queued by core.services.ratings
mark_rating_prompted, payload {"deal_id"}): "Please rate the N workers of deal #…" with a
"Rate now" button that opens the rating dialog (bot/handlers/ratings.py)."""

from __future__ import annotations

from bot.keyboards.ratings import rate_now_keyboard
from bot.notifier import OutgoingMessage, Renderers, Translate
from core.db.uow import UnitOfWork
from core.services import ratings
from core.services.outbox import OutboxItem

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers
KIND = "rating_prompt"


@RENDERERS.register(KIND)
async def render_rating_prompt(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    deal_id = int(item.payload["deal_id"])
    info = await ratings.rating_prompt_info(uow, deal_id)
    if info is None:
        raise LookupError(f"deal {deal_id} is gone")
    if info.unrated == 0:
        # rated from the menu before the prompt went out
        return OutgoingMessage(text=t("rating.prompt_done", id=deal_id))
    trade = info.trade_name_zh if item.locale.startswith("zh") else info.trade_name_en
    text = t(
        "rating.prompt",
        count=info.unrated,
        id=deal_id,
        project=info.project_name,
        trade=trade,
        start=info.start_date.isoformat(),
    )
    return OutgoingMessage(
        text=text, reply_markup=rate_now_keyboard(deal_id, t("rating.rate_now"))
    )
