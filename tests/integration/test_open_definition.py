"""One definition of "open": the summary, the statistics, the shortage list, the digest, the
data API and the company totals give the same numbers for one world at one moment, and a
posting past its expiry counts nowhere, whether or not the expiry sweep has run.

The moment is 2026-03-04 00:00 in Shanxi: the cut-off of the digest dated 03-04, so the
digest's "open at the cut-off" and every screen's "open now" are the same instant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from core.config import Settings
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.ports import FixedClock
from core.services import credit_ranking, digests, open_shortages, summaries
from core.services.apikeys import create_api_key
from core.services.postings import expire_postings
from tests.factories import (
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)
from tests.webhooks.conftest import Web, bearer, open_web, web_settings_of

MOMENT = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)  # 2026-03-04 00:00 in Shanxi
DIGEST_DAY = MOMENT.date() + timedelta(days=1)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MOMENT)


@pytest.fixture
async def web(services: Services, test_settings: Settings) -> AsyncIterator[Web]:
    async for opened in open_web(services, web_settings_of(test_settings)):
        yield opened


async def _world(services: Services) -> tuple[Actor, int, int]:
    """太原: shortages 3 (小店区) + 5 (迎泽区) open, 7 expired but not swept, 10 cancelled;
    idle 2 open, 3 expired but not swept."""
    async with services.uow() as uow:
        now = uow.now()
        days_ago = now - timedelta(days=3)
        builder = await make_enterprise(uow, name="山西五建集团", county_code="140105")
        labor = await make_enterprise(uow, name="太原迎泽劳务", county_code="140106")
        xiaodian = await make_project(uow, builder)
        yingze = await make_project(uow, builder, county_code="140106")
        await make_shortage(
            uow, xiaodian, headcount=4, filled_count=1, status="partly_filled",
            created_at=days_ago,
        )  # fmt: skip
        await make_shortage(
            uow, yingze, trade_code="rebar", min_grade=2, headcount=5, created_at=days_ago
        )
        await make_shortage(  # past its expiry an hour ago; the sweep has not run
            uow, xiaodian, headcount=7, created_at=days_ago, expires_at=now - timedelta(hours=1)
        )
        await make_shortage(uow, xiaodian, headcount=10, status="cancelled", created_at=days_ago)
        plasterers = [await make_worker(uow, labor, name=f"抹灰{n}") for n in range(2)]
        rebar = [
            await make_worker(uow, labor, name=f"钢筋{n}", trade_code="rebar") for n in range(3)
        ]
        await make_idle_posting(uow, labor, plasterers, created_at=days_ago)
        await make_idle_posting(
            uow, labor, rebar, created_at=days_ago, expires_at=now - timedelta(minutes=1)
        )
        regulator = await make_account(uow, role=Role.REGULATOR, region_code="140100")
        await uow.commit()
        actor = Actor(account_id=regulator.id, role=Role.REGULATOR, region_code="140100")
        return actor, builder.id, labor.id


async def _figures(services: Services, web: Web, actor: Actor, builder: int, labor: int) -> dict:
    """Open shortage / idle (postings, headcount) as every screen reports them."""
    async with services.uow() as uow:
        summary = await summaries.regional_summary(uow, actor, "140100")
        listed = await open_shortages.open_shortages(uow, actor, "140100")
        digest = await digests.build_digest(uow, actor, "140100", DIGEST_DAY)
        top = {
            e.enterprise_id: e for e in await credit_ranking.top_enterprises(uow, actor, "1401")
        }
        builder_totals = await summaries.enterprise_summary(uow, actor, builder)
        labor_totals = await summaries.enterprise_summary(uow, actor, labor)
    async with services.uow() as uow:
        _view, key = await create_api_key(uow, Actor.system(), label="太原", region_code="1401")
    api = (await web.client.get("/api/v1/regions/1401/summary", headers=bearer(key))).json()
    api_postings = {}
    for kind in ("shortage", "idle"):
        page = await web.client.get(
            "/api/v1/postings", params={"kind": kind, "region": "1401"}, headers=bearer(key)
        )
        items = page.json()["items"]
        api_postings[kind] = (len(items), sum(item["open_headcount"] for item in items))
    t = summary.total
    return {
        "summary": (
            (t.shortage_postings, t.shortage_headcount),
            (t.idle_postings, t.idle_headcount),
        ),
        "summary per county": {
            r.code: (r.shortage_headcount, r.idle_headcount)
            for r in summary.rows
            if r.code in ("140105", "140106")
        },
        "statistics": (
            sum(c.shortage for c in summary.matrix),
            sum(c.idle for c in summary.matrix),
        ),
        "shortage list": (listed.total_postings, listed.total_headcount),
        "digest": (
            (digest.open_shortage.postings, digest.open_shortage.headcount),
            (digest.open_idle.postings, digest.open_idle.headcount),
        ),
        "digest per county": {
            s.region.code: (s.shortage_headcount, s.idle_headcount)
            for s in digest.sub_regions
            if s.region.code in ("140105", "140106")
        },
        "api summary": (
            (api["total"]["shortage_postings"], api["total"]["shortage_headcount"]),
            (api["total"]["idle_postings"], api["total"]["idle_headcount"]),
        ),
        "api postings": (api_postings["shortage"], api_postings["idle"]),
        "company shortage (its own totals, the regulator's view)": (
            builder_totals.cumulative_shortage,
            top[builder].shortage_headcount,
        ),
        "company surplus (its own totals, the regulator's view)": (
            labor_totals.cumulative_surplus,
            top[labor].idle_headcount,
        ),
    }


async def test_every_screen_counts_the_same_open_postings_whether_or_not_the_sweep_ran(
    services: Services, web: Web
) -> None:
    actor, builder, labor = await _world(services)
    expected = {
        "summary": ((2, 8), (1, 2)),
        "summary per county": {"140105": (3, 0), "140106": (5, 2)},
        "statistics": (8, 2),
        "shortage list": (2, 8),
        "digest": ((2, 8), (1, 2)),
        "digest per county": {"140105": (3, 0), "140106": (5, 2)},
        "api summary": ((2, 8), (1, 2)),
        "api postings": ((2, 8), (1, 2)),
        "company shortage (its own totals, the regulator's view)": (8, 8),
        "company surplus (its own totals, the regulator's view)": (2, 2),
    }
    before_sweep = await _figures(services, web, actor, builder, labor)
    assert before_sweep == expected
    async with services.uow() as uow:
        assert await expire_postings(uow) == 2
    assert await _figures(services, web, actor, builder, labor) == expected


async def test_a_taiyuan_companys_project_in_tunliu_is_listed_under_changzhi_tunliu(
    services: Services,
) -> None:
    async with services.uow() as uow:
        company = await make_enterprise(uow, name="太原建工集团", county_code="140105")
        tunliu = await make_project(uow, company, county_code="140405", name="屯留光伏项目")
        at_home = await make_project(uow, company, name="小店区学校")
        await make_shortage(uow, tunliu, headcount=6)
        await make_shortage(uow, at_home, headcount=2)
        await uow.commit()
    changzhi = Actor(account_id=None, role=Role.REGULATOR, region_code="140400")
    taiyuan = Actor(account_id=None, role=Role.REGULATOR, region_code="140100")
    province = Actor(account_id=None, role=Role.REGULATOR, region_code="140000")
    async with services.uow() as uow:
        in_changzhi = await open_shortages.open_shortages(uow, changzhi, "140400")
        in_taiyuan = await open_shortages.open_shortages(uow, taiyuan, "140100")
        in_province = await open_shortages.open_shortages(uow, province, "140000")
    [group] = in_changzhi.page.items
    assert (group.name, group.county_code, group.county_name_zh) == (
        "太原建工集团",
        "140405",
        "屯留区",
    )
    assert group.open_headcount == 6
    [home] = in_taiyuan.page.items
    assert (home.county_code, home.open_headcount) == ("140105", 2)
    # the province sees the company twice, once per county its projects are short in
    assert sorted((g.county_code, g.open_headcount) for g in in_province.page.items) == [
        ("140105", 2),
        ("140405", 6),
    ]
    assert in_province.total_groups == 2
