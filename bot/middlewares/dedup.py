"""Drop an update already taken in: Telegram re-sends (webhook retries, restarts) by update_id."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from core.db.models import ProcessedUpdate
from core.db.uow import Services

log = logging.getLogger(__name__)

# A webhook route may store the raw update with this status before answering Telegram; the
# middleware then claims the row (received → done) instead of inserting it.
RECEIVED = "received"
DONE = "done"
# feed_update(…, update_stored=True): the caller (webhooks.updates) stored the row as received
STORED_KEY = "update_stored"


async def claim_update(services: Services, update_id: int, *, stored: bool = False) -> bool:
    """True exactly once per update_id: INSERT under the primary key in a short transaction
    of its own (committed before any handler runs), or claim a row stored as received.
    `stored`: the webhook stored the row already, so the INSERT could only fail: skip it."""
    async with services.uow() as uow:
        if not stored:
            uow.session.add(
                ProcessedUpdate(update_id=update_id, received_at=uow.now(), status=DONE)
            )
            try:
                await uow.commit()
                return True
            except IntegrityError:
                await uow.rollback()
        claimed = await uow.session.execute(
            update(ProcessedUpdate)
            .where(ProcessedUpdate.update_id == update_id, ProcessedUpdate.status == RECEIVED)
            .values(status=DONE)
        )
        await uow.commit()
        return claimed.rowcount == 1  # type: ignore[attr-defined, no-any-return]


class DedupMiddleware(BaseMiddleware):
    """Outer update middleware: the same update_id twice has one effect."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update) and not await claim_update(
            self.services, event.update_id, stored=bool(data.get(STORED_KEY))
        ):
            log.info("update %s seen before: dropped", event.update_id)
            return None
        return await handler(event, data)
