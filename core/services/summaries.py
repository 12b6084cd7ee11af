"""用工调度汇总 / 统计: shortage vs idle per region, per trade × grade, and a company's summary.

Everything is counted in SQL (GROUP BY): the province data set has 10^5 rows per table.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, func, select

from core.db.models import (
    Deal,
    Enterprise,
    Grade,
    GuidePrice,
    IdlePosting,
    Project,
    ShortagePosting,
    Team,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import (
    DealStatus,
    ProjectStatus,
    RegionLevel,
    Role,
    WorkerStatus,
)
from core.domain.errors import NotFound, PermissionDenied
from core.domain.money import format_money
from core.domain.timeutil import day_bounds, local_date
from core.domain.values import percent_off
from core.services.posting_state import open_clause, open_headcount
from core.services.regions import (
    RegionView,
    children,
    get_region,
    normalize_region_code,
    region_contains,
    region_filter,
)
from core.services.reporting_coverage import (
    REPORTED_DAYS,
    SILENT_DAYS,
    AreaCoverage,
    RegionCoverage,
)

# --- DTOs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AreaRow:
    """One sub-region: open shortage and idle postings and the headcount still open in them."""

    code: str
    name_zh: str
    name_en: str
    shortage_postings: int
    shortage_headcount: int
    idle_postings: int
    idle_headcount: int

    @property
    def balance(self) -> int:
        """Idle minus short: negative means the area needs workers from elsewhere."""
        return self.idle_headcount - self.shortage_headcount

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class TradeGradeCell:
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    grade_level: int
    grade_name_zh: str
    grade_name_en: str
    shortage: int
    idle: int


@dataclass(frozen=True, slots=True)
class NewToday:
    shortage_postings: int
    shortage_headcount: int
    idle_postings: int
    idle_headcount: int


@dataclass(frozen=True, slots=True)
class DealsToday:
    count: int
    headcount: int
    avg_price: Decimal | None  # CNY per worker-month, weighted by headcount
    # the comparison covers the deals whose city publishes a guide for the trade and grade
    guided_headcount: int
    guided_avg_price: Decimal | None
    avg_guide_price: Decimal | None
    vs_guide_pct: Decimal | None  # signed, e.g. Decimal("2.8") = 2.8 % above the guide


@dataclass(frozen=True, slots=True)
class RegionalSummary:
    region: RegionView
    day: date
    rows: tuple[AreaRow, ...]
    total: AreaRow
    matrix: tuple[TradeGradeCell, ...]
    new_today: NewToday
    deals_today: DealsToday


@dataclass(frozen=True, slots=True)
class TradeDemand:
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    shortage: int  # red in the seed's screen
    idle: int  # yellow


@dataclass(frozen=True, slots=True)
class ProjectDemand:
    project_id: int
    code: str
    name: str
    county_code: str
    on_duty: int
    trades: tuple[TradeDemand, ...]

    @property
    def shortage(self) -> int:
        return sum(t.shortage for t in self.trades)

    @property
    def idle(self) -> int:
        return sum(t.idle for t in self.trades)


@dataclass(frozen=True, slots=True)
class EnterpriseSummary:
    enterprise_id: int
    name: str
    day: date
    cumulative_shortage: int  # 累计工人缺口
    cumulative_surplus: int  # 累计工人盈余
    new_workers_today: int  # 今日新增工人数
    new_idle_today: int  # 今日新增赋闲数
    projects: tuple[ProjectDemand, ...]


# --- regional summary -----------------------------------------------------------------------


def _require_region_scope(actor: Actor, code: str) -> None:
    if actor.role is Role.ADMIN:
        return
    if actor.role is not Role.REGULATOR:
        raise PermissionDenied("error.forbidden")
    if not actor.region_code or not region_contains(actor.region_code, code):
        raise PermissionDenied("error.out_of_scope")


async def regional_summary(
    uow: UnitOfWork, actor: Actor, region_code: str, *, day: date | None = None
) -> RegionalSummary:
    """Shortage vs idle per direct sub-region, per trade × grade, today's news and deals."""
    code = normalize_region_code(region_code)
    _require_region_scope(actor, code)
    region = await get_region(uow, code)
    now = uow.now()
    day = day or local_date(now)
    session = uow.session

    if region.level is RegionLevel.COUNTY:
        areas = [region]
    else:
        areas = await children(uow, code)
    # one pass per table: open postings per (sub-region, trade, grade), which gives both the
    # sub-region rows and the trade × grade matrix (two scans of each table at ten times the
    # province would be a second apiece)
    counted: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    cells: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for model, grade_col, offset in (
        (ShortagePosting, ShortagePosting.min_grade, 0),
        (IdlePosting, IdlePosting.grade_level, 2),
    ):
        group_col = model.city_code if region.level is RegionLevel.PROVINCE else model.county_code
        result = await session.execute(
            select(
                group_col,
                model.trade_code,
                grade_col,
                func.count(),
                func.coalesce(func.sum(model.headcount - model.filled_count), 0),
            )
            .where(open_clause(model, now), region_filter(code, model))
            .group_by(group_col, model.trade_code, grade_col)
        )
        for key, trade, grade, postings, headcount in result.all():
            counted[key][offset] += int(postings)
            counted[key][offset + 1] += int(headcount)
            cells[(trade, int(grade))][offset // 2] += int(headcount)
    rows = tuple(
        AreaRow(area.code, area.name_zh, area.name_en, *counted.get(area.code, [0, 0, 0, 0]))
        for area in areas
    )
    total = AreaRow(
        region.code,
        region.name_zh,
        region.name_en,
        *(sum(values[i] for values in counted.values()) for i in range(4)),
    )
    return RegionalSummary(
        region=region,
        day=day,
        rows=rows,
        total=total,
        matrix=await _trade_grade_matrix(uow, cells),
        new_today=await _new_today(uow, code, day),
        deals_today=await _deals_today(uow, code, day),
    )


async def _trade_grade_matrix(
    uow: UnitOfWork, cells: dict[tuple[str, int], list[int]]
) -> tuple[TradeGradeCell, ...]:
    """The open headcount per (trade, grade): [shortage, idle], named and in trade order."""
    session = uow.session
    trades = {t.code: t for t in (await session.scalars(select(Trade))).all()}
    grades = {g.level: g for g in (await session.scalars(select(Grade))).all()}

    def order(key: tuple[str, int]) -> tuple[int, str, int]:
        trade = trades.get(key[0])
        return (trade.sort_order if trade else 999, key[0], key[1])

    result_cells = []
    for trade_code, level in sorted(cells, key=order):
        shortage, idle = cells[(trade_code, level)]
        if not shortage and not idle:
            continue
        trade_row = trades.get(trade_code)
        grade_row = grades.get(level)
        result_cells.append(
            TradeGradeCell(
                trade_code=trade_code,
                trade_name_zh=trade_row.name_zh if trade_row else trade_code,
                trade_name_en=trade_row.name_en if trade_row else trade_code,
                grade_level=level,
                grade_name_zh=grade_row.name_zh if grade_row else str(level),
                grade_name_en=grade_row.name_en if grade_row else str(level),
                shortage=shortage,
                idle=idle,
            )
        )
    return tuple(result_cells)


async def _new_today(uow: UnitOfWork, code: str, day: date) -> NewToday:
    start, end = day_bounds(day)
    values: list[int] = []
    for model in (ShortagePosting, IdlePosting):
        postings, headcount = (
            await uow.session.execute(
                select(func.count(), func.coalesce(func.sum(model.headcount), 0)).where(
                    model.created_at >= start,
                    model.created_at < end,
                    region_filter(code, model),
                )
            )
        ).one()
        values += [int(postings), int(headcount)]
    return NewToday(*values)


def _yuan(fen_total: int, count: int) -> Decimal:
    return (Decimal(fen_total) / Decimal(count) / 100).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


async def _deals_today(uow: UnitOfWork, code: str, day: date) -> DealsToday:
    start, end = day_bounds(day)
    # the guide in force on `day` for the deal's city, trade and the shortage's required grade
    guide = (
        select(GuidePrice.price_fen)
        .where(
            GuidePrice.city_code == Deal.city_code,
            GuidePrice.trade_code == Deal.trade_code,
            GuidePrice.grade_level == ShortagePosting.min_grade,
            GuidePrice.effective_date <= day,
        )
        .order_by(GuidePrice.effective_date.desc())
        .limit(1)
        .correlate(Deal, ShortagePosting)
        .scalar_subquery()
    )
    deals = (
        select(
            Deal.headcount.label("headcount"),
            Deal.price_fen.label("price_fen"),
            guide.label("guide_fen"),
        )
        .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
        .where(
            Deal.status == DealStatus.ACCEPTED.value,
            Deal.accepted_at >= start,
            Deal.accepted_at < end,
            region_filter(code, Deal),
        )
        .subquery()
    )
    has_guide = deals.c.guide_fen.is_not(None)

    def guided(expr: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((has_guide, expr), else_=0)), 0)

    count, headcount, price_total, guided_headcount, guided_price_total, guide_total = (
        await uow.session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(deals.c.headcount), 0),
                func.coalesce(func.sum(deals.c.price_fen * deals.c.headcount), 0),
                guided(deals.c.headcount),
                guided(deals.c.price_fen * deals.c.headcount),
                guided(deals.c.guide_fen * deals.c.headcount),
            )
        )
    ).one()
    avg_price = _yuan(int(price_total), int(headcount)) if headcount else None
    guided_avg = avg_guide = vs_guide = None
    if guided_headcount:
        guided_avg = _yuan(int(guided_price_total), int(guided_headcount))
        avg_guide = _yuan(int(guide_total), int(guided_headcount))
        vs_guide = percent_off(guided_avg, avg_guide)
    return DealsToday(
        count=int(count),
        headcount=int(headcount),
        avg_price=avg_price,
        guided_headcount=int(guided_headcount),
        guided_avg_price=guided_avg,
        avg_guide_price=avg_guide,
        vs_guide_pct=vs_guide,
    )


# --- enterprise summary ---------------------------------------------------------------------


async def enterprise_summary(
    uow: UnitOfWork, actor: Actor, enterprise_id: int, *, day: date | None = None
) -> EnterpriseSummary:
    """The company dispatch summary: cumulative shortage / surplus, today's news, per project."""
    if actor.role in (Role.DISPATCHER, Role.FOREMAN) and actor.enterprise_id != enterprise_id:
        raise PermissionDenied("error.out_of_scope")
    session = uow.session
    enterprise = await session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("error.enterprise_not_found")
    if actor.role is Role.REGULATOR and not (
        actor.region_code and region_contains(actor.region_code, enterprise.county_code)
    ):
        raise PermissionDenied("error.out_of_scope")
    day = day or local_date(uow.now())
    start, end = day_bounds(day)
    now = uow.now()
    # the same figures a regulator's view of this company shows (credit_ranking): workers still
    # wanted in its open shortage postings and still on offer in its open idle postings
    shortage, surplus = [
        int(
            await session.scalar(
                select(func.coalesce(func.sum(open_headcount(model)), 0)).where(
                    model.enterprise_id == enterprise_id, open_clause(model, now)
                )
            )
            or 0
        )
        for model in (ShortagePosting, IdlePosting)
    ]
    mine = Worker.enterprise_id == enterprise_id
    idle = Worker.status == WorkerStatus.IDLE.value
    new_workers, new_idle = (
        await session.execute(
            select(
                func.coalesce(
                    func.sum(
                        case(
                            ((Worker.created_at >= start) & (Worker.created_at < end), 1), else_=0
                        )
                    ),
                    0,
                ),
                func.coalesce(
                    func.sum(
                        case(
                            (
                                idle
                                & (Worker.status_changed_at >= start)
                                & (Worker.status_changed_at < end),
                                1,
                            ),
                            else_=0,
                        )
                    ),
                    0,
                ),
            ).where(mine)
        )
    ).one()
    return EnterpriseSummary(
        enterprise_id=enterprise.id,
        name=enterprise.name,
        day=day,
        cumulative_shortage=shortage,
        cumulative_surplus=surplus,
        new_workers_today=int(new_workers),
        new_idle_today=int(new_idle),
        projects=await _project_demand(uow, actor, enterprise_id),
    )


async def _project_demand(
    uow: UnitOfWork, actor: Actor, enterprise_id: int
) -> tuple[ProjectDemand, ...]:
    session = uow.session
    query = select(Project).where(
        Project.enterprise_id == enterprise_id, Project.status == ProjectStatus.ACTIVE.value
    )
    if actor.role is Role.FOREMAN:
        query = query.where(Project.id.in_(sorted(actor.project_ids) or [-1]))
    projects = (await session.scalars(query.order_by(Project.id))).all()
    if not projects:
        return ()
    of_enterprise = Project.enterprise_id == enterprise_id

    # workers in the project's teams (dispatched-in workers of other companies count as on duty)
    staffed = (
        select(
            Team.project_id,
            Worker.trade_code,
            func.sum(case((Worker.status == WorkerStatus.BUSY.value, 1), else_=0)),
            func.sum(case((Worker.status == WorkerStatus.IDLE.value, 1), else_=0)),
        )
        .join(Team, Team.id == Worker.team_id)
        .join(Project, Project.id == Team.project_id)
        .where(of_enterprise)
        .group_by(Team.project_id, Worker.trade_code)
    )
    on_duty: dict[int, int] = defaultdict(int)
    per_trade: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for project_id, trade, busy, idle in (await session.execute(staffed)).all():
        on_duty[project_id] += int(busy or 0)
        if idle:
            per_trade[project_id][trade][1] += int(idle)
    short = (
        select(
            ShortagePosting.project_id,
            ShortagePosting.trade_code,
            func.sum(ShortagePosting.headcount - ShortagePosting.filled_count),
        )
        .where(
            ShortagePosting.enterprise_id == enterprise_id,
            open_clause(ShortagePosting, uow.now()),
        )
        .group_by(ShortagePosting.project_id, ShortagePosting.trade_code)
    )
    for project_id, trade, headcount in (await session.execute(short)).all():
        if headcount:
            per_trade[project_id][trade][0] += int(headcount)
    trades = {t.code: t for t in (await session.scalars(select(Trade))).all()}

    def demand(project_id: int) -> tuple[TradeDemand, ...]:
        items = per_trade.get(project_id, {})
        ordered = sorted(items, key=lambda c: (trades[c].sort_order if c in trades else 999, c))
        return tuple(
            TradeDemand(
                trade_code=code,
                trade_name_zh=trades[code].name_zh if code in trades else code,
                trade_name_en=trades[code].name_en if code in trades else code,
                shortage=items[code][0],
                idle=items[code][1],
            )
            for code in ordered
        )

    return tuple(
        ProjectDemand(
            project_id=p.id,
            code=p.code,
            name=p.name,
            county_code=p.county_code,
            on_duty=on_duty.get(p.id, 0),
            trades=demand(p.id),
        )
        for p in projects
    )


# --- plain-text rendering (CLI) -------------------------------------------------------------

_LABELS = {
    "zh": {
        "title": "{region} 用工调度汇总 {day}",
        "area": "地区",
        "shortage_postings": "缺工条数",
        "shortage": "缺工人数",
        "idle_postings": "赋闲条数",
        "idle": "赋闲人数",
        "balance": "差额",
        "coverage": "上报率",
        "coverage_note": (
            "上报率：近 {days} 天更新过用工情况的在建项目占比；"
            "{silent} 个项目已 {silent_days} 天未上报"
        ),
        "total": "合计",
        "matrix": "用工调度统计（工种 × 等级）",
        "matrix_legend": "每格：缺工人数/赋闲人数",
        "trade": "工种",
        "grade": "等级",
        "short_col": "缺工",
        "idle_col": "赋闲",
        "none": "（无）",
        "new_today": "今日新增：缺工 {sp} 条 {sh} 人；赋闲 {ip} 条 {ih} 人",
        "deals_today": "今日成交：{count} 笔，{headcount} 人",
        "avg_price": "，均价 {price} 元/月",
        "vs_guide": "，指导价 {guide} 元/月（{pct}%）",
        "vs_guide_part": (
            "；其中有指导价的 {n} 人均价 {price} 元/月，指导价 {guide} 元/月（{pct}%）"
        ),
        "company": "{name} 调度汇总 {day}",
        "cumulative": (
            "累计工人缺口 {shortage}　累计工人盈余 {surplus}　"
            "今日新增工人数 {new_workers}　今日新增赋闲数 {new_idle}"
        ),
        "project": "项目",
        "on_duty": "在岗",
    },
    "en": {
        "title": "{region} dispatch summary {day}",
        "area": "Area",
        "shortage_postings": "Shortage posts",
        "shortage": "Short",
        "idle_postings": "Idle posts",
        "idle": "Idle",
        "balance": "Balance",
        "coverage": "Reporting",
        "coverage_note": (
            "Reporting: share of live projects that updated their labor status in the last "
            "{days} days; {silent} projects silent for {silent_days} days"
        ),
        "total": "Total",
        "matrix": "By trade and grade",
        "matrix_legend": "each cell: short/idle workers",
        "trade": "Trade",
        "grade": "Grade",
        "short_col": "Short",
        "idle_col": "Idle",
        "none": "(none)",
        "new_today": (
            "New today: shortage postings {sp} ({sh} workers), idle postings {ip} ({ih} workers)"
        ),
        "deals_today": "Deals today: {count}, {headcount} workers",
        "avg_price": ", average {price} CNY/month",
        "vs_guide": ", guide {guide} CNY/month ({pct}%)",
        "vs_guide_part": (
            "; the {n} workers of guided trades: average {price}, guide {guide} CNY/month ({pct}%)"
        ),
        "company": "{name} dispatch summary {day}",
        "cumulative": (
            "Cumulative shortage {shortage}, cumulative surplus {surplus}, "
            "new workers today {new_workers}, new idle today {new_idle}"
        ),
        "project": "Project",
        "on_duty": "On duty",
    },
}


def _text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - _text_width(text))
    return gap + text if right else text + gap


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], right: set[int]) -> str:
    """Columns padded to their display width; columns in `right` are right-aligned."""
    cells = [[str(c) for c in headers], *([str(c) for c in row] for row in rows)]
    widths = [max(_text_width(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append(
            "  ".join(
                _pad(cell, widths[i], right=i in right) for i, cell in enumerate(row)
            ).rstrip()
        )
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def render_summary_table(
    summary: RegionalSummary | EnterpriseSummary,
    locale: str,
    coverage: RegionCoverage | None = None,
) -> str:
    """A plain-text table of a summary for the terminal (CJK-aware column widths); with the
    region's reporting coverage, a 上报率 column and the count of silent projects."""
    labels = _LABELS["zh" if locale.startswith("zh") else "en"]
    if isinstance(summary, EnterpriseSummary):
        return _render_enterprise(summary, labels)
    return _render_regional(summary, labels, locale, coverage)


def _rate(area: AreaCoverage | None) -> str:
    rate = area.rate if area is not None else None
    return "—" if rate is None else f"{rate}%"


def _render_regional(
    summary: RegionalSummary,
    labels: dict[str, str],
    locale: str,
    coverage: RegionCoverage | None,
) -> str:
    head = [
        labels["area"],
        labels["shortage_postings"],
        labels["shortage"],
        labels["idle_postings"],
        labels["idle"],
        labels["balance"],
    ]
    rates = {area.code: area for area in coverage.rows} if coverage else {}
    if coverage:
        head.append(labels["coverage"])

    def cells(row: AreaRow, name: str, area: AreaCoverage | None) -> list[object]:
        line: list[object] = [
            name,
            row.shortage_postings,
            row.shortage_headcount,
            row.idle_postings,
            row.idle_headcount,
            f"{row.balance:+d}",
        ]
        return [*line, _rate(area)] if coverage else line

    body = [cells(row, row.name(locale), rates.get(row.code)) for row in summary.rows]
    if summary.region.level is not RegionLevel.COUNTY:
        body.append(cells(summary.total, labels["total"], coverage.total if coverage else None))
    parts = [
        labels["title"].format(region=summary.region.name(locale), day=summary.day.isoformat()),
        "",
        _table(head, body, right=set(range(1, len(head)))),
    ]
    if coverage:
        parts.append(
            labels["coverage_note"].format(
                days=REPORTED_DAYS, silent=coverage.silent_projects, silent_days=SILENT_DAYS
            )
        )
    parts += ["", labels["matrix"]]
    zh = locale.startswith("zh")
    parts.append(_render_matrix(summary.matrix, labels, zh))
    new = summary.new_today
    deals = summary.deals_today
    deal_line = labels["deals_today"].format(count=deals.count, headcount=deals.headcount)
    if deals.avg_price is not None:
        deal_line += labels["avg_price"].format(
            price=format_money(deals.avg_price, whole=True, symbol=False)
        )
    if deals.guided_avg_price is not None and deals.avg_guide_price is not None:
        pct = f"{deals.vs_guide_pct:+}"
        guide = format_money(deals.avg_guide_price, whole=True, symbol=False)
        if deals.guided_headcount == deals.headcount:
            deal_line += labels["vs_guide"].format(guide=guide, pct=pct)
        else:  # some trades have no guide: compare only the workers that do
            deal_line += labels["vs_guide_part"].format(
                n=deals.guided_headcount,
                price=format_money(deals.guided_avg_price, whole=True, symbol=False),
                guide=guide,
                pct=pct,
            )
    parts += [
        "",
        labels["new_today"].format(
            sp=new.shortage_postings,
            sh=new.shortage_headcount,
            ip=new.idle_postings,
            ih=new.idle_headcount,
        ),
        deal_line,
    ]
    return "\n".join(parts)


def _render_matrix(cells: Sequence[TradeGradeCell], labels: dict[str, str], zh: bool) -> str:
    """Trades down, grades across; each cell "short/idle"."""
    if not cells:
        return labels["none"]
    grades = sorted({(c.grade_level, c.grade_name_zh if zh else c.grade_name_en) for c in cells})
    by_trade: dict[str, dict[int, TradeGradeCell]] = {}
    names: dict[str, str] = {}
    for cell in cells:  # already in trade order
        by_trade.setdefault(cell.trade_code, {})[cell.grade_level] = cell
        names[cell.trade_code] = cell.trade_name_zh if zh else cell.trade_name_en
    rows = []
    for trade, levels in by_trade.items():
        row: list[object] = [names[trade]]
        for level, _name in grades:
            found = levels.get(level)
            row.append(f"{found.shortage}/{found.idle}" if found else "")
        total_short = sum(c.shortage for c in levels.values())
        total_idle = sum(c.idle for c in levels.values())
        row.append(f"{total_short}/{total_idle}")
        rows.append(row)
    head = [labels["trade"], *(name for _level, name in grades), labels["total"]]
    return "\n".join([labels["matrix_legend"], _table(head, rows, right=set(range(1, len(head))))])


def _render_enterprise(summary: EnterpriseSummary, labels: dict[str, str]) -> str:
    zh = labels is _LABELS["zh"]
    rows: list[list[object]] = []
    for project in summary.projects:
        first = True
        for trade in project.trades or (None,):
            rows.append(
                [
                    project.name if first else "",
                    project.on_duty if first else "",
                    (trade.trade_name_zh if zh else trade.trade_name_en) if trade else "",
                    trade.shortage if trade else "",
                    trade.idle if trade else "",
                ]
            )
            first = False
    parts = [
        labels["company"].format(name=summary.name, day=summary.day.isoformat()),
        labels["cumulative"].format(
            shortage=summary.cumulative_shortage,
            surplus=summary.cumulative_surplus,
            new_workers=summary.new_workers_today,
            new_idle=summary.new_idle_today,
        ),
        "",
    ]
    head = [
        labels["project"],
        labels["on_duty"],
        labels["trade"],
        labels["short_col"],
        labels["idle_col"],
    ]
    parts.append(_table(head, rows, right={1, 3, 4}) if rows else labels["none"])
    return "\n".join(parts)
