"""📊 汇总 (shortage vs idle per sub-region, drill-down, top-50 by credit) and 📈 统计
(trade × grade)."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from bot.handlers.regulator.common import Event, clip, home, locale, pct, pre_table, show
from bot.i18n import Safe, tr
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
from core.db.uow import UnitOfWork
from core.domain.enums import RegionLevel
from core.services import credit_ranking, region_scope, reporting_coverage, summaries
from core.services.accounts import AccountView
from core.services.regions import get_region

TOP_PAGE = 10
NAME_WIDTH = 14  # characters of an enterprise or trade name in a narrow line


# --- 汇总 ------------------------------------------------------------------------------------


async def _summary(event: Event, uow: UnitOfWork, account: AccountView, code: str) -> None:
    actor = account.actor()
    summary = await summaries.regional_summary(uow, actor, code)
    loc = locale()
    region = summary.region
    body: list[list[object]] = [
        [row.name(loc), row.shortage_headcount, row.idle_headcount, f"{row.balance:+d}"]
        for row in summary.rows
    ]
    if region.level is not RegionLevel.COUNTY:
        total = summary.total
        body.append(
            [_("regulator.total"), total.shortage_headcount, total.idle_headcount,
             f"{total.balance:+d}"]
        )  # fmt: skip
    table = pre_table(
        [
            _("regulator.col.area"),
            _("regulator.col.shortage"),
            _("regulator.col.idle"),
            _("regulator.col.balance"),
        ],
        body,
    )
    new = summary.new_today
    coverage = await reporting_coverage.region_coverage(uow, actor, code)
    lines = [
        tr("regulator.summary.title", region=region.name(loc), day=summary.day.isoformat()),
        Safe(table),
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
        drill = [button(row.name(loc), SumCb(code=row.code)) for row in summary.rows]
    nav = [
        button(_("regulator.summary.top"), TopCb(code=region.code)),
        button(_("regulator.summary.stats"), StatCb(code=region.code)),
        button(_("regulator.coverage.silent_button"), SilentCb(code=region.code)),
    ]
    bottom = [export_button(ExportCb(table="s", code=region.code))]
    if (
        region.parent_code
        and region.code != home(account)
        and region_scope.in_scope(actor, region.parent_code)
    ):
        bottom.append(button(_("regulator.up"), SumCb(code=region.parent_code)))
    await show(event, "\n".join(lines), markup(*rows(drill), nav, bottom))


def _coverage_lines(coverage: reporting_coverage.RegionCoverage, level: RegionLevel) -> list[str]:
    """上报率 per sub-region (a table of its own: the summary table is full at 24 columns)."""
    loc = locale()

    def rate(area: reporting_coverage.AreaCoverage) -> str:
        return "—" if area.rate is None else pct(area.rate)

    body: list[list[object]] = [
        [area.name(loc), area.live_projects, rate(area)] for area in coverage.rows
    ]
    if level is not RegionLevel.COUNTY:
        total = coverage.total
        body.append([_("regulator.total"), total.live_projects, rate(total)])
    head = [
        _("regulator.col.area"),
        _("regulator.coverage.col_projects"),
        _("regulator.coverage.col_rate"),
    ]
    return [
        tr("regulator.coverage.title", days=reporting_coverage.REPORTED_DAYS),
        Safe(pre_table(head, body)),
        tr(
            "regulator.coverage.silent",
            n=coverage.silent_projects,
            days=reporting_coverage.SILENT_DAYS,
        ),
    ]


async def summary_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    await state.set_state(None)
    await _summary(message, uow, account, home(account))


async def summary_tap(
    query: CallbackQuery, callback_data: SumCb, uow: UnitOfWork, account: AccountView
) -> None:
    await _summary(query, uow, account, callback_data.code)


# --- top-50 enterprises by credit -----------------------------------------------------------


async def top_tap(
    query: CallbackQuery, callback_data: TopCb, uow: UnitOfWork, account: AccountView
) -> None:
    code = callback_data.code
    actor = account.actor()
    top = await credit_ranking.top_enterprises(uow, actor, code)
    region = await get_region(uow, code)
    loc = locale()
    pages = max(1, -(-len(top) // TOP_PAGE))
    page = min(max(0, callback_data.page), pages - 1)
    chunk = top[page * TOP_PAGE : (page + 1) * TOP_PAGE]
    lines = [
        tr(
            "regulator.top.title",
            region=region.name(loc),
            n=len(top),
            page=page + 1,
            pages=pages,
        )
    ]
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
            lines.append(
                tr(
                    "credit.breakdown",
                    fulfilment=e.breakdown.get("fulfilment", "-"),
                    payment=e.breakdown.get("payment", "-"),
                    ratings=e.breakdown.get("ratings", "-"),
                    arrears=e.breakdown.get("arrears", "-"),
                    no_shows=e.breakdown.get("no_shows", "-"),
                )
            )
    prev = TopCb(code=code, page=page - 1) if page > 0 else None
    nxt = TopCb(code=code, page=page + 1) if page + 1 < pages else None
    keyboard = markup(
        pager(prev, nxt),
        [
            export_button(ExportCb(table="n", code=code)),
            button(_("regulator.back"), SumCb(code=code)),
        ],
    )
    await show(query, "\n".join(lines), keyboard)


# --- 统计 ------------------------------------------------------------------------------------


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
        row: list[object] = [clip(names[trade], NAME_WIDTH)]
        for level in levels:
            found = cells.get(level)
            row.append(f"{found.shortage}/{found.idle}" if found else "")
        short = sum(c.shortage for c in cells.values())
        idle = sum(c.idle for c in cells.values())
        row.append(f"{short}/{idle}")
        body.append(row)
    headers = [
        _("regulator.col.trade"),
        *(tr("regulator.stats.grade_col", level=level) for level in levels),
        _("regulator.total"),
    ]
    return pre_table(headers, body)


async def _stats(event: Event, uow: UnitOfWork, account: AccountView, code: str) -> None:
    summary = await summaries.regional_summary(uow, account.actor(), code)
    loc = locale()
    lines = [tr("regulator.stats.title", region=summary.region.name(loc))]
    if summary.matrix:
        lines += [_("regulator.stats.legend"), Safe(stats_table(summary.matrix, loc))]
    else:
        lines.append(_("regulator.stats.empty"))
    lines.append(
        tr(
            "regulator.stats.totals",
            short=sum(c.shortage for c in summary.matrix),
            idle=sum(c.idle for c in summary.matrix),
        )
    )
    keyboard = markup(
        [
            export_button(ExportCb(table="t", code=summary.region.code)),
            button(_("regulator.summary.back"), SumCb(code=summary.region.code)),
        ]
    )
    await show(event, "\n".join(lines), keyboard)


async def stats_menu(
    message: Message, uow: UnitOfWork, account: AccountView, state: FSMContext
) -> None:
    await state.set_state(None)
    await _stats(message, uow, account, home(account))


async def stats_tap(
    query: CallbackQuery, callback_data: StatCb, uow: UnitOfWork, account: AccountView
) -> None:
    await _stats(query, uow, account, callback_data.code)


# --- 采集上报率: projects silent for 30 days ---------------------------------------------------

SILENT_PAGE = 10


async def silent_tap(
    query: CallbackQuery, callback_data: SilentCb, uow: UnitOfWork, account: AccountView
) -> None:
    code, cursor = callback_data.code, callback_data.cursor
    page = await reporting_coverage.silent_projects(
        uow, account.actor(), code, cursor=cursor or None, limit=SILENT_PAGE
    )
    region = await get_region(uow, code)
    loc = locale()
    lines = [
        tr(
            "regulator.coverage.silent_title",
            region=region.name(loc),
            days=reporting_coverage.SILENT_DAYS,
        )
    ]
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
    prev = SilentCb(code=code, cursor=page.prev_cursor) if page.prev_cursor is not None else None
    nxt = SilentCb(code=code, cursor=page.next_cursor) if page.next_cursor is not None else None
    back = [button(_("regulator.back"), SumCb(code=code))]
    await show(query, "\n".join(lines), markup(pager(prev, nxt), back))
