"""Daily digest content on a small hand-built market whose numbers are counted by hand here.

The clock stands at 2026-03-04 10:00 in Shanghai: the digest of 2026-03-04 reports on
2026-03-03 ("yesterday"); its cut-off is 2026-03-04 00:00 Shanghai.

Taiyuan (140100), open at the cut-off:
  小店区 140105  S1 抹灰工 12 (posted yesterday)   S2 钢筋工 5−2 filled = 3 (posted 9 days ago)
                 I3 钢筋工 1 idle (posted 2 days ago)
  迎泽区 140106  S3 砌筑工 4 (posted yesterday)     I1 砌筑工 2 idle (posted yesterday)
Outside the city: 榆次区 140702 (Jinzhong, a neighbour of 小店区) I2 抹灰工 15 idle;
                  新荣区 140212 (Datong) S4 抹灰工 7 posted yesterday.
Not open: a shortage posted this morning (after the cut-off), two filled ones, an expired one.
Deals accepted yesterday in Taiyuan: D1 小店区 抹灰工 三级 4 × 3300 (guide 5500: −40.0%),
  D2 迎泽区 砌筑工 二级 2 × 5300 (guide 5000: +6.0%). D0 accepted the day before (not counted),
  DP still pending, DX yesterday in Datong (out of scope).
Ratings given yesterday on Taiyuan deals: 5, 4, 4 (one more the day before, one in Datong).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from core.db.models import Deal, GuidePrice, Rating, ShortagePosting
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.domain.timeutil import SHANGHAI
from core.reports.chart import build_digest_figure, render_digest_chart
from core.reports.files import preview_digest
from core.reports.text import render_digest_text
from core.reports.xlsx import digest_workbook
from core.services.digests import build_company_weekly, build_digest
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)

DAY = date(2026, 3, 4)


def sh(day: int, hour: int, month: int = 3) -> datetime:
    """An instant given in Shanghai wall time, as aware UTC."""
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class Market:
    e1: str  # 小店区 contractor
    p1: str
    e2_id: int  # 迎泽区 contractor
    e4_id: int  # 万柏林区 labour company, supplier of D0 and D1
    taiyuan: Actor
    xiaodian: Actor
    datong: Actor
    province: Actor
    dispatcher_e4: Actor
    dispatcher_e2: Actor


async def _deal(
    uow: UnitOfWork,
    shortage: ShortagePosting,
    supplier_id: int,
    *,
    headcount: int,
    price_fen: int,
    accepted_at: datetime | None,
    status: str = "accepted",
) -> Deal:
    created = (accepted_at or uow.now()) - timedelta(hours=3)
    deal = Deal(
        shortage_id=shortage.id,
        idle_posting_id=None,
        shortage_enterprise_id=shortage.enterprise_id,
        idle_enterprise_id=supplier_id,
        trade_code=shortage.trade_code,
        county_code=shortage.county_code,
        city_code=shortage.city_code,
        headcount=headcount,
        price_fen=price_fen,
        start_date=DAY,
        status=status,
        proposer_side="shortage",
        created_at=created,
        updated_at=accepted_at or created,
        expires_at=created + timedelta(hours=48),
        accepted_at=accepted_at,
    )
    uow.session.add(deal)
    await uow.session.flush()
    return deal


def _guide(city: str, trade: str, grade: int, yuan: int, effective: date) -> GuidePrice:
    return GuidePrice(
        city_code=city,
        trade_code=trade,
        grade_level=grade,
        price_fen=yuan * 100,
        effective_date=effective,
        created_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


async def build_market(services: Services) -> Market:
    async with services.uow() as uow:
        e1 = await make_enterprise(uow, name="太原一建<集团>&劳务", county_code="140105")
        e2 = await make_enterprise(uow, name="迎泽建筑公司", county_code="140106")
        e3 = await make_enterprise(uow, name="榆次劳务公司", county_code="140702")
        e4 = await make_enterprise(uow, name="万柏林劳务公司", county_code="140109")
        e5 = await make_enterprise(uow, name="大同建工", county_code="140212")
        p1 = await make_project(uow, e1, name="小店万达<一期>")
        p2 = await make_project(uow, e2, name="迎泽学校项目")
        p5 = await make_project(uow, e5, name="大同医院项目")

        # open shortages
        await make_shortage(
            uow, p1, trade_code="plasterer", min_grade=3, headcount=12, created_at=sh(3, 10)
        )  # S1
        await make_shortage(
            uow,
            p1,
            trade_code="rebar",
            min_grade=3,
            headcount=5,
            filled_count=2,
            status="partly_filled",
            created_at=sh(23, 9, 2),
        )  # S2
        await make_shortage(
            uow, p2, trade_code="mason", min_grade=3, headcount=4, created_at=sh(3, 20)
        )  # S3
        s4 = await make_shortage(
            uow, p5, trade_code="plasterer", headcount=7, created_at=sh(3, 11)
        )  # S4, Datong
        # not open at the cut-off
        await make_shortage(uow, p2, trade_code="mason", headcount=6, created_at=sh(4, 9))
        await make_shortage(
            uow, p2, trade_code="mason", headcount=9, created_at=sh(20, 9, 2), expires_at=sh(3, 12)
        )
        f1 = await make_shortage(
            uow,
            p1,
            trade_code="plasterer",
            min_grade=3,
            headcount=4,
            filled_count=4,
            status="filled",
            created_at=sh(27, 9, 2),
        )
        f2 = await make_shortage(
            uow,
            p2,
            trade_code="mason",
            min_grade=2,
            headcount=2,
            filled_count=2,
            status="filled",
            created_at=sh(27, 9, 2),
        )
        f0 = await make_shortage(
            uow,
            p1,
            trade_code="welder",
            min_grade=3,
            headcount=3,
            filled_count=3,
            status="filled",
            created_at=sh(27, 9, 2),
        )

        # idle postings
        w_mason = [await make_worker(uow, e2, trade_code="mason", grade_level=2) for _ in "ab"]
        await make_idle_posting(uow, e2, w_mason, created_at=sh(3, 11))  # I1
        w_yuci = await make_worker(uow, e3, trade_code="plasterer", grade_level=3)
        await make_idle_posting(uow, e3, [w_yuci], headcount=15, created_at=sh(1, 9))  # I2
        w_rebar = await make_worker(uow, e1, trade_code="rebar", grade_level=2)
        await make_idle_posting(uow, e1, [w_rebar], created_at=sh(2, 9))  # I3

        # guide prices: an older and a future price must not be used
        uow.session.add_all(
            [
                _guide("140100", "plasterer", 3, 5000, date(2025, 1, 1)),
                _guide("140100", "plasterer", 3, 5500, date(2026, 1, 1)),
                _guide("140100", "plasterer", 3, 9900, date(2026, 3, 10)),
                _guide("140100", "mason", 2, 5000, date(2026, 1, 1)),
                _guide("140200", "plasterer", 3, 5000, date(2026, 1, 1)),
            ]
        )
        await _deal(uow, f1, e4.id, headcount=4, price_fen=330000, accepted_at=sh(3, 15))  # D1
        await _deal(uow, f2, e3.id, headcount=2, price_fen=530000, accepted_at=sh(3, 9))  # D2
        d0 = await _deal(uow, f0, e4.id, headcount=3, price_fen=600000, accepted_at=sh(2, 15))
        await _deal(
            uow, f1, e3.id, headcount=1, price_fen=100000, accepted_at=None, status="pending"
        )  # DP
        dx = await _deal(uow, s4, e5.id, headcount=2, price_fen=200000, accepted_at=sh(3, 16))

        rated = [await make_worker(uow, e4, trade_code="welder", status="busy") for _ in "abcd"]
        for worker, stars, at in zip(
            rated, (5, 4, 4, 1), (sh(3, 8), sh(3, 12), sh(3, 23), sh(2, 23)), strict=True
        ):
            uow.session.add(Rating(deal_id=d0.id, worker_id=worker.id, stars=stars, created_at=at))
        w_dx = await make_worker(uow, e5, trade_code="plasterer", status="busy")
        uow.session.add(Rating(deal_id=dx.id, worker_id=w_dx.id, stars=1, created_at=sh(3, 12)))

        taiyuan = await make_account(uow, role=Role.REGULATOR, region_code="140100")
        xiaodian = await make_account(uow, role=Role.REGULATOR, region_code="140105")
        datong = await make_account(uow, role=Role.REGULATOR, region_code="140200")
        province = await make_account(uow, role=Role.REGULATOR, region_code="140000")
        disp4 = await make_account(uow, role=Role.DISPATCHER, enterprise=e4)
        disp2 = await make_account(uow, role=Role.DISPATCHER, enterprise=e2)
        market = Market(
            e1=e1.name,
            p1=p1.name,
            e2_id=e2.id,
            e4_id=e4.id,
            taiyuan=actor_of(taiyuan),
            xiaodian=actor_of(xiaodian),
            datong=actor_of(datong),
            province=actor_of(province),
            dispatcher_e4=actor_of(disp4),
            dispatcher_e2=actor_of(disp2),
        )
        await uow.commit()
    return market


async def _digest(services: Services, actor: Actor, code: str) -> Any:
    async with services.uow() as uow:
        return await build_digest(uow, actor, code, DAY)


async def test_city_digest_counts_yesterday_and_open_figures_by_hand(services: Services) -> None:
    m = await build_market(services)
    d = await _digest(services, m.taiyuan, "1401")

    assert (d.region.code, d.region.name_zh, d.day, d.report_day) == (
        "140100",
        "太原市",
        DAY,
        date(2026, 3, 3),
    )
    # S1 (12) + S3 (4); I1 (2)
    assert (d.new_shortages.postings, d.new_shortages.headcount) == (2, 16)
    assert (d.new_idle.postings, d.new_idle.headcount) == (1, 2)
    rows = {s.region.name_zh: s for s in d.sub_regions}
    assert (rows["小店区"].shortage_postings, rows["小店区"].shortage_headcount) == (2, 15)
    assert (rows["小店区"].idle_postings, rows["小店区"].idle_headcount) == (1, 1)
    assert (rows["迎泽区"].shortage_headcount, rows["迎泽区"].idle_headcount) == (4, 2)
    assert len(d.sub_regions) == 10  # every county of Taiyuan, the quiet ones with zeros
    assert d.sub_regions[0].region.name_zh == "小店区"
    assert all(s.shortage_headcount == s.idle_headcount == 0 for s in d.sub_regions[2:])
    assert (d.open_shortage.postings, d.open_shortage.headcount) == (3, 19)
    assert (d.open_idle.postings, d.open_idle.headcount) == (2, 3)
    assert [(t.trade.name_zh, t.headcount) for t in d.top_trades] == [
        ("抹灰工", 12),
        ("砌筑工", 4),
        ("钢筋工", 3),
    ]

    # D1 + D2: (3300·4 + 5300·2) / 6 = 3966.67; against (5500·4 + 5000·2) = 32000 → −25.6%
    assert (d.deals.count, d.deals.headcount) == (2, 6)
    assert d.deals.avg_price == Decimal("3966.67")
    assert d.deals.vs_guide_pct == Decimal("-25.6")
    by_trade = {t.trade.code: t for t in d.deals.by_trade}
    assert (by_trade["plasterer"].avg_price, by_trade["plasterer"].vs_guide_pct) == (
        Decimal("3300.00"),
        Decimal("-40.0"),
    )
    assert (by_trade["mason"].avg_price, by_trade["mason"].vs_guide_pct) == (
        Decimal("5300.00"),
        Decimal("6.0"),
    )
    assert [line.price for line in d.deal_lines] == [Decimal("5300.00"), Decimal("3300.00")]

    # ratings of yesterday: 5, 4, 4
    assert (d.ratings.count, d.ratings.avg_stars) == (3, Decimal("4.3"))

    a = d.alerts
    assert a.stale_count == 1
    (stale,) = a.stale_oldest
    assert (stale.enterprise, stale.project, stale.trade.name_zh) == (m.e1, m.p1, "钢筋工")
    assert (stale.headcount, stale.days_open) == (3, 9)
    (price,) = a.price
    assert (price.enterprise, price.trade.code, price.grade.name_zh) == (m.e1, "plasterer", "三级")
    assert (price.price, price.guide_price, price.vs_guide_pct) == (
        Decimal("3300.00"),
        Decimal("5500.00"),
        Decimal("-40.0"),
    )
    (cover,) = a.coverage
    assert (cover.region.name_zh, cover.trade.name_zh, cover.shortage) == ("小店区", "抹灰工", 12)
    assert (cover.neighbour.name_zh, cover.idle) == ("榆次区", 15)


async def test_city_digest_text_says_where_a_neighbour_could_cover(services: Services) -> None:
    m = await build_market(services)
    d = await _digest(services, m.taiyuan, "140100")

    (zh,) = render_digest_text(d, "zh")
    assert "小店区 缺 抹灰工 12 人，邻近 榆次区 有 15 人赋闲" in zh
    assert "太原一建&lt;集团&gt;&amp;劳务" in zh  # user data escaped
    assert "<集团>" not in zh
    assert "比指导价 5,500 低 40.0%" in zh
    assert "已 9 天" in zh
    (en,) = render_digest_text(d, "en")
    assert "Xiaodian District needs Plasterer ×12; neighbouring Yuci District has 15 idle" in en


async def test_county_regulator_digest_uses_the_county_and_its_neighbours(
    services: Services,
) -> None:
    m = await build_market(services)
    d = await _digest(services, m.xiaodian, "140105")

    assert [s.region.name_zh for s in d.sub_regions] == ["小店区"]
    assert (d.open_shortage.headcount, d.new_shortages.headcount) == (15, 12)
    assert (d.deals.count, d.deals.avg_price) == (1, Decimal("3300.00"))
    assert [(c.region.name_zh, c.neighbour.name_zh, c.idle) for c in d.alerts.coverage] == [
        ("小店区", "榆次区", 15)
    ]


async def test_province_digest_groups_by_city_and_finds_neighbouring_cities(
    services: Services,
) -> None:
    m = await build_market(services)
    d = await _digest(services, m.province, "14")

    rows = {s.region.name_zh: s for s in d.sub_regions}
    assert (rows["太原市"].shortage_headcount, rows["大同市"].shortage_headcount) == (19, 7)
    assert rows["晋中市"].idle_headcount == 15
    assert (d.new_shortages.headcount, d.deals.count, d.ratings.count) == (23, 3, 4)
    # Taiyuan lacks 12 plasterers, Jinzhong has 15 spare; Datong's 7 has no neighbour with any
    assert [(c.region.name_zh, c.neighbour.name_zh, c.shortage) for c in d.alerts.coverage] == [
        ("太原市", "晋中市", 12)
    ]


async def test_a_regulator_cannot_build_a_digest_outside_their_region(services: Services) -> None:
    m = await build_market(services)
    for actor, code in (
        (m.taiyuan, "140200"),  # another city
        (m.taiyuan, "140212"),  # a county of another city
        (m.taiyuan, "140000"),  # above their own region
        (m.xiaodian, "140106"),  # a sibling county
        (m.xiaodian, "140100"),  # their own city
        (m.datong, "1401"),
    ):
        with pytest.raises(PermissionDenied) as err:
            await _digest(services, actor, code)
        assert err.value.key == "error.out_of_scope", (actor.region_code, code)
    with pytest.raises(PermissionDenied) as err:
        await _digest(services, m.dispatcher_e4, "140100")
    assert err.value.key == "error.forbidden"
    # below their own region is fine
    assert (await _digest(services, m.taiyuan, "140106")).open_shortage.headcount == 4


async def test_company_weekly_digest_shows_the_companys_own_figures(services: Services) -> None:
    m = await build_market(services)
    async with services.uow() as uow:
        w = await build_company_weekly(uow, m.dispatcher_e4, m.e4_id, date(2026, 3, 3))
    assert (w.week_start, w.week_end) == (date(2026, 2, 25), date(2026, 3, 3))
    # D1 (4 × 3300) and D0 (3 × 6000) supplied: (13200 + 18000) / 7 = 4457.14
    assert (w.deals_supplied.count, w.deals_supplied.headcount) == (2, 7)
    assert w.deals_supplied.avg_price == Decimal("4457.14")
    assert w.deals_received.count == 0
    assert (w.ratings_received.count, w.ratings_received.avg_stars) == (4, Decimal("3.5"))
    assert (w.idle_workers, w.busy_workers) == (0, 4)

    async with services.uow() as uow:
        w2 = await build_company_weekly(uow, m.dispatcher_e2, m.e2_id, date(2026, 3, 3))
    # S3 (4), f2 (2) posted; the morning posting of 03-04 and the expired one are outside
    assert (w2.shortages_posted.postings, w2.shortages_posted.headcount) == (2, 6)
    assert (w2.idle_posted.postings, w2.idle_posted.headcount) == (1, 2)
    assert (w2.deals_received.count, w2.deals_received.vs_guide_pct) == (1, Decimal("6.0"))
    assert (w2.idle_workers, [i.trade.code for i in w2.idle_by_trade]) == (2, ["mason"])

    for actor in (m.dispatcher_e2, m.taiyuan):
        with pytest.raises(PermissionDenied):
            async with services.uow() as uow:
                await build_company_weekly(uow, actor, m.e4_id, date(2026, 3, 3))


async def test_chart_and_workbook_of_a_city_digest_have_the_expected_bars_and_rows(
    services: Services,
) -> None:
    m = await build_market(services)
    d = await _digest(services, m.taiyuan, "140100")

    fig = build_digest_figure(d, "zh")
    (ax,) = fig.axes
    assert len(ax.patches) == 4  # 小店区 and 迎泽区, a shortage and an idle bar each
    assert [t.get_text() for t in ax.get_yticklabels()] == ["小店区", "迎泽区"]
    assert [int(p.get_width()) for p in ax.containers[0]] == [15, 4]
    assert [int(p.get_width()) for p in ax.containers[1]] == [1, 2]
    assert render_digest_chart(d, "zh")[:8] == b"\x89PNG\r\n\x1a\n"

    wb = openpyxl.load_workbook(io.BytesIO(digest_workbook(d, "zh")))
    regions = list(wb["分区"].iter_rows(values_only=True))
    assert regions[0] == ("代码", "地区", "缺工条数", "缺工人数", "赋闲条数", "赋闲人数")
    assert regions[1] == ("140105", "小店区", 2, 15, 1, 1)
    assert len(regions) == 11
    deals = list(wb["昨日成交"].iter_rows(min_row=2, values_only=True))
    assert [(r[2], r[6], r[7], r[8]) for r in deals] == [
        ("迎泽建筑公司", 2, 5300, 5000),
        (m.e1, 4, 3300, 5500),
    ]
    assert deals[1][9] == pytest.approx(-0.4)
    assert [r[:3] for r in wb["邻近调剂"].iter_rows(min_row=2, values_only=True)] == [
        ("小店区", "抹灰工", 12)
    ]


async def test_preview_writes_text_chart_and_workbook(services: Services, tmp_path: Path) -> None:
    await build_market(services)
    paths = await preview_digest(services, "1401", DAY, tmp_path / "out")

    assert [p.name for p in paths] == ["digest.txt", "chart.png", "digest.xlsx"]
    assert "太原市" in paths[0].read_text("utf-8")
    assert paths[1].read_bytes()[:4] == b"\x89PNG"
    assert openpyxl.load_workbook(paths[2]).sheetnames[0] == "概况"


def test_cli_digest_preview_writes_the_three_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.bootstrap import build_services
    from core.cli.common import JingongParser
    from core.cli.digest import add_parser
    from core.config import Settings
    from core.db.models import Base
    from core.ports import FixedClock
    from core.reference.loader import load_reference_data

    db = tmp_path / "cli.db"
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-0123456789abcdef")

    async def prepare() -> None:
        settings = Settings()
        engine, services = build_services(
            settings, clock=FixedClock(datetime(2026, 3, 4, 2, 0, tzinfo=UTC))
        )
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with services.uow() as uow:
            await load_reference_data(uow.session)
            await uow.commit()
        await build_market(services)
        await engine.dispose()

    asyncio.run(prepare())
    parser = JingongParser(prog="jingong")
    add_parser(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "preview"
    args = parser.parse_args(
        ["digest", "preview", "--region", "1401", "--date", "2026-03-04", "--out", str(out)]
    )
    assert args.handler(args) == 0
    assert capsys.readouterr().out.split() == [
        str(out / "digest.txt"),
        str(out / "chart.png"),
        str(out / "digest.xlsx"),
    ]
    assert "小店区 缺 抹灰工 12 人" in (out / "digest.txt").read_text("utf-8")
