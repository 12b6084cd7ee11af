"""Guide prices: filtered by trade or grade, the history of a price by effective date, and
deleting a published price (audited; the one before applies again), inside the region only."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from core.db.models import AuditLog, GuidePrice
from core.db.uow import Services
from core.domain.errors import NotFound, PermissionDenied
from core.services import guide_prices
from tests.integration.regulator_world import RegWorld, build_reg_world


@pytest.fixture
async def world(services: Services) -> RegWorld:
    world = await build_reg_world(services)
    async with services.uow() as uow:  # 太原 plasterer 2级: raised on 03-01, a raise to come
        for day, fen in ((date(2026, 3, 1), 420_000), (date(2026, 4, 1), 450_000)):
            uow.session.add(
                GuidePrice(
                    city_code="140100", trade_code="plasterer", grade_level=2, price_fen=fen,
                    effective_date=day, set_by_account_id=world.taiyuan.account_id,
                    created_at=uow.now(),
                )
            )  # fmt: skip
        await uow.commit()
    return world


async def test_prices_filter_by_trade_or_grade(services: Services, world: RegWorld) -> None:
    async with services.uow() as uow:
        plasterer = await guide_prices.city_guide_prices(
            uow, world.taiyuan, "1401", trade_code="plasterer"
        )
        grade_1 = await guide_prices.city_guide_prices(uow, world.taiyuan, "1401", grade_level=1)
    assert [(c.trade_code, c.grade_level, c.price) for c in plasterer.cells] == [
        ("plasterer", 2, Decimal("4200.00"))  # in force today (03-04): the 03-01 price
    ]
    assert [(c.trade_code, c.price) for c in grade_1.cells] == [("carpenter", Decimal("7500.00"))]


async def test_the_history_lists_every_price_by_effective_date(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        history = await guide_prices.price_history(uow, world.xiaodian, "1401", "plasterer", 2)
    assert [(e.effective_date, e.price, e.in_force, e.set_by) for e in history] == [
        (date(2026, 4, 1), Decimal("4500.00"), False, "太原住建局"),
        (date(2026, 3, 1), Decimal("4200.00"), True, "太原住建局"),
        (date(2026, 1, 1), Decimal("4000.00"), False, None),
    ]


async def test_deleting_a_price_is_audited_and_the_one_before_applies_again(
    services: Services, world: RegWorld
) -> None:
    async with services.uow() as uow:
        history = await guide_prices.price_history(uow, world.taiyuan, "1401", "plasterer", 2)
        march = next(e for e in history if e.effective_date == date(2026, 3, 1))
        # the county bureau may read its city's prices but not withdraw them; 晋中 not even see
        for actor, error in (
            (world.xiaodian, PermissionDenied),
            (world.jinzhong, PermissionDenied),
        ):
            with pytest.raises(error):
                await guide_prices.delete_guide_price(uow, actor, march.id)
        removed = await guide_prices.delete_guide_price(uow, world.taiyuan, march.id)
        with pytest.raises(NotFound):
            await guide_prices.delete_guide_price(uow, world.taiyuan, march.id)
    assert removed.price == Decimal("4200.00")
    async with services.uow() as uow:
        now = await guide_prices.current_guide_price(uow, "140100", "plasterer", 2)
        [audit] = (await uow.session.scalars(select(AuditLog))).all()
        assert now == Decimal("4000.00")
        assert (audit.action, audit.entity, audit.entity_id) == (
            "guide_price.delete",
            "guide_price",
            str(march.id),
        )
        assert audit.actor_account_id == world.taiyuan.account_id
        assert audit.before == {
            "city_code": "140100", "trade_code": "plasterer", "grade_level": 2,
            "price_fen": 420_000, "effective_date": "2026-03-01",
        }  # fmt: skip
