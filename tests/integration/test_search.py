"""Searching postings: filters, visibility, cards and stable keyset pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update

from core.db.models import Enterprise, Project, ShortagePosting
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import ValidationError
from core.ports import FixedClock
from core.services.search import PostingQuery, count_postings, search_postings
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
class Places:
    xiaodian: Project  # 太原 小店区
    yingze: Project  # 太原 迎泽区
    yuci: Project  # 晋中 榆次区
    ent: Enterprise
    other: Enterprise
    viewer: Actor  # a dispatcher of `other`


@pytest.fixture
async def places(services: Services) -> Places:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西五建集团", county_code="140105")
        other = await make_enterprise(uow, name="晋中劳务公司", county_code="140702")
        places = Places(
            xiaodian=await make_project(uow, ent, county_code="140105", name="小店项目"),
            yingze=await make_project(uow, ent, county_code="140106", name="迎泽项目"),
            yuci=await make_project(uow, ent, county_code="140702", name="榆次项目"),
            ent=ent,
            other=other,
            viewer=actor_of(await make_account(uow, role=Role.DISPATCHER, enterprise=other)),
        )
        await uow.commit()
    return places


async def search(services: Services, actor: Actor, **query: Any) -> list[int]:
    async with services.uow() as uow:
        page = await search_postings(uow, actor, PostingQuery(**{"kind": "shortage", **query}))
    return [card.id for card in page.items]


async def shortage(uow: UnitOfWork, project: Project, **overrides: Any) -> int:
    return (await make_shortage(uow, project, **overrides)).id


async def test_region_filters_work_at_province_city_and_county_level(
    services: Services, places: Places
) -> None:
    async with services.uow() as uow:
        a = await shortage(uow, places.xiaodian)
        b = await shortage(uow, places.yingze)
        c = await shortage(uow, places.yuci)
        await uow.commit()
    v = places.viewer
    assert set(await search(services, v, region_code="14", limit=50)) == {a, b, c}
    assert set(await search(services, v, region_code="140000")) == {a, b, c}
    assert set(await search(services, v, region_code="1401")) == {a, b}
    assert set(await search(services, v, region_code="140100")) == {a, b}
    assert await search(services, v, region_code="140106") == [b]
    assert await search(services, v, region_code="140700") == [c]
    with pytest.raises(ValidationError) as err:
        await search(services, v, region_code="1")
    assert err.value.key == "error.unknown_region"


async def test_trade_grade_price_and_ring_filters(services: Services, places: Places) -> None:
    async with services.uow() as uow:
        cheap = await shortage(uow, places.xiaodian, price_fen=400000, min_grade=2)
        dear = await shortage(uow, places.xiaodian, price_fen=800000, min_grade=3)
        welder = await shortage(uow, places.xiaodian, trade_code="welder", price_fen=600000)
        escalated = await shortage(uow, places.xiaodian, ring="escalated", price_fen=600000)
        await uow.commit()
    v = places.viewer
    assert set(await search(services, v, trade_code="welder")) == {welder}
    assert set(await search(services, v, grade_level=2)) == {cheap}
    assert set(await search(services, v, price_min="5000", price_max=Decimal(7000))) == {
        welder,
        escalated,
    }
    assert set(await search(services, v, price_max="4000")) == {cheap}
    assert set(await search(services, v, price_min="8000")) == {dear}
    assert await search(services, v, ring="escalated") == [escalated]
    with pytest.raises(ValidationError) as err:
        await search(services, v, price_min="8000", price_max="5000")
    assert err.value.key == "error.price_range_inverted"
    with pytest.raises(ValidationError) as bad_ring:
        await search(services, v, ring="orbit")
    assert bad_ring.value.key == "error.bad_ring"


async def test_closed_postings_are_hidden_unless_asked_for(
    services: Services, places: Places
) -> None:
    async with services.uow() as uow:
        live = await shortage(uow, places.xiaodian)
        partly = await shortage(uow, places.xiaodian, status="partly_filled", filled_count=1)
        cancelled = await shortage(uow, places.xiaodian, status="cancelled")
        await uow.commit()
    v = places.viewer
    assert set(await search(services, v)) == {live, partly}
    assert await search(services, v, statuses=["cancelled"]) == [cancelled]
    with pytest.raises(ValidationError) as err:
        await search(services, v, statuses=["lost"])
    assert err.value.key == "error.bad_status"


async def test_internal_postings_are_seen_only_by_their_own_company_and_regulators(
    services: Services, places: Places
) -> None:
    async with services.uow() as uow:
        internal = await shortage(uow, places.xiaodian, ring="internal")
        market = await shortage(uow, places.yuci)
        own = actor_of(await make_account(uow, role=Role.DISPATCHER, enterprise=places.ent))
        taiyuan = actor_of(await make_account(uow, role=Role.REGULATOR, region_code="140100"))
        await uow.commit()
    assert await search(services, places.viewer) == [market]
    assert set(await search(services, own)) == {internal, market}
    assert await search(services, taiyuan) == [internal]  # Yuci lies outside Taiyuan


async def test_a_card_shows_names_open_headcount_and_a_masked_phone(
    services: Services, places: Places
) -> None:
    async with services.uow() as uow:
        await shortage(uow, places.yingze, headcount=5, filled_count=2, status="partly_filled")
        await uow.commit()
    async with services.uow() as uow:
        page = await search_postings(uow, places.viewer, PostingQuery(kind="shortage"))
    [card] = page.items
    assert (card.kind, card.enterprise_name, card.project_name) == (
        "shortage",
        "山西五建集团",
        "迎泽项目",
    )
    assert (card.county_name_zh, card.city_name_zh, card.city_name_en) == (
        "迎泽区",
        "太原市",
        "Taiyuan",
    )
    assert (card.trade_name_zh, card.trade_name_en) == ("抹灰工", "Plasterer")
    assert (card.grade_level, card.open_headcount, card.price) == (3, 3, Decimal("5500.00"))
    assert card.contact_phone_masked == "139****5678"
    assert not hasattr(card, "contact_phone")


async def test_idle_postings_are_searched_the_same_way(services: Services, places: Places) -> None:
    async with services.uow() as uow:
        worker = await make_worker(uow, places.other, grade_level=2)
        welder = await make_worker(uow, places.other, trade_code="welder")
        p = await make_idle_posting(uow, places.other, [worker])
        await make_idle_posting(uow, places.other, [welder])
        await uow.commit()
    async with services.uow() as uow:
        page = await search_postings(
            uow,
            places.viewer,
            PostingQuery(kind="idle", region_code="140702", trade_code="plasterer", grade_level=2),
        )
    assert [(c.kind, c.id, c.project_name, c.enterprise_name) for c in page.items] == [
        ("idle", p.id, None, "晋中劳务公司")
    ]
    with pytest.raises(ValidationError):
        await search(services, places.viewer, kind="wish")


# --- pagination -----------------------------------------------------------------------------


async def make_many(
    services: Services, places: Places, clock: FixedClock, n: int, *, same_time: bool = False
) -> list[int]:
    """n shortages, oldest first."""
    ids = []
    async with services.uow() as uow:
        for _ in range(n):
            if not same_time:
                clock.advance(minutes=1)
            ids.append(await shortage(uow, places.xiaodian))
        await uow.commit()
    return ids


async def page_of(services: Services, actor: Actor, **query: Any) -> Any:
    async with services.uow() as uow:
        return await search_postings(uow, actor, PostingQuery(kind="shortage", **query))


@pytest.mark.parametrize("same_time", [False, True])
async def test_pages_walk_forward_and_back_newest_first(
    services: Services, places: Places, clock: FixedClock, same_time: bool
) -> None:
    ids = await make_many(services, places, clock, 12, same_time=same_time)
    newest = list(reversed(ids))
    v = places.viewer
    p1 = await page_of(services, v)
    assert [c.id for c in p1.items] == newest[:5]
    assert p1.prev_cursor is None
    assert p1.next_cursor
    p2 = await page_of(services, v, cursor=p1.next_cursor)
    assert [c.id for c in p2.items] == newest[5:10]
    p3 = await page_of(services, v, cursor=p2.next_cursor)
    assert [c.id for c in p3.items] == newest[10:]
    assert p3.next_cursor is None
    assert p3.prev_cursor
    back2 = await page_of(services, v, cursor=p3.prev_cursor, direction="prev")
    assert [c.id for c in back2.items] == newest[5:10]
    back1 = await page_of(services, v, cursor=back2.prev_cursor, direction="prev")
    assert [c.id for c in back1.items] == newest[:5]
    assert back1.prev_cursor is None


async def test_new_postings_between_views_do_not_shift_the_next_page(
    services: Services, places: Places, clock: FixedClock
) -> None:
    ids = await make_many(services, places, clock, 8)
    newest = list(reversed(ids))
    p1 = await page_of(services, places.viewer)
    fresh = await make_many(services, places, clock, 3)
    p2 = await page_of(services, places.viewer, cursor=p1.next_cursor)
    assert [c.id for c in p2.items] == newest[5:]  # nothing repeated, nothing skipped
    back = await page_of(services, places.viewer, cursor=p2.prev_cursor, direction="prev")
    assert [c.id for c in back.items] == newest[:5]
    assert back.prev_cursor is not None  # the new ones wait above
    top = await page_of(services, places.viewer, cursor=back.prev_cursor, direction="prev")
    assert [c.id for c in top.items] == [*reversed(fresh), *newest[:2]]  # a full first page
    assert top.prev_cursor is None


async def test_postings_closed_between_views_leave_no_gap_or_repeat(
    services: Services, places: Places, clock: FixedClock
) -> None:
    ids = await make_many(services, places, clock, 12)
    newest = list(reversed(ids))
    p1 = await page_of(services, places.viewer)
    async with services.uow() as uow:
        closed = [newest[5], newest[6], newest[1]]  # two on page 2, one on page 1
        await uow.session.execute(
            update(ShortagePosting)
            .where(ShortagePosting.id.in_(closed))
            .values(status="cancelled")
        )
        await uow.commit()
    p2 = await page_of(services, places.viewer, cursor=p1.next_cursor)
    assert [c.id for c in p2.items] == newest[7:12]
    assert p2.next_cursor is None
    back = await page_of(services, places.viewer, cursor=p2.prev_cursor, direction="prev")
    # going back from page 2 shows the newest five visible rows: page 1 refilled
    assert [c.id for c in back.items] == [newest[0], newest[2], newest[3], newest[4], newest[7]]
    assert back.prev_cursor is None


async def test_a_next_page_whose_rows_all_closed_is_empty_and_leads_back(
    services: Services, places: Places, clock: FixedClock
) -> None:
    ids = await make_many(services, places, clock, 7)
    newest = list(reversed(ids))
    p1 = await page_of(services, places.viewer)
    async with services.uow() as uow:
        await uow.session.execute(
            update(ShortagePosting)
            .where(ShortagePosting.id.in_(newest[5:]))
            .values(status="filled")
        )
        await uow.commit()
    p2 = await page_of(services, places.viewer, cursor=p1.next_cursor)
    assert p2.items == ()
    assert p2.next_cursor is None
    assert p2.prev_cursor
    back = await page_of(services, places.viewer, cursor=p2.prev_cursor, direction="prev")
    assert [c.id for c in back.items] == newest[:5]


async def test_bad_cursors_and_page_sizes_are_refused(services: Services, places: Places) -> None:
    for query, key in (
        ({"cursor": "not base64!"}, "error.bad_cursor"),
        ({"cursor": "aGVsbG8"}, "error.bad_cursor"),  # "hello"
        ({"limit": 51}, "error.page_size"),
        ({"limit": 0}, "error.page_size"),
    ):
        with pytest.raises(ValidationError) as err:
            await page_of(services, places.viewer, **query)
        assert err.value.key == key


async def test_page_size_goes_up_to_fifty(
    services: Services, places: Places, clock: FixedClock
) -> None:
    await make_many(services, places, clock, 7)
    page = await page_of(services, places.viewer, limit=50)
    assert len(page.items) == 7
    assert page.next_cursor is None


async def test_idle_postings_filter_by_a_posted_workers_gender_and_credit_grade(
    services: Services, places: Places
) -> None:
    async with services.uow() as uow:
        men_a = [await make_worker(uow, places.ent) for _ in range(2)]
        woman_c = await make_worker(uow, places.ent)
        for w in men_a:
            w.gender, w.credit_grade = "M", "A"
        woman_c.gender, woman_c.credit_grade = "F", "C"
        only_men = (await make_idle_posting(uow, places.ent, men_a)).id
        mixed = (await make_idle_posting(uow, places.ent, [men_a[0], woman_c])).id
        nobody = (await make_idle_posting(uow, places.ent, [])).id
        await uow.commit()
    v = places.viewer

    async def idle(**query: Any) -> set[int]:
        return set(await search(services, v, kind="idle", limit=50, **query))

    assert await idle() == {only_men, mixed, nobody}
    assert await idle(worker_gender="F") == {mixed}  # one woman among its workers is enough
    assert await idle(worker_gender="M") == {only_men, mixed}
    assert await idle(worker_credit_grade="B") == {only_men, mixed}
    assert await idle(worker_credit_grade="D") == {only_men, mixed}
    assert await idle(worker_gender="F", worker_credit_grade="B") == set()  # the same worker
    async with services.uow() as uow:
        query = PostingQuery(kind="idle", worker_gender="F")
        assert await count_postings(uow, v, query) == 1
        assert await count_postings(uow, v, PostingQuery(kind="idle")) == 3


async def test_worker_filters_refuse_shortages_and_values_nobody_offers(
    services: Services, places: Places
) -> None:
    for bad in (
        {"kind": "shortage", "worker_gender": "F"},
        {"kind": "shortage", "worker_credit_grade": "A"},
        {"kind": "idle", "worker_gender": "X"},
        {"kind": "idle", "worker_credit_grade": "Z"},
    ):
        with pytest.raises(ValidationError):
            await search(services, places.viewer, **bad)


async def test_counts_follow_the_filters_and_the_live_statuses(
    services: Services, places: Places
) -> None:
    async with services.uow() as uow:
        for _ in range(3):
            await shortage(uow, places.xiaodian)
        await shortage(uow, places.yuci)
        await shortage(uow, places.xiaodian, status="cancelled")
        await uow.commit()
    async with services.uow() as uow:
        v = places.viewer
        assert await count_postings(uow, v, PostingQuery(kind="shortage")) == 4
        city = PostingQuery(kind="shortage", region_code="140100")
        assert await count_postings(uow, v, city) == 3
