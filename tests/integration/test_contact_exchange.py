"""📞 交换电话 (core/services/contact_exchange.py): a request goes to the other side, ✅ reveals
both phones with an audit row per read, ❌ keeps them hidden, and every refusal: twice for a
pair, the own company, a regulator, an expired posting, answering twice, forged ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.db.models import AuditLog, ContactExchange, OutboxMessage, ShortagePosting
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.services import contact_exchange as cx
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
    shortage_id: int
    idle_id: int
    own_idle_id: int  # an idle posting of the contractor itself
    foreman: Actor
    dispatcher: Actor  # of the labor company (the idle side)
    colleague: Actor  # the contractor's dispatcher
    stranger: Actor  # a dispatcher of a third company
    regulator: Actor


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        contractor = await make_enterprise(uow, name="山西建工集团", type="general_contractor")
        labor = await make_enterprise(uow, name="晋工劳务")
        third = await make_enterprise(uow, name="别家劳务")
        project = await make_project(uow, contractor, name="太原南站项目")
        foreman = await make_account(uow, enterprise=contractor, projects=[project], name="张工")
        colleague = await make_account(uow, role=Role.DISPATCHER, enterprise=contractor)
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=labor, name="李调")
        stranger = await make_account(uow, role=Role.DISPATCHER, enterprise=third)
        regulator = await make_account(uow, role=Role.REGULATOR, region_code="140100")
        shortage = await make_shortage(
            uow, project, posted_by_account_id=foreman.id, contact_phone="13911112222"
        )
        worker = await make_worker(uow, labor)
        idle = await make_idle_posting(
            uow, labor, [worker], posted_by_account_id=dispatcher.id, contact_phone="13833334444"
        )
        own_worker = await make_worker(uow, contractor)
        own_idle = await make_idle_posting(uow, contractor, [own_worker])
        await uow.commit()
        return World(
            shortage.id,
            idle.id,
            own_idle.id,
            actor_of(foreman, [project.id]),
            actor_of(dispatcher),
            actor_of(colleague),
            actor_of(stranger),
            actor_of(regulator),
        )


async def _reads(services: Services) -> list[tuple[int | None, str]]:
    """(reader, audit row's after) of every contact.read."""
    async with services.uow() as uow:
        rows = await uow.session.scalars(
            select(AuditLog).where(AuditLog.action == "contact.read").order_by(AuditLog.id)
        )
        return [(r.actor_account_id, str(r.after)) for r in rows]


async def _outbox(services: Services, kind: str) -> list[int]:
    """Recipients of the queued notifications of a kind."""
    async with services.uow() as uow:
        return list(
            await uow.session.scalars(
                select(OutboxMessage.account_id).where(OutboxMessage.kind == kind)
            )
        )


async def test_accepted_request_reveals_both_phones_and_audits_each_read(
    services: Services, world: World
) -> None:
    # from a search card: the foreman names only the idle posting, core pairs its shortage
    async with services.uow() as uow:
        exchange_id = await cx.request_exchange(
            uow, world.foreman, shortage_id=0, idle_posting_id=world.idle_id
        )
    asked = await _outbox(services, cx.KIND_REQUEST)
    assert asked == [world.dispatcher.account_id]
    assert await _reads(services) == []
    async with services.uow() as uow:
        revealed = await cx.answer_exchange(uow, world.dispatcher, exchange_id, accept=True)
    assert revealed is not None
    assert revealed.shortage.phone == "13911112222"
    assert revealed.idle.phone == "13833334444"
    answer = await _outbox(services, cx.KIND_ANSWER)
    assert answer == [world.foreman.account_id]
    async with services.uow() as uow:
        shown = await cx.requester_view(uow, exchange_id)
    assert shown is not None
    assert shown.other.phone == "13833334444"
    reads = await _reads(services)
    assert {reader for reader, _after in reads} == {
        world.foreman.account_id,
        world.dispatcher.account_id,
    }
    assert all("1391111" not in after and "1383333" not in after for _r, after in reads)


async def test_declined_request_keeps_phones_hidden(services: Services, world: World) -> None:
    async with services.uow() as uow:
        exchange_id = await cx.request_exchange(
            uow, world.dispatcher, shortage_id=world.shortage_id, idle_posting_id=0
        )
    async with services.uow() as uow:
        assert await cx.answer_exchange(uow, world.foreman, exchange_id, accept=False) is None
    async with services.uow() as uow:
        assert await cx.requester_view(uow, exchange_id) is None
    assert await _reads(services) == []
    # asking again for the same pair is refused
    with pytest.raises(Conflict) as refused:
        async with services.uow() as uow:
            await cx.request_exchange(
                uow, world.dispatcher, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
            )
    assert refused.value.key == "error.contact_already_declined"


async def test_one_pending_request_per_pair(services: Services, world: World) -> None:
    async with services.uow() as uow:
        await cx.request_exchange(
            uow, world.foreman, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
        )
    for actor in (world.foreman, world.dispatcher):
        with pytest.raises(Conflict) as refused:
            async with services.uow() as uow:
                await cx.request_exchange(
                    uow, actor, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
                )
        assert refused.value.key == "error.contact_already_pending"
    async with services.uow() as uow:
        assert len((await uow.session.scalars(select(ContactExchange))).all()) == 1


async def test_own_company_regulator_and_forged_ids_are_refused(
    services: Services, world: World
) -> None:
    with pytest.raises(ValidationError) as own:
        async with services.uow() as uow:
            await cx.request_exchange(
                uow,
                world.colleague,
                shortage_id=world.shortage_id,
                idle_posting_id=world.own_idle_id,
            )
    assert own.value.key == "error.contact_own_company"
    with pytest.raises(PermissionDenied) as reg:
        async with services.uow() as uow:
            await cx.request_exchange(
                uow, world.regulator, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
            )
    assert reg.value.key == "error.contact_regulator"
    # a stranger naming two postings of other companies; a posting id that does not exist
    with pytest.raises(NotFound):
        async with services.uow() as uow:
            await cx.request_exchange(
                uow, world.stranger, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
            )
    with pytest.raises(NotFound):
        async with services.uow() as uow:
            await cx.request_exchange(
                uow, world.foreman, shortage_id=world.shortage_id, idle_posting_id=999_999
            )
    # a stranger (or the requester itself) answering someone else's request
    async with services.uow() as uow:
        exchange_id = await cx.request_exchange(
            uow, world.foreman, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
        )
    for actor in (world.stranger, world.foreman):
        with pytest.raises(NotFound):
            async with services.uow() as uow:
                await cx.answer_exchange(uow, actor, exchange_id, accept=True)
    with pytest.raises(PermissionDenied):
        async with services.uow() as uow:
            await cx.answer_exchange(uow, world.regulator, exchange_id, accept=True)
    with pytest.raises(NotFound):
        async with services.uow() as uow:
            await cx.answer_exchange(uow, world.dispatcher, 999_999, accept=True)
    assert await _reads(services) == []


async def test_answering_twice_is_refused(services: Services, world: World) -> None:
    async with services.uow() as uow:
        exchange_id = await cx.request_exchange(
            uow, world.foreman, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
        )
    async with services.uow() as uow:
        await cx.answer_exchange(uow, world.dispatcher, exchange_id, accept=True)
    for accept in (True, False):
        with pytest.raises(Conflict) as twice:
            async with services.uow() as uow:
                await cx.answer_exchange(uow, world.dispatcher, exchange_id, accept=accept)
        assert twice.value.key == "error.contact_answered"
    assert len(await _reads(services)) == 2


async def test_expired_posting_is_refused(services: Services, world: World) -> None:
    async with services.uow() as uow:
        shortage = await uow.session.get(ShortagePosting, world.shortage_id)
        assert shortage is not None
        shortage.expires_at = uow.now() - timedelta(hours=1)
        await uow.commit()
    with pytest.raises(Conflict) as closed:
        async with services.uow() as uow:
            await cx.request_exchange(
                uow, world.dispatcher, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
            )
    assert closed.value.key == "error.contact_posting_closed"
    # without a named posting of its own, a foreman with no open shortage has nothing to pair
    with pytest.raises(ValidationError) as none:
        async with services.uow() as uow:
            await cx.request_exchange(
                uow, world.foreman, shortage_id=0, idle_posting_id=world.idle_id
            )
    assert none.value.key == "error.contact_no_own_posting"


async def test_agreeing_after_the_posting_expired_is_refused(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        exchange_id = await cx.request_exchange(
            uow, world.foreman, shortage_id=world.shortage_id, idle_posting_id=world.idle_id
        )
    async with services.uow() as uow:
        shortage = await uow.session.get(ShortagePosting, world.shortage_id)
        assert shortage is not None
        shortage.expires_at = uow.now() - timedelta(minutes=1)
        await uow.commit()
    with pytest.raises(Conflict) as closed:
        async with services.uow() as uow:
            await cx.answer_exchange(uow, world.dispatcher, exchange_id, accept=True)
    assert closed.value.key == "error.contact_posting_closed"
    async with services.uow() as uow:  # nothing half-written: still pending, no read
        row = await uow.session.get(ContactExchange, exchange_id)
        assert row is not None
        assert row.status == cx.PENDING
    assert await _reads(services) == []
    async with services.uow() as uow:  # declining stays possible
        assert await cx.answer_exchange(uow, world.dispatcher, exchange_id, accept=False) is None
