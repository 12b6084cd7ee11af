"""Renderer of the dispatch rings (queued by core.services.rings, payload {"posting_kind",
"posting_id", "hours"}): "posting_opened" tells the poster that an internal posting went to
the market after the company's hours without an internal match."""

from __future__ import annotations

from bot.notifier import OutgoingMessage, Renderers, Translate
from core.db.uow import UnitOfWork
from core.services.outbox import OutboxItem
from core.services.rings import KIND_OPENED

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers


@RENDERERS.register(KIND_OPENED)
async def render_opened(item: OutboxItem, _uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    payload = item.payload
    key = (
        "rings.opened_shortage"
        if payload.get("posting_kind") == "shortage"
        else ("rings.opened_idle")
    )
    return OutgoingMessage(
        text=t(key, id=int(payload["posting_id"]), hours=int(payload.get("hours") or 0))
    )
