"""The outbox: notifications queued in the same transaction as the change they announce.

Row life: pending → sending (claimed by one sender until a deadline) → sent | pending again
(retry, release) | dead (gave up) | blocked (the recipient blocked the bot). A sender that
crashes leaves its rows in `sending`; once the claim deadline passes they are due again.

While a row is `sending`, `not_before` holds the claim deadline instead of the original due
time (which has passed by then, so nothing is lost): no extra column is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from core.db.models import Account, OutboxMessage
from core.db.uow import UnitOfWork
from core.domain.timeutil import as_utc

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"
BLOCKED = "blocked"

MAX_ATTEMPTS = 8
DEFAULT_CLAIM_FOR = timedelta(minutes=5)
_ERROR_LEN = 200  # OutboxMessage.last_error is String(200)


@dataclass(frozen=True)
class OutboxItem:
    """A claimed row joined with what delivery needs to know about its recipient."""

    id: int
    account_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    created_at: datetime
    chat_id: int | None
    locale: str
    active: bool


def _clip(error: str) -> str:
    return error if len(error) <= _ERROR_LEN else error[: _ERROR_LEN - 1] + "…"


async def claim_due(
    uow: UnitOfWork,
    *,
    now: datetime,
    limit: int,
    claim_for: timedelta = DEFAULT_CLAIM_FOR,
) -> list[OutboxItem]:
    """Take up to `limit` due rows, oldest first, for this sender only, until `now + claim_for`.

    PostgreSQL: `FOR UPDATE SKIP LOCKED`, so concurrent senders take disjoint rows. SQLite: the
    engine begins every transaction with BEGIN IMMEDIATE, so claims are serialized anyway.
    A row still `sending` after its deadline belongs to a sender that died: it is taken again."""
    stmt = (
        select(OutboxMessage, Account.chat_id, Account.locale, Account.active)
        .join(Account, Account.id == OutboxMessage.account_id)
        .where(
            OutboxMessage.status.in_((PENDING, SENDING)),
            OutboxMessage.not_before <= now,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if uow.dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=OutboxMessage)
    rows = (await uow.session.execute(stmt)).all()
    if not rows:
        await uow.rollback()
        return []

    deadline = now + claim_for
    # The conditional updates make the claim safe even where rows were read unlocked: a row
    # another sender took in the meantime no longer matches and is not returned.
    fresh = [msg.id for msg, *_ in rows if msg.status == PENDING]
    stale = [msg.id for msg, *_ in rows if msg.status == SENDING]
    attempts: dict[int, int] = {}
    if fresh:
        result = await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(fresh), OutboxMessage.status == PENDING)
            .values(status=SENDING, not_before=deadline)
            .returning(OutboxMessage.id, OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        )
        attempts.update({row.id: row.attempts for row in result})
    if stale:
        # an abandoned claim: its sender died mid-way. That counts as an attempt, so a
        # message that crashes senders cannot loop forever.
        result = await uow.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(stale),
                OutboxMessage.status == SENDING,
                OutboxMessage.not_before <= now,
            )
            .values(status=SENDING, not_before=deadline, attempts=OutboxMessage.attempts + 1)
            .returning(OutboxMessage.id, OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        )
        retaken = {row.id: row.attempts for row in result}
        dead = [id_ for id_, n in retaken.items() if n >= MAX_ATTEMPTS]
        if dead:
            await uow.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(dead))
                .values(status=DEAD, last_error="claim expired too often")
                .execution_options(synchronize_session=False)
            )
        attempts.update({id_: n for id_, n in retaken.items() if n < MAX_ATTEMPTS})
    await uow.commit()
    return [
        OutboxItem(
            id=msg.id,
            account_id=msg.account_id,
            kind=msg.kind,
            payload=dict(msg.payload or {}),
            attempts=attempts[msg.id],
            created_at=as_utc(msg.created_at),
            chat_id=chat_id,
            locale=locale or "zh",
            active=bool(active),
        )
        for msg, chat_id, locale, active in rows
        if msg.id in attempts
    ]


async def mark_sent(uow: UnitOfWork, id: int, now: datetime) -> None:
    """Telegram accepted the message."""
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == id)
        .values(status=SENT, sent_at=now, last_error=None)
    )
    await uow.commit()


async def mark_retry(uow: UnitOfWork, id: int, *, not_before: datetime, error: str) -> str:
    """One more failed attempt: due again at `not_before`, or `dead` after MAX_ATTEMPTS.

    Returns the row's new status."""
    msg = await uow.session.get(OutboxMessage, id)
    if msg is None:
        return DEAD
    msg.attempts += 1
    msg.last_error = _clip(error)
    if msg.attempts >= MAX_ATTEMPTS:
        msg.status = DEAD
    else:
        msg.status = PENDING
        msg.not_before = not_before
    status = msg.status
    await uow.commit()
    return status


async def mark_dead(uow: UnitOfWork, id: int, *, error: str) -> None:
    """Give up on a row that can never be delivered (bad request, unknown kind, no chat)."""
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == id)
        .values(status=DEAD, last_error=_clip(error))
    )
    await uow.commit()


async def release(
    uow: UnitOfWork, ids: list[int], *, not_before: datetime, error: str | None = None
) -> None:
    """Hand claimed rows back without counting an attempt (Bot API unreachable, shutdown).

    An outage is nobody's fault: rows must stay pending however long it lasts."""
    if not ids:
        return
    values: dict[str, Any] = {"status": PENDING, "not_before": not_before}
    if error is not None:
        values["last_error"] = _clip(error)
    await uow.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == SENDING)
        .values(**values)
    )
    await uow.commit()


async def mark_progress(uow: UnitOfWork, id: int, parts_sent: int) -> None:
    """Remember how many parts of a multi-part message went out, so a retry sends the rest."""
    msg = await uow.session.get(OutboxMessage, id)
    if msg is None:
        return
    msg.payload = {**(msg.payload or {}), "_parts_sent": parts_sent}
    await uow.commit()


async def mark_recipient_blocked(uow: UnitOfWork, account_id: int) -> int:
    """The recipient blocked the bot (403): deactivate them and stop everything queued for them.

    Returns how many rows were stopped. `my_chat_member` (unblocked) reactivates the account."""
    account = await uow.session.get(Account, account_id)
    if account is not None and account.active:
        account.active = False
        uow.audit(
            actor_account_id=None,
            action="account.bot_blocked",
            entity="account",
            entity_id=account_id,
            before={"active": True},
            after={"active": False},
        )
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.account_id == account_id,
            OutboxMessage.status.in_((PENDING, SENDING)),
        )
        .values(status=BLOCKED, last_error="recipient blocked the bot")
    )
    await uow.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def update_chat_id(uow: UnitOfWork, account_id: int, chat_id: int) -> None:
    """The group became a supergroup (Telegram's migrate_to_chat_id): store the new chat id."""
    account = await uow.session.get(Account, account_id)
    if account is None or account.chat_id == chat_id:
        return
    uow.audit(
        actor_account_id=None,
        action="account.chat_migrated",
        entity="account",
        entity_id=account_id,
        before={"chat_id": account.chat_id},
        after={"chat_id": chat_id},
    )
    account.chat_id = chat_id
    await uow.commit()


async def pending_count(uow: UnitOfWork) -> int:
    """Rows not delivered yet: pending (including future ones) and in flight."""
    count = await uow.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status.in_((PENDING, SENDING)))
    )
    return int(count or 0)
