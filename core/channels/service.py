"""Use cases of delivery channels: add, list, remove, queue a test message."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from core.channels.kinds import TEST
from core.channels.targets import ChannelKind, Target, check_dingtalk_secret, parse_target
from core.db.models import Account, ChannelMessage, DeliveryChannel
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import NotFound, PermissionDenied, ValidationError
from core.domain.timeutil import as_utc

ACTIVE = "active"
BROKEN = "broken"
# the roles that receive what channels carry: regulators (digests, escalations) and labour
# companies' dispatchers (their weekly digest)
CHANNEL_ROLES = (Role.REGULATOR.value, Role.DISPATCHER.value)


@dataclass(frozen=True, slots=True)
class ChannelView:
    id: int
    account_id: int
    kind: ChannelKind
    label: str  # masked
    status: str
    created_at: datetime


def _view(row: DeliveryChannel) -> ChannelView:
    return ChannelView(
        row.id,
        row.account_id,
        ChannelKind(row.kind),
        row.label,
        row.status,
        as_utc(row.created_at),
    )


def _may_manage(actor: Actor, account_id: int) -> bool:
    return actor.role is Role.ADMIN or actor.account_id == account_id


async def add_channel(
    uow: UnitOfWork,
    actor: Actor,
    *,
    account_id: int,
    kind: ChannelKind,
    value: str,
    secret: str | None = None,
) -> ChannelView:
    """Check the URL or address, store it encrypted with a masked label; audited."""
    if not _may_manage(actor, account_id):
        raise PermissionDenied("error.forbidden")
    target: Target = parse_target(kind, value)
    if secret is not None and kind is not ChannelKind.DINGTALK:
        raise ValidationError("channels.error.secret_only_dingtalk")
    checked_secret = check_dingtalk_secret(secret) if secret is not None else None
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise NotFound("channels.error.no_account", id=account_id)
    if account.role not in CHANNEL_ROLES:
        raise ValidationError("channels.error.role")
    row = DeliveryChannel(
        account_id=account_id,
        kind=kind.value,
        target_cipher=uow.cipher.encrypt(target.url),
        secret_cipher=uow.cipher.encrypt(checked_secret) if checked_secret else None,
        label=target.label + (" (加签)" if checked_secret else ""),
        status=ACTIVE,
        created_at=uow.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="channel.add",
        entity="delivery_channel",
        entity_id=row.id,
        after={"account_id": account_id, "kind": kind.value, "label": row.label},
    )
    view = _view(row)
    await uow.commit()
    return view


async def list_channels(
    uow: UnitOfWork, actor: Actor, account_id: int | None = None
) -> list[ChannelView]:
    """Channels of one account (an account sees its own; the admin sees any or all)."""
    if account_id is None:
        if actor.role is not Role.ADMIN:
            account_id = actor.account_id
    elif not _may_manage(actor, account_id):
        raise PermissionDenied("error.forbidden")
    stmt = select(DeliveryChannel).order_by(DeliveryChannel.id)
    if account_id is not None:
        stmt = stmt.where(DeliveryChannel.account_id == account_id)
    return [_view(row) for row in (await uow.session.scalars(stmt)).all()]


async def _owned(uow: UnitOfWork, actor: Actor, channel_id: int) -> DeliveryChannel:
    row = await uow.session.get(DeliveryChannel, channel_id)
    if row is None or not _may_manage(actor, row.account_id):
        # someone else's channel is "not found" too: ids reveal nothing
        raise NotFound("channels.error.not_found", id=channel_id)
    return row


async def remove_channel(uow: UnitOfWork, actor: Actor, channel_id: int) -> ChannelView:
    """Delete a channel and its queue (nothing more goes there); audited."""
    row = await _owned(uow, actor, channel_id)
    view = _view(row)
    await uow.session.execute(delete(ChannelMessage).where(ChannelMessage.channel_id == row.id))
    await uow.session.delete(row)
    uow.audit(
        actor_account_id=actor.account_id,
        action="channel.remove",
        entity="delivery_channel",
        entity_id=channel_id,
        before={"account_id": view.account_id, "kind": view.kind.value, "label": view.label},
    )
    await uow.commit()
    return view


async def queue_test(uow: UnitOfWork, actor: Actor, channel_id: int) -> tuple[int, ChannelView]:
    """Queue a test message for one channel (even a broken one: the test shows if it is
    fixed); returns the queued row's id and the channel."""
    row = await _owned(uow, actor, channel_id)
    view = _view(row)
    now = uow.now()
    message = ChannelMessage(
        channel_id=row.id,
        account_id=row.account_id,
        kind=TEST,
        payload={"at": now.isoformat()},
        not_before=now,
        created_at=now,
    )
    uow.session.add(message)
    await uow.session.flush()
    message_id = message.id
    await uow.commit()
    return message_id, view
