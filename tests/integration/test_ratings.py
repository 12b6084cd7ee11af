from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import (
    AuditLog,
    Deal,
    DealWorker,
    Enterprise,
    OutboxMessage,
    Project,
    Rating,
    ShortagePosting,
    Worker,
)
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, DomainError, PermissionDenied, ValidationError
from core.domain.timeutil import local_date
from core.ports import FixedClock
from core.services.deals import ProposeDeal, accept_deal, propose_deal
from core.services.ratings import (
    due_rating_prompts,
    mark_rating_prompted,
    pending_ratings,
    rate_worker,
    worker_rating_stats,
)
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_project,
    make_shortage,
    make_worker,
)
from tests.integration.deal_world import World, build_world, footprint, in_days


async def _accepted(services: Services, w: World, *, start: date, headcount: int = 2) -> int:
    """A real deal through the services: the foreman asks, the supplier accepts."""
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            w.foreman,
            ProposeDeal(
                shortage_id=w.shortage_id,
                idle_posting_id=w.idle_posting_id,
                headcount=headcount,
                price="5500",
                start_date=start,
            ),
        )
    async with services.uow() as uow:
        await accept_deal(uow, w.supplier_dispatcher, offer.id)
    return offer.id


async def test_the_foreman_rates_a_received_worker_once_and_the_average_moves(
    services: Services,
) -> None:
    w = await build_world(services)
    deal_id = await _accepted(services, w, start=w.today)
    first = w.worker_ids[0]
    async with services.uow() as uow:
        view = await rate_worker(uow, w.foreman, deal_id, first, 4, "  干活 认真\x07 ")
    assert (view.stars, view.comment, view.worker_avg, view.worker_rating_count) == (
        4,
        "干活 认真",
        Decimal("4.00"),
        1,
    )
    async with services.uow() as uow:
        again = await rate_worker(uow, w.receiver_dispatcher, deal_id, w.worker_ids[1], 5, None)
    assert again.comment is None
    async with services.uow() as uow:
        worker = await uow.session.get(Worker, first)
        assert (worker.rating_sum, worker.rating_count) == (4, 1)
        audit = await uow.session.scalar(
            select(AuditLog).where(AuditLog.action == "rating.create").order_by(AuditLog.id)
        )
        assert audit.after["stars"] == 4
        assert audit.actor_account_id == w.foreman.account_id
        left = await pending_ratings(uow, w.foreman, deal_id)
    assert left == []

    async with services.uow() as uow:
        before = await footprint(uow)
        with pytest.raises(Conflict) as twice:
            await rate_worker(uow, w.foreman, deal_id, first, 1, None)
    assert twice.value.key == "error.already_rated"
    async with services.uow() as uow:
        assert await footprint(uow) == before
        worker = await uow.session.get(Worker, first)
        assert (worker.rating_sum, worker.rating_count) == (4, 1)


async def test_pending_ratings_lists_the_workers_not_rated_yet(services: Services) -> None:
    w = await build_world(services)
    deal_id = await _accepted(services, w, start=w.today, headcount=3)
    async with services.uow() as uow:
        await rate_worker(uow, w.foreman, deal_id, w.worker_ids[1], 3, "")
    async with services.uow() as uow:
        left = await pending_ratings(uow, w.foreman, deal_id)
    assert [u.id for u in left] == [w.worker_ids[0], w.worker_ids[2]]
    assert all("********" in u.id_masked for u in left)


RATING_REFUSALS: list[tuple[str, type[DomainError], str]] = [
    ("zero_stars", ValidationError, "error.stars_range"),
    ("six_stars", ValidationError, "error.stars_range"),
    ("long_comment", ValidationError, "error.text_too_long"),
    ("before_start", ValidationError, "error.rating_too_early"),
    ("pending_deal", Conflict, "error.deal_not_accepted"),
    ("worker_not_in_deal", ValidationError, "error.worker_not_in_deal"),
    ("supplier_rates", PermissionDenied, "error.forbidden"),
    ("outsider_rates", PermissionDenied, "error.forbidden"),
    ("regulator_rates", PermissionDenied, "error.forbidden"),
    ("no_such_deal", DomainError, "error.deal_not_found"),
]


@pytest.mark.parametrize(("case", "error", "key"), RATING_REFUSALS)
async def test_rating_refusals_write_nothing(
    services: Services, case: str, error: type[DomainError], key: str
) -> None:
    w = await build_world(services)
    start = in_days(w, 2) if case == "before_start" else w.today
    deal_id = await _accepted(services, w, start=start)
    if case == "pending_deal":
        async with services.uow() as uow:
            offer = await propose_deal(
                uow,
                w.foreman,
                ProposeDeal(
                    shortage_id=w.shortage_id,
                    idle_posting_id=w.idle_posting_id,
                    headcount=1,
                    price="5500",
                    start_date=w.today,
                ),
            )
            deal_id = offer.id
    actor: Actor = w.foreman
    worker, stars, comment = w.worker_ids[0], 4, None
    match case:
        case "zero_stars":
            stars = 0
        case "six_stars":
            stars = 6
        case "long_comment":
            comment = "好" * 201
        case "worker_not_in_deal":
            worker = w.worker_ids[3]
        case "supplier_rates":
            actor = w.supplier_dispatcher
        case "outsider_rates":
            actor = w.outsider
        case "regulator_rates":
            actor = w.taiyuan_regulator
        case "no_such_deal":
            deal_id = 999_999
    async with services.uow() as uow:
        before = await footprint(uow)
        with pytest.raises(error) as caught:
            await rate_worker(uow, actor, deal_id, worker, stars, comment)
    assert caught.value.key == key
    async with services.uow() as uow:
        assert await footprint(uow) == before
        assert (await uow.session.scalars(select(Rating))).all() == []


async def test_rating_prompt_is_due_a_week_after_start_and_queued_once(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await _accepted(services, w, start=in_days(w, 1))
    async with services.uow() as uow:
        assert await due_rating_prompts(uow, clock.now()) == []
    # the prompt is due at 09:00 Shanghai on start + 7 days: 01:00 UTC that day
    prompt_day = in_days(w, 8)
    clock.at = clock.at.replace(
        year=prompt_day.year, month=prompt_day.month, day=prompt_day.day, hour=0, minute=59
    )
    async with services.uow() as uow:
        assert await due_rating_prompts(uow, clock.now()) == []
    clock.advance(minutes=1)
    async with services.uow() as uow:
        due = await due_rating_prompts(uow, clock.now())
    assert [(d.deal_id, d.unrated) for d in due] == [(deal_id, 2)]
    async with services.uow() as uow:
        assert await mark_rating_prompted(uow, deal_id) is True
    async with services.uow() as uow:
        assert await mark_rating_prompted(uow, deal_id) is False
        assert await due_rating_prompts(uow, clock.now()) == []
        prompts = [
            (m.account_id, m.payload, m.dedup_key)
            for m in await uow.session.scalars(
                select(OutboxMessage).where(OutboxMessage.kind == "rating_prompt")
            )
        ]
    assert prompts == [(w.foreman.account_id, {"deal_id": deal_id}, f"rating_prompt:{deal_id}")]


async def test_a_fully_rated_deal_needs_no_prompt(services: Services, clock: FixedClock) -> None:
    w = await build_world(services)
    deal_id = await _accepted(services, w, start=w.today, headcount=1)
    async with services.uow() as uow:
        await rate_worker(uow, w.foreman, deal_id, w.worker_ids[0], 5, None)
    clock.advance(days=8)
    async with services.uow() as uow:
        assert await due_rating_prompts(uow, clock.now()) == []


# --- regulator statistics on hand-checked numbers -------------------------------------------


async def _accepted_row(
    uow: UnitOfWork, shortage: ShortagePosting, supplier: Enterprise, workers: list[Worker]
) -> int:
    """An accepted deal as a bare row: the statistics only read deals, ratings and workers."""
    now = uow.now()
    deal = Deal(
        shortage_id=shortage.id,
        shortage_enterprise_id=shortage.enterprise_id,
        idle_enterprise_id=supplier.id,
        trade_code="plasterer",
        county_code=shortage.county_code,
        city_code=shortage.city_code,
        headcount=len(workers),
        price_fen=550000,
        start_date=local_date(now) - timedelta(days=10),
        status="accepted",
        proposer_side="shortage",
        created_at=now,
        updated_at=now,
        expires_at=now,
        accepted_at=now,
    )
    uow.session.add(deal)
    await uow.session.flush()
    for worker in workers:
        uow.session.add(DealWorker(deal_id=deal.id, worker_id=worker.id))
    await uow.session.flush()
    return deal.id


async def _market(services: Services) -> dict[str, Any]:
    async with services.uow() as uow:
        supplier = await make_enterprise(uow, county_code="140702")
        taiyuan_co = await make_enterprise(uow, county_code="140105")
        jinzhong_co = await make_enterprise(uow, county_code="140702")
        ty_project = await make_project(uow, taiyuan_co)
        jz_project = await make_project(uow, jinzhong_co)
        ty_boss = await make_account(uow, role=Role.DISPATCHER, enterprise=taiyuan_co)
        jz_boss = await make_account(uow, role=Role.DISPATCHER, enterprise=jinzhong_co)
        ty_reg = await make_account(uow, role=Role.REGULATOR, region_code="140100")
        county_reg = await make_account(uow, role=Role.REGULATOR, region_code="140106")
        province = await make_account(uow, role=Role.REGULATOR, region_code="140000")
        a = await make_worker(uow, supplier, name="王海东", status="busy")
        b = await make_worker(uow, supplier, name="李文光", status="busy")
        c = await make_worker(uow, supplier, name="赵伟", status="busy")
        ty_short = await make_shortage(uow, ty_project)
        jz_short = await make_shortage(uow, jz_project)
        ty_deals = [await _accepted_row(uow, ty_short, supplier, [a, b]) for _ in range(3)]
        ty_deals.append(await _accepted_row(uow, ty_short, supplier, [a]))
        jz_deal = await _accepted_row(uow, jz_short, supplier, [a, c])
        await uow.commit()
    return {
        "workers": (a.id, b.id, c.id),
        "ty_deals": ty_deals,
        "jz_deal": jz_deal,
        "ty_boss": actor_of(ty_boss),
        "jz_boss": actor_of(jz_boss),
        "ty_reg": actor_of(ty_reg),
        "county_reg": actor_of(county_reg),
        "province": actor_of(province),
        "projects": (ty_project.id, jz_project.id),
    }


async def test_worker_rating_stats_give_averages_and_bucket_shares_per_region(
    services: Services,
) -> None:
    m = await _market(services)
    a, b, c = m["workers"]
    d1, d2, d3, d4 = m["ty_deals"]
    # in Taiyuan: A gets 5, 4, 3, 1 (avg 3.25; 25 % in each bucket); B gets 5, 5, 4
    # (avg 4.67; 比较满意 33.3 %, 非常满意 66.7 %). In Jinzhong: A 2, C 5.
    ratings = [
        (m["ty_boss"], d1, a, 5),
        (m["ty_boss"], d2, a, 4),
        (m["ty_boss"], d3, a, 3),
        (m["ty_boss"], d4, a, 1),
        (m["ty_boss"], d1, b, 5),
        (m["ty_boss"], d2, b, 5),
        (m["ty_boss"], d3, b, 4),
        (m["jz_boss"], m["jz_deal"], a, 2),
        (m["jz_boss"], m["jz_deal"], c, 5),
    ]
    for actor, deal_id, worker_id, stars in ratings:
        async with services.uow() as uow:
            await rate_worker(uow, actor, deal_id, worker_id, stars, None)

    async with services.uow() as uow:
        taiyuan = await worker_rating_stats(uow, m["ty_reg"], region_code="1401")
        province = await worker_rating_stats(uow, m["province"], region_code="14", limit=2)
        province_rest = await worker_rating_stats(
            uow, m["province"], region_code="14", limit=2, cursor=province.next_cursor
        )
        by_name = await worker_rating_stats(uow, m["province"], region_code="14", order="name")
        empty_county = await worker_rating_stats(uow, m["county_reg"], region_code="140106")
        worker_a = await uow.session.get(Worker, a)
        a_counters = (worker_a.rating_sum, worker_a.rating_count)

    rows = {r.worker_id: r for r in taiyuan.items}
    assert [r.worker_id for r in taiyuan.items] == [a, b]  # lowest average first
    assert (rows[a].rating_count, rows[a].average) == (4, Decimal("3.25"))
    assert (
        rows[a].unsatisfied_pct,
        rows[a].fair_pct,
        rows[a].satisfied_pct,
        rows[a].very_satisfied_pct,
    ) == (Decimal("25.0"), Decimal("25.0"), Decimal("25.0"), Decimal("25.0"))
    assert (rows[b].rating_count, rows[b].average) == (3, Decimal("4.67"))
    assert (
        rows[b].unsatisfied_pct,
        rows[b].fair_pct,
        rows[b].satisfied_pct,
        rows[b].very_satisfied_pct,
    ) == (Decimal("0.0"), Decimal("0.0"), Decimal("33.3"), Decimal("66.7"))
    assert "********" in rows[a].id_masked

    # the whole province: A 5,4,3,1,2 → 3.00 (不满意 40 %); B 4.67; C 5.00
    assert [(r.worker_id, r.average) for r in province.items] == [
        (a, Decimal("3.00")),
        (b, Decimal("4.67")),
    ]
    assert province.items[0].unsatisfied_pct == Decimal("40.0")
    assert [(r.worker_id, r.average) for r in province_rest.items] == [(c, Decimal("5.00"))]
    assert province_rest.next_cursor is None
    assert province_rest.prev_cursor is not None
    assert [r.name for r in by_name.items] == sorted(["王海东", "李文光", "赵伟"])
    assert empty_county.items == ()
    # the worker's own counters cover every rating, wherever it came from
    assert a_counters == (15, 5)


async def test_rating_stats_stay_within_the_regulators_region(services: Services) -> None:
    m = await _market(services)
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await worker_rating_stats(uow, m["ty_reg"], region_code="140700")
        with pytest.raises(PermissionDenied):
            await worker_rating_stats(uow, m["county_reg"], region_code="140100")
        with pytest.raises(PermissionDenied):
            await worker_rating_stats(uow, m["ty_boss"], region_code="140100")
        assert (await uow.session.get(Project, m["projects"][0])) is not None
