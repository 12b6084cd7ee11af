"""Taking Telegram updates in: store the raw update durably first, answer 200, process after.

Choice (reliability.md, "don't acknowledge with 200 and then lose the update"): the route
INSERTs `processed_update(update_id, raw, status="received")` and commits BEFORE answering
(updates arriving together share the INSERT and the commit: core.db.group_commit).
The primary key makes a re-sent update a no-op (200, no effect). The dispatcher then runs in
a background task kept in `UpdateIntake._tasks` and awaited on shutdown. A process that dies
after answering leaves its rows `received`; the next start (of any process) feeds them again.

Cooperation with bot.middlewares.dedup.DedupMiddleware (an outer middleware of the
dispatcher, which also guards long polling): its INSERT meets our row, so it *claims* it
instead (`received` → `claimed` with `raw` cleared, as it may hold a phone number, in one
UPDATE … WHERE status = 'received'), and marks it `done` when the handler is through.
Exactly one feed of an update gets past that claim, even when a recovering process and a
live one feed the same row. A feed that never reached the claim (it failed before) still
ends with the row `done` and `raw` cleared. Consequence: a crash in the middle of a handler,
after the claim, is not retried (at most once from there on) but leaves the row `claimed`,
and the user is told their last step may not have completed
(core.services.update_progress); a crash between our commit and the claim is retried (at
least once up to the claim, exactly once overall).
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import logging
from collections.abc import Callable, Sequence
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite

from bot.middlewares.dedup import DONE, RECEIVED, STORED_KEY, StoredUpdate
from core.db.group_commit import GroupCommit
from core.db.models import ProcessedUpdate
from core.db.uow import Services
from core.services.update_progress import PROCESSED_UPDATE
from webhooks.logging import update_id_var

log = logging.getLogger(__name__)

MAX_UPDATE_ID = 2**62  # BIGINT with room; Telegram's ids are far below
BACKLOG_TRIM_FACTOR = 4  # a backlog this many times the concurrency counts as a burst


def release_free_memory() -> bool:
    """glibc's malloc_trim(0): return the allocator's free pages to the OS (Linux; a no-op
    returning False elsewhere). Costs a few milliseconds."""
    try:
        return bool(_libc().malloc_trim(0))
    except (OSError, AttributeError):
        return False


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def _store_statement(insert: Any) -> Any:
    table = PROCESSED_UPDATE
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.update_id])
        .returning(table.c.update_id)
    )


# Core (no ORM bulk machinery), built once per dialect: every update runs one
_STORE = {
    "postgresql": _store_statement(postgresql.insert),
    "sqlite": _store_statement(sqlite.insert),
}
_FINISH = (
    update(PROCESSED_UPDATE)
    .where(PROCESSED_UPDATE.c.update_id == bindparam("finished_id"))
    .values(status=DONE, raw=None)
)


class UpdateIntake:
    def __init__(
        self,
        services: Services,
        bot: Bot,
        dispatcher: Dispatcher,
        *,
        concurrency: int = 64,
        after_update: Callable[[], None] | None = None,
    ) -> None:
        self.services = services
        self.bot = bot
        self.dispatcher = dispatcher
        self.after_update = after_update
        self._slots = asyncio.Semaphore(concurrency)
        self._concurrency = concurrency
        self._trim_after = BACKLOG_TRIM_FACTOR * concurrency
        self._backlog_peak = 0
        self._intake_batches: GroupCommit[tuple[Update, str], bool] = GroupCommit(
            self._store_and_schedule
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self.processed = 0

    # --- intake ---------------------------------------------------------------------------

    async def take_in(self, update: Update, raw: str) -> bool:
        """Record the raw update durably, then schedule its processing; False (and nothing
        scheduled) if this update_id was taken in before. Updates arriving together share one
        transaction (group commit); scheduling is part of the batch, so a caller that gives up
        after the commit (the client went away) cannot leave a stored update unprocessed."""
        return await self._intake_batches.submit((update, raw))

    async def _store_and_schedule(self, items: Sequence[tuple[Update, str]]) -> list[bool]:
        first: dict[int, str] = {}
        for received, raw in items:
            first.setdefault(received.update_id, raw)
        async with self.services.uow() as uow:
            now = uow.now()
            # one constant statement, executemany (SQLAlchemy batches it into multi-row
            # VALUES with RETURNING): compiled once, where a .values([...]) of each batch's
            # size had no cache key and was compiled per batch
            conn = await uow.session.connection()
            rows = [
                {"update_id": uid, "received_at": now, "raw": raw, "status": RECEIVED}
                for uid, raw in first.items()
            ]
            new = set((await conn.execute(_STORE[uow.dialect], rows)).scalars())
            await uow.commit()
        taken: list[bool] = []
        for received, _raw in items:
            is_new = received.update_id in new
            new.discard(received.update_id)  # the same id twice in one batch: the first wins
            if is_new:
                self.schedule(received.update_id, first[received.update_id])
            taken.append(is_new)
        return taken

    def schedule(self, update_id: int, raw: str) -> None:
        """Process a stored update when a slot is free. Until then only its raw JSON waits (a
        burst of thousands then costs a few MB, not thousands of parsed Update objects); it
        is parsed again once it runs (tens of microseconds)."""
        task = asyncio.create_task(self._process(update_id, raw), name=f"update-{update_id}")
        self._tasks.add(task)
        self._backlog_peak = max(self._backlog_peak, len(self._tasks))
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        # a burst (thousands of updates stored before they could be processed) leaves its
        # memory free but held by the C allocator: hand it back to the OS once the backlog
        # is worked off, so a worker's RSS does not keep a burst's peak
        if self._backlog_peak >= self._trim_after and len(self._tasks) < self._concurrency:
            self._backlog_peak = len(self._tasks)
            release_free_memory()

    @property
    def in_flight(self) -> int:
        return len(self._tasks)

    # --- processing -----------------------------------------------------------------------

    async def _process(self, update_id: int, raw: str) -> None:
        token = update_id_var.set(update_id)
        try:
            async with self._slots:
                try:
                    update = Update.model_validate_json(raw, context={"bot": self.bot})
                except (PydanticValidationError, ValueError):
                    log.warning("stored update %s is unreadable: dropped", update_id)
                    await self._finish(update_id)
                    return
                marker = StoredUpdate()
                try:
                    await self.dispatcher.feed_update(self.bot, update, **{STORED_KEY: marker})
                except Exception:
                    log.exception("update processing failed")
                if not marker.claimed:
                    await self._finish(update.update_id)
                self.processed += 1
            if self.after_update is not None:
                self.after_update()
        finally:
            update_id_var.reset(token)

    async def _finish(self, update_id: int) -> None:
        """Forget the raw payload; `done` even if no middleware claimed it."""
        try:
            async with self.services.uow() as uow:
                await uow.session.execute(_FINISH, {"finished_id": update_id})
                await uow.commit()
        except Exception:
            log.exception("could not mark the update done")

    async def recover(self, limit: int = 10_000) -> int:
        """Feed again the updates stored but never claimed (a process died); returns how many."""
        async with self.services.uow() as uow:
            rows = (
                await uow.session.execute(
                    select(ProcessedUpdate.update_id, ProcessedUpdate.raw)
                    .where(ProcessedUpdate.status == RECEIVED)
                    .order_by(ProcessedUpdate.update_id)
                    .limit(limit)
                )
            ).all()
        count = 0
        for update_id, raw in rows:
            self.schedule(update_id, raw or "")  # an unreadable one is dropped when it runs
            count += 1
        if count:
            log.info("re-feeding %d stored updates", count, extra={"recovered": count})
        return count

    # --- lifecycle ------------------------------------------------------------------------

    async def wait_idle(self) -> None:
        """Until no update is being processed (tests, graceful stops)."""
        await self._intake_batches.wait_idle()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, grace: float = 25.0) -> None:
        """Let running updates finish (up to `grace` s), then cancel what is left."""
        try:
            await asyncio.wait_for(self.wait_idle(), grace)
        except TimeoutError:
            left = list(self._tasks)
            log.warning("%d updates still running at shutdown: cancelled", len(left))
            for task in left:
                task.cancel()
            await asyncio.gather(*left, return_exceptions=True)
