"""When digests go out: exactly once per (recipient, kind, day), decided by the database.

The scheduler only says "it is time to look"; what to send is decided here, from the rows:
a recipient is due when their local digest time (Account.digest_time in Account.timezone,
Asia/Shanghai by default) has passed today and no DigestDelivery row exists for
(account, kind, local today). The DigestDelivery row and the outbox rows that carry the digest
are written in ONE transaction, so either both exist or neither does, and the UNIQUE
(account_id, kind, day) constraint lets exactly one of several concurrent ticks (a job run
twice, two scheduler processes) win; the losers get an IntegrityError and skip.

Consequences:
- A digest missed while the process was down goes out at the first tick after it comes back,
  the same local day: the tick looks for "due and not yet delivered today", not for "due in
  the last minute".
- After the recipient's local day has ended the missed digest is NOT sent: yesterday's digest
  is stale once today's is due, and a burst of old digests after an outage helps nobody.
- Each recipient is handled in its own transaction: one failure does not block the others.

What goes into the outbox: the text chunks, rendered now in the recipient's language (kind
"digest_text", payload {"html": chunk, …}), then one "digest_chart" and one "digest_xlsx" row
whose payload only names the digest ({region_code, day, locale}). Their renderers rebuild the
digest and the PNG / xlsx bytes at send time: binary blobs (50–200 kB each) would bloat the
outbox table, its JSON column and every claim query, while a digest of a past cut-off is
cheap to rebuild and comes out the same (see core.services.digests).

Labour companies (dispatchers of subcontracting and labour-service enterprises, the ones that
supply workers) get a weekly digest of their own figures on Mondays at their digest time:
kind "weekly", day = that Monday, covering the seven days before it. A missed Monday is not
made up on Tuesday, for the same reason as above.

Digests ignore `notifications_enabled` and quiet hours: the recipient chose the digest time,
the switch silences match notifications. Recipients without a Telegram chat are skipped (and
get the digest if they bind later that day).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from core.channels.kinds import DIGEST as CHANNEL_DIGEST
from core.channels.kinds import WEEKLY as CHANNEL_WEEKLY
from core.db.models import (
    Account,
    DigestDelivery,
    Enterprise,
    FsmRecord,
    OutboxMessage,
    ProcessedUpdate,
)
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import EnterpriseType, Role
from core.domain.timeutil import SHANGHAI, as_utc
from core.reports.text import render_company_weekly_text, render_digest_text
from core.services.digests import Digest, build_company_weekly, build_digest
from core.services.regions import normalize_region_code

log = logging.getLogger(__name__)

DAILY = "daily"
WEEKLY = "weekly"
# outbox kinds (bot/renderers/digest.py renders them)
KIND_TEXT = "digest_text"
KIND_CHART = "digest_chart"
KIND_XLSX = "digest_xlsx"
KIND_ARREARS_CHART = "digest_arrears_chart"  # only when the region has open 欠薪预警
KIND_WEEKLY = "weekly"

# DigestDelivery.status
QUEUED = "queued"
SENT = "sent"
BLOCKED = "blocked"
FAILED = "failed"

WEEKLY_ENTERPRISE_TYPES = (EnterpriseType.LABOR_SERVICE.value, EnterpriseType.SUBCONTRACTOR.value)
PROCESSED_UPDATE_KEEP = timedelta(hours=48)  # Telegram re-sends for up to 24 h
FSM_KEEP = timedelta(days=30)
RECONCILE_WINDOW = timedelta(days=3)  # deliveries older than this stay as they are


@dataclass(frozen=True, slots=True)
class EnqueuedDigest:
    """A digest queued for one recipient (or found already queued: `already`)."""

    account_id: int
    kind: str  # DAILY | WEEKLY
    day: date
    region_code: str | None  # daily digests
    enterprise_id: int | None  # weekly digests
    parts: int  # outbox rows queued now; 0 when `already`
    already: bool = False


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    expired_postings: int = 0
    expired_deals: int = 0
    rating_prompts: int = 0
    purged_updates: int = 0
    purged_fsm: int = 0
    interrupted_told: int = 0  # users told their last step may not have completed
    failed: tuple[str, ...] = ()  # steps that raised (logged); the others still ran


@dataclass(frozen=True, slots=True)
class _Recipient:
    account_id: int
    locale: str
    digest_time: time
    zone: ZoneInfo
    region_code: str | None = None
    enterprise_id: int | None = None

    def actor(self, role: Role) -> Actor:
        # the recipient's own scope: build_digest re-checks that the region is theirs
        return Actor(
            account_id=self.account_id,
            role=role,
            enterprise_id=self.enterprise_id,
            region_code=self.region_code,
            locale=self.locale,
        )


@dataclass
class _BuildCache:
    """Regulators of the same region share one digest per tick (and one rendering per locale)."""

    digests: dict[tuple[str, date], Digest] = field(default_factory=dict)
    texts: dict[tuple[str, date, str], list[str]] = field(default_factory=dict)


# Digests built by recent ticks, for the chart and workbook renderers of the same process:
# they show the very figures the text was rendered from, and the digest is not built twice.
RECENT_SECONDS = 900.0
RECENT_SIZE = 512
_recent: OrderedDict[tuple[str, date], tuple[float, Digest]] = OrderedDict()


def remember_digest(digest: Digest) -> None:
    key = (digest.region.code, digest.day)
    _recent[key] = (monotonic(), digest)
    _recent.move_to_end(key)
    while len(_recent) > RECENT_SIZE:
        _recent.popitem(last=False)


def recent_digest(region_code: str, day: date) -> Digest | None:
    """The digest of (region, day) this process built in the last RECENT_SECONDS, if any."""
    hit = _recent.get((region_code, day))
    if hit is None or monotonic() - hit[0] > RECENT_SECONDS:
        return None
    return hit[1]


def forget_digests() -> None:
    _recent.clear()


@lru_cache(maxsize=64)
def zone_of(name: str | None) -> ZoneInfo:
    """The account's time zone; Asia/Shanghai when unset or unknown."""
    if not name:
        return SHANGHAI
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        log.warning("unknown time zone %r, using Asia/Shanghai", name)
        return SHANGHAI


def dedup_key(kind: str, account_id: int, day: date, part: str) -> str:
    """Outbox dedup key of one part: "digest:7:2026-03-04:text:0", "weekly:9:2026-03-02:text:0"."""
    prefix = "digest" if kind == DAILY else "weekly"
    return f"{prefix}:{account_id}:{day.isoformat()}:{part}"


def _key_prefix(kind: str, account_id: int, day: date) -> str:
    return dedup_key(kind, account_id, day, "")


def _local_due(recipient: _Recipient, now: datetime) -> tuple[date, bool]:
    """(local today, has the digest time passed today)."""
    local = now.astimezone(recipient.zone)
    return local.date(), local.time().replace(tzinfo=None) >= recipient.digest_time


# --- recipients -----------------------------------------------------------------------------


async def _regulators(uow: UnitOfWork, region_code: str | None = None) -> list[_Recipient]:
    stmt = (
        select(
            Account.id, Account.locale, Account.digest_time, Account.timezone, Account.region_code
        )
        .where(
            Account.role == Role.REGULATOR.value,
            Account.active.is_(True),
            Account.chat_id.is_not(None),
            Account.region_code.is_not(None),
        )
        .order_by(Account.id)
    )
    if region_code is not None:
        stmt = stmt.where(Account.region_code == region_code)
    rows = await uow.session.execute(stmt)
    return [
        _Recipient(
            account_id=id_,
            locale=locale or "zh",
            digest_time=digest_time or time(8, 0),
            zone=zone_of(tz),
            region_code=region,
        )
        for id_, locale, digest_time, tz, region in rows
    ]


async def _company_dispatchers(uow: UnitOfWork) -> list[_Recipient]:
    rows = await uow.session.execute(
        select(
            Account.id,
            Account.locale,
            Account.digest_time,
            Account.timezone,
            Account.enterprise_id,
        )
        .join(Enterprise, Enterprise.id == Account.enterprise_id)
        .where(
            Account.role == Role.DISPATCHER.value,
            Account.active.is_(True),
            Account.chat_id.is_not(None),
            Enterprise.type.in_(WEEKLY_ENTERPRISE_TYPES),
        )
        .order_by(Account.id)
    )
    return [
        _Recipient(
            account_id=id_,
            locale=locale or "zh",
            digest_time=digest_time or time(8, 0),
            zone=zone_of(tz),
            enterprise_id=enterprise_id,
        )
        for id_, locale, digest_time, tz, enterprise_id in rows
    ]


async def _delivered(uow: UnitOfWork, kind: str, days: set[date]) -> set[tuple[int, date]]:
    if not days:
        return set()
    rows = await uow.session.execute(
        select(DigestDelivery.account_id, DigestDelivery.day).where(
            DigestDelivery.kind == kind, DigestDelivery.day.in_(sorted(days))
        )
    )
    return {(account_id, day) for account_id, day in rows}


# --- queueing one digest --------------------------------------------------------------------


async def _commit_delivery(
    uow: UnitOfWork,
    recipient: _Recipient,
    kind: str,
    day: date,
    parts: Sequence[tuple[str, str, dict[str, Any]]],
    channel_copy: tuple[str, dict[str, Any]] | None = None,
) -> bool:
    """Insert the DigestDelivery and its outbox rows (and, with `channel_copy`, one message per
    delivery channel of the recipient) in one transaction; False if another process (or an
    earlier tick) got there first."""
    uow.session.add(
        DigestDelivery(
            account_id=recipient.account_id,
            kind=kind,
            day=day,
            region_code=recipient.region_code,
            created_at=uow.now(),
            status=QUEUED,
        )
    )
    try:
        await uow.session.flush()
        for part, outbox_kind, payload in parts:
            queued = await uow.notify(
                account_id=recipient.account_id,
                kind=outbox_kind,
                payload=payload,
                dedup_key=dedup_key(kind, recipient.account_id, day, part),
            )
            if not queued:  # rows from an earlier delivery whose record was removed by hand
                await uow.rollback()
                return False
        if channel_copy is not None:
            channel_kind, channel_payload = channel_copy
            await uow.notify_channels(
                account_id=recipient.account_id,
                kind=channel_kind,
                payload=channel_payload,
                dedup_key=dedup_key(kind, recipient.account_id, day, channel_kind),
            )
        await uow.commit()
    except IntegrityError:
        await uow.rollback()  # UNIQUE(account_id, kind, day): another tick won
        return False
    return True


async def _enqueue_daily(
    uow: UnitOfWork, recipient: _Recipient, day: date, cache: _BuildCache
) -> EnqueuedDigest:
    region = recipient.region_code
    assert region is not None
    # end the reading transaction first: on SQLite every transaction holds the write lock,
    # and building a digest takes a while
    await uow.rollback()
    digest = cache.digests.get((region, day))
    if digest is None:
        digest = await build_digest(uow, recipient.actor(Role.REGULATOR), region, day)
        cache.digests[(region, day)] = digest
        remember_digest(digest)
        await uow.rollback()
    chunks = cache.texts.get((region, day, recipient.locale))
    if chunks is None:
        chunks = render_digest_text(digest, recipient.locale)
        cache.texts[(region, day, recipient.locale)] = chunks
    ref = {"region_code": region, "day": day.isoformat(), "locale": recipient.locale}
    parts: list[tuple[str, str, dict[str, Any]]] = [
        (f"text:{i}", KIND_TEXT, {**ref, "html": chunk, "part": i + 1, "parts": len(chunks)})
        for i, chunk in enumerate(chunks)
    ]
    parts.append(("chart", KIND_CHART, dict(ref)))
    parts.append(("xlsx", KIND_XLSX, dict(ref)))
    if digest.arrears.open_count:
        parts.append(("arrears_chart", KIND_ARREARS_CHART, dict(ref)))
    # WeCom, DingTalk and e-mail get the digest as one message each, rendered at send time
    won = await _commit_delivery(uow, recipient, DAILY, day, parts, (CHANNEL_DIGEST, dict(ref)))
    return EnqueuedDigest(
        recipient.account_id, DAILY, day, region, None, len(parts) if won else 0, not won
    )


async def _enqueue_weekly(uow: UnitOfWork, recipient: _Recipient, day: date) -> EnqueuedDigest:
    enterprise_id = recipient.enterprise_id
    assert enterprise_id is not None
    await uow.rollback()
    weekly = await build_company_weekly(
        uow, recipient.actor(Role.DISPATCHER), enterprise_id, day - timedelta(days=1)
    )
    await uow.rollback()
    chunks = render_company_weekly_text(weekly, recipient.locale)
    ref = {"enterprise_id": enterprise_id, "day": day.isoformat(), "locale": recipient.locale}
    parts = [
        (f"text:{i}", KIND_WEEKLY, {**ref, "html": chunk, "part": i + 1, "parts": len(chunks)})
        for i, chunk in enumerate(chunks)
    ]
    won = await _commit_delivery(uow, recipient, WEEKLY, day, parts, (CHANNEL_WEEKLY, dict(ref)))
    return EnqueuedDigest(
        recipient.account_id, WEEKLY, day, None, enterprise_id, len(parts) if won else 0, not won
    )


async def _each(
    uow: UnitOfWork,
    due: Sequence[tuple[_Recipient, date]],
    enqueue: Callable[[_Recipient, date], Awaitable[EnqueuedDigest]],
) -> list[EnqueuedDigest]:
    done = []
    for recipient, day in due:
        try:
            result = await enqueue(recipient, day)
        except Exception:
            # one recipient's failure (a bad region, a rendering bug) must not block the rest;
            # nothing was written for them, so the next tick tries again
            log.exception("digest for account %s on %s failed", recipient.account_id, day)
            await uow.rollback()
            continue
        if not result.already:
            done.append(result)
    return done


# --- the tick -------------------------------------------------------------------------------


async def enqueue_due_digests(uow: UnitOfWork, now: datetime) -> list[EnqueuedDigest]:
    """Queue every daily (and Monday weekly) digest that is due and not yet delivered today.

    Safe to run any number of times, concurrently, from any number of processes: each
    (recipient, kind, local day) is queued once. Returns what this call queued."""
    now = as_utc(now)
    cache = _BuildCache()

    regulators = await _regulators(uow)
    due_daily: list[tuple[_Recipient, date]] = []
    for recipient in regulators:
        today, due = _local_due(recipient, now)
        if due:
            due_daily.append((recipient, today))
    done_daily = await _delivered(uow, DAILY, {day for _, day in due_daily})
    due_daily = [(r, d) for r, d in due_daily if (r.account_id, d) not in done_daily]

    dispatchers = await _company_dispatchers(uow)
    due_weekly: list[tuple[_Recipient, date]] = []
    for recipient in dispatchers:
        today, due = _local_due(recipient, now)
        if due and today.weekday() == 0:  # Monday
            due_weekly.append((recipient, today))
    done_weekly = await _delivered(uow, WEEKLY, {day for _, day in due_weekly})
    due_weekly = [(r, d) for r, d in due_weekly if (r.account_id, d) not in done_weekly]
    await uow.rollback()

    queued = await _each(uow, due_daily, lambda r, d: _enqueue_daily(uow, r, d, cache))
    queued += await _each(uow, due_weekly, lambda r, d: _enqueue_weekly(uow, r, d))
    return queued


async def send_now(uow: UnitOfWork, region_code: str, *, day: date) -> list[EnqueuedDigest]:
    """Queue `day`'s digest for every active regulator of exactly this region, whatever the
    time of day; still once per (regulator, day): those already served come back `already`."""
    code = normalize_region_code(region_code)
    recipients = await _regulators(uow, code)
    delivered = await _delivered(uow, DAILY, {day})
    await uow.rollback()
    cache = _BuildCache()
    results = []
    for recipient in recipients:
        if (recipient.account_id, day) in delivered:
            results.append(EnqueuedDigest(recipient.account_id, DAILY, day, code, None, 0, True))
            continue
        results.append(await _enqueue_daily(uow, recipient, day, cache))
    return results


# --- delivery records -----------------------------------------------------------------------


async def reconcile_deliveries(uow: UnitOfWork) -> dict[str, int]:
    """Move queued DigestDelivery rows to `sent` once all their outbox rows are sent, to
    `blocked` if the recipient blocked the bot, `failed` if a part went dead. Returns counts.

    Run by the digest tick: the sender knows nothing about digests, and a minute's delay in
    the record is harmless."""
    since = uow.now() - RECONCILE_WINDOW
    queued = (
        await uow.session.execute(
            select(
                DigestDelivery.id,
                DigestDelivery.account_id,
                DigestDelivery.kind,
                DigestDelivery.day,
            ).where(DigestDelivery.status == QUEUED, DigestDelivery.created_at >= since)
        )
    ).all()
    if not queued:
        await uow.rollback()
        return {}
    accounts = sorted({row.account_id for row in queued})
    parts: dict[tuple[int, str], list[str]] = {}
    for start in range(0, len(accounts), 500):
        rows = await uow.session.execute(
            select(OutboxMessage.account_id, OutboxMessage.dedup_key, OutboxMessage.status).where(
                OutboxMessage.account_id.in_(accounts[start : start + 500]),
                OutboxMessage.created_at >= since,
                OutboxMessage.dedup_key.is_not(None),
            )
        )
        for account_id, key, status in rows:
            # "digest:7:2026-03-04:text:0" / "digest:7:2026-03-04:chart" → "digest:7:2026-03-04:"
            prefix = ":".join((key or "").split(":", 3)[:3]) + ":"
            parts.setdefault((account_id, prefix), []).append(status)

    counts: dict[str, int] = {}
    for row in queued:
        statuses = parts.get((row.account_id, _key_prefix(row.kind, row.account_id, row.day)))
        if not statuses:
            continue
        if BLOCKED in statuses:
            new = BLOCKED
        elif all(s == SENT for s in statuses):
            new = SENT
        elif all(s in (SENT, "dead") for s in statuses):
            new = FAILED
        else:
            continue  # still on its way
        await uow.session.execute(
            update(DigestDelivery)
            .where(DigestDelivery.id == row.id, DigestDelivery.status == QUEUED)
            .values(status=new)
        )
        counts[new] = counts.get(new, 0) + 1
    await uow.commit()
    return counts


# --- maintenance ----------------------------------------------------------------------------


async def run_maintenance(services: Services, now: datetime) -> MaintenanceReport:
    """The periodic chores: expire postings and unanswered offers, queue due rating prompts,
    purge processed update ids (> 48 h) and abandoned FSM records (> 30 days), tell the users
    of updates a dead process left half-handled.

    Each chore runs in its own unit of work; one that fails is logged and the others run."""
    from core.services.deals import expire_deals
    from core.services.postings import expire_postings
    from core.services.ratings import due_rating_prompts, mark_rating_prompted
    from core.services.update_progress import tell_interrupted

    now = as_utc(now)
    failed: list[str] = []
    results: dict[str, int] = {}

    async def step(name: str, chore: Callable[[UnitOfWork], Awaitable[int]]) -> None:
        try:
            async with services.uow() as uow:
                results[name] = await chore(uow)
        except Exception:
            log.exception("maintenance step %s failed", name)
            failed.append(name)

    async def prompts(uow: UnitOfWork) -> int:
        due = await due_rating_prompts(uow, now)
        await uow.rollback()
        return sum([await mark_rating_prompted(uow, item.deal_id) for item in due])

    async def purge_updates(uow: UnitOfWork) -> int:
        result = await uow.session.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.received_at < now - PROCESSED_UPDATE_KEEP
            )
        )
        await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def purge_fsm(uow: UnitOfWork) -> int:
        result = await uow.session.execute(
            delete(FsmRecord).where(FsmRecord.updated_at < now - FSM_KEEP)
        )
        await uow.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    await step("expire_postings", lambda uow: expire_postings(uow, now))
    await step("expire_deals", expire_deals)
    await step("rating_prompts", prompts)
    await step("purge_updates", purge_updates)
    await step("purge_fsm", purge_fsm)
    # a process that died mid-update and did not come back (its claim is left behind)
    await step("interrupted_updates", lambda uow: tell_interrupted(uow, now=now))
    return MaintenanceReport(
        expired_postings=results.get("expire_postings", 0),
        expired_deals=results.get("expire_deals", 0),
        rating_prompts=results.get("rating_prompts", 0),
        purged_updates=results.get("purge_updates", 0),
        purged_fsm=results.get("purge_fsm", 0),
        interrupted_told=results.get("interrupted_updates", 0),
        failed=tuple(failed),
    )


__all__ = [
    "DAILY",
    "KIND_ARREARS_CHART",
    "KIND_CHART",
    "KIND_TEXT",
    "KIND_WEEKLY",
    "KIND_XLSX",
    "WEEKLY",
    "EnqueuedDigest",
    "MaintenanceReport",
    "dedup_key",
    "enqueue_due_digests",
    "forget_digests",
    "recent_digest",
    "reconcile_deliveries",
    "remember_digest",
    "run_maintenance",
    "send_now",
    "zone_of",
]
