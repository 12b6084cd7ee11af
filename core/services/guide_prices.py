"""用工指导价: monthly guide prices that city bureaus publish per trade and grade."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.exc import IntegrityError

from core.db.models import Account, Grade, GuidePrice, Region, Trade
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import RegionLevel, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.timeutil import local_date
from core.domain.values import fen_to_price, parse_price, percent_off, price_to_fen
from core.services.region_scope import home_region, in_scope
from core.services.regions import normalize_region_code, region_contains, region_level

# a deal or posting priced further than this from the guide gets a warning (seed: 解决价位不平衡)
GUIDE_WARN_PCT = 30

PROVINCE_CODE = "140000"


@dataclass(frozen=True, slots=True)
class GuidePriceView:
    city_code: str
    city_name_zh: str
    trade_code: str
    trade_name_zh: str
    grade_level: int
    grade_name_zh: str
    price: Decimal
    effective_date: date
    set_by_account_id: int | None


def price_deviation(price: Decimal, guide: Decimal) -> Decimal:
    """Signed distance of `price` from the guide price, in percent of the guide (one decimal)."""
    return percent_off(price, guide)


def is_far_from_guide(price: Decimal, guide: Decimal | None) -> bool:
    """True when a guide exists and the price is more than GUIDE_WARN_PCT percent off it."""
    return guide is not None and abs(price_deviation(price, guide)) > GUIDE_WARN_PCT


def _city_code(raw: str) -> str:
    # "1401" / "140100" → "140100"; anything else is looked up as given and fails there
    code = (raw or "").strip()
    if len(code) == 4 and code.isdigit():
        return code + "00"
    return code


async def set_guide_price(
    uow: UnitOfWork,
    actor: Actor,
    *,
    city_code: str,
    trade_code: str,
    grade_level: int,
    price: Decimal | str | int,
    effective_date: date | None = None,
) -> GuidePriceView:
    """Publish (or correct, for the same effective date) a city's guide price."""
    actor.require(Role.REGULATOR)
    value = parse_price(price)
    code = _city_code(city_code)
    region = await uow.session.get(Region, code)
    if region is None or region.level != RegionLevel.CITY:
        raise ValidationError("error.guide_price_city")
    if not may_set_guide_price(actor, code):
        raise PermissionDenied("error.forbidden")
    trade = await uow.session.get(Trade, trade_code)
    if trade is None:
        raise ValidationError("error.trade_unknown")
    grade = await uow.session.get(Grade, grade_level)
    if grade is None:
        raise ValidationError("error.grade_unknown")
    day = effective_date or local_date(uow.now())

    same_day = await uow.session.scalar(
        select(GuidePrice).where(
            GuidePrice.city_code == code,
            GuidePrice.trade_code == trade_code,
            GuidePrice.grade_level == grade_level,
            GuidePrice.effective_date == day,
        )
    )
    # "before" is what applied on that day until now: the row replaced, or the one it follows
    previous = same_day or await uow.session.scalar(
        select(GuidePrice)
        .where(
            GuidePrice.city_code == code,
            GuidePrice.trade_code == trade_code,
            GuidePrice.grade_level == grade_level,
            GuidePrice.effective_date <= day,
        )
        .order_by(GuidePrice.effective_date.desc())
        .limit(1)
    )
    before = (
        {
            "price": str(fen_to_price(previous.price_fen)),
            "effective_date": previous.effective_date.isoformat(),
        }
        if previous is not None
        else None
    )
    if same_day is not None:
        row = same_day
        row.price_fen = price_to_fen(value)
        row.set_by_account_id = actor.account_id
    else:
        row = GuidePrice(
            city_code=code,
            trade_code=trade_code,
            grade_level=grade_level,
            price_fen=price_to_fen(value),
            effective_date=day,
            set_by_account_id=actor.account_id,
            created_at=uow.now(),
        )
        uow.session.add(row)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        # another regulator published the same key and day a moment ago
        raise Conflict("error.stale") from exc
    uow.audit(
        actor_account_id=actor.account_id,
        action="guide_price.set",
        entity="guide_price",
        entity_id=row.id,
        before=before,
        after={
            "city_code": code,
            "trade_code": trade_code,
            "grade_level": grade_level,
            "price": str(value),
            "effective_date": day.isoformat(),
        },
    )
    await uow.commit()
    return GuidePriceView(
        city_code=code,
        city_name_zh=region.name_zh,
        trade_code=trade.code,
        trade_name_zh=trade.name_zh,
        grade_level=grade.level,
        grade_name_zh=grade.name_zh,
        price=value,
        effective_date=day,
        set_by_account_id=actor.account_id,
    )


def _current_rows(on: date) -> Select[Any]:
    """Per (city, trade, grade) the row with the latest effective date on or before `on`."""
    latest = (
        select(
            GuidePrice.city_code,
            GuidePrice.trade_code,
            GuidePrice.grade_level,
            func.max(GuidePrice.effective_date).label("eff"),
        )
        .where(GuidePrice.effective_date <= on)
        .group_by(GuidePrice.city_code, GuidePrice.trade_code, GuidePrice.grade_level)
        .subquery()
    )
    return select(GuidePrice).join(
        latest,
        and_(
            GuidePrice.city_code == latest.c.city_code,
            GuidePrice.trade_code == latest.c.trade_code,
            GuidePrice.grade_level == latest.c.grade_level,
            GuidePrice.effective_date == latest.c.eff,
        ),
    )


async def current_guide_price(
    uow: UnitOfWork, city_code: str, trade_code: str, grade_level: int, on: date | None = None
) -> Decimal | None:
    """The guide price in force on `on` (default: today in Shanxi), or None if never published."""
    day = on or local_date(uow.now())
    fen = await uow.session.scalar(
        _PRICE_IN_FORCE,
        {"city": _city_code(city_code), "trade": trade_code, "grade": grade_level, "day": day},
    )
    return None if fen is None else fen_to_price(fen)


# asked at every price step of a posting dialog: built once
_PRICE_IN_FORCE = (
    select(GuidePrice.price_fen)
    .where(
        GuidePrice.city_code == bindparam("city"),
        GuidePrice.trade_code == bindparam("trade"),
        GuidePrice.grade_level == bindparam("grade"),
        GuidePrice.effective_date <= bindparam("day"),
    )
    .order_by(GuidePrice.effective_date.desc())
    .limit(1)
)


async def list_guide_prices(
    uow: UnitOfWork,
    *,
    city_code: str | None = None,
    trade_code: str | None = None,
    on: date | None = None,
) -> list[GuidePriceView]:
    """The prices in force today (or on `on`), by city, trade order and grade."""
    day = on or local_date(uow.now())
    stmt = (
        _current_rows(day)
        .add_columns(Region.name_zh, Trade.name_zh, Grade.name_zh)
        .join(Region, Region.code == GuidePrice.city_code)
        .join(Trade, Trade.code == GuidePrice.trade_code)
        .join(Grade, Grade.level == GuidePrice.grade_level)
        .order_by(GuidePrice.city_code, Trade.sort_order, GuidePrice.grade_level)
    )
    if city_code:
        stmt = stmt.where(GuidePrice.city_code == _city_code(city_code))
    if trade_code:
        stmt = stmt.where(GuidePrice.trade_code == trade_code)
    rows = (await uow.session.execute(stmt)).all()
    return [
        GuidePriceView(
            city_code=gp.city_code,
            city_name_zh=city_name,
            trade_code=gp.trade_code,
            trade_name_zh=trade_name,
            grade_level=gp.grade_level,
            grade_name_zh=grade_name,
            price=fen_to_price(gp.price_fen),
            effective_date=gp.effective_date,
            set_by_account_id=gp.set_by_account_id,
        )
        for gp, city_name, trade_name, grade_name in rows
    ]


async def guide_price_map(
    uow: UnitOfWork, city_codes: Iterable[str], on: date | None = None
) -> dict[tuple[str, str, int], Decimal]:
    """{(city, trade, grade): price} in force today for the given cities, in one query."""
    codes = sorted({_city_code(c) for c in city_codes})
    if not codes:
        return {}
    day = on or local_date(uow.now())
    rows = (
        await uow.session.scalars(_current_rows(day).where(GuidePrice.city_code.in_(codes)))
    ).all()
    return {(r.city_code, r.trade_code, r.grade_level): fen_to_price(r.price_fen) for r in rows}


# --- a city's table as a bureau reads it ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class GuideCell:
    trade_code: str
    grade_level: int
    price: Decimal
    effective_date: date


@dataclass(frozen=True, slots=True)
class CityGuidePrices:
    city_code: str
    city_name_zh: str
    city_name_en: str
    day: date
    cells: tuple[GuideCell, ...]  # in force on `day`, by trade order and grade
    may_set: bool  # whether this actor may publish this city's prices

    def city_name(self, locale: str) -> str:
        return self.city_name_zh if locale.startswith("zh") else self.city_name_en


def may_set_guide_price(actor: Actor, city_code: str) -> bool:
    """A city's own bureau, the province bureau and an admin publish a city's guide prices."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.REGULATOR or not actor.region_code:
        return False
    region = normalize_region_code(actor.region_code)
    return region == PROVINCE_CODE or region == normalize_region_code(city_code)


def _readable_city(actor: Actor, city_code: str) -> str:
    """The city's code if the actor may read its prices (a county bureau: its own city)."""
    code = normalize_region_code(city_code)
    home = home_region(actor)
    if region_level(code) is not RegionLevel.CITY:
        raise ValidationError("error.guide_price_city")
    # a county bureau works under its city's published prices, so it may read them
    if not (in_scope(actor, code) or region_contains(code, home)):
        raise PermissionDenied("error.out_of_scope")
    return code


async def city_guide_prices(
    uow: UnitOfWork,
    actor: Actor,
    city_code: str,
    *,
    trade_code: str | None = None,
    grade_level: int | None = None,
) -> CityGuidePrices:
    """The prices in force today in a city the actor oversees, optionally of one trade and/or
    one grade only."""
    code = _readable_city(actor, city_code)
    region = await uow.session.get(Region, code)
    if region is None:
        raise NotFound("error.unknown_region", code=code)
    day = local_date(uow.now())
    views = await list_guide_prices(uow, city_code=code, trade_code=trade_code, on=day)
    return CityGuidePrices(
        city_code=code,
        city_name_zh=region.name_zh,
        city_name_en=region.name_en,
        day=day,
        cells=tuple(
            GuideCell(v.trade_code, v.grade_level, v.price, v.effective_date)
            for v in views
            if grade_level is None or v.grade_level == grade_level
        ),
        may_set=may_set_guide_price(actor, code),
    )


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """One published price of a city, trade and grade: from its effective date on."""

    id: int
    price: Decimal
    effective_date: date
    in_force: bool  # the one that applies today
    set_by: str | None  # who published it (the account's display name)


async def price_history(
    uow: UnitOfWork, actor: Actor, city_code: str, trade_code: str, grade_level: int
) -> tuple[PriceEntry, ...]:
    """Every price published for a city, trade and grade, the newest effective date first."""
    code = _readable_city(actor, city_code)
    rows = (
        await uow.session.execute(
            select(GuidePrice, Account.display_name)
            .outerjoin(Account, Account.id == GuidePrice.set_by_account_id)
            .where(
                GuidePrice.city_code == code,
                GuidePrice.trade_code == trade_code,
                GuidePrice.grade_level == grade_level,
            )
            .order_by(GuidePrice.effective_date.desc())
        )
    ).all()
    today = local_date(uow.now())
    current = next((gp.id for gp, _name in rows if gp.effective_date <= today), None)
    return tuple(
        PriceEntry(gp.id, fen_to_price(gp.price_fen), gp.effective_date, gp.id == current, name)
        for gp, name in rows
    )


async def delete_guide_price(uow: UnitOfWork, actor: Actor, price_id: int) -> PriceEntry:
    """Withdraw one published price (a mistake): the one before it applies again. Audited."""
    row = await uow.session.get(GuidePrice, price_id, with_for_update=True)
    if row is None:
        raise NotFound("error.guide_price_not_found")
    _readable_city(actor, row.city_code)  # out of scope: the same refusal as reading
    if not may_set_guide_price(actor, row.city_code):
        raise PermissionDenied("error.forbidden")
    removed = PriceEntry(row.id, fen_to_price(row.price_fen), row.effective_date, False, None)
    uow.audit(
        actor_account_id=actor.account_id,
        action="guide_price.delete",
        entity="guide_price",
        entity_id=row.id,
        before={
            "city_code": row.city_code,
            "trade_code": row.trade_code,
            "grade_level": row.grade_level,
            "price_fen": row.price_fen,
            "effective_date": row.effective_date.isoformat(),
        },
    )
    await uow.session.delete(row)
    await uow.commit()
    return removed


def guide_price_of(prices: CityGuidePrices, trade_code: str, grade_level: int) -> Decimal | None:
    """The price in force for one trade and grade of a city's table, if published."""
    for cell in prices.cells:
        if cell.trade_code == trade_code and cell.grade_level == grade_level:
            return cell.price
    return None
