"""The dispatch rings: who gets 📝, the company's default ring, an internal posting hidden
from other companies, opened with one tap, and opened by the sweep after the company's hours
(exactly once, with the market told and the poster told)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from core.db.models import AuditLog, Enterprise, OutboxMessage, ShortagePosting
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import EnterpriseType, Role
from core.domain.errors import Conflict, PermissionDenied, ValidationError
from core.domain.rules import offers_shortage_posting, poster_ring
from core.ports import FixedClock
from core.services.accounts import get_account
from core.services.postings import PostShortageCommand, post_shortage
from core.services.rings import (
    KIND_OPENED,
    open_due_internal,
    open_to_market,
    ring_settings,
    set_ring_settings,
)
from core.services.search import PostingQuery, search_postings
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_worker,
)


@dataclass(frozen=True)
class World:
    contractor_id: int
    project_id: int
    dispatcher: Actor  # the contractor's
    stranger: Actor  # a dispatcher of a labor company with idle plasterers
    stranger_account_id: int
    labor_dispatcher_id: int


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        contractor = await make_enterprise(
            uow, name="山西建投", type=EnterpriseType.GENERAL_CONTRACTOR.value
        )
        project = await make_project(uow, contractor, name="太原南站项目")
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=contractor)
        labor = await make_enterprise(uow, name="鑫源劳务")
        stranger = await make_account(uow, role=Role.DISPATCHER, enterprise=labor, name="别家")
        workers = [await make_worker(uow, labor, grade_level=2) for _ in range(3)]
        await make_idle_posting(uow, labor, workers)
        await uow.commit()
        return World(
            contractor.id,
            project.id,
            actor_of(dispatcher),
            actor_of(stranger),
            stranger.id,
            stranger.id,
        )


def command(world: World, ring: str | None = None) -> PostShortageCommand:
    return PostShortageCommand(
        project_id=world.project_id,
        trade_code="plasterer",
        min_grade=3,
        headcount=4,
        price="5500",
        contact_name="张伟",
        contact_phone="13912345678",
        ring=ring,
    )


async def match_notices(services: Services, account_id: int) -> list[OutboxMessage]:
    async with services.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.account_id == account_id, OutboxMessage.kind == "match"
            )
        )
        return list(rows.all())


async def visible_to(services: Services, actor: Actor) -> list[int]:
    async with services.uow() as uow:
        page = await search_postings(uow, actor, PostingQuery(kind="shortage", limit=50))
        return [card.id for card in page.items]


def test_the_menu_offers_shortages_to_foremen_and_contractors_dispatchers_only() -> None:
    assert offers_shortage_posting(Role.FOREMAN, None)
    assert offers_shortage_posting(Role.DISPATCHER, "general_contractor")
    assert offers_shortage_posting(Role.DISPATCHER, "subcontractor")
    assert not offers_shortage_posting(Role.DISPATCHER, "labor_service")
    assert not offers_shortage_posting(Role.DISPATCHER, None)
    assert not offers_shortage_posting(Role.REGULATOR, "general_contractor")


def test_the_posters_choice_wins_then_the_company_default_then_the_market() -> None:
    assert poster_ring("internal", "market") == "internal"
    assert poster_ring(None, "internal") == "internal"
    assert poster_ring(None, None) == "market"
    assert poster_ring("escalated", None) == "market"


async def test_the_account_view_knows_its_companys_kind(services: Services, world: World) -> None:
    async with services.uow() as uow:
        assert world.dispatcher.account_id is not None
        mine = await get_account(uow, world.dispatcher.account_id)
        theirs = await get_account(uow, world.labor_dispatcher_id)
    assert mine.posts_shortages
    assert not theirs.posts_shortages


async def test_an_internal_shortage_is_hidden_from_other_companies_until_opened_with_one_tap(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        view = await post_shortage(uow, world.dispatcher, command(world, "internal"))
    assert view.ring == "internal"
    assert view.id in await visible_to(services, world.dispatcher)
    assert view.id not in await visible_to(services, world.stranger)
    assert await match_notices(services, world.stranger_account_id) == []

    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await open_to_market(uow, world.stranger, "shortage", view.id)
    async with services.uow() as uow:
        with pytest.raises(Conflict) as stale:
            await open_to_market(
                uow, world.dispatcher, "shortage", view.id, expected_version=view.version + 1
            )
    assert stale.value.key == "error.stale"
    async with services.uow() as uow:
        opened = await open_to_market(
            uow, world.dispatcher, "shortage", view.id, expected_version=view.version
        )
    assert opened.ring == "market"
    assert view.id in await visible_to(services, world.stranger)
    assert len(await match_notices(services, world.stranger_account_id)) == 1
    async with services.uow() as uow:  # the old button, tapped again
        with pytest.raises(Conflict) as again:
            await open_to_market(uow, world.dispatcher, "shortage", view.id)
    assert again.value.key == "error.already_public"


async def test_the_company_default_ring_applies_when_the_poster_does_not_choose(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        await set_ring_settings(uow, Actor.system(), world.contractor_id, default_ring="internal")
    async with services.uow() as uow:
        default = await post_shortage(uow, world.dispatcher, command(world))
    async with services.uow() as uow:
        chosen = await post_shortage(uow, world.dispatcher, command(world, "market"))
    assert (default.ring, chosen.ring) == ("internal", "market")


async def test_the_sweep_opens_an_internal_posting_after_the_companys_hours_exactly_once(
    services: Services, world: World, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        await set_ring_settings(uow, Actor.system(), world.contractor_id, internal_open_hours=6)
    async with services.uow() as uow:
        view = await post_shortage(uow, world.dispatcher, command(world, "internal"))

    clock.advance(hours=5, minutes=59)
    async with services.uow() as uow:
        assert await open_due_internal(uow, clock.now()) == []
    clock.advance(minutes=1)
    async with services.uow() as uow:
        [opened] = await open_due_internal(uow, clock.now())
    async with services.uow() as uow:
        assert await open_due_internal(uow, clock.now()) == []  # a second run: nothing
    assert (opened.kind, opened.posting_id) == ("shortage", view.id)

    async with services.uow() as uow:
        row = await uow.session.get(ShortagePosting, view.id)
        assert row is not None
        assert row.ring == "market"
        told = [
            (m.account_id, m.payload["posting_id"], m.payload["hours"])
            for m in (
                await uow.session.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == KIND_OPENED)
                )
            ).all()
        ]
        audit = (
            await uow.session.scalars(
                select(AuditLog.action).where(AuditLog.action == "shortage.open_market")
            )
        ).all()
    assert told == [(world.dispatcher.account_id, view.id, 6)]
    assert len(audit) == 1
    assert len(await match_notices(services, world.stranger_account_id)) == 1
    assert view.id in await visible_to(services, world.stranger)


async def test_the_sweep_leaves_public_closed_and_young_postings_alone(
    services: Services, world: World, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        public = await post_shortage(uow, world.dispatcher, command(world, "market"))
    async with services.uow() as uow:
        young = await post_shortage(uow, world.dispatcher, command(world, "internal"))
    clock.advance(hours=23)
    async with services.uow() as uow:
        row = await uow.session.get(ShortagePosting, young.id)
        assert row is not None
        row.status = "cancelled"
        await uow.commit()
    async with services.uow() as uow:
        late = await post_shortage(uow, world.dispatcher, command(world, "internal"))
    clock.advance(hours=2)  # 25 h for the cancelled one, 2 h for the late one
    async with services.uow() as uow:
        assert await open_due_internal(uow, clock.now()) == []
    async with services.uow() as uow:
        rings = {s.id: s.ring for s in (await uow.session.scalars(select(ShortagePosting))).all()}
    assert rings == {public.id: "market", young.id: "internal", late.id: "internal"}


@pytest.mark.parametrize("hours", ["0", "721", "abc", "-3"])
async def test_bad_hours_are_refused_and_nothing_changes(
    services: Services, world: World, hours: str
) -> None:
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as refused:
            await set_ring_settings(
                uow, Actor.system(), world.contractor_id, internal_open_hours=hours
            )
    assert refused.value.key == "error.open_hours"
    async with services.uow() as uow:
        assert (await ring_settings(uow, world.contractor_id)).internal_open_hours == 24


async def test_only_the_companys_admin_changes_its_ring_settings(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await set_ring_settings(
                uow, world.stranger, world.contractor_id, default_ring="internal"
            )
        with pytest.raises(PermissionDenied):  # its own dispatcher, but not the admin
            await set_ring_settings(
                uow, world.dispatcher, world.contractor_id, default_ring="internal"
            )
    async with services.uow() as uow:
        company = await uow.session.get(Enterprise, world.contractor_id)
        assert company is not None
        assert company.default_ring == "market"
