"""采集上报率: per sub-region the share of live projects that updated their labor status in the
last 7 days, and the projects silent for 30 days; a bureau sees its own region only."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest

from core.db.models import Project
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from core.reports.text import render_digest_text
from core.services.digests import build_digest
from core.services.dispatch import get_dispatch, mark_arrival
from core.services.reporting_coverage import region_coverage, silent_projects
from tests.factories import make_enterprise, make_project, make_shortage, make_team, make_worker
from tests.integration.deal_world import build_world
from tests.integration.test_dispatch_life import accepted

TAIYUAN = Actor(account_id=None, role=Role.REGULATOR, region_code="140100")
JINZHONG = Actor(account_id=None, role=Role.REGULATOR, region_code="140700")


async def _world(services: Services) -> dict[str, int]:
    async with services.uow() as uow:
        now = uow.now()
        long_ago = now - timedelta(days=60)
        company = await make_enterprise(uow, name="山西五建集团", county_code="140105")
        jz = await make_enterprise(uow, name="晋中建设集团", county_code="140702")

        async def project(name: str, county: str | None = None, **kw: object) -> Project:
            p = await make_project(
                uow, jz if county == "140702" else company, county_code=county, name=name
            )
            p.created_at = kw.get("created_at", long_ago)  # type: ignore[assignment]
            p.status = str(kw.get("status", "active"))
            return p

        posted = await project("两天前发过缺工")
        staffed = await project("三天前有工人转闲")
        stale = await project("十天前改过缺工")
        silent = await project("四十天没动静", "140106")
        young = await project("五天前新建", "140106", created_at=now - timedelta(days=5))
        await project("已完工", "140106", status="completed")
        jinzhong = await project("榆次项目", "140702")

        await make_shortage(uow, posted, created_at=long_ago, updated_at=now - timedelta(days=2))
        await make_shortage(uow, stale, created_at=long_ago, updated_at=now - timedelta(days=10))
        await make_shortage(uow, jinzhong, updated_at=now - timedelta(days=1))
        worker = await make_worker(uow, company, team=await make_team(uow, staffed))
        worker.status_changed_at = now - timedelta(days=3)
        old_worker = await make_worker(uow, company, team=await make_team(uow, silent))
        old_worker.status_changed_at = now - timedelta(days=40)
        await uow.commit()
        return {"silent": silent.id, "young": young.id}


async def test_the_rate_counts_live_projects_that_reported_in_the_last_7_days(
    services: Services,
) -> None:
    await _world(services)
    async with services.uow() as uow:
        coverage = await region_coverage(uow, TAIYUAN, "1401")
    rows = {r.code: (r.live_projects, r.reported, r.rate) for r in coverage.rows}
    assert rows["140105"] == (3, 2, Decimal("66.7"))  # posted, staffed; stale is 10 days old
    assert rows["140106"] == (2, 0, Decimal("0.0"))  # the completed project is not live
    assert rows["140108"] == (0, 0, None)  # no live project: no rate
    assert (coverage.total.live_projects, coverage.total.reported) == (5, 2)
    assert coverage.total.rate == Decimal("40.0")
    assert coverage.silent_projects == 1


async def test_the_silent_list_shows_projects_without_a_report_for_30_days(
    services: Services,
) -> None:
    ids = await _world(services)
    async with services.uow() as uow:
        page = await silent_projects(uow, TAIYUAN, "140100")
        province = await silent_projects(
            uow, Actor(account_id=None, role=Role.REGULATOR, region_code="140000"), "14"
        )
    [item] = page.items
    assert (item.project_id, item.name, item.enterprise_name) == (
        ids["silent"],
        "四十天没动静",
        "山西五建集团",
    )
    assert item.silent_days == 40
    assert item.last_report_at is not None
    assert [p.project_id for p in province.items] == [ids["silent"]]  # the young one is not silent


async def test_a_bureau_reads_the_coverage_of_its_own_region_only(services: Services) -> None:
    await _world(services)
    async with services.uow() as uow:
        for call in (
            region_coverage(uow, JINZHONG, "1401"),
            silent_projects(uow, JINZHONG, "1401"),
        ):
            with pytest.raises(PermissionDenied):
                await call
        own = await region_coverage(uow, JINZHONG, "1407")
    assert (own.total.live_projects, own.total.reported) == (1, 1)


async def test_the_digest_shows_the_reporting_rate_at_its_cut_off(services: Services) -> None:
    await _world(services)
    async with services.uow() as uow:
        digest = await build_digest(uow, TAIYUAN, "1401", date(2026, 3, 4))
    assert digest.reporting is not None
    assert (digest.reporting.total.live_projects, digest.reporting.silent_projects) == (5, 1)
    text = "\n".join(render_digest_text(digest, "zh"))
    assert "<b>采集上报率（近 7 天更新过用工情况的在建项目）</b>" in text
    assert "小店区：66.7%（2/3）" in text
    assert "迎泽区：0.0%（0/2）" in text
    assert "合计：40.0%（2/5）· 1 个项目已 30 天未上报" in text


async def test_answering_the_arrival_check_counts_as_reporting(
    services: Services, clock: FixedClock
) -> None:
    """到岗 / 未到 answered on the start day is a report of the receiving project's labor status,
    like a posting changed or a worker switched busy/idle."""
    w = await build_world(services)
    start = clock.now().astimezone(SHANGHAI).date() + timedelta(days=10)
    deal_id = await accepted(services, w, start=start)
    clock.at = datetime.combine(start, time(10, 0), tzinfo=SHANGHAI).astimezone(UTC)

    async def xiaodian() -> tuple[int, int]:
        async with services.uow() as uow:
            coverage = await region_coverage(uow, TAIYUAN, "1401")
        row = next(r for r in coverage.rows if r.code == "140105")
        return row.live_projects, row.reported

    # the posting was last changed at the handshake, ten days ago: nothing within 7 days
    live, before = await xiaodian()
    assert before == 0
    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
        await mark_arrival(uow, w.foreman, deal_id, view.assignments[0].id, arrived=False)
    assert await xiaodian() == (live, 1)
    # seven days on, the answer is old news
    clock.advance(days=8)
    assert await xiaodian() == (live, 0)
