"""The channel outbox (table channel_outbox): claim, mark, and break a channel.

Same life as the Telegram outbox (core.services.outbox): pending → sending (claimed until a
deadline, kept in `not_before`) → sent | pending again (retry) | dead; plus `broken` for rows
of a channel whose robot said its key or token is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from core.channels.targets import ChannelKind
from core.db.models import Account, ChannelMessage, DeliveryChannel
from core.db.uow import UnitOfWork

PENDING = "pending"
SENDING = "sending"
SENT = "sent"
DEAD = "dead"
BROKEN = "broken"
_ERROR_LEN = 200


@dataclass(frozen=True)
class ChannelItem:
    """A claimed row with the decrypted target of its channel (never log `url`/`secret`)."""

    id: int
    channel_id: int
    account_id: int
    kind: str
    payload: dict[str, Any]
    attempts: int
    channel_kind: ChannelKind
    url: str
    secret: str | None
    label: str
    locale: str


def _clip(error: str) -> str:
    return error if len(error) <= _ERROR_LEN else error[: _ERROR_LEN - 1] + "…"


async def claim_due(
    uow: UnitOfWork,
    *,
    now: datetime,
    limit: int,
    claim_for: timedelta,
    only_ids: list[int] | None = None,
) -> list[ChannelItem]:
    """Take up to `limit` due rows, oldest first, for this sender until `now + claim_for`.

    PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite serializes writers anyway. A row still
    `sending` after its deadline belongs to a sender that died and is taken again."""
    stmt = (
        select(ChannelMessage, DeliveryChannel, Account.locale)
        .join(DeliveryChannel, DeliveryChannel.id == ChannelMessage.channel_id)
        .join(Account, Account.id == ChannelMessage.account_id)
        .where(
            ChannelMessage.status.in_((PENDING, SENDING)),
            ChannelMessage.not_before <= now,
        )
        .order_by(ChannelMessage.id)
        .limit(limit)
    )
    if only_ids is not None:
        stmt = stmt.where(ChannelMessage.id.in_(only_ids))
    if uow.dialect == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True, of=ChannelMessage)
    rows = (await uow.session.execute(stmt)).all()
    if not rows:
        await uow.rollback()
        return []
    result = await uow.session.execute(
        update(ChannelMessage)
        .where(
            ChannelMessage.id.in_([msg.id for msg, *_ in rows]),
            ChannelMessage.status.in_((PENDING, SENDING)),
            ChannelMessage.not_before <= now,
        )
        .values(status=SENDING, not_before=now + claim_for)
        .returning(ChannelMessage.id)
        .execution_options(synchronize_session=False)
    )
    claimed = set(result.scalars().all())
    await uow.commit()
    items = []
    for msg, channel, locale in rows:
        if msg.id not in claimed:
            continue
        items.append(
            ChannelItem(
                id=msg.id,
                channel_id=channel.id,
                account_id=msg.account_id,
                kind=msg.kind,
                payload=dict(msg.payload or {}),
                attempts=msg.attempts,
                channel_kind=ChannelKind(channel.kind),
                url=uow.cipher.decrypt(channel.target_cipher),
                secret=uow.cipher.decrypt(channel.secret_cipher)
                if channel.secret_cipher
                else None,
                label=channel.label,
                locale=locale or "zh",
            )
        )
    return items


async def mark_sent(uow: UnitOfWork, item: ChannelItem) -> None:
    """Delivered. A channel marked broken that took a message (its test) works again."""
    await uow.session.execute(
        update(ChannelMessage)
        .where(ChannelMessage.id == item.id)
        .values(status=SENT, sent_at=uow.now(), last_error=None)
    )
    await uow.session.execute(
        update(DeliveryChannel)
        .where(DeliveryChannel.id == item.channel_id, DeliveryChannel.status == BROKEN)
        .values(status="active")
    )
    await uow.commit()


async def mark_progress(uow: UnitOfWork, id: int, parts_sent: int) -> None:
    """Remember how many parts went out, so a retry sends only the rest."""
    msg = await uow.session.get(ChannelMessage, id)
    if msg is not None:
        msg.payload = {**(msg.payload or {}), "_parts_sent": parts_sent}
        await uow.commit()


async def mark_retry(
    uow: UnitOfWork, id: int, *, not_before: datetime, error: str, max_attempts: int
) -> str:
    """One more failed attempt: due again at `not_before`, or dead after `max_attempts`."""
    msg = await uow.session.get(ChannelMessage, id)
    if msg is None:
        return DEAD
    msg.attempts += 1
    msg.last_error = _clip(error)
    msg.status = DEAD if msg.attempts >= max_attempts else PENDING
    if msg.status == PENDING:
        msg.not_before = not_before
    status = msg.status
    await uow.commit()
    return status


async def release(uow: UnitOfWork, id: int, *, not_before: datetime, error: str) -> None:
    """Back to pending without counting an attempt (rate limited, no SMTP server set)."""
    await uow.session.execute(
        update(ChannelMessage)
        .where(ChannelMessage.id == id, ChannelMessage.status == SENDING)
        .values(status=PENDING, not_before=not_before, last_error=_clip(error))
    )
    await uow.commit()


async def mark_dead(uow: UnitOfWork, id: int, *, error: str) -> None:
    await uow.session.execute(
        update(ChannelMessage)
        .where(ChannelMessage.id == id)
        .values(status=DEAD, last_error=_clip(error))
    )
    await uow.commit()


async def mark_channel_broken(uow: UnitOfWork, item: ChannelItem, *, error: str) -> bool:
    """The robot refused its key or token: the channel is broken, its queue stops, and the
    account is told in Telegram once. Returns True if this call broke it."""
    result = await uow.session.execute(
        update(DeliveryChannel)
        .where(DeliveryChannel.id == item.channel_id, DeliveryChannel.status == "active")
        .values(status=BROKEN)
    )
    await uow.session.execute(
        update(ChannelMessage)
        .where(
            ChannelMessage.channel_id == item.channel_id,
            ChannelMessage.status.in_((PENDING, SENDING)),
        )
        .values(status=BROKEN, last_error=_clip(error))
    )
    changed = bool(getattr(result, "rowcount", 0))
    if changed:
        uow.audit(
            actor_account_id=None,
            action="channel.broken",
            entity="delivery_channel",
            entity_id=item.channel_id,
            before={"status": "active"},
            after={"status": BROKEN, "error": _clip(error)},
        )
    await uow.notify(
        account_id=item.account_id,
        kind="text",
        payload={"key": "channels.broken_notice", "params": {"label": item.label}},
        dedup_key=f"channel_broken:{item.channel_id}",
    )
    await uow.commit()
    return changed
