"""A company's workers: switching busy ↔ idle (忙 / 赋闲), listing and finding them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, case, delete, func, select

from core.db.models import Grade, IdlePosting, IdlePostingWorker, Trade, Worker
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import LIVE_STATUSES, PostingStatus, Role, WorkerStatus
from core.domain.errors import NotFound, PermissionDenied, ValidationError
from core.domain.rules import WorkerTerms
from core.domain.timeutil import as_utc
from core.domain.values import IdNumber, clean_text, mask_phone
from core.services.paging import Direction, Page, decode_id_cursor, encode_id_cursor, page_size
from core.services.postings import refresh_idle_rating

_LIVE = [s.value for s in LIVE_STATUSES]
FIND_LIMIT = 20


@dataclass(frozen=True, slots=True)
class WorkerView:
    id: int
    enterprise_id: int
    name: str
    gender: str
    birth_date: date
    id_masked: str
    trade_code: str
    grade_level: int
    credit_grade: str
    status: str
    team_id: int | None
    phone_masked: str | None
    phone_private: str | None  # the raw number: front ends decide who may see it
    avg_rating: Decimal | None
    rating_count: int
    status_changed_at: datetime
    idle_posting_id: int | None  # the live idle posting offering this worker, if any

    @property
    def terms(self) -> WorkerTerms:
        """What the rule of who may be declared idle looks at."""
        return WorkerTerms(
            id=self.id,
            name=self.name,
            enterprise_id=self.enterprise_id,
            status=self.status,
            trade_code=self.trade_code,
            grade_level=self.grade_level,
            on_offer=self.idle_posting_id is not None,
        )


def _avg(w: Worker) -> Decimal | None:
    if w.rating_count <= 0:
        return None
    return (Decimal(w.rating_sum) / w.rating_count).quantize(Decimal("0.1"))


def _view(w: Worker, idle_posting_id: int | None) -> WorkerView:
    return WorkerView(
        id=w.id,
        enterprise_id=w.enterprise_id,
        name=w.name,
        gender=w.gender,
        birth_date=w.birth_date,
        id_masked=w.id_masked,
        trade_code=w.trade_code,
        grade_level=w.grade_level,
        credit_grade=w.credit_grade,
        status=w.status,
        team_id=w.team_id,
        phone_masked=mask_phone(w.phone) if w.phone else None,
        phone_private=w.phone,
        avg_rating=_avg(w),
        rating_count=w.rating_count,
        status_changed_at=as_utc(w.status_changed_at),
        idle_posting_id=idle_posting_id,
    )


async def _live_postings_of(uow: UnitOfWork, worker_ids: Sequence[int]) -> dict[int, int]:
    if not worker_ids:
        return {}
    rows = await uow.session.execute(
        select(IdlePostingWorker.worker_id, IdlePosting.id)
        .join(IdlePosting, IdlePosting.id == IdlePostingWorker.posting_id)
        .where(IdlePostingWorker.worker_id.in_(list(worker_ids)), IdlePosting.status.in_(_LIVE))
    )
    return {worker_id: posting_id for worker_id, posting_id in rows}


async def _views(uow: UnitOfWork, workers: Sequence[Worker]) -> list[WorkerView]:
    postings = await _live_postings_of(uow, [w.id for w in workers])
    return [_view(w, postings.get(w.id)) for w in workers]


async def set_worker_status(
    uow: UnitOfWork, actor: Actor, worker_id: int, status: WorkerStatus | str
) -> WorkerView:
    """Switch a worker busy ↔ idle. A worker offered in a live idle posting who goes busy is
    taken out of it, and the posting shrinks (and closes when nobody is left), atomically."""
    actor.require(Role.DISPATCHER)
    try:
        new_status = WorkerStatus(status)
    except ValueError as exc:
        raise ValidationError("error.bad_status") from exc
    w = await uow.session.get(Worker, worker_id, with_for_update=True)
    if w is None:
        raise NotFound("error.worker_not_found")
    if not actor.can_act_for_enterprise(w.enterprise_id):
        raise PermissionDenied("error.forbidden")
    if w.status == new_status.value:
        return (await _views(uow, [w]))[0]
    now = uow.now()
    if new_status is WorkerStatus.BUSY:
        await _take_out_of_idle_postings(uow, actor, w)
    before = w.status
    w.status = new_status.value
    w.status_changed_at = now
    w.updated_at = now
    # the team stays: an idle worker still belongs to their crew until dispatched elsewhere
    uow.audit(
        actor_account_id=actor.account_id,
        action="worker.status",
        entity="worker",
        entity_id=w.id,
        before={"status": before},
        after={"status": w.status},
    )
    await uow.session.flush()
    view = (await _views(uow, [w]))[0]
    await uow.commit()
    return view


async def _take_out_of_idle_postings(uow: UnitOfWork, actor: Actor, w: Worker) -> None:
    postings = (
        await uow.session.scalars(
            select(IdlePosting)
            .join(IdlePostingWorker, IdlePostingWorker.posting_id == IdlePosting.id)
            .where(IdlePostingWorker.worker_id == w.id, IdlePosting.status.in_(_LIVE))
            .with_for_update()
        )
    ).all()
    for p in postings:
        await uow.session.execute(
            delete(IdlePostingWorker).where(
                IdlePostingWorker.posting_id == p.id, IdlePostingWorker.worker_id == w.id
            )
        )
        # workers still on offer: listed and still idle (dispatched ones went busy)
        available = await uow.session.scalar(
            select(func.count())
            .select_from(IdlePostingWorker)
            .join(Worker, Worker.id == IdlePostingWorker.worker_id)
            .where(
                IdlePostingWorker.posting_id == p.id,
                Worker.status == WorkerStatus.IDLE.value,
                Worker.id != w.id,
            )
        )
        before = {"headcount": p.headcount, "status": p.status}
        headcount = min(p.headcount, p.filled_count + (available or 0))
        if headcount <= p.filled_count:
            status = PostingStatus.FILLED if p.filled_count > 0 else PostingStatus.CANCELLED
        else:
            status = PostingStatus(p.status)
        p.headcount = headcount
        p.status = status.value
        p.updated_at = uow.now()
        p.version += 1
        await uow.session.flush()
        await refresh_idle_rating(uow, p)
        uow.audit(
            actor_account_id=actor.account_id,
            action="idle.worker_removed",
            entity="idle_posting",
            entity_id=p.id,
            before={**before, "worker_id": w.id},
            after={"headcount": p.headcount, "status": p.status},
        )


def _scope(actor: Actor, enterprise_id: int | None) -> ColumnElement[bool] | None:
    """Which workers the actor may list: their own enterprise's; an admin anybody's."""
    if actor.role is Role.ADMIN:
        return Worker.enterprise_id == enterprise_id if enterprise_id is not None else None
    if actor.role not in (Role.DISPATCHER, Role.FOREMAN) or actor.enterprise_id is None:
        raise PermissionDenied("error.forbidden")
    if enterprise_id is not None and enterprise_id != actor.enterprise_id:
        raise PermissionDenied("error.forbidden")
    return Worker.enterprise_id == actor.enterprise_id


async def list_workers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: WorkerStatus | str | None = None,
    trade_code: str | None = None,
    enterprise_id: int | None = None,
    cursor: str | None = None,
    direction: Direction = "next",
    limit: int | None = None,
) -> Page[WorkerView]:
    """The actor's company's workers in id order, a page at a time (ID numbers masked)."""
    scope = _scope(actor, enterprise_id)
    size = page_size(limit)
    clauses: list[ColumnElement[bool]] = [] if scope is None else [scope]
    if status is not None:
        try:
            clauses.append(Worker.status == WorkerStatus(status).value)
        except ValueError as exc:
            raise ValidationError("error.bad_status") from exc
    if trade_code:
        clauses.append(Worker.trade_code == trade_code)
    if direction not in ("next", "prev"):
        raise ValidationError("error.bad_cursor")
    boundary = decode_id_cursor(cursor) if cursor else None

    async def fetch(extra: list[ColumnElement[bool]], ascending: bool) -> list[Worker]:
        order = Worker.id.asc() if ascending else Worker.id.desc()
        stmt = select(Worker).where(*clauses, *extra).order_by(order).limit(size + 1)
        return list((await uow.session.scalars(stmt)).all())

    async def any_where(extra: ColumnElement[bool]) -> bool:
        stmt = select(Worker.id).where(*clauses, extra).limit(1)
        return (await uow.session.scalar(stmt)) is not None

    if boundary is None:
        rows = await fetch([], True)
        items, has_next, has_prev = rows[:size], len(rows) > size, False
    elif direction == "next":
        rows = await fetch([Worker.id > boundary], True)
        items, has_next = rows[:size], len(rows) > size
        has_prev = await any_where(Worker.id < (items[0].id if items else boundary + 1))
    else:
        rows = await fetch([Worker.id < boundary], False)
        if len(rows) <= size:
            rows = await fetch([], True)
            items, has_next, has_prev = rows[:size], len(rows) > size, False
        else:
            items = list(reversed(rows[:size]))
            has_prev = True
            has_next = await any_where(Worker.id > items[-1].id)
    views = await _views(uow, items)
    next_cursor = encode_id_cursor(items[-1].id) if has_next and items else None
    prev_cursor = None
    if has_prev:
        prev_cursor = encode_id_cursor(items[0].id if items else boundary + 1)  # type: ignore[operator]
    return Page(items=tuple(views), next_cursor=next_cursor, prev_cursor=prev_cursor)


async def find_workers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str | None = None,
    id_number: str | None = None,
    enterprise_id: int | None = None,
) -> list[WorkerView]:
    """Find the actor's company's workers by (part of a) name and/or by full ID number."""
    scope = _scope(actor, enterprise_id)
    clauses: list[ColumnElement[bool]] = [] if scope is None else [scope]
    if not name and not id_number:
        raise ValidationError("error.search_criteria_required")
    if name:
        text = clean_text(name, field="name", max_len=30)
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(Worker.name.like(f"%{escaped}%", escape="\\"))
    if id_number:
        parsed = IdNumber.parse(id_number)
        clauses.append(Worker.id_hash == uow.cipher.lookup_hash(parsed.value))
    rows = (
        await uow.session.scalars(
            select(Worker).where(*clauses).order_by(Worker.id).limit(FIND_LIMIT)
        )
    ).all()
    return await _views(uow, rows)


# --- picking workers to declare idle (赋闲工人提报) ---------------------------------------------


@dataclass(frozen=True, slots=True)
class TradeCount:
    """A trade of the company's workers: how many are busy, idle, and idle but not on offer."""

    trade_code: str
    name_zh: str
    name_en: str
    busy: int
    idle: int
    declarable: int  # idle and not listed in a live idle posting yet

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class GradeCount:
    level: int
    name_zh: str
    name_en: str
    declarable: int  # declarable workers of exactly this grade
    at_or_above: int  # declarable workers of this grade or a higher one (level <= this)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class WorkerSlice:
    """An offset page: the picker toggles workers by id, so pages are small and numbered."""

    items: tuple[WorkerView, ...]
    total: int
    offset: int


def _not_on_offer() -> ColumnElement[bool]:
    on_offer = (
        select(IdlePostingWorker.worker_id)
        .join(IdlePosting, IdlePosting.id == IdlePostingWorker.posting_id)
        .where(IdlePostingWorker.worker_id == Worker.id, IdlePosting.status.in_(_LIVE))
        .exists()
    )
    return ~on_offer


def _declarable(trade_code: str) -> list[ColumnElement[bool]]:
    # the SQL twin of core.domain.rules.declare_idle_refusal (held equal by
    # tests/integration/test_rules_agree.py)
    return [
        Worker.status == WorkerStatus.IDLE.value,
        Worker.trade_code == trade_code,
        _not_on_offer(),
    ]


async def worker_trade_counts(uow: UnitOfWork, actor: Actor) -> list[TradeCount]:
    """The trades of the actor's company's workers, in reference order, with their counts."""
    scope = _scope(actor, None)
    idle = Worker.status == WorkerStatus.IDLE.value
    stmt = (
        select(
            Trade.code,
            Trade.name_zh,
            Trade.name_en,
            func.sum(case((Worker.status == WorkerStatus.BUSY.value, 1), else_=0)),
            func.sum(case((idle, 1), else_=0)),
            func.sum(case((idle & _not_on_offer(), 1), else_=0)),
        )
        .join(Trade, Trade.code == Worker.trade_code)
        .group_by(Trade.code, Trade.name_zh, Trade.name_en, Trade.sort_order)
        .order_by(Trade.sort_order, Trade.code)
    )
    if scope is not None:
        stmt = stmt.where(scope)
    rows = (await uow.session.execute(stmt)).all()
    return [
        TradeCount(code, zh, en, int(busy or 0), int(idle_n or 0), int(free or 0))
        for code, zh, en, busy, idle_n, free in rows
    ]


async def declarable_grade_counts(
    uow: UnitOfWork, actor: Actor, trade_code: str
) -> list[GradeCount]:
    """Every grade with the company's declarable workers of the trade at and above it."""
    actor.require(Role.DISPATCHER)
    scope = _scope(actor, None)
    clauses = _declarable(trade_code) + ([] if scope is None else [scope])
    stmt = select(Worker.grade_level, func.count()).where(*clauses).group_by(Worker.grade_level)
    counted: dict[int, int] = {
        int(level): int(n) for level, n in (await uow.session.execute(stmt)).all()
    }
    grades = (await uow.session.scalars(select(Grade).order_by(Grade.level))).all()
    return [
        GradeCount(
            level=g.level,
            name_zh=g.name_zh,
            name_en=g.name_en,
            declarable=counted.get(g.level, 0),
            at_or_above=sum(n for level, n in counted.items() if level <= g.level),
        )
        for g in grades
    ]


async def declarable_workers(
    uow: UnitOfWork,
    actor: Actor,
    *,
    trade_code: str,
    max_grade: int,
    offset: int = 0,
    limit: int | None = None,
) -> WorkerSlice:
    """The company's idle workers of a trade at or above a grade (level <= max_grade) that no
    live idle posting lists yet: the ones a declaration may name. Best grade first."""
    actor.require(Role.DISPATCHER)
    scope = _scope(actor, None)
    size = page_size(limit)
    if offset < 0:
        raise ValidationError("error.bad_cursor")
    clauses = [*_declarable(trade_code), Worker.grade_level <= max_grade]
    if scope is not None:
        clauses.append(scope)
    total = int(
        await uow.session.scalar(select(func.count()).select_from(Worker).where(*clauses)) or 0
    )
    if offset >= total > 0:
        offset = (total - 1) // size * size  # the list shrank: show its last page
    rows = (
        await uow.session.scalars(
            select(Worker)
            .where(*clauses)
            .order_by(Worker.grade_level, Worker.id)
            .offset(offset)
            .limit(size)
        )
    ).all()
    return WorkerSlice(items=tuple(await _views(uow, rows)), total=total, offset=offset)


async def get_workers(
    uow: UnitOfWork, actor: Actor, worker_ids: Sequence[int]
) -> list[WorkerView]:
    """The actor's company's workers with these ids, in the order asked; others are left out."""
    scope = _scope(actor, None)
    ids = list(dict.fromkeys(int(w) for w in worker_ids))
    if not ids:
        return []
    clauses: list[ColumnElement[bool]] = [Worker.id.in_(ids)]
    if scope is not None:
        clauses.append(scope)
    rows = {w.id: w for w in (await uow.session.scalars(select(Worker).where(*clauses))).all()}
    return await _views(uow, [rows[i] for i in ids if i in rows])
