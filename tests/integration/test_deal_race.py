"""Two accepts that want the same worker, on two sessions at once: exactly one wins."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, text

from core.db.models import (
    AuditLog,
    Deal,
    DealEvent,
    DealWorker,
    IdlePosting,
    OutboxMessage,
    ShortagePosting,
    Team,
    Worker,
)
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import DealAction, DealStatus, Role
from core.domain.errors import Conflict
from core.domain.timeutil import local_date
from core.services.deals import ProposeDeal, accept_deal, propose_deal
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)

ROUNDS = 4


async def _two_offers_sharing_a_worker(services: Services) -> dict[str, Any]:
    """A labor company offers workers (a, b) to project one and (b, c) to project two."""
    async with services.uow() as uow:
        supplier = await make_enterprise(uow, county_code="140702")
        crew = [await make_worker(uow, supplier) for _ in range(3)]
        idle = await make_idle_posting(uow, supplier, crew)
        supplier_disp = await make_account(uow, role=Role.DISPATCHER, enterprise=supplier)
        sides = []
        for _ in range(2):
            receiver = await make_enterprise(uow)
            project = await make_project(uow, receiver)
            foreman = await make_account(uow, enterprise=receiver, projects=[project])
            shortage = await make_shortage(uow, project, headcount=2)
            sides.append((actor_of(foreman, [project.id]), shortage.id, project.id))
        await uow.commit()
    seller = actor_of(supplier_disp)
    today = local_date(services.clock.now())
    deals = []
    for (_, shortage_id, _), names in zip(sides, ((0, 1), (1, 2)), strict=True):
        async with services.uow() as uow:
            view = await propose_deal(
                uow,
                seller,
                ProposeDeal(
                    shortage_id=shortage_id,
                    idle_posting_id=idle.id,
                    worker_ids=tuple(crew[i].id for i in names),
                    price="5500",
                    start_date=today,
                ),
            )
            deals.append(view.id)
    return {
        "workers": [w.id for w in crew],
        "idle_id": idle.id,
        "deals": deals,
        "foremen": [s[0] for s in sides],
        "shortages": [s[1] for s in sides],
        "projects": [s[2] for s in sides],
    }


async def _accept(services: Services, actor: Actor, deal_id: int) -> Any:
    # a unit of work of its own: its own session and connection
    async with services.uow() as uow:
        try:
            return await accept_deal(uow, actor, deal_id)
        except Conflict as exc:
            return exc


async def test_two_accepts_sharing_a_worker_have_exactly_one_winner(services: Services) -> None:
    for _ in range(ROUNDS):
        world = await _two_offers_sharing_a_worker(services)
        results = await asyncio.gather(
            *(
                _accept(services, foreman, deal_id)
                for foreman, deal_id in zip(world["foremen"], world["deals"], strict=True)
            )
        )
        errors = [r for r in results if isinstance(r, Conflict)]
        assert len(errors) == 1, results
        assert errors[0].key == "error.worker_taken"
        winner = next(i for i, r in enumerate(results) if not isinstance(r, Conflict))
        await _assert_only_the_winner_wrote(services, world, winner)


async def _assert_only_the_winner_wrote(
    services: Services, world: dict[str, Any], winner: int
) -> None:
    loser = 1 - winner
    a, b, c = world["workers"]
    moved = (a, b) if winner == 0 else (b, c)
    stays = c if winner == 0 else a
    async with services.uow() as uow:
        deals = {d.id: d for d in await uow.session.scalars(select(Deal))}
        assert deals[world["deals"][winner]].status == DealStatus.ACCEPTED
        lost = deals[world["deals"][loser]]
        assert (lost.status, lost.version, lost.accepted_at) == (DealStatus.PENDING, 1, None)

        team_of = dict((await uow.session.execute(select(Team.id, Team.project_id))).all())
        workers = {w.id: w for w in await uow.session.scalars(select(Worker))}
        for wid in moved:
            assert workers[wid].status == "busy"
            assert team_of[workers[wid].team_id] == world["projects"][winner]
        assert (workers[stays].status, workers[stays].team_id) == ("idle", None)
        teams_of_loser = await uow.session.scalar(
            select(func.count())
            .select_from(Team)
            .where(Team.project_id == world["projects"][loser])
        )
        assert teams_of_loser == 0

        shortages = {s.id: s for s in await uow.session.scalars(select(ShortagePosting))}
        assert shortages[world["shortages"][winner]].filled_count == 2
        assert shortages[world["shortages"][loser]].filled_count == 0
        idle = await uow.session.get(IdlePosting, world["idle_id"])
        assert idle.filled_count == 2

        accepts = list(
            await uow.session.scalars(
                select(DealEvent.deal_id).where(
                    DealEvent.action == DealAction.ACCEPT,
                    DealEvent.deal_id.in_(world["deals"]),
                )
            )
        )
        assert accepts == [world["deals"][winner]]
        accept_audits = list(
            await uow.session.scalars(
                select(AuditLog.entity_id).where(
                    AuditLog.action == "deal.accept",
                    AuditLog.entity_id.in_([str(d) for d in world["deals"]]),
                )
            )
        )
        assert accept_audits == [str(world["deals"][winner])]
        accepted_notes = await uow.session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(
                OutboxMessage.kind == "deal_accepted",
                OutboxMessage.payload["deal_id"].as_integer() == world["deals"][loser],
            )
        )
        assert accepted_notes == 0
        named = await uow.session.scalar(
            select(func.count())
            .select_from(DealWorker)
            .where(DealWorker.deal_id == world["deals"][loser])
        )
        assert named == 2  # the loser's offer is untouched, still naming its workers


async def test_two_accounts_accepting_the_same_deal_at_once_accept_it_once(
    services: Services,
) -> None:
    async with services.uow() as uow:
        supplier = await make_enterprise(uow, county_code="140702")
        crew = [await make_worker(uow, supplier) for _ in range(2)]
        idle = await make_idle_posting(uow, supplier, crew)
        receiver = await make_enterprise(uow)
        project = await make_project(uow, receiver)
        foreman = await make_account(uow, enterprise=receiver, projects=[project])
        boss = await make_account(uow, role=Role.DISPATCHER, enterprise=receiver)
        seller = await make_account(uow, role=Role.DISPATCHER, enterprise=supplier)
        shortage = await make_shortage(uow, project, headcount=2)
        await uow.commit()
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            actor_of(seller),
            ProposeDeal(
                shortage_id=shortage.id,
                idle_posting_id=idle.id,
                worker_ids=(crew[0].id, crew[1].id),
                price="5000",
                start_date=local_date(services.clock.now()),
            ),
        )
    results = await asyncio.gather(
        _accept(services, actor_of(foreman, [project.id]), offer.id),
        _accept(services, actor_of(boss), offer.id),
    )
    errors = [r for r in results if isinstance(r, Conflict)]
    assert len(errors) == 1
    assert errors[0].key in ("error.deal_closed", "error.stale")
    async with services.uow() as uow:
        posting = await uow.session.get(ShortagePosting, shortage.id)
        assert (posting.filled_count, posting.status) == (2, "filled")
        events = await uow.session.scalar(
            select(func.count())
            .select_from(DealEvent)
            .where(DealEvent.deal_id == offer.id, DealEvent.action == DealAction.ACCEPT)
        )
        assert events == 1


async def test_a_worker_taken_while_the_accept_runs_voids_the_whole_accept(
    services: Services, db_kind: str
) -> None:
    """Another transaction takes a worker and commits only after the accept has begun: on
    PostgreSQL the accept's conditional UPDATE waits for it and then matches too few rows; on
    SQLite the accept waits at BEGIN IMMEDIATE and then sees the worker busy."""
    world = await _two_offers_sharing_a_worker(services)
    a, b, _ = world["workers"]
    engine = services.session_factory.kw["bind"]
    async with engine.connect() as other:
        await other.begin()
        await other.execute(text("UPDATE worker SET status = 'busy' WHERE id = :id"), {"id": b})
        accept = asyncio.create_task(_accept(services, world["foremen"][0], world["deals"][0]))
        await asyncio.sleep(0.5)  # the accept is now blocked behind our write
        assert not accept.done()
        await other.commit()
    result = await asyncio.wait_for(accept, timeout=30)
    assert isinstance(result, Conflict)
    assert result.key == "error.worker_taken"
    async with services.uow() as uow:
        deal = await uow.session.get(Deal, world["deals"][0])
        assert (deal.status, deal.version) == (DealStatus.PENDING, 1)
        worker_a = await uow.session.get(Worker, a)
        assert (worker_a.status, worker_a.team_id) == ("idle", None)
        shortage = await uow.session.get(ShortagePosting, world["shortages"][0])
        assert shortage.filled_count == 0
