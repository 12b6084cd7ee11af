"""工人评级: a bureau finds the workers of its region and assigns their skill grade (audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, select

from core.db.models import (
    Enterprise,
    Grade,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.errors import NotFound, PermissionDenied, ValidationError
from core.domain.values import IdNumber, clean_text
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
