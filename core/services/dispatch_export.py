"""数据对接: who was dispatched where, for the real-name platform (实名制平台).

One row per worker of an accepted deal whose start date lies in the range: the worker, the
receiving project (and the worker's team there, once registered), both companies, the start
date, the acceptance time and the monthly price. ID numbers are masked; a province bureau's key
with the realname_export scope gets them in full, and every such read is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, and_, or_, select, true
from sqlalchemy.orm import aliased

from core.db.models import Deal, DealWorker, Enterprise, Project, ShortagePosting, Team, Worker
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import DealStatus, Role
from core.domain.errors import PermissionDenied, ValidationError
from core.domain.ranges import check_date_range
from core.domain.timeutil import as_utc
from core.domain.values import fen_to_price
from core.services.paging import Page, decode_id_cursor, encode_id_cursor
from core.services.regions import PROVINCE_CODE, normalize_region_code, region_clause

DISPATCH_PAGE_MAX = 1000
DISPATCH_PAGE_DEFAULT = 200


@dataclass(frozen=True, slots=True)
class DispatchRow:
    deal_id: int
    start_date: date
    accepted_at: datetime
    worker_id: int
    worker_name: str
    id_number: str  # masked unless the read is a realname export
    trade_code: str
    project_code: str
    project_name: str
    county_code: str  # the project's
    team: str | None  # the worker's team on that project, if registered
    from_enterprise: str  # whose (idle) worker it was
    to_enterprise: str  # the receiving (short) company
    price: Decimal  # CNY per worker-month


def _scope(actor: Actor) -> ColumnElement[bool]:
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.REGULATOR and actor.region_code:
        return region_clause(actor.region_code, Deal.county_code, Deal.city_code)
    if actor.role is Role.DISPATCHER and actor.enterprise_id is not None:
        mine = actor.enterprise_id
        return or_(Deal.shortage_enterprise_id == mine, Deal.idle_enterprise_id == mine)
    raise PermissionDenied("error.forbidden")


def may_export_realnames(actor: Actor) -> bool:
    """Full ID numbers leave the system only for the province bureau."""
    return (
        actor.role is Role.REGULATOR
        and actor.region_code is not None
        and normalize_region_code(actor.region_code) == PROVINCE_CODE
    )


async def list_dispatches(
    uow: UnitOfWork,
    actor: Actor,
    *,
    date_from: date,
    date_to: date,
    realname_key_id: int | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[DispatchRow]:
    """Dispatched workers by start date (at most a year), oldest first, paged by offset.

    `realname_key_id`: the id of an API key holding realname_export; the page then carries
    full ID numbers and the read is audited under that key."""
    check_date_range(date_from, date_to)
    if realname_key_id is not None and not may_export_realnames(actor):
        raise PermissionDenied("error.forbidden")
    size = DISPATCH_PAGE_DEFAULT if limit is None else limit
    if size < 1 or size > DISPATCH_PAGE_MAX:
        raise ValidationError("error.page_size", min=1, max=DISPATCH_PAGE_MAX)
    offset = decode_id_cursor(cursor) if cursor else 0
    if offset < 0:
        raise ValidationError("error.bad_cursor")
    receiving = aliased(Enterprise)
    supplying = aliased(Enterprise)
    stmt = (
        select(
            Deal.id,
            Deal.start_date,
            Deal.accepted_at,
            Deal.price_fen,
            Worker.id,
            Worker.name,
            Worker.id_masked,
            Worker.id_cipher,
            Worker.trade_code,
            Project.code,
            Project.name,
            Project.county_code,
            Team.name,
            supplying.name,
            receiving.name,
        )
        .join(DealWorker, DealWorker.deal_id == Deal.id)
        .join(Worker, Worker.id == DealWorker.worker_id)
        .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
        .join(Project, Project.id == ShortagePosting.project_id)
        .join(receiving, receiving.id == Deal.shortage_enterprise_id)
        .join(supplying, supplying.id == Deal.idle_enterprise_id)
        .outerjoin(Team, and_(Team.id == Worker.team_id, Team.project_id == Project.id))
        .where(
            Deal.status == DealStatus.ACCEPTED.value,
            Deal.start_date >= date_from,
            Deal.start_date <= date_to,
            _scope(actor),
        )
        .order_by(Deal.start_date, Deal.id, Worker.id)
        .offset(offset)
        .limit(size + 1)
    )
    rows = (await uow.session.execute(stmt)).all()
    items = tuple(
        DispatchRow(
            deal_id=deal_id,
            start_date=start,
            accepted_at=as_utc(accepted) if accepted else datetime.min.replace(tzinfo=UTC),
            worker_id=worker_id,
            worker_name=name,
            id_number=uow.cipher.decrypt(cipher) if realname_key_id is not None else masked,
            trade_code=trade,
            project_code=project_code,
            project_name=project_name,
            county_code=county,
            team=team,
            from_enterprise=supplier,
            to_enterprise=receiver,
            price=fen_to_price(price_fen),
        )
        for (
            deal_id, start, accepted, price_fen, worker_id, name, masked, cipher, trade,
            project_code, project_name, county, team, supplier, receiver,
        ) in rows[:size]
    )  # fmt: skip
    if realname_key_id is not None:
        uow.audit(
            actor_account_id=actor.account_id,
            action="realname.export",
            entity="api_key",
            entity_id=realname_key_id,
            after={
                "date_from": date_from.isoformat(),
                "date_to": date_to.isoformat(),
                "offset": offset,
                "rows": len(items),
                "worker_ids": [row.worker_id for row in items],
            },
        )
        await uow.commit()
    return Page(
        items=items,
        next_cursor=encode_id_cursor(offset + size) if len(rows) > size else None,
        prev_cursor=encode_id_cursor(max(0, offset - size)) if offset > 0 else None,
    )
