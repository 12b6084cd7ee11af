"""Matching shortages with idle workers, and the notifications that tell the other side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import (
    Enterprise,
    GuidePrice,
    OutboxMessage,
    Project,
    ShortagePosting,
)
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, PermissionDenied
from core.ports import FixedClock
from core.services.matching import match_posting, notify_matches
from core.services.postings import (
    DeclareIdleCommand,
    PostShortageCommand,
    declare_idle,
    edit_shortage,
    post_shortage,
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
    own: Enterprise  # 小店区 (Taiyuan), the project's company
    county: Enterprise  # another company in 小店区
    city: Enterprise  # another company in 迎泽区 (Taiyuan)
    province: Enterprise  # another company in 榆次区 (Jinzhong)
    project: Project
    shortage_id: int  # plasterer, grade 3 or better, 4 workers at 5500
    foreman: Actor


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        own = await make_enterprise(uow, county_code="140105", credit_score=80)
        county = await make_enterprise(uow, county_code="140105", credit_score=80)
        city = await make_enterprise(uow, county_code="140106", credit_score=80)
        province = await make_enterprise(uow, county_code="140702", credit_score=80)
        project = await make_project(uow, own)
        foreman = await make_account(uow, role=Role.FOREMAN, enterprise=own, projects=[project])
        s = await make_shortage(uow, project, posted_by_account_id=foreman.id)
        await uow.commit()
    return World(own, county, city, province, project, s.id, actor_of(foreman, [project.id]))


async def idle(
    uow: UnitOfWork, ent: Enterprise, *, n: int = 4, grade: int = 3, trade: str = "plasterer",
    **overrides: Any,
) -> int:  # fmt: skip
    workers = [await make_worker(uow, ent, trade_code=trade, grade_level=grade) for _ in range(n)]
    return (await make_idle_posting(uow, ent, workers, grade_level=grade, **overrides)).id


async def matches(
    services: Services, kind: str, posting_id: int, actor: Actor | None = None, **kw: Any
) -> list[Any]:
    async with services.uow() as uow:
        return await match_posting(uow, actor, kind, posting_id, **kw)


async def test_hard_filters_drop_wrong_trade_low_grade_and_dead_postings(
    services: Services, world: World, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        good = await idle(uow, world.county, grade=3)
        better = await idle(uow, world.county, grade=1)
        await idle(uow, world.county, trade="welder")
        await idle(uow, world.county, grade=4)  # below the required grade 3
        await idle(uow, world.county, status="cancelled")
        await idle(uow, world.county, expires_at=clock.now() - timedelta(minutes=1))
        await idle(uow, world.county, n=2, filled_count=2, status="partly_filled")
        await idle(uow, world.county, ring="internal")  # another company's internal offer
        await uow.commit()
    found = await matches(services, "shortage", world.shortage_id)
    assert {m.posting_id for m in found} == {good, better}
    assert all(m.kind == "idle" for m in found)


async def test_county_beats_city_beats_province(services: Services, world: World) -> None:
    async with services.uow() as uow:
        far = await idle(uow, world.province)
        near = await idle(uow, world.county)
        mid = await idle(uow, world.city)
        await uow.commit()
    found = await matches(services, "shortage", world.shortage_id)
    assert [m.posting_id for m in found] == [near, mid, far]
    assert [m.breakdown.region for m in found] == [35, 20, 5]


async def test_own_company_candidates_come_first_even_when_they_score_lower(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        market = await idle(uow, world.county)
        # own company, another city, asking far more and internal only
        internal = await idle(uow, world.own, county_code="140702", city_code="140700",
                              price_fen=900000, ring="internal")  # fmt: skip
        await uow.commit()
    found = await matches(services, "shortage", world.shortage_id)
    assert [(m.posting_id, m.internal) for m in found] == [(internal, True), (market, False)]
    assert found[0].score < found[1].score


async def test_a_cheaper_asking_price_ranks_higher(services: Services, world: World) -> None:
    async with services.uow() as uow:
        dear = await idle(uow, world.county, price_fen=630000)  # 14.5 % above 5500
        cheap = await idle(uow, world.county, price_fen=500000)
        await uow.commit()
    found = await matches(services, "shortage", world.shortage_id)
    assert [m.posting_id for m in found] == [cheap, dear]
    assert [m.breakdown.price for m in found] == [30, 15.45]


async def test_better_credit_and_better_rated_workers_rank_higher(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        trusted = await make_enterprise(uow, county_code="140105", credit_score=100)
        shaky = await make_enterprise(uow, county_code="140105", credit_score=40)
        a = await idle(uow, shaky)
        b = await idle(uow, trusted)
        rated = await idle(uow, shaky, avg_rating_x100=500)
        unrated = await idle(uow, shaky, avg_rating_x100=None)
        await uow.commit()
    found = await matches(services, "shortage", world.shortage_id)
    order = [m.posting_id for m in found]
    assert order.index(b) < order.index(a)
    assert order.index(rated) < order.index(unrated)
    by_id = {m.posting_id: m for m in found}
    assert (by_id[b].breakdown.credit, by_id[a].breakdown.credit) == (15, 6)
    assert (by_id[rated].breakdown.rating, by_id[unrated].breakdown.rating) == (15, 9)


async def test_a_guide_price_far_off_costs_points(services: Services, world: World) -> None:
    async with services.uow() as uow:
        uow.session.add(
            GuidePrice(
                city_code="140100", trade_code="plasterer", grade_level=3, price_fen=500000,
                effective_date=date(2025, 1, 1), created_at=uow.now(),
            )
        )  # fmt: skip
        bait = await idle(uow, world.county, price_fen=200000)  # 60 % under the guide
        await uow.commit()
    [m] = await matches(services, "shortage", world.shortage_id)
    assert (m.posting_id, m.breakdown.price, m.breakdown.guide_penalty) == (bait, 25, 5)


async def test_an_idle_posting_finds_shortages_with_cards(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        pid = await idle(uow, world.city, n=2, grade=2)
        other_project = await make_project(uow, world.county, county_code="140106")
        near = (await make_shortage(uow, other_project, headcount=2)).id
        strict = (await make_shortage(uow, other_project, min_grade=1)).id  # wants grade 1
        await uow.commit()
    found = await matches(services, "idle", pid)
    assert [m.posting_id for m in found] == [near, world.shortage_id]
    assert strict not in {m.posting_id for m in found}
    top = found[0]
    assert (top.kind, top.card.kind, top.card.id, top.card.open_headcount) == (
        "shortage", "shortage", near, 2,
    )  # fmt: skip
    assert top.score == top.breakdown.total
    assert top.card.contact_phone_masked.count("*") == 4


async def test_the_rest_of_the_province_is_searched_when_the_city_runs_short(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        in_city = [await idle(uow, world.city) for _ in range(3)]
        elsewhere = [await idle(uow, world.province) for _ in range(3)]
        await uow.commit()
    found = await matches(services, "shortage", world.shortage_id, limit=4)
    assert [m.posting_id for m in found] == [*in_city, elsewhere[0]]


async def test_matching_needs_rights_over_the_posting_and_a_live_posting(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        other_project = await make_project(uow, world.own)
        stranger = actor_of(
            await make_account(
                uow, role=Role.FOREMAN, enterprise=world.own, projects=[other_project]
            ),
            [other_project.id],
        )
        rival = actor_of(await make_account(uow, role=Role.DISPATCHER, enterprise=world.county))
        taiyuan = actor_of(await make_account(uow, role=Role.REGULATOR, region_code="140100"))
        jinzhong = actor_of(await make_account(uow, role=Role.REGULATOR, region_code="140700"))
        await uow.commit()
    for actor in (stranger, rival, jinzhong):
        with pytest.raises(PermissionDenied):
            await matches(services, "shortage", world.shortage_id, actor)
    assert await matches(services, "shortage", world.shortage_id, taiyuan) == []
    assert await matches(services, "shortage", world.shortage_id, world.foreman) == []
    async with services.uow() as uow:
        await edit_shortage(uow, world.foreman, world.shortage_id, headcount=2)
        row = await uow.session.get(ShortagePosting, world.shortage_id)
        assert row is not None
        row.status = "cancelled"
        await uow.commit()
    with pytest.raises(Conflict) as err:
        await matches(services, "shortage", world.shortage_id, world.foreman)
    assert err.value.key == "error.posting_closed"


# --- notifications --------------------------------------------------------------------------


async def outbox(services: Services) -> list[tuple[int, dict[str, Any], datetime, str | None]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(
                OutboxMessage.account_id,
                OutboxMessage.payload,
                OutboxMessage.not_before,
                OutboxMessage.dedup_key,
            )
            .where(OutboxMessage.kind == "match")
            .order_by(OutboxMessage.id)
        )
        return [
            (a, p, nb.replace(tzinfo=UTC) if nb.tzinfo is None else nb, k) for a, p, nb, k in rows
        ]


def new_shortage(world: World, **overrides: Any) -> PostShortageCommand:
    values: dict[str, Any] = dict(
        project_id=world.project.id, trade_code="plasterer", min_grade=3, headcount=4,
        price="5500", contact_name="张伟", contact_phone="13912345678",
    )  # fmt: skip
    values.update(overrides)
    return PostShortageCommand(**values)


async def test_posting_a_shortage_tells_the_idle_sides_poster_once_per_pair(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        poster = await make_account(uow, role=Role.DISPATCHER, enterprise=world.county)
        pid = await idle(uow, world.county, posted_by_account_id=poster.id)
        await uow.commit()
    async with services.uow() as uow:
        sid = (await post_shortage(uow, world.foreman, new_shortage(world))).id
    [(account_id, payload, _nb, key)] = await outbox(services)
    assert account_id == poster.id
    assert payload == {
        "my_posting_kind": "idle",
        "my_posting_id": pid,
        "other_kind": "shortage",
        "other_posting_id": sid,
        "score": payload["score"],
    }
    assert payload["score"] > 80
    assert key == f"match:{sid}:{pid}:{poster.id}"
    async with services.uow() as uow:
        await edit_shortage(uow, world.foreman, sid, price="5600")
    async with services.uow() as uow:
        assert await notify_matches(uow, "shortage", sid) == 0
    assert len(await outbox(services)) == 1


async def test_nobody_is_told_about_a_match_with_their_own_posting(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=world.own)
        await idle(uow, world.own, posted_by_account_id=dispatcher.id)
        await uow.commit()
    async with services.uow() as uow:
        await post_shortage(uow, actor_of(dispatcher), new_shortage(world))
    assert await outbox(services) == []


async def test_muted_accounts_are_skipped_and_quiet_hours_delay_delivery(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        muted = await make_account(uow, role=Role.DISPATCHER, enterprise=world.county)
        muted.notifications_enabled = False
        sleepy = await make_account(uow, role=Role.DISPATCHER, enterprise=world.city)
        sleepy.quiet_start, sleepy.quiet_end = time(9, 0), time(11, 0)  # it is 10:00 there
        await idle(uow, world.county, posted_by_account_id=muted.id)
        await idle(uow, world.city, posted_by_account_id=sleepy.id)
        await uow.commit()
    async with services.uow() as uow:
        await post_shortage(uow, world.foreman, new_shortage(world))
    [(account_id, _payload, not_before, _key)] = await outbox(services)
    assert account_id == sleepy.id
    assert not_before == datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # 11:00 in Shanghai


async def test_without_an_active_poster_the_companys_dispatchers_are_told(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        gone = await make_account(uow, role=Role.DISPATCHER, enterprise=world.county)
        gone.active = False
        d1 = await make_account(uow, role=Role.DISPATCHER, enterprise=world.county)
        d2 = await make_account(uow, role=Role.DISPATCHER, enterprise=world.county)
        await make_account(uow, role=Role.FOREMAN, enterprise=world.county)
        await idle(uow, world.county, posted_by_account_id=gone.id)
        await uow.commit()
    async with services.uow() as uow:
        await post_shortage(uow, world.foreman, new_shortage(world))
    assert sorted(a for a, *_ in await outbox(services)) == [d1.id, d2.id]


async def test_declaring_idle_workers_tells_the_shortages_poster_and_its_projects_foremen(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        colleague = await make_account(
            uow, role=Role.FOREMAN, enterprise=world.own, projects=[world.project]
        )
        retired = await make_account(
            uow, role=Role.FOREMAN, enterprise=world.own, projects=[world.project]
        )
        retired.active = False
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=world.city)
        workers = [await make_worker(uow, world.city, grade_level=3) for _ in range(2)]
        await uow.commit()
    async with services.uow() as uow:
        view = await declare_idle(
            uow,
            actor_of(dispatcher),
            DeclareIdleCommand(
                county_code="140106", trade_code="plasterer", grade_level=3,
                worker_ids=[w.id for w in workers], price="5000", contact_name="李明",
                contact_phone="13700001111",
            ),
        )  # fmt: skip
    sent = await outbox(services)
    assert sorted(a for a, *_ in sent) == sorted([world.foreman.account_id, colleague.id])
    assert all(p["my_posting_kind"] == "shortage" for _a, p, *_ in sent)
    assert all(p["other_posting_id"] == view.id for _a, p, *_ in sent)


async def test_only_the_top_matches_are_announced(services: Services, world: World) -> None:
    async with services.uow() as uow:
        poster = await make_account(uow, role=Role.DISPATCHER, enterprise=world.county)
        for _ in range(7):
            await idle(uow, world.county, posted_by_account_id=poster.id)
        await uow.commit()
    async with services.uow() as uow:
        sid = (await post_shortage(uow, world.foreman, new_shortage(world))).id
    assert len(await outbox(services)) == 5
    async with services.uow() as uow:
        assert await notify_matches(uow, "shortage", sid, top=7) == 2
        await uow.commit()
    assert len(await outbox(services)) == 7
