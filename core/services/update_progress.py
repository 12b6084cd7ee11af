"""Where a Telegram update is on its way through `processed_update`, and what a crash leaves.

received  → stored by the webhook route, not yet handled (re-fed when a process starts)
claimed   → a process took it and runs its handler (`claimed_at`, and the user's `account_id`)
done      → the handler finished (or failed with an error the user was shown)
abandoned → claimed, but the process died before the handler finished: the user was told

A claimed update is not run again: its handler may have half happened (a deal accepted, the
reply lost), and a second run could do it twice. Instead the user learns that their last step
may not have completed and checks. A claim older than CLAIM_TIMEOUT counts as abandoned: a live
handler takes seconds (shutdown waits 25 s for them), so an older claim's process is gone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import Table, bindparam, update

from core.db.models import ProcessedUpdate
from core.db.uow import UnitOfWork

RECEIVED = "received"
CLAIMED = "claimed"
DONE = "done"
ABANDONED = "abandoned"

CLAIM_TIMEOUT = timedelta(minutes=2)
INTERRUPTED_KIND = "update_interrupted"  # outbox kind; payload {"update_id"}


# the table itself: per-update statements on it are Core (no ORM bulk-update machinery)
PROCESSED_UPDATE = cast(Table, ProcessedUpdate.__table__)

# built once: every update runs it
_MARK_DONE = (
    update(PROCESSED_UPDATE)
    .where(
        PROCESSED_UPDATE.c.update_id.in_(bindparam("done_ids", expanding=True)),
        PROCESSED_UPDATE.c.status == CLAIMED,
    )
    .values(status=DONE)
)


async def mark_done(uow: UnitOfWork, update_ids: Sequence[int]) -> None:
    """The handlers of these updates finished; commits."""
    await uow.session.execute(_MARK_DONE, {"done_ids": list(update_ids)})
    await uow.commit()


async def tell_interrupted(uow: UnitOfWork, *, now: datetime) -> int:
    """Queue "your last step may not have completed" for each user with an update claimed
    before `now - CLAIM_TIMEOUT` and never finished, once per user and pass, and mark those
    updates abandoned in the same transaction; returns how many users were told.

    Safe to run in several processes at once: the conditional UPDATE hands each abandoned row
    to one of them, and the outbox's dedup key holds even if two passes raced."""
    abandoned = (
        await uow.session.execute(
            update(ProcessedUpdate)
            .where(
                ProcessedUpdate.status == CLAIMED,
                ProcessedUpdate.claimed_at < now - CLAIM_TIMEOUT,
            )
            .values(status=ABANDONED)
            .returning(ProcessedUpdate.update_id, ProcessedUpdate.account_id)
        )
    ).all()
    first_of: dict[int, int] = {}  # account → its earliest abandoned update
    for update_id, account_id in sorted(abandoned):
        if account_id is not None:
            first_of.setdefault(account_id, update_id)
    told = 0
    for account_id, update_id in first_of.items():
        told += await uow.notify(
            account_id=account_id,
            kind=INTERRUPTED_KIND,
            payload={"update_id": update_id},
            dedup_key=f"interrupted:{update_id}",
        )
    await uow.commit()
    return told
