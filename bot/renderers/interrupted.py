"""Renderer of the "update_interrupted" outbox kind (queued by core.services.update_progress
when a process died while handling a user's update): "your last step may not have completed"."""

from __future__ import annotations

from bot.notifier import OutgoingMessage, Renderers, Translate
from core.db.uow import UnitOfWork
from core.services.outbox import OutboxItem
from core.services.update_progress import INTERRUPTED_KIND

RENDERERS = Renderers()  # combined by bot.renderers.outbox_renderers


@RENDERERS.register(INTERRUPTED_KIND)
async def render_interrupted(item: OutboxItem, uow: UnitOfWork, t: Translate) -> OutgoingMessage:
    return OutgoingMessage(text=t("update.interrupted"))
