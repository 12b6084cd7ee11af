"""The read-only queries behind "Post shortage" and "My postings": one's own postings page by
page, the projects one may post for, the trade list, and who an escalation would tell."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.ports import FixedClock
from core.services.postings import (
    escalation_recipients,
    list_grades,
    list_posting_projects,
    list_trades,
)
from core.services.search import count_my_postings, list_my_postings
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)


@dataclass
class World:
    foreman: Actor  # bound to project `a` only
    dispatcher: Actor
    stranger: Actor  # a dispatcher of another company
    regulator: Actor
    a: int
    b: int
    closed_project: int
    shortages_a: list[int]  # oldest first
    shortage_b: int
    cancelled_a: int
    idle: int
    foreign: int


@pytest.fixture
async def world(services: Services, clock: FixedClock) -> World:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西五建集团")
        other = await make_enterprise(uow, name="别家劳务")
        a = await make_project(uow, ent, name="A项目")
        b = await make_project(uow, ent, name="B项目")
        done = await make_project(uow, ent, name="已完工项目")
        done.status = "completed"
        foreman = await make_account(uow, role=Role.FOREMAN, enterprise=ent, projects=[a, done])
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=ent)
        stranger = await make_account(uow, role=Role.DISPATCHER, enterprise=other)
        regulator = await make_account(uow, role=Role.REGULATOR, region_code="140100")
        shortages_a = []
        for _ in range(7):
            clock.advance(minutes=1)
            shortages_a.append((await make_shortage(uow, a)).id)
        shortage_b = (await make_shortage(uow, b)).id
        cancelled = (await make_shortage(uow, a, status="cancelled")).id
        idle = await make_idle_posting(uow, ent, [await make_worker(uow, ent)])
        foreign = await make_shortage(uow, await make_project(uow, other))
        await uow.commit()
        return World(
            foreman=actor_of(foreman, [a.id, done.id]),
            dispatcher=actor_of(dispatcher),
            stranger=actor_of(stranger),
            regulator=actor_of(regulator),
            a=a.id,
            b=b.id,
            closed_project=done.id,
            shortages_a=shortages_a,
            shortage_b=shortage_b,
            cancelled_a=cancelled,
            idle=idle.id,
            foreign=foreign.id,
        )


async def test_a_foreman_pages_through_the_live_shortages_of_its_projects_newest_first(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        first = await list_my_postings(uow, world.foreman, kind="shortage")
        assert [c.id for c in first.items] == world.shortages_a[::-1][:5]
        assert first.prev_cursor is None
        assert first.next_cursor is not None
        second = await list_my_postings(
            uow, world.foreman, kind="shortage", cursor=first.next_cursor
        )
        assert [c.id for c in second.items] == world.shortages_a[1::-1]
        assert second.next_cursor is None
        assert second.prev_cursor is not None
        back = await list_my_postings(
            uow, world.foreman, kind="shortage", cursor=second.prev_cursor, direction="prev"
        )
        assert [c.id for c in back.items] == [c.id for c in first.items]
        closed = await list_my_postings(uow, world.foreman, kind="shortage", live=False)
        assert [c.id for c in closed.items] == [world.cancelled_a]
        assert closed.items[0].project_name == "A项目"
        # a foreman has no idle postings of its own
        assert (await list_my_postings(uow, world.foreman, kind="idle")).items == ()
        assert await count_my_postings(uow, world.foreman, kind="shortage", live=True) == len(
            world.shortages_a
        )
        assert await count_my_postings(uow, world.foreman, kind="shortage", live=False) == 1
        assert await count_my_postings(uow, world.foreman, kind="idle", live=True) == 0


async def test_a_dispatcher_sees_the_whole_company_and_nothing_of_others(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        page = await list_my_postings(uow, world.dispatcher, kind="shortage", limit=50)
        assert {c.id for c in page.items} == {*world.shortages_a, world.shortage_b}
        idle = await list_my_postings(uow, world.dispatcher, kind="idle")
        assert [c.id for c in idle.items] == [world.idle]
        stranger = await list_my_postings(uow, world.stranger, kind="shortage")
        assert [c.id for c in stranger.items] == [world.foreign]
        with pytest.raises(PermissionDenied):
            await list_my_postings(uow, world.regulator, kind="shortage")


async def test_the_projects_one_may_post_for_are_the_active_ones_in_scope(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        assert [p.id for p in await list_posting_projects(uow, world.foreman)] == [world.a]
        mine = await list_posting_projects(uow, world.dispatcher)
        assert [p.name for p in mine] == ["A项目", "B项目"]
        assert mine[0].city_code == "140100"
        with pytest.raises(PermissionDenied):
            await list_posting_projects(uow, world.regulator)


async def test_trades_list_the_nine_guided_first_and_grades_go_from_the_highest(
    services: Services,
) -> None:
    async with services.uow() as uow:
        trades = await list_trades(uow)
        grades = await list_grades(uow)
    assert [t.guided for t in trades[:9]] == [True] * 9
    assert not any(t.guided for t in trades[9:])
    assert len(trades) > 9
    assert trades[0].name("zh") == "钢筋工"
    assert trades[0].name("en") == "Rebar worker"
    assert [g.level for g in grades] == [1, 2, 3, 4, 5]
    assert grades[0].name("zh") == "一级"


async def test_an_escalation_preview_names_the_regulators_of_the_region_nearest_first(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        county = await make_account(uow, role=Role.REGULATOR, region_code="140105", name="小店局")
        await make_account(uow, role=Role.REGULATOR, region_code="140700", name="晋中局")
        province = await make_account(uow, role=Role.REGULATOR, region_code="140000", name="省厅")
        await uow.commit()
    async with services.uow() as uow:
        people = await escalation_recipients(uow, world.foreman, "shortage", world.shortages_a[0])
        assert [(p.account_id, p.region_name_zh) for p in people] == [
            (county.id, "小店区"),
            (world.regulator.account_id, "太原市"),
            (province.id, "山西省"),
        ]
        assert len(await escalation_recipients(uow, world.dispatcher, "idle", world.idle)) == 3
        with pytest.raises(PermissionDenied):
            await escalation_recipients(uow, world.stranger, "shortage", world.shortages_a[0])
        with pytest.raises(PermissionDenied):
            await escalation_recipients(uow, world.foreman, "shortage", world.shortage_b)
