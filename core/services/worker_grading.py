"""工人评级: a bureau finds or browses the workers of its region and assigns their skill grade
(audited). The workbook round trip lives in grading_upload."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, func, select

from core.db.models import (
    Enterprise,
    Grade,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.errors import NotFound, PermissionDenied, ValidationError
from core.domain.timeutil import local_date
from core.domain.values import IdNumber, clean_text
from core.services.paging import Page, decode_id_cursor, encode_id_cursor, page_size
from core.services.region_scope import home_region, in_scope
from core.services.regions import (
    region_filter,
)

FIND_WORKERS_LIMIT = 20


@dataclass(frozen=True, slots=True)
class GradingCard:
    """A worker as the bureau sees them for grading: the ID number only ever masked."""

    worker_id: int
    name: str
    gender: str
    id_masked: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    grade_level: int
    grade_name_zh: str
    grade_name_en: str
    enterprise_name: str
    county_code: str
    status: str
    rating_count: int
    avg_rating: Decimal | None
    birth_date: date
    education: str | None

    def trade_name(self, locale: str) -> str:
        return self.trade_name_zh if locale.startswith("zh") else self.trade_name_en

    def grade_name(self, locale: str) -> str:
        return self.grade_name_zh if locale.startswith("zh") else self.grade_name_en


def _card_select() -> Any:
    return (
        select(Worker, Enterprise.name, Enterprise.county_code, Trade, Grade)
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .join(Trade, Trade.code == Worker.trade_code)
        .join(Grade, Grade.level == Worker.grade_level)
    )


def _card(row: Sequence[Any]) -> GradingCard:
    w, enterprise_name, county, trade, grade = row
    avg = (
        (Decimal(w.rating_sum) / w.rating_count).quantize(Decimal("0.01"))
        if w.rating_count > 0
        else None
    )
    return GradingCard(
        worker_id=w.id,
        name=w.name,
        gender=w.gender,
        id_masked=w.id_masked,
        trade_code=w.trade_code,
        trade_name_zh=trade.name_zh,
        trade_name_en=trade.name_en,
        grade_level=w.grade_level,
        grade_name_zh=grade.name_zh,
        grade_name_en=grade.name_en,
        enterprise_name=enterprise_name,
        county_code=county,
        status=w.status,
        rating_count=w.rating_count,
        avg_rating=avg,
        birth_date=w.birth_date,
        education=w.education,
    )


async def find_workers_in_scope(
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str | None = None,
    id_number: str | None = None,
) -> list[GradingCard]:
    """Workers of enterprises seated in the actor's region, by part of the name or by the full
    ID number (looked up by its keyed hash; the number itself is never returned)."""
    code = home_region(actor)
    clauses: list[ColumnElement[bool]] = [region_filter(code, Enterprise)]
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
        await uow.session.execute(
            _card_select()
            .where(*clauses)
            .order_by(Worker.name, Worker.id)
            .limit(FIND_WORKERS_LIMIT)
        )
    ).all()
    return [_card(row) for row in rows]


async def _scoped_worker(uow: UnitOfWork, actor: Actor, worker_id: int) -> GradingCard:
    home_region(actor)
    row = (await uow.session.execute(_card_select().where(Worker.id == worker_id))).first()
    if row is None:
        raise NotFound("error.worker_not_found")
    card = _card(row)
    if not in_scope(actor, card.county_code):
        raise PermissionDenied("error.out_of_scope")
    return card


async def get_grading_card(uow: UnitOfWork, actor: Actor, worker_id: int) -> GradingCard:
    """One worker of an enterprise in the actor's region."""
    return await _scoped_worker(uow, actor, worker_id)


async def set_worker_grade(
    uow: UnitOfWork, actor: Actor, worker_id: int, grade_level: int
) -> GradingCard:
    """Assign a skill grade (评级) to a worker of an enterprise in the regulator's region."""
    card = await _scoped_worker(uow, actor, worker_id)
    grade = await uow.session.get(Grade, grade_level)
    if grade is None:
        raise ValidationError("error.grade_unknown")
    if card.grade_level == grade.level:
        return card  # the same grade again (a double tap): nothing changes, nothing audited
    worker = await uow.session.get(Worker, worker_id, with_for_update=True)
    if worker is None:  # deleted in between (PIPL removal)
        raise NotFound("error.worker_not_found")
    before = worker.grade_level
    worker.grade_level = grade.level
    worker.updated_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="worker.grade",
        entity="worker",
        entity_id=worker.id,
        before={"grade_level": before},
        after={"grade_level": grade.level},
    )
    await uow.session.flush()
    updated = await _scoped_worker(uow, actor, worker_id)
    await uow.commit()
    return updated


# --- browsing -------------------------------------------------------------------------------

BROWSE_PAGE_MAX = 50


@dataclass(frozen=True, slots=True)
class WorkerFilter:
    """The seed's grading filters; None means any."""

    trade_code: str | None = None
    grade_level: int | None = None
    gender: str | None = None  # "M" / "F"
    age_min: int | None = None  # whole years on the day of the query, inclusive
    age_max: int | None = None
    education: str | None = None


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def filter_clauses(actor: Actor, f: WorkerFilter, today: date) -> list[ColumnElement[bool]]:
    """WHERE clauses of the workers of enterprises seated in the actor's region, filtered."""
    clauses: list[ColumnElement[bool]] = [region_filter(home_region(actor), Enterprise)]
    if f.trade_code:
        clauses.append(Worker.trade_code == f.trade_code)
    if f.grade_level is not None:
        clauses.append(Worker.grade_level == f.grade_level)
    if f.gender:
        if f.gender not in ("M", "F"):
            raise ValidationError("error.invalid")
        clauses.append(Worker.gender == f.gender)
    if f.age_min is not None and f.age_max is not None and f.age_min > f.age_max:
        raise ValidationError("error.range_reversed")
    if f.age_min is not None:  # at least age_min years old: born on or before that day
        clauses.append(Worker.birth_date <= _years_before(today, f.age_min))
    if f.age_max is not None:  # not yet age_max + 1
        clauses.append(Worker.birth_date > _years_before(today, f.age_max + 1))
    if f.education:
        clauses.append(Worker.education == f.education)
    return clauses


@dataclass(frozen=True, slots=True)
class WorkerPage:
    page: Page[GradingCard]
    total: int


async def browse_workers(
    uow: UnitOfWork,
    actor: Actor,
    filters: WorkerFilter,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> WorkerPage:
    """Workers of the actor's region matching the filters, by name, paged by offset."""
    where = filter_clauses(actor, filters, local_date(uow.now()))
    size = min(page_size(limit), BROWSE_PAGE_MAX)
    offset = decode_id_cursor(cursor) if cursor else 0
    if offset < 0:
        raise ValidationError("error.bad_cursor")
    rows = (
        await uow.session.execute(
            _card_select()
            .where(*where)
            .order_by(Worker.name, Worker.id)
            .offset(offset)
            .limit(size + 1)
        )
    ).all()
    total = await uow.session.scalar(
        select(func.count())
        .select_from(Worker)
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .where(*where)
    )
    page = Page(
        items=tuple(_card(row) for row in rows[:size]),
        next_cursor=encode_id_cursor(offset + size) if len(rows) > size else None,
        prev_cursor=encode_id_cursor(max(0, offset - size)) if offset > 0 else None,
    )
    return WorkerPage(page, int(total or 0))


async def education_choices(uow: UnitOfWork, actor: Actor) -> list[str]:
    """The education levels recorded for the region's workers, most common first."""
    rows = await uow.session.execute(
        select(Worker.education, func.count())
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .where(region_filter(home_region(actor), Enterprise), Worker.education.is_not(None))
        .group_by(Worker.education)
        .order_by(func.count().desc(), Worker.education)
        .limit(12)
    )
    return [str(education) for education, _count in rows.all()]
