"""Daily regulator digests and weekly company digests: numbers straight from aggregate SQL.

A digest dated `day` reports on `day - 1` ("yesterday", Asia/Shanghai). Its cut-off is the
start of `day`: "open" means live now, posted before the cut-off and not expired at it, so a
digest rebuilt later the same morning (a retry, a second process) shows the same picture.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, select
from sqlalchemy.orm import aliased

from core.db.models import (
    Deal,
    Enterprise,
    Grade,
    IdlePosting,
    Project,
    Rating,
    Region,
    ShortagePosting,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import DealStatus, RegionLevel, Role, WorkerStatus
from core.domain.errors import NotFound, PermissionDenied
from core.domain.timeutil import as_utc, day_bounds, local_date
from core.domain.values import fen_to_price, percent_off, price_to_fen
from core.services.guide_prices import GUIDE_WARN_PCT, guide_price_map
from core.services.posting_state import open_clause
from core.services.regions import (
    RegionView,
    children,
    get_region,
    normalize_region_code,
    region_clause,
    region_contains,
)
from core.services.reporting_coverage import RegionCoverage, region_coverage

STALE_DAYS = 7  # a shortage open longer than this is an alert
STALE_SHOWN = 5
PRICE_ALERT_PCT = Decimal(GUIDE_WARN_PCT)  # "more than 30% below or above the guide price"
TOP_TRADES = 5
DEAL_LINES_MAX = 2000  # detail rows of one day's deals in the xlsx; the totals never cap


# --- DTOs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Named:
    """A coded reference (region, trade, grade) with both names; renderers pick the locale."""

    code: str
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh" else self.name_en


@dataclass(frozen=True, slots=True)
class Count:
    postings: int
    headcount: int


@dataclass(frozen=True, slots=True)
class SubRegionTotals:
    region: Named
    shortage_postings: int
    shortage_headcount: int
    idle_postings: int
    idle_headcount: int


@dataclass(frozen=True, slots=True)
class TradeShortage:
    trade: Named
    postings: int
    headcount: int


@dataclass(frozen=True, slots=True)
class TradeGradeTotals:
    trade: Named
    grade: Named
    shortage_headcount: int
    idle_headcount: int


@dataclass(frozen=True, slots=True)
class TradeDeals:
    trade: Named
    count: int
    headcount: int
    avg_price: Decimal  # per worker and month, weighted by headcount
    vs_guide_pct: Decimal | None  # over the deals that have a guide price; None if none has


@dataclass(frozen=True, slots=True)
class DealStats:
    count: int
    headcount: int
    avg_price: Decimal | None
    vs_guide_pct: Decimal | None
    by_trade: tuple[TradeDeals, ...]


@dataclass(frozen=True, slots=True)
class DealLine:
    deal_id: int
    accepted_at: datetime
    enterprise: str  # the receiving (short) enterprise
    supplier: str  # the enterprise whose idle workers moved
    region: Named  # county of the receiving project
    trade: Named
    grade: Named
    headcount: int
    price: Decimal
    guide_price: Decimal | None
    vs_guide_pct: Decimal | None


@dataclass(frozen=True, slots=True)
class RatingStats:
    count: int
    avg_stars: Decimal | None


@dataclass(frozen=True, slots=True)
class StaleShortage:
    shortage_id: int
    enterprise: str
    project: str
    region: Named
    trade: Named
    headcount: int  # still open
    days_open: int


@dataclass(frozen=True, slots=True)
class CoverageAlert:
    """`region` lacks `shortage` workers of `trade` net of its own idle ones; the neighbour has
    `idle` spare (idle net of its own shortage), at least as many."""

    region: Named
    trade: Named
    shortage: int
    neighbour: Named
    idle: int


@dataclass(frozen=True, slots=True)
class Alerts:
    stale_count: int
    stale_oldest: tuple[StaleShortage, ...]
    price: tuple[DealLine, ...]
    coverage: tuple[CoverageAlert, ...]

    @property
    def any(self) -> bool:
        return bool(self.stale_count or self.price or self.coverage)


@dataclass(frozen=True, slots=True)
class Digest:
    region: Named
    level: str
    day: date  # the digest's date
    report_day: date  # the day it reports on (yesterday)
    new_shortages: Count
    new_idle: Count
    sub_regions: tuple[SubRegionTotals, ...]  # direct sub-regions (a county: itself)
    open_shortage: Count
    open_idle: Count
    top_trades: tuple[TradeShortage, ...]
    trade_grades: tuple[TradeGradeTotals, ...]
    deals: DealStats
    deal_lines: tuple[DealLine, ...]
    ratings: RatingStats
    alerts: Alerts
    # 采集上报率 at the cut-off; None where a digest is built without it (tests, previews)
    reporting: RegionCoverage | None = None


@dataclass(frozen=True, slots=True)
class IdleByTrade:
    trade: Named
    workers: int


@dataclass(frozen=True, slots=True)
class CompanyWeekly:
    enterprise_id: int
    enterprise: str
    week_start: date
    week_end: date
    shortages_posted: Count
    idle_posted: Count
    open_shortage: Count
    open_idle: Count
    deals_received: DealStats  # as the short side: workers came in
    deals_supplied: DealStats  # as the idle side: their workers went out
    ratings_received: RatingStats  # of their workers
    ratings_given: RatingStats  # by them, of workers they received
    idle_workers: int
    busy_workers: int
    idle_by_trade: tuple[IdleByTrade, ...]


# --- helpers --------------------------------------------------------------------------------


def in_scope(actor: Actor, region_code: str) -> bool:
    """May this actor read the region's figures? Regulators: their region and below."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.REGULATOR or not actor.region_code:
        return False
    return region_contains(actor.region_code, region_code)


def _named_region(row: RegionView | Region) -> Named:
    return Named(row.code, row.name_zh, row.name_en)


def _avg_price(price_x_hc: int, headcount: int) -> Decimal | None:
    if headcount <= 0:
        return None
    return fen_to_price(int((Decimal(price_x_hc) / headcount).to_integral_value(ROUND_HALF_UP)))


async def _trades(uow: UnitOfWork) -> dict[str, Named]:
    rows = await uow.session.execute(select(Trade.code, Trade.name_zh, Trade.name_en))
    return {code: Named(code, zh, en) for code, zh, en in rows}


async def _grades(uow: UnitOfWork) -> dict[int, Named]:
    rows = await uow.session.execute(select(Grade.level, Grade.name_zh, Grade.name_en))
    return {level: Named(str(level), zh, en) for level, zh, en in rows}


def _named_or_code(table: dict[Any, Named], key: Any) -> Named:
    return table.get(key) or Named(str(key), str(key), str(key))


async def _guide_fen(
    uow: UnitOfWork, city_codes: Iterable[str], on: date
) -> dict[tuple[str, str, int], int]:
    """(city, trade, grade) → the guide price in fen in force on `on`."""
    prices = await guide_price_map(uow, city_codes, on)
    return {key: price_to_fen(value) for key, value in prices.items()}


# --- the regulator digest -------------------------------------------------------------------


def _unindexed(column: Any) -> Any:
    """The column, hidden from index selection. Without ANALYZE statistics SQLite prefers the
    (status, created_at) range over the far narrower (county_code, status) index and scans
    most of the table; coalesce(x, x) is x on both dialects but is not an indexed column."""
    return func.coalesce(column, column)


@dataclass(frozen=True, slots=True)
class _Cell:
    """Open postings of one county × trade × grade (one row of the grouped query)."""

    city: str
    county: str
    trade: str
    grade: int
    postings: int
    headcount: int
    stale: int  # postings older than the stale bound (shortages only)


async def _open_cells(
    uow: UnitOfWork, model: Any, where: ColumnElement[bool], stale_before: datetime | None
) -> list[_Cell]:
    """One GROUP BY over the live postings of a table: every open total derives from it."""
    grade = model.min_grade if model is ShortagePosting else model.grade_level
    stale = (
        func.sum(case((model.created_at < stale_before, 1), else_=0))
        if stale_before is not None
        else literal(0)
    )
    rows = await uow.session.execute(
        select(
            model.city_code,
            model.county_code,
            model.trade_code,
            grade,
            func.count(),
            func.sum(model.headcount - model.filled_count),
            stale,
        )
        .where(where)
        .group_by(model.city_code, model.county_code, model.trade_code, grade)
    )
    return [
        _Cell(city, county, trade, g, int(n), int(hc or 0), int(st or 0))
        for city, county, trade, g, n, hc, st in rows
    ]


async def build_digest(uow: UnitOfWork, actor: Actor, region_code: str, day: date) -> Digest:
    """The daily digest of a region for `day` (reporting on the day before); read-only."""
    actor.require(Role.REGULATOR)
    code = normalize_region_code(region_code)
    if not in_scope(actor, code):
        raise PermissionDenied("error.out_of_scope")
    region = await get_region(uow, code)
    level = region.level
    report_day = day - timedelta(days=1)
    y_start, cutoff = day_bounds(report_day)
    # open more than STALE_DAYS days at the cut-off ⇔ posted before the start of day-STALE_DAYS
    stale_before, _ = day_bounds(day - timedelta(days=STALE_DAYS))
    trades = await _trades(uow)
    grades = await _grades(uow)

    sub_rows = [region] if level is RegionLevel.COUNTY else await children(uow, code)
    by_city = level is RegionLevel.PROVINCE  # a province's sub-regions are cities

    def scope(model: Any) -> ColumnElement[bool]:
        if level is RegionLevel.CITY:
            # county_code IN (…) rides the (county_code, status) indexes; city_code alone has none
            counties = [code, *(r.code for r in sub_rows)]
            return and_(model.county_code.in_(counties), model.city_code == code)
        return region_clause(code, model.county_code, model.city_code)

    def live(model: Any) -> ColumnElement[bool]:
        return and_(open_clause(model, cutoff), _unindexed(model.created_at) < cutoff)

    async def new_count(model: Any) -> Count:
        # yesterday's new postings, whatever became of them since
        row = (
            await uow.session.execute(
                select(func.count(), func.coalesce(func.sum(model.headcount), 0)).where(
                    scope(model), model.created_at >= y_start, model.created_at < cutoff
                )
            )
        ).one()
        return Count(int(row[0]), int(row[1]))

    s_cells = await _open_cells(
        uow, ShortagePosting, and_(scope(ShortagePosting), live(ShortagePosting)), stale_before
    )
    i_cells = await _open_cells(
        uow, IdlePosting, and_(scope(IdlePosting), live(IdlePosting)), None
    )

    def sub_of(cell: _Cell) -> str:
        return cell.city if by_city else cell.county

    per_sub: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    shortage_st: dict[tuple[str, str], int] = defaultdict(int)
    idle_st: dict[tuple[str, str], int] = defaultdict(int)
    per_trade: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_trade_grade: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for c in s_cells:
        per_sub[sub_of(c)][0] += c.postings
        per_sub[sub_of(c)][1] += c.headcount
        shortage_st[(sub_of(c), c.trade)] += c.headcount
        per_trade[c.trade][0] += c.postings
        per_trade[c.trade][1] += c.headcount
        per_trade_grade[(c.trade, c.grade)][0] += c.headcount
    for c in i_cells:
        per_sub[sub_of(c)][2] += c.postings
        per_sub[sub_of(c)][3] += c.headcount
        idle_st[(sub_of(c), c.trade)] += c.headcount
        per_trade_grade[(c.trade, c.grade)][1] += c.headcount

    known_subs = {r.code for r in sub_rows}
    extra = sorted(set(per_sub) - known_subs)  # e.g. a posting filed under the city itself
    sub_named = [_named_region(r) for r in sub_rows] + [Named(c, c, c) for c in extra]
    sub_regions = tuple(
        sorted(
            (
                SubRegionTotals(n, per_sub[n.code][0], per_sub[n.code][1], *per_sub[n.code][2:])
                for n in sub_named
            ),
            key=lambda s: (-s.shortage_headcount, -s.idle_headcount, s.region.code),
        )
    )
    open_shortage = Count(sum(c.postings for c in s_cells), sum(c.headcount for c in s_cells))
    open_idle = Count(sum(c.postings for c in i_cells), sum(c.headcount for c in i_cells))
    top_trades = tuple(
        TradeShortage(_named_or_code(trades, t), n, hc)
        for t, (n, hc) in sorted(per_trade.items(), key=lambda kv: (-kv[1][1], kv[0]))
        if hc > 0
    )[:TOP_TRADES]
    order = {t: i for i, t in enumerate(trades)}
    trade_grades = tuple(
        TradeGradeTotals(_named_or_code(trades, t), _named_or_code(grades, g), sh, idle)
        for (t, g), (sh, idle) in sorted(
            per_trade_grade.items(), key=lambda kv: (order.get(kv[0][0], len(order)), kv[0])
        )
        if sh or idle
    )

    deals, deal_lines = await _deals_of_day(
        uow, scope, y_start, cutoff, trades, grades, report_day
    )
    rating_row = (
        await uow.session.execute(
            select(func.count(Rating.id), func.avg(Rating.stars))
            .join(Deal, Deal.id == Rating.deal_id)
            .where(scope(Deal), Rating.created_at >= y_start, Rating.created_at < cutoff)
        )
    ).one()
    ratings = RatingStats(
        int(rating_row[0]),
        Decimal(str(rating_row[1])).quantize(Decimal("0.1")) if rating_row[0] else None,
    )

    stale_count = sum(c.stale for c in s_cells)
    stale = (
        await _oldest(
            uow,
            and_(scope(ShortagePosting), live(ShortagePosting)),
            stale_before,
            day,
            trades,
        )
        if stale_count
        else ()
    )
    coverage = await _coverage(
        uow,
        sub_rows=sub_rows,
        by_city=by_city,
        shortage_st=shortage_st,
        idle_st=idle_st,
        live=live,
        trades=trades,
    )
    price_alerts = tuple(
        sorted(
            (
                d
                for d in deal_lines
                if d.vs_guide_pct is not None and abs(d.vs_guide_pct) > PRICE_ALERT_PCT
            ),
            key=lambda d: (-abs(d.vs_guide_pct or Decimal(0)), d.deal_id),
        )
    )
    reporting = await region_coverage(uow, actor, code, at=cutoff)
    return Digest(
        region=_named_region(region),
        level=level.value,
        day=day,
        report_day=report_day,
        new_shortages=await new_count(ShortagePosting),
        new_idle=await new_count(IdlePosting),
        sub_regions=sub_regions,
        open_shortage=open_shortage,
        open_idle=open_idle,
        top_trades=top_trades,
        trade_grades=trade_grades,
        deals=deals,
        deal_lines=deal_lines,
        ratings=ratings,
        alerts=Alerts(stale_count, stale, price_alerts, coverage),
        reporting=reporting,
    )


def _deal_grade() -> Any:
    """A deal's grade for the guide price: the grade its shortage asked (and was priced) for."""
    return ShortagePosting.min_grade


async def _deals_of_day(
    uow: UnitOfWork,
    scope: Any,
    start: datetime,
    end: datetime,
    trades: dict[str, Named],
    grades: dict[int, Named],
    on: date,
) -> tuple[DealStats, tuple[DealLine, ...]]:
    grade = _deal_grade().label("grade")
    accepted = and_(
        scope(Deal),
        Deal.status == DealStatus.ACCEPTED.value,
        Deal.accepted_at >= start,
        Deal.accepted_at < end,
    )
    groups = (
        await uow.session.execute(
            select(
                Deal.city_code,
                Deal.trade_code,
                grade,
                func.count(Deal.id),
                func.sum(Deal.headcount),
                func.sum(Deal.price_fen * Deal.headcount),
            )
            .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
            .where(accepted)
            .group_by(Deal.city_code, Deal.trade_code, grade)
        )
    ).all()
    guide = await _guide_fen(uow, (g[0] for g in groups), on)
    stats = _deal_stats(
        ((city, trade, gr, int(n), int(hc), int(pxh)) for city, trade, gr, n, hc, pxh in groups),
        guide,
        trades,
    )

    buyer = aliased(Enterprise)
    seller = aliased(Enterprise)
    county = aliased(Region)
    rows = await uow.session.execute(
        select(
            Deal.id,
            Deal.accepted_at,
            buyer.name,
            seller.name,
            Deal.county_code,
            county.name_zh,
            county.name_en,
            Deal.city_code,
            Deal.trade_code,
            grade,
            Deal.headcount,
            Deal.price_fen,
        )
        .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
        .join(buyer, buyer.id == Deal.shortage_enterprise_id)
        .join(seller, seller.id == Deal.idle_enterprise_id)
        .outerjoin(county, county.code == Deal.county_code)
        .where(accepted)
        .order_by(Deal.accepted_at, Deal.id)
        .limit(DEAL_LINES_MAX)
    )
    lines = []
    for did, at, b, s, cc, czh, cen, city, trade, gr, hc, fen in rows:
        g_fen = guide.get((city, trade, gr))
        price = fen_to_price(fen)
        g_price = fen_to_price(g_fen) if g_fen else None
        lines.append(
            DealLine(
                deal_id=did,
                accepted_at=as_utc(at),
                enterprise=b,
                supplier=s,
                region=Named(cc, czh or cc, cen or cc),
                trade=_named_or_code(trades, trade),
                grade=_named_or_code(grades, gr),
                headcount=hc,
                price=price,
                guide_price=g_price,
                vs_guide_pct=percent_off(price, g_price) if g_price else None,
            )
        )
    return stats, tuple(lines)


def _deal_stats(
    groups: Iterable[tuple[str, str, int, int, int, int]],
    guide: dict[tuple[str, str, int], int],
    trades: dict[str, Named],
) -> DealStats:
    """Headcount-weighted average price, and its distance from the guide prices of the same
    deals (weighted alike), per trade and overall."""
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # n, hc, p·hc, p·hc, g·hc
    for city, trade, grade, n, hc, pxh in groups:
        a = acc[trade]
        a[0] += n
        a[1] += hc
        a[2] += pxh
        g = guide.get((city, trade, grade))
        if g:
            a[3] += pxh
            a[4] += g * hc

    def pct(priced: int, guided: int) -> Decimal | None:
        return percent_off(Decimal(priced), Decimal(guided)) if guided else None

    by_trade = tuple(
        TradeDeals(
            _named_or_code(trades, t),
            a[0],
            a[1],
            _avg_price(a[2], a[1]) or Decimal(0),
            pct(a[3], a[4]),
        )
        for t, a in sorted(acc.items(), key=lambda kv: (-kv[1][1], kv[0]))
    )
    tot = [sum(a[i] for a in acc.values()) for i in range(5)]
    return DealStats(tot[0], tot[1], _avg_price(tot[2], tot[1]), pct(tot[3], tot[4]), by_trade)


async def _oldest(
    uow: UnitOfWork,
    open_where: ColumnElement[bool],
    stale_before: datetime,
    day: date,
    trades: dict[str, Named],
) -> tuple[StaleShortage, ...]:
    """The STALE_SHOWN oldest shortages still open, with who and where."""
    county = aliased(Region)
    rows = await uow.session.execute(
        select(
            ShortagePosting.id,
            Enterprise.name,
            Project.name,
            ShortagePosting.county_code,
            county.name_zh,
            county.name_en,
            ShortagePosting.trade_code,
            ShortagePosting.headcount - ShortagePosting.filled_count,
            ShortagePosting.created_at,
        )
        .join(Enterprise, Enterprise.id == ShortagePosting.enterprise_id)
        .join(Project, Project.id == ShortagePosting.project_id)
        .outerjoin(county, county.code == ShortagePosting.county_code)
        .where(open_where, _unindexed(ShortagePosting.created_at) < stale_before)
        .order_by(ShortagePosting.created_at, ShortagePosting.id)
        .limit(STALE_SHOWN)
    )
    return tuple(
        StaleShortage(
            shortage_id=sid,
            enterprise=ent,
            project=proj,
            region=Named(cc, zh or cc, en or cc),
            trade=_named_or_code(trades, trade),
            headcount=int(hc),
            days_open=(day - local_date(as_utc(created))).days,
        )
        for sid, ent, proj, cc, zh, en, trade, hc, created in rows
    )


async def _coverage(
    uow: UnitOfWork,
    *,
    sub_rows: Sequence[RegionView],
    by_city: bool,
    shortage_st: dict[tuple[str, str], int],
    idle_st: dict[tuple[str, str], int],
    live: Any,
    trades: dict[str, Named],
) -> tuple[CoverageAlert, ...]:
    """Sub-regions whose net shortage in a trade a neighbour's spare idle workers could cover.

    Neighbours may lie outside the regulator's region (a county's neighbours always do); only
    their aggregate headcounts are used."""
    neighbours = {r.code: [str(c) for c in (r.neighbours or [])] for r in sub_rows}
    wanted = sorted({c for cs in neighbours.values() for c in cs} - set(neighbours))
    s_all: dict[tuple[str, str], int] = defaultdict(int, shortage_st)
    i_all: dict[tuple[str, str], int] = defaultdict(int, idle_st)
    names = {r.code: _named_region(r) for r in sub_rows}
    if wanted:
        for region in (
            await uow.session.scalars(select(Region).where(Region.code.in_(wanted)))
        ).all():
            names[region.code] = _named_region(region)
        for model, target in ((ShortagePosting, s_all), (IdlePosting, i_all)):
            col = model.city_code if by_city else model.county_code
            for cell in await _open_cells(uow, model, and_(col.in_(wanted), live(model)), None):
                target[(cell.city if by_city else cell.county, cell.trade)] += cell.headcount

    alerts = []
    for (sub, trade), short in shortage_st.items():
        need = short - idle_st.get((sub, trade), 0)
        if need <= 0 or sub not in neighbours:
            continue
        best: tuple[int, str] | None = None
        for nb in neighbours[sub]:
            spare = i_all.get((nb, trade), 0) - s_all.get((nb, trade), 0)
            if spare >= need and (best is None or spare > best[0]):
                best = (spare, nb)
        if best is not None:
            alerts.append(
                CoverageAlert(
                    region=names[sub],
                    trade=_named_or_code(trades, trade),
                    shortage=need,
                    neighbour=names.get(best[1], Named(best[1], best[1], best[1])),
                    idle=best[0],
                )
            )
    alerts.sort(key=lambda a: (-a.shortage, a.region.code, a.trade.code))
    return tuple(alerts)


# --- the company weekly digest --------------------------------------------------------------


async def build_company_weekly(
    uow: UnitOfWork, actor: Actor, enterprise_id: int, week_end: date
) -> CompanyWeekly:
    """A company's own figures for the 7 days ending `week_end` (inclusive); read-only."""
    actor.require(Role.DISPATCHER)
    if not actor.can_act_for_enterprise(enterprise_id):
        raise PermissionDenied("error.forbidden")
    enterprise = await uow.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("error.enterprise_not_found")
    week_start = week_end - timedelta(days=6)
    start, _ = day_bounds(week_start)
    _, end = day_bounds(week_end)
    trades = await _trades(uow)

    async def posted(model: Any) -> Count:
        row = (
            await uow.session.execute(
                select(func.count(), func.coalesce(func.sum(model.headcount), 0)).where(
                    model.enterprise_id == enterprise_id,
                    model.created_at >= start,
                    model.created_at < end,
                )
            )
        ).one()
        return Count(int(row[0]), int(row[1]))

    async def still_open(model: Any) -> Count:
        row = (
            await uow.session.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(model.headcount - model.filled_count), 0),
                ).where(model.enterprise_id == enterprise_id, open_clause(model, uow.now()))
            )
        ).one()
        return Count(int(row[0]), int(row[1]))

    async def deals(side: Any) -> DealStats:
        grade = _deal_grade().label("grade")
        groups = (
            await uow.session.execute(
                select(
                    Deal.city_code,
                    Deal.trade_code,
                    grade,
                    func.count(Deal.id),
                    func.sum(Deal.headcount),
                    func.sum(Deal.price_fen * Deal.headcount),
                )
                .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
                .where(
                    side == enterprise_id,
                    Deal.status == DealStatus.ACCEPTED.value,
                    Deal.accepted_at >= start,
                    Deal.accepted_at < end,
                )
                .group_by(Deal.city_code, Deal.trade_code, grade)
            )
        ).all()
        guide = await _guide_fen(uow, (g[0] for g in groups), week_end)
        return _deal_stats(
            ((c, t, g, int(n), int(hc), int(p)) for c, t, g, n, hc, p in groups), guide, trades
        )

    async def ratings(side: Any) -> RatingStats:
        row = (
            await uow.session.execute(
                select(func.count(Rating.id), func.avg(Rating.stars))
                .join(Deal, Deal.id == Rating.deal_id)
                .where(side == enterprise_id, Rating.created_at >= start, Rating.created_at < end)
            )
        ).one()
        avg = Decimal(str(row[1])).quantize(Decimal("0.1")) if row[0] else None
        return RatingStats(int(row[0]), avg)

    workers = await uow.session.execute(
        select(Worker.status, Worker.trade_code, func.count())
        .where(Worker.enterprise_id == enterprise_id)
        .group_by(Worker.status, Worker.trade_code)
    )
    idle = busy = 0
    idle_trades: dict[str, int] = {}
    for status, trade, n in workers:
        if status == WorkerStatus.IDLE.value:
            idle += n
            idle_trades[trade] = n
        else:
            busy += n
    return CompanyWeekly(
        enterprise_id=enterprise.id,
        enterprise=enterprise.name,
        week_start=week_start,
        week_end=week_end,
        shortages_posted=await posted(ShortagePosting),
        idle_posted=await posted(IdlePosting),
        open_shortage=await still_open(ShortagePosting),
        open_idle=await still_open(IdlePosting),
        deals_received=await deals(Deal.shortage_enterprise_id),
        deals_supplied=await deals(Deal.idle_enterprise_id),
        ratings_received=await ratings(Deal.idle_enterprise_id),
        ratings_given=await ratings(Deal.shortage_enterprise_id),
        idle_workers=idle,
        busy_workers=busy,
        idle_by_trade=tuple(
            IdleByTrade(_named_or_code(trades, t), n)
            for t, n in sorted(idle_trades.items(), key=lambda kv: (-kv[1], kv[0]))
        ),
    )


__all__ = [
    "Alerts",
    "CompanyWeekly",
    "Count",
    "CoverageAlert",
    "DealLine",
    "DealStats",
    "Digest",
    "Named",
    "RatingStats",
    "StaleShortage",
    "SubRegionTotals",
    "TradeDeals",
    "TradeGradeTotals",
    "TradeShortage",
    "build_company_weekly",
    "build_digest",
    "in_scope",
]
