"""企业用工评价: the receiving side rates each dispatched worker once, 1–5 stars.

Regulators see per-worker statistics in the seed's four buckets. Our mapping of stars to them:
1–2 stars → 不满意 (unsatisfied), 3 → 一般 (fair), 4 → 比较满意 (satisfied),
5 → 非常满意 (very satisfied). Shares are percentages of the worker's ratings, rounded to one
decimal each (so they may sum to 99.9 or 100.1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import String, case, cast, exists, func, literal, select, true, update
from sqlalchemy.exc import IntegrityError

from core.db.models import (
    Account,
    AccountProject,
    Deal,
    DealWorker,
    Enterprise,
    OutboxMessage,
    Project,
    Rating,
    ShortagePosting,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import DealStatus, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.timeutil import as_utc, local_date
from core.domain.values import clean_text
from core.services.paging import Page, decode_id_cursor, encode_id_cursor, page_size
from core.services.regions import normalize_region_code, region_clause, region_contains

MAX_COMMENT_LEN = 200
BUCKETS = ("unsatisfied", "fair", "satisfied", "very_satisfied")  # 不满意 一般 比较满意 非常满意

StatsOrder = Literal["lowest", "name"]


@dataclass(frozen=True, slots=True)
class RatingView:
    id: int
    deal_id: int
    worker_id: int
    worker_name: str
    stars: int
    comment: str | None
    created_at: datetime
    worker_avg: Decimal  # over all the worker's ratings, two decimals
    worker_rating_count: int


@dataclass(frozen=True, slots=True)
class UnratedWorker:
    id: int
    name: str
    id_masked: str
    grade_level: int


@dataclass(frozen=True, slots=True)
class DueRatingPrompt:
    deal_id: int
    start_date: date
    unrated: int


@dataclass(frozen=True, slots=True)
class WorkerRatingStats:
    """One line of 企业用工评价 - 工人评分, over ratings from deals in the region asked for."""

    worker_id: int
    name: str
    gender: str
    id_masked: str
    enterprise_name: str
    trade_code: str
    rating_count: int
    average: Decimal  # two decimals
    unsatisfied_pct: Decimal  # 不满意, 1–2 stars
    fair_pct: Decimal  # 一般, 3 stars
    satisfied_pct: Decimal  # 比较满意, 4 stars
    very_satisfied_pct: Decimal  # 非常满意, 5 stars


def _pct(part: int, whole: int) -> Decimal:
    if whole <= 0:
        return Decimal("0.0")
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _average(total: int, count: int) -> Decimal:
    if count <= 0:
        return Decimal("0.00")
    return (Decimal(total) / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def _receiving_deal(uow: UnitOfWork, actor: Actor, deal_id: int) -> Deal:
    """The deal, if the actor is its receiving side (foreman of the project or dispatcher)."""
    deal = await uow.session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("error.deal_not_found")
    project_id = await uow.session.scalar(
        select(ShortagePosting.project_id).where(ShortagePosting.id == deal.shortage_id)
    )
    if project_id is None or not actor.can_act_for_project(
        project_id, deal.shortage_enterprise_id
    ):
        raise PermissionDenied("error.forbidden")
    return deal


def _rateable(uow: UnitOfWork, deal: Deal) -> bool:
    return deal.status == DealStatus.ACCEPTED and deal.start_date <= local_date(uow.now())


async def rate_worker(
    uow: UnitOfWork,
    actor: Actor,
    deal_id: int,
    worker_id: int,
    stars: int,
    comment: str | None = None,
) -> RatingView:
    """Rate a worker the actor's project received in this deal; once per deal and worker."""
    if isinstance(stars, bool) or not isinstance(stars, int) or not 1 <= stars <= 5:
        raise ValidationError("error.stars_range", min=1, max=5)
    text = clean_text(comment, field="comment", max_len=MAX_COMMENT_LEN, required=False) or None
    deal = await _receiving_deal(uow, actor, deal_id)
    if deal.status != DealStatus.ACCEPTED:
        raise Conflict("error.deal_not_accepted")
    if deal.start_date > local_date(uow.now()):
        raise ValidationError("error.rating_too_early", start_date=deal.start_date.isoformat())
    in_deal = await uow.session.scalar(
        select(DealWorker.worker_id).where(
            DealWorker.deal_id == deal_id, DealWorker.worker_id == worker_id
        )
    )
    if in_deal is None:
        raise ValidationError("error.worker_not_in_deal")
    already = await uow.session.scalar(
        select(Rating.id).where(Rating.deal_id == deal_id, Rating.worker_id == worker_id)
    )
    if already is not None:
        raise Conflict("error.already_rated")

    rating = Rating(
        deal_id=deal_id,
        worker_id=worker_id,
        stars=stars,
        comment=text,
        by_account_id=actor.account_id,
        created_at=uow.now(),
    )
    uow.session.add(rating)
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        # the same rating sent twice at once: the UNIQUE(deal, worker) constraint decides
        raise Conflict("error.already_rated") from exc
    # counters move in SQL so concurrent ratings of one worker (other deals) both count
    await uow.session.execute(
        update(Worker)
        .where(Worker.id == worker_id)
        .values(rating_sum=Worker.rating_sum + stars, rating_count=Worker.rating_count + 1)
        .execution_options(synchronize_session=False)
    )
    uow.audit(
        actor_account_id=actor.account_id,
        action="rating.create",
        entity="rating",
        entity_id=rating.id,
        after={"deal_id": deal_id, "worker_id": worker_id, "stars": stars, "comment": text},
    )
    totals = (
        await uow.session.execute(
            select(Worker.name, Worker.rating_sum, Worker.rating_count).where(
                Worker.id == worker_id
            )
        )
    ).one()
    await uow.commit()
    return RatingView(
        id=rating.id,
        deal_id=deal_id,
        worker_id=worker_id,
        worker_name=totals.name,
        stars=stars,
        comment=text,
        created_at=as_utc(rating.created_at),
        worker_avg=_average(totals.rating_sum, totals.rating_count),
        worker_rating_count=totals.rating_count,
    )


def _unrated_clause(deal_id: Any) -> Any:
    return ~exists().where(Rating.deal_id == deal_id, Rating.worker_id == DealWorker.worker_id)


async def pending_ratings(uow: UnitOfWork, actor: Actor, deal_id: int) -> list[UnratedWorker]:
    """Workers of the deal the actor may rate now and has not rated yet (none before the start
    date or unless the deal was accepted)."""
    deal = await _receiving_deal(uow, actor, deal_id)
    if not _rateable(uow, deal):
        return []
    rows = await uow.session.scalars(
        select(Worker)
        .join(DealWorker, DealWorker.worker_id == Worker.id)
        .where(DealWorker.deal_id == deal_id, _unrated_clause(deal_id))
        .order_by(Worker.id)
    )
    return [UnratedWorker(w.id, w.name, w.id_masked, w.grade_level) for w in rows]


def _dedup_key(deal_id: int) -> str:
    return f"rating_prompt:{deal_id}"


async def due_rating_prompts(
    uow: UnitOfWork, now: datetime, *, limit: int = 200
) -> list[DueRatingPrompt]:
    """Accepted deals whose prompt time has come, not prompted yet, with workers left to rate."""
    unrated = (
        select(func.count())
        .select_from(DealWorker)
        .where(DealWorker.deal_id == Deal.id, _unrated_clause(Deal.id))
        .scalar_subquery()
    )
    prompted = exists().where(
        OutboxMessage.dedup_key == literal("rating_prompt:") + cast(Deal.id, String)
    )
    rows = (
        await uow.session.execute(
            select(Deal.id, Deal.start_date, unrated)
            .where(
                Deal.status == DealStatus.ACCEPTED,
                Deal.rating_prompt_at.is_not(None),
                Deal.rating_prompt_at <= now,
                ~prompted,
                unrated > 0,
            )
            .order_by(Deal.rating_prompt_at, Deal.id)
            .limit(limit)
        )
    ).all()
    return [DueRatingPrompt(deal_id, start, int(n)) for deal_id, start, n in rows]


async def _prompt_recipient(uow: UnitOfWork, deal: Deal) -> int | None:
    """The receiving side's engaged account, else a foreman of the project, else a dispatcher."""
    if deal.shortage_account_id is not None:
        active = await uow.session.scalar(
            select(Account.id).where(
                Account.id == deal.shortage_account_id, Account.active.is_(True)
            )
        )
        if active is not None:
            return int(active)
    project_id = select(ShortagePosting.project_id).where(ShortagePosting.id == deal.shortage_id)
    foreman = await uow.session.scalar(
        select(Account.id)
        .join(AccountProject, AccountProject.account_id == Account.id)
        .where(
            AccountProject.project_id.in_(project_id),
            Account.role == Role.FOREMAN,
            Account.active.is_(True),
        )
        .order_by(Account.id)
        .limit(1)
    )
    if foreman is not None:
        return int(foreman)
    dispatcher = await uow.session.scalar(
        select(Account.id)
        .where(
            Account.enterprise_id == deal.shortage_enterprise_id,
            Account.role == Role.DISPATCHER,
            Account.active.is_(True),
        )
        .order_by(Account.id)
        .limit(1)
    )
    return int(dispatcher) if dispatcher is not None else None


async def mark_rating_prompted(uow: UnitOfWork, deal_id: int) -> bool:
    """Queue the "rate your workers" prompt for a deal, once ever. True if queued now."""
    deal = await uow.session.get(Deal, deal_id)
    if deal is None or deal.status != DealStatus.ACCEPTED:
        return False
    recipient = await _prompt_recipient(uow, deal)
    if recipient is None:
        return False
    queued = await uow.notify(
        account_id=recipient,
        kind="rating_prompt",
        payload={"deal_id": deal_id},
        dedup_key=_dedup_key(deal_id),
    )
    if not queued:
        return False
    try:
        await uow.commit()
    except IntegrityError:
        # another process queued the same prompt a moment ago
        await uow.rollback()
        return False
    return True


async def worker_rating_stats(
    uow: UnitOfWork,
    actor: Actor,
    *,
    region_code: str,
    cursor: str | None = None,
    limit: int | None = None,
    order: StatsOrder = "lowest",
) -> Page[WorkerRatingStats]:
    """Per-worker average and bucket shares over ratings from deals in the region.

    Pages by offset (the order is over an aggregate): the cursor encodes the next offset."""
    code = normalize_region_code(region_code)
    _require_region_scope(actor, code)
    if order not in ("lowest", "name"):
        raise ValidationError("error.invalid")
    size = page_size(limit)
    offset = decode_id_cursor(cursor) if cursor else 0
    if offset < 0:
        raise ValidationError("error.bad_cursor")

    count = func.count(Rating.id)
    total = func.sum(Rating.stars)

    def bucket(cond: Any) -> Any:
        return func.sum(case((cond, 1), else_=0))

    stmt = (
        select(
            Worker.id,
            Worker.name,
            Worker.gender,
            Worker.id_masked,
            Enterprise.name,
            Worker.trade_code,
            count,
            total,
            bucket(Rating.stars <= 2),
            bucket(Rating.stars == 3),
            bucket(Rating.stars == 4),
            bucket(Rating.stars == 5),
        )
        .select_from(Rating)
        .join(Deal, Deal.id == Rating.deal_id)
        .join(Worker, Worker.id == Rating.worker_id)
        .join(Enterprise, Enterprise.id == Worker.enterprise_id)
        .where(region_clause(code, Deal.county_code, Deal.city_code))
        .group_by(
            Worker.id,
            Worker.name,
            Worker.gender,
            Worker.id_masked,
            Enterprise.name,
            Worker.trade_code,
        )
    )
    if order == "lowest":
        # avg() is numeric on PostgreSQL and float on SQLite: both order alike; ties by id
        stmt = stmt.order_by(func.avg(Rating.stars).asc(), Worker.id.asc())
    else:
        stmt = stmt.order_by(Worker.name.asc(), Worker.id.asc())
    rows = (await uow.session.execute(stmt.offset(offset).limit(size + 1))).all()
    more = len(rows) > size
    items = tuple(_stats_row(row) for row in rows[:size])
    return Page(
        items=items,
        next_cursor=encode_id_cursor(offset + size) if more else None,
        prev_cursor=encode_id_cursor(max(0, offset - size)) if offset > 0 else None,
    )


def _stats_row(row: Any) -> WorkerRatingStats:
    wid, name, gender, id_masked, enterprise_name, trade_code, n, s, b12, b3, b4, b5 = row
    n = int(n)
    return WorkerRatingStats(
        worker_id=wid,
        name=name,
        gender=gender,
        id_masked=id_masked,
        enterprise_name=enterprise_name,
        trade_code=trade_code,
        rating_count=n,
        average=_average(int(s), n),
        unsatisfied_pct=_pct(int(b12), n),
        fair_pct=_pct(int(b3), n),
        satisfied_pct=_pct(int(b4), n),
        very_satisfied_pct=_pct(int(b5), n),
    )


def _require_region_scope(actor: Actor, code: str) -> None:
    """Regulators read their own region and everything below it; admins everything."""
    if actor.role is Role.ADMIN:
        return
    if actor.role is not Role.REGULATOR or not actor.region_code:
        raise PermissionDenied("error.forbidden")
    if not region_contains(actor.region_code, code):
        raise PermissionDenied("error.forbidden")


# --- what the receiving side still has to rate (the bot's "⭐ Rate workers") -----------------


@dataclass(frozen=True, slots=True)
class AwaitingRating:
    """An accepted, started deal of the actor's side with workers not rated yet."""

    deal_id: int
    project_name: str
    idle_enterprise_name: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    start_date: date
    workers: int
    unrated: int


@dataclass(frozen=True, slots=True)
class RatedWorker:
    worker_id: int
    name: str
    stars: int
    comment: str | None


@dataclass(frozen=True, slots=True)
class DealRatingSummary:
    """The ratings given in one deal, with the seed's four buckets (counts, not shares)."""

    deal_id: int
    workers: int
    rated: tuple[RatedWorker, ...]
    unsatisfied: int  # 不满意, 1–2 stars
    fair: int  # 一般, 3 stars
    satisfied: int  # 比较满意, 4 stars
    very_satisfied: int  # 非常满意, 5 stars
    average: Decimal | None  # two decimals, None before the first rating

    @property
    def unrated(self) -> int:
        return self.workers - len(self.rated)


@dataclass(frozen=True, slots=True)
class RatingPromptInfo:
    deal_id: int
    project_name: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    start_date: date
    workers: int
    unrated: int


def bucket_of(stars: int) -> str:
    """The seed's bucket of a star count: 1–2 不满意, 3 一般, 4 比较满意, 5 非常满意."""
    return BUCKETS[max(0, min(stars, 5) - 2)]


def _receiving_clause(actor: Actor) -> Any:
    """Deals whose receiving side the actor stands for (foreman: own projects)."""
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.DISPATCHER and actor.enterprise_id is not None:
        return Deal.shortage_enterprise_id == actor.enterprise_id
    if actor.role is Role.FOREMAN and actor.project_ids:
        return ShortagePosting.project_id.in_(sorted(actor.project_ids))
    raise PermissionDenied("error.forbidden")


async def deals_awaiting_rating(
    uow: UnitOfWork, actor: Actor, limit: int = 10
) -> list[AwaitingRating]:
    """Accepted deals of the actor's receiving side, started by today, with unrated workers;
    the longest-running first."""
    size = page_size(limit)
    total = (
        select(func.count())
        .select_from(DealWorker)
        .where(DealWorker.deal_id == Deal.id)
        .scalar_subquery()
    )
    unrated = (
        select(func.count())
        .select_from(DealWorker)
        .where(DealWorker.deal_id == Deal.id, _unrated_clause(Deal.id))
        .scalar_subquery()
    )
    rows = (
        await uow.session.execute(
            select(
                Deal.id,
                Project.name,
                Enterprise.name,
                Deal.trade_code,
                Trade.name_zh,
                Trade.name_en,
                Deal.start_date,
                total,
                unrated,
            )
            .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
            .join(Project, Project.id == ShortagePosting.project_id)
            .join(Enterprise, Enterprise.id == Deal.idle_enterprise_id)
            .join(Trade, Trade.code == Deal.trade_code)
            .where(
                _receiving_clause(actor),
                Deal.status == DealStatus.ACCEPTED.value,
                Deal.start_date <= local_date(uow.now()),
                unrated > 0,
            )
            .order_by(Deal.start_date, Deal.id)
            .limit(size)
        )
    ).all()
    return [
        AwaitingRating(
            deal_id=deal_id,
            project_name=project,
            idle_enterprise_name=supplier,
            trade_code=trade,
            trade_name_zh=zh,
            trade_name_en=en,
            start_date=start,
            workers=int(n),
            unrated=int(left),
        )
        for deal_id, project, supplier, trade, zh, en, start, n, left in rows
    ]


async def deal_rating_summary(uow: UnitOfWork, actor: Actor, deal_id: int) -> DealRatingSummary:
    """What the receiving side rated in one deal: each rating and the bucket counts."""
    await _receiving_deal(uow, actor, deal_id)
    workers = await uow.session.scalar(
        select(func.count()).select_from(DealWorker).where(DealWorker.deal_id == deal_id)
    )
    rows = (
        await uow.session.execute(
            select(Rating.worker_id, Worker.name, Rating.stars, Rating.comment)
            .join(Worker, Worker.id == Rating.worker_id)
            .where(Rating.deal_id == deal_id)
            .order_by(Rating.id)
        )
    ).all()
    rated = tuple(RatedWorker(wid, name, int(stars), text) for wid, name, stars, text in rows)
    counts = dict.fromkeys(BUCKETS, 0)
    for r in rated:
        counts[bucket_of(r.stars)] += 1
    return DealRatingSummary(
        deal_id=deal_id,
        workers=int(workers or 0),
        rated=rated,
        unsatisfied=counts["unsatisfied"],
        fair=counts["fair"],
        satisfied=counts["satisfied"],
        very_satisfied=counts["very_satisfied"],
        average=_average(sum(r.stars for r in rated), len(rated)) if rated else None,
    )


async def rating_prompt_info(uow: UnitOfWork, deal_id: int) -> RatingPromptInfo | None:
    """What the "please rate" prompt says about a deal (for the outbox renderer: the recipient
    was chosen by mark_rating_prompted); None if the deal is gone."""
    row = (
        await uow.session.execute(
            select(Deal.id, Project.name, Deal.trade_code, Trade.name_zh, Trade.name_en)
            .add_columns(Deal.start_date)
            .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
            .join(Project, Project.id == ShortagePosting.project_id)
            .join(Trade, Trade.code == Deal.trade_code)
            .where(Deal.id == deal_id)
        )
    ).first()
    if row is None:
        return None
    workers = await uow.session.scalar(
        select(func.count()).select_from(DealWorker).where(DealWorker.deal_id == deal_id)
    )
    unrated = await uow.session.scalar(
        select(func.count())
        .select_from(DealWorker)
        .where(DealWorker.deal_id == deal_id, _unrated_clause(deal_id))
    )
    did, project, trade, zh, en, start = row
    return RatingPromptInfo(
        did, project, trade, zh, en, start, workers=int(workers or 0), unrated=int(unrated or 0)
    )
