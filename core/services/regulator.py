"""The regulator's own queries and actions (the seed's government edition).

Everything here is scoped: a regulator reads and acts on their region and everything below it,
never beyond, whatever ids or region codes a client sends (the bot's callback data is client
controlled). An admin sees the whole province. Summaries, statistics, deal records and worker
ratings live in their own modules (summaries, deals, ratings) and check the same scope.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, or_, select

from core.db.models import (
    Account,
    AccountProject,
    Enterprise,
    Grade,
    IdlePosting,
    Project,
    Region,
    ShortagePosting,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import LIVE_STATUSES, RegionLevel, Ring, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import pairing_refusal
from core.domain.timeutil import as_utc, local_date
from core.domain.values import IdNumber, clean_text
from core.services.guide_prices import list_guide_prices
from core.services.matching import MAX_LIMIT as MATCH_MAX_LIMIT
from core.services.matching import MatchView, match_posting
from core.services.paging import (
    Direction,
    Page,
    decode_id_cursor,
    encode_id_cursor,
    page_size,
)
from core.services.regions import (
    PROVINCE_CODE,
    normalize_region_code,
    region_contains,
    region_filter,
    region_level,
)
from core.services.search import (
    KINDS,
    PostingCard,
    PostingQuery,
    load_cards,
    posting_terms,
    search_postings,
)

TOP_ENTERPRISES_MAX = 50
FIND_WORKERS_LIMIT = 20
_LIVE = [s.value for s in LIVE_STATUSES]

ShortageGrouping = Literal["enterprise", "project"]


# --- scope ----------------------------------------------------------------------------------


def home_region(actor: Actor) -> str:
    """The region the actor answers for: a regulator's own; an admin's (default: province)."""
    if actor.role is Role.ADMIN:
        return normalize_region_code(actor.region_code or PROVINCE_CODE)
    if actor.role is not Role.REGULATOR or not actor.region_code:
        raise PermissionDenied("error.forbidden")
    return normalize_region_code(actor.region_code)


def in_scope(actor: Actor, code: str) -> bool:
    """True if `code` (a region at any level) lies inside what the actor may see."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.REGULATOR or not actor.region_code:
        return False
    return region_contains(actor.region_code, code)


def require_scope(actor: Actor, code: str) -> str:
    """The normalized code, if the actor may see that region; PermissionDenied otherwise."""
    full = normalize_region_code(code)
    home_region(actor)  # role check first: a foreman learns nothing about regions
    if not in_scope(actor, full):
        raise PermissionDenied("error.out_of_scope")
    return full


# --- reference data -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Choice:
    """A trade (code) or grade (level as text) with its names, for pickers and tables."""

    code: str
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


async def trade_choices(uow: UnitOfWork) -> list[Choice]:
    """Every trade, the nine guided ones first, then by sort order."""
    rows = await uow.session.scalars(
        select(Trade).order_by(Trade.guided.desc(), Trade.sort_order, Trade.code)
    )
    return [Choice(t.code, t.name_zh, t.name_en) for t in rows]


async def grade_choices(uow: UnitOfWork) -> list[Choice]:
    """Every skill grade, 一级 (the highest) first; `code` is the level as text."""
    rows = await uow.session.scalars(select(Grade).order_by(Grade.level))
    return [Choice(str(g.level), g.name_zh, g.name_en) for g in rows]


async def _region_names(uow: UnitOfWork, codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await uow.session.execute(
        select(Region.code, Region.name_zh, Region.name_en).where(Region.code.in_(wanted))
    )
    return {code: (zh, en) for code, zh, en in rows}


# --- top enterprises by credit --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EnterpriseCredit:
    """One line of the top-50 by credit: who could take or lend workers when brokering."""

    rank: int
    enterprise_id: int
    name: str
    type: str
    credit_score: int
    credit_grade: str
    county_code: str
    county_name_zh: str
    county_name_en: str
    shortage_headcount: int  # still open in its live shortage postings (in scope)
    idle_headcount: int  # still on offer in its live idle postings (in scope)

    def county_name(self, locale: str) -> str:
        return self.county_name_zh if locale.startswith("zh") else self.county_name_en


async def top_enterprises(
    uow: UnitOfWork, actor: Actor, region_code: str, *, limit: int = TOP_ENTERPRISES_MAX
) -> list[EnterpriseCredit]:
    """Enterprises seated in the region, best credit score first (ties: by id)."""
    code = require_scope(actor, region_code)
    if limit < 1 or limit > TOP_ENTERPRISES_MAX:
        raise ValidationError("error.page_size", min=1, max=TOP_ENTERPRISES_MAX)
    rows = (
        await uow.session.scalars(
            select(Enterprise)
            .where(region_filter(code, Enterprise))
            .order_by(Enterprise.credit_score.desc(), Enterprise.id.asc())
            .limit(limit)
        )
    ).all()
    ids = [e.id for e in rows]
    open_by: dict[tuple[str, int], int] = {}
    for kind, model in (("shortage", ShortagePosting), ("idle", IdlePosting)):
        if not ids:
            break
        result = await uow.session.execute(
            select(
                model.enterprise_id,
                func.coalesce(func.sum(model.headcount - model.filled_count), 0),
            )
            .where(
                model.enterprise_id.in_(ids),
                model.status.in_(_LIVE),
                region_filter(code, model),
            )
            .group_by(model.enterprise_id)
        )
        for enterprise_id, headcount in result.all():
            open_by[(kind, enterprise_id)] = int(headcount)
    names = await _region_names(uow, [e.county_code for e in rows])
    return [
        EnterpriseCredit(
            rank=index,
            enterprise_id=e.id,
            name=e.name,
            type=e.type,
            credit_score=e.credit_score,
            credit_grade=e.credit_grade,
            county_code=e.county_code,
            county_name_zh=names.get(e.county_code, (e.county_code, ""))[0],
            county_name_en=names.get(e.county_code, ("", e.county_code))[1],
            shortage_headcount=open_by.get(("shortage", e.id), 0),
            idle_headcount=open_by.get(("idle", e.id), 0),
        )
        for index, e in enumerate(rows, start=1)
    ]


# --- open shortages by enterprise / by project ----------------------------------------------


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
    """The live shortages of one enterprise (or one project) in scope."""

    group: str  # "enterprise" | "project"
    id: int  # enterprise id or project id
    name: str  # the enterprise's or the project's name
    enterprise_name: str
    county_code: str
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
    """Live shortages in the region grouped by enterprise or project, the oldest group first.

    Pages by offset (the order is over an aggregate): the cursor encodes the offset."""
    code = require_scope(actor, region_code)
    if group not in ("enterprise", "project"):
        raise ValidationError("error.invalid")
    size = page_size(limit)
    offset = decode_id_cursor(cursor) if cursor else 0
    if offset < 0:
        raise ValidationError("error.bad_cursor")
    s = ShortagePosting
    live = and_(s.status.in_(_LIVE), s.headcount > s.filled_count, region_filter(code, s))
    open_count = func.sum(s.headcount - s.filled_count)
    oldest = func.min(s.created_at)
    if group == "enterprise":
        key: Any = s.enterprise_id
        stmt = select(key, Enterprise.name, Enterprise.name.label("owner"), Enterprise.county_code)
        stmt = stmt.join(Enterprise, Enterprise.id == s.enterprise_id)
        group_by: tuple[Any, ...] = (key, Enterprise.name, Enterprise.county_code)
    else:
        key = s.project_id
        stmt = select(key, Project.name, Enterprise.name, Project.county_code)
        stmt = stmt.join(Project, Project.id == s.project_id).join(
            Enterprise, Enterprise.id == s.enterprise_id
        )
        group_by = (key, Project.name, Enterprise.name, Project.county_code)
    stmt = (
        stmt.add_columns(func.count(), open_count, oldest)
        .where(live)
        .group_by(*group_by)
        .order_by(oldest.asc(), key.asc())
    )
    rows = (await uow.session.execute(stmt.offset(offset).limit(size + 1))).all()
    more = len(rows) > size
    rows = rows[:size]
    totals = (
        await uow.session.execute(
            select(
                func.count(func.distinct(key)),
                func.count(),
                func.coalesce(open_count, 0),
            ).where(live)
        )
    ).one()
    trades = await _trades_of(uow, key, [r[0] for r in rows], live)
    names = await _region_names(uow, [r[3] for r in rows])
    today = local_date(uow.now())
    items = tuple(
        ShortageGroup(
            group=group,
            id=row_id,
            name=name,
            enterprise_name=enterprise_name,
            county_code=county,
            county_name_zh=names.get(county, (county, ""))[0],
            county_name_en=names.get(county, ("", county))[1],
            postings=int(postings),
            open_headcount=int(headcount or 0),
            oldest_at=as_utc(first),
            days_open=(today - local_date(as_utc(first))).days,
            trades=trades.get(row_id, ()),
        )
        for row_id, name, enterprise_name, county, postings, headcount, first in rows
    )
    page = Page(
        items=items,
        next_cursor=encode_id_cursor(offset + size) if more else None,
        prev_cursor=encode_id_cursor(max(0, offset - size)) if offset > 0 else None,
    )
    return ShortageGroupPage(
        page=page,
        total_groups=int(totals[0]),
        total_postings=int(totals[1]),
        total_headcount=int(totals[2]),
    )


async def _trades_of(
    uow: UnitOfWork, key: Any, ids: list[int], live: ColumnElement[bool]
) -> dict[int, tuple[TradeOpen, ...]]:
    if not ids:
        return {}
    s = ShortagePosting
    result = await uow.session.execute(
        select(
            key, s.trade_code, Trade.name_zh, Trade.name_en, func.sum(s.headcount - s.filled_count)
        )
        .join(Trade, Trade.code == s.trade_code)
        .where(live, key.in_(ids))
        .group_by(key, s.trade_code, Trade.name_zh, Trade.name_en)
    )
    by_key: dict[int, list[TradeOpen]] = defaultdict(list)
    for row_id, trade, zh, en, headcount in result.all():
        by_key[row_id].append(TradeOpen(trade, zh, en, int(headcount or 0)))
    return {
        k: tuple(sorted(v, key=lambda t: (-t.headcount, t.trade_code))) for k, v in by_key.items()
    }


# --- guide prices of a city -----------------------------------------------------------------


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


async def city_guide_prices(uow: UnitOfWork, actor: Actor, city_code: str) -> CityGuidePrices:
    """The prices in force today in a city the actor oversees (a county bureau: its own city)."""
    code = normalize_region_code(city_code)
    home = home_region(actor)
    if region_level(code) is not RegionLevel.CITY:
        raise ValidationError("error.guide_price_city")
    # a county bureau works under its city's published prices, so it may read them
    if not (in_scope(actor, code) or region_contains(code, home)):
        raise PermissionDenied("error.out_of_scope")
    region = await uow.session.get(Region, code)
    if region is None:
        raise NotFound("error.unknown_region", code=code)
    day = local_date(uow.now())
    views = await list_guide_prices(uow, city_code=code, on=day)
    return CityGuidePrices(
        city_code=code,
        city_name_zh=region.name_zh,
        city_name_en=region.name_en,
        day=day,
        cells=tuple(
            GuideCell(v.trade_code, v.grade_level, v.price, v.effective_date) for v in views
        ),
        may_set=may_set_guide_price(actor, code),
    )


# --- worker grading (工人评级) --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GradingCard:
    """A worker as the bureau sees them for grading: the ID number only ever masked."""

    worker_id: int
    name: str
    gender: str
    id_masked: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    grade_level: int
    grade_name_zh: str
    grade_name_en: str
    enterprise_name: str
    county_code: str
    status: str
    rating_count: int
    avg_rating: Decimal | None

    def trade_name(self, locale: str) -> str:
        return self.trade_name_zh if locale.startswith("zh") else self.trade_name_en

    def grade_name(self, locale: str) -> str:
        return self.grade_name_zh if locale.startswith("zh") else self.grade_name_en


def _card_select() -> Any:
    return (
        select(Worker, Enterprise.name, Enterprise.county_code, Trade, Grade)
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .join(Trade, Trade.code == Worker.trade_code)
        .join(Grade, Grade.level == Worker.grade_level)
    )


def _card(row: Sequence[Any]) -> GradingCard:
    w, enterprise_name, county, trade, grade = row
    avg = (
        (Decimal(w.rating_sum) / w.rating_count).quantize(Decimal("0.01"))
        if w.rating_count > 0
        else None
    )
    return GradingCard(
        worker_id=w.id,
        name=w.name,
        gender=w.gender,
        id_masked=w.id_masked,
        trade_code=w.trade_code,
        trade_name_zh=trade.name_zh,
        trade_name_en=trade.name_en,
        grade_level=w.grade_level,
        grade_name_zh=grade.name_zh,
        grade_name_en=grade.name_en,
        enterprise_name=enterprise_name,
        county_code=county,
        status=w.status,
        rating_count=w.rating_count,
        avg_rating=avg,
    )


async def find_workers_in_scope(
    uow: UnitOfWork,
    actor: Actor,
    *,
    name: str | None = None,
    id_number: str | None = None,
) -> list[GradingCard]:
    """Workers of enterprises seated in the actor's region, by part of the name or by the full
    ID number (looked up by its keyed hash; the number itself is never returned)."""
    code = home_region(actor)
    clauses: list[ColumnElement[bool]] = [region_filter(code, Enterprise)]
    if not name and not id_number:
        raise ValidationError("error.search_criteria_required")
    if name:
        text = clean_text(name, field="name", max_len=30)
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        clauses.append(Worker.name.like(f"%{escaped}%", escape="\\"))
    if id_number:
        parsed = IdNumber.parse(id_number)
        clauses.append(Worker.id_hash == uow.cipher.lookup_hash(parsed.value))
    rows = (
        await uow.session.execute(
            _card_select()
            .where(*clauses)
            .order_by(Worker.name, Worker.id)
            .limit(FIND_WORKERS_LIMIT)
        )
    ).all()
    return [_card(row) for row in rows]


async def _scoped_worker(uow: UnitOfWork, actor: Actor, worker_id: int) -> GradingCard:
    home_region(actor)
    row = (await uow.session.execute(_card_select().where(Worker.id == worker_id))).first()
    if row is None:
        raise NotFound("error.worker_not_found")
    card = _card(row)
    if not in_scope(actor, card.county_code):
        raise PermissionDenied("error.out_of_scope")
    return card


async def get_grading_card(uow: UnitOfWork, actor: Actor, worker_id: int) -> GradingCard:
    """One worker of an enterprise in the actor's region."""
    return await _scoped_worker(uow, actor, worker_id)


async def set_worker_grade(
    uow: UnitOfWork, actor: Actor, worker_id: int, grade_level: int
) -> GradingCard:
    """Assign a skill grade (评级) to a worker of an enterprise in the regulator's region."""
    card = await _scoped_worker(uow, actor, worker_id)
    grade = await uow.session.get(Grade, grade_level)
    if grade is None:
        raise ValidationError("error.grade_unknown")
    if card.grade_level == grade.level:
        return card  # the same grade again (a double tap): nothing changes, nothing audited
    worker = await uow.session.get(Worker, worker_id, with_for_update=True)
    if worker is None:  # deleted in between (PIPL removal)
        raise NotFound("error.worker_not_found")
    before = worker.grade_level
    worker.grade_level = grade.level
    worker.updated_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="worker.grade",
        entity="worker",
        entity_id=worker.id,
        before={"grade_level": before},
        after={"grade_level": grade.level},
    )
    await uow.session.flush()
    updated = await _scoped_worker(uow, actor, worker_id)
    await uow.commit()
    return updated


# --- escalations (协调) and brokering -------------------------------------------------------


async def escalated_postings(
    uow: UnitOfWork,
    actor: Actor,
    region_code: str,
    kind: str,
    *,
    cursor: str | None = None,
    direction: Direction = "next",
    limit: int | None = None,
) -> Page[PostingCard]:
    """Live postings handed to the bureaus (ring "escalated") in the region, newest first."""
    code = require_scope(actor, region_code)
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    query = PostingQuery(
        kind=kind,  # type: ignore[arg-type]
        region_code=code,
        ring=Ring.ESCALATED,
        cursor=cursor,
        direction=direction,
        limit=limit,
    )
    return await search_postings(uow, actor, query)


@dataclass(frozen=True, slots=True)
class EscalationDetail:
    posting: PostingCard
    matches: tuple[MatchView, ...]  # suggested counterparts, all inside the actor's region


async def escalation_detail(
    uow: UnitOfWork, actor: Actor, kind: str, posting_id: int, *, limit: int = 5
) -> EscalationDetail:
    """A posting in the actor's region with the best counterparts that are in the region too."""
    home_region(actor)
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    if limit < 1 or limit > MATCH_MAX_LIMIT:
        raise ValidationError("error.page_size", min=1, max=MATCH_MAX_LIMIT)
    card = (await load_cards(uow, kind, [posting_id])).get(posting_id)
    if card is None:
        raise NotFound("error.posting_not_found")
    if not in_scope(actor, card.county_code):
        raise PermissionDenied("error.out_of_scope")
    # the matcher looks province-wide; a bureau only brokers inside its own region
    found = await match_posting(uow, actor, kind, posting_id, limit=MATCH_MAX_LIMIT)
    matches = tuple(m for m in found if in_scope(actor, m.card.county_code))[:limit]
    return EscalationDetail(posting=card, matches=matches)


@dataclass(frozen=True, slots=True)
class BrokerResult:
    shortage_id: int
    idle_id: int
    recipient_account_ids: tuple[int, ...]  # newly told in this call


async def _active(uow: UnitOfWork, account_id: int | None) -> bool:
    if account_id is None:
        return False
    found = await uow.session.scalar(
        select(Account.id).where(Account.id == account_id, Account.active.is_(True))
    )
    return found is not None


async def _company_recipients(
    uow: UnitOfWork, enterprise_id: int, poster: int | None, project_id: int | None
) -> list[int]:
    """The posting's poster if still active, else the company's dispatchers (and, for a
    shortage, the project's foremen): the same rule as deal notifications."""
    if await _active(uow, poster):
        return [poster] if poster is not None else []
    who = and_(Account.role == Role.DISPATCHER.value, Account.enterprise_id == enterprise_id)
    if project_id is not None:
        foremen = select(AccountProject.account_id).where(AccountProject.project_id == project_id)
        who = or_(who, and_(Account.role == Role.FOREMAN.value, Account.id.in_(foremen)))
    rows = await uow.session.scalars(
        select(Account.id).where(who, Account.active.is_(True)).order_by(Account.id)
    )
    return list(rows)


async def broker_pair(
    uow: UnitOfWork, actor: Actor, shortage_id: int, idle_id: int
) -> BrokerResult:
    """The bureau suggests a shortage and an idle posting to each other (the third ring).

    Both companies get a "broker" notification they can turn into a deal offer. Both postings
    must lie in the actor's region, be live, fit (trade, grade) and at least one of them must
    have been escalated. Suggesting the same pair again tells nobody twice."""
    home_region(actor)
    shortage = await uow.session.get(ShortagePosting, shortage_id)
    idle = await uow.session.get(IdlePosting, idle_id)
    if shortage is None or idle is None:
        raise NotFound("error.posting_not_found")
    if not (in_scope(actor, shortage.county_code) and in_scope(actor, idle.county_code)):
        raise PermissionDenied("error.out_of_scope")
    refusal = pairing_refusal(posting_terms(shortage), posting_terms(idle), uow.now())
    if isinstance(refusal, NotFound):
        # a posting kept inside its company is not offered to another one, not even by a
        # bureau; the bureau sees both postings, so it is told why rather than "not found"
        raise PermissionDenied("error.broker_internal")
    if refusal is not None:
        raise refusal
    if Ring.ESCALATED.value not in (shortage.ring, idle.ring):
        raise Conflict("error.not_escalated")

    sides = [
        await _company_recipients(
            uow, shortage.enterprise_id, shortage.posted_by_account_id, shortage.project_id
        ),
        await _company_recipients(uow, idle.enterprise_id, idle.posted_by_account_id, None),
    ]
    recipients = list(dict.fromkeys(a for side in sides for a in side))
    if not recipients:
        raise Conflict("error.broker_no_recipients")
    payload = {
        "shortage_id": shortage.id,
        "idle_id": idle.id,
        "regulator_account_id": actor.account_id,
    }
    told: list[int] = []
    for account_id in recipients:
        if await uow.notify(
            account_id=account_id,
            kind="broker",
            payload=payload,
            dedup_key=f"broker:{shortage.id}:{idle.id}:{account_id}",
        ):
            told.append(account_id)
    if not told:
        raise Conflict("error.already_brokered")
    uow.audit(
        actor_account_id=actor.account_id,
        action="broker.suggest",
        entity="shortage_posting",
        entity_id=shortage.id,
        after={"idle_id": idle.id, "recipients": told},
    )
    await uow.commit()
    return BrokerResult(shortage.id, idle.id, tuple(told))


async def pair_cards(
    uow: UnitOfWork, actor: Actor, shortage_id: int, idle_id: int
) -> tuple[PostingCard, PostingCard]:
    """The two postings of a pair the actor is about to broker, both inside the region."""
    home_region(actor)
    shortage = (await load_cards(uow, "shortage", [shortage_id])).get(shortage_id)
    idle = (await load_cards(uow, "idle", [idle_id])).get(idle_id)
    if shortage is None or idle is None:
        raise NotFound("error.posting_not_found")
    if not (in_scope(actor, shortage.county_code) and in_scope(actor, idle.county_code)):
        raise PermissionDenied("error.out_of_scope")
    return shortage, idle


# --- for the broker notification ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrokerNote:
    """What a broker notification shows: both postings and who suggested them."""

    shortage: PostingCard | None
    idle: PostingCard | None
    regulator_name: str | None
    regulator_region_zh: str | None
    regulator_region_en: str | None


async def broker_note(
    uow: UnitOfWork, shortage_id: int, idle_id: int, regulator_account_id: int | None
) -> BrokerNote:
    """The cards of a brokered pair (no scope check: the sender renders what core queued)."""
    shortage = (await load_cards(uow, "shortage", [shortage_id])).get(shortage_id)
    idle = (await load_cards(uow, "idle", [idle_id])).get(idle_id)
    name = region_zh = region_en = None
    if regulator_account_id is not None:
        row = (
            await uow.session.execute(
                select(Account.display_name, Region.name_zh, Region.name_en)
                .outerjoin(Region, Region.code == Account.region_code)
                .where(Account.id == regulator_account_id)
            )
        ).first()
        if row is not None:
            name, region_zh, region_en = row
    return BrokerNote(shortage, idle, name, region_zh, region_en)


def guide_price_of(prices: CityGuidePrices, trade_code: str, grade_level: int) -> Decimal | None:
    """The price in force for one trade and grade of a city's table, if published."""
    for cell in prices.cells:
        if cell.trade_code == trade_code and cell.grade_level == grade_level:
            return cell.price
    return None
