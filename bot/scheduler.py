"""The scheduler: APScheduler 3.11 `AsyncIOScheduler` in Asia/Shanghai, three jobs, one leader.

Jobs (explicit ids, `replace_existing=True`, added at every start):
- `digests` every minute: queue the digests that are due (core.services.digest_schedule),
  update the delivery records, wake the outbox sender;
- `maintenance` every 5 minutes: expire postings and offers, rating prompts, purges;
- `lease` every ttl/3: renew the leader lease;
- the dispatch jobs (core.services.dispatch / wages / credit), daily at a local time:
  `arrival_check` (Settings.arrival_check_time, 10:00) and `arrival_reminder`
  (Settings.arrival_reminder_time, 09:00 the morning after), `wage_prompts` (09:00 daily;
  from Settings.wage_prompt_day on, the 5th, it asks about last month for the deals not yet
  asked, so a day missed while down is made up), `arrears` (09:30: releases at the end of a
  dispatch period, then the 7-day silence sweep) and `credit` (03:00).

Exactly-once lives in the database, not here: a digest is queued once per (recipient, day)
by a UNIQUE constraint, whichever process or run gets there. The scheduler is only the
metronome, so the default MemoryJobStore is enough: the jobs are rebuilt at start-up, and
nothing about "what was sent" would be learned from a persistent job store (which pickles
jobs and must never be shared between schedulers anyway). A digest missed while the process
was down goes out on the first tick after the restart because the tick looks for "due and
not delivered today", not for missed run times.

The leader lease (a row of table `lease`) keeps N processes (`jingong serve` workers, a
stray second `jingong scheduler`) from doing the same work N times: every process runs the
scheduler, only the holder of the lease runs the ticks. A leader that dies stops renewing;
another process takes over once the lease expires (ttl, 60 s by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from bot.sender import OutboxSender, SenderConfig
from core.config import Settings
from core.db.models import Lease
from core.db.uow import Services
from core.domain.timeutil import local_date
from core.ports import Clock
from core.services.credit import recompute_credit
from core.services.digest_schedule import (
    enqueue_due_digests,
    reconcile_deliveries,
    run_maintenance,
)
from core.services.dispatch import queue_arrival_prompts, release_ended
from core.services.rings import open_due_internal
from core.services.wages import queue_wage_prompts, sweep_arrears

log = logging.getLogger(__name__)

SCHEDULER_TZ = ZoneInfo("Asia/Shanghai")
JOB_DIGESTS = "digests"
JOB_MAINTENANCE = "maintenance"
JOB_LEASE = "lease"
JOB_ARRIVAL_CHECK = "arrival_check"
JOB_ARRIVAL_REMINDER = "arrival_reminder"
JOB_WAGE_PROMPTS = "wage_prompts"
JOB_ARREARS = "arrears"
JOB_CREDIT = "credit"
JOB_RINGS = "rings"
WAGE_PROMPT_AT = time(9, 0)
ARREARS_SWEEP_AT = time(9, 30)
CREDIT_AT = time(3, 0)
DIGEST_TICK = timedelta(minutes=1)
MAINTENANCE_EVERY = timedelta(minutes=5)
LEASE_TTL = timedelta(seconds=60)
# a tick that could not run on time (event loop blocked, a slow database) still runs late:
# a digest an hour late beats none. coalesce folds the missed runs into one.
DIGEST_GRACE = timedelta(hours=6)
STOP_GRACE = 30.0  # seconds a stopping scheduler waits for running jobs
# recipients served at once by this process's sender: each chat takes ≤ 1 message/s, so at
# 08:00, when most digests (3+ messages each) go out together, fewer than 30 recipients in
# flight could never reach the global 30 messages/s
SENDER_CONCURRENCY = 48


def sender_config() -> SenderConfig:
    """Production limits (30/s overall, 1/s per chat) with enough recipients in flight."""
    return SenderConfig(concurrency=SENDER_CONCURRENCY)


# --- the leader lease -----------------------------------------------------------------------


class LeaderLease:
    """A named lease in table `lease`: one holder at a time, until `expires_at`.

    Dialect-neutral: take it with `UPDATE … WHERE name = :name AND (holder = :me OR
    expires_at < :now)`; if no row exists, INSERT it (a concurrent INSERT loses on the
    primary key). The holder believes itself leader a little less long than the row says
    (`ttl - margin`), so two clocks a few seconds apart do not make two leaders."""

    def __init__(
        self,
        services: Services,
        name: str = "scheduler",
        ttl: timedelta = LEASE_TTL,
        *,
        holder: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.services = services
        self.name = name
        self.ttl = ttl
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock or services.clock
        self.margin = ttl / 6
        self._valid_until: datetime | None = None

    @property
    def is_leader(self) -> bool:
        return self._valid_until is not None and self.clock.now() < self._valid_until

    async def acquire(self) -> bool:
        """Take the lease, or renew it if ours; True while this process holds it."""
        now = self.clock.now()
        try:
            won = await self._take(now)
        except Exception:
            # the database is away: keep what we had until it runs out, no longer
            log.exception("lease %s: renewal failed", self.name)
            return self.is_leader
        if won:
            if not self.is_leader:
                log.info("lease %s: %s is the leader", self.name, self.holder)
            self._valid_until = now + self.ttl - self.margin
        elif self._valid_until is not None:
            log.warning("lease %s: %s lost the lead", self.name, self.holder)
            self._valid_until = None
        return won

    async def _take(self, now: datetime) -> bool:
        async with self.services.uow() as uow:
            result = await uow.session.execute(
                update(Lease)
                .where(
                    Lease.name == self.name,
                    or_(Lease.holder == self.holder, Lease.expires_at < now),
                )
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if int(getattr(result, "rowcount", 0) or 0) == 1:
                await uow.commit()
                return True
            held = await uow.session.scalar(select(Lease.name).where(Lease.name == self.name))
            if held is not None:
                return False  # someone else's, not expired
            uow.session.add(Lease(name=self.name, holder=self.holder, expires_at=now + self.ttl))
            try:
                await uow.commit()
            except IntegrityError:
                return False  # another process inserted it a moment before us
            return True

    async def release(self) -> None:
        """Give the lease up (clean stop), so another process takes over at once.

        Runs even when this process does not believe it leads: a take cancelled during
        its COMMIT may have committed on the server all the same."""
        self._valid_until = None
        with contextlib.suppress(Exception):
            async with self.services.uow() as uow:
                await uow.session.execute(
                    update(Lease)
                    .where(Lease.name == self.name, Lease.holder == self.holder)
                    .values(expires_at=self.clock.now() - timedelta(seconds=1))
                )
                await uow.commit()


# --- jobs -----------------------------------------------------------------------------------


@dataclass
class SchedulerContext:
    """What the jobs need; one per scheduler (jobs take only this)."""

    services: Services
    sender: OutboxSender | None
    clock: Clock
    lease: LeaderLease
    runs: dict[str, int] = field(default_factory=dict)  # job id → completed runs as leader
    stopping: bool = False
    # one lease call at a time, so a stop's release comes after any take still in flight
    lease_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _running: int = 0
    _idle: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self._idle.set()

    @contextlib.asynccontextmanager
    async def job(self, name: str) -> AsyncIterator[None]:
        self._running += 1
        self._idle.clear()
        try:
            yield
            self.runs[name] = self.runs.get(name, 0) + 1
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()

    async def wait_idle(self, timeout: float) -> bool:  # noqa: ASYNC109 - a grace period
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def lead(self) -> bool:
        async with self.lease_lock:
            if self.stopping:
                return False
            return self.lease.is_leader or await self.lease.acquire()

    def wake_sender(self) -> None:
        if self.sender is not None:
            self.sender.wake()


async def renew_lease_job(ctx: SchedulerContext) -> None:
    async with ctx.lease_lock:
        if not ctx.stopping:
            await ctx.lease.acquire()


async def digest_tick_job(ctx: SchedulerContext) -> None:
    """Queue due digests (leader only), record finished deliveries, wake the sender."""
    if not await ctx.lead():
        return
    async with ctx.job(JOB_DIGESTS):
        async with ctx.services.uow() as uow:
            queued = await enqueue_due_digests(uow, ctx.clock.now())
        if queued:
            log.info("queued %d digests", len(queued))
            ctx.wake_sender()
        async with ctx.services.uow() as uow:
            await reconcile_deliveries(uow)


async def maintenance_job(ctx: SchedulerContext) -> None:
    if not await ctx.lead():
        return
    async with ctx.job(JOB_MAINTENANCE):
        report = await run_maintenance(ctx.services, ctx.clock.now())
        if report.expired_deals or report.rating_prompts:
            ctx.wake_sender()  # both queue notifications


async def arrival_check_job(ctx: SchedulerContext) -> None:
    """The start day's arrival lists and the next morning's reminders (once per deal)."""
    if not await ctx.lead():
        return
    async with ctx.job(JOB_ARRIVAL_CHECK), ctx.services.uow() as uow:
        if await queue_arrival_prompts(uow, ctx.clock.now()):
            ctx.wake_sender()


async def wage_prompt_job(ctx: SchedulerContext) -> None:
    """Last month's wage questions, from the wage day on (once per deal and month)."""
    if not await ctx.lead():
        return
    async with ctx.job(JOB_WAGE_PROMPTS), ctx.services.uow() as uow:
        if await queue_wage_prompts(uow, ctx.clock.now()):
            ctx.wake_sender()


async def arrears_job(ctx: SchedulerContext) -> None:
    """Dispatch periods that ended send their workers back; silent wage periods become
    arrears alerts."""
    if not await ctx.lead():
        return
    async with ctx.job(JOB_ARREARS):
        today = local_date(ctx.clock.now())
        async with ctx.services.uow() as uow:
            released = await release_ended(uow, today)
        async with ctx.services.uow() as uow:
            opened = await sweep_arrears(uow, today)
        if released or opened:
            ctx.wake_sender()


async def credit_job(ctx: SchedulerContext) -> None:
    """Every enterprise's credit score and every worker's grade, from behaviour."""
    if not await ctx.lead():
        return
    async with ctx.job(JOB_CREDIT), ctx.services.uow() as uow:
        run = await recompute_credit(uow, local_date(ctx.clock.now()))
        log.info("credit: %d enterprises (%d changed)", run.enterprises, run.enterprises_changed)


async def rings_job(ctx: SchedulerContext) -> None:
    """Internal postings past their company's hours open to the market (once each)."""
    if not await ctx.lead():
        return
    async with ctx.job(JOB_RINGS), ctx.services.uow() as uow:
        opened = await open_due_internal(uow, ctx.clock.now())
    if opened:
        log.info("rings: %d internal postings opened to the market", len(opened))
        ctx.wake_sender()


def _daily(at: time) -> CronTrigger:
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=SCHEDULER_TZ)


# --- the scheduler --------------------------------------------------------------------------


class JingongScheduler(AsyncIOScheduler):  # type: ignore[misc]
    """AsyncIOScheduler with its job context and a clean, awaitable stop."""

    context: SchedulerContext

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """No new runs; wait for running jobs (up to `grace` s); shut down; give up the lease."""
        async with self.context.lease_lock:  # a take in flight finishes before shutdown
            self.context.stopping = True
        if self.running:
            self.pause()
            if not await self.context.wait_idle(grace):
                log.warning("scheduler jobs still running after %.0f s: cancelled", grace)
            self.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback
        async with self.context.lease_lock:  # a lease taken while stopping is released too
            await self.context.lease.release()


def _seconds(value: timedelta) -> float:
    return value.total_seconds()


def build_scheduler(
    services: Services,
    *,
    sender: OutboxSender | None,
    clock: Clock,
    lease: LeaderLease | None = None,
    tick: timedelta = DIGEST_TICK,
    maintenance: timedelta = MAINTENANCE_EVERY,
    lease_renew: timedelta | None = None,
) -> JingongScheduler:
    """The scheduler with its three jobs, not started (`scheduler.start()` inside a loop).

    Intervals are injectable so a test can run the real thing for a few seconds."""
    lease = lease or LeaderLease(services, clock=clock)
    ctx = SchedulerContext(services=services, sender=sender, clock=clock, lease=lease)
    scheduler = JingongScheduler(timezone=SCHEDULER_TZ)
    scheduler.context = ctx
    now = datetime.now(SCHEDULER_TZ)
    common: dict[str, Any] = {
        "args": [ctx],
        "replace_existing": True,
        "coalesce": True,  # runs missed while blocked fold into one
        "max_instances": 1,  # a slow tick is never overlapped by the next
    }
    scheduler.add_job(
        renew_lease_job,
        IntervalTrigger(seconds=_seconds(lease_renew or lease.ttl / 3), timezone=SCHEDULER_TZ),
        id=JOB_LEASE,
        name="renew the leader lease",
        next_run_time=now,  # find out at once who leads
        misfire_grace_time=int(lease.ttl.total_seconds()) or 1,
        **common,
    )
    scheduler.add_job(
        digest_tick_job,
        IntervalTrigger(seconds=_seconds(tick), timezone=SCHEDULER_TZ),
        id=JOB_DIGESTS,
        name="queue due digests",
        next_run_time=now,  # after a restart, what was missed goes out now, not in a minute
        misfire_grace_time=int(DIGEST_GRACE.total_seconds()),
        **common,
    )
    scheduler.add_job(
        maintenance_job,
        IntervalTrigger(seconds=_seconds(maintenance), timezone=SCHEDULER_TZ),
        id=JOB_MAINTENANCE,
        name="expiry, rating prompts, purges",
        misfire_grace_time=int(DIGEST_GRACE.total_seconds()),
        **common,
    )
    scheduler.add_job(
        rings_job,
        IntervalTrigger(seconds=_seconds(maintenance), timezone=SCHEDULER_TZ),
        id=JOB_RINGS,
        name="internal postings open to the market",
        misfire_grace_time=int(DIGEST_GRACE.total_seconds()),
        **common,
    )
    settings = services.settings
    for job_id, func, at, name in (
        (JOB_ARRIVAL_CHECK, arrival_check_job, settings.arrival_check_time, "arrival lists"),
        (
            JOB_ARRIVAL_REMINDER,
            arrival_check_job,
            settings.arrival_reminder_time,
            "arrival reminders",
        ),
        (JOB_WAGE_PROMPTS, wage_prompt_job, WAGE_PROMPT_AT, "monthly wage questions"),
        (JOB_ARREARS, arrears_job, ARREARS_SWEEP_AT, "period ends and the arrears sweep"),
        (JOB_CREDIT, credit_job, CREDIT_AT, "credit recomputation"),
    ):
        scheduler.add_job(
            func,
            _daily(at),
            id=job_id,
            name=name,
            misfire_grace_time=int(DIGEST_GRACE.total_seconds()),
            **common,
        )
    return scheduler


# --- the process ----------------------------------------------------------------------------


async def run_scheduler(
    settings: Settings, *, stop: asyncio.Event | None = None, render_processes: int | None = None
) -> None:
    """`jingong scheduler`: services, bot, outbox sender and scheduler until SIGINT/SIGTERM
    (or `stop` is set); then a clean stop: jobs finished, lease released, sender drained.

    Digest charts and workbooks render in `render_processes` worker processes (default: one
    per CPU; 0: a thread of this process), so the 08:00 burst keeps the sender at full rate."""
    from bot.renderers.digest import start_render_pool, stop_render_pool
    from bot.runtime import open_runtime  # it builds schedulers with this module
    from core.cli.common import open_services

    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
    try:
        async with (
            open_services(settings) as (_engine, services),
            open_runtime(settings, services=services, sender_config=sender_config()) as runtime,
        ):
            runtime.start_sender()
            scheduler = runtime.start_scheduler()
            log.info("scheduler running as %s", scheduler.context.lease.holder)
            if render_processes != 0:
                # warmed while the first tick runs; until then charts render in a thread
                await start_render_pool(render_processes)
            await stop.wait()
    finally:
        # after the runtime stopped the scheduler and the sender: nothing renders any more
        await stop_render_pool()
        for sig in handled:
            loop.remove_signal_handler(sig)
