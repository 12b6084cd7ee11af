"""A dispatch after the deal: arrival on the start date (到岗 / 未到), replacements for
no-shows, release (退场) and extension, and person-days (人天) from the real dates.

Who may do what: the receiving side (the project's foreman, a dispatcher of the receiving
enterprise) answers arrivals, releases and extends; the labor side (a dispatcher of the
enterprise whose workers moved) offers replacements. Only an accepted deal has a dispatch:
answers for a cancelled, declined or expired deal are refused.

Every prompt goes out once per (deal, kind, day): a DispatchPrompt row under UNIQUE
(deal_id, kind, day) and its outbox rows are written in one transaction, as digests are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import (
    Account,
    Deal,
    DealWorker,
    DispatchAssignment,
    DispatchPrompt,
    Enterprise,
    Project,
    ShortagePosting,
    Team,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.dispatch import Arrival, Stay, person_days, stay_of
from core.domain.enums import DealStatus, Role, Side, WorkerStatus
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import may_declare_idle
from core.domain.timeutil import SHANGHAI, local_date
from core.domain.values import fen_to_price
from core.services.region_scope import require_scope
from core.services.regions import region_clause
from core.services.workers import get_workers, take_off_offer

PROMPT_ARRIVAL = "arrival"
PROMPT_ARRIVAL_REMINDER = "arrival_reminder"
# outbox kinds (bot/renderers/dispatch.py renders them)
KIND_ARRIVAL = "arrival_check"
KIND_ARRIVAL_REMINDER = "arrival_reminder"
KIND_NO_SHOW = "no_show"
KIND_REPLACEMENT = "replacement_offered"
KIND_RELEASED = "workers_released"
KIND_END_DATE = "dispatch_end_date"
MAX_EXTEND_DAYS = 366


@dataclass(frozen=True, slots=True)
class AssignmentView:
    id: int
    worker_id: int
    worker_name: str
    id_masked: str
    credit_grade: str
    due_on: date
    arrival: Arrival
    arrived_on: date | None
    released_on: date | None
    replaces_assignment_id: int | None
    replaced: bool  # a replacement was offered for this no-show


@dataclass(frozen=True, slots=True)
class DispatchView:
    deal_id: int
    status: DealStatus
    project_id: int
    project_name: str
    receiving_enterprise_id: int
    receiving_enterprise_name: str
    labor_enterprise_id: int
    labor_enterprise_name: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    price: Decimal
    start_date: date
    end_date: date | None  # None: until released
    assignments: tuple[AssignmentView, ...]
    person_days: int  # up to the report date
    report_date: date
    my_sides: frozenset[Side]

    @property
    def on_site(self) -> int:
        return sum(
            1
            for a in self.assignments
            if a.arrival is not Arrival.NO_SHOW
            and a.released_on is None
            and a.due_on <= self.report_date
        )

    @property
    def pending(self) -> tuple[AssignmentView, ...]:
        return tuple(a for a in self.assignments if a.arrival is Arrival.PENDING)


@dataclass(frozen=True, slots=True)
class ArrivalResult:
    view: DispatchView
    changed: int  # assignments whose answer this call recorded (0: a repeated tap)


# --- loading and authorization --------------------------------------------------------------


@dataclass
class _Ctx:
    deal: Deal
    project_id: int
    sides: set[Side]


def _rows(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


def today_of(uow: UnitOfWork) -> date:
    return local_date(uow.now())


def sides_of(actor: Actor, deal: Deal, project_id: int) -> set[Side]:
    """The sides of a deal the actor may act for."""
    sides: set[Side] = set()
    if actor.can_act_for_project(project_id, deal.shortage_enterprise_id):
        sides.add(Side.SHORTAGE)
    if actor.role is Role.ADMIN or (
        actor.role is Role.DISPATCHER and actor.enterprise_id == deal.idle_enterprise_id
    ):
        sides.add(Side.IDLE)
    return sides


async def _load(uow: UnitOfWork, actor: Actor, deal_id: int) -> _Ctx:
    deal = await uow.session.get(Deal, deal_id, populate_existing=True)
    if deal is None:
        raise NotFound("error.deal_not_found")
    project_id = await uow.session.scalar(
        select(ShortagePosting.project_id).where(ShortagePosting.id == deal.shortage_id)
    )
    assert project_id is not None
    return _Ctx(deal, project_id, sides_of(actor, deal, project_id))


def _require(ctx: _Ctx, side: Side) -> None:
    if side not in ctx.sides:
        raise PermissionDenied("error.forbidden")
    if ctx.deal.status != DealStatus.ACCEPTED:
        raise Conflict("error.dispatch_not_active")


async def party_accounts(
    uow: UnitOfWork, deals: Sequence[Deal], side: Side
) -> dict[int, list[int]]:
    """Who hears about a dispatch, per deal: the account engaged in the deal for that side if
    still active, else the enterprise's active dispatchers. One query per kind of lookup, so
    a month's wage prompts for thousands of deals stay cheap."""
    engaged = {
        d.id: d.shortage_account_id if side is Side.SHORTAGE else d.idle_account_id for d in deals
    }
    wanted = {a for a in engaged.values() if a is not None}
    active: set[int] = set()
    for chunk in _chunks(sorted(wanted)):
        active.update(
            await uow.session.scalars(
                select(Account.id).where(Account.id.in_(chunk), Account.active.is_(True))
            )
        )
    enterprise_of = {
        d.id: d.shortage_enterprise_id if side is Side.SHORTAGE else d.idle_enterprise_id
        for d in deals
    }
    need = sorted({enterprise_of[d] for d, a in engaged.items() if a not in active})
    dispatchers: dict[int, list[int]] = defaultdict(list)
    for chunk in _chunks(need):
        rows = await uow.session.execute(
            select(Account.enterprise_id, Account.id)
            .where(
                Account.enterprise_id.in_(chunk),
                Account.role == Role.DISPATCHER.value,
                Account.active.is_(True),
            )
            .order_by(Account.id)
        )
        for enterprise_id, account_id in rows:
            if enterprise_id is not None:
                dispatchers[enterprise_id].append(account_id)
    result: dict[int, list[int]] = {}
    for d in deals:
        account = engaged[d.id]
        if account is not None and account in active:
            result[d.id] = [account]
        else:
            result[d.id] = dispatchers.get(enterprise_of[d.id], [])
    return result


def _chunks(values: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


async def _notify(
    uow: UnitOfWork, deal: Deal, side: Side, kind: str, payload: dict[str, Any], key: str
) -> int:
    recipients = (await party_accounts(uow, [deal], side))[deal.id]
    for account_id in recipients:
        await uow.notify(
            account_id=account_id,
            kind=kind,
            payload={"deal_id": deal.id, **payload},
            dedup_key=f"{key}:{account_id}",
        )
    return len(recipients)


# --- starting a dispatch (called by accept_deal) --------------------------------------------


async def start_dispatch(uow: UnitOfWork, deal: Deal, worker_ids: Sequence[int]) -> None:
    """The moved workers become assignments due on the start date (same transaction)."""
    now = uow.now()
    for wid in worker_ids:
        uow.session.add(
            DispatchAssignment(
                deal_id=deal.id,
                worker_id=wid,
                enterprise_id=deal.idle_enterprise_id,
                due_on=deal.start_date,
                arrival=Arrival.PENDING.value,
                created_at=now,
            )
        )


# --- reading --------------------------------------------------------------------------------


async def stays_by_deal(uow: UnitOfWork, deal_ids: Sequence[int]) -> dict[int, list[Stay | None]]:
    """Each deal's stays (one per assignment; None for a no-show)."""
    stays: dict[int, list[Stay | None]] = defaultdict(list)
    for chunk in _chunks(sorted(set(deal_ids))):
        rows = await uow.session.execute(
            select(
                DispatchAssignment.deal_id,
                DispatchAssignment.arrival,
                DispatchAssignment.due_on,
                DispatchAssignment.arrived_on,
                DispatchAssignment.released_on,
            ).where(DispatchAssignment.deal_id.in_(chunk))
        )
        for deal_id, arrival, due_on, arrived_on, released_on in rows:
            stays[deal_id].append(stay_of(arrival, due_on, arrived_on, released_on))
    return stays


async def deal_person_days(
    uow: UnitOfWork, deal_ids: Sequence[int], *, until: date, since: date | None = None
) -> dict[int, int]:
    """人天 of each deal from its workers' real dates (core.domain.dispatch.person_days)."""
    stays = await stays_by_deal(uow, deal_ids)
    return {
        deal_id: person_days(stays.get(deal_id, []), until=until, since=since)
        for deal_id in deal_ids
    }


async def _view(uow: UnitOfWork, ctx: _Ctx) -> DispatchView:
    deal = ctx.deal
    today = today_of(uow)
    project = await uow.session.get(Project, ctx.project_id)
    trade = await uow.session.get(Trade, deal.trade_code)
    names = dict(
        (
            await uow.session.execute(
                select(Enterprise.id, Enterprise.name).where(
                    Enterprise.id.in_({deal.shortage_enterprise_id, deal.idle_enterprise_id})
                )
            )
        ).all()
    )
    rows = (
        await uow.session.execute(
            select(DispatchAssignment, Worker.name, Worker.id_masked, Worker.credit_grade)
            .join(Worker, Worker.id == DispatchAssignment.worker_id)
            .where(DispatchAssignment.deal_id == deal.id)
            .order_by(DispatchAssignment.id)
            .execution_options(populate_existing=True)
        )
    ).all()
    replaced = {a.replaces_assignment_id for a, *_ in rows if a.replaces_assignment_id}
    assignments = tuple(
        AssignmentView(
            id=a.id,
            worker_id=a.worker_id,
            worker_name=name,
            id_masked=masked,
            credit_grade=grade,
            due_on=a.due_on,
            arrival=Arrival(a.arrival),
            arrived_on=a.arrived_on,
            released_on=a.released_on,
            replaces_assignment_id=a.replaces_assignment_id,
            replaced=a.id in replaced,
        )
        for a, name, masked, grade in rows
    )
    days = person_days(
        (stay_of(a.arrival, a.due_on, a.arrived_on, a.released_on) for a in assignments),
        until=today,
    )
    return DispatchView(
        deal_id=deal.id,
        status=DealStatus(deal.status),
        project_id=ctx.project_id,
        project_name=project.name if project else "",
        receiving_enterprise_id=deal.shortage_enterprise_id,
        receiving_enterprise_name=names.get(deal.shortage_enterprise_id, ""),
        labor_enterprise_id=deal.idle_enterprise_id,
        labor_enterprise_name=names.get(deal.idle_enterprise_id, ""),
        trade_code=deal.trade_code,
        trade_name_zh=trade.name_zh if trade else deal.trade_code,
        trade_name_en=trade.name_en if trade else deal.trade_code,
        price=fen_to_price(deal.price_fen),
        start_date=deal.start_date,
        end_date=deal.end_date,
        assignments=assignments,
        person_days=days,
        report_date=today,
        my_sides=frozenset(ctx.sides),
    )


async def get_dispatch(uow: UnitOfWork, actor: Actor, deal_id: int) -> DispatchView:
    """The dispatch of an accepted deal as one of its parties sees it."""
    ctx = await _load(uow, actor, deal_id)
    if not ctx.sides:
        raise PermissionDenied("error.forbidden")
    if ctx.deal.status != DealStatus.ACCEPTED:
        raise Conflict("error.dispatch_not_active")
    return await _view(uow, ctx)


# --- arrival --------------------------------------------------------------------------------


async def _assignment(uow: UnitOfWork, deal_id: int, assignment_id: int) -> DispatchAssignment:
    row = await uow.session.get(DispatchAssignment, assignment_id, populate_existing=True)
    if row is None or row.deal_id != deal_id:
        raise NotFound("error.assignment_not_found")
    return row


async def _record_arrival(
    uow: UnitOfWork, actor: Actor, ctx: _Ctx, row: DispatchAssignment, arrived: bool
) -> bool:
    """Record one answer; False when the same answer was already there. A different answer
    after the first is refused: the labor company may already have acted on it."""
    answer = Arrival.ARRIVED if arrived else Arrival.NO_SHOW
    today = today_of(uow)
    if today < row.due_on:
        raise ValidationError("error.arrival_too_early", day=row.due_on.isoformat())
    if row.released_on is not None:
        raise Conflict("error.worker_released")
    touched = _rows(
        await uow.session.execute(
            update(DispatchAssignment)
            .where(
                DispatchAssignment.id == row.id,
                DispatchAssignment.arrival == Arrival.PENDING.value,
            )
            .values(
                arrival=answer.value,
                # a late answer still counts, and it is about the due day
                arrived_on=row.due_on if arrived else None,
                answered_at=uow.now(),
                answered_by_account_id=actor.account_id,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if touched != 1:
        current = await uow.session.scalar(
            select(DispatchAssignment.arrival).where(DispatchAssignment.id == row.id)
        )
        if current == answer.value:
            return False
        raise Conflict("error.arrival_already_answered")
    uow.audit(
        actor_account_id=actor.account_id,
        action=f"dispatch.{answer.value}",
        entity="dispatch_assignment",
        entity_id=row.id,
        before={"arrival": Arrival.PENDING.value},
        after={"arrival": answer.value, "deal_id": ctx.deal.id, "worker_id": row.worker_id},
    )
    if not arrived:
        # the worker never came: back to the labor company, which hears it at once
        await _return_worker(uow, row.worker_id)
        await _notify(
            uow,
            ctx.deal,
            Side.IDLE,
            KIND_NO_SHOW,
            {"assignment_id": row.id, "worker_id": row.worker_id},
            f"noshow:{row.id}",
        )
    return True


async def mark_arrival(
    uow: UnitOfWork, actor: Actor, deal_id: int, assignment_id: int, *, arrived: bool
) -> ArrivalResult:
    """✅ 到岗 / ❌ 未到 for one worker; a repeated tap changes nothing."""
    ctx = await _load(uow, actor, deal_id)
    _require(ctx, Side.SHORTAGE)
    row = await _assignment(uow, deal_id, assignment_id)
    changed = await _record_arrival(uow, actor, ctx, row, arrived)
    await uow.commit()
    return ArrivalResult(await _view(uow, ctx), int(changed))


async def mark_all_arrived(uow: UnitOfWork, actor: Actor, deal_id: int) -> ArrivalResult:
    """全部到岗: every worker still unanswered and due by today arrived."""
    ctx = await _load(uow, actor, deal_id)
    _require(ctx, Side.SHORTAGE)
    today = today_of(uow)
    if today < ctx.deal.start_date:
        raise ValidationError("error.arrival_too_early", day=ctx.deal.start_date.isoformat())
    rows = (
        await uow.session.scalars(
            select(DispatchAssignment)
            .where(
                DispatchAssignment.deal_id == deal_id,
                DispatchAssignment.arrival == Arrival.PENDING.value,
                DispatchAssignment.released_on.is_(None),
                DispatchAssignment.due_on <= today,
            )
            .order_by(DispatchAssignment.id)
        )
    ).all()
    changed = 0
    for row in rows:
        changed += int(await _record_arrival(uow, actor, ctx, row, True))
    await uow.commit()
    return ArrivalResult(await _view(uow, ctx), changed)


async def _return_worker(uow: UnitOfWork, worker_id: int) -> None:
    """Back to the labor company as idle, out of the receiving project's team."""
    now = uow.now()
    await uow.session.execute(
        update(Worker)
        .where(Worker.id == worker_id)
        .values(
            status=WorkerStatus.IDLE.value, team_id=None, status_changed_at=now, updated_at=now
        )
        .execution_options(synchronize_session=False)
    )


# --- replacement ----------------------------------------------------------------------------


async def offer_replacement(
    uow: UnitOfWork, actor: Actor, deal_id: int, assignment_id: int, worker_id: int
) -> DispatchView:
    """The labor company sends another idle worker of the trade and grade for a no-show, on
    the same deal and price; the receiving side is told."""
    ctx = await _load(uow, actor, deal_id)
    _require(ctx, Side.IDLE)
    missing = await _assignment(uow, deal_id, assignment_id)
    if missing.arrival != Arrival.NO_SHOW:
        raise Conflict("error.not_a_no_show")
    taken = await uow.session.scalar(
        select(DispatchAssignment.id).where(
            DispatchAssignment.replaces_assignment_id == assignment_id
        )
    )
    if taken is not None:
        raise Conflict("error.already_replaced")
    deal = ctx.deal
    min_grade = await uow.session.scalar(
        select(ShortagePosting.min_grade).where(ShortagePosting.id == deal.shortage_id)
    )
    worker = await uow.session.get(Worker, worker_id, populate_existing=True)
    if worker is None or worker.enterprise_id != deal.idle_enterprise_id:
        raise ValidationError("error.worker_not_yours")
    if worker.trade_code != deal.trade_code:
        raise ValidationError("error.trade_mismatch")
    if min_grade is not None and worker.grade_level > min_grade:
        raise ValidationError("error.grade_too_low", name=worker.name)
    already = await uow.session.scalar(
        select(DispatchAssignment.id).where(
            DispatchAssignment.deal_id == deal_id, DispatchAssignment.worker_id == worker_id
        )
    )
    if already is not None:
        raise ValidationError("error.worker_already_on_deal", name=worker.name)
    team_id = await uow.session.scalar(
        select(Team.id)
        .where(Team.project_id == ctx.project_id, Team.trade_code == deal.trade_code)
        .order_by(Team.id)
        .limit(1)
    )
    now = uow.now()
    moved = _rows(
        await uow.session.execute(
            update(Worker)
            .where(Worker.id == worker_id, Worker.status == WorkerStatus.IDLE.value)
            .values(
                status=WorkerStatus.BUSY.value,
                team_id=team_id,
                status_changed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )
    if moved != 1:
        raise Conflict("error.worker_taken", name=worker.name)
    # a worker offered in an idle posting is no longer on offer (as when a deal is accepted)
    await take_off_offer(uow, actor, worker)
    row = DispatchAssignment(
        deal_id=deal_id,
        worker_id=worker_id,
        enterprise_id=deal.idle_enterprise_id,
        due_on=max(today_of(uow), deal.start_date),
        arrival=Arrival.PENDING.value,
        replaces_assignment_id=assignment_id,
        created_at=now,
    )
    uow.session.add(row)
    uow.session.add(DealWorker(deal_id=deal_id, worker_id=worker_id))
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="dispatch.replace",
        entity="dispatch_assignment",
        entity_id=row.id,
        after={"deal_id": deal_id, "worker_id": worker_id, "replaces": assignment_id},
    )
    await _notify(
        uow,
        deal,
        Side.SHORTAGE,
        KIND_REPLACEMENT,
        {"assignment_id": row.id, "worker_id": worker_id},
        f"replacement:{row.id}",
    )
    await uow.commit()
    return await _view(uow, ctx)


# --- release and extension ------------------------------------------------------------------


async def _release(
    uow: UnitOfWork, actor: Actor, ctx: _Ctx, on: date, rows: Sequence[DispatchAssignment]
) -> list[int]:
    released: list[int] = []
    for row in rows:
        touched = _rows(
            await uow.session.execute(
                update(DispatchAssignment)
                .where(DispatchAssignment.id == row.id, DispatchAssignment.released_on.is_(None))
                .values(released_on=on)
                .execution_options(synchronize_session=False)
            )
        )
        if touched != 1:
            continue
        if row.arrival != Arrival.NO_SHOW:
            await _return_worker(uow, row.worker_id)
            released.append(row.worker_id)
    if released:
        uow.audit(
            actor_account_id=actor.account_id,
            action="dispatch.release",
            entity="deal",
            entity_id=ctx.deal.id,
            after={"on": on.isoformat(), "worker_ids": released},
        )
        # the labor company gets its workers back and is asked whether to offer them again
        await _notify(
            uow,
            ctx.deal,
            Side.IDLE,
            KIND_RELEASED,
            {"worker_ids": released, "on": on.isoformat()},
            f"released:{ctx.deal.id}:{on.isoformat()}:{min(released)}",
        )
    left = await uow.session.scalar(
        select(func.count())
        .select_from(DispatchAssignment)
        .where(
            DispatchAssignment.deal_id == ctx.deal.id,
            DispatchAssignment.released_on.is_(None),
            DispatchAssignment.arrival != Arrival.NO_SHOW.value,
        )
    )
    if not left and (ctx.deal.end_date is None or ctx.deal.end_date > on):
        ctx.deal.end_date = on  # everyone has left: the dispatch ended that day
    return released


async def release_workers(
    uow: UnitOfWork,
    actor: Actor,
    deal_id: int,
    *,
    on: date,
    assignment_ids: Sequence[int] | None = None,
) -> DispatchView:
    """退场: the receiving side lets workers go (all by default) with `on` their last day; they
    go back to their labor company as idle."""
    ctx = await _load(uow, actor, deal_id)
    _require(ctx, Side.SHORTAGE)
    if not isinstance(on, date) or on < ctx.deal.start_date:
        raise ValidationError("error.release_before_start", start=ctx.deal.start_date.isoformat())
    if on > today_of(uow):
        raise ValidationError("error.release_in_future")
    stmt = select(DispatchAssignment).where(
        DispatchAssignment.deal_id == deal_id, DispatchAssignment.released_on.is_(None)
    )
    if assignment_ids is not None:
        stmt = stmt.where(DispatchAssignment.id.in_(list(assignment_ids)))
    rows = (await uow.session.scalars(stmt.order_by(DispatchAssignment.id))).all()
    if not rows:
        raise Conflict("error.nobody_to_release")
    await _release(uow, actor, ctx, on, rows)
    await uow.commit()
    return await _view(uow, ctx)


async def set_end_date(
    uow: UnitOfWork, actor: Actor, deal_id: int, end_date: date | None
) -> DispatchView:
    """Extend (or shorten) the dispatch period; None: until released."""
    ctx = await _load(uow, actor, deal_id)
    _require(ctx, Side.SHORTAGE)
    today = today_of(uow)
    if end_date is not None:
        if end_date < ctx.deal.start_date:
            raise ValidationError(
                "error.release_before_start", start=ctx.deal.start_date.isoformat()
            )
        if end_date < today:
            raise ValidationError("error.end_date_past")
        if end_date > today + timedelta(days=MAX_EXTEND_DAYS):
            raise ValidationError("error.end_date_too_far", max_days=MAX_EXTEND_DAYS)
    if end_date == ctx.deal.end_date:
        return await _view(uow, ctx)
    before = ctx.deal.end_date
    ctx.deal.end_date = end_date
    ctx.deal.updated_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="dispatch.end_date",
        entity="deal",
        entity_id=deal_id,
        before={"end_date": before.isoformat() if before else None},
        after={"end_date": end_date.isoformat() if end_date else None},
    )
    await _notify(
        uow,
        ctx.deal,
        Side.IDLE,
        KIND_END_DATE,
        {"end_date": end_date.isoformat() if end_date else None},
        f"enddate:{deal_id}:{end_date.isoformat() if end_date else 'open'}:{ctx.deal.version}"
        f":{uow.now().timestamp():.0f}",
    )
    await uow.commit()
    return await _view(uow, ctx)


async def set_last_day(uow: UnitOfWork, actor: Actor, deal_id: int, day: date) -> DispatchView:
    """The receiving side names the dispatch's last day (typed, core.domain.values.parse_day):
    today or earlier releases everyone still on site with that day as their last (退场); a
    later day becomes the end date (an early end or an extension; the daily sweep releases them
    after it). Not before the start, at most MAX_EXTEND_DAYS ahead."""
    ctx = await _load(uow, actor, deal_id)
    _require(ctx, Side.SHORTAGE)
    today = today_of(uow)
    if day < ctx.deal.start_date:
        raise ValidationError("error.release_before_start", start=ctx.deal.start_date.isoformat())
    if day > today + timedelta(days=MAX_EXTEND_DAYS):
        raise ValidationError("error.end_date_too_far", max_days=MAX_EXTEND_DAYS)
    if day <= today:
        return await release_workers(uow, actor, deal_id, on=day)
    return await set_end_date(uow, actor, deal_id, day)


async def release_ended(uow: UnitOfWork, today: date) -> int:
    """Workers whose dispatch period ended before today go back (the daily sweep)."""
    deal_ids = list(
        await uow.session.scalars(
            select(Deal.id)
            .where(
                Deal.status == DealStatus.ACCEPTED.value,
                Deal.end_date.is_not(None),
                Deal.end_date < today,
                Deal.id.in_(
                    select(DispatchAssignment.deal_id).where(
                        DispatchAssignment.released_on.is_(None)
                    )
                ),
            )
            .order_by(Deal.id)
        )
    )
    released = 0
    for deal_id in deal_ids:
        ctx = await _load(uow, Actor.system(), deal_id)
        assert ctx.deal.end_date is not None
        rows = (
            await uow.session.scalars(
                select(DispatchAssignment).where(
                    DispatchAssignment.deal_id == deal_id,
                    DispatchAssignment.released_on.is_(None),
                )
            )
        ).all()
        released += len(await _release(uow, Actor.system(), ctx, ctx.deal.end_date, rows))
        await uow.commit()
    return released


@dataclass(frozen=True, slots=True)
class ReleasedWorkers:
    """Workers a release sent back to their labor company, and which of them may be declared
    idle again now."""

    deal_id: int
    trade_code: str
    released: int  # workers released from the deal that day (no-shows are not)
    declarable: tuple[int, ...]  # of them, the ones may_declare_idle admits, in deal order
    grade_level: int  # the lowest grade among the declarable: a posting at it admits them all


async def released_to_declare(
    uow: UnitOfWork, actor: Actor, deal_id: int, on: date
) -> ReleasedWorkers:
    """Who of the workers released from a deal on a day the labor company's dispatcher may
    declare idle again (the release notice's 📤): core.domain.rules.may_declare_idle decides;
    workers already in another idle posting, busy again or moved to another trade drop out."""
    actor.require(Role.DISPATCHER)
    ctx = await _load(uow, actor, deal_id)
    if Side.IDLE not in ctx.sides:
        raise PermissionDenied("error.forbidden")
    worker_ids = list(
        await uow.session.scalars(
            select(DispatchAssignment.worker_id)
            .where(
                DispatchAssignment.deal_id == deal_id,
                DispatchAssignment.released_on == on,
                DispatchAssignment.arrival != Arrival.NO_SHOW.value,
            )
            .order_by(DispatchAssignment.id)
        )
    )
    deal = ctx.deal
    declarable = [
        w
        for w in await get_workers(uow, actor, worker_ids)
        if may_declare_idle(
            w.terms,
            enterprise_id=deal.idle_enterprise_id,
            trade_code=deal.trade_code,
            grade_level=w.grade_level,
        )
    ]
    return ReleasedWorkers(
        deal_id=deal.id,
        trade_code=deal.trade_code,
        released=len(set(worker_ids)),
        declarable=tuple(dict.fromkeys(w.id for w in declarable)),
        grade_level=max((w.grade_level for w in declarable), default=0),
    )


# --- prompts --------------------------------------------------------------------------------


async def _claim_prompt(uow: UnitOfWork, deal_id: int, kind: str, day: date) -> bool:
    uow.session.add(DispatchPrompt(deal_id=deal_id, kind=kind, day=day, created_at=uow.now()))
    try:
        await uow.session.flush()
    except IntegrityError:
        await uow.rollback()
        return False
    return True


def _local(now: datetime) -> datetime:
    return now.astimezone(SHANGHAI)


async def queue_arrival_prompts(uow: UnitOfWork, now: datetime) -> int:
    """On the start date from the check time on: the receiving side gets the list of workers
    due today, once per deal. The morning after, from the reminder time, one reminder for the
    deals still unanswered. Returns how many prompts were queued."""
    local = _local(now)
    today = local.date()
    settings = uow.settings
    queued = 0
    plan: list[tuple[date, str, str]] = []
    if local.time() >= settings.arrival_check_time:
        plan.append((today, PROMPT_ARRIVAL, KIND_ARRIVAL))
    if local.time() >= settings.arrival_reminder_time:
        plan.append((today - timedelta(days=1), PROMPT_ARRIVAL_REMINDER, KIND_ARRIVAL_REMINDER))
    for due_on, prompt, kind in plan:
        done = select(DispatchPrompt.deal_id).where(
            DispatchPrompt.kind == prompt, DispatchPrompt.day == due_on
        )
        deals = list(
            (
                await uow.session.scalars(
                    select(Deal)
                    .where(
                        Deal.status == DealStatus.ACCEPTED.value,
                        Deal.id.in_(
                            select(DispatchAssignment.deal_id).where(
                                DispatchAssignment.due_on == due_on,
                                DispatchAssignment.arrival == Arrival.PENDING.value,
                                DispatchAssignment.released_on.is_(None),
                            )
                        ),
                        Deal.id.not_in(done),
                    )
                    .order_by(Deal.id)
                )
            ).all()
        )
        recipients = await party_accounts(uow, deals, Side.SHORTAGE)
        deal_ids = [d.id for d in deals]
        await uow.rollback()
        for deal_id in deal_ids:
            if not await _claim_prompt(uow, deal_id, prompt, due_on):
                continue  # another tick won
            for account_id in recipients.get(deal_id, []):
                await uow.notify(
                    account_id=account_id,
                    kind=kind,
                    payload={"deal_id": deal_id, "day": due_on.isoformat()},
                    dedup_key=f"{prompt}:{deal_id}:{due_on.isoformat()}:{account_id}",
                )
            await uow.commit()
            queued += 1
    return queued


# --- regulators: who is on site --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OnSiteRow:
    project_id: int
    project_name: str
    county_code: str
    on_site: int  # dispatched workers on site today (进场, not yet 退场)
    entered_today: int
    left_today: int


async def on_site_by_project(
    uow: UnitOfWork, actor: Actor, region_code: str, *, limit: int = 50
) -> list[OnSiteRow]:
    """进场 / 退场: dispatched workers on site per project of the region, busiest first."""
    code = require_scope(actor, region_code)
    today = today_of(uow)
    present = and_(
        DispatchAssignment.arrival != Arrival.NO_SHOW.value,
        DispatchAssignment.due_on <= today,
        or_(DispatchAssignment.released_on.is_(None), DispatchAssignment.released_on >= today),
    )
    on_site = func.sum(case((present, 1), else_=0))
    entered = func.sum(
        case(
            (
                and_(
                    DispatchAssignment.due_on == today,
                    DispatchAssignment.arrival != Arrival.NO_SHOW.value,
                ),
                1,
            ),
            else_=0,
        )
    )
    left = func.sum(case((DispatchAssignment.released_on == today, 1), else_=0))
    rows = (
        await uow.session.execute(
            select(Project.id, Project.name, Project.county_code, on_site, entered, left)
            .join(ShortagePosting, ShortagePosting.project_id == Project.id)
            .join(Deal, Deal.shortage_id == ShortagePosting.id)
            .join(DispatchAssignment, DispatchAssignment.deal_id == Deal.id)
            .where(
                Deal.status == DealStatus.ACCEPTED.value,
                region_clause(code, Project.county_code, Project.city_code),
            )
            .group_by(Project.id, Project.name, Project.county_code)
            .order_by(on_site.desc(), Project.id)
            .limit(limit)
        )
    ).all()
    return [
        OnSiteRow(pid, name, county, int(n or 0), int(e or 0), int(x or 0))
        for pid, name, county, n, e, x in rows
        if (n or e or x)
    ]
