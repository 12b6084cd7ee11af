"""📥 Excel: the table a screen shows, as an .xlsx document (every row, not just the page).

`build_export` reads through the same scoped core queries as the screens, so an export of a
region outside the regulator's scope is refused exactly like the screen. Each table is a list
of columns: a header msgid, how to read the cell from a row, and its Excel number format."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from bot.handlers.regulator.common import Ctx, locale, screen, send_file
from bot.handlers.regulator.lists import GROUPS
from bot.i18n import N_, t
from bot.keyboards.regulator import ExportCb
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import RegionLevel
from core.domain.errors import ValidationError
from core.domain.ranges import preset_span
from core.domain.timeutil import local_date
from core.reports.xlsx import DATE, DATETIME, MONEY, PERCENT, Cell, Sheet, workbook_bytes
from core.services import (
    credit_ranking,
    deals,
    guide_prices,
    open_shortages,
    ratings,
    reference_choices,
    region_scope,
    summaries,
)
from core.services.paging import Page
from core.services.regions import get_region

EXPORT_MAX_ROWS = 5000  # a sheet a bureau can still open on an old office PC
_PAGE = 50
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Col:
    title: str  # a msgid
    cell: Callable[[Any], Cell]
    format: str | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    """One export asked for: the table's region `code` and its screen's filters `a`, `b`."""

    uow: UnitOfWork
    actor: Actor
    loc: str
    code: str
    a: str
    b: str

    async def trades(self) -> dict[str, str]:
        return {c.code: c.name(self.loc) for c in await reference_choices.trade_choices(self.uow)}


Table = tuple[str, Sheet]


def _table(ask: Ask, title: str, columns: Sequence[Col], rows: Sequence[Any]) -> Table:
    name = t(title, ask.loc)
    headers = [t(col.title, ask.loc) for col in columns]
    body = [[col.cell(row) for col in columns] for row in rows[:EXPORT_MAX_ROWS]]
    formats = {i: col.format for i, col in enumerate(columns) if col.format}
    return name, Sheet(name, headers, body, formats=formats)


async def every_row(fetch: Callable[[str | None], Awaitable[Page[T]]]) -> list[T]:
    """The rows of a paged core query, page after page, up to EXPORT_MAX_ROWS."""
    rows: list[T] = []
    cursor: str | None = None
    while len(rows) < EXPORT_MAX_ROWS:
        page = await fetch(cursor)
        rows += page.items
        cursor = page.next_cursor
        if cursor is None:
            break
    return rows[:EXPORT_MAX_ROWS]


def _filename(title: str, region: str, day: date) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in f"{title}_{region}")
    return f"{safe}_{day.isoformat()}.xlsx"


async def _summary(ask: Ask) -> Table:
    s = await summaries.regional_summary(ask.uow, ask.actor, ask.code)
    total = [] if s.region.level is RegionLevel.COUNTY else [s.total]

    def area(row: summaries.AreaRow) -> str:
        return t("regulator.total", ask.loc) if row is s.total else row.name(ask.loc)

    columns = [
        Col(N_("regulator.col.code"), lambda r: r.code),
        Col(N_("regulator.col.area"), area),
        Col(N_("regulator.col.shortage_postings"), lambda r: r.shortage_postings),
        Col(N_("regulator.col.shortage"), lambda r: r.shortage_headcount),
        Col(N_("regulator.col.idle_postings"), lambda r: r.idle_postings),
        Col(N_("regulator.col.idle"), lambda r: r.idle_headcount),
        Col(N_("regulator.col.balance"), lambda r: r.balance),
    ]
    return _table(ask, N_("regulator.file.summary"), columns, [*s.rows, *total])


async def _top(ask: Ask) -> Table:
    columns = [
        Col(N_("regulator.col.rank"), lambda e: e.rank),
        Col(N_("regulator.col.enterprise"), lambda e: e.name),
        Col(N_("regulator.col.area"), lambda e: e.county_name(ask.loc)),
        Col(N_("regulator.col.credit_score"), lambda e: e.credit_score),
        Col(N_("regulator.col.credit_grade"), lambda e: e.credit_grade),
        Col(N_("regulator.col.shortage"), lambda e: e.shortage_headcount),
        Col(N_("regulator.col.idle"), lambda e: e.idle_headcount),
    ]
    ranked = await credit_ranking.top_enterprises(ask.uow, ask.actor, ask.code)
    return _table(ask, N_("regulator.file.top"), columns, ranked)


async def _stats(ask: Ask) -> Table:
    zh = ask.loc.startswith("zh")
    columns = [
        Col(N_("regulator.col.trade"), lambda c: c.trade_name_zh if zh else c.trade_name_en),
        Col(N_("regulator.col.grade"), lambda c: c.grade_name_zh if zh else c.grade_name_en),
        Col(N_("regulator.col.shortage"), lambda c: c.shortage),
        Col(N_("regulator.col.idle"), lambda c: c.idle),
    ]
    s = await summaries.regional_summary(ask.uow, ask.actor, ask.code)
    return _table(ask, N_("regulator.file.stats"), columns, s.matrix)


async def _shortages(ask: Ask) -> Table:
    if ask.a not in GROUPS:
        raise ValidationError("error.invalid")

    async def fetch(cursor: str | None) -> Page[open_shortages.ShortageGroup]:
        found = await open_shortages.open_shortages(
            ask.uow, ask.actor, ask.code, group=GROUPS[ask.a], cursor=cursor, limit=_PAGE
        )
        return found.page

    by_project = ask.a == "p"
    columns = [
        Col(
            N_("regulator.col.project") if by_project else N_("regulator.col.enterprise"),
            lambda g: g.name,
        ),
        *(
            [Col(N_("regulator.col.enterprise"), lambda g: g.enterprise_name)]
            if by_project
            else []
        ),
        Col(N_("regulator.col.area"), lambda g: g.county_name(ask.loc)),
        Col(N_("regulator.col.postings"), lambda g: g.postings),
        Col(N_("regulator.col.shortage"), lambda g: g.open_headcount),
        Col(N_("regulator.col.oldest"), lambda g: g.oldest_at, DATETIME),
        Col(N_("regulator.col.days_open"), lambda g: g.days_open),
        Col(
            N_("regulator.col.trades"),
            lambda g: ", ".join(f"{x.name(ask.loc)} {x.headcount}" for x in g.trades),
        ),
    ]
    return _table(ask, N_("regulator.file.shortages"), columns, await every_row(fetch))


async def _deals(ask: Ask) -> Table:
    region_scope.require_scope(ask.actor, ask.code)
    start, end = preset_span(ask.a, local_date(ask.uow.now()))

    async def fetch(cursor: str | None) -> Page[deals.DealRecord]:
        found = await deals.deal_records(
            ask.uow,
            ask.actor,
            region_code=ask.code,
            date_from=start,
            date_to=end,
            trade_code=ask.b or None,
            cursor=cursor,
            limit=_PAGE,
        )
        return found.page

    records = await every_row(fetch)
    trades = await ask.trades()
    areas = {}
    for code in {ask.code, *(r.county_code for r in records)}:
        areas[code] = (await get_region(ask.uow, code)).name(ask.loc)
    columns = [
        Col(N_("regulator.col.time"), lambda r: r.accepted_at, DATETIME),
        Col(N_("regulator.col.enterprise"), lambda r: r.enterprise_name),
        Col(N_("regulator.col.supplier"), lambda r: r.supplier_name),
        Col(N_("regulator.col.trade"), lambda r: trades.get(r.trade_code, r.trade_code)),
        Col(N_("regulator.col.headcount"), lambda r: r.headcount),
        Col(N_("regulator.col.person_days"), lambda r: r.person_days),
        Col(N_("regulator.col.price"), lambda r: r.price, MONEY),
        Col(N_("regulator.col.area"), lambda r: areas[r.county_code]),
    ]
    return _table(ask, N_("regulator.file.deals"), columns, records)


async def _ratings(ask: Ask) -> Table:
    region_scope.require_scope(ask.actor, ask.code)
    stats = await every_row(
        lambda cursor: ratings.worker_rating_stats(
            ask.uow, ask.actor, region_code=ask.code, cursor=cursor, limit=_PAGE
        )
    )
    trades = await ask.trades()
    columns = [
        Col(N_("regulator.col.worker"), lambda s: s.name),
        Col(N_("regulator.col.id_masked"), lambda s: s.id_masked),
        Col(N_("regulator.col.enterprise"), lambda s: s.enterprise_name),
        Col(N_("regulator.col.trade"), lambda s: trades.get(s.trade_code, s.trade_code)),
        Col(N_("regulator.col.ratings"), lambda s: s.rating_count),
        Col(N_("regulator.col.average"), lambda s: s.average),
        # percent cells hold fractions
        Col(N_("regulator.col.unsatisfied"), lambda s: s.unsatisfied_pct / 100, PERCENT),
        Col(N_("regulator.col.fair"), lambda s: s.fair_pct / 100, PERCENT),
        Col(N_("regulator.col.satisfied"), lambda s: s.satisfied_pct / 100, PERCENT),
        Col(N_("regulator.col.very_satisfied"), lambda s: s.very_satisfied_pct / 100, PERCENT),
    ]
    return _table(ask, N_("regulator.file.ratings"), columns, stats)


async def _guide(ask: Ask) -> Table:
    prices = await guide_prices.city_guide_prices(ask.uow, ask.actor, ask.code)
    trades = await ask.trades()
    grade_choices = await reference_choices.grade_choices(ask.uow)
    grades = {int(c.code): c.name(ask.loc) for c in grade_choices}
    columns = [
        Col(N_("regulator.col.trade"), lambda c: trades.get(c.trade_code, c.trade_code)),
        Col(N_("regulator.col.grade"), lambda c: grades.get(c.grade_level, c.grade_level)),
        Col(N_("regulator.col.guide_price"), lambda c: c.price, MONEY),
        Col(N_("regulator.col.effective"), lambda c: c.effective_date, DATE),
    ]
    return _table(ask, N_("regulator.file.guide"), columns, prices.cells)


BUILDERS: dict[str, Callable[[Ask], Awaitable[Table]]] = {
    "s": _summary,
    "n": _top,
    "t": _stats,
    "o": _shortages,
    "d": _deals,
    "r": _ratings,
    "p": _guide,
}


async def build_export(
    uow: UnitOfWork, actor: Actor, loc: str, table: str, code: str, a: str = "", b: str = ""
) -> tuple[str, bytes]:
    """(file name, .xlsx bytes) of one table; scope is checked by the core queries."""
    builder = BUILDERS.get(table)
    if builder is None:
        raise ValidationError("error.invalid")
    title, sheet = await builder(Ask(uow, actor, loc, code, a, b))
    region = await get_region(uow, code)
    return _filename(title, region.name(loc), local_date(uow.now())), workbook_bytes([sheet])


@screen(ExportCb)
async def export(c: Ctx, cb: ExportCb) -> None:
    loc = locale()
    name, data = await build_export(c.uow, c.actor, loc, cb.table, cb.code, cb.a, cb.b)
    await send_file(c, data, name, t("regulator.export.caption", loc, name=name))
