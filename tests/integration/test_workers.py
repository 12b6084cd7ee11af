"""Switching workers busy ↔ idle, listing and finding a company's workers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db.models import AuditLog, IdlePosting, IdlePostingWorker, Worker
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import NotFound, PermissionDenied, ValidationError
from core.ports import FixedClock
from core.services.postings import DeclareIdleCommand, declare_idle, edit_idle
from core.services.workers import find_workers, list_workers, set_worker_status
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_id_number,
    make_project,
    make_team,
    make_worker,
)


@dataclass
class World:
    dispatcher: Actor
    other_dispatcher: Actor
    foreman: Actor
    worker_ids: list[int]
    team_id: int
    other_worker_id: int


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        other = await make_enterprise(uow)
        project = await make_project(uow, ent)
        team = await make_team(uow, project)
        workers = [
            await make_worker(uow, ent, name=name, team=team, rating_sum=stars, rating_count=n)
            for name, stars, n in (("王海东", 9, 2), ("赵小明", 0, 0), ("王建国", 3, 1))
        ]
        stranger = await make_worker(uow, other, name="王外人")
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=ent)
        other_dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=other)
        foreman = await make_account(uow, role=Role.FOREMAN, enterprise=ent, projects=[project])
        await uow.commit()
    return World(
        dispatcher=actor_of(dispatcher),
        other_dispatcher=actor_of(other_dispatcher),
        foreman=actor_of(foreman, [project.id]),
        worker_ids=[w.id for w in workers],
        team_id=team.id,
        other_worker_id=stranger.id,
    )


async def declare(services: Services, world: World, worker_ids: list[int]) -> int:
    async with services.uow() as uow:
        view = await declare_idle(
            uow,
            world.dispatcher,
            DeclareIdleCommand(
                county_code="140105",
                trade_code="plasterer",
                grade_level=3,
                worker_ids=worker_ids,
                price="5000",
                contact_name="李明",
                contact_phone="13700001111",
            ),
        )
    return view.id


async def posting_state(services: Services, posting_id: int) -> tuple[int, str, list[int]]:
    async with services.uow() as uow:
        row = (
            await uow.session.execute(
                select(IdlePosting.headcount, IdlePosting.status).where(
                    IdlePosting.id == posting_id
                )
            )
        ).one()
        links = await uow.session.scalars(
            select(IdlePostingWorker.worker_id)
            .where(IdlePostingWorker.posting_id == posting_id)
            .order_by(IdlePostingWorker.worker_id)
        )
        return row[0], row[1], list(links.all())


async def test_a_dispatcher_sets_a_worker_busy_and_back_idle_keeping_the_team(
    services: Services, world: World, clock: FixedClock
) -> None:
    wid = world.worker_ids[0]
    clock.advance(hours=1)
    async with services.uow() as uow:
        view = await set_worker_status(uow, world.dispatcher, wid, "busy")
    assert (view.status, view.team_id, view.status_changed_at) == (
        "busy",
        world.team_id,
        clock.now(),
    )
    clock.advance(hours=1)
    async with services.uow() as uow:
        view = await set_worker_status(uow, world.dispatcher, wid, "idle")
    assert (view.status, view.team_id, view.status_changed_at) == (
        "idle",
        world.team_id,
        clock.now(),
    )
    async with services.uow() as uow:
        actions = (
            await uow.session.execute(
                select(AuditLog.before, AuditLog.after).where(AuditLog.action == "worker.status")
            )
        ).all()
    assert [tuple(a) for a in actions] == [
        ({"status": "idle"}, {"status": "busy"}),
        ({"status": "busy"}, {"status": "idle"}),
    ]


async def test_setting_the_same_status_again_changes_nothing(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        view = await set_worker_status(uow, world.dispatcher, world.worker_ids[0], "idle")
    assert view.status == "idle"
    async with services.uow() as uow:
        assert (await uow.session.scalar(select(AuditLog.id))) is None


async def test_a_worker_on_offer_who_goes_busy_leaves_the_posting_which_shrinks(
    services: Services, world: World
) -> None:
    pid = await declare(services, world, world.worker_ids)
    async with services.uow() as uow:
        view = await set_worker_status(uow, world.dispatcher, world.worker_ids[0], "busy")
    assert view.idle_posting_id is None
    assert await posting_state(services, pid) == (2, "open", sorted(world.worker_ids[1:]))
    async with services.uow() as uow:
        rating = await uow.session.scalar(
            select(IdlePosting.avg_rating_x100).where(IdlePosting.id == pid)
        )
    assert rating == 300  # only 王建国's one 3-star rating is left


async def test_a_posting_whose_last_worker_goes_busy_closes(
    services: Services, world: World
) -> None:
    pid = await declare(services, world, world.worker_ids[:1])
    async with services.uow() as uow:
        await set_worker_status(uow, world.dispatcher, world.worker_ids[0], "busy")
    assert await posting_state(services, pid) == (0, "cancelled", [])


async def test_a_posting_cut_below_its_list_keeps_its_count_while_workers_remain(
    services: Services, world: World
) -> None:
    pid = await declare(services, world, world.worker_ids)
    async with services.uow() as uow:
        await edit_idle(uow, world.dispatcher, pid, headcount=2)
    async with services.uow() as uow:
        await set_worker_status(uow, world.dispatcher, world.worker_ids[2], "busy")
    assert await posting_state(services, pid) == (2, "open", sorted(world.worker_ids[:2]))


async def test_only_the_workers_own_dispatcher_changes_their_status(
    services: Services, world: World
) -> None:
    for actor in (world.other_dispatcher, world.foreman):
        async with services.uow() as uow:
            with pytest.raises(PermissionDenied):
                await set_worker_status(uow, actor, world.worker_ids[0], "busy")
    async with services.uow() as uow:
        with pytest.raises(NotFound):
            await set_worker_status(uow, world.dispatcher, 424242, "busy")
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await set_worker_status(uow, world.dispatcher, world.worker_ids[0], "asleep")
    assert err.value.key == "error.bad_status"
    async with services.uow() as uow:
        assert (
            await uow.session.scalar(select(Worker.status).where(Worker.id == world.worker_ids[0]))
            == "idle"
        )


async def test_listing_workers_masks_ids_averages_ratings_and_pages(
    services: Services, world: World
) -> None:
    pid = await declare(services, world, world.worker_ids[:1])
    async with services.uow() as uow:
        first = await list_workers(uow, world.dispatcher, limit=2)
    assert [w.id for w in first.items] == world.worker_ids[:2]
    assert first.prev_cursor is None
    assert first.next_cursor is not None
    top = first.items[0]
    assert "********" in top.id_masked
    assert len(top.id_masked) == 18
    assert top.avg_rating == Decimal("4.5")
    assert top.phone_masked == "138****8000"
    assert top.idle_posting_id == pid
    assert first.items[1].avg_rating is None
    async with services.uow() as uow:
        second = await list_workers(uow, world.dispatcher, limit=2, cursor=first.next_cursor)
    assert [w.id for w in second.items] == world.worker_ids[2:]
    assert second.next_cursor is None
    assert second.prev_cursor is not None
    async with services.uow() as uow:
        back = await list_workers(
            uow, world.dispatcher, limit=2, cursor=second.prev_cursor, direction="prev"
        )
    assert [w.id for w in back.items] == world.worker_ids[:2]


async def test_listing_filters_by_status_and_stays_inside_the_company(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        await set_worker_status(uow, world.dispatcher, world.worker_ids[1], "busy")
    async with services.uow() as uow:
        busy = await list_workers(uow, world.foreman, status="busy")
        idle = await list_workers(uow, world.dispatcher, status="idle", trade_code="plasterer")
    assert [w.id for w in busy.items] == [world.worker_ids[1]]
    assert world.other_worker_id not in {w.id for w in idle.items}
    assert len(idle.items) == 2


async def test_finding_workers_by_name_or_id_number_within_the_company(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        by_name = await find_workers(uow, world.dispatcher, name="王")
    assert [w.name for w in by_name] == ["王海东", "王建国"]  # not 王外人 of another company
    async with services.uow() as uow:
        stored = await uow.session.get(Worker, world.worker_ids[1])
        assert stored is not None
        id_number = uow.cipher.decrypt(stored.id_cipher)
    async with services.uow() as uow:
        by_id = await find_workers(uow, world.dispatcher, id_number=id_number.lower())
        nobody = await find_workers(uow, world.other_dispatcher, id_number=id_number)
    assert [w.id for w in by_id] == [world.worker_ids[1]]
    assert nobody == []
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await find_workers(uow, world.dispatcher, id_number=make_id_number()[:17])
    assert err.value.key == "error.id_length"
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as none:
            await find_workers(uow, world.dispatcher)
    assert none.value.key == "error.search_criteria_required"
