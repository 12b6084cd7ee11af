"""📥 Excel: the table a screen shows, as an .xlsx document (every row, not just the page).

`build_export` reads through the same scoped core queries as the screens, so an export of a
region outside the regulator's scope is refused exactly like the screen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

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


Builder = Callable[[UnitOfWork, Actor, str, str, str, str], Awaitable[tuple[str, Sheet]]]


async def _summary(
    uow: UnitOfWork, actor: Actor, loc: str, code: str, _a: str, _b: str
) -> tuple[str, Sheet]:
    s = await summaries.regional_summary(uow, actor, code)
    body: list[list[Cell]] = [
        [r.code, r.name(loc), r.shortage_postings, r.shortage_headcount, r.idle_postings,
         r.idle_headcount, r.balance]
        for r in s.rows
    ]  # fmt: skip
    if s.region.level is not RegionLevel.COUNTY:
        tot = s.total
        body.append(
            [tot.code, t("regulator.total", loc), tot.shortage_postings, tot.shortage_headcount,
             tot.idle_postings, tot.idle_headcount, tot.balance]
        )  # fmt: skip
    headers = [
        t("regulator.col.code", loc),
        t("regulator.col.area", loc),
        t("regulator.col.shortage_postings", loc),
        t("regulator.col.shortage", loc),
        t("regulator.col.idle_postings", loc),
        t("regulator.col.idle", loc),
        t("regulator.col.balance", loc),
    ]
    title = t("regulator.file.summary", loc)
    return title, Sheet(title, headers, body)


async def _top(
    uow: UnitOfWork, actor: Actor, loc: str, code: str, _a: str, _b: str
) -> tuple[str, Sheet]:
    top = await credit_ranking.top_enterprises(uow, actor, code)
    headers = [
        t("regulator.col.rank", loc),
        t("regulator.col.enterprise", loc),
        t("regulator.col.area", loc),
        t("regulator.col.credit_score", loc),
        t("regulator.col.credit_grade", loc),
        t("regulator.col.shortage", loc),
        t("regulator.col.idle", loc),
    ]
    body: list[list[Cell]] = [
        [e.rank, e.name, e.county_name(loc), e.credit_score, e.credit_grade,
         e.shortage_headcount, e.idle_headcount]
        for e in top
    ]  # fmt: skip
    title = t("regulator.file.top", loc)
    return title, Sheet(title, headers, body)


async def _stats(
    uow: UnitOfWork, actor: Actor, loc: str, code: str, _a: str, _b: str
) -> tuple[str, Sheet]:
    s = await summaries.regional_summary(uow, actor, code)
    zh = loc.startswith("zh")
    headers = [
        t("regulator.col.trade", loc),
        t("regulator.col.grade", loc),
        t("regulator.col.shortage", loc),
        t("regulator.col.idle", loc),
    ]
    body: list[list[Cell]] = [
        [c.trade_name_zh if zh else c.trade_name_en, c.grade_name_zh if zh else c.grade_name_en,
         c.shortage, c.idle]
        for c in s.matrix
    ]  # fmt: skip
    title = t("regulator.file.stats", loc)
    return title, Sheet(title, headers, body)


async def _shortages(
    uow: UnitOfWork, actor: Actor, loc: str, code: str, group: str, _b: str
) -> tuple[str, Sheet]:
    if group not in GROUPS:
        raise ValidationError("error.invalid")

    async def fetch(cursor: str | None) -> Page[open_shortages.ShortageGroup]:
        kind = GROUPS[group]
        found = await open_shortages.open_shortages(
            uow, actor, code, group=kind, cursor=cursor, limit=_PAGE
        )
        return found.page

    items = await every_row(fetch)
    by_project = group == "p"
    headers = [
        t(N_("regulator.col.project") if by_project else N_("regulator.col.enterprise"), loc),
        *([t("regulator.col.enterprise", loc)] if by_project else []),
        t("regulator.col.area", loc),
        t("regulator.col.postings", loc),
        t("regulator.col.shortage", loc),
        t("regulator.col.oldest", loc),
        t("regulator.col.days_open", loc),
        t("regulator.col.trades", loc),
    ]
    body: list[list[Cell]] = []
    for g in items:
        trades = ", ".join(f"{x.name(loc)} {x.headcount}" for x in g.trades)
        body.append(
            [g.name, *([g.enterprise_name] if by_project else []), g.county_name(loc),
             g.postings, g.open_headcount, g.oldest_at, g.days_open, trades]
        )  # fmt: skip
    title = t("regulator.file.shortages", loc)
    oldest = 5 if by_project else 4
    return title, Sheet(title, headers, body, formats={oldest: DATETIME})


async def _deals(
    uow: UnitOfWork, actor: Actor, loc: str, code: str, span: str, trade: str
) -> tuple[str, Sheet]:
    region_scope.require_scope(actor, code)
    start, end = preset_span(span, local_date(uow.now()))

    async def fetch(cursor: str | None) -> Page[deals.DealRecord]:
        found = await deals.deal_records(
            uow,
            actor,
            region_code=code,
            date_from=start,
            date_to=end,
            trade_code=trade or None,
            cursor=cursor,
            limit=_PAGE,
        )
        return found.page

    records = await every_row(fetch)
    trades = {c.code: c.name(loc) for c in await reference_choices.trade_choices(uow)}
    names = {r.code: r.name(loc) for r in [await get_region(uow, code)]}
    headers = [
        t("regulator.col.time", loc),
        t("regulator.col.enterprise", loc),
        t("regulator.col.supplier", loc),
        t("regulator.col.trade", loc),
        t("regulator.col.headcount", loc),
        t("regulator.col.person_days", loc),
        t("regulator.col.price", loc),
        t("regulator.col.area", loc),
    ]
    body: list[list[Cell]] = []
    for r in records:
        if r.county_code not in names:
            names[r.county_code] = (await get_region(uow, r.county_code)).name(loc)
        body.append(
            [r.accepted_at, r.enterprise_name, r.supplier_name,
             trades.get(r.trade_code, r.trade_code), r.headcount, r.person_days, r.price,
             names[r.county_code]]
        )  # fmt: skip
    title = t("regulator.file.deals", loc)
    return title, Sheet(title, headers, body, formats={0: DATETIME, 6: MONEY})


async def _ratings(
    uow: UnitOfWork, actor: Actor, loc: str, code: str, _a: str, _b: str
) -> tuple[str, Sheet]:
    region_scope.require_scope(actor, code)
    stats = await every_row(
        lambda cursor: ratings.worker_rating_stats(
            uow, actor, region_code=code, cursor=cursor, limit=_PAGE
        )
    )
    trades = {c.code: c.name(loc) for c in await reference_choices.trade_choices(uow)}
    headers = [
        t("regulator.col.worker", loc),
        t("regulator.col.id_masked", loc),
        t("regulator.col.enterprise", loc),
        t("regulator.col.trade", loc),
        t("regulator.col.ratings", loc),
        t("regulator.col.average", loc),
        t("regulator.col.unsatisfied", loc),
        t("regulator.col.fair", loc),
        t("regulator.col.satisfied", loc),
        t("regulator.col.very_satisfied", loc),
    ]
    body: list[list[Cell]] = [
        [s.name, s.id_masked, s.enterprise_name, trades.get(s.trade_code, s.trade_code),
         s.rating_count, s.average, s.unsatisfied_pct / 100, s.fair_pct / 100,
         s.satisfied_pct / 100, s.very_satisfied_pct / 100]
        for s in stats
    ]  # fmt: skip
    title = t("regulator.file.ratings", loc)
    formats = {6: PERCENT, 7: PERCENT, 8: PERCENT, 9: PERCENT}
    return title, Sheet(title, headers, body, formats=formats)


async def _guide(
    uow: UnitOfWork, actor: Actor, loc: str, code: str, _a: str, _b: str
) -> tuple[str, Sheet]:
    prices = await guide_prices.city_guide_prices(uow, actor, code)
    trades = {c.code: c.name(loc) for c in await reference_choices.trade_choices(uow)}
    grades = {int(c.code): c.name(loc) for c in await reference_choices.grade_choices(uow)}
    headers = [
        t("regulator.col.trade", loc),
        t("regulator.col.grade", loc),
        t("regulator.col.guide_price", loc),
        t("regulator.col.effective", loc),
    ]
    body: list[list[Cell]] = [
        [trades.get(c.trade_code, c.trade_code), grades.get(c.grade_level, c.grade_level),
         c.price, c.effective_date]
        for c in prices.cells
    ]  # fmt: skip
    title = t("regulator.file.guide", loc)
    return title, Sheet(title, headers, body, formats={2: MONEY, 3: DATE})


BUILDERS: dict[str, Builder] = {
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
    title, sheet = await builder(uow, actor, loc, code, a, b)
    region = await get_region(uow, code)
    name = _filename(title, region.name(loc), local_date(uow.now()))
    return name, workbook_bytes([sheet])


@screen(ExportCb)
async def export(c: Ctx, cb: ExportCb) -> None:
    loc = locale()
    name, data = await build_export(c.uow, c.actor, loc, cb.table, cb.code, cb.a, cb.b)
    await send_file(c, data, name, t("regulator.export.caption", loc, name=name))
