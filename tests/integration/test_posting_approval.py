"""需求待批 (core/services/posting_approval.py): the company setting, a foreman's shortage held
for the dispatchers, published on approval (with changes), refused with a reason, and every
refusal: a stranger's dispatcher, the foreman, twice, a suspended company, the toggle."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import OutboxMessage, ShortagePosting, ShortageRequest
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, PermissionDenied, ValidationError
from core.services.enterprises import suspend_enterprise
from core.services.posting_approval import (
    approve_request,
    post_or_request,
    reject_request,
    set_postings_need_approval,
)
from core.services.postings import PostShortageCommand
from tests.factories import actor_of, make_account, make_enterprise, make_project


@dataclass(frozen=True)
class World:
    enterprise_id: int
    project_id: int
    foreman: Actor
    dispatcher: Actor
    other_dispatcher: Actor  # the same company's second dispatcher
    admin: Actor
    stranger: Actor  # a dispatcher of another company


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西建工集团", type="general_contractor")
        project = await make_project(uow, ent, name="太原南站项目")
        other = await make_enterprise(uow, name="别家劳务")
        foreman = await make_account(uow, enterprise=ent, projects=[project], name="张工")
        d1 = await make_account(uow, role=Role.DISPATCHER, enterprise=ent, name="李调度")
        d2 = await make_account(uow, role=Role.DISPATCHER, enterprise=ent, name="王调度")
        admin = await make_account(uow, role=Role.DISPATCHER, enterprise=ent, name="赵管理")
        admin.is_admin = True
        stranger = await make_account(uow, role=Role.DISPATCHER, enterprise=other, name="外人")
        await uow.commit()
        return World(
            enterprise_id=ent.id,
            project_id=project.id,
            foreman=actor_of(foreman, [project.id]),
            dispatcher=actor_of(d1),
            other_dispatcher=actor_of(d2),
            admin=actor_of(admin),
            stranger=actor_of(stranger),
        )


def command(world: World, **overrides: Any) -> PostShortageCommand:
    fields: dict[str, Any] = {
        "project_id": world.project_id,
        "trade_code": "plasterer",
        "min_grade": 3,
        "headcount": 5,
        "price": "6000",
        "contact_name": "张工",
        "contact_phone": "13912345678",
    }
    return PostShortageCommand(**(fields | overrides))


async def count(services: Services, model: Any, *where: Any) -> int:
    async with services.uow() as uow:
        stmt = select(func.count()).select_from(model).where(*where)
        return int(await uow.session.scalar(stmt) or 0)


async def outbox(services: Services, kind: str) -> list[int]:
    async with services.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage.account_id).where(OutboxMessage.kind == kind)
        )
        return sorted(rows)


async def turn_on(services: Services, world: World) -> None:
    async with services.uow() as uow:
        await set_postings_need_approval(uow, world.admin, world.enterprise_id, True)


async def test_without_the_setting_a_foremans_shortage_is_published_at_once(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        outcome = await post_or_request(uow, world.foreman, command(world))
    assert outcome.shortage is not None
    assert outcome.request is None
    assert await count(services, ShortageRequest) == 0


async def test_with_the_setting_a_foremans_shortage_waits_for_the_dispatchers(
    services: Services, world: World
) -> None:
    await turn_on(services, world)
    async with services.uow() as uow:
        outcome = await post_or_request(uow, world.foreman, command(world))
    assert outcome.shortage is None
    assert outcome.request is not None
    assert outcome.request.status == "pending"
    assert await count(services, ShortagePosting) == 0  # nothing published, nothing matched
    # every dispatcher of the company gets the card (the admin is one), nobody else
    expected = sorted(
        a.account_id or 0 for a in (world.dispatcher, world.other_dispatcher, world.admin)
    )
    assert await outbox(services, "shortage_request") == expected
    # a dispatcher's own post is not held
    async with services.uow() as uow:
        direct = await post_or_request(uow, world.dispatcher, command(world))
    assert direct.shortage is not None


async def test_approval_with_another_headcount_and_price_publishes_for_the_foreman(
    services: Services, world: World
) -> None:
    await turn_on(services, world)
    async with services.uow() as uow:
        filed = await post_or_request(uow, world.foreman, command(world))
    assert filed.request is not None
    async with services.uow() as uow:
        with pytest.raises(ValidationError):  # a bad headcount: nothing decided
            await approve_request(uow, world.dispatcher, filed.request.id, headcount=0)
    async with services.uow() as uow:
        view = await approve_request(
            uow, world.dispatcher, filed.request.id, headcount="3", price="6500"
        )
    assert (view.status, view.headcount, view.price) == ("approved", 3, Decimal("6500"))
    async with services.uow() as uow:
        posted = await uow.session.get(ShortagePosting, view.shortage_id)
        assert posted is not None
        assert (posted.headcount, posted.price_fen, posted.posted_by_account_id) == (
            3,
            650_000,
            world.foreman.account_id,
        )
    assert await outbox(services, "shortage_request_approved") == [world.foreman.account_id]
    # the second dispatcher's card, tapped afterwards
    async with services.uow() as uow:
        with pytest.raises(Conflict) as caught:
            await approve_request(uow, world.other_dispatcher, filed.request.id)
        assert caught.value.key == "error.request_approved"
    assert await count(services, ShortagePosting) == 1


async def test_rejection_keeps_it_unpublished_and_tells_the_foreman_why(
    services: Services, world: World
) -> None:
    await turn_on(services, world)
    async with services.uow() as uow:
        filed = await post_or_request(uow, world.foreman, command(world))
    assert filed.request is not None
    async with services.uow() as uow:
        with pytest.raises(ValidationError):
            await reject_request(uow, world.dispatcher, filed.request.id, "   ")
    async with services.uow() as uow:
        view = await reject_request(uow, world.dispatcher, filed.request.id, "本月预算已满")
    assert (view.status, view.reason) == ("rejected", "本月预算已满")
    assert await count(services, ShortagePosting) == 0
    assert await outbox(services, "shortage_request_rejected") == [world.foreman.account_id]
    async with services.uow() as uow:
        with pytest.raises(Conflict) as caught:
            await approve_request(uow, world.dispatcher, filed.request.id)
        assert caught.value.key == "error.request_rejected"


async def test_only_the_companys_dispatchers_decide(services: Services, world: World) -> None:
    await turn_on(services, world)
    async with services.uow() as uow:
        filed = await post_or_request(uow, world.foreman, command(world))
    assert filed.request is not None
    for actor in (world.stranger, world.foreman):
        async with services.uow() as uow:
            with pytest.raises(PermissionDenied):
                await approve_request(uow, actor, filed.request.id)
        async with services.uow() as uow:
            with pytest.raises(PermissionDenied):
                await reject_request(uow, actor, filed.request.id, "不要")
    assert await count(services, ShortageRequest, ShortageRequest.status == "pending") == 1


async def test_a_company_suspended_meanwhile_publishes_nothing(
    services: Services, world: World
) -> None:
    await turn_on(services, world)
    async with services.uow() as uow:
        filed = await post_or_request(uow, world.foreman, command(world))
    assert filed.request is not None
    async with services.uow() as uow:
        await suspend_enterprise(uow, Actor.system(), world.enterprise_id, "安全整改")
        await uow.commit()
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied) as caught:
            await approve_request(uow, world.dispatcher, filed.request.id)
        assert caught.value.key == "error.enterprise_suspended"
    assert await count(services, ShortagePosting) == 0
    assert await count(services, ShortageRequest, ShortageRequest.status == "pending") == 1


async def test_only_the_admin_or_the_cli_turns_the_setting(
    services: Services, world: World
) -> None:
    for actor in (world.dispatcher, world.foreman, world.stranger):
        async with services.uow() as uow:
            with pytest.raises(PermissionDenied):
                await set_postings_need_approval(uow, actor, world.enterprise_id, True)
    async with services.uow() as uow:
        assert await set_postings_need_approval(uow, world.admin, world.enterprise_id, True)
    async with services.uow() as uow:
        assert not await set_postings_need_approval(
            uow, Actor.system(), world.enterprise_id, False
        )
    async with services.uow() as uow:
        outcome = await post_or_request(uow, world.foreman, command(world))
    assert outcome.shortage is not None
