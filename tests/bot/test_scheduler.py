"""The scheduler: the leader lease, the jobs, and a real AsyncIOScheduler run for a few seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

from sqlalchemy import func, select

from bot.scheduler import (
    JOB_DIGESTS,
    JOB_LEASE,
    JOB_MAINTENANCE,
    SCHEDULER_TZ,
    LeaderLease,
    build_scheduler,
    digest_tick_job,
    run_scheduler,
)
from bot.sender import OutboxSender
from core.config import Settings
from core.db.models import DigestDelivery, Lease
from core.db.uow import Services
from core.domain.enums import Role
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from tests.factories import make_account

TTL = timedelta(seconds=60)


class FakeSender:
    """Counts wake() calls: the scheduler's only use of the sender."""

    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1


def as_sender(fake: FakeSender) -> OutboxSender:
    return cast(OutboxSender, fake)


async def add_regulator(services: Services, tg: int, at: time = time(8, 0)) -> int:
    async with services.uow() as uow:
        account = await make_account(
            uow, role=Role.REGULATOR, region_code="140100", telegram_user_id=tg
        )
        account.digest_time = at
        await uow.commit()
        return account.id


async def wait_for(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Polls a condition: scheduler timing on a loaded CI machine is not exact, so the test waits
    for what must happen (with a generous bound) rather than sleeping a fixed window."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def delivery_count(services: Services) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(DigestDelivery)) or 0)


async def lease_row(services: Services) -> Any:
    async with services.uow() as uow:
        table = Lease.__table__
        return (await uow.session.execute(select(table))).one()


# --- the lease ------------------------------------------------------------------------------


async def test_of_two_contenders_one_leads_and_the_other_takes_over_after_expiry(
    services: Services, clock: FixedClock
) -> None:
    a = LeaderLease(services, ttl=TTL, holder="a")
    b = LeaderLease(services, ttl=TTL, holder="b")

    assert await a.acquire() is True
    assert await b.acquire() is False
    assert (a.is_leader, b.is_leader) == (True, False)

    clock.advance(seconds=30)
    assert await a.acquire() is True  # renewed: valid for another 60 s from now
    clock.advance(seconds=45)
    assert await b.acquire() is False  # 75 s after the first take, but only 45 after renewal

    clock.advance(seconds=16)  # a died: no renewal for 61 s
    assert a.is_leader is False  # a stops believing in itself before the row expires
    assert await b.acquire() is True
    assert await a.acquire() is False
    assert (a.is_leader, b.is_leader) == (False, True)
    assert (await lease_row(services)).holder == "b"


async def test_two_contenders_at_the_same_instant_make_one_leader(
    services: Services, clock: FixedClock
) -> None:
    leases = [LeaderLease(services, ttl=TTL, holder=f"p{i}") for i in range(4)]
    results = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sorted(results) == [False, False, False, True]
    winner = leases[results.index(True)]
    assert (await lease_row(services)).holder == winner.holder


async def test_a_released_lease_is_taken_over_at_once(
    services: Services, clock: FixedClock
) -> None:
    a = LeaderLease(services, ttl=TTL, holder="a")
    b = LeaderLease(services, ttl=TTL, holder="b")
    assert await a.acquire()
    await a.release()
    assert a.is_leader is False
    assert await b.acquire() is True


async def test_a_take_whose_caller_was_cancelled_mid_commit_is_still_released(
    services: Services, clock: FixedClock
) -> None:
    # the take's COMMIT landed on the server, but the caller was cancelled before it learned
    # so (a scheduler stopping): the process does not believe it leads, yet holds the row
    await LeaderLease(services, ttl=TTL, holder="a").acquire()
    unaware = LeaderLease(services, ttl=TTL, holder="a")
    assert unaware.is_leader is False

    await unaware.release()

    assert await LeaderLease(services, ttl=TTL, holder="b").acquire() is True


async def test_only_the_leaders_tick_queues_digests(services: Services, clock: FixedClock) -> None:
    await add_regulator(services, 9001)
    clock.at = datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
    senders = [FakeSender(), FakeSender()]
    schedulers = [
        build_scheduler(
            services,
            sender=as_sender(sender),
            clock=clock,
            lease=LeaderLease(services, ttl=TTL, holder=name),
        )
        for sender, name in zip(senders, "ab", strict=True)
    ]
    assert await schedulers[0].context.lease.acquire()

    await asyncio.gather(*(digest_tick_job(s.context) for s in schedulers))

    assert await delivery_count(services) == 1
    assert [s.context.runs.get(JOB_DIGESTS, 0) for s in schedulers] == [1, 0]
    assert [sender.wakes for sender in senders] == [1, 0]


async def test_jobs_have_ids_a_shanghai_clock_and_hours_of_misfire_grace(
    services: Services, clock: FixedClock
) -> None:
    scheduler = build_scheduler(services, sender=None, clock=clock)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {
        JOB_LEASE,
        JOB_DIGESTS,
        JOB_MAINTENANCE,
        "arrival_check",
        "arrival_reminder",
        "wage_prompts",
        "arrears",
        "credit",
        "rings",
    }
    assert str(scheduler.timezone) == str(SCHEDULER_TZ) == "Asia/Shanghai"
    digests = jobs[JOB_DIGESTS]
    assert digests.trigger.interval == timedelta(minutes=1)
    assert digests.misfire_grace_time >= 3600
    assert (digests.coalesce, digests.max_instances) == (True, 1)
    assert jobs[JOB_MAINTENANCE].trigger.interval == timedelta(minutes=5)
    assert jobs[JOB_LEASE].trigger.interval == timedelta(seconds=20)


# --- the real thing -------------------------------------------------------------------------


async def test_two_running_schedulers_fire_their_jobs_on_the_leader_only(
    services: Services, clock: FixedClock
) -> None:
    await add_regulator(services, 9001)
    await add_regulator(services, 9002, at=time(8, 30))
    clock.at = datetime(2026, 3, 4, 9, 0, tzinfo=SHANGHAI).astimezone(UTC)
    senders = [FakeSender(), FakeSender()]
    fast = {
        "tick": timedelta(seconds=0.2),
        "maintenance": timedelta(seconds=0.3),
        "lease_renew": timedelta(seconds=0.1),
    }
    schedulers = [
        build_scheduler(
            services,
            sender=as_sender(sender),
            clock=clock,
            lease=LeaderLease(services, ttl=TTL, holder=name),
            **fast,
        )
        for sender, name in zip(senders, "ab", strict=True)
    ]
    for scheduler in schedulers:
        scheduler.start()
    try:
        runs = [s.context.runs for s in schedulers]
        await wait_for(lambda: any(r.get(JOB_DIGESTS) for r in runs))
        leader = 0 if runs[0].get(JOB_DIGESTS) else 1
        follower = 1 - leader
        # the leader keeps ticking (every 0.2 s) and running maintenance; the follower never runs
        await wait_for(
            lambda: (
                runs[leader].get(JOB_DIGESTS, 0) >= 4 and runs[leader].get(JOB_MAINTENANCE, 0) >= 2
            )
        )
        assert runs[follower] == {}
        assert await delivery_count(services) == 2  # each regulator once, however many ticks
        assert senders[leader].wakes == 1
        assert senders[follower].wakes == 0

        # the leader stops cleanly (lease released): the other one carries on at once
        await schedulers[leader].stop()
        before = schedulers[follower].context.runs.get(JOB_DIGESTS, 0)
        await wait_for(lambda: schedulers[follower].context.runs.get(JOB_DIGESTS, 0) > before)
        assert (await lease_row(services)).holder == "ab"[follower]
    finally:
        for scheduler in schedulers:
            await scheduler.stop(grace=5)
    assert not any(s.running for s in schedulers)


async def test_the_scheduler_process_stops_cleanly_and_gives_up_its_lease(
    tmp_path: Path,
) -> None:
    from core.bootstrap import build_services
    from core.db.models import Base

    settings = Settings(
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-for-pii-0123456789",  # type: ignore[arg-type]
        bot_token="42:TEST",  # type: ignore[arg-type]
        telegram_api_base="http://127.0.0.1:9",  # nothing is sent: nothing is queued
    )
    engine, services = build_services(settings)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)

    stop = asyncio.Event()
    task = asyncio.create_task(run_scheduler(settings, stop=stop, render_processes=0))
    for _ in range(100):  # wait until it leads
        await asyncio.sleep(0.05)
        async with services.uow() as uow:
            if await uow.session.scalar(select(func.count()).select_from(Lease)):
                break
    stop.set()
    await asyncio.wait_for(task, 10)

    row = await lease_row(services)
    assert row.expires_at.replace(tzinfo=UTC) < datetime.now(UTC)  # released, not left to expire
    await engine.dispose()
