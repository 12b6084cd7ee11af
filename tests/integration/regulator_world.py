"""A small hand-built market for the regulator tests: Taiyuan (太原 140100) with postings in
小店区 (140105) and 迎泽区 (140106), and Jinzhong (晋中 140700) next door, whose data a Taiyuan
bureau must never reach. The clock fixture stands at 2026-03-04 10:00 in Shanghai.

Numbers the tests check by hand (Taiyuan, live postings, open = headcount - filled):

    小店区  shortages S1 plasterer ≥3级 4-1=3 (escalated, 02-25), S3 plasterer ≥2级 2 (03-03)
            idle      I2 rebar 1级 2 (escalated, 03-03)
    迎泽区  shortages S2 rebar ≥2级 5 (03-01)
            idle      I1 plasterer 2级 4 (03-02)
    (S4 in 小店区 is cancelled: never counted)
    太原 total: short 10 in 3 posts, idle 6 in 2 posts
    trade × grade: rebar 1级 0/2, 2级 5/0; plasterer 2级 2/4, 3级 3/0

    Deals (accepted, Shanghai time): D1 03-03 11:11 小店区 plasterer 1 × 5,500 (五建 ← 迎泽劳务)
    D2 02-27 09:00 迎泽区 rebar 2 × 6,100 (五建 ← 小店建工), D3 02-10 15:00 小店区 plasterer
    3 × 5,000 (五建 ← 迎泽劳务); D9 03-03 in 晋中.
    Ratings: 赵伟 1★ (D2) → 1.00; 王海东 2★ (D1) 5★ (D3) → 3.50; 李文光 4★ (D1) 4★ (D3) →
    4.00; 孙小华 (晋中) 1★ (D9).
    Credit: 晋中榆次劳务 99 (晋中), 山西五建集团 95, 太原迎泽劳务 88, 小店建工 70.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from stdnum.cn import ric

from core.db.models import Deal, GuidePrice, Rating, Worker
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_id_number,
    make_idle_posting,
    make_project,
    make_shortage,
)

TAIYUAN_REGULATOR_TG = 6101
XIAODIAN_REGULATOR_TG = 6102
JINZHONG_REGULATOR_TG = 6103
PROVINCE_REGULATOR_TG = 6104


def shanghai(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant given in Shanxi wall time, as aware UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


@dataclass(frozen=True)
class RegWorld:
    taiyuan: Actor
    xiaodian: Actor  # county bureau of 小店区
    jinzhong: Actor
    province: Actor
    wujian_id: int  # 山西五建集团, 小店区
    yingze_labor_id: int  # 太原迎泽劳务, 迎泽区
    xiaodian_build_id: int  # 小店建工, 小店区
    jinzhong_labor_id: int  # 晋中榆次劳务, 榆次区
    s1: int
    s2: int
    s3: int
    s9: int
    i1: int
    i2: int
    i9: int
    wang_id: int  # 王海东, 太原迎泽劳务, plasterer 2级
    wang_id_number: str
    sun_id: int  # 孙小华, 晋中
    sun_id_number: str
    wujian_dispatcher: int  # account ids of the posters
    yingze_dispatcher: int
    xiaodian_dispatcher: int


async def _worker(
    uow: UnitOfWork,
    enterprise_id: int,
    county: str,
    name: str,
    seq: int,
    trade: str,
    grade: int,
) -> tuple[Worker, str]:
    id_number = make_id_number(county, date(1980, 1, 1) + timedelta(days=seq * 37), seq)
    now = uow.now()
    worker = Worker(
        enterprise_id=enterprise_id,
        id_hash=uow.cipher.lookup_hash(id_number),
        id_cipher=uow.cipher.encrypt(id_number),
        id_masked=id_number[:6] + "********" + id_number[-4:],
        name=name,
        gender="M" if int(id_number[16]) % 2 else "F",
        birth_date=ric.get_birth_date(id_number),
        phone="13800138000",
        education="初中",
        trade_code=trade,
        grade_level=grade,
        credit_grade="A",
        status="idle",
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    uow.session.add(worker)
    await uow.session.flush()
    return worker, id_number


async def add_deal(
    uow: UnitOfWork,
    *,
    shortage_id: int,
    idle_id: int | None,
    receiver: int,
    supplier: int,
    trade: str,
    county: str,
    headcount: int,
    price_fen: int,
    at: datetime,
) -> Deal:
    deal = Deal(
        shortage_id=shortage_id,
        idle_posting_id=idle_id,
        shortage_enterprise_id=receiver,
        idle_enterprise_id=supplier,
        trade_code=trade,
        county_code=county,
        city_code=county[:4] + "00",
        headcount=headcount,
        price_fen=price_fen,
        start_date=at.date(),
        status="accepted",
        proposer_side="shortage",
        awaiting_side=None,
        created_at=at,
        updated_at=at,
        expires_at=at + timedelta(days=2),
        accepted_at=at,
    )
    uow.session.add(deal)
    await uow.session.flush()
    return deal


async def build_reg_world(services: Services) -> RegWorld:
    async with services.uow() as uow:
        wujian = await make_enterprise(
            uow, name="山西五建集团", county_code="140105", credit_score=95, credit_grade="AA"
        )
        yingze = await make_enterprise(
            uow, name="太原迎泽劳务", county_code="140106", credit_score=88, credit_grade="A"
        )
        xdbuild = await make_enterprise(
            uow, name="小店建工", county_code="140105", credit_score=70, credit_grade="B"
        )
        jzlabor = await make_enterprise(
            uow, name="晋中榆次劳务", county_code="140702", credit_score=99, credit_grade="AAA"
        )
        p1 = await make_project(uow, wujian, name="小店区保障房项目")
        p2 = await make_project(uow, wujian, county_code="140106", name="迎泽区学校项目")
        p3 = await make_project(uow, xdbuild, name="小店商业中心")
        p9 = await make_project(uow, jzlabor, name="榆次物流园")

        ty = await make_account(
            uow, role=Role.REGULATOR, region_code="140100", name="太原住建局",
            telegram_user_id=TAIYUAN_REGULATOR_TG,
        )  # fmt: skip
        xd = await make_account(
            uow, role=Role.REGULATOR, region_code="140105", name="小店住建局",
            telegram_user_id=XIAODIAN_REGULATOR_TG,
        )  # fmt: skip
        jz = await make_account(
            uow, role=Role.REGULATOR, region_code="140700", name="晋中住建局",
            telegram_user_id=JINZHONG_REGULATOR_TG,
        )  # fmt: skip
        sx = await make_account(
            uow, role=Role.REGULATOR, region_code="140000", name="山西住建厅",
            telegram_user_id=PROVINCE_REGULATOR_TG,
        )  # fmt: skip
        wj_disp = await make_account(uow, role=Role.DISPATCHER, enterprise=wujian, name="赵调度")
        yz_disp = await make_account(uow, role=Role.DISPATCHER, enterprise=yingze, name="李明")
        xd_disp = await make_account(uow, role=Role.DISPATCHER, enterprise=xdbuild, name="钱调度")
        jz_disp = await make_account(uow, role=Role.DISPATCHER, enterprise=jzlabor, name="周调度")

        wang, wang_no = await _worker(uow, yingze.id, "140106", "王海东", 1, "plasterer", 2)
        li, _ = await _worker(uow, yingze.id, "140106", "李文光", 3, "plasterer", 2)
        zhang, _ = await _worker(uow, yingze.id, "140106", "张红飞", 5, "plasterer", 2)
        wu, _ = await _worker(uow, yingze.id, "140106", "吴玉兰", 7, "plasterer", 2)
        zhao, _ = await _worker(uow, xdbuild.id, "140105", "赵伟", 9, "rebar", 1)
        qian, _ = await _worker(uow, xdbuild.id, "140105", "钱多多", 11, "rebar", 1)
        sun, sun_no = await _worker(uow, jzlabor.id, "140702", "孙小华", 13, "plasterer", 2)
        zhou, _ = await _worker(uow, jzlabor.id, "140702", "周文", 15, "plasterer", 2)
        feng, _ = await _worker(uow, jzlabor.id, "140702", "冯刚", 17, "plasterer", 2)

        today = date(2026, 3, 4)
        s1 = await make_shortage(
            uow, p1, trade_code="plasterer", min_grade=3, headcount=4, filled_count=1,
            price_fen=550_000, ring="escalated", status="partly_filled",
            created_at=shanghai(date(2026, 2, 25), 9), escalated_at=shanghai(date(2026, 3, 1), 9),
            posted_by_account_id=wj_disp.id,
        )  # fmt: skip
        s2 = await make_shortage(
            uow, p2, trade_code="rebar", min_grade=2, headcount=5, price_fen=600_000,
            created_at=shanghai(date(2026, 3, 1), 9), posted_by_account_id=wj_disp.id,
        )  # fmt: skip
        s3 = await make_shortage(
            uow, p3, trade_code="plasterer", min_grade=2, headcount=2, price_fen=580_000,
            created_at=shanghai(date(2026, 3, 3), 9), posted_by_account_id=xd_disp.id,
        )  # fmt: skip
        await make_shortage(
            uow, p1, trade_code="plasterer", headcount=10, status="cancelled",
            created_at=shanghai(date(2026, 2, 1), 9),
        )  # fmt: skip
        s9 = await make_shortage(
            uow, p9, trade_code="plasterer", min_grade=3, headcount=6, ring="escalated",
            created_at=shanghai(date(2026, 2, 20), 9), posted_by_account_id=jz_disp.id,
        )  # fmt: skip
        i1 = await make_idle_posting(
            uow, yingze, [wang, li, zhang, wu], price_fen=500_000,
            created_at=shanghai(date(2026, 3, 2), 9), posted_by_account_id=yz_disp.id,
        )  # fmt: skip
        i2 = await make_idle_posting(
            uow, xdbuild, [zhao, qian], price_fen=620_000, ring="escalated",
            created_at=shanghai(date(2026, 3, 3), 9), posted_by_account_id=xd_disp.id,
        )  # fmt: skip
        i9 = await make_idle_posting(
            uow, jzlabor, [sun, zhou, feng], price_fen=480_000, ring="escalated",
            created_at=shanghai(date(2026, 3, 2), 9), posted_by_account_id=jz_disp.id,
        )  # fmt: skip

        d1 = await add_deal(
            uow, shortage_id=s1.id, idle_id=i1.id, receiver=wujian.id, supplier=yingze.id,
            trade="plasterer", county="140105", headcount=1, price_fen=550_000,
            at=shanghai(date(2026, 3, 3), 11, 11),
        )  # fmt: skip
        d2 = await add_deal(
            uow, shortage_id=s2.id, idle_id=i2.id, receiver=wujian.id, supplier=xdbuild.id,
            trade="rebar", county="140106", headcount=2, price_fen=610_000,
            at=shanghai(date(2026, 2, 27), 9),
        )  # fmt: skip
        d3 = await add_deal(
            uow, shortage_id=s1.id, idle_id=None, receiver=wujian.id, supplier=yingze.id,
            trade="plasterer", county="140105", headcount=3, price_fen=500_000,
            at=shanghai(date(2026, 2, 10), 15),
        )  # fmt: skip
        d9 = await add_deal(
            uow, shortage_id=s9.id, idle_id=i9.id, receiver=jzlabor.id, supplier=jzlabor.id,
            trade="plasterer", county="140702", headcount=1, price_fen=480_000,
            at=shanghai(date(2026, 3, 3), 10),
        )  # fmt: skip
        for deal, worker, stars in (
            (d2, zhao, 1),
            (d1, wang, 2),
            (d3, wang, 5),
            (d1, li, 4),
            (d3, li, 4),
            (d9, sun, 1),
        ):
            uow.session.add(
                Rating(
                    deal_id=deal.id,
                    worker_id=worker.id,
                    stars=stars,
                    by_account_id=wj_disp.id,
                    created_at=deal.accepted_at,
                )
            )
        for city, trade, grade, fen in (
            ("140100", "plasterer", 2, 400_000),
            ("140100", "carpenter", 1, 750_000),
            ("140700", "plasterer", 4, 380_000),
        ):
            uow.session.add(
                GuidePrice(
                    city_code=city,
                    trade_code=trade,
                    grade_level=grade,
                    price_fen=fen,
                    effective_date=date(2026, 1, 1),
                    created_at=uow.now(),
                )
            )
        await uow.session.flush()
        world = RegWorld(
            taiyuan=actor_of(ty),
            xiaodian=actor_of(xd),
            jinzhong=actor_of(jz),
            province=actor_of(sx),
            wujian_id=wujian.id,
            yingze_labor_id=yingze.id,
            xiaodian_build_id=xdbuild.id,
            jinzhong_labor_id=jzlabor.id,
            s1=s1.id,
            s2=s2.id,
            s3=s3.id,
            s9=s9.id,
            i1=i1.id,
            i2=i2.id,
            i9=i9.id,
            wang_id=wang.id,
            wang_id_number=wang_no,
            sun_id=sun.id,
            sun_id_number=sun_no,
            wujian_dispatcher=wj_disp.id,
            yingze_dispatcher=yz_disp.id,
            xiaodian_dispatcher=xd_disp.id,
        )
        assert today == date(2026, 3, 4)
        await uow.commit()
        return world
