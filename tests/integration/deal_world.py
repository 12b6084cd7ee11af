"""A small market for the deal, rating and race tests: a Taiyuan project short of plasterers and
a Jinzhong labor company with four idle plasterers on offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select

from core.db.models import AuditLog, Deal, DealEvent, OutboxMessage, Worker
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.timeutil import local_date
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)


@dataclass(frozen=True)
class World:
    receiver_id: int  # enterprise short of workers (Taiyuan, 小店区)
    supplier_id: int  # enterprise with idle workers (Jinzhong, 榆次区)
    project_id: int
    shortage_id: int
    idle_posting_id: int
    worker_ids: tuple[int, ...]
    foreman: Actor  # bound to the project, posted the shortage
    receiver_dispatcher: Actor
    supplier_dispatcher: Actor  # posted the idle posting
    outsider: Actor  # foreman of another project
    taiyuan_regulator: Actor
    jinzhong_regulator: Actor
    today: date


async def build_world(services: Services, *, workers: int = 4, headcount: int = 4) -> World:
    async with services.uow() as uow:
        receiver = await make_enterprise(
            uow, name=_unique("山西五建集团有限公司"), county_code="140105"
        )
        supplier = await make_enterprise(
            uow, name=_unique("晋中劳务有限公司"), county_code="140702"
        )
        project = await make_project(uow, receiver, name="小店区保障房项目")
        other_project = await make_project(uow, receiver, name="迎泽区学校项目")
        foreman = await make_account(
            uow, role=Role.FOREMAN, enterprise=receiver, projects=[project], name="张伟"
        )
        receiver_disp = await make_account(
            uow, role=Role.DISPATCHER, enterprise=receiver, name="赵调度", phone="13911112222"
        )
        supplier_disp = await make_account(
            uow, role=Role.DISPATCHER, enterprise=supplier, name="李明", phone="13700001111"
        )
        outsider = await make_account(
            uow, role=Role.FOREMAN, enterprise=receiver, projects=[other_project], name="王五"
        )
        ty_reg = await make_account(
            uow, role=Role.REGULATOR, region_code="140100", name="太原监管"
        )
        jz_reg = await make_account(
            uow, role=Role.REGULATOR, region_code="140700", name="晋中监管"
        )
        names = ["王海东", "李文光", "赵伟", "孙小华", "吴玉兰", "张红飞"]
        crew = [
            await make_worker(uow, supplier, name=names[i % len(names)], grade_level=2)
            for i in range(workers)
        ]
        shortage = await make_shortage(
            uow, project, headcount=headcount, posted_by_account_id=foreman.id
        )
        idle = await make_idle_posting(uow, supplier, crew, posted_by_account_id=supplier_disp.id)
        await uow.commit()
        return World(
            receiver_id=receiver.id,
            supplier_id=supplier.id,
            project_id=project.id,
            shortage_id=shortage.id,
            idle_posting_id=idle.id,
            worker_ids=tuple(w.id for w in crew),
            foreman=actor_of(foreman, [project.id]),
            receiver_dispatcher=actor_of(receiver_disp),
            supplier_dispatcher=actor_of(supplier_disp),
            outsider=actor_of(outsider, [other_project.id]),
            taiyuan_regulator=actor_of(ty_reg),
            jinzhong_regulator=actor_of(jz_reg),
            today=local_date(uow.now()),
        )


_n = iter(range(1, 1_000_000))


def _unique(name: str) -> str:
    return f"{name}{next(_n)}"


def in_days(world: World, days: int) -> date:
    return world.today + timedelta(days=days)


async def footprint(uow: UnitOfWork) -> dict[str, Any]:
    """What a refused call must leave untouched."""

    async def count(model: Any) -> int:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)

    workers = (
        await uow.session.execute(
            select(Worker.id, Worker.status, Worker.team_id).order_by(Worker.id)
        )
    ).all()
    deals = (
        await uow.session.execute(
            select(Deal.id, Deal.status, Deal.version, Deal.price_fen).order_by(Deal.id)
        )
    ).all()
    return {
        "deals": [tuple(d) for d in deals],
        "events": await count(DealEvent),
        "outbox": await count(OutboxMessage),
        "audit": await count(AuditLog),
        "workers": [tuple(w) for w in workers],
    }


async def outbox_rows(uow: UnitOfWork) -> list[tuple[int, str, dict[str, Any]]]:
    rows = await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
    return [(m.account_id, m.kind, dict(m.payload)) for m in rows]
