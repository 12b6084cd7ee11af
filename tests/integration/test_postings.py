"""Posting shortages and idle workers: validation, rights, edits, closing, expiry, escalation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import (
    AuditLog,
    IdlePosting,
    IdlePostingWorker,
    OutboxMessage,
    ShortagePosting,
)
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from core.ports import FixedClock
from core.services.postings import (
    DeclareIdleCommand,
    PostShortageCommand,
    cancel_shortage,
    close_shortage_filled,
    declare_idle,
    edit_idle,
    edit_shortage,
    escalate_idle,
    escalate_shortage,
    expire_postings,
    post_shortage,
    withdraw_idle,
)
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
    enterprise_id: int
    other_enterprise_id: int
    project_id: int
    other_project_id: int
    foreman: Actor
    dispatcher: Actor
    other_dispatcher: Actor
    foreman_of_other_project: Actor
    regulator: Actor
    worker_ids: list[int]


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西五建集团", county_code="140105")
        other = await make_enterprise(uow, name="晋中劳务公司", county_code="140702")
        project = await make_project(uow, ent, name="小店区安置房")
        other_project = await make_project(uow, ent, name="迎泽区学校")
        foreman = await make_account(uow, role=Role.FOREMAN, enterprise=ent, projects=[project])
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=ent, name="调度员")
        other_disp = await make_account(uow, role=Role.DISPATCHER, enterprise=other, name="别家")
        foreman2 = await make_account(
            uow, role=Role.FOREMAN, enterprise=ent, projects=[other_project], name="李四"
        )
        regulator = await make_account(uow, role=Role.REGULATOR, region_code="140100", name="监管")
        workers = [
            await make_worker(uow, ent, grade_level=grade, rating_sum=stars, rating_count=n)
            for grade, stars, n in ((2, 9, 2), (3, 0, 0), (3, 5, 1))
        ]
        await uow.commit()
    return World(
        enterprise_id=ent.id,
        other_enterprise_id=other.id,
        project_id=project.id,
        other_project_id=other_project.id,
        foreman=actor_of(foreman, [project.id]),
        dispatcher=actor_of(dispatcher),
        other_dispatcher=actor_of(other_disp),
        foreman_of_other_project=actor_of(foreman2, [other_project.id]),
        regulator=actor_of(regulator),
        worker_ids=[w.id for w in workers],
    )


def shortage_cmd(world: World, **overrides: Any) -> PostShortageCommand:
    cmd = PostShortageCommand(
        project_id=world.project_id,
        trade_code="plasterer",
        min_grade=3,
        headcount=4,
        price="5,500元",
        contact_name="张伟",
        contact_phone="+86 139-1234-5678",
    )
    return replace(cmd, **overrides)


def idle_cmd(world: World, **overrides: Any) -> DeclareIdleCommand:
    cmd = DeclareIdleCommand(
        county_code="140105",
        trade_code="plasterer",
        grade_level=3,
        worker_ids=world.worker_ids,
        price=Decimal("5000"),
        contact_name="李明",
        contact_phone="13700001111",
    )
    return replace(cmd, **overrides)


async def count(services: Services, model: Any) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


@dataclass(frozen=True)
class Audit:
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    actor_account_id: int | None


async def audits(services: Services, action: str) -> list[Audit]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(AuditLog.before, AuditLog.after, AuditLog.actor_account_id)
            .where(AuditLog.action == action)
            .order_by(AuditLog.id)
        )
        return [Audit(*row) for row in rows]


# --- posting a shortage ---------------------------------------------------------------------


async def test_a_foreman_posts_a_shortage_for_their_project(
    services: Services, world: World, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        view = await post_shortage(uow, world.foreman, shortage_cmd(world))
    assert view.price == Decimal("5500.00")
    assert view.contact_phone_masked == "139****5678"
    assert view.contact_phone_private == "13912345678"
    assert (view.ring, view.status, view.headcount, view.open_headcount) == (
        "market",
        "open",
        4,
        4,
    )
    assert view.project_name == "小店区安置房"
    assert view.enterprise_name == "山西五建集团"
    assert (view.county_code, view.city_code) == ("140105", "140100")
    assert view.expires_at == clock.now() + timedelta(days=30)
    async with services.uow() as uow:
        row = await uow.session.get(ShortagePosting, view.id)
        assert row is not None
        assert row.price_fen == 550000
        assert row.posted_by_account_id == world.foreman.account_id
    [audit] = await audits(services, "shortage.post")
    assert audit.after is not None
    assert audit.after["headcount"] == 4
    assert audit.after["contact_phone"] == "139****5678"


async def test_a_dispatcher_posts_for_any_project_of_the_company_in_the_internal_ring(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        view = await post_shortage(
            uow,
            world.dispatcher,
            shortage_cmd(world, project_id=world.other_project_id, ring="internal"),
        )
    assert view.ring == "internal"


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"trade_code": "astronaut"}, "error.unknown_trade"),
        ({"min_grade": 9}, "error.unknown_grade"),
        ({"min_grade": "high"}, "error.unknown_grade"),
        ({"headcount": 0}, "error.headcount_range"),
        ({"headcount": "lots"}, "error.headcount_not_number"),
        ({"price": "11"}, "error.price_range"),
        ({"price": "abc"}, "error.price_not_number"),
        ({"contact_name": "11"}, "error.bad_name"),
        ({"contact_phone": "11"}, "error.phone"),
        ({"ring": "escalated"}, "error.bad_ring"),
        ({"ring": "galaxy"}, "error.bad_ring"),
    ],
)
async def test_a_bad_shortage_is_refused_and_nothing_is_written(
    services: Services, world: World, overrides: dict[str, Any], key: str
) -> None:
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await post_shortage(uow, world.foreman, shortage_cmd(world, **overrides))
    assert err.value.key == key
    assert await count(services, ShortagePosting) == 0
    assert await count(services, AuditLog) == 0
    assert await count(services, OutboxMessage) == 0


@pytest.mark.parametrize("who", ["foreman_of_other_project", "other_dispatcher", "regulator"])
async def test_only_the_projects_own_people_may_post_for_it(
    services: Services, world: World, who: str
) -> None:
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await post_shortage(uow, getattr(world, who), shortage_cmd(world))
    assert await count(services, ShortagePosting) == 0


async def test_posting_for_a_missing_or_finished_project_is_refused(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        with pytest.raises(NotFound) as missing:
            await post_shortage(uow, world.dispatcher, shortage_cmd(world, project_id=9999))
    assert missing.value.key == "error.project_not_found"
    async with services.uow() as uow:
        from core.db.models import Project

        project = await uow.session.get(Project, world.project_id)
        assert project is not None
        project.status = "completed"
        await uow.commit()
    async with services.uow() as uow:
        with pytest.raises(Conflict) as done:
            await post_shortage(uow, world.foreman, shortage_cmd(world))
    assert done.value.key == "error.project_inactive"


# --- editing and closing --------------------------------------------------------------------


async def posted(services: Services, world: World, **overrides: Any) -> int:
    async with services.uow() as uow:
        return (await post_shortage(uow, world.foreman, shortage_cmd(world, **overrides))).id


async def test_editing_a_shortage_changes_only_what_was_given_and_audits_it(
    services: Services, world: World
) -> None:
    sid = await posted(services, world)
    async with services.uow() as uow:
        view = await edit_shortage(
            uow, world.foreman, sid, headcount=6, price="6000", expected_version=1
        )
    assert (view.headcount, view.price, view.version) == (6, Decimal("6000.00"), 2)
    assert view.contact_name == "张伟"
    [audit] = await audits(services, "shortage.edit")
    assert audit.before == {"headcount": 4, "price_fen": 550000}
    assert audit.after == {"headcount": 6, "price_fen": 600000}


async def test_an_edit_from_a_stale_screen_is_refused(services: Services, world: World) -> None:
    sid = await posted(services, world)
    async with services.uow() as uow:
        await edit_shortage(uow, world.foreman, sid, price="6000", expected_version=1)
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await edit_shortage(uow, world.foreman, sid, headcount=2, expected_version=1)
    assert err.value.key == "error.stale"
    async with services.uow() as uow:
        row = await uow.session.get(ShortagePosting, sid)
        assert row is not None
        assert row.headcount == 4


async def test_headcount_cannot_go_below_the_workers_already_found(
    services: Services, world: World
) -> None:
    sid = await posted(services, world)
    async with services.uow() as uow:
        row = await uow.session.get(ShortagePosting, sid)
        assert row is not None
        row.filled_count, row.status = 2, "partly_filled"
        await uow.commit()
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await edit_shortage(uow, world.foreman, sid, headcount=1)
    assert err.value.key == "error.headcount_below_filled"
    assert err.value.params == {"filled": 2}
    async with services.uow() as uow:
        view = await edit_shortage(uow, world.foreman, sid, headcount=2)
    assert (view.status, view.open_headcount) == ("filled", 0)


async def test_another_projects_foreman_cannot_edit_or_cancel(
    services: Services, world: World
) -> None:
    sid = await posted(services, world)
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await edit_shortage(uow, world.foreman_of_other_project, sid, headcount=1)
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await cancel_shortage(uow, world.other_dispatcher, sid)
    assert await count(services, AuditLog) == 1  # only the posting itself


async def test_a_cancelled_shortage_can_no_longer_be_edited_or_cancelled(
    services: Services, world: World
) -> None:
    sid = await posted(services, world)
    async with services.uow() as uow:
        view = await cancel_shortage(uow, world.foreman, sid, expected_version=1)
    assert view.status == "cancelled"
    for act in (
        lambda uow: edit_shortage(uow, world.foreman, sid, headcount=2),
        lambda uow: cancel_shortage(uow, world.foreman, sid),
        lambda uow: close_shortage_filled(uow, world.foreman, sid),
        lambda uow: escalate_shortage(uow, world.foreman, sid),
    ):
        async with services.uow() as uow:
            with pytest.raises(Conflict) as err:
                await act(uow)
        assert err.value.key == "error.posting_closed"


async def test_closing_as_filled_marks_the_shortage_filled(
    services: Services, world: World
) -> None:
    sid = await posted(services, world)
    async with services.uow() as uow:
        view = await close_shortage_filled(uow, world.dispatcher, sid)
    assert view.status == "filled"
    [audit] = await audits(services, "shortage.close_filled")
    assert (audit.before, audit.after) == ({"status": "open"}, {"status": "filled"})


async def test_postings_past_their_expiry_expire_on_both_sides(
    services: Services, world: World, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        from core.db.models import Enterprise, Project, Worker

        project = await uow.session.get(Project, world.project_id)
        ent = await uow.session.get(Enterprise, world.enterprise_id)
        worker = await uow.session.get(Worker, world.worker_ids[0])
        assert project
        assert ent
        assert worker
        old = await make_shortage(uow, project, expires_at=clock.now() - timedelta(minutes=1))
        fresh = await make_shortage(uow, project, expires_at=clock.now() + timedelta(days=1))
        gone = await make_shortage(
            uow, project, status="cancelled", expires_at=clock.now() - timedelta(days=1)
        )
        idle = await make_idle_posting(
            uow, ent, [worker], expires_at=clock.now() - timedelta(hours=1)
        )
        await uow.commit()
    async with services.uow() as uow:
        assert await expire_postings(uow, clock.now()) == 2
    async with services.uow() as uow:
        statuses = {
            sid: (await uow.session.get(ShortagePosting, sid)).status  # type: ignore[union-attr]
            for sid in (old.id, fresh.id, gone.id)
        }
        idle_status = await uow.session.scalar(
            select(IdlePosting.status).where(IdlePosting.id == idle.id)
        )
    assert statuses == {old.id: "expired", fresh.id: "open", gone.id: "cancelled"}
    assert idle_status == "expired"
    assert len(await audits(services, "shortage.expire")) == 1
    assert len(await audits(services, "idle.expire")) == 1
    async with services.uow() as uow:
        assert await expire_postings(uow) == 0


# --- escalation -----------------------------------------------------------------------------


async def test_escalating_a_shortage_tells_the_regulators_whose_region_holds_it(
    services: Services, world: World, clock: FixedClock
) -> None:
    sid = await posted(services, world)
    async with services.uow() as uow:
        province = await make_account(uow, role=Role.REGULATOR, region_code="140000")
        county = await make_account(uow, role=Role.REGULATOR, region_code="140105")
        elsewhere = await make_account(uow, role=Role.REGULATOR, region_code="140700")
        retired = await make_account(uow, role=Role.REGULATOR, region_code="140100")
        retired.active = False
        await uow.commit()
    async with services.uow() as uow:
        view = await escalate_shortage(uow, world.foreman, sid)
    assert (view.ring, view.escalated_at) == ("escalated", clock.now())
    async with services.uow() as uow:
        rows = (
            await uow.session.execute(
                select(OutboxMessage.account_id, OutboxMessage.payload).where(
                    OutboxMessage.kind == "escalation"
                )
            )
        ).all()
    assert {account_id for account_id, _ in rows} == {
        world.regulator.account_id,
        province.id,
        county.id,
    }
    assert elsewhere.id not in {account_id for account_id, _ in rows}
    assert rows[0][1]["posting_kind"] == "shortage"
    assert rows[0][1]["posting_id"] == sid
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await escalate_shortage(uow, world.foreman, sid)
    assert err.value.key == "error.already_escalated"


# --- idle workers ---------------------------------------------------------------------------


async def test_a_dispatcher_declares_idle_workers_of_the_company(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        view = await declare_idle(uow, world.dispatcher, idle_cmd(world))
    assert view.headcount == 3
    assert view.worker_ids == tuple(sorted(world.worker_ids))
    assert (view.county_code, view.city_code) == ("140105", "140100")
    assert view.price == Decimal("5000.00")
    assert view.avg_rating == Decimal("4.67")  # (9 + 5) stars over 3 ratings
    assert view.contact_phone_masked == "137****1111"
    assert view.enterprise_name == "山西五建集团"
    [audit] = await audits(services, "idle.declare")
    assert audit.after is not None
    assert audit.after["worker_ids"] == world.worker_ids


async def _set_worker(services: Services, worker_id: int, **values: Any) -> None:
    from core.db.models import Worker

    async with services.uow() as uow:
        worker = await uow.session.get(Worker, worker_id)
        assert worker is not None
        for key, value in values.items():
            setattr(worker, key, value)
        await uow.commit()


@pytest.mark.parametrize(
    ("change", "cmd_overrides", "error", "key"),
    [
        ({"status": "busy"}, {}, Conflict, "error.worker_not_idle"),
        ({"trade_code": "welder"}, {}, ValidationError, "error.worker_trade_mismatch"),
        ({"grade_level": 4}, {}, ValidationError, "error.worker_grade_too_low"),
        ({}, {"worker_ids": []}, ValidationError, "error.no_workers"),
        ({}, {"worker_ids": [987654]}, ValidationError, "error.worker_not_in_enterprise"),
        ({}, {"county_code": "140100"}, ValidationError, "error.unknown_region"),
        ({}, {"county_code": "999"}, ValidationError, "error.unknown_region"),
        ({}, {"trade_code": "nope"}, ValidationError, "error.unknown_trade"),
        ({}, {"grade_level": 0}, ValidationError, "error.unknown_grade"),
        ({}, {"price": 99}, ValidationError, "error.price_range"),
        ({}, {"contact_phone": "12345"}, ValidationError, "error.phone"),
    ],
)
async def test_bad_idle_declarations_are_refused_and_nothing_is_written(
    services: Services,
    world: World,
    change: dict[str, Any],
    cmd_overrides: dict[str, Any],
    error: type[DomainError],
    key: str,
) -> None:
    if change:
        await _set_worker(services, world.worker_ids[1], **change)
    async with services.uow() as uow:
        with pytest.raises(error) as err:
            await declare_idle(uow, world.dispatcher, idle_cmd(world, **cmd_overrides))
    assert err.value.key == key
    assert await count(services, IdlePosting) == 0
    assert await count(services, IdlePostingWorker) == 0
    assert await count(services, AuditLog) == 0


async def test_a_worker_of_another_company_cannot_be_declared(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await declare_idle(uow, world.other_dispatcher, idle_cmd(world))
    assert err.value.key == "error.worker_not_in_enterprise"
    assert await count(services, IdlePosting) == 0


async def test_foremen_and_regulators_do_not_declare_idle_workers(
    services: Services, world: World
) -> None:
    for actor in (world.foreman, world.regulator):
        async with services.uow() as uow:
            with pytest.raises(PermissionDenied):
                await declare_idle(uow, actor, idle_cmd(world))


async def test_a_worker_is_offered_in_one_live_posting_at_a_time(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        first = await declare_idle(
            uow, world.dispatcher, idle_cmd(world, worker_ids=world.worker_ids[:2])
        )
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await declare_idle(
                uow, world.dispatcher, idle_cmd(world, worker_ids=world.worker_ids[1:])
            )
    assert err.value.key == "error.worker_already_posted"
    assert err.value.params["worker_id"] == world.worker_ids[1]
    async with services.uow() as uow:
        await withdraw_idle(uow, world.dispatcher, first.id)
    async with services.uow() as uow:
        second = await declare_idle(
            uow, world.dispatcher, idle_cmd(world, worker_ids=world.worker_ids[1:])
        )
    assert second.headcount == 2


async def test_editing_idle_counts_stays_between_filled_and_the_listed_workers(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        pid = (await declare_idle(uow, world.dispatcher, idle_cmd(world))).id
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await edit_idle(uow, world.dispatcher, pid, headcount=4)
    assert (err.value.key, err.value.params) == ("error.headcount_above_workers", {"max": 3})
    async with services.uow() as uow:
        view = await edit_idle(
            uow, world.dispatcher, pid, headcount=2, price="4800", contact_name="王五",
            expected_version=1,
        )  # fmt: skip
    assert (view.headcount, view.price, view.contact_name, view.version) == (
        2,
        Decimal("4800.00"),
        "王五",
        2,
    )
    [audit] = await audits(services, "idle.edit")
    assert audit.before == {"headcount": 3, "price_fen": 500000, "contact_name": "李明"}
    async with services.uow() as uow:
        with pytest.raises(Conflict) as stale:
            await edit_idle(uow, world.dispatcher, pid, headcount=1, expected_version=1)
    assert stale.value.key == "error.stale"
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await edit_idle(uow, world.other_dispatcher, pid, headcount=1)


async def test_withdrawn_idle_postings_are_closed_and_escalation_tells_regulators(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        pid = (await declare_idle(uow, world.dispatcher, idle_cmd(world))).id
    async with services.uow() as uow:
        view = await escalate_idle(uow, world.dispatcher, pid)
    assert view.ring == "escalated"
    async with services.uow() as uow:
        sent = (
            await uow.session.scalars(
                select(OutboxMessage.account_id).where(OutboxMessage.kind == "escalation")
            )
        ).all()
    assert list(sent) == [world.regulator.account_id]
    async with services.uow() as uow:
        with pytest.raises(Conflict):
            await edit_idle(uow, world.dispatcher, pid, ring="market")
    async with services.uow() as uow:
        view = await withdraw_idle(uow, world.dispatcher, pid)
    assert view.status == "cancelled"
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await withdraw_idle(uow, world.dispatcher, pid)
    assert err.value.key == "error.posting_closed"
