"""The read-only queries behind the bot's idle declaration and rating dialogs:
workers.worker_trade_counts / declarable_grade_counts / declarable_workers / get_workers,
regions.company_counties, ratings.deals_awaiting_rating / deal_rating_summary /
rating_prompt_info."""

from __future__ import annotations

import pytest

from core.db.uow import Services
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.services import ratings, regions, workers
from core.services.deals import ProposeDeal, accept_deal, propose_deal
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_worker,
)
from tests.integration.deal_world import build_world, in_days


async def test_only_idle_workers_not_yet_on_offer_can_be_declared(services: Services) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, county_code="140105")
        await make_project(uow, ent, county_code="140702")
        await make_project(uow, ent, county_code="140105")
        account = await make_account(uow, role=Role.DISPATCHER, enterprise=ent)
        best = await make_worker(uow, ent, name="一级工", grade_level=1)
        second = await make_worker(uow, ent, name="二级工", grade_level=2)
        await make_worker(uow, ent, name="四级工", grade_level=4)
        await make_worker(uow, ent, name="在岗工", grade_level=2, status="busy")
        offered = await make_worker(uow, ent, name="已提报", grade_level=2)
        await make_idle_posting(uow, ent, [offered])
        await make_worker(uow, ent, name="瓦工", trade_code="mason")
        other = await make_enterprise(uow)
        stranger = await make_worker(uow, other, name="外人", grade_level=1)
        await uow.commit()
    actor = actor_of(account)
    async with services.uow() as uow:
        counts = {c.trade_code: c for c in await workers.worker_trade_counts(uow, actor)}
        grades = await workers.declarable_grade_counts(uow, actor, "plasterer")
        page = await workers.declarable_workers(
            uow, actor, trade_code="plasterer", max_grade=3, offset=0, limit=6
        )
        beyond = await workers.declarable_workers(
            uow, actor, trade_code="plasterer", max_grade=3, offset=60, limit=6
        )
        picked = await workers.get_workers(uow, actor, [second.id, stranger.id, best.id])
        counties = await regions.company_counties(uow, actor)
    plasterers = counts["plasterer"]
    assert (plasterers.busy, plasterers.idle, plasterers.declarable) == (1, 4, 3)
    assert counts["mason"].declarable == 1
    assert [(g.level, g.declarable, g.at_or_above) for g in grades] == [
        (1, 1, 1),
        (2, 1, 2),
        (3, 0, 2),
        (4, 1, 3),
        (5, 0, 3),
    ]
    assert [w.name for w in page.items] == ["一级工", "二级工"]
    assert page.total == 2
    assert (beyond.offset, [w.name for w in beyond.items]) == (0, ["一级工", "二级工"])
    assert [w.id for w in picked] == [second.id, best.id]  # another company's is left out
    assert [c.code for c in counties] == ["140105", "140702"]


async def test_deals_awaiting_rating_lists_the_receiving_sides_started_deals(
    services: Services,
) -> None:
    w = await build_world(services, workers=2, headcount=2)
    async with services.uow() as uow:
        later = await propose_deal(
            uow,
            w.foreman,
            ProposeDeal(
                shortage_id=w.shortage_id,
                idle_posting_id=w.idle_posting_id,
                headcount=1,
                price="5500",
                start_date=in_days(w, 3),
                worker_ids=(w.worker_ids[1],),
            ),
        )
    async with services.uow() as uow:
        await accept_deal(uow, w.supplier_dispatcher, later.id)
    async with services.uow() as uow:
        now = await propose_deal(
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
    async with services.uow() as uow:
        await accept_deal(uow, w.supplier_dispatcher, now.id)

    async with services.uow() as uow:
        mine = await ratings.deals_awaiting_rating(uow, w.foreman)
        company = await ratings.deals_awaiting_rating(uow, w.receiver_dispatcher)
        supplier = await ratings.deals_awaiting_rating(uow, w.supplier_dispatcher)
        outsider = await ratings.deals_awaiting_rating(uow, w.outsider)
        prompt = await ratings.rating_prompt_info(uow, later.id)
    # the deal starting in three days is not rateable yet
    assert [(d.deal_id, d.workers, d.unrated, d.trade_name_zh) for d in mine] == [
        (now.id, 1, 1, "抹灰工")
    ]
    assert [d.deal_id for d in company] == [now.id]
    assert supplier == []
    assert outsider == []
    assert prompt is not None
    assert (prompt.workers, prompt.unrated) == (1, 1)
    with pytest.raises(PermissionDenied):
        async with services.uow() as uow:
            await ratings.deals_awaiting_rating(uow, w.taiyuan_regulator)

    async with services.uow() as uow:
        await ratings.rate_worker(uow, w.foreman, now.id, w.worker_ids[0], 2)
    async with services.uow() as uow:
        assert await ratings.deals_awaiting_rating(uow, w.foreman) == []
        summary = await ratings.deal_rating_summary(uow, w.receiver_dispatcher, now.id)
    assert (summary.workers, summary.unrated, summary.unsatisfied, summary.fair) == (1, 0, 1, 0)
    assert [(r.worker_id, r.stars) for r in summary.rated] == [(w.worker_ids[0], 2)]
    assert [ratings.bucket_of(s) for s in (1, 2, 3, 4, 5)] == [
        "unsatisfied",
        "unsatisfied",
        "fair",
        "satisfied",
        "very_satisfied",
    ]
