from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core.db.models import AuditLog, GuidePrice
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import DomainError, PermissionDenied, ValidationError
from core.domain.timeutil import local_date
from core.services.guide_prices import (
    GUIDE_WARN_PCT,
    current_guide_price,
    guide_price_map,
    is_far_from_guide,
    list_guide_prices,
    price_deviation,
    set_guide_price,
)
from tests.factories import actor_of, make_account, make_enterprise


async def _regulator(services: Services, region_code: str, role: Role = Role.REGULATOR) -> Actor:
    async with services.uow() as uow:
        account = await make_account(uow, role=role, region_code=region_code)
        await uow.commit()
        return actor_of(account)


async def test_a_city_bureau_publishes_and_corrects_a_price_with_before_and_after_in_the_audit(
    services: Services,
) -> None:
    taiyuan = await _regulator(services, "140100")
    async with services.uow() as uow:
        first = await set_guide_price(
            uow, taiyuan, city_code="1401", trade_code="plasterer", grade_level=2, price="4000"
        )
    assert (first.city_name_zh, first.trade_name_zh, first.grade_name_zh, first.price) == (
        "太原市",
        "抹灰工",
        "二级",
        Decimal("4000.00"),
    )
    today = first.effective_date
    assert today == local_date(services.clock.now())
    async with services.uow() as uow:
        await set_guide_price(
            uow, taiyuan, city_code="140100", trade_code="plasterer", grade_level=2, price=4200
        )
    async with services.uow() as uow:
        rows = (await uow.session.execute(select(GuidePrice.price_fen))).all()
        audits = [
            (a.action, a.actor_account_id, a.before, a.after)
            for a in await uow.session.scalars(select(AuditLog).order_by(AuditLog.id))
        ]
    assert [tuple(r) for r in rows] == [(420000,)]  # the same day is corrected, not added
    after = {
        "city_code": "140100",
        "trade_code": "plasterer",
        "grade_level": 2,
        "effective_date": today.isoformat(),
    }
    assert audits == [
        ("guide_price.set", taiyuan.account_id, None, {**after, "price": "4000.00"}),
        (
            "guide_price.set",
            taiyuan.account_id,
            {"price": "4000.00", "effective_date": today.isoformat()},
            {**after, "price": "4200.00"},
        ),
    ]


async def test_the_current_price_is_the_latest_effective_on_the_day(services: Services) -> None:
    province = await _regulator(services, "140000")
    async with services.uow() as uow:
        today = local_date(uow.now())
        for city, trade, grade, price, eff in (
            ("140100", "carpenter", 1, "7500", today - timedelta(days=30)),
            ("140100", "carpenter", 1, "7800", today + timedelta(days=10)),
            ("140100", "plasterer", 2, "4000", today),
            ("140700", "plasterer", 4, "3800", today),
            ("141100", "plasterer", 1, "4700", today),
        ):
            await set_guide_price(
                uow,
                province,
                city_code=city,
                trade_code=trade,
                grade_level=grade,
                price=price,
                effective_date=eff,
            )
    async with services.uow() as uow:
        now_price = await current_guide_price(uow, "140100", "carpenter", 1)
        later = await current_guide_price(
            uow, "140100", "carpenter", 1, on=today + timedelta(days=10)
        )
        before_any = await current_guide_price(
            uow, "140100", "carpenter", 1, on=today - timedelta(days=31)
        )
        never = await current_guide_price(uow, "140100", "welder", 1)
        listed = await list_guide_prices(uow, city_code="140100")
        plasterers = await list_guide_prices(uow, trade_code="plasterer")
        mapped = await guide_price_map(uow, ["140100", "1407"])
        none = await guide_price_map(uow, [])
        # the later audit row for a new effective date records what it follows
        last_audit = await uow.session.scalar(
            select(AuditLog).where(AuditLog.after["price"].as_string() == "7800.00")
        )
        follows = last_audit.before
    assert (now_price, later, before_any, never) == (
        Decimal("7500.00"),
        Decimal("7800.00"),
        None,
        None,
    )
    # trades in reference order (抹灰工 before 木工), one current row per key
    assert [(v.trade_code, v.grade_level, v.price) for v in listed] == [
        ("plasterer", 2, Decimal("4000.00")),
        ("carpenter", 1, Decimal("7500.00")),
    ]
    assert [v.city_code for v in plasterers] == ["140100", "140700", "141100"]
    assert mapped == {
        ("140100", "carpenter", 1): Decimal("7500.00"),
        ("140100", "plasterer", 2): Decimal("4000.00"),
        ("140700", "plasterer", 4): Decimal("3800.00"),
    }
    assert none == {}
    assert follows == {
        "price": "7500.00",
        "effective_date": (today - timedelta(days=30)).isoformat(),
    }


@pytest.mark.parametrize(
    ("who", "city", "price", "error", "key"),
    [
        ("county_code", "140105", "4000", ValidationError, "error.guide_price_city"),
        ("province_code", "140000", "4000", ValidationError, "error.guide_price_city"),
        ("bad_price", "140100", "11", ValidationError, "error.price_range"),
        ("other_city_bureau", "140100", "4000", PermissionDenied, "error.forbidden"),
        ("county_bureau", "140100", "4000", PermissionDenied, "error.forbidden"),
        ("dispatcher", "140100", "4000", PermissionDenied, "error.forbidden"),
        ("unknown_trade", "140100", "4000", ValidationError, "error.trade_unknown"),
        ("unknown_grade", "140100", "4000", ValidationError, "error.grade_unknown"),
    ],
)
async def test_guide_price_refusals_write_nothing(
    services: Services, who: str, city: str, price: str, error: type[DomainError], key: str
) -> None:
    actor = await _regulator(services, "140100")
    trade, grade = "plasterer", 2
    match who:
        case "other_city_bureau":
            actor = await _regulator(services, "140700")
        case "county_bureau":
            actor = await _regulator(services, "140105")
        case "dispatcher":
            async with services.uow() as uow:
                ent = await make_enterprise(uow)
                account = await make_account(uow, role=Role.DISPATCHER, enterprise=ent)
                await uow.commit()
                actor = actor_of(account)
        case "unknown_trade":
            trade = "astronaut"
        case "unknown_grade":
            grade = 9
    async with services.uow() as uow:
        with pytest.raises(error) as caught:
            await set_guide_price(
                uow, actor, city_code=city, trade_code=trade, grade_level=grade, price=price
            )
    assert caught.value.key == key
    async with services.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(GuidePrice)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(AuditLog)) == 0


async def test_an_admin_may_set_any_city(services: Services) -> None:
    admin = await _regulator(services, "140000", role=Role.ADMIN)
    async with services.uow() as uow:
        view = await set_guide_price(
            uow,
            admin,
            city_code="141000",
            trade_code="scaffolder",
            grade_level=2,
            price="5850",
            effective_date=date(2026, 1, 1),
        )
    assert (view.city_name_zh, view.price) == ("临汾市", Decimal("5850.00"))


def test_price_deviation_is_signed_percent_of_the_guide() -> None:
    assert price_deviation(Decimal("5500"), Decimal("4000")) == Decimal("37.5")
    assert price_deviation(Decimal("3000"), Decimal("4000")) == Decimal("-25.0")
    assert GUIDE_WARN_PCT == 30
    assert is_far_from_guide(Decimal("5500"), Decimal("4000"))
    assert not is_far_from_guide(Decimal("5200"), Decimal("4000"))  # exactly 30 % is fine
    assert not is_far_from_guide(Decimal("9000"), None)
