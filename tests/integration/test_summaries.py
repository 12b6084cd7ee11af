"""Summaries on a small hand-built market; every expected number is worked out in the comments."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from core.db.models import Deal, Enterprise, GuidePrice, IdlePosting, ShortagePosting
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import NotFound, PermissionDenied
from core.ports import FixedClock
from core.services.summaries import (
    RegionalSummary,
    enterprise_summary,
    regional_summary,
    render_summary_table,
)
from tests.factories import (
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_team,
    make_worker,
)

# the clock fixture: 2026-03-04 10:00 in Shanghai (02:00 UTC)
TODAY = date(2026, 3, 4)
EARLY_TODAY = datetime(2026, 3, 3, 17, 0, tzinfo=UTC)  # 01:00 on the 4th in Shanghai
LATE_YESTERDAY = datetime(2026, 3, 3, 15, 30, tzinfo=UTC)  # 23:30 on the 3rd in Shanghai
SYSTEM = Actor.system()


@dataclass
class Market:
    taiyuan_co: Enterprise  # general contractor in 小店区
    jinzhong_co: Enterprise  # labor company in 榆次区


async def _deal(
    uow: UnitOfWork,
    shortage: ShortagePosting,
    idle: IdlePosting,
    *,
    headcount: int,
    price_fen: int,
    accepted_at: datetime | None,
) -> Deal:
    now = uow.now()
    deal = Deal(
        shortage_id=shortage.id,
        idle_posting_id=idle.id,
        shortage_enterprise_id=shortage.enterprise_id,
        idle_enterprise_id=idle.enterprise_id,
        trade_code=shortage.trade_code,
        county_code=shortage.county_code,
        city_code=shortage.city_code,
        headcount=headcount,
        price_fen=price_fen,
        start_date=TODAY,
        status="accepted" if accepted_at else "pending",
        proposer_side="shortage",
        awaiting_side=None if accepted_at else "idle",
        created_at=now - timedelta(days=2),
        updated_at=now,
        expires_at=now + timedelta(days=1),
        accepted_at=accepted_at,
    )
    uow.session.add(deal)
    await uow.session.flush()
    return deal


def _guide(
    city: str, trade: str, grade: int, yuan: int, effective: date, now: datetime
) -> GuidePrice:
    return GuidePrice(
        city_code=city,
        trade_code=trade,
        grade_level=grade,
        price_fen=yuan * 100,
        effective_date=effective,
        created_at=now,
    )


@pytest.fixture
async def market(services: Services, clock: FixedClock) -> Market:
    now = clock.now()
    days_ago = now - timedelta(days=5)
    async with services.uow() as uow:
        ty = await make_enterprise(uow, county_code="140105", type="general_contractor")
        jz = await make_enterprise(uow, county_code="140702", type="labor_service")
        p1 = await make_project(uow, ty, county_code="140105")  # 小店区
        p2 = await make_project(uow, ty, county_code="140106")  # 迎泽区
        p3 = await make_project(uow, jz, county_code="140702")  # 榆次区
        p1_rebar = await make_team(uow, p1, "rebar")
        p1_plaster = await make_team(uow, p1, "plasterer")
        p2_carpentry = await make_team(uow, p2, "carpenter")

        # taiyuan_co: w1 idle (posted), w2/w3 on duty at p1, w4 idle at p2, w5 on duty at p2
        w1 = await make_worker(uow, ty, trade_code="rebar", grade_level=2, team=p1_rebar)
        await make_worker(uow, ty, status="busy", team=p1_plaster)  # w2, new today
        w3 = await make_worker(uow, ty, status="busy", team=p1_plaster)
        w4 = await make_worker(uow, ty, trade_code="carpenter", team=p2_carpentry)
        await make_worker(uow, ty, trade_code="rebar", status="busy", team=p2_carpentry)  # w5
        for worker in (w1, w3, w4):
            worker.created_at = days_ago
        w1.status_changed_at = now - timedelta(days=2)
        w4.status_changed_at = EARLY_TODAY  # switched to idle today (Shanghai)
        # jinzhong_co: w6/w7 idle and posted today, w8 dispatched to p1 (on duty there)
        w6 = await make_worker(uow, jz, trade_code="plasterer", grade_level=3)
        w7 = await make_worker(uow, jz, trade_code="plasterer", grade_level=3)
        w8 = await make_worker(uow, jz, status="busy", team=p1_plaster)

        # open shortages: s1 4 + s2 (5 - 2 filled) 3 in 小店区, s5 6 in 榆次区
        s1 = await make_shortage(uow, p1, trade_code="plasterer", min_grade=3, headcount=4)
        await make_shortage(
            uow, p1, trade_code="rebar", min_grade=2, headcount=5, filled_count=2,
            status="partly_filled", created_at=EARLY_TODAY,
        )  # fmt: skip
        await make_shortage(
            uow, p3, trade_code="plasterer", min_grade=3, headcount=6, created_at=LATE_YESTERDAY
        )
        # closed shortages: they count only as "new today" (s3) and carry the deals
        s3 = await make_shortage(
            uow, p2, trade_code="plasterer", min_grade=3, headcount=3, filled_count=3,
            status="filled",
        )  # fmt: skip
        s4 = await make_shortage(
            uow, p2, trade_code="carpenter", min_grade=1, headcount=2, status="cancelled",
            created_at=days_ago,
        )  # fmt: skip
        s6 = await make_shortage(
            uow, p3, trade_code="rebar", min_grade=2, headcount=1, filled_count=1,
            status="filled", created_at=days_ago,
        )  # fmt: skip
        s7 = await make_shortage(
            uow, p1, trade_code="laborer", min_grade=4, headcount=2, filled_count=2,
            status="filled", created_at=days_ago,
        )  # fmt: skip

        # open idle postings: i1 (2 plasterers, 晋中, today), i2 (1 rebar, 太原, 2 days ago)
        i1 = await make_idle_posting(uow, jz, [w6, w7])
        await make_idle_posting(uow, ty, [w1], created_at=now - timedelta(days=2))
        i3 = await make_idle_posting(
            uow, jz, [w8], headcount=3, filled_count=3, status="filled", created_at=days_ago
        )

        # deals accepted today: d1 太原 plasterer 3 × 4200, d2 晋中 rebar 1 × 6000 (00:30
        # Shanghai), d5 太原 laborer 2 × 3000 (no guide); d3 yesterday and d4 pending don't count
        await _deal(
            uow, s3, i3, headcount=3, price_fen=420_000, accepted_at=now - timedelta(hours=1)
        )
        await _deal(
            uow, s6, i3, headcount=1, price_fen=600_000,
            accepted_at=datetime(2026, 3, 3, 16, 30, tzinfo=UTC),
        )  # fmt: skip
        await _deal(
            uow, s7, i3, headcount=2, price_fen=300_000, accepted_at=now - timedelta(hours=2)
        )
        await _deal(
            uow, s4, i3, headcount=2, price_fen=700_000,
            accepted_at=datetime(2026, 3, 3, 15, 59, tzinfo=UTC),
        )  # fmt: skip
        await _deal(uow, s1, i1, headcount=2, price_fen=500_000, accepted_at=None)

        # the guide in force today is 4000 (not last year's 3500, not June's)
        uow.session.add_all(
            [
                _guide("140100", "plasterer", 3, 3500, date(2025, 1, 1), now),
                _guide("140100", "plasterer", 3, 4000, date(2026, 1, 1), now),
                _guide("140100", "plasterer", 3, 9999, date(2026, 6, 1), now),
                _guide("140700", "rebar", 2, 5000, date(2026, 1, 1), now),
            ]
        )
        await uow.commit()
    return Market(taiyuan_co=ty, jinzhong_co=jz)


async def _regional(
    services: Services, code: str, actor: Actor = SYSTEM, **kw: object
) -> RegionalSummary:
    async with services.uow() as uow:
        return await regional_summary(uow, actor, code, **kw)  # type: ignore[arg-type]


async def test_the_province_summary_counts_open_headcount_per_city(
    services: Services, market: Market
) -> None:
    summary = await _regional(services, "14")
    assert summary.day == TODAY
    assert [row.code for row in summary.rows][:3] == ["140100", "140200", "140300"]
    assert len(summary.rows) == 11
    by_code = {row.code: row for row in summary.rows}
    taiyuan, jinzhong = by_code["140100"], by_code["140700"]
    # 太原: s1 4 + s2 3; idle i2 1.  晋中: s5 6; idle i1 2.
    assert (taiyuan.shortage_postings, taiyuan.shortage_headcount) == (2, 7)
    assert (taiyuan.idle_postings, taiyuan.idle_headcount) == (1, 1)
    assert (jinzhong.shortage_postings, jinzhong.shortage_headcount) == (1, 6)
    assert (jinzhong.idle_postings, jinzhong.idle_headcount) == (1, 2)
    assert by_code["140200"].shortage_headcount == 0
    total = summary.total
    assert (total.shortage_postings, total.shortage_headcount) == (3, 13)
    assert (total.idle_postings, total.idle_headcount, total.balance) == (2, 3, -10)


async def test_the_trade_grade_matrix_uses_the_required_and_offered_grades(
    services: Services, market: Market
) -> None:
    summary = await _regional(services, "14")
    cells = [(c.trade_code, c.grade_level, c.shortage, c.idle) for c in summary.matrix]
    # rebar 二级: s2 3 / i2 1;  plasterer 三级: s1 4 + s5 6 / i1 2;  rebar sorts first
    assert cells == [("rebar", 2, 3, 1), ("plasterer", 3, 10, 2)]
    assert summary.matrix[0].trade_name_zh == "钢筋工"
    assert summary.matrix[0].grade_name_zh == "二级"


async def test_new_postings_are_counted_on_the_shanghai_day(
    services: Services, market: Market
) -> None:
    today = (await _regional(services, "14")).new_today
    # s1 4, s2 5 (01:00 Shanghai, still the 3rd in UTC), s3 3; s5 at 23:30 the day before is not
    assert (today.shortage_postings, today.shortage_headcount) == (3, 12)
    assert (today.idle_postings, today.idle_headcount) == (1, 2)
    yesterday = (await _regional(services, "14", day=date(2026, 3, 3))).new_today
    assert (yesterday.shortage_postings, yesterday.shortage_headcount) == (1, 6)


async def test_todays_deals_are_compared_with_the_guide_price_in_force(
    services: Services, market: Market
) -> None:
    deals = (await _regional(services, "14")).deals_today
    # d1 3 × 4200, d2 1 × 6000, d5 2 × 3000: 24600 / 6 = 4100.00
    assert (deals.count, deals.headcount, deals.avg_price) == (3, 6, Decimal("4100.00"))
    # with a guide: d1 (4000) and d2 (5000): (12600 + 6000) / 4 = 4650 vs 17000 / 4 = 4250
    assert deals.guided_headcount == 4
    assert deals.guided_avg_price == Decimal("4650.00")
    assert deals.avg_guide_price == Decimal("4250.00")
    assert deals.vs_guide_pct == Decimal("9.4")

    yesterday = (await _regional(services, "14", day=date(2026, 3, 3))).deals_today
    assert (yesterday.count, yesterday.headcount, yesterday.avg_price) == (
        1,
        2,
        Decimal("7000.00"),
    )
    assert yesterday.avg_guide_price is None
    assert yesterday.vs_guide_pct is None


async def test_a_city_summary_lists_its_counties(services: Services, market: Market) -> None:
    summary = await _regional(services, "1401")
    assert summary.region.name_zh == "太原市"
    assert len(summary.rows) == 10
    xiaodian = summary.rows[0]
    assert (xiaodian.code, xiaodian.name_zh) == ("140105", "小店区")
    assert (xiaodian.shortage_headcount, xiaodian.idle_headcount) == (7, 1)
    assert sum(row.shortage_headcount for row in summary.rows[1:]) == 0
    assert (summary.total.shortage_headcount, summary.total.idle_headcount) == (7, 1)
    # d1 and d5 are in 太原: (12600 + 6000) / 5 = 3720; only d1 has a guide: +5.0 %
    deals = summary.deals_today
    assert (deals.count, deals.headcount, deals.avg_price) == (2, 5, Decimal("3720.00"))
    assert (deals.guided_headcount, deals.vs_guide_pct) == (3, Decimal("5.0"))
    assert (summary.new_today.idle_postings, summary.new_today.shortage_headcount) == (0, 12)


async def test_a_county_summary_is_one_row(services: Services, market: Market) -> None:
    summary = await _regional(services, "140702")
    assert [(r.code, r.shortage_headcount, r.idle_headcount) for r in summary.rows] == [
        ("140702", 6, 2)
    ]
    assert summary.deals_today.vs_guide_pct == Decimal("20.0")  # 6000 against 5000


async def test_a_regulator_sees_their_region_and_below_only(
    services: Services, market: Market
) -> None:
    jinzhong = Actor(account_id=None, role=Role.REGULATOR, region_code="140700")
    assert (await _regional(services, "1407", jinzhong)).total.shortage_headcount == 6
    assert (await _regional(services, "140702", jinzhong)).total.idle_headcount == 2
    for code in ("1401", "14", "140105"):
        with pytest.raises(PermissionDenied) as err:
            await _regional(services, code, jinzhong)
        assert err.value.key == "error.out_of_scope"
    dispatcher = Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=1)
    with pytest.raises(PermissionDenied):
        await _regional(services, "1401", dispatcher)


async def test_an_unknown_region_is_refused(services: Services, market: Market) -> None:
    with pytest.raises(NotFound) as err:
        await _regional(services, "149999")
    assert err.value.key == "error.unknown_region"


async def test_the_company_summary_shows_cumulative_and_todays_figures(
    services: Services, market: Market
) -> None:
    actor = Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=market.taiyuan_co.id)
    async with services.uow() as uow:
        summary = await enterprise_summary(uow, actor, market.taiyuan_co.id)
    assert summary.cumulative_shortage == 7  # s1 4 + s2 3
    # w1, on offer in the open idle posting; w4 is idle but not offered (the regulators'
    # view of the company counts workers on offer too)
    assert summary.cumulative_surplus == 1
    assert summary.new_workers_today == 2  # w2, w5
    assert summary.new_idle_today == 1  # w4 (w1 went idle two days ago)
    p1, p2 = summary.projects
    # p1: w2, w3 and the dispatched-in w8 on duty; rebar short 3 / idle 1 (w1), plasterer short 4
    assert p1.on_duty == 3
    assert [(t.trade_code, t.shortage, t.idle) for t in p1.trades] == [
        ("rebar", 3, 1),
        ("plasterer", 4, 0),
    ]
    assert p2.on_duty == 1
    assert [(t.trade_code, t.shortage, t.idle) for t in p2.trades] == [("carpenter", 0, 1)]


async def test_the_company_summary_is_for_its_own_people_and_regulators(
    services: Services, market: Market
) -> None:
    other = Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=market.jinzhong_co.id)
    jinzhong_regulator = Actor(account_id=None, role=Role.REGULATOR, region_code="140700")
    taiyuan_regulator = Actor(account_id=None, role=Role.REGULATOR, region_code="140100")
    async with services.uow() as uow:
        for actor in (other, jinzhong_regulator):
            with pytest.raises(PermissionDenied) as err:
                await enterprise_summary(uow, actor, market.taiyuan_co.id)
            assert err.value.key == "error.out_of_scope"
        seen = await enterprise_summary(uow, taiyuan_regulator, market.taiyuan_co.id)
        assert seen.cumulative_shortage == 7
        own = await enterprise_summary(uow, other, market.jinzhong_co.id)
        assert (own.cumulative_shortage, own.cumulative_surplus, own.new_idle_today) == (6, 2, 2)
        assert [(t.trade_code, t.shortage) for t in own.projects[0].trades] == [("plasterer", 6)]
        with pytest.raises(NotFound):
            await enterprise_summary(uow, SYSTEM, 999_999)


async def test_the_tables_render_in_both_languages(services: Services, market: Market) -> None:
    summary = await _regional(services, "14")
    zh = render_summary_table(summary, "zh")
    assert "山西省 用工调度汇总 2026-03-04" in zh
    assert "太原市" in zh
    assert "合计" in zh
    assert "钢筋工" in zh
    assert "3/1" in zh
    assert "今日成交：3 笔，6 人" in zh
    assert "+9.4%" in zh
    en = render_summary_table(summary, "en")
    assert "Taiyuan" in en
    assert "Rebar worker" in en
    assert "Deals today: 3, 6 workers" in en
    async with services.uow() as uow:
        company = await enterprise_summary(uow, SYSTEM, market.taiyuan_co.id)
    text = render_summary_table(company, "zh")
    assert "累计工人缺口 7" in text
    assert "今日新增赋闲数 1" in text
