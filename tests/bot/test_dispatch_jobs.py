"""The dispatch jobs of the scheduler with time travel: the start day at 10:00, the next
morning, the 5th, seven days later, the nightly credit run. The job functions are called as
APScheduler calls them (the leader's context), the clock moved by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import func, select

from bot.scheduler import (
    JOB_ARRIVAL_CHECK,
    JOB_CREDIT,
    JOB_WAGE_PROMPTS,
    LeaderLease,
    arrears_job,
    arrival_check_job,
    build_scheduler,
    credit_job,
    wage_prompt_job,
)
from core.db.models import ArrearsAlert, Enterprise, EnterpriseCreditScore, OutboxMessage
from core.db.uow import Services
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from core.services.dispatch import get_dispatch, mark_arrival
from tests.integration.deal_world import build_world
from tests.integration.test_dispatch_life import START, accepted


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


async def kinds(services: Services) -> list[str]:
    async with services.uow() as uow:
        return list(
            await uow.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id))
        )


async def test_the_dispatch_jobs_fire_at_their_local_times(
    services: Services, clock: FixedClock
) -> None:
    scheduler = build_scheduler(services, sender=None, clock=clock)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    fields = {f.name: str(f) for f in jobs[JOB_ARRIVAL_CHECK].trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("10", "0")
    assert str(jobs[JOB_CREDIT].trigger.timezone) == "Asia/Shanghai"
    assert jobs[JOB_WAGE_PROMPTS].misfire_grace_time >= 3600


async def test_a_month_of_a_dispatch_through_the_jobs(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    scheduler = build_scheduler(
        services, sender=None, clock=clock, lease=LeaderLease(services, holder="only")
    )
    ctx = scheduler.context
    before = await kinds(services)

    clock.at = at(START, 10, 0)  # the start day, 10:00
    await arrival_check_job(ctx)
    await arrival_check_job(ctx)  # a second run (restart, two processes): nothing new
    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
        await mark_arrival(uow, w.foreman, deal_id, view.assignments[0].id, arrived=False)
    clock.at = at(date(2026, 3, 8), 9, 0)  # next morning: two still unanswered
    await arrival_check_job(ctx)

    clock.at = at(date(2026, 4, 5), 9, 0)  # the 5th
    await wage_prompt_job(ctx)
    await wage_prompt_job(ctx)
    clock.at = at(date(2026, 4, 13), 9, 30)  # seven days after the due day, nobody answered
    await arrears_job(ctx)
    await arrears_job(ctx)
    clock.at = at(date(2026, 4, 14), 3, 0)
    await credit_job(ctx)

    new = (await kinds(services))[len(before) :]
    assert new == [
        "arrival_check",
        "no_show",
        "arrival_reminder",
        "wage_prompt",
        "wage_prompt",
        "arrears_alert",
    ]
    async with services.uow() as uow:
        alerts = await uow.session.scalar(select(func.count()).select_from(ArrearsAlert))
        scores = dict(
            (
                await uow.session.execute(
                    select(Enterprise.id, Enterprise.credit_score).where(
                        Enterprise.id.in_([w.receiver_id, w.supplier_id])
                    )
                )
            ).all()
        )
        grades = dict(
            (await uow.session.execute(select(Enterprise.id, Enterprise.credit_grade))).all()
        )
        stored = await uow.session.scalar(
            select(EnterpriseCreditScore.components).where(
                EnterpriseCreditScore.enterprise_id == w.supplier_id
            )
        )
    assert alerts == 1
    assert stored is not None
    # the receiver owes an open alert and a month not kept: 24 + 0 + 15 + 10
    assert (scores[w.receiver_id], grades[w.receiver_id]) == (49, "C")
    # the supplier: 2 of 3 arrived, one no-show, its month (workers paid?) unanswered
    assert stored["inputs"]["promised"] == 3
    assert stored["inputs"]["no_shows"] == 1
    assert scores[w.supplier_id] == (20 + 0 + 15 + 20 - 3)
    assert ctx.runs[JOB_CREDIT] == 1
