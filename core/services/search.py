"""用工搜索: browse shortage and idle postings with filters and stable keyset pages.

Filters (all optional, combined with AND):
- region: a province, city or county code ("14", "1401", "140105" or six digits); a province
  filters nothing, a city matches `city_code`, a county matches `county_code`.
- trade: exact trade code.
- grade: exact match on the posting's grade (a shortage's `min_grade`, an idle posting's
  `grade_level`); "at or above" matching is the matcher's job, not the browser's.
- price range: inclusive bounds in CNY per month.
- ring: one dispatch ring; status: default the live ones (open, partly filled).
- 信用等级: the posting company's credit grade at least (AAA > AA > A > B > C).
- worker gender ("M" / "F") and worker 信用等级 at least (A > B > C > D), idle postings only:
  a posting matches when at least one of its posted workers is both (the seed's 性别 and
  工人信用等级 filters; shortages name no workers, so these filters refuse them).
Postings in the "internal" ring are visible only to their own enterprise (and to regulators and
admins): inside-the-company dispatch is not the market's business. A regulator only ever sees
postings inside their own region.

Order is newest first: (created_at DESC, id DESC). A cursor is base64 of "ts|id" of a boundary
row; "next" returns rows strictly older than it, "prev" rows strictly newer, so inserting or
closing rows between two page views never repeats or skips a row that stays visible.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    exists,
    false,
    func,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from core.db.models import (
    Enterprise,
    IdlePosting,
    IdlePostingWorker,
    Project,
    Region,
    ShortagePosting,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.credit import enterprise_grades_at_least, grades_at_least
from core.domain.enums import LIVE_STATUSES, PostingStatus, Ring, Role
from core.domain.errors import NotFound, PermissionDenied, ValidationError
from core.domain.rules import PostingTerms
from core.domain.timeutil import as_utc
from core.domain.values import fen_to_price, mask_phone, parse_price, price_to_fen
from core.services.paging import (
    Direction,
    Page,
    boundary_below,
    decode_ts_cursor,
    encode_ts_cursor,
    page_size,
)
from core.services.posting_state import status_clause
from core.services.regions import region_clause

PostingKind = Literal["shortage", "idle"]
KINDS: tuple[str, ...] = ("shortage", "idle")


@dataclass(frozen=True, slots=True)
class PostingQuery:
    kind: PostingKind
    region_code: str | None = None
    trade_code: str | None = None
    grade_level: int | None = None
    price_min: Decimal | str | None = None
    price_max: Decimal | str | None = None
    ring: Ring | str | None = None
    statuses: Sequence[PostingStatus | str] | None = None  # default: live
    enterprise_id: int | None = None
    project_id: int | None = None  # shortages only
    enterprise_credit_grade: str | None = None  # "A": the company's grade A, AA or AAA
    worker_gender: str | None = None  # idle postings only: "M" / "F"
    worker_credit_grade: str | None = None  # idle only; "B": a worker of grade A or B offered
    cursor: str | None = None
    direction: Direction = "next"
    limit: int | None = None  # default 5, at most 50


@dataclass(frozen=True, slots=True)
class PostingCard:
    """What a search result (or a match candidate) shows; the phone is masked here."""

    kind: str
    id: int
    enterprise_id: int
    enterprise_name: str
    project_id: int | None
    project_name: str | None
    county_code: str
    county_name_zh: str
    county_name_en: str
    city_code: str
    city_name_zh: str
    city_name_en: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    grade_level: int
    headcount: int
    filled_count: int
    open_headcount: int
    price: Decimal
    ring: str
    status: str
    created_at: datetime
    expires_at: datetime
    contact_name: str
    contact_phone_masked: str

    @property
    def terms(self) -> PostingTerms:
        """What the pairing rule looks at."""
        return PostingTerms(
            enterprise_id=self.enterprise_id,
            trade_code=self.trade_code,
            grade_level=self.grade_level,
            ring=self.ring,
            status=self.status,
            expires_at=self.expires_at,
            open_headcount=self.open_headcount,
        )


def posting_terms(posting: ShortagePosting | IdlePosting) -> PostingTerms:
    """What the pairing rule looks at in a stored posting."""
    grade = posting.min_grade if isinstance(posting, ShortagePosting) else posting.grade_level
    return PostingTerms(
        enterprise_id=posting.enterprise_id,
        trade_code=posting.trade_code,
        grade_level=grade,
        ring=posting.ring,
        status=posting.status,
        expires_at=as_utc(posting.expires_at),
        open_headcount=max(0, posting.headcount - posting.filled_count),
    )


def posting_model(kind: str) -> type[ShortagePosting] | type[IdlePosting]:
    if kind == "shortage":
        return ShortagePosting
    if kind == "idle":
        return IdlePosting
    raise ValidationError("error.unknown_kind")


def grade_column(kind: str) -> Any:
    """A shortage's required grade or an idle posting's offered grade."""
    return ShortagePosting.min_grade if kind == "shortage" else IdlePosting.grade_level


@functools.cache
def card_select(kind: str) -> Select[Any]:
    """SELECT of every card column for one kind of posting (joins names in); built once."""
    model = posting_model(kind)
    county = aliased(Region)
    city = aliased(Region)
    grade_col = grade_column(kind)
    if model is ShortagePosting:
        project_cols: tuple[Any, ...] = (Project.id, Project.name)
    else:
        project_cols = (None, None)
    stmt = (
        select(
            model.id,
            model.enterprise_id,
            Enterprise.name,
            *[c for c in project_cols if c is not None],
            model.county_code,
            county.name_zh,
            county.name_en,
            model.city_code,
            city.name_zh,
            city.name_en,
            model.trade_code,
            Trade.name_zh,
            Trade.name_en,
            grade_col,
            model.headcount,
            model.filled_count,
            model.price_fen,
            model.ring,
            model.status,
            model.created_at,
            model.expires_at,
            model.contact_name,
            model.contact_phone,
        )
        .join(Enterprise, Enterprise.id == model.enterprise_id)
        .join(Trade, Trade.code == model.trade_code)
        .outerjoin(county, county.code == model.county_code)
        .outerjoin(city, city.code == model.city_code)
    )
    if model is ShortagePosting:
        stmt = stmt.join(Project, Project.id == ShortagePosting.project_id)
    return stmt


def card_from_row(kind: str, row: Sequence[Any]) -> PostingCard:
    values = list(row)
    if kind == "shortage":
        project_id, project_name = values[3], values[4]
        del values[3:5]
    else:
        project_id, project_name = None, None
    (
        pid,
        enterprise_id,
        enterprise_name,
        county_code,
        county_zh,
        county_en,
        city_code,
        city_zh,
        city_en,
        trade_code,
        trade_zh,
        trade_en,
        grade,
        headcount,
        filled,
        price_fen,
        ring,
        status,
        created_at,
        expires_at,
        contact_name,
        contact_phone,
    ) = values
    return PostingCard(
        kind=kind,
        id=pid,
        enterprise_id=enterprise_id,
        enterprise_name=enterprise_name,
        project_id=project_id,
        project_name=project_name,
        county_code=county_code,
        county_name_zh=county_zh or "",
        county_name_en=county_en or "",
        city_code=city_code,
        city_name_zh=city_zh or "",
        city_name_en=city_en or "",
        trade_code=trade_code,
        trade_name_zh=trade_zh,
        trade_name_en=trade_en,
        grade_level=grade,
        headcount=headcount,
        filled_count=filled,
        open_headcount=max(0, headcount - filled),
        price=fen_to_price(price_fen),
        ring=ring,
        status=status,
        created_at=as_utc(created_at),
        expires_at=as_utc(expires_at),
        contact_name=contact_name,
        contact_phone_masked=mask_phone(contact_phone),
    )


async def load_cards(uow: UnitOfWork, kind: str, ids: Sequence[int]) -> dict[int, PostingCard]:
    """Cards of the given postings by id (no visibility check: callers decide)."""
    if not ids:
        return {}
    model = posting_model(kind)
    rows = (await uow.session.execute(card_select(kind).where(model.id.in_(list(ids))))).all()
    return {row[0]: card_from_row(kind, row) for row in rows}


def visibility_clause(actor: Actor, kind: str) -> ColumnElement[bool]:
    """Internal-ring postings of other enterprises are hidden; regulators stay in their region."""
    model = posting_model(kind)
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.REGULATOR:
        if not actor.region_code:
            return model.id.is_(None)  # a regulator without a region sees nothing
        return region_clause(actor.region_code, model.county_code, model.city_code)
    if actor.enterprise_id is None:
        return model.ring != Ring.INTERNAL.value
    return or_(model.ring != Ring.INTERNAL.value, model.enterprise_id == actor.enterprise_id)


async def get_posting_card(
    uow: UnitOfWork, actor: Actor, kind: str, posting_id: int
) -> PostingCard:
    """One posting's card if the actor may see it in search, whatever its status; a hidden
    posting (another company's internal one) and a missing one both raise NotFound."""
    model = posting_model(kind)
    stmt = card_select(kind).where(model.id == posting_id, visibility_clause(actor, kind))
    row = (await uow.session.execute(stmt)).first()
    if row is None:
        raise NotFound("error.posting_not_found")
    return card_from_row(kind, row)


def _statuses(q: PostingQuery) -> list[str]:
    try:
        return sorted({PostingStatus(s).value for s in (q.statuses or LIVE_STATUSES)})
    except ValueError as exc:
        raise ValidationError("error.bad_status") from exc


def _filters(actor: Actor, q: PostingQuery) -> list[ColumnElement[bool]]:
    """Every filter but the status (the page query splits statuses, see search_postings)."""
    model = posting_model(q.kind)
    clauses: list[ColumnElement[bool]] = [visibility_clause(actor, q.kind)]
    if q.region_code:
        clauses.append(region_clause(q.region_code, model.county_code, model.city_code))
    if q.trade_code:
        clauses.append(model.trade_code == q.trade_code)
    if q.grade_level is not None:
        clauses.append(grade_column(q.kind) == int(q.grade_level))
    low = parse_price(q.price_min) if q.price_min not in (None, "") else None
    high = parse_price(q.price_max) if q.price_max not in (None, "") else None
    if low is not None and high is not None and low > high:
        raise ValidationError("error.price_range_inverted")
    if low is not None:
        clauses.append(model.price_fen >= price_to_fen(low))
    if high is not None:
        clauses.append(model.price_fen <= price_to_fen(high))
    if q.ring:
        try:
            clauses.append(model.ring == Ring(q.ring).value)
        except ValueError as exc:
            raise ValidationError("error.bad_ring") from exc
    if q.enterprise_id is not None:
        clauses.append(model.enterprise_id == q.enterprise_id)
    if q.project_id is not None:
        if model is not ShortagePosting:
            raise ValidationError("error.unknown_kind")
        clauses.append(ShortagePosting.project_id == q.project_id)
    if q.enterprise_credit_grade:
        clauses.append(_company_credit_clause(q.enterprise_credit_grade, model))
    if q.worker_gender or q.worker_credit_grade:
        clauses.append(_workers_clause(q))
    return clauses


def _company_credit_clause(
    grade: str, model: type[ShortagePosting] | type[IdlePosting]
) -> ColumnElement[bool]:
    """信用等级 of the posting's company: this grade or better."""
    try:
        grades = enterprise_grades_at_least(grade)
    except ValueError as exc:
        raise ValidationError("error.bad_enterprise_credit_grade") from exc
    return exists().where(
        Enterprise.id == model.enterprise_id, Enterprise.credit_grade.in_(grades)
    )


WORKER_GENDERS = ("M", "F")


def _workers_clause(q: PostingQuery) -> ColumnElement[bool]:
    """An idle posting with at least one posted worker of this gender / credit grade or better."""
    if q.kind != "idle":
        raise ValidationError("error.worker_filter_idle_only")
    wanted: list[ColumnElement[bool]] = [
        IdlePostingWorker.posting_id == IdlePosting.id,
        Worker.id == IdlePostingWorker.worker_id,
    ]
    if q.worker_gender:
        if q.worker_gender not in WORKER_GENDERS:
            raise ValidationError("error.invalid")
        wanted.append(Worker.gender == q.worker_gender)
    if q.worker_credit_grade:
        try:
            wanted.append(Worker.credit_grade.in_(grades_at_least(q.worker_credit_grade)))
        except ValueError as exc:
            raise ValidationError("error.bad_credit_grade") from exc
    return exists().where(*wanted)


def _older(model: Any, at: datetime, row_id: int) -> ColumnElement[bool]:
    """(created_at, id) < (at, row_id), spelled so that SQLite, too, range-scans created_at."""
    return and_(
        model.created_at <= at,
        or_(model.created_at < at, model.id < row_id),
    )


def _newer(model: Any, at: datetime, row_id: int) -> ColumnElement[bool]:
    """(created_at, id) > (at, row_id), spelled so that SQLite, too, range-scans created_at."""
    return and_(
        model.created_at >= at,
        or_(model.created_at > at, model.id > row_id),
    )


async def search_postings(uow: UnitOfWork, actor: Actor, q: PostingQuery) -> Page[PostingCard]:
    """One page of postings matching the filters, newest first."""
    if q.kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    if q.direction not in ("next", "prev"):
        raise ValidationError("error.bad_cursor")
    size = page_size(q.limit)
    model = posting_model(q.kind)
    statuses = _statuses(q)
    now = uow.now()
    where = and_(*_filters(actor, q))
    newest_first = (model.created_at.desc(), model.id.desc())
    oldest_first = (model.created_at.asc(), model.id.asc())

    # One ordered, limited arm per status, merged: each arm walks ix_*_search
    # (status, created_at, id) in order and stops after n rows, where a plain
    # `status IN (...) ORDER BY created_at` would sort every live posting first.
    async def fetch(extra: ColumnElement[bool], order: Any, n: int) -> list[PostingCard]:
        arms = []
        for status in statuses:
            inner = (
                select(model.id.label("id"))
                .where(status_clause(model, PostingStatus(status), now), where, extra)
                .order_by(*order)
                .limit(n)
                .subquery()
            )
            arms.append(select(inner.c.id))
        ids = (union_all(*arms) if len(arms) > 1 else arms[0]).subquery()
        stmt = card_select(q.kind).join(ids, ids.c.id == model.id).order_by(*order).limit(n)
        conn = await uow.session.connection()  # Core rows: no ORM result machinery
        rows = (await conn.execute(stmt)).all()
        return [card_from_row(q.kind, row) for row in rows]

    async def any_beyond(extra: ColumnElement[bool]) -> bool:
        found = [
            exists().where(status_clause(model, PostingStatus(status), now), where, extra)
            for status in statuses
        ]
        conn = await uow.session.connection()
        return bool(await conn.scalar(select(or_(*found))))

    if q.cursor is None:
        rows = await fetch(true(), newest_first, size + 1)
        items, has_older, has_newer = rows[:size], len(rows) > size, False
    else:
        at, row_id = decode_ts_cursor(q.cursor)
        if q.direction == "next":
            rows = await fetch(_older(model, at, row_id), newest_first, size + 1)
            items, has_older = rows[:size], len(rows) > size
            if items:
                first = items[0]
                has_newer = await any_beyond(_newer(model, first.created_at, first.id))
            else:
                has_newer = await any_beyond(_newer(model, at, row_id - 1))
        else:
            rows = await fetch(_newer(model, at, row_id), oldest_first, size + 1)
            if len(rows) <= size:
                # back at the top: show a full first page rather than a short one
                rows = await fetch(true(), newest_first, size + 1)
                items, has_older, has_newer = rows[:size], len(rows) > size, False
            else:
                items = list(reversed(rows[:size]))
                has_newer = True
                last = items[-1]
                has_older = await any_beyond(_older(model, last.created_at, last.id))
    next_cursor = encode_ts_cursor(items[-1].created_at, items[-1].id) if has_older else None
    prev_cursor: str | None = None
    if has_newer:
        if items:
            prev_cursor = encode_ts_cursor(items[0].created_at, items[0].id)
        else:
            # an empty page past the end: "prev" from just below the boundary row includes it
            prev_cursor = boundary_below(q.cursor or "")
    return Page(items=tuple(items), next_cursor=next_cursor, prev_cursor=prev_cursor)


async def count_postings(uow: UnitOfWork, actor: Actor, q: PostingQuery) -> int:
    """How many postings search_postings pages through with these filters (cursor ignored)."""
    if q.kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    model = posting_model(q.kind)
    now = uow.now()
    shown = or_(*(status_clause(model, PostingStatus(s), now) for s in _statuses(q)))
    stmt = select(func.count()).select_from(model).where(shown, *_filters(actor, q))
    return int(await uow.session.scalar(stmt) or 0)


# --- my own postings ------------------------------------------------------------------------

CLOSED_STATUSES = tuple(s for s in PostingStatus if not s.is_live)


def _my_scope(actor: Actor, kind: str) -> ColumnElement[bool]:
    """A foreman's projects' shortages; a dispatcher's company's postings of either kind."""
    model = posting_model(kind)
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.DISPATCHER and actor.enterprise_id is not None:
        return model.enterprise_id == actor.enterprise_id
    if actor.role is Role.FOREMAN and kind == "shortage" and actor.project_ids:
        return ShortagePosting.project_id.in_(sorted(actor.project_ids))
    if actor.role in (Role.FOREMAN, Role.DISPATCHER):
        return false()  # nothing of that kind is theirs
    raise PermissionDenied("error.forbidden")


def _my_where(actor: Actor, kind: str, live: bool, now: datetime) -> ColumnElement[bool]:
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    model = posting_model(kind)
    shown = or_(
        *(status_clause(model, s, now) for s in (LIVE_STATUSES if live else CLOSED_STATUSES))
    )
    return and_(_my_scope(actor, kind), shown)


async def count_my_postings(uow: UnitOfWork, actor: Actor, *, kind: str, live: bool) -> int:
    """How many postings list_my_postings pages through."""
    model = posting_model(kind)
    stmt = select(func.count()).select_from(model).where(_my_where(actor, kind, live, uow.now()))
    return int(await uow.session.scalar(stmt) or 0)


async def list_my_postings(
    uow: UnitOfWork,
    actor: Actor,
    *,
    kind: str,
    live: bool = True,
    cursor: str | None = None,
    direction: Direction = "next",
    limit: int | None = 5,
) -> Page[PostingCard]:
    """One page of the actor's own postings (live ones, or the closed ones), newest first;
    cursors work as in search_postings."""
    where = _my_where(actor, kind, live, uow.now())
    if direction not in ("next", "prev"):
        raise ValidationError("error.bad_cursor")
    size = page_size(limit)
    model = posting_model(kind)
    newest_first = (model.created_at.desc(), model.id.desc())
    oldest_first = (model.created_at.asc(), model.id.asc())

    async def fetch(extra: ColumnElement[bool], order: Any, n: int) -> list[PostingCard]:
        stmt = card_select(kind).where(where, extra).order_by(*order).limit(n)
        conn = await uow.session.connection()  # Core rows: no ORM result machinery
        return [card_from_row(kind, row) for row in (await conn.execute(stmt)).all()]

    async def any_beyond(extra: ColumnElement[bool]) -> bool:
        conn = await uow.session.connection()
        return bool(await conn.scalar(select(exists().where(where, extra))))

    if cursor is None:
        rows = await fetch(true(), newest_first, size + 1)
        items, has_older, has_newer = rows[:size], len(rows) > size, False
    else:
        at, row_id = decode_ts_cursor(cursor)
        if direction == "next":
            rows = await fetch(_older(model, at, row_id), newest_first, size + 1)
            items, has_older = rows[:size], len(rows) > size
            if items:
                has_newer = await any_beyond(_newer(model, items[0].created_at, items[0].id))
            else:
                has_newer = await any_beyond(_newer(model, at, row_id - 1))
        else:
            rows = await fetch(_newer(model, at, row_id), oldest_first, size + 1)
            if len(rows) <= size:
                # back at the top: a full first page rather than a short one
                rows = await fetch(true(), newest_first, size + 1)
                items, has_older, has_newer = rows[:size], len(rows) > size, False
            else:
                items = list(reversed(rows[:size]))
                has_newer = True
                has_older = await any_beyond(_older(model, items[-1].created_at, items[-1].id))
    next_cursor = encode_ts_cursor(items[-1].created_at, items[-1].id) if has_older else None
    prev_cursor: str | None = None
    if has_newer:
        if items:
            prev_cursor = encode_ts_cursor(items[0].created_at, items[0].id)
        else:
            prev_cursor = boundary_below(cursor or "")
    return Page(items=tuple(items), next_cursor=next_cursor, prev_cursor=prev_cursor)
