"""📊 汇总 (shortage vs idle per sub-region, drill-down, top-50 by credit, 采集上报率) and
📈 统计 (trade × grade)."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import (
    PAGE,
    Ctx,
    Reply,
    clip,
    locale,
    paging,
    pct,
    pre_table,
    screen,
)
from bot.i18n import Safe, tr
from bot.keyboards.common import STATISTICS, SUMMARY
from bot.keyboards.regulator import (
    ExportCb,
    SilentCb,
    StatCb,
    SumCb,
    TopCb,
    button,
    export_button,
    markup,
    pager,
    rows,
)
from core.domain.enums import RegionLevel
from core.services import credit_ranking, region_scope, reporting_coverage, summaries
from core.services.regions import get_region

NAME_WIDTH = 14  # characters of an enterprise or trade name in a narrow line


def _with_total(
    body: list[list[object]], level: RegionLevel, *total: object
) -> list[list[object]]:
    """A county has no sub-regions to add up; above it the table ends with a total row."""
    return body if level is RegionLevel.COUNTY else [*body, [_("regulator.total"), *total]]


@screen(SumCb, SUMMARY, lambda c: SumCb(code=c.home))
async def summary(c: Ctx, cb: SumCb) -> Reply:
    s = await summaries.regional_summary(c.uow, c.actor, cb.code)
    loc, region, tot, new = locale(), s.region, s.total, s.new_today
    body = [
        [r.name(loc), r.shortage_headcount, r.idle_headcount, f"{r.balance:+d}"] for r in s.rows
    ]
    body = _with_total(
        body, region.level, tot.shortage_headcount, tot.idle_headcount, f"{tot.balance:+d}"
    )
    head = [_("regulator.col.area"), _("regulator.col.shortage"), _("regulator.col.idle")]
    coverage = await reporting_coverage.region_coverage(c.uow, c.actor, cb.code)
    lines = [
        tr("regulator.summary.title", region=region.name(loc), day=s.day.isoformat()),
        Safe(pre_table([*head, _("regulator.col.balance")], body)),
        tr(
            "regulator.summary.new_today",
            sp=new.shortage_postings,
            sh=new.shortage_headcount,
            ip=new.idle_postings,
            ih=new.idle_headcount,
        ),
        *_coverage_lines(coverage, region.level),
    ]
    drill = []
    if region.level is not RegionLevel.COUNTY:
        lines.append(_("regulator.summary.drill_hint"))
        drill = [button(row.name(loc), SumCb(code=row.code)) for row in s.rows]
    nav = [
        button(_("regulator.summary.top"), TopCb(code=region.code)),
        button(_("regulator.summary.stats"), StatCb(code=region.code)),
        button(_("regulator.coverage.silent_button"), SilentCb(code=region.code)),
    ]
    bottom = [export_button(ExportCb(table="s", code=region.code))]
    parent = region.parent_code
    if parent and region.code != c.home and region_scope.in_scope(c.actor, parent):
        bottom.append(button(_("regulator.up"), SumCb(code=parent)))
    return "\n".join(lines), markup(*rows(drill), nav, bottom)


def _coverage_lines(coverage: reporting_coverage.RegionCoverage, level: RegionLevel) -> list[str]:
    """上报率 per sub-region (a table of its own: the summary table is full at 24 columns)."""
    loc = locale()

    def rate(area: reporting_coverage.AreaCoverage) -> str:
        return "—" if area.rate is None else pct(area.rate)

    body = [[area.name(loc), area.live_projects, rate(area)] for area in coverage.rows]
    body = _with_total(body, level, coverage.total.live_projects, rate(coverage.total))
    head = [
        _("regulator.col.area"),
        _("regulator.coverage.col_projects"),
        _("regulator.coverage.col_rate"),
    ]
    days, silent = reporting_coverage.REPORTED_DAYS, reporting_coverage.SILENT_DAYS
    return [
        tr("regulator.coverage.title", days=days),
        Safe(pre_table(head, body)),
        tr("regulator.coverage.silent", n=coverage.silent_projects, days=silent),
    ]


@screen(TopCb)
async def top(c: Ctx, cb: TopCb) -> Reply:
    """The top-50 enterprises by credit, ten a page."""
    ranked = await credit_ranking.top_enterprises(c.uow, c.actor, cb.code)
    region = await get_region(c.uow, cb.code)
    loc = locale()
    pages = max(1, -(-len(ranked) // PAGE))
    page = min(max(0, cb.page), pages - 1)
    chunk = ranked[page * PAGE : (page + 1) * PAGE]
    n = len(ranked)
    lines = [tr("regulator.top.title", region=region.name(loc), n=n, page=page + 1, pages=pages)]
    if not chunk:
        lines.append(_("regulator.top.empty"))
    for e in chunk:
        lines.append(
            tr(
                "regulator.top.line",
                rank=e.rank,
                name=clip(e.name, 24),
                grade=e.credit_grade,
                score=e.credit_score,
                county=e.county_name(loc),
                short=e.shortage_headcount,
                idle=e.idle_headcount,
            )
        )
        if e.breakdown:  # the components of the last daily credit run
            parts = ("fulfilment", "payment", "ratings", "arrears", "no_shows")
            lines.append(tr("credit.breakdown", **{k: e.breakdown.get(k, "-") for k in parts}))
    prev = TopCb(code=cb.code, page=page - 1) if page > 0 else None
    nxt = TopCb(code=cb.code, page=page + 1) if page + 1 < pages else None
    back = button(_("regulator.back"), SumCb(code=cb.code))
    keyboard = markup(pager(prev, nxt), [export_button(ExportCb(table="n", code=cb.code)), back])
    return "\n".join(lines), keyboard


def stats_table(matrix: tuple[summaries.TradeGradeCell, ...], loc: str) -> str:
    """Trades down, grades across, each cell "short/idle" (blank: neither)."""
    levels = sorted({c.grade_level for c in matrix})
    by_trade: dict[str, dict[int, summaries.TradeGradeCell]] = {}
    names: dict[str, str] = {}
    for cell in matrix:  # already in trade order
        by_trade.setdefault(cell.trade_code, {})[cell.grade_level] = cell
        names[cell.trade_code] = cell.trade_name_zh if loc.startswith("zh") else cell.trade_name_en
    body: list[list[object]] = []
    for trade, cells in by_trade.items():
        found = [cells.get(level) for level in levels]
        short = sum(c.shortage for c in cells.values())
        idle = sum(c.idle for c in cells.values())
        body.append(
            [
                clip(names[trade], NAME_WIDTH),
                *(f"{f.shortage}/{f.idle}" if f else "" for f in found),
                f"{short}/{idle}",
            ]
        )
    return pre_table(
        [_("regulator.col.trade"), *grade_columns(levels), _("regulator.total")], body
    )


def grade_columns(levels: list[int]) -> list[str]:
    return [tr("regulator.stats.grade_col", level=level) for level in levels]


@screen(StatCb, STATISTICS, lambda c: StatCb(code=c.home))
async def stats(c: Ctx, cb: StatCb) -> Reply:
    s = await summaries.regional_summary(c.uow, c.actor, cb.code)
    lines = [tr("regulator.stats.title", region=s.region.name(locale()))]
    if s.matrix:
        lines += [_("regulator.stats.legend"), Safe(stats_table(s.matrix, locale()))]
    else:
        lines.append(_("regulator.stats.empty"))
    short, idle = sum(x.shortage for x in s.matrix), sum(x.idle for x in s.matrix)
    lines.append(tr("regulator.stats.totals", short=short, idle=idle))
    code = s.region.code
    back = button(_("regulator.summary.back"), SumCb(code=code))
    return "\n".join(lines), markup([export_button(ExportCb(table="t", code=code)), back])


@screen(SilentCb)
async def silent(c: Ctx, cb: SilentCb) -> Reply:
    """采集上报率: the projects of a region silent for 30 days."""
    page = await reporting_coverage.silent_projects(
        c.uow, c.actor, cb.code, cursor=cb.cursor or None, limit=PAGE
    )
    region = await get_region(c.uow, cb.code)
    loc, days = locale(), reporting_coverage.SILENT_DAYS
    lines = [tr("regulator.coverage.silent_title", region=region.name(loc), days=days)]
    if not page.items:
        lines.append(_("regulator.coverage.silent_empty"))
    for item in page.items:
        lines.append(
            tr(
                "regulator.coverage.silent_line",
                name=clip(item.name, NAME_WIDTH),
                enterprise=clip(item.enterprise_name, NAME_WIDTH),
                county=item.county_name(loc),
                days=item.silent_days,
            )
        )
    back = [button(_("regulator.back"), SumCb(code=cb.code))]
    return "\n".join(lines), markup(
        paging(page, lambda at: SilentCb(code=cb.code, cursor=at)), back
    )
