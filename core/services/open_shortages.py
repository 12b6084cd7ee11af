"""Open shortages of a region grouped by enterprise or by project (the seed's screens 3 and 4)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, select

from core.db.models import (
    Enterprise,
    Project,
    ShortagePosting,
    Trade,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.errors import ValidationError
from core.domain.timeutil import as_utc, local_date
from core.services.paging import (
    Page,
    decode_id_cursor,
    encode_id_cursor,
    page_size,
)
from core.services.posting_state import open_clause, open_headcount
from core.services.reference_choices import region_names
from core.services.region_scope import require_scope
from core.services.regions import (
    region_filter,
)

ShortageGrouping = Literal["enterprise", "project"]


@dataclass(frozen=True, slots=True)
class TradeOpen:
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    headcount: int

    def name(self, locale: str) -> str:
        return self.trade_name_zh if locale.startswith("zh") else self.trade_name_en


@dataclass(frozen=True, slots=True)
class ShortageGroup:
    """The open shortages of one enterprise (or one project) in one county of the scope."""

    group: str  # "enterprise" | "project"
    id: int  # enterprise id or project id
    name: str  # the enterprise's or the project's name
    enterprise_name: str
    county_code: str  # the projects' county
    county_name_zh: str
    county_name_en: str
    postings: int
    open_headcount: int
    oldest_at: datetime  # the oldest live posting of the group
    days_open: int  # Shanxi calendar days since then
    trades: tuple[TradeOpen, ...]  # open headcount per trade, largest first

    def county_name(self, locale: str) -> str:
        return self.county_name_zh if locale.startswith("zh") else self.county_name_en


@dataclass(frozen=True, slots=True)
class ShortageGroupPage:
    page: Page[ShortageGroup]
    total_groups: int
    total_postings: int
    total_headcount: int


async def open_shortages(
    uow: UnitOfWork,
    actor: Actor,
    region_code: str,
    *,
    group: ShortageGrouping = "enterprise",
    cursor: str | None = None,
    limit: int | None = None,
) -> ShortageGroupPage:
    """Open shortages in the region grouped by enterprise (per project county) or project,
    the oldest group first.

    Pages by offset (the order is over an aggregate): the cursor encodes the offset."""
    code = require_scope(actor, region_code)
    if group not in ("enterprise", "project"):
        raise ValidationError("error.invalid")
    size = page_size(limit)
    offset = decode_id_cursor(cursor) if cursor else 0
    if offset < 0:
        raise ValidationError("error.bad_cursor")
    s = ShortagePosting
    live = and_(open_clause(s, uow.now()), region_filter(code, s))
    open_count = func.sum(open_headcount(s))
    oldest = func.min(s.created_at)
    # a group lies in one county: the project's (the posting's), not where the company is
    # registered, so a Taiyuan company's project in 屯留区 is listed under 长治 / 屯留区
    county = s.county_code
    if group == "enterprise":
        key: Any = s.enterprise_id
        stmt = select(key, county, Enterprise.name, Enterprise.name.label("owner"))
        stmt = stmt.join(Enterprise, Enterprise.id == s.enterprise_id)
        group_by: tuple[Any, ...] = (key, county, Enterprise.name)
    else:
        key = s.project_id
        stmt = select(key, county, Project.name, Enterprise.name)
        stmt = stmt.join(Project, Project.id == s.project_id).join(
            Enterprise, Enterprise.id == s.enterprise_id
        )
        group_by = (key, county, Project.name, Enterprise.name)
    stmt = (
        stmt.add_columns(func.count(), open_count, oldest)
        .where(live)
        .group_by(*group_by)
        .order_by(oldest.asc(), key.asc(), county.asc())
    )
    rows = (await uow.session.execute(stmt.offset(offset).limit(size + 1))).all()
    more = len(rows) > size
    rows = rows[:size]
    groups = select(key, county).where(live).group_by(key, county).subquery()
    total_groups = await uow.session.scalar(select(func.count()).select_from(groups))
    total_postings, total_headcount = (
        await uow.session.execute(select(func.count(), func.coalesce(open_count, 0)).where(live))
    ).one()
    trades = await _trades_of(uow, key, [r[0] for r in rows], live)
    names = await region_names(uow, [r[1] for r in rows])
    today = local_date(uow.now())
    items = tuple(
        ShortageGroup(
            group=group,
            id=row_id,
            name=name,
            enterprise_name=enterprise_name,
            county_code=county_code,
            county_name_zh=names.get(county_code, (county_code, ""))[0],
            county_name_en=names.get(county_code, ("", county_code))[1],
            postings=int(postings),
            open_headcount=int(headcount or 0),
            oldest_at=as_utc(first),
            days_open=(today - local_date(as_utc(first))).days,
            trades=trades.get((row_id, county_code), ()),
        )
        for row_id, county_code, name, enterprise_name, postings, headcount, first in rows
    )
    page = Page(
        items=items,
        next_cursor=encode_id_cursor(offset + size) if more else None,
        prev_cursor=encode_id_cursor(max(0, offset - size)) if offset > 0 else None,
    )
    return ShortageGroupPage(
        page=page,
        total_groups=int(total_groups or 0),
        total_postings=int(total_postings),
        total_headcount=int(total_headcount),
    )


async def _trades_of(
    uow: UnitOfWork, key: Any, ids: list[int], live: ColumnElement[bool]
) -> dict[tuple[int, str], tuple[TradeOpen, ...]]:
    """Open headcount per trade of each (group id, county), largest first."""
    if not ids:
        return {}
    s = ShortagePosting
    result = await uow.session.execute(
        select(key, s.county_code, s.trade_code, Trade.name_zh, Trade.name_en)
        .add_columns(func.sum(open_headcount(s)))
        .join(Trade, Trade.code == s.trade_code)
        .where(live, key.in_(ids))
        .group_by(key, s.county_code, s.trade_code, Trade.name_zh, Trade.name_en)
    )
    by_key: dict[tuple[int, str], list[TradeOpen]] = defaultdict(list)
    for row_id, county, trade, zh, en, headcount in result.all():
        by_key[(row_id, county)].append(TradeOpen(trade, zh, en, int(headcount or 0)))
    return {
        k: tuple(sorted(v, key=lambda t: (-t.headcount, t.trade_code))) for k, v in by_key.items()
    }
