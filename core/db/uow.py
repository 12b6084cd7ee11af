"""Unit of work: one session per update / request / job. Only services commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.channels.kinds import FOR_CHANNELS
from core.config import Settings
from core.db.engine import READ_ONLY
from core.db.models import AuditLog, ChannelMessage, DeliveryChannel, OutboxMessage
from core.pii import PersonalDataCipher
from core.ports import Clock, SystemClock


@dataclass
class Services:
    """What a unit of work needs besides the session; built once in the composition root."""

    session_factory: async_sessionmaker[AsyncSession]
    settings: Settings
    cipher: PersonalDataCipher
    clock: Clock = field(default_factory=SystemClock)
    # reference data read once per process (core.services.reference)
    reference_cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def uow(self, *, read_only: bool = False) -> UnitOfWork:
        """read_only: a unit of work that never writes; on SQLite it then takes no write
        lock, so it neither waits for writers nor makes them wait (core.db.sqlite_inline)."""
        return UnitOfWork(self, read_only=read_only)


class UnitOfWork:
    """`async with services.uow() as uow:` … `await uow.commit()`; anything else rolls back."""

    def __init__(self, services: Services, *, read_only: bool = False) -> None:
        self.services = services
        self.read_only = read_only
        self.settings = services.settings
        self.cipher = services.cipher
        self.clock = services.clock
        self._session: AsyncSession | None = None
        # reads a caller repeats within this unit of work (one update), by a key of its own
        self.memo: dict[str, Any] = {}

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("unit of work used outside `async with`")
        return self._session

    @property
    def dialect(self) -> str:
        bind = self.session.get_bind()
        return bind.dialect.name

    def now(self) -> datetime:
        return self.clock.now()

    async def __aenter__(self) -> UnitOfWork:
        if self.read_only:
            self._session = self.services.session_factory(execution_options=READ_ONLY)
        else:
            self._session = self.services.session_factory()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None
        try:
            await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    def audit(
        self,
        *,
        actor_account_id: int | None,
        action: str,
        entity: str,
        entity_id: object,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
    ) -> None:
        self.session.add(
            AuditLog(
                at=self.now(),
                actor_account_id=actor_account_id,
                action=action,
                entity=entity,
                entity_id=str(entity_id),
                before=before,
                after=after,
            )
        )

    async def notify(
        self,
        *,
        account_id: int,
        kind: str,
        payload: dict[str, Any],
        dedup_key: str | None = None,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue a notification in this transaction; the sender delivers it after commit.

        With a `dedup_key` a notification is queued once ever (e.g. once per matched pair)."""
        if dedup_key is not None:
            pending = [
                obj
                for obj in self.session.new
                if isinstance(obj, OutboxMessage) and obj.dedup_key == dedup_key
            ]
            found = await self.session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedup_key == dedup_key)
            )
            if pending or found is not None:
                return False
        now = self.now()
        self.session.add(
            OutboxMessage(
                account_id=account_id,
                kind=kind,
                payload=payload,
                dedup_key=dedup_key,
                not_before=not_before or now,
                created_at=now,
            )
        )
        if kind in FOR_CHANNELS:
            await self.notify_channels(
                account_id=account_id, kind=kind, payload=payload, dedup_key=dedup_key
            )
        return True

    async def notify_channels(
        self,
        *,
        account_id: int,
        kind: str,
        payload: dict[str, Any],
        dedup_key: str | None = None,
    ) -> int:
        """Queue a copy for each active delivery channel of the account (WeCom, DingTalk,
        e-mail) in this transaction; with `dedup_key`, once per channel ever. Returns how many."""
        channel_ids = (
            await self.session.scalars(
                select(DeliveryChannel.id).where(
                    DeliveryChannel.account_id == account_id,
                    DeliveryChannel.status == "active",
                )
            )
        ).all()
        now = self.now()
        for channel_id in channel_ids:
            self.session.add(
                ChannelMessage(
                    channel_id=channel_id,
                    account_id=account_id,
                    kind=kind,
                    payload=payload,
                    dedup_key=f"ch{channel_id}:{dedup_key}" if dedup_key is not None else None,
                    not_before=now,
                    created_at=now,
                )
            )
        return len(channel_ids)

    async def notify_many(self, items: list[tuple[int, str, dict[str, Any]]]) -> None:
        """Queue many notifications (account, kind, payload) in one executemany, in this
        transaction; for jobs whose own UNIQUE row already makes them once-only."""
        if not items:
            return
        now = self.now()
        await self.session.execute(
            insert(OutboxMessage),
            [
                {
                    "account_id": account_id,
                    "kind": kind,
                    "payload": payload,
                    "dedup_key": None,
                    "status": "pending",
                    "attempts": 0,
                    "not_before": now,
                    "created_at": now,
                }
                for account_id, kind, payload in items
            ],
        )
