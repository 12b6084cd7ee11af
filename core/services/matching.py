"""Matching shortages (缺工) with idle workers (赋闲) and telling the other side.

A pair is a shortage S and an idle posting I. Hard filters (in SQL, on ix_*_match_city in my
city and ix_*_match elsewhere): the same trade; I's grade at or above S's (I.grade_level <=
S.min_grade, level 1 is the highest); both live (open / partly filled) and not past
expires_at; the candidate has open headcount (headcount > filled_count); a posting in the
"internal" ring pairs only with postings of its own enterprise (on either side).

Order: candidates of the same enterprise first (the seed's "dispatch internally first"), then by
score descending, then by id ascending. The score is 0..100, the sum of five parts:

- region, 35: same county 35, same city 20, same province 5, else 0.
- price, 30: S offers `offered`, I asks `asking`. asking <= offered → 30; otherwise
  30 × max(0, 1 − gap/30) with gap = (asking − offered) / offered × 100, so a 15 % gap gives 15
  and 30 % or more gives 0. Then a guide-price penalty: each side whose price is more than 30 %
  above or below its city guide price (用工指导价, the newest one in force today for that city,
  the trade and that side's grade: S.min_grade for S, I.grade_level for I) loses 5 points, at
  most 10 in all, and the part never goes below 0. A side without a guide price is not penalised.
  Prices far from the guide are often typos or bait (the seed's "price 11.00").
- credit, 15: the candidate enterprise's credit_score / 100 × 15 (score clamped to 0..100).
- rating, 15: the idle workers' average rating (I.avg_rating_x100 / 100, 1..5 stars) / 5 × 15;
  unrated workers count as a neutral 3.0 (9 points).
- headcount, 5: the candidate's open headcount covers my open headcount → 5; otherwise
  5 × candidate_open / my_open.

Each part is rounded to 2 decimals; the total is their sum. `score()` is the pure function of
these rules; the credit is always the candidate's enterprise's, the rating always the idle side's.

Speed (20 000 live postings a side in the province, 200 000 at ten times it): on PostgreSQL one
query fetches the hard-filtered candidates of my county and of my own enterprise
(ix_*_match_county; SQLite starts from my whole city, see _REGION_TIERS);
a candidate elsewhere in my city scores at most 20 + 30 + 15 + 15 + 5 = 85 (the rating part is
fixed when the candidates are shortages: it is my idle workers'), one outside my city at most
70, so the rest of the city, then the rest of the province, is fetched only when the list is
not already filled with better ones (a 太原 district holds a seventh of the city's candidates:
~900 of an idle 普工 posting's ~6,500 at ten times the province). Each query is ordered in SQL
by an upper bound of the score (the same parts without the guide-price penalties) and reads
only the first 3 × limit + 20 rows; when the bound of the last row read is not below the last
winner's total by more than the window below, the query runs again with eight times the cap,
then uncapped, so the list is always the one reading every candidate gives. An unrounded first
pass ranks the candidates read; the exact parts are built only for those within 0.1 of the
last place. Guide prices come in one query.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, and_, case, func, literal, null, or_, select

from core.db.models import (
    Account,
    AccountProject,
    Enterprise,
    GuidePrice,
    IdlePosting,
    ShortagePosting,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import LIVE_STATUSES, PostingStatus, Ring, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.timeutil import SHANGHAI, as_utc, local_date
from core.domain.values import price_to_fen
from core.services.regions import region_contains
from core.services.search import KINDS, PostingCard, load_cards

REGION_SAME_COUNTY = 35.0
REGION_SAME_CITY = 20.0
REGION_SAME_PROVINCE = 5.0
PRICE_MAX = 30.0
GAP_ZERO_PERCENT = 30.0
GUIDE_TOLERANCE_PERCENT = 30
GUIDE_PENALTY = 5.0
CREDIT_MAX = 15.0
RATING_MAX = 15.0
NEUTRAL_RATING = 3.0
HEADCOUNT_MAX = 5.0
OUTSIDE_CITY_MAX = REGION_SAME_PROVINCE + PRICE_MAX + CREDIT_MAX + RATING_MAX + HEADCOUNT_MAX
MAX_LIMIT = 50

_LIVE = [s.value for s in LIVE_STATUSES]


@dataclass(frozen=True, slots=True)
class MatchFacts:
    """Everything the score looks at for one pair, seen from "my" posting."""

    my_county: str
    my_city: str
    candidate_county: str
    candidate_city: str
    offered: Decimal  # the shortage's monthly price
    asking: Decimal  # the idle posting's monthly price
    offered_guide: Decimal | None = None  # guide price for the shortage's city and min grade
    asking_guide: Decimal | None = None  # guide price for the idle posting's city and grade
    candidate_credit: int = 60
    avg_rating: float | None = None  # the idle workers' average stars, None when unrated
    my_open: int = 1
    candidate_open: int = 1


@dataclass(frozen=True, slots=True)
class ScoreBreakdown:
    region: float
    price: float
    guide_penalty: float  # already taken off `price`; shown so the front end can explain it
    credit: float
    rating: float
    headcount: float
    total: float


def _off_guide(price_fen: int, guide_fen: int | None) -> bool:
    # integer arithmetic: exactly 30 % off is still tolerated
    if guide_fen is None or guide_fen <= 0:
        return False
    return abs(price_fen - guide_fen) * 100 > GUIDE_TOLERANCE_PERCENT * guide_fen


def _clamped_stars(stars: float | None) -> float:
    """The stars the rating part counts: unrated is neutral, the rest clamped to 0..5."""
    if stars is None:
        return NEUTRAL_RATING
    return min(5.0, max(0.0, stars))


def region_points(my_county: str, my_city: str, cand_county: str, cand_city: str) -> float:
    if my_county == cand_county:
        return REGION_SAME_COUNTY
    if my_city == cand_city:
        return REGION_SAME_CITY
    if my_county[:2] == cand_county[:2]:
        return REGION_SAME_PROVINCE
    return 0.0


_Parts = tuple[float, float, float, float, float, float, float]


def _parts(
    region: float,
    offered_fen: int,
    asking_fen: int,
    offered_guide_fen: int | None,
    asking_guide_fen: int | None,
    credit_score: int,
    stars: float | None,
    my_open: int,
    candidate_open: int,
) -> _Parts:
    """(region, price, guide_penalty, credit, rating, headcount, total), each rounded to 2
    places; the total is the sum of the rounded parts. The one implementation of the rules,
    on plain numbers, because the matcher runs it over hundreds of candidates per call."""
    if asking_fen <= offered_fen:
        base = PRICE_MAX
    elif offered_fen <= 0:
        base = 0.0
    else:
        # 30 × (1 − gap / 30) with gap = (asking − offered) / offered × 100
        gap = (asking_fen - offered_fen) * 100 / offered_fen
        base = PRICE_MAX * max(0.0, 1 - gap / GAP_ZERO_PERCENT)
    penalty = GUIDE_PENALTY * (
        _off_guide(offered_fen, offered_guide_fen) + _off_guide(asking_fen, asking_guide_fen)
    )
    price = round(max(0.0, base - penalty), 2)
    credit = round(CREDIT_MAX * min(100, max(0, credit_score)) / 100, 2)
    star = NEUTRAL_RATING if stars is None else min(5.0, max(0.0, stars))
    rating = round(RATING_MAX * star / 5, 2)
    if my_open <= 0 or candidate_open >= my_open:
        headcount = HEADCOUNT_MAX
    else:
        headcount = round(HEADCOUNT_MAX * max(0, candidate_open) / my_open, 2)
    region = round(region, 2)
    total = round(region + price + credit + rating + headcount, 2)
    return (region, price, round(min(penalty, base), 2), credit, rating, headcount, total)


def _raw_total(
    region: float,
    offered_fen: int,
    asking_fen: int,
    offered_guide_fen: int | None,
    asking_guide_fen: int | None,
    credit_score: int,
    stars: float | None,
    my_open: int,
    candidate_open: int,
) -> float:
    """`_parts(...)[-1]` without the rounding (within 0.03 of it): a cheap first pass that
    ranks hundreds of candidates before the exact parts are built for the few that win."""
    if asking_fen <= offered_fen:
        price = PRICE_MAX
    elif offered_fen <= 0:
        price = 0.0
    else:
        price = PRICE_MAX * (1 - (asking_fen - offered_fen) * 100 / offered_fen / GAP_ZERO_PERCENT)
        if price < 0:
            price = 0.0
    if (
        offered_guide_fen
        and offered_guide_fen > 0
        and abs(offered_fen - offered_guide_fen) * 100
        > GUIDE_TOLERANCE_PERCENT * offered_guide_fen
    ):
        price -= GUIDE_PENALTY
    if (
        asking_guide_fen
        and asking_guide_fen > 0
        and abs(asking_fen - asking_guide_fen) * 100 > GUIDE_TOLERANCE_PERCENT * asking_guide_fen
    ):
        price -= GUIDE_PENALTY
    if price < 0:
        price = 0.0
    credit = CREDIT_MAX * (100 if credit_score > 100 else credit_score if credit_score > 0 else 0)
    star = NEUTRAL_RATING if stars is None else 5.0 if stars > 5 else stars if stars > 0 else 0.0
    if my_open <= 0 or candidate_open >= my_open:
        fit = HEADCOUNT_MAX
    else:
        fit = HEADCOUNT_MAX * (candidate_open if candidate_open > 0 else 0) / my_open
    return region + price + credit / 100 + RATING_MAX * star / 5 + fit


# |raw - exact| ≤ 0.03 (five parts rounded to 2 places, then the sum): a window of 0.1 around
# the last winner's raw total is sure to hold every candidate that could still win exactly
_RAW_WINDOW = 0.1
# a capped fetch takes this many candidates per place on the list (plus a few); when its cut
# is not safe (many near-equal bounds above penalised winners), once more eight times as many,
# then all
_CAP_PER_LIMIT = 3
_CAP_MIN = 20
_CAP_TRIES = 2
_CAP_GROWTH = 8
# the SQL bound is computed in floating point by the database: a margin for its rounding
_BOUND_SLACK = 0.01
# the databases that read the candidates region by region (my county, the rest of my city, the
# rest of the province), each tier only when it can still place someone; the others read my
# city at once (SQLite at the province's size: its counties seldom fill the list alone, and
# the extra query made a match ~2 ms slower)
_REGION_TIERS = frozenset({"postgresql"})

# (external?, -raw total, id, the score's arguments): sorts internal first, best first
Scored = tuple[bool, float, int, tuple[Any, ...]]
# scored candidates and, for a capped fetch that hit its cap, (external?, bound) of the last
Fetched = tuple[list[Scored], tuple[int, float] | None]


def _breakdown(parts: _Parts) -> ScoreBreakdown:
    return ScoreBreakdown(*parts)


def _fen(value: Decimal | None) -> int | None:
    return None if value is None else price_to_fen(value)


def score(facts: MatchFacts) -> ScoreBreakdown:
    """The 0..100 score of one pair (see the module docstring for every rule)."""
    return _breakdown(
        _parts(
            region_points(
                facts.my_county, facts.my_city, facts.candidate_county, facts.candidate_city
            ),
            price_to_fen(facts.offered),
            price_to_fen(facts.asking),
            _fen(facts.offered_guide),
            _fen(facts.asking_guide),
            facts.candidate_credit,
            facts.avg_rating,
            facts.my_open,
            facts.candidate_open,
        )
    )


@dataclass(frozen=True, slots=True)
class MatchView:
    kind: str  # the candidate's kind: "idle" for a shortage, "shortage" for an idle posting
    posting_id: int
    score: float
    breakdown: ScoreBreakdown
    internal: bool  # same enterprise: dispatch inside the company first
    card: PostingCard


@dataclass(frozen=True, slots=True)
class _Mine:
    kind: str
    id: int
    enterprise_id: int
    project_id: int | None
    county_code: str
    city_code: str
    trade_code: str
    grade_level: int
    open: int
    price_fen: int
    ring: str
    status: str
    expires_at: datetime
    avg_rating_x100: int | None
    posted_by_account_id: int | None

    @property
    def live(self) -> bool:
        return PostingStatus(self.status).is_live


@dataclass(frozen=True, slots=True)
class _Ranked:
    id: int
    internal: bool
    breakdown: ScoreBreakdown


def _bound_sql(mine: _Mine, cand: Any, cand_price: Any, rating_col: Any) -> ColumnElement[Any]:
    """SQL: an upper bound of `_raw_total` for a candidate of `mine`: the same parts without
    the guide-price penalties (they only take points off). The database ranks candidates by
    it, so a match reads a few dozen rows where a big city holds thousands of candidates."""
    region = case(
        (cand.county_code == mine.county_code, REGION_SAME_COUNTY),
        (cand.city_code == mine.city_code, REGION_SAME_CITY),
        (func.substr(cand.county_code, 1, 2) == mine.county_code[:2], REGION_SAME_PROVINCE),
        else_=0.0,
    )
    my_price = mine.price_fen
    if mine.kind == "shortage":  # I offer my_price, the candidate asks cand_price
        if my_price <= 0:
            price: Any = case((cand_price <= my_price, PRICE_MAX), else_=0.0)
        else:
            price = case(
                (cand_price <= my_price, PRICE_MAX),
                (cand_price * 100 >= my_price * (100 + GAP_ZERO_PERCENT), 0.0),
                else_=PRICE_MAX
                - (cand_price - my_price) * (100.0 * PRICE_MAX / GAP_ZERO_PERCENT / my_price),
            )
    else:  # the candidate offers cand_price, I ask my_price
        price = case(
            (cand_price >= my_price, PRICE_MAX),
            (cand_price <= 0, 0.0),
            (cand_price * (100 + GAP_ZERO_PERCENT) <= my_price * 100, 0.0),
            else_=PRICE_MAX
            - (my_price - cand_price) * (100.0 * PRICE_MAX / GAP_ZERO_PERCENT) / cand_price,
        )
    credit = case(
        (Enterprise.credit_score >= 100, CREDIT_MAX),
        (Enterprise.credit_score <= 0, 0.0),
        else_=Enterprise.credit_score * (CREDIT_MAX / 100),
    )
    if rating_col is not None:
        rating: Any = case(
            (rating_col.is_(None), RATING_MAX * NEUTRAL_RATING / 5),
            (rating_col >= 500, RATING_MAX),
            (rating_col <= 0, 0.0),
            else_=rating_col * (RATING_MAX / 500),
        )
    else:
        stars = None if mine.avg_rating_x100 is None else mine.avg_rating_x100 / 100
        rating = literal(RATING_MAX * _clamped_stars(stars) / 5)
    open_ = cand.headcount - cand.filled_count
    if mine.open <= 0:
        fit: Any = literal(HEADCOUNT_MAX)
    else:
        fit = case(
            (open_ >= mine.open, HEADCOUNT_MAX),
            (open_ <= 0, 0.0),
            else_=open_ * (HEADCOUNT_MAX / mine.open),
        )
    bound: ColumnElement[Any] = (region + price + credit + rating + fit).label("bound")
    return bound


def _cut_is_safe(ranked: list[Scored], tail: tuple[int, float] | None, limit: int) -> bool:
    """No candidate left out of a capped fetch (each ranks after `tail`: (external?, bound))
    can still make the list: an internal one's raw total lies below the last winner's by more
    than the window, and an external one cannot pass an internal last winner."""
    if tail is None:
        return True
    if len(ranked) < limit:
        return False
    last = heapq.nsmallest(limit, ranked, key=lambda r: r[:3])[-1]
    ext_tail, bound_tail = tail
    return ext_tail > int(last[0]) or bound_tail < -last[1] - _RAW_WINDOW


def _rating_max(mine: _Mine) -> float:
    """The best rating part a candidate of `mine` can give: the idle side's workers are rated,
    so it is fixed when I am the idle posting."""
    if mine.kind == "shortage":
        return RATING_MAX
    stars = None if mine.avg_rating_x100 is None else mine.avg_rating_x100 / 100
    return RATING_MAX * _clamped_stars(stars) / 5


_Filters = tuple[ColumnElement[bool], ...]


def _tiers(dialect: str, mine: _Mine, cand: Any) -> tuple[_Filters, list[tuple[_Filters, float]]]:
    """The first fetch's filters, then each further tier's filters and the best score it could
    give; no filters and no tiers: every candidate in one fetch (the tests' reference)."""
    my_county, my_city, my_ent = mine.county_code, mine.city_code, mine.enterprise_id
    if dialect in _REGION_TIERS:
        # my county first, and my own enterprise anywhere (internal candidates come first)
        first = (or_(cand.county_code == my_county, cand.enterprise_id == my_ent),)
        elsewhere = and_(cand.county_code != my_county, cand.enterprise_id != my_ent)
        rest = PRICE_MAX + CREDIT_MAX + _rating_max(mine) + HEADCOUNT_MAX
        return first, [
            ((elsewhere, cand.city_code == my_city), REGION_SAME_CITY + rest),
            ((elsewhere, cand.city_code != my_city), REGION_SAME_PROVINCE + rest),
        ]
    if _REGION_TIERS:  # my city (and my enterprise), then the rest of the province
        first = (or_(cand.city_code == my_city, cand.enterprise_id == my_ent),)
        return first, [
            ((cand.city_code != my_city, cand.enterprise_id != my_ent), OUTSIDE_CITY_MAX)
        ]
    return (), []


def _can_place(ranked: list[Scored], limit: int, best_possible: float) -> bool:
    """Could an external candidate scoring at most `best_possible` still make the list?"""
    internal = sum(1 for r in ranked if not r[0])
    if internal >= limit:
        return False
    needed = limit - internal
    external = heapq.nsmallest(needed, (r[1] for r in ranked if r[0]))  # -raw, best first
    return len(external) < needed or -external[-1] <= best_possible + _RAW_WINDOW


async def _load_mine(uow: UnitOfWork, kind: str, posting_id: int) -> _Mine:
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    m: Any = ShortagePosting if kind == "shortage" else IdlePosting
    project = ShortagePosting.project_id if kind == "shortage" else null()
    grade = ShortagePosting.min_grade if kind == "shortage" else IdlePosting.grade_level
    rating = null() if kind == "shortage" else IdlePosting.avg_rating_x100
    row = (
        await uow.session.execute(
            select(
                m.id, m.enterprise_id, project, m.county_code, m.city_code, m.trade_code, grade,
                m.headcount - m.filled_count, m.price_fen, m.ring, m.status, m.expires_at,
                rating, m.posted_by_account_id,
            ).where(m.id == posting_id)
        )
    ).first()  # fmt: skip
    if row is None:
        raise NotFound("error.posting_not_found")
    values = list(row)
    values[11] = as_utc(values[11])
    return _Mine(kind, *values)


async def _guide_prices(uow: UnitOfWork, trade_code: str) -> dict[tuple[str, int], int]:
    """The guide price (fen) in force today per (city, grade) for one trade, in one query."""
    today: date = local_date(uow.now())
    rows = await uow.session.execute(
        select(GuidePrice.city_code, GuidePrice.grade_level, GuidePrice.price_fen)
        .where(GuidePrice.trade_code == trade_code, GuidePrice.effective_date <= today)
        .order_by(GuidePrice.effective_date)
    )
    return {(city, grade): fen for city, grade, fen in rows}  # the newest wins


def _candidate_filters(mine: _Mine, now: datetime) -> tuple[Any, list[ColumnElement[bool]]]:
    """The candidate model and the hard filters of the pairing rule, in SQL: the twin of
    core.domain.rules.pairing_refusal (tests/integration/test_rules_agree.py holds them equal)."""
    cand: Any = IdlePosting if mine.kind == "shortage" else ShortagePosting
    clauses: list[ColumnElement[bool]] = [
        cand.trade_code == mine.trade_code,
        cand.status.in_(_LIVE),
        cand.headcount > cand.filled_count,
        cand.expires_at > now,
    ]
    if mine.kind == "shortage":
        clauses.append(IdlePosting.grade_level <= mine.grade_level)
    else:
        clauses.append(ShortagePosting.min_grade >= mine.grade_level)
    if mine.ring == Ring.INTERNAL.value:
        clauses.append(cand.enterprise_id == mine.enterprise_id)
    else:
        clauses.append(
            or_(cand.ring != Ring.INTERNAL.value, cand.enterprise_id == mine.enterprise_id)
        )
    return cand, clauses


async def _rank(uow: UnitOfWork, mine: _Mine, limit: int) -> list[_Ranked]:
    """Top `limit` candidates: hard filters in SQL, score in Python, the city before the rest."""
    now = uow.now()
    cand, base = _candidate_filters(mine, now)
    grade_col = cand.grade_level if mine.kind == "shortage" else cand.min_grade
    rating_col = cand.avg_rating_x100 if mine.kind == "shortage" else None
    cols = [
        cand.id,
        cand.enterprise_id,
        cand.county_code,
        cand.city_code,
        grade_col,
        cand.headcount - cand.filled_count,
        cand.price_fen,
        Enterprise.credit_score,
    ]
    if rating_col is not None:
        cols.append(rating_col)
    guides = await _guide_prices(uow, mine.trade_code)
    my_guide = guides.get((mine.city_code, mine.grade_level))
    my_stars = mine.avg_rating_x100 / 100 if mine.avg_rating_x100 is not None else None
    my_county, my_city, my_ent, my_open = (
        mine.county_code, mine.city_code, mine.enterprise_id, mine.open,
    )  # fmt: skip
    is_shortage = mine.kind == "shortage"
    my_price = mine.price_fen

    def scored(rows: Iterable[Sequence[Any]]) -> list[Scored]:
        out: list[Scored] = []
        for row in rows:
            cid, ent_id, county, city, grade, open_, price_fen, credit = row[:8]
            if county == my_county:
                region = REGION_SAME_COUNTY
            elif city == my_city:
                region = REGION_SAME_CITY
            else:
                region = region_points(my_county, my_city, county, city)
            guide = guides.get((city, grade))
            if is_shortage:
                stars = row[8] / 100 if row[8] is not None else None
                args = (
                    region,
                    my_price,
                    price_fen,
                    my_guide,
                    guide,
                    credit,
                    stars,
                    my_open,
                    open_,
                )
            else:
                args = (region, price_fen, my_price, guide, my_guide, credit, my_stars, my_open,
                        open_)  # fmt: skip
            out.append((ent_id != my_ent, -_raw_total(*args), cid, args))
        return out

    ext_col = case((cand.enterprise_id == my_ent, 0), else_=1)
    bound = _bound_sql(mine, cand, cand.price_fen, rating_col)

    async def fetch(*extra: ColumnElement[bool], cap: int | None = None) -> Fetched:
        """Candidates with `extra`; with `cap`, only the first `cap` by (internal first,
        upper bound of the score) and the bound of the last one fetched."""
        stmt = (
            select(*cols, ext_col, bound)
            .join(Enterprise, Enterprise.id == cand.enterprise_id)
            .where(and_(*base, *extra))
        )
        if cap is not None:
            stmt = stmt.order_by(ext_col, bound.desc()).limit(cap)
        conn = await uow.session.connection()  # Core rows: no ORM result machinery
        rows = (await conn.execute(stmt)).all()
        tail = (
            (int(rows[-1][-2]), float(rows[-1][-1]) + _BOUND_SLACK)
            if cap is not None and len(rows) >= cap
            else None
        )
        return scored(rows), tail

    async def fetch_best(*extra: ColumnElement[bool], known: list[Scored]) -> list[Scored]:
        """The candidates with `extra` that can matter next to `known`: first the best few by
        the SQL bound (an index-backed top-N, a few dozen rows), all of them only when the
        cut could have left out a winner."""
        cap = _CAP_PER_LIMIT * limit + _CAP_MIN
        for _ in range(_CAP_TRIES):
            rows, tail = await fetch(*extra, cap=cap)
            if _cut_is_safe(known + rows, tail, limit):
                return rows
            cap *= _CAP_GROWTH
        rows, _ = await fetch(*extra)
        return rows

    first, tiers = _tiers(uow.dialect, mine, cand)
    ranked = await fetch_best(*first, known=[])
    for where, best_possible in tiers:
        if not _can_place(ranked, limit, best_possible):
            break
        ranked += await fetch_best(*where, known=ranked)
    return _exact_best(ranked, limit)


def _exact_best(ranked: list[Scored], limit: int) -> list[_Ranked]:
    """The list, from the candidates ranked by raw totals: the exact parts are built only for
    those that can still make it."""
    if not ranked:
        return []
    last = heapq.nsmallest(limit, ranked, key=lambda r: r[:3])[-1]
    window = [
        r for r in ranked if r[0] < last[0] or (r[0] == last[0] and r[1] <= last[1] + _RAW_WINDOW)
    ]
    exact = [
        (ext, parts[6], cid, parts) for ext, _, cid, args in window for parts in [_parts(*args)]
    ]
    best = heapq.nsmallest(limit, exact, key=lambda r: (r[0], -r[1], r[2]))
    return [_Ranked(cid, not ext, _breakdown(parts)) for ext, _, cid, parts in best]


def _check_can_view(actor: Actor, mine: _Mine) -> None:
    if actor.role is Role.ADMIN:
        return
    if actor.role is Role.REGULATOR:
        if actor.region_code and region_contains(actor.region_code, mine.county_code):
            return
        raise PermissionDenied("error.forbidden")
    if mine.kind == "shortage" and mine.project_id is not None:
        if actor.can_act_for_project(mine.project_id, mine.enterprise_id):
            return
    elif actor.role is Role.DISPATCHER and actor.can_act_for_enterprise(mine.enterprise_id):
        return
    raise PermissionDenied("error.forbidden")


async def match_posting(
    uow: UnitOfWork, actor: Actor | None, kind: str, posting_id: int, *, limit: int = 10
) -> list[MatchView]:
    """The best live candidates of the other kind for one posting, internal ones first."""
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    if limit < 1 or limit > MAX_LIMIT:
        raise ValidationError("error.page_size", min=1, max=MAX_LIMIT)
    mine = await _load_mine(uow, kind, posting_id)
    if actor is not None:
        _check_can_view(actor, mine)
    if not mine.live:
        raise Conflict("error.posting_closed")
    ranked = await _rank(uow, mine, limit)
    other = "idle" if kind == "shortage" else "shortage"
    cards = await load_cards(uow, other, [r.id for r in ranked])
    return [
        MatchView(other, r.id, r.breakdown.total, r.breakdown, r.internal, cards[r.id])
        for r in ranked
        if r.id in cards
    ]


def quiet_until(
    now: datetime, start: time | None, end: time | None, tz: ZoneInfo = SHANGHAI
) -> datetime | None:
    """End of the quiet period `now` falls in (aware UTC), or None when it is not quiet.

    [start, end) in local time; start > end wraps midnight (22:00–07:00)."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    day = local.date()
    if start < end:
        if not (start <= t < end):
            return None
    elif t >= start:
        day += timedelta(days=1)
    elif t >= end:
        return None
    return datetime.combine(day, end, tzinfo=tz).astimezone(UTC)


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name) if name else SHANGHAI
    except (ZoneInfoNotFoundError, ValueError):
        return SHANGHAI


async def _recipients(
    uow: UnitOfWork, other_kind: str, ids: Sequence[int]
) -> dict[int, list[Account]]:
    """Who answers for each candidate posting: its poster if active, else the enterprise's
    active dispatchers; for a shortage also the foremen bound to its project."""
    model: Any = ShortagePosting if other_kind == "shortage" else IdlePosting
    project_col = ShortagePosting.project_id if other_kind == "shortage" else None
    cols = [model.id, model.enterprise_id, model.posted_by_account_id]
    if project_col is not None:
        cols.append(project_col)
    postings = (await uow.session.execute(select(*cols).where(model.id.in_(list(ids))))).all()
    posters = {p[2] for p in postings if p[2] is not None}
    enterprises = {p[1] for p in postings}
    projects = {p[3] for p in postings} if project_col is not None else set()
    conds: list[ColumnElement[bool]] = [
        Account.id.in_(posters),
        and_(Account.role == Role.DISPATCHER.value, Account.enterprise_id.in_(enterprises)),
    ]
    if projects:
        conds.append(
            and_(
                Account.role == Role.FOREMAN.value,
                Account.id.in_(
                    select(AccountProject.account_id).where(
                        AccountProject.project_id.in_(projects)
                    )
                ),
            )
        )
    accounts = (
        await uow.session.scalars(select(Account).where(Account.active.is_(True), or_(*conds)))
    ).all()
    by_id = {a.id: a for a in accounts}
    foremen_of: dict[int, list[Account]] = {}
    if projects:
        links = await uow.session.execute(
            select(AccountProject.project_id, AccountProject.account_id).where(
                AccountProject.project_id.in_(projects)
            )
        )
        for project_id, account_id in links:
            acc = by_id.get(account_id)
            if acc is not None and acc.role == Role.FOREMAN.value:
                foremen_of.setdefault(project_id, []).append(acc)
    result: dict[int, list[Account]] = {}
    for row in postings:
        pid, ent_id, poster_id = row[0], row[1], row[2]
        poster = by_id.get(poster_id) if poster_id is not None else None
        if poster is not None:
            people = [poster]
        else:
            people = [
                a
                for a in accounts
                if a.role == Role.DISPATCHER.value and a.enterprise_id == ent_id
            ]
        if project_col is not None:
            people += foremen_of.get(row[3], [])
        unique = {a.id: a for a in people}
        result[pid] = list(unique.values())
    return result


async def notify_matches(uow: UnitOfWork, kind: str, posting_id: int, *, top: int = 5) -> int:
    """Queue a "match" notification for the best `top` pairs to the other side; once per pair
    and account ever, never to this posting's own poster. Returns how many were queued.

    Does not commit: the posting services call it inside their own transaction."""
    if kind not in KINDS:
        raise ValidationError("error.unknown_kind")
    await uow.session.flush()
    mine = await _load_mine(uow, kind, posting_id)
    if not mine.live or mine.open <= 0 or top < 1:
        return 0
    ranked = await _rank(uow, mine, top)
    if not ranked:
        return 0
    other = "idle" if kind == "shortage" else "shortage"
    recipients = await _recipients(uow, other, [r.id for r in ranked])
    now = uow.now()
    queued = 0
    for r in ranked:
        shortage_id, idle_id = (mine.id, r.id) if kind == "shortage" else (r.id, mine.id)
        for account in recipients.get(r.id, []):
            if account.id == mine.posted_by_account_id or not account.notifications_enabled:
                continue
            not_before = quiet_until(
                now, account.quiet_start, account.quiet_end, _zone(account.timezone)
            )
            done = await uow.notify(
                account_id=account.id,
                kind="match",
                payload={
                    "my_posting_kind": other,
                    "my_posting_id": r.id,
                    "other_kind": kind,
                    "other_posting_id": mine.id,
                    "score": r.breakdown.total,
                },
                dedup_key=f"match:{shortage_id}:{idle_id}:{account.id}",
                not_before=not_before,
            )
            queued += int(done)
    return queued
