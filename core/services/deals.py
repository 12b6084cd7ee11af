"""用工交易: offers between a shortage and idle workers, countered until accepted or closed.

A deal has two sides: the shortage side (the receiving project's foreman, or a dispatcher of its
enterprise) and the idle side (a dispatcher of the enterprise whose workers move). One side
proposes, then the sides take turns (`awaiting_side`) to counter, accept or decline; the side
that made the current offer may cancel it. Dispatch between projects of the SAME enterprise is
allowed (the seed's first, internal ring).

Accepting moves workers. It is atomic and race-safe on SQLite and PostgreSQL alike: conditional
UPDATEs (`… WHERE status='pending' AND version=:v`, `… WHERE id IN (…) AND status='idle'`,
`… WHERE filled_count + n <= headcount`) whose row counts are checked; any miss raises before
commit, so the loser of a race writes nothing. (SQLite additionally serializes writers with
BEGIN IMMEDIATE, see core/db/engine.py.)

Deal records for regulators count person-days (人天) from the real dates of each worker's
stay (core.domain.dispatch.person_days, via core.services.dispatch), up to the report date.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Update,
    and_,
    case,
    delete,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import aliased

from core.db.models import (
    Account,
    AccountProject,
    Deal,
    DealEvent,
    DealWorker,
    Enterprise,
    IdlePosting,
    IdlePostingWorker,
    Project,
    ShortagePosting,
    Team,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import (
    LIVE_STATUSES,
    DealAction,
    DealStatus,
    PostingStatus,
    Ring,
    Role,
    Side,
    WorkerStatus,
)
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.ranges import check_date_range
from core.domain.rules import (
    check_pair,
    check_start_date,
    deal_worker_refusal,
    may_act_for_shortage,
    proposing_side,
    sides_of,
)
from core.domain.timeutil import SHANGHAI, as_utc, day_bounds, local_date
from core.domain.values import (
    fen_to_price,
    mask_phone,
    parse_headcount,
    parse_price,
    price_to_fen,
)
from core.services.dispatch import deal_person_days, start_dispatch
from core.services.paging import (
    Direction,
    Page,
    decode_id_cursor,
    decode_ts_cursor,
    encode_id_cursor,
    encode_ts_cursor,
    page_size,
)
from core.services.posting_state import is_open
from core.services.postings import worker_terms
from core.services.regions import normalize_region_code, region_clause, region_contains
from core.services.search import posting_terms

RATING_PROMPT_AT = time(9, 0)  # local time of the rating prompt
_LIVE = tuple(s.value for s in LIVE_STATUSES)


# --- DTOs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProposeDeal:
    """An offer. The shortage side names an idle posting (and may pick workers from it); the
    idle side names workers (with or without its idle posting). `side` settles who proposes
    when the actor could act for both (a dispatcher moving workers between own projects);
    headcount defaults to the number of named workers."""

    shortage_id: int
    start_date: date
    price: Decimal | str | int
    headcount: int | str | None = None
    idle_posting_id: int | None = None
    worker_ids: tuple[int, ...] = ()
    side: Side | None = None
    end_date: date | None = None  # the dispatch period's planned end; None: until released


@dataclass(frozen=True, slots=True)
class DealEventView:
    action: DealAction
    side: Side | None
    price: Decimal
    headcount: int
    start_date: date
    at: datetime


@dataclass(frozen=True, slots=True)
class DealWorkerView:
    id: int
    name: str
    id_masked: str
    grade_level: int
    avg_rating: Decimal | None  # over all ratings the worker ever got, one decimal
    rating_count: int


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class DealContacts:
    shortage: Contact
    idle: Contact


@dataclass(frozen=True, slots=True)
class DealView:
    id: int
    status: DealStatus
    version: int
    ring: Ring
    shortage_id: int
    idle_posting_id: int | None
    project_id: int
    project_name: str
    shortage_enterprise_id: int
    shortage_enterprise_name: str
    idle_enterprise_id: int
    idle_enterprise_name: str
    trade_code: str
    trade_name_zh: str
    trade_name_en: str
    min_grade: int
    county_code: str
    city_code: str
    headcount: int
    price: Decimal
    start_date: date
    proposer_side: Side
    awaiting_side: Side | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    history: tuple[DealEventView, ...]
    workers: tuple[DealWorkerView, ...]
    contacts: DealContacts | None  # only once accepted; masked phones for non-parties
    my_sides: frozenset[Side]  # the sides the viewer may act for
    # the prices the two postings asked, to put next to the offer (None: no idle posting)
    shortage_price: Decimal | None = None
    idle_price: Decimal | None = None

    @property
    def my_turn(self) -> bool:
        return self.status is DealStatus.PENDING and self.awaiting_side in self.my_sides


@dataclass(frozen=True, slots=True)
class DealListItem:
    id: int
    status: DealStatus
    trade_code: str
    trade_name_zh: str
    headcount: int
    price: Decimal
    start_date: date
    shortage_enterprise_name: str
    idle_enterprise_name: str
    awaiting_side: Side | None
    my_turn: bool
    expires_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DealRecord:
    """One line of 企业用工交易信息记录 (accepted deals)."""

    deal_id: int
    enterprise_name: str  # the receiving (shortage) enterprise, 施工单位
    supplier_name: str  # the enterprise whose workers moved
    trade_code: str
    trade_name_zh: str
    headcount: int
    person_days: int  # from the workers' real dates, up to the report date
    price: Decimal  # per worker per month
    amount: Decimal  # headcount × price: one month's value of the deal
    county_code: str
    accepted_at: datetime


@dataclass(frozen=True, slots=True)
class DealRecordPage:
    page: Page[DealRecord]
    total_deals: int
    total_headcount: int
    total_person_days: int


# --- helpers --------------------------------------------------------------------------------


def _today(uow: UnitOfWork) -> date:
    return local_date(uow.now())


def _open(posting: ShortagePosting | IdlePosting) -> int:
    return max(0, posting.headcount - posting.filled_count)


def _sides_of(actor: Actor, shortage: ShortagePosting, idle_enterprise_id: int) -> frozenset[Side]:
    return sides_of(
        actor,
        shortage_project_id=shortage.project_id,
        shortage_enterprise_id=shortage.enterprise_id,
        idle_enterprise_id=idle_enterprise_id,
    )


def _rows(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


async def _exec(uow: UnitOfWork, stmt: Update) -> int:
    """Run a conditional UPDATE and return how many rows it touched."""
    result = await uow.session.execute(stmt.execution_options(synchronize_session=False))
    return _rows(result)


def _price_of(raw: Decimal | str | int) -> int:
    return price_to_fen(parse_price(raw))


def _snapshot(deal: Deal) -> dict[str, Any]:
    return {
        "status": deal.status,
        "headcount": deal.headcount,
        "price": str(fen_to_price(deal.price_fen)),
        "start_date": deal.start_date.isoformat(),
        "awaiting_side": deal.awaiting_side,
        "version": deal.version,
    }


@dataclass
class _Ctx:
    deal: Deal
    shortage: ShortagePosting
    idle: IdlePosting | None
    sides: frozenset[Side]


async def _load(uow: UnitOfWork, actor: Actor, deal_id: int) -> _Ctx:
    deal = await uow.session.scalar(
        select(Deal).where(Deal.id == deal_id).execution_options(populate_existing=True)
    )
    if deal is None:
        raise NotFound("error.deal_not_found")
    shortage = await uow.session.get(ShortagePosting, deal.shortage_id, populate_existing=True)
    assert shortage is not None
    idle = (
        await uow.session.get(IdlePosting, deal.idle_posting_id, populate_existing=True)
        if deal.idle_posting_id is not None
        else None
    )
    return _Ctx(deal, shortage, idle, _sides_of(actor, shortage, deal.idle_enterprise_id))


def _require_party(ctx: _Ctx) -> None:
    if not ctx.sides:
        raise PermissionDenied("error.forbidden")


def _require_pending(ctx: _Ctx, expected_version: int | None) -> None:
    if ctx.deal.status != DealStatus.PENDING:
        raise Conflict("error.deal_closed")
    if expected_version is not None and expected_version != ctx.deal.version:
        raise Conflict("error.stale")


def _turn_side(ctx: _Ctx) -> Side:
    """The side the actor plays now: the awaiting one, which must be theirs."""
    awaiting = Side(ctx.deal.awaiting_side) if ctx.deal.awaiting_side else None
    if awaiting is None or awaiting not in ctx.sides:
        raise PermissionDenied("error.not_your_turn")
    return awaiting


async def _workers_by_id(uow: UnitOfWork, ids: Sequence[int]) -> dict[int, Worker]:
    if not ids:
        return {}
    rows = await uow.session.scalars(
        select(Worker).where(Worker.id.in_(ids)).execution_options(populate_existing=True)
    )
    return {w.id: w for w in rows}


async def _posting_worker_ids(uow: UnitOfWork, posting_id: int) -> set[int]:
    rows = await uow.session.scalars(
        select(IdlePostingWorker.worker_id).where(IdlePostingWorker.posting_id == posting_id)
    )
    return set(rows)


async def _check_workers(
    uow: UnitOfWork,
    ids: Sequence[int],
    *,
    headcount: int,
    idle_enterprise_id: int,
    shortage: ShortagePosting,
    idle: IdlePosting | None,
) -> list[int]:
    """Named workers must be idle, of the idle enterprise, of the trade, at or above the grade,
    and in the idle posting when the deal has one."""
    unique = list(dict.fromkeys(int(i) for i in ids))
    if len(unique) != headcount:
        raise ValidationError("error.worker_count_mismatch", headcount=headcount)
    workers = await _workers_by_id(uow, unique)
    in_posting = await _posting_worker_ids(uow, idle.id) if idle is not None else None
    for wid in unique:
        worker = workers.get(wid)
        if worker is None:
            raise ValidationError("error.worker_not_yours")
        refusal = deal_worker_refusal(
            worker_terms(worker, on_offer=wid in (in_posting or ())),
            idle_enterprise_id=idle_enterprise_id,
            trade_code=shortage.trade_code,
            min_grade=shortage.min_grade,
            posting_worker_ids=frozenset(in_posting) if in_posting is not None else None,
        )
        if refusal is not None:
            raise refusal
    return unique


async def _deal_worker_ids(uow: UnitOfWork, deal_id: int) -> list[int]:
    rows = await uow.session.scalars(
        select(DealWorker.worker_id)
        .where(DealWorker.deal_id == deal_id)
        .order_by(DealWorker.worker_id)
    )
    return list(rows)


async def _replace_deal_workers(uow: UnitOfWork, deal_id: int, ids: Sequence[int]) -> None:
    await uow.session.execute(delete(DealWorker).where(DealWorker.deal_id == deal_id))
    for wid in ids:
        uow.session.add(DealWorker(deal_id=deal_id, worker_id=wid))


async def _active_accounts(uow: UnitOfWork, ids: Sequence[int | None]) -> list[int]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return []
    rows = await uow.session.scalars(
        select(Account.id).where(Account.id.in_(wanted), Account.active.is_(True))
    )
    found = set(rows)
    return [i for i in dict.fromkeys(wanted) if i in found]


async def _side_recipients(
    uow: UnitOfWork, deal: Deal, side: Side, shortage: ShortagePosting, idle: IdlePosting | None
) -> list[int]:
    """Who hears about a deal for one side: the account engaged in the deal, else the posting's
    poster, else the enterprise's dispatchers (and, for the shortage side, the project's
    foremen)."""
    if side is Side.SHORTAGE:
        engaged, poster, enterprise_id = (
            deal.shortage_account_id,
            shortage.posted_by_account_id,
            deal.shortage_enterprise_id,
        )
    else:
        engaged, poster, enterprise_id = (
            deal.idle_account_id,
            idle.posted_by_account_id if idle is not None else None,
            deal.idle_enterprise_id,
        )
    for candidate in (engaged, poster):
        found = await _active_accounts(uow, [candidate])
        if found:
            return found
    who = and_(Account.role == Role.DISPATCHER, Account.enterprise_id == enterprise_id)
    if side is Side.SHORTAGE:
        foremen = select(AccountProject.account_id).where(
            AccountProject.project_id == shortage.project_id
        )
        who = or_(who, and_(Account.role == Role.FOREMAN, Account.id.in_(foremen)))
    rows = await uow.session.scalars(
        select(Account.id).where(who, Account.active.is_(True)).order_by(Account.id)
    )
    return list(rows)


async def _notify_sides(
    uow: UnitOfWork,
    ctx: _Ctx,
    sides: Sequence[Side],
    *,
    kind: str,
    event_id: int,
    skip: int | None,
) -> None:
    """Queue `kind` for the given sides; the acting account is never told about its own act."""
    seen: set[int] = set()
    for side in sides:
        for account_id in await _side_recipients(uow, ctx.deal, side, ctx.shortage, ctx.idle):
            if account_id == skip or account_id in seen:
                continue
            seen.add(account_id)
            await uow.notify(
                account_id=account_id,
                kind=kind,
                payload={"deal_id": ctx.deal.id, "event_id": event_id},
            )


def _event(
    deal: Deal, action: DealAction, side: Side | None, actor: Actor | None, at: datetime
) -> DealEvent:
    return DealEvent(
        deal_id=deal.id,
        at=at,
        action=action.value,
        side=side.value if side else None,
        actor_account_id=actor.account_id if actor else None,
        headcount=deal.headcount,
        price_fen=deal.price_fen,
        start_date=deal.start_date,
    )


async def _add_event(
    uow: UnitOfWork, deal: Deal, action: DealAction, side: Side | None, actor: Actor | None
) -> int:
    event = _event(deal, action, side, actor, uow.now())
    uow.session.add(event)
    await uow.session.flush()
    return event.id


def _account_field(side: Side) -> str:
    return "shortage_account_id" if side is Side.SHORTAGE else "idle_account_id"


async def _move(
    uow: UnitOfWork,
    ctx: _Ctx,
    expected_version: int,
    **values: Any,
) -> None:
    """Advance a pending deal: one conditional UPDATE on (status, version), then reload."""
    now = uow.now()
    touched = await _exec(
        uow,
        update(Deal)
        .where(
            Deal.id == ctx.deal.id,
            Deal.status == DealStatus.PENDING,
            Deal.version == expected_version,
        )
        .values(version=Deal.version + 1, updated_at=now, **values),
    )
    if touched != 1:
        # someone moved first: closed or answered
        current = await uow.session.scalar(select(Deal.status).where(Deal.id == ctx.deal.id))
        raise Conflict("error.deal_closed" if current != DealStatus.PENDING else "error.stale")
    await uow.session.refresh(ctx.deal)


# --- propose / counter / accept / decline / cancel / expire --------------------------------


def _proposal_headcount(uow: UnitOfWork, cmd: ProposeDeal) -> int:
    """Check a proposal's dates and headcount before anything is read; return the headcount."""
    check_start_date(cmd.start_date, _today(uow))
    if cmd.end_date is not None and cmd.end_date < cmd.start_date:
        raise ValidationError("error.release_before_start", start=cmd.start_date.isoformat())
    if cmd.headcount is None and not cmd.worker_ids:
        raise ValidationError("error.headcount_not_number")
    return (
        parse_headcount(cmd.headcount)
        if cmd.headcount is not None
        else parse_headcount(len(set(cmd.worker_ids)))
    )


async def _proposal_postings(
    uow: UnitOfWork, cmd: ProposeDeal
) -> tuple[ShortagePosting, IdlePosting | None]:
    """The shortage proposed on and, when one is named, the idle posting answering it."""
    shortage = await uow.session.get(ShortagePosting, cmd.shortage_id)
    if shortage is None:
        raise NotFound("error.posting_not_found")
    idle: IdlePosting | None = None
    if cmd.idle_posting_id is not None:
        idle = await uow.session.get(IdlePosting, cmd.idle_posting_id)
        if idle is None:
            raise NotFound("error.posting_not_found")
    return shortage, idle


async def _proposal_idle_enterprise(
    uow: UnitOfWork,
    actor: Actor,
    cmd: ProposeDeal,
    shortage: ShortagePosting,
    idle: IdlePosting | None,
) -> int:
    """Whose workers: the idle posting's enterprise, else the dispatcher's, else (admin) theirs."""
    if idle is not None:
        return idle.enterprise_id
    if actor.role is Role.DISPATCHER and actor.enterprise_id is not None:
        return actor.enterprise_id
    named = await _workers_by_id(uow, list(cmd.worker_ids))
    if not named:
        # no posting and nobody named: only a shortage-side ask is left, and it needs one
        if may_act_for_shortage(
            actor, project_id=shortage.project_id, enterprise_id=shortage.enterprise_id
        ):
            raise ValidationError("error.idle_posting_required")
        raise PermissionDenied("error.forbidden")
    return next(iter(named.values())).enterprise_id


def _check_postings_open(
    shortage: ShortagePosting, idle: IdlePosting | None, idle_enterprise_id: int, now: datetime
) -> None:
    """Both postings still take a deal, and the shortage is visible to the idle side."""
    if idle is not None:
        check_pair(posting_terms(shortage), posting_terms(idle), now)
        return
    if not is_open(shortage, now):
        raise Conflict("error.posting_closed")
    # an "internal" shortage exists only for its own company: no offer crosses that ring
    if shortage.ring == Ring.INTERNAL.value and shortage.enterprise_id != idle_enterprise_id:
        raise NotFound("error.posting_not_found")


async def _refuse_pending_twin(
    uow: UnitOfWork, shortage: ShortagePosting, idle: IdlePosting | None
) -> None:
    """One pending deal per pair of postings."""
    if idle is None:
        return
    twin = await uow.session.scalar(
        select(Deal.id).where(
            Deal.shortage_id == shortage.id,
            Deal.idle_posting_id == idle.id,
            Deal.status == DealStatus.PENDING,
        )
    )
    if twin is not None:
        raise Conflict("error.deal_pending_exists", deal_id=twin)


async def propose_deal(uow: UnitOfWork, actor: Actor, cmd: ProposeDeal) -> DealView:
    """Offer workers to a shortage (idle side) or ask an idle posting for them (shortage side)."""
    price_fen = _price_of(cmd.price)
    headcount = _proposal_headcount(uow, cmd)
    now = uow.now()
    shortage, idle = await _proposal_postings(uow, cmd)
    idle_enterprise_id = await _proposal_idle_enterprise(uow, actor, cmd, shortage, idle)

    sides = _sides_of(actor, shortage, idle_enterprise_id)
    if cmd.side is not None and cmd.side not in sides:
        raise PermissionDenied("error.forbidden")
    side = proposing_side(
        sides if cmd.side is None else frozenset({cmd.side}), idle_posting=idle is not None
    )
    if side is Side.IDLE and not cmd.worker_ids:
        raise ValidationError("error.workers_required")
    _check_postings_open(shortage, idle, idle_enterprise_id, now)
    open_count = min(_open(shortage), _open(idle) if idle is not None else _open(shortage))
    if headcount > open_count:
        raise ValidationError("error.headcount_exceeds_open", open=open_count)
    worker_ids: list[int] = []
    if cmd.worker_ids:
        worker_ids = await _check_workers(
            uow,
            cmd.worker_ids,
            headcount=headcount,
            idle_enterprise_id=idle_enterprise_id,
            shortage=shortage,
            idle=idle,
        )
    await _refuse_pending_twin(uow, shortage, idle)

    deal = Deal(
        shortage_id=shortage.id,
        idle_posting_id=idle.id if idle is not None else None,
        shortage_enterprise_id=shortage.enterprise_id,
        idle_enterprise_id=idle_enterprise_id,
        trade_code=shortage.trade_code,
        county_code=shortage.county_code,
        city_code=shortage.city_code,
        headcount=headcount,
        price_fen=price_fen,
        start_date=cmd.start_date,
        end_date=cmd.end_date,
        status=DealStatus.PENDING.value,
        proposer_side=side.value,
        awaiting_side=side.other.value,
        shortage_account_id=(
            actor.account_id if side is Side.SHORTAGE else shortage.posted_by_account_id
        ),
        idle_account_id=(
            actor.account_id
            if side is Side.IDLE
            else (idle.posted_by_account_id if idle is not None else None)
        ),
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(hours=uow.settings.offer_ttl_hours),
        version=1,
    )
    uow.session.add(deal)
    await uow.session.flush()
    for wid in worker_ids:
        uow.session.add(DealWorker(deal_id=deal.id, worker_id=wid))
    event_id = await _add_event(uow, deal, DealAction.PROPOSE, side, actor)
    uow.audit(
        actor_account_id=actor.account_id,
        action="deal.propose",
        entity="deal",
        entity_id=deal.id,
        after={**_snapshot(deal), "side": side.value, "worker_ids": worker_ids},
    )
    ctx = _Ctx(deal, shortage, idle, sides)
    await _notify_sides(
        uow, ctx, [side.other], kind="deal_offer", event_id=event_id, skip=actor.account_id
    )
    await uow.commit()
    return await _view(uow, actor, deal.id)


async def counter_deal(
    uow: UnitOfWork,
    actor: Actor,
    deal_id: int,
    *,
    price: Decimal | str | int | None = None,
    headcount: int | str | None = None,
    start_date: date | None = None,
    worker_ids: Sequence[int] | None = None,
    expected_version: int,
) -> DealView:
    """The awaiting side answers with other terms; the turn passes to the other side.

    A deal that names workers always names exactly `headcount` of them: changing the headcount
    of a named deal needs a new `worker_ids`."""
    ctx = await _load(uow, actor, deal_id)
    _require_party(ctx)
    _require_pending(ctx, expected_version)
    side = _turn_side(ctx)
    deal = ctx.deal
    before = _snapshot(deal)

    new_price = _price_of(price) if price is not None else deal.price_fen
    new_headcount = parse_headcount(headcount) if headcount is not None else deal.headcount
    new_start = start_date if start_date is not None else deal.start_date
    if start_date is not None:
        check_start_date(start_date, _today(uow))
    now = uow.now()
    if not is_open(ctx.shortage, now) or (ctx.idle is not None and not is_open(ctx.idle, now)):
        raise Conflict("error.posting_closed")
    open_count = min(
        _open(ctx.shortage), _open(ctx.idle) if ctx.idle is not None else _open(ctx.shortage)
    )
    if new_headcount > open_count:
        raise ValidationError("error.headcount_exceeds_open", open=open_count)

    current_ids = await _deal_worker_ids(uow, deal.id)
    new_ids: list[int] | None = None
    if worker_ids is not None:
        new_ids = await _check_workers(
            uow,
            worker_ids,
            headcount=new_headcount,
            idle_enterprise_id=deal.idle_enterprise_id,
            shortage=ctx.shortage,
            idle=ctx.idle,
        )
    elif current_ids and new_headcount != len(current_ids):
        raise ValidationError("error.worker_count_mismatch", headcount=new_headcount)
    unchanged = (
        new_price == deal.price_fen
        and new_headcount == deal.headcount
        and new_start == deal.start_date
        and (new_ids is None or sorted(new_ids) == current_ids)
    )
    if unchanged:
        raise ValidationError("error.counter_unchanged")

    await _move(
        uow,
        ctx,
        deal.version,
        price_fen=new_price,
        headcount=new_headcount,
        start_date=new_start,
        awaiting_side=side.other.value,
        expires_at=now + timedelta(hours=uow.settings.offer_ttl_hours),
        **({_account_field(side): actor.account_id} if actor.account_id is not None else {}),
    )
    if new_ids is not None:
        await _replace_deal_workers(uow, deal.id, new_ids)
    event_id = await _add_event(uow, deal, DealAction.COUNTER, side, actor)
    uow.audit(
        actor_account_id=actor.account_id,
        action="deal.counter",
        entity="deal",
        entity_id=deal.id,
        before=before,
        after={**_snapshot(deal), **({"worker_ids": new_ids} if new_ids is not None else {})},
    )
    await _notify_sides(
        uow, ctx, [side.other], kind="deal_counter", event_id=event_id, skip=actor.account_id
    )
    await uow.commit()
    return await _view(uow, actor, deal.id)


async def _pick_posting_workers(uow: UnitOfWork, ctx: _Ctx) -> list[int]:
    """An unnamed deal takes the idle posting's first `headcount` workers still idle and fit."""
    deal, shortage = ctx.deal, ctx.shortage
    if ctx.idle is None:
        raise ValidationError("error.workers_required")
    rows = await uow.session.scalars(
        select(Worker.id)
        .join(IdlePostingWorker, IdlePostingWorker.worker_id == Worker.id)
        .where(
            IdlePostingWorker.posting_id == ctx.idle.id,
            Worker.status == WorkerStatus.IDLE,
            Worker.enterprise_id == deal.idle_enterprise_id,
            Worker.trade_code == shortage.trade_code,
            Worker.grade_level <= shortage.min_grade,
        )
        .order_by(Worker.id)
        .limit(deal.headcount)
    )
    ids = list(rows)
    if len(ids) < deal.headcount:
        raise Conflict("error.not_enough_workers", available=len(ids))
    return ids


async def _team_for(uow: UnitOfWork, project_id: int, trade_code: str) -> Team:
    team = await uow.session.scalar(
        select(Team)
        .where(Team.project_id == project_id, Team.trade_code == trade_code)
        .order_by(Team.id)
        .limit(1)
    )
    if team is not None:
        return team
    trade = await uow.session.get(Trade, trade_code)
    team = Team(
        project_id=project_id,
        name=f"{trade.name_zh if trade else trade_code}班组",
        trade_code=trade_code,
    )
    uow.session.add(team)
    await uow.session.flush()
    return team


def _fill(
    model: type[ShortagePosting] | type[IdlePosting], posting_id: int, n: int, now: datetime
) -> Update:
    """filled_count += n only while live and within headcount; status follows."""
    return (
        update(model)
        .where(
            model.id == posting_id,
            model.status.in_(_LIVE),
            model.filled_count + n <= model.headcount,
        )
        .values(
            filled_count=model.filled_count + n,
            status=case(
                (model.filled_count + n >= model.headcount, PostingStatus.FILLED.value),
                else_=PostingStatus.PARTLY_FILLED.value,
            ),
            version=model.version + 1,
            updated_at=now,
        )
    )


async def _update_idle_postings(
    uow: UnitOfWork, worker_ids: Sequence[int], deal_posting_id: int | None, now: datetime
) -> None:
    """The deal's idle posting counts the moved workers as filled; any other idle posting that
    listed them shrinks by them. Rows are touched in id order so that two accepts crossing the
    same postings cannot deadlock on PostgreSQL."""
    rows = (
        await uow.session.execute(
            select(IdlePostingWorker.posting_id, func.count())
            .where(IdlePostingWorker.worker_id.in_(worker_ids))
            .group_by(IdlePostingWorker.posting_id)
        )
    ).all()
    removed = {int(posting_id): int(n) for posting_id, n in rows}
    if deal_posting_id is not None:
        removed[deal_posting_id] = 0
    # two-argument max() is scalar on SQLite; PostgreSQL spells it greatest()
    larger = func.greatest if uow.dialect == "postgresql" else func.max
    for posting_id in sorted(removed):
        if posting_id == deal_posting_id:
            if await _exec(uow, _fill(IdlePosting, posting_id, len(worker_ids), now)) != 1:
                raise Conflict("error.posting_full")
            continue
        n = removed[posting_id]
        await _exec(
            uow,
            update(IdlePosting)
            .where(IdlePosting.id == posting_id, IdlePosting.status.in_(_LIVE))
            .values(
                headcount=larger(IdlePosting.headcount - n, IdlePosting.filled_count),
                status=case(
                    (
                        IdlePosting.headcount - n <= IdlePosting.filled_count,
                        case(
                            (IdlePosting.filled_count > 0, PostingStatus.FILLED.value),
                            else_=PostingStatus.CANCELLED.value,
                        ),
                    ),
                    else_=IdlePosting.status,
                ),
                version=IdlePosting.version + 1,
                updated_at=now,
            ),
        )
    await uow.session.execute(
        delete(IdlePostingWorker).where(IdlePostingWorker.worker_id.in_(worker_ids))
    )


def rating_prompt_time(start: date, days: int) -> datetime:
    """09:00 in Shanxi `days` after the start date, as UTC."""
    local = datetime.combine(start + timedelta(days=days), RATING_PROMPT_AT, tzinfo=SHANGHAI)
    return local.astimezone(UTC)


async def accept_deal(
    uow: UnitOfWork,
    actor: Actor,
    deal_id: int,
    *,
    expected_version: int | None = None,
    worker_ids: Sequence[int] | None = None,
) -> DealView:
    """The awaiting side agrees: the workers move to the receiving project's team, atomically.

    The idle side may name the workers of an unnamed deal; otherwise an unnamed deal takes the
    idle posting's first `headcount` workers that are still idle."""
    ctx = await _load(uow, actor, deal_id)
    _require_party(ctx)
    _require_pending(ctx, expected_version)
    side = _turn_side(ctx)
    deal, shortage, idle = ctx.deal, ctx.shortage, ctx.idle
    now = uow.now()
    if as_utc(deal.expires_at) <= now:
        raise Conflict("error.deal_expired")
    if not is_open(shortage, now) or (idle is not None and not is_open(idle, now)):
        raise Conflict("error.posting_closed")

    named = await _deal_worker_ids(uow, deal.id)
    if worker_ids is not None and not named:
        if side is not Side.IDLE:
            raise PermissionDenied("error.forbidden")
        ids = await _check_workers(
            uow,
            worker_ids,
            headcount=deal.headcount,
            idle_enterprise_id=deal.idle_enterprise_id,
            shortage=shortage,
            idle=idle,
        )
    elif worker_ids is not None and sorted(set(worker_ids)) != named:
        raise ValidationError("error.workers_fixed")
    elif named:
        ids = await _check_workers(
            uow,
            named,
            headcount=deal.headcount,
            idle_enterprise_id=deal.idle_enterprise_id,
            shortage=shortage,
            idle=idle,
        )
    else:
        ids = await _pick_posting_workers(uow, ctx)
    before_workers = await _workers_by_id(uow, ids)
    before = _snapshot(deal)

    # 1. the deal itself: only one accept of it can pass this line
    await _move(
        uow,
        ctx,
        deal.version,
        status=DealStatus.ACCEPTED.value,
        awaiting_side=None,
        accepted_at=now,
        rating_prompt_at=rating_prompt_time(deal.start_date, uow.settings.rating_prompt_days),
        **({_account_field(side): actor.account_id} if actor.account_id is not None else {}),
    )
    # 2. the workers: only those still idle move; anything less and the whole accept is void
    team = await _team_for(uow, shortage.project_id, deal.trade_code)
    moved = await _exec(
        uow,
        update(Worker)
        .where(
            Worker.id.in_(ids),
            Worker.status == WorkerStatus.IDLE,
            Worker.enterprise_id == deal.idle_enterprise_id,
        )
        .values(
            status=WorkerStatus.BUSY.value,
            team_id=team.id,
            status_changed_at=now,
            updated_at=now,
        ),
    )
    if moved != len(ids):
        raise Conflict("error.worker_taken")
    # 3. the postings' counts, guarded the same way
    if await _exec(uow, _fill(ShortagePosting, shortage.id, len(ids), now)) != 1:
        raise Conflict("error.posting_full")
    await _update_idle_postings(uow, ids, idle.id if idle is not None else None, now)
    if not named:
        await _replace_deal_workers(uow, deal.id, ids)
    await start_dispatch(uow, deal, ids)

    event_id = await _add_event(uow, deal, DealAction.ACCEPT, side, actor)
    uow.audit(
        actor_account_id=actor.account_id,
        action="deal.accept",
        entity="deal",
        entity_id=deal.id,
        before=before,
        after={**_snapshot(deal), "worker_ids": ids, "team_id": team.id},
    )
    for wid in ids:
        worker = before_workers[wid]
        uow.audit(
            actor_account_id=actor.account_id,
            action="worker.dispatch",
            entity="worker",
            entity_id=wid,
            before={"status": worker.status, "team_id": worker.team_id},
            after={"status": WorkerStatus.BUSY.value, "team_id": team.id, "deal_id": deal.id},
        )
    await _notify_sides(
        uow,
        ctx,
        [Side.SHORTAGE, Side.IDLE],
        kind="deal_accepted",
        event_id=event_id,
        skip=actor.account_id,
    )
    await uow.commit()
    return await _view(uow, actor, deal.id)


async def decline_deal(
    uow: UnitOfWork, actor: Actor, deal_id: int, *, expected_version: int | None = None
) -> DealView:
    """The awaiting side says no; the deal closes."""
    ctx = await _load(uow, actor, deal_id)
    _require_party(ctx)
    _require_pending(ctx, expected_version)
    side = _turn_side(ctx)
    await _close(uow, actor, ctx, side, DealStatus.DECLINED, DealAction.DECLINE, "deal_declined")
    return await _view(uow, actor, deal_id)


async def cancel_deal(
    uow: UnitOfWork, actor: Actor, deal_id: int, *, expected_version: int | None = None
) -> DealView:
    """The side that made the current offer withdraws it while the other side has not answered."""
    ctx = await _load(uow, actor, deal_id)
    _require_party(ctx)
    _require_pending(ctx, expected_version)
    offering = Side(ctx.deal.awaiting_side).other if ctx.deal.awaiting_side else None
    if offering is None or offering not in ctx.sides:
        raise PermissionDenied("error.not_your_turn")
    await _close(
        uow, actor, ctx, offering, DealStatus.CANCELLED, DealAction.CANCEL, "deal_cancelled"
    )
    return await _view(uow, actor, deal_id)


async def _close(
    uow: UnitOfWork,
    actor: Actor,
    ctx: _Ctx,
    side: Side,
    status: DealStatus,
    action: DealAction,
    kind: str,
) -> None:
    before = _snapshot(ctx.deal)
    await _move(uow, ctx, ctx.deal.version, status=status.value, awaiting_side=None)
    event_id = await _add_event(uow, ctx.deal, action, side, actor)
    uow.audit(
        actor_account_id=actor.account_id,
        action=f"deal.{action.value}",
        entity="deal",
        entity_id=ctx.deal.id,
        before=before,
        after=_snapshot(ctx.deal),
    )
    await _notify_sides(
        uow, ctx, [side.other], kind=kind, event_id=event_id, skip=actor.account_id
    )
    await uow.commit()


async def expire_deals(uow: UnitOfWork, *, batch: int = 200) -> int:
    """Close pending offers nobody answered in time; both sides are told. Returns how many."""
    now = uow.now()
    due = (
        await uow.session.execute(
            select(Deal.id, Deal.version)
            .where(Deal.status == DealStatus.PENDING, Deal.expires_at <= now)
            .order_by(Deal.id)
            .limit(batch)
        )
    ).all()
    expired = 0
    for deal_id, version in due:
        touched = await _exec(
            uow,
            update(Deal)
            .where(Deal.id == deal_id, Deal.status == DealStatus.PENDING, Deal.version == version)
            .values(
                status=DealStatus.EXPIRED.value,
                awaiting_side=None,
                version=Deal.version + 1,
                updated_at=now,
            ),
        )
        if touched != 1:
            continue  # answered a moment ago
        ctx = await _load(uow, Actor.system(), deal_id)
        event_id = await _add_event(uow, ctx.deal, DealAction.EXPIRE, None, None)
        uow.audit(
            actor_account_id=None,
            action="deal.expire",
            entity="deal",
            entity_id=deal_id,
            before={"status": DealStatus.PENDING.value, "version": version},
            after=_snapshot(ctx.deal),
        )
        await _notify_sides(
            uow, ctx, [Side.SHORTAGE, Side.IDLE], kind="deal_expired", event_id=event_id, skip=None
        )
        expired += 1
    if expired:
        await uow.commit()
    return expired


# --- reading --------------------------------------------------------------------------------


def _avg(rating_sum: int, rating_count: int) -> Decimal | None:
    if rating_count <= 0:
        return None
    return (Decimal(rating_sum) / rating_count).quantize(Decimal("0.1"))


def _ring(deal: Deal, shortage: ShortagePosting) -> Ring:
    if deal.shortage_enterprise_id == deal.idle_enterprise_id:
        return Ring.INTERNAL
    return Ring.ESCALATED if shortage.ring == Ring.ESCALATED else Ring.MARKET


async def _view(uow: UnitOfWork, actor: Actor, deal_id: int) -> DealView:
    ctx = await _load(uow, actor, deal_id)
    deal, shortage, idle = ctx.deal, ctx.shortage, ctx.idle
    project = await uow.session.get(Project, shortage.project_id)
    trade = await uow.session.get(Trade, deal.trade_code)
    enterprises = {
        e.id: e
        for e in await uow.session.scalars(
            select(Enterprise).where(
                Enterprise.id.in_({deal.shortage_enterprise_id, deal.idle_enterprise_id})
            )
        )
    }
    events = await uow.session.scalars(
        select(DealEvent).where(DealEvent.deal_id == deal.id).order_by(DealEvent.id)
    )
    workers = await uow.session.scalars(
        select(Worker)
        .join(DealWorker, DealWorker.worker_id == Worker.id)
        .where(DealWorker.deal_id == deal.id)
        .order_by(Worker.id)
        .execution_options(populate_existing=True)
    )
    contacts: DealContacts | None = None
    if deal.status == DealStatus.ACCEPTED:
        party = bool(ctx.sides)
        shortage_contact = Contact(shortage.contact_name, shortage.contact_phone)
        if idle is not None:
            idle_contact = Contact(idle.contact_name, idle.contact_phone)
        else:
            account = (
                await uow.session.get(Account, deal.idle_account_id)
                if deal.idle_account_id is not None
                else None
            )
            idle_contact = Contact(
                account.display_name if account else enterprises[deal.idle_enterprise_id].name,
                account.phone if account else None,
            )
        if not party:
            shortage_contact = Contact(
                shortage_contact.name,
                mask_phone(shortage_contact.phone) if shortage_contact.phone else None,
            )
            idle_contact = Contact(
                idle_contact.name, mask_phone(idle_contact.phone) if idle_contact.phone else None
            )
        contacts = DealContacts(shortage=shortage_contact, idle=idle_contact)
    return DealView(
        id=deal.id,
        status=DealStatus(deal.status),
        version=deal.version,
        ring=_ring(deal, shortage),
        shortage_id=shortage.id,
        idle_posting_id=deal.idle_posting_id,
        project_id=shortage.project_id,
        project_name=project.name if project else "",
        shortage_enterprise_id=deal.shortage_enterprise_id,
        shortage_enterprise_name=enterprises[deal.shortage_enterprise_id].name,
        idle_enterprise_id=deal.idle_enterprise_id,
        idle_enterprise_name=enterprises[deal.idle_enterprise_id].name,
        trade_code=deal.trade_code,
        trade_name_zh=trade.name_zh if trade else deal.trade_code,
        trade_name_en=trade.name_en if trade else deal.trade_code,
        min_grade=shortage.min_grade,
        county_code=deal.county_code,
        city_code=deal.city_code,
        headcount=deal.headcount,
        price=fen_to_price(deal.price_fen),
        shortage_price=fen_to_price(shortage.price_fen),
        idle_price=fen_to_price(idle.price_fen) if idle is not None else None,
        start_date=deal.start_date,
        proposer_side=Side(deal.proposer_side),
        awaiting_side=Side(deal.awaiting_side) if deal.awaiting_side else None,
        created_at=as_utc(deal.created_at),
        expires_at=as_utc(deal.expires_at),
        accepted_at=as_utc(deal.accepted_at) if deal.accepted_at else None,
        history=tuple(
            DealEventView(
                action=DealAction(e.action),
                side=Side(e.side) if e.side else None,
                price=fen_to_price(e.price_fen),
                headcount=e.headcount,
                start_date=e.start_date,
                at=as_utc(e.at),
            )
            for e in events
        ),
        workers=tuple(
            DealWorkerView(
                id=w.id,
                name=w.name,
                id_masked=w.id_masked,
                grade_level=w.grade_level,
                avg_rating=_avg(w.rating_sum, w.rating_count),
                rating_count=w.rating_count,
            )
            for w in workers
        ),
        contacts=contacts,
        my_sides=frozenset(ctx.sides),
    )


async def get_deal(uow: UnitOfWork, actor: Actor, deal_id: int) -> DealView:
    """A deal as its parties see it, or as a regulator of its region does (masked phones)."""
    ctx = await _load(uow, actor, deal_id)
    regulator = (
        actor.role is Role.REGULATOR
        and actor.region_code is not None
        and region_contains(actor.region_code, ctx.deal.county_code)
    )
    if not ctx.sides and not regulator:
        raise PermissionDenied("error.forbidden")
    return await _view(uow, actor, deal_id)


def _party_clause(actor: Actor) -> ColumnElement[bool]:
    if actor.role is Role.ADMIN:
        return true()
    if actor.role is Role.DISPATCHER and actor.enterprise_id is not None:
        return or_(
            Deal.shortage_enterprise_id == actor.enterprise_id,
            Deal.idle_enterprise_id == actor.enterprise_id,
        )
    if actor.role is Role.FOREMAN and actor.project_ids:
        return Deal.shortage_id.in_(
            select(ShortagePosting.id).where(ShortagePosting.project_id.in_(actor.project_ids))
        )
    return false()


async def list_deals(
    uow: UnitOfWork,
    actor: Actor,
    *,
    status: DealStatus | None = None,
    cursor: str | None = None,
    direction: Direction = "next",
    limit: int | None = None,
) -> Page[DealListItem]:
    """The actor's deals, newest first (keyset pages by id)."""
    if actor.role not in (Role.FOREMAN, Role.DISPATCHER, Role.ADMIN):
        raise PermissionDenied("error.forbidden")
    size = page_size(limit)
    shortage_ent = aliased(Enterprise)
    idle_ent = aliased(Enterprise)
    stmt = (
        select(Deal, Trade.name_zh, shortage_ent.name, idle_ent.name)
        .join(Trade, Trade.code == Deal.trade_code)
        .join(shortage_ent, shortage_ent.id == Deal.shortage_enterprise_id)
        .join(idle_ent, idle_ent.id == Deal.idle_enterprise_id)
        .where(_party_clause(actor))
    )
    if status is not None:
        stmt = stmt.where(Deal.status == DealStatus(status).value)
    anchor = decode_id_cursor(cursor) if cursor else None
    if direction == "next":
        if anchor is not None:
            stmt = stmt.where(Deal.id < anchor)
        stmt = stmt.order_by(Deal.id.desc())
    else:
        if anchor is not None:
            stmt = stmt.where(Deal.id > anchor)
        stmt = stmt.order_by(Deal.id.asc())
    rows = list((await uow.session.execute(stmt.limit(size + 1))).all())
    more = len(rows) > size
    rows = rows[:size]
    if direction == "prev":
        rows.reverse()
    shortage_projects: dict[int, int] = {}
    if actor.role is Role.FOREMAN and rows:
        shortage_projects = dict(
            (
                await uow.session.execute(
                    select(ShortagePosting.id, ShortagePosting.project_id).where(
                        ShortagePosting.id.in_({r[0].shortage_id for r in rows})
                    )
                )
            ).all()
        )
    items = []
    for deal, trade_name, shortage_name, idle_name in rows:
        mine: set[Side] = set()
        if actor.role is Role.ADMIN:
            mine = {Side.SHORTAGE, Side.IDLE}
        elif actor.role is Role.DISPATCHER:
            if deal.shortage_enterprise_id == actor.enterprise_id:
                mine.add(Side.SHORTAGE)
            if deal.idle_enterprise_id == actor.enterprise_id:
                mine.add(Side.IDLE)
        elif shortage_projects.get(deal.shortage_id) in actor.project_ids:
            mine.add(Side.SHORTAGE)
        awaiting = Side(deal.awaiting_side) if deal.awaiting_side else None
        items.append(
            DealListItem(
                id=deal.id,
                status=DealStatus(deal.status),
                trade_code=deal.trade_code,
                trade_name_zh=trade_name,
                headcount=deal.headcount,
                price=fen_to_price(deal.price_fen),
                start_date=deal.start_date,
                shortage_enterprise_name=shortage_name,
                idle_enterprise_name=idle_name,
                awaiting_side=awaiting,
                my_turn=deal.status == DealStatus.PENDING and awaiting in mine,
                expires_at=as_utc(deal.expires_at),
                updated_at=as_utc(deal.updated_at),
            )
        )
    return _page(tuple(items), [i.id for i in items], more, direction, cursor, encode_id_cursor)


def _page(
    items: tuple[Any, ...],
    keys: list[Any],
    more: bool,
    direction: Direction,
    cursor: str | None,
    encode: Callable[..., str],
) -> Page[Any]:
    if not items:
        return Page(items=(), next_cursor=None, prev_cursor=None)
    first, last = keys[0], keys[-1]
    args_first = first if isinstance(first, tuple) else (first,)
    args_last = last if isinstance(last, tuple) else (last,)
    if direction == "next":
        next_cursor = encode(*args_last) if more else None
        prev_cursor = encode(*args_first) if cursor else None
    else:
        next_cursor = encode(*args_last)
        prev_cursor = encode(*args_first) if more else None
    return Page(items=items, next_cursor=next_cursor, prev_cursor=prev_cursor)


def _require_region_scope(actor: Actor, code: str) -> None:
    """Regulators read their own region and everything below it; admins everything."""
    if actor.role is Role.ADMIN:
        return
    if actor.role is not Role.REGULATOR or not actor.region_code:
        raise PermissionDenied("error.forbidden")
    if not region_contains(actor.region_code, code):
        raise PermissionDenied("error.forbidden")


async def deal_records(
    uow: UnitOfWork,
    actor: Actor,
    *,
    region_code: str,
    date_from: date,
    date_to: date,
    trade_code: str | None = None,
    county_code: str | None = None,
    headcount_min: int | None = None,
    headcount_max: int | None = None,
    price_min: Decimal | None = None,
    price_max: Decimal | None = None,
    cursor: str | None = None,
    direction: Direction = "next",
    limit: int | None = None,
) -> DealRecordPage:
    """企业用工交易信息记录: accepted deals in a region and date range (Shanxi days, inclusive,
    at most a year), newest acceptance first, with totals over the whole filter; optionally
    only deals of a headcount and a monthly price (CNY per worker) within the given bounds."""
    region = normalize_region_code(region_code)
    _require_region_scope(actor, region)
    check_date_range(date_from, date_to)
    size = page_size(limit)
    start, _ = day_bounds(date_from)
    _, end = day_bounds(date_to)
    where = [
        Deal.status == DealStatus.ACCEPTED,
        Deal.accepted_at >= start,
        Deal.accepted_at < end,
        region_clause(region, Deal.county_code, Deal.city_code),
    ]
    if county_code:
        county = normalize_region_code(county_code)
        _require_region_scope(actor, county)
        where.append(region_clause(county, Deal.county_code, Deal.city_code))
    if trade_code:
        where.append(Deal.trade_code == trade_code)
    if headcount_min is not None:
        where.append(Deal.headcount >= headcount_min)
    if headcount_max is not None:
        where.append(Deal.headcount <= headcount_max)
    if price_min is not None:
        where.append(Deal.price_fen >= price_to_fen(price_min))
    if price_max is not None:
        where.append(Deal.price_fen <= price_to_fen(price_max))

    totals = (
        await uow.session.execute(
            select(func.count(), func.coalesce(func.sum(Deal.headcount), 0)).where(*where)
        )
    ).one()
    receiving = aliased(Enterprise)
    supplier = aliased(Enterprise)
    stmt = (
        select(Deal, receiving.name, supplier.name, Trade.name_zh)
        .join(receiving, receiving.id == Deal.shortage_enterprise_id)
        .join(supplier, supplier.id == Deal.idle_enterprise_id)
        .join(Trade, Trade.code == Deal.trade_code)
        .where(*where)
    )
    if cursor:
        at, row_id = decode_ts_cursor(cursor)
        if direction == "next":
            stmt = stmt.where(
                or_(Deal.accepted_at < at, and_(Deal.accepted_at == at, Deal.id < row_id))
            )
        else:
            stmt = stmt.where(
                or_(Deal.accepted_at > at, and_(Deal.accepted_at == at, Deal.id > row_id))
            )
    if direction == "next":
        stmt = stmt.order_by(Deal.accepted_at.desc(), Deal.id.desc())
    else:
        stmt = stmt.order_by(Deal.accepted_at.asc(), Deal.id.asc())
    rows = list((await uow.session.execute(stmt.limit(size + 1))).all())
    more = len(rows) > size
    rows = rows[:size]
    if direction == "prev":
        rows.reverse()
    report_day = min(date_to, _today(uow))
    days_of = await deal_person_days(uow, [r[0].id for r in rows], until=report_day)
    items = tuple(
        DealRecord(
            deal_id=deal.id,
            enterprise_name=receiving_name,
            supplier_name=supplier_name,
            trade_code=deal.trade_code,
            trade_name_zh=trade_name,
            headcount=deal.headcount,
            person_days=days_of.get(deal.id, 0),
            price=fen_to_price(deal.price_fen),
            amount=fen_to_price(deal.price_fen * deal.headcount),
            county_code=deal.county_code,
            accepted_at=as_utc(deal.accepted_at or deal.updated_at),
        )
        for deal, receiving_name, supplier_name, trade_name in rows
    )
    page = _page(
        items,
        [(r.accepted_at, r.deal_id) for r in items],
        more,
        direction,
        cursor,
        encode_ts_cursor,
    )
    count, headcount = int(totals[0]), int(totals[1])
    all_ids = list(await uow.session.scalars(select(Deal.id).where(*where)))
    total_days = sum((await deal_person_days(uow, all_ids, until=report_day)).values())
    return DealRecordPage(
        page=page,
        total_deals=count,
        total_headcount=headcount,
        total_person_days=total_days,
    )
