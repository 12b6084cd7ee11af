"""Drop an update already taken in: Telegram re-sends (webhook retries, restarts) by update_id.

The claim also records the update as in progress (core.services.update_progress): who is
being served, since when. When the handler is through, the row is marked done; updates that
finish together share that commit. A row still `claimed` after a crash makes the next start
(or the maintenance job) tell the user that their last step may not have completed."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy import bindparam, update
from sqlalchemy.exc import IntegrityError

from bot.middlewares import Handler
from bot.middlewares.db import FSM_VIEW_KEY, _UpdateFsm, end_read
from bot.storage import FsmRecords, SqlStorage
from core.db.group_commit import GroupCommit
from core.db.models import ProcessedUpdate
from core.db.uow import Services, UnitOfWork
from core.services.update_progress import (
    CLAIMED,
    DONE,
    PROCESSED_UPDATE,
    RECEIVED,
    mark_done,
    tell_interrupted,
)

log = logging.getLogger(__name__)

__all__ = [
    "CLAIMED",
    "DONE",
    "RECEIVED",
    "STORED_KEY",
    "DedupMiddleware",
    "StoredUpdate",
    "tell_interrupted_at_startup",
]

# feed_update(…, update_stored=StoredUpdate()): the caller (webhooks.updates) stored the row as
# received; the middleware reports back whether it claimed it
STORED_KEY = "update_stored"


# built once: every update runs it
# on the table, not the entity: a Core UPDATE skips the ORM's bulk-update machinery
# (synchronize_session and its evaluation), which cost more than the statement
_TABLE = PROCESSED_UPDATE
_CLAIM = (
    update(_TABLE)
    .where(_TABLE.c.update_id == bindparam("claimed_id"), _TABLE.c.status == RECEIVED)
    .values(
        status=CLAIMED,
        raw=None,
        claimed_at=bindparam("claimed_at"),
        account_id=bindparam("claimed_for"),
    )
)


_FsmRecords = tuple[SqlStorage, FsmRecords]


@dataclass
class StoredUpdate:
    claimed: bool = False


async def claim_update(
    uow: UnitOfWork, update_id: int, *, stored: bool = False, account_id: int | None = None
) -> bool:
    """True exactly once per update_id, committed before any handler runs: INSERT under the
    primary key, or claim a row stored as received (clearing its raw payload, which may hold
    a phone number). Either way the row is left `claimed`, naming the account served.
    `stored`: the webhook stored the row already, so the INSERT could only fail: skip it.
    Commits whatever the unit of work read before (the account: reads only)."""
    now = uow.now()
    if not stored:
        uow.session.add(
            ProcessedUpdate(
                update_id=update_id,
                received_at=now,
                status=CLAIMED,
                claimed_at=now,
                account_id=account_id,
            )
        )
        try:
            await uow.commit()
            return True
        except IntegrityError:
            await uow.rollback()
    claimed = await uow.session.execute(
        _CLAIM, {"claimed_id": update_id, "claimed_at": now, "claimed_for": account_id}
    )
    await uow.commit()
    return claimed.rowcount == 1  # type: ignore[attr-defined, no-any-return]


class DedupMiddleware(BaseMiddleware):
    """Outer update middleware, inside the unit of work: the same update_id twice has one
    effect. Its commit also ends the account read before the handler talks to Telegram (on
    SQLite an open transaction holds the write lock)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        # (update id, its FSM writes if they join this commit): one transaction marks a batch
        # of updates done and writes back their FSM state, atomically
        self._finished: GroupCommit[tuple[int, _FsmRecords | None], None] = GroupCommit(
            self._mark_done
        )

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        marker = data.get(STORED_KEY)
        account = data.get("account")
        claimed = await claim_update(
            data["uow"],
            event.update_id,
            stored=marker is not None,
            account_id=account.id if account is not None else None,
        )
        if not claimed:
            log.info("update %s seen before: dropped", event.update_id)
            return None
        if isinstance(marker, StoredUpdate):
            marker.claimed = True
        try:
            result = await handler(event, data)
        except Exception:
            await self._finish(data, event.update_id)  # it ended, if badly: not cut short
            raise
        # not on cancellation (a shutdown past its grace): that update was cut short
        await self._finish(data, event.update_id)
        return result

    async def _finish(self, data: dict[str, Any], update_id: int) -> None:
        # the update's own open read would hold SQLite's write lock against this commit
        await end_read(data["uow"])
        view: _UpdateFsm | None = data.get(FSM_VIEW_KEY)
        records = view.pending_records() if view is not None else None
        try:
            await self._finished.submit((update_id, records))
        except Exception:
            # the FSM writes stay buffered: the unit-of-work middleware's flush writes them
            log.exception("could not mark update %s done", update_id)
            return
        if view is not None and records is not None:
            view.written()

    async def _mark_done(self, items: Sequence[tuple[int, _FsmRecords | None]]) -> list[None]:
        storage: SqlStorage | None = None
        merged: FsmRecords = {}
        for _update_id, records in items:
            if records is not None:
                storage, rows = records
                merged.update(rows)  # the same key twice (a group's dialog stack): the last wins
        async with self.services.uow() as uow:
            if storage is not None:
                await storage.write_records_on(await uow.session.connection(), merged)
            await mark_done(uow, [update_id for update_id, _records in items])
        return [None] * len(items)


async def tell_interrupted_at_startup(services: Services) -> None:
    """Dispatcher start-up hook (polling and webhook alike): users whose update a dead process
    left half-handled are told so, through the outbox. Claims younger than the timeout may
    belong to a live process; the maintenance job looks at them again later."""
    try:
        async with services.uow() as uow:
            told = await tell_interrupted(uow, now=uow.now())
    except Exception:
        log.exception("could not look for interrupted updates")
        return
    if told:
        log.warning("told %d users their last step may not have completed", told)
