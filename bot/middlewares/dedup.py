"""Drop an update already taken in: Telegram re-sends (webhook retries, restarts) by update_id."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError

from core.db.models import ProcessedUpdate
from core.db.uow import UnitOfWork

log = logging.getLogger(__name__)

# A webhook route may store the raw update with this status before answering Telegram; the
# middleware then claims the row (received → done, raw payload cleared) instead of inserting it.
RECEIVED = "received"
DONE = "done"
# feed_update(…, update_stored=StoredUpdate()): the caller (webhooks.updates) stored the row as
# received; the middleware reports back whether it claimed it
STORED_KEY = "update_stored"


# built once: every update runs it
_CLAIM = (
    update(ProcessedUpdate)
    .where(
        ProcessedUpdate.update_id == bindparam("claimed_id"), ProcessedUpdate.status == RECEIVED
    )
    .values(status=DONE, raw=None)
)


@dataclass
class StoredUpdate:
    claimed: bool = False


async def claim_update(uow: UnitOfWork, update_id: int, *, stored: bool = False) -> bool:
    """True exactly once per update_id, committed before any handler runs: INSERT under the
    primary key, or claim a row stored as received (clearing its raw payload, which may hold
    a phone number). `stored`: the webhook stored the row already, so the INSERT could only
    fail: skip it. Commits whatever the unit of work read before (the account: reads only)."""
    if not stored:
        uow.session.add(ProcessedUpdate(update_id=update_id, received_at=uow.now(), status=DONE))
        try:
            await uow.commit()
            return True
        except IntegrityError:
            await uow.rollback()
    claimed = await uow.session.execute(_CLAIM, {"claimed_id": update_id})
    await uow.commit()
    return claimed.rowcount == 1  # type: ignore[attr-defined, no-any-return]


class DedupMiddleware(BaseMiddleware):
    """Outer update middleware, inside the unit of work: the same update_id twice has one
    effect. Its commit also ends the account read before the handler talks to Telegram (on
    SQLite an open transaction holds the write lock)."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if isinstance(event, Update):
            marker = data.get(STORED_KEY)
            if not await claim_update(data["uow"], event.update_id, stored=marker is not None):
                log.info("update %s seen before: dropped", event.update_id)
                return None
            if isinstance(marker, StoredUpdate):
                marker.claimed = True
        return await handler(event, data)
