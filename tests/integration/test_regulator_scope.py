"""A regulator sees their region and everything below it, nothing else: a Taiyuan (140100)
bureau trying to reach Jinzhong (140700) data by every core path is refused or finds nothing.
Also the regulator's own queries on the hand-built world (tests/integration/regulator_world.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from bot.handlers.regulator.export import BUILDERS, build_export
from core.db.models import AuditLog, OutboxMessage, Worker
from core.db.uow import Services
from core.domain.errors import Conflict, PermissionDenied
from core.services import (
    brokering,
    credit_ranking,
    deals,
    guide_prices,
    open_shortages,
    ratings,
    summaries,
    worker_grading,
)
from tests.integration.regulator_world import RegWorld, build_reg_world


@pytest.fixture
async def world(services: Services) -> RegWorld:
    return await build_reg_world(services)


async def test_a_city_bureau_is_refused_every_path_into_another_city(
    services: Services, world: RegWorld
) -> None:
    ty = world.taiyuan
    week = {"date_from": date(2026, 2, 26), "date_to": date(2026, 3, 4)}
    paths: dict[str, Callable[[Any], Awaitable[object]]] = {
        "summary": lambda u: summaries.regional_summary(u, ty, "140700"),
        "summary of a Jinzhong county": lambda u: summaries.regional_summary(u, ty, "140702"),
        "statistics (short code)": lambda u: summaries.regional_summary(u, ty, "1407"),
        "top enterprises": lambda u: credit_ranking.top_enterprises(u, ty, "140700"),
        "open shortages": lambda u: open_shortages.open_shortages(u, ty, "140700"),
        "open shortages by project": lambda u: open_shortages.open_shortages(
            u, ty, "140702", group="project"
        ),
        "deal records": lambda u: deals.deal_records(u, ty, region_code="140700", **week),
        "deal records, foreign county filter": lambda u: deals.deal_records(
            u, ty, region_code="140100", county_code="140702", **week
        ),
        "ratings": lambda u: ratings.worker_rating_stats(u, ty, region_code="140700"),
        "guide prices view": lambda u: guide_prices.city_guide_prices(u, ty, "140700"),
        "guide price set": lambda u: guide_prices.set_guide_price(
            u, ty, city_code="140700", trade_code="plasterer", grade_level=2, price="4200"
        ),
        "grading card": lambda u: worker_grading.get_grading_card(u, ty, world.sun_id),
        "grading": lambda u: worker_grading.set_worker_grade(u, ty, world.sun_id, 1),
        "escalations": lambda u: brokering.escalated_postings(u, ty, "140700", "shortage"),
        "escalated posting": lambda u: brokering.escalation_detail(u, ty, "shortage", world.s9),
        "broker a Jinzhong pair": lambda u: brokering.broker_pair(u, ty, world.s9, world.i9),
        "broker with a Jinzhong side": lambda u: brokering.broker_pair(u, ty, world.s1, world.i9),
        "pair preview": lambda u: brokering.pair_cards(u, ty, world.s9, world.i9),
    }
    for table in BUILDERS:
        city = "140700"
        paths[f"export {table}"] = lambda u, table=table, city=city: build_export(
            u, ty, "zh", table, city, "e" if table == "o" else "w"
        )
    allowed = []
    for name, call in paths.items():
        async with services.uow() as uow:
            try:
                await call(uow)
            except PermissionDenied:
                continue
            allowed.append(name)
    assert allowed == []

    async with services.uow() as uow:
        # nothing was written on the way: Sun keeps his grade, no suggestion, no audit
        assert (
            await uow.session.scalar(select(Worker.grade_level).where(Worker.id == world.sun_id))
            == 2
        )
        assert (await uow.session.scalars(select(OutboxMessage))).all() == []
        assert (await uow.session.scalars(select(AuditLog))).all() == []


async def test_searches_and_lists_in_scope_show_nothing_of_another_city(
    services: Services, world: RegWorld
) -> None:
    ty = world.taiyuan
    async with services.uow() as uow:
        assert await worker_grading.find_workers_in_scope(uow, ty, name="孙小华") == []
        assert (
            await worker_grading.find_workers_in_scope(uow, ty, id_number=world.sun_id_number)
            == []
        )
        escalated = await brokering.escalated_postings(uow, ty, "140100", "shortage")
        detail = await brokering.escalation_detail(uow, ty, "shortage", world.s1)
        top = await credit_ranking.top_enterprises(uow, ty, "140100")
        rated = await ratings.worker_rating_stats(uow, ty, region_code="140100")
    assert [c.id for c in escalated.items] == [world.s1]
    # 晋中's escalated idle plasterers would fit S1, but they are not this bureau's to broker
    assert [m.posting_id for m in detail.matches] == [world.i1]
    assert "晋中榆次劳务" not in [e.name for e in top]
    assert "孙小华" not in [s.name for s in rated.items]


async def test_a_county_bureau_stays_inside_its_county(
    services: Services, world: RegWorld
) -> None:
    xd = world.xiaodian
    async with services.uow() as uow:
        summary = await summaries.regional_summary(uow, xd, "140105")
        with pytest.raises(PermissionDenied):
            await summaries.regional_summary(uow, xd, "140106")  # the neighbour county
        with pytest.raises(PermissionDenied):
            await open_shortages.open_shortages(uow, xd, "140100")  # its own city is above it
        with pytest.raises(PermissionDenied):
            await worker_grading.set_worker_grade(uow, xd, world.wang_id, 1)  # 迎泽 worker
        prices = await guide_prices.city_guide_prices(uow, xd, "140100")
        with pytest.raises(PermissionDenied):
            await guide_prices.set_guide_price(
                uow, xd, city_code="140100", trade_code="plasterer", grade_level=2, price=4200
            )
    assert [(r.code, r.shortage_headcount, r.idle_headcount) for r in summary.rows] == [
        ("140105", 5, 2)
    ]
    # a county bureau reads its city's published prices, but may not publish them
    assert (prices.city_code, prices.may_set, len(prices.cells)) == ("140100", False, 2)


async def test_top_enterprises_rank_by_credit_with_their_open_headcount(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        top = await credit_ranking.top_enterprises(uow, world.taiyuan, "140100")
        province = await credit_ranking.top_enterprises(uow, world.province, "140000", limit=2)
    assert [(e.rank, e.name, e.credit_score, e.county_name_zh, e.shortage_headcount,
             e.idle_headcount) for e in top] == [
        (1, "山西五建集团", 95, "小店区", 8, 0),
        (2, "太原迎泽劳务", 88, "迎泽区", 0, 4),
        (3, "小店建工", 70, "小店区", 2, 2),
    ]  # fmt: skip
    assert [e.name for e in province] == ["晋中榆次劳务", "山西五建集团"]


async def test_open_shortages_group_by_enterprise_or_project_oldest_first(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        by_ent = await open_shortages.open_shortages(uow, world.taiyuan, "140100")
        by_project = await open_shortages.open_shortages(
            uow, world.taiyuan, "140100", group="project", limit=2
        )
        rest = await open_shortages.open_shortages(
            uow, world.taiyuan, "140100", group="project", limit=2,
            cursor=by_project.page.next_cursor,
        )  # fmt: skip
    # an enterprise short in two counties is listed once per county (its projects' counties)
    assert [
        (g.name, g.county_name_zh, g.postings, g.open_headcount, g.days_open,
         [(t.trade_code, t.headcount) for t in g.trades])
        for g in by_ent.page.items
    ] == [
        ("山西五建集团", "小店区", 1, 3, 7, [("plasterer", 3)]),
        ("山西五建集团", "迎泽区", 1, 5, 3, [("rebar", 5)]),
        ("小店建工", "小店区", 1, 2, 1, [("plasterer", 2)]),
    ]  # fmt: skip
    assert (by_ent.total_groups, by_ent.total_postings, by_ent.total_headcount) == (3, 3, 10)
    assert [(g.name, g.enterprise_name, g.open_headcount) for g in by_project.page.items] == [
        ("小店区保障房项目", "山西五建集团", 3),
        ("迎泽区学校项目", "山西五建集团", 5),
    ]
    assert [g.name for g in rest.page.items] == ["小店商业中心"]
    assert rest.page.next_cursor is None
    assert rest.page.prev_cursor is not None


async def test_grading_a_worker_is_audited_and_a_repeat_changes_nothing(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        found = await worker_grading.find_workers_in_scope(
            uow, world.taiyuan, id_number=world.wang_id_number
        )
        assert [(c.name, c.id_masked) for c in found] == [
            ("王海东", world.wang_id_number[:6] + "********" + world.wang_id_number[-4:])
        ]
        card = await worker_grading.set_worker_grade(uow, world.taiyuan, world.wang_id, 1)
    async with services.uow() as uow:
        again = await worker_grading.set_worker_grade(uow, world.taiyuan, world.wang_id, 1)
        audits = [
            (a.action, a.entity_id, a.before, a.after, a.actor_account_id)
            for a in (await uow.session.scalars(select(AuditLog))).all()
        ]
    assert (card.grade_level, card.grade_name_zh, again.grade_level) == (1, "一级", 1)
    assert audits == [
        ("worker.grade", str(world.wang_id), {"grade_level": 2}, {"grade_level": 1},
         world.taiyuan.account_id)
    ]  # fmt: skip


async def test_brokering_tells_both_companies_once(services: Services, world: RegWorld) -> None:
    async with services.uow() as uow:
        result = await brokering.broker_pair(uow, world.taiyuan, world.s1, world.i1)
    async with services.uow() as uow:
        with pytest.raises(Conflict) as again:
            await brokering.broker_pair(uow, world.taiyuan, world.s1, world.i1)
        with pytest.raises(Conflict) as neither:
            # S3 and I1 are both in the market ring: a bureau brokers escalated postings only
            await brokering.broker_pair(uow, world.taiyuan, world.s3, world.i1)
        rows = [
            (r.account_id, r.kind, r.payload)
            for r in await uow.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]
    assert again.value.key == "error.already_brokered"
    assert neither.value.key == "error.not_escalated"
    assert set(result.recipient_account_ids) == {world.wujian_dispatcher, world.yingze_dispatcher}
    assert sorted((account, kind) for account, kind, _payload in rows) == sorted(
        [(world.wujian_dispatcher, "broker"), (world.yingze_dispatcher, "broker")]
    )
    assert rows[0][2] == {
        "shortage_id": world.s1,
        "idle_id": world.i1,
        "regulator_account_id": world.taiyuan.account_id,
    }


async def test_a_city_guide_price_table_lists_what_is_in_force(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        prices = await guide_prices.city_guide_prices(uow, world.taiyuan, "1401")
    assert prices.may_set is True
    assert guide_prices.guide_price_of(prices, "plasterer", 2) == Decimal("4000.00")
    assert guide_prices.guide_price_of(prices, "plasterer", 4) is None  # 晋中's, not 太原's
