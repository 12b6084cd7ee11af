"""信用 earned by behaviour, recomputed daily: every enterprise's score and every worker's
grade from what happened on their dispatches. The formula is core.domain.credit; this module
only counts its inputs (a handful of GROUP BY queries, whatever the number of enterprises) and
stores the results: Enterprise.credit_score / credit_grade (read by matching and the
regulators' top-50), the components in table enterprise_credit, Worker.credit_grade.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, delete, func, insert, select, update

from core.db.models import (
    ArrearsAlert,
    Deal,
    DispatchAssignment,
    Enterprise,
    EnterpriseCreditScore,
    Rating,
    WagePeriod,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.credit import CreditInputs, CreditScore, enterprise_credit, worker_grade
from core.domain.dispatch import AlertReason, AlertStatus, Arrival, PayerAnswer
from core.domain.errors import NotFound
from core.domain.timeutil import SHANGHAI, as_utc

CHUNK = 1000


@dataclass(frozen=True, slots=True)
class CreditRun:
    enterprises: int
    enterprises_changed: int
    workers: int
    workers_changed: int


@dataclass(frozen=True, slots=True)
class CreditExplanation:
    enterprise_id: int
    name: str
    credit: CreditScore
    stored_score: int
    stored_on: date | None


@dataclass
class _Counts:
    inputs: dict[int, dict[str, int]] = field(default_factory=lambda: defaultdict(dict))

    def add(self, enterprise_id: int, key: str, value: int) -> None:
        bucket = self.inputs[enterprise_id]
        bucket[key] = bucket.get(key, 0) + int(value or 0)

    def of(self, enterprise_id: int) -> CreditInputs:
        return CreditInputs(**self.inputs.get(enterprise_id, {}))


def _end_of_local_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)


async def gather_inputs(
    uow: UnitOfWork, today: date, enterprise_ids: Sequence[int] | None = None
) -> dict[int, CreditInputs]:
    """Each enterprise's CreditInputs as of `today` (all of them, or the ones named)."""
    counts = _Counts()
    grace = timedelta(days=uow.settings.arrears_grace_days)

    def only(column: Any) -> list[Any]:
        return [] if enterprise_ids is None else [column.in_(list(enterprise_ids))]

    # fulfilment and no-shows: the labor side's workers due on site by today
    rows = await uow.session.execute(
        select(
            DispatchAssignment.enterprise_id,
            func.count(),
            func.sum(case((DispatchAssignment.arrival == Arrival.NO_SHOW.value, 1), else_=0)),
        )
        .where(DispatchAssignment.due_on <= today, *only(DispatchAssignment.enterprise_id))
        .group_by(DispatchAssignment.enterprise_id)
    )
    for enterprise_id, promised, no_shows in rows:
        counts.add(enterprise_id, "promised", promised)
        counts.add(enterprise_id, "no_shows", no_shows or 0)
        counts.add(enterprise_id, "arrived", int(promised) - int(no_shows or 0))

    # payment: months due by the grace day (or answered already), per side
    rows = await uow.session.execute(
        select(
            Deal.shortage_enterprise_id,
            Deal.idle_enterprise_id,
            WagePeriod.due_on,
            WagePeriod.payer_answer,
            WagePeriod.payer_answered_at,
            WagePeriod.workers_paid,
        )
        .select_from(WagePeriod)
        .join(Deal, Deal.id == WagePeriod.deal_id)
    )
    wanted = None if enterprise_ids is None else set(enterprise_ids)
    for payer, labor, due_on, answer, answered_at, workers_paid in rows:
        overdue = due_on + grace <= today
        if (wanted is None or payer in wanted) and (overdue or answer is not None):
            counts.add(payer, "months_owed", 1)
            on_time = answered_at is not None and as_utc(answered_at) < _end_of_local_day(
                due_on + grace
            )
            if answer == PayerAnswer.PAID and on_time:
                counts.add(payer, "months_kept", 1)
        if (wanted is None or labor in wanted) and (overdue or workers_paid is not None):
            counts.add(labor, "months_owed", 1)
            if workers_paid:
                counts.add(labor, "months_kept", 1)

    # ratings the enterprise's workers received on its dispatches
    rows = await uow.session.execute(
        select(Deal.idle_enterprise_id, func.count(), func.sum(Rating.stars))
        .select_from(Rating)
        .join(Deal, Deal.id == Rating.deal_id)
        .where(*only(Deal.idle_enterprise_id))
        .group_by(Deal.idle_enterprise_id)
    )
    for enterprise_id, n, stars in rows:
        counts.add(enterprise_id, "rating_count", n)
        counts.add(enterprise_id, "rating_sum", stars or 0)

    # open arrears: the labor side owes "workers not paid", the receiving side the rest
    owes = case(
        (ArrearsAlert.reason == AlertReason.WORKERS_UNPAID.value, Deal.idle_enterprise_id),
        else_=Deal.shortage_enterprise_id,
    )
    rows = await uow.session.execute(
        select(owes, func.count())
        .select_from(ArrearsAlert)
        .join(Deal, Deal.id == ArrearsAlert.deal_id)
        .where(ArrearsAlert.status == AlertStatus.OPEN.value)
        .group_by(owes)
    )
    for enterprise_id, n in rows:
        if wanted is None or enterprise_id in wanted:
            counts.add(enterprise_id, "open_arrears", n)

    ids = (
        list(enterprise_ids)
        if enterprise_ids is not None
        else list(await uow.session.scalars(select(Enterprise.id).order_by(Enterprise.id)))
    )
    return {enterprise_id: counts.of(enterprise_id) for enterprise_id in ids}


async def recompute_credit(uow: UnitOfWork, today: date) -> CreditRun:
    """Every enterprise's score and every worker's grade, stored in one transaction."""
    inputs = await gather_inputs(uow, today)
    current = {
        id_: (score, grade)
        for id_, score, grade in await uow.session.execute(
            select(Enterprise.id, Enterprise.credit_score, Enterprise.credit_grade)
        )
    }
    scores = {id_: enterprise_credit(facts) for id_, facts in inputs.items()}
    changed = [
        {"id": id_, "credit_score": c.score, "credit_grade": c.grade}
        for id_, c in scores.items()
        if current.get(id_) != (c.score, c.grade)
    ]
    for start in range(0, len(changed), CHUNK):
        # ORM bulk UPDATE by primary key: one executemany per chunk
        await uow.session.execute(update(Enterprise), changed[start : start + CHUNK])
    # the components of today's run replace yesterday's (dialect-neutral: no upsert)
    await uow.session.execute(delete(EnterpriseCreditScore))
    stored = [
        {
            "enterprise_id": id_,
            "score": c.score,
            "components": {**c.components(), "inputs": _inputs_json(c.inputs)},
            "computed_on": today,
        }
        for id_, c in scores.items()
    ]
    for start in range(0, len(stored), CHUNK):
        await uow.session.execute(insert(EnterpriseCreditScore), stored[start : start + CHUNK])

    workers, workers_changed = await _recompute_workers(uow, today)
    await uow.commit()
    return CreditRun(len(scores), len(changed), workers, workers_changed)


def _inputs_json(inputs: CreditInputs) -> dict[str, int]:
    return {
        "promised": inputs.promised,
        "arrived": inputs.arrived,
        "no_shows": inputs.no_shows,
        "months_owed": inputs.months_owed,
        "months_kept": inputs.months_kept,
        "rating_count": inputs.rating_count,
        "rating_sum": inputs.rating_sum,
        "open_arrears": inputs.open_arrears,
    }


async def _recompute_workers(uow: UnitOfWork, today: date) -> tuple[int, int]:
    record: dict[int, tuple[int, int]] = {}
    rows = await uow.session.execute(
        select(
            DispatchAssignment.worker_id,
            func.sum(case((DispatchAssignment.arrival == Arrival.ARRIVED.value, 1), else_=0)),
            func.sum(case((DispatchAssignment.arrival == Arrival.NO_SHOW.value, 1), else_=0)),
        )
        .where(DispatchAssignment.due_on <= today)
        .group_by(DispatchAssignment.worker_id)
    )
    for worker_id, arrivals, no_shows in rows:
        record[worker_id] = (int(arrivals or 0), int(no_shows or 0))
    changed: list[dict[str, Any]] = []
    total = 0
    for worker_id, grade, rating_sum, rating_count in await uow.session.execute(
        select(Worker.id, Worker.credit_grade, Worker.rating_sum, Worker.rating_count)
    ):
        total += 1
        arrivals, no_shows = record.get(worker_id, (0, 0))
        new = worker_grade(
            rating_count=rating_count, rating_sum=rating_sum, arrivals=arrivals, no_shows=no_shows
        )
        if new != grade:
            changed.append({"id": worker_id, "credit_grade": new})
    for start in range(0, len(changed), CHUNK):
        await uow.session.execute(update(Worker), changed[start : start + CHUNK])
    return total, len(changed)


async def explain_credit(uow: UnitOfWork, enterprise_id: int, today: date) -> CreditExplanation:
    """One enterprise's score as of today, each component with its inputs (CLI, support)."""
    enterprise = await uow.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("error.enterprise_not_found")
    inputs = (await gather_inputs(uow, today, [enterprise_id]))[enterprise_id]
    stored_on = await uow.session.scalar(
        select(EnterpriseCreditScore.computed_on).where(
            EnterpriseCreditScore.enterprise_id == enterprise_id
        )
    )
    return CreditExplanation(
        enterprise_id=enterprise_id,
        name=enterprise.name,
        credit=enterprise_credit(replace(inputs)),
        stored_score=enterprise.credit_score,
        stored_on=stored_on,
    )


async def credit_components(
    uow: UnitOfWork, enterprise_ids: Sequence[int]
) -> dict[int, dict[str, Any]]:
    """The stored components of the last daily run, for lists that show the breakdown."""
    if not enterprise_ids:
        return {}
    rows = await uow.session.execute(
        select(EnterpriseCreditScore.enterprise_id, EnterpriseCreditScore.components).where(
            EnterpriseCreditScore.enterprise_id.in_(list(enterprise_ids))
        )
    )
    return {enterprise_id: dict(components) for enterprise_id, components in rows}
