"""Posting shortages (发布缺工信息) and declaring idle workers (赋闲工人提报), their edits,
closing, expiry and escalation to the regulator (the third dispatch ring)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypedDict, Unpack

from sqlalchemy import ColumnElement, Select, bindparam, func, select, update

from core.db.models import (
    Account,
    Enterprise,
    Grade,
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
from core.domain.enums import (
    LIVE_STATUSES,
    PostingStatus,
    ProjectStatus,
    RegionLevel,
    Ring,
    Role,
)
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import (
    WorkerTerms,
    declare_idle_refusal,
    may_post_shortage_for,
    poster_ring,
)
from core.domain.timeutil import as_utc
from core.domain.values import (
    MAX_HEADCOUNT,
    clean_person_name,
    fen_to_price,
    mask_phone,
    parse_headcount,
    parse_mobile,
    parse_price,
    price_to_fen,
)
from core.services import reference
from core.services.enterprises import require_active_enterprise
from core.services.matching import notify_matches
from core.services.regions import normalize_region_code
from core.services.search import PostingKind

_LIVE = [s.value for s in LIVE_STATUSES]


# --- commands and views ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostShortageCommand:
    project_id: int
    trade_code: str
    min_grade: int
    headcount: int | str
    price: Decimal | str | int
    contact_name: str
    contact_phone: str
    ring: Ring | str | None = None  # default: the market; "internal" keeps it in the company


@dataclass(frozen=True, slots=True)
class DeclareIdleCommand:
    county_code: str
    trade_code: str
    grade_level: int
    worker_ids: Sequence[int]
    price: Decimal | str | int
    contact_name: str
    contact_phone: str
    ring: Ring | str | None = None
    enterprise_id: int | None = None  # only for an admin; a dispatcher posts for their own


@dataclass(frozen=True, slots=True)
class ShortageView:
    id: int
    project_id: int
    project_name: str
    enterprise_id: int
    enterprise_name: str
    county_code: str
    city_code: str
    trade_code: str
    min_grade: int
    headcount: int
    filled_count: int
    open_headcount: int
    price: Decimal
    contact_name: str
    contact_phone_masked: str
    contact_phone_private: str  # the raw number: front ends decide who may see it
    ring: str
    status: str
    posted_by_account_id: int | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    escalated_at: datetime | None
    version: int


@dataclass(frozen=True, slots=True)
class IdlePostingView:
    id: int
    enterprise_id: int
    enterprise_name: str
    county_code: str
    city_code: str
    trade_code: str
    grade_level: int
    headcount: int
    filled_count: int
    open_headcount: int
    worker_ids: tuple[int, ...]
    price: Decimal
    avg_rating: Decimal | None
    contact_name: str
    contact_phone_masked: str
    contact_phone_private: str  # the raw number: front ends decide who may see it
    ring: str
    status: str
    posted_by_account_id: int | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    escalated_at: datetime | None
    version: int


def _opt_utc(value: datetime | None) -> datetime | None:
    return as_utc(value) if value is not None else None


async def _shortage_view(uow: UnitOfWork, s: ShortagePosting) -> ShortageView:
    project = await uow.session.get(Project, s.project_id)
    enterprise = await uow.session.get(Enterprise, s.enterprise_id)
    assert project is not None
    assert enterprise is not None
    return ShortageView(
        id=s.id,
        project_id=s.project_id,
        project_name=project.name,
        enterprise_id=s.enterprise_id,
        enterprise_name=enterprise.name,
        county_code=s.county_code,
        city_code=s.city_code,
        trade_code=s.trade_code,
        min_grade=s.min_grade,
        headcount=s.headcount,
        filled_count=s.filled_count,
        open_headcount=max(0, s.headcount - s.filled_count),
        price=fen_to_price(s.price_fen),
        contact_name=s.contact_name,
        contact_phone_masked=mask_phone(s.contact_phone),
        contact_phone_private=s.contact_phone,
        ring=s.ring,
        status=s.status,
        posted_by_account_id=s.posted_by_account_id,
        created_at=as_utc(s.created_at),
        updated_at=as_utc(s.updated_at),
        expires_at=as_utc(s.expires_at),
        escalated_at=_opt_utc(s.escalated_at),
        version=s.version,
    )


async def idle_worker_ids(uow: UnitOfWork, posting_id: int) -> tuple[int, ...]:
    rows = await uow.session.scalars(
        select(IdlePostingWorker.worker_id)
        .where(IdlePostingWorker.posting_id == posting_id)
        .order_by(IdlePostingWorker.worker_id)
    )
    return tuple(rows.all())


async def _idle_view(uow: UnitOfWork, p: IdlePosting) -> IdlePostingView:
    enterprise = await uow.session.get(Enterprise, p.enterprise_id)
    assert enterprise is not None
    avg = (
        (Decimal(p.avg_rating_x100) / 100).quantize(Decimal("0.01"))
        if p.avg_rating_x100 is not None
        else None
    )
    return IdlePostingView(
        id=p.id,
        enterprise_id=p.enterprise_id,
        enterprise_name=enterprise.name,
        county_code=p.county_code,
        city_code=p.city_code,
        trade_code=p.trade_code,
        grade_level=p.grade_level,
        headcount=p.headcount,
        filled_count=p.filled_count,
        open_headcount=max(0, p.headcount - p.filled_count),
        worker_ids=await idle_worker_ids(uow, p.id),
        price=fen_to_price(p.price_fen),
        avg_rating=avg,
        contact_name=p.contact_name,
        contact_phone_masked=mask_phone(p.contact_phone),
        contact_phone_private=p.contact_phone,
        ring=p.ring,
        status=p.status,
        posted_by_account_id=p.posted_by_account_id,
        created_at=as_utc(p.created_at),
        updated_at=as_utc(p.updated_at),
        expires_at=as_utc(p.expires_at),
        escalated_at=_opt_utc(p.escalated_at),
        version=p.version,
    )


async def get_shortage(uow: UnitOfWork, actor: Actor, posting_id: int) -> ShortageView:
    """One shortage as its own side sees it (raw phone included for the front end to decide)."""
    s = await _load_shortage(uow, posting_id)
    _check_shortage_rights(actor, s)
    return await _shortage_view(uow, s)


async def get_idle(uow: UnitOfWork, actor: Actor, posting_id: int) -> IdlePostingView:
    """One idle posting as its own enterprise sees it."""
    p = await _load_idle(uow, posting_id)
    _check_idle_rights(actor, p)
    return await _idle_view(uow, p)


# --- shared checks --------------------------------------------------------------------------


async def _check_trade(uow: UnitOfWork, code: str) -> str:
    code = (code or "").strip()
    if not code or code not in {t.code for t in await list_trades(uow)}:
        raise ValidationError("error.unknown_trade")
    return code


async def _check_grade(uow: UnitOfWork, level: int | str) -> int:
    try:
        value = int(level)
    except (TypeError, ValueError) as exc:
        raise ValidationError("error.unknown_grade") from exc
    if value not in {g.level for g in await list_grades(uow)}:
        raise ValidationError("error.unknown_grade")
    return value


def _new_ring(ring: Ring | str | None) -> str:
    """Posters choose internal or market; escalation has its own act."""
    if ring is None or ring == "":
        return Ring.MARKET.value
    try:
        value = Ring(ring)
    except ValueError as exc:
        raise ValidationError("error.bad_ring") from exc
    if value is Ring.ESCALATED:
        raise ValidationError("error.bad_ring")
    return value.value


async def _ring_for(uow: UnitOfWork, chosen: Ring | str | None, enterprise_id: int) -> str:
    """The poster's ring (checked), else the company's default (公开 unless it says otherwise)."""
    if chosen is not None and chosen != "":
        return _new_ring(chosen)
    default = await uow.session.scalar(
        select(Enterprise.default_ring).where(Enterprise.id == enterprise_id)
    )
    return poster_ring(None, default)


def _status_for(headcount: int, filled: int) -> str:
    if filled <= 0:
        return PostingStatus.OPEN.value
    if filled >= headcount:
        return PostingStatus.FILLED.value
    return PostingStatus.PARTLY_FILLED.value


def _require_live(status: str) -> None:
    if status not in _LIVE:
        raise Conflict("error.posting_closed")


def _require_version(current: int, expected: int | None) -> None:
    if expected is not None and expected != current:
        raise Conflict("error.stale")


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _ts(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


async def _load_shortage(uow: UnitOfWork, posting_id: int) -> ShortagePosting:
    s = await uow.session.get(ShortagePosting, posting_id, with_for_update=True)
    if s is None:
        raise NotFound("error.posting_not_found")
    return s


async def _load_idle(uow: UnitOfWork, posting_id: int) -> IdlePosting:
    p = await uow.session.get(IdlePosting, posting_id, with_for_update=True)
    if p is None:
        raise NotFound("error.posting_not_found")
    return p


def _check_shortage_rights(actor: Actor, s: ShortagePosting) -> None:
    actor.require(Role.FOREMAN, Role.DISPATCHER)
    if not actor.can_act_for_project(s.project_id, s.enterprise_id):
        raise PermissionDenied("error.forbidden")


def _check_idle_rights(actor: Actor, p: IdlePosting) -> None:
    actor.require(Role.DISPATCHER)
    if not actor.can_act_for_enterprise(p.enterprise_id):
        raise PermissionDenied("error.forbidden")


async def _notify_regulators(
    uow: UnitOfWork,
    kind: str,
    posting_id: int,
    county_code: str,
    city_code: str,
    extra: dict[str, Any],
) -> int:
    """Tell every active regulator whose region holds the posting (province, city or county)."""
    province = county_code[:2] + "0000"
    regulators = await uow.session.scalars(
        select(Account.id).where(
            Account.role == Role.REGULATOR.value,
            Account.active.is_(True),
            Account.region_code.in_([province, city_code, county_code]),
        )
    )
    sent = 0
    for account_id in regulators.all():
        sent += await uow.notify(
            account_id=account_id,
            kind="escalation",
            payload={"posting_kind": kind, "posting_id": posting_id, **extra},
            dedup_key=f"escalation:{kind}:{posting_id}:{account_id}",
        )
    return sent


# --- shortages ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedShortage:
    """A shortage command that passed every check of posting, ready to be written."""

    project_id: int
    enterprise_id: int
    county_code: str
    city_code: str
    trade_code: str
    min_grade: int
    headcount: int
    price_fen: int
    contact_name: str
    contact_phone: str
    ring: str


async def check_shortage(
    uow: UnitOfWork, actor: Actor, cmd: PostShortageCommand
) -> CheckedShortage:
    """Every check of posting a shortage (rights, project, company not suspended, values);
    writes nothing. Posting and 需求待批 both run it."""
    actor.require(Role.FOREMAN, Role.DISPATCHER)
    project = await uow.session.get(Project, cmd.project_id)
    if project is None:
        raise NotFound("error.project_not_found")
    if not may_post_shortage_for(
        actor, project_id=project.id, enterprise_id=project.enterprise_id
    ):
        raise PermissionDenied("error.forbidden")
    if project.status != ProjectStatus.ACTIVE.value:
        raise Conflict("error.project_inactive")
    await require_active_enterprise(uow, project.enterprise_id)
    return CheckedShortage(
        project_id=project.id,
        enterprise_id=project.enterprise_id,
        county_code=project.county_code,
        city_code=project.city_code,
        trade_code=await _check_trade(uow, cmd.trade_code),
        min_grade=await _check_grade(uow, cmd.min_grade),
        headcount=parse_headcount(cmd.headcount),
        price_fen=price_to_fen(parse_price(cmd.price)),
        contact_name=clean_person_name(cmd.contact_name, field="contact_name"),
        contact_phone=parse_mobile(cmd.contact_phone),
        ring=await _ring_for(uow, cmd.ring, project.enterprise_id),
    )


async def publish_checked_shortage(
    uow: UnitOfWork, checked: CheckedShortage, *, posted_by: int | None
) -> ShortageView:
    """Write a checked shortage, audit it and tell the matching companies; the caller
    commits (post_shortage, or the approval of a 需求待批 request in the same transaction)."""
    now = uow.now()
    s = ShortagePosting(
        project_id=checked.project_id,
        enterprise_id=checked.enterprise_id,
        county_code=checked.county_code,
        city_code=checked.city_code,
        trade_code=checked.trade_code,
        min_grade=checked.min_grade,
        headcount=checked.headcount,
        filled_count=0,
        price_fen=checked.price_fen,
        contact_name=checked.contact_name,
        contact_phone=checked.contact_phone,
        ring=checked.ring,
        status=PostingStatus.OPEN.value,
        posted_by_account_id=posted_by,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=uow.settings.posting_ttl_days),
        version=1,
    )
    uow.session.add(s)
    await uow.session.flush()
    uow.audit(
        actor_account_id=posted_by,
        action="shortage.post",
        entity="shortage_posting",
        entity_id=s.id,
        after={
            "project_id": s.project_id,
            "trade_code": s.trade_code,
            "min_grade": s.min_grade,
            "headcount": s.headcount,
            "price_fen": s.price_fen,
            "contact_name": s.contact_name,
            "contact_phone": mask_phone(s.contact_phone),
            "ring": s.ring,
            "expires_at": _ts(s.expires_at),
        },
    )
    await notify_matches(uow, "shortage", s.id)
    return await _shortage_view(uow, s)


async def post_shortage(uow: UnitOfWork, actor: Actor, cmd: PostShortageCommand) -> ShortageView:
    """Publish a project's shortage of workers; tells matching idle workers' companies."""
    checked = await check_shortage(uow, actor, cmd)
    view = await publish_checked_shortage(uow, checked, posted_by=actor.account_id)
    await uow.commit()
    return view


def _masked(fields: dict[str, Any]) -> dict[str, Any]:
    """Audit rows keep phones masked: the audit log is read more widely than the postings."""
    if fields.get("contact_phone"):
        return {**fields, "contact_phone": mask_phone(fields["contact_phone"])}
    return fields


async def _close_shortage(
    uow: UnitOfWork, actor: Actor, posting_id: int, status: PostingStatus, action: str,
    expected_version: int | None,
) -> ShortageView:  # fmt: skip
    s = await _load_shortage(uow, posting_id)
    _check_shortage_rights(actor, s)
    _require_live(s.status)
    _require_version(s.version, expected_version)
    before = s.status
    s.status = status.value
    s.updated_at = uow.now()
    s.version += 1
    uow.audit(
        actor_account_id=actor.account_id,
        action=action,
        entity="shortage_posting",
        entity_id=s.id,
        before={"status": before},
        after={"status": s.status},
    )
    view = await _shortage_view(uow, s)
    await uow.commit()
    return view


async def cancel_shortage(
    uow: UnitOfWork, actor: Actor, posting_id: int, *, expected_version: int | None = None
) -> ShortageView:
    """Take a live shortage off the market."""
    return await _close_shortage(
        uow, actor, posting_id, PostingStatus.CANCELLED, "shortage.cancel", expected_version
    )


async def close_shortage_filled(
    uow: UnitOfWork, actor: Actor, posting_id: int, *, expected_version: int | None = None
) -> ShortageView:
    """Mark a shortage as filled (the project found its workers)."""
    return await _close_shortage(
        uow, actor, posting_id, PostingStatus.FILLED, "shortage.close_filled", expected_version
    )


async def escalate_shortage(
    uow: UnitOfWork, actor: Actor, posting_id: int, *, expected_version: int | None = None
) -> ShortageView:
    """Hand an unfilled shortage to the regulators of its region (the third ring)."""
    s = await _load_shortage(uow, posting_id)
    _check_shortage_rights(actor, s)
    await _escalate(uow, actor, s, "shortage", expected_version)
    view = await _shortage_view(uow, s)
    await uow.commit()
    return view


async def _escalate(
    uow: UnitOfWork,
    actor: Actor,
    posting: ShortagePosting | IdlePosting,
    kind: str,
    expected_version: int | None,
) -> None:
    """The third ring, for either kind ("shortage" / "idle"): the posting is marked escalated
    (audited) and the regulators of its region are told; the caller commits."""
    _require_live(posting.status)
    _require_version(posting.version, expected_version)
    if posting.ring == Ring.ESCALATED.value:
        raise Conflict("error.already_escalated")
    before = {"ring": posting.ring, "escalated_at": None}
    now = uow.now()
    posting.ring = Ring.ESCALATED.value
    posting.escalated_at = now
    posting.updated_at = now
    posting.version += 1
    uow.audit(
        actor_account_id=actor.account_id,
        action=f"{kind}.escalate",
        entity=f"{kind}_posting",
        entity_id=posting.id,
        before=before,
        after={"ring": posting.ring, "escalated_at": _ts(now)},
    )
    await _notify_regulators(
        uow,
        kind,
        posting.id,
        posting.county_code,
        posting.city_code,
        {
            "trade_code": posting.trade_code,
            "open_headcount": posting.headcount - posting.filled_count,
        },
    )


async def expire_postings(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Mark every live posting (both kinds) past its expiry as expired; returns how many."""
    at = now or uow.now()
    count = 0
    for model, entity in ((ShortagePosting, "shortage_posting"), (IdlePosting, "idle_posting")):
        rows = (
            await uow.session.execute(
                select(model.id, model.status).where(
                    model.status.in_(_LIVE), model.expires_at <= at
                )
            )
        ).all()
        if not rows:
            continue
        ids = [row[0] for row in rows]
        for chunk_start in range(0, len(ids), 500):
            chunk = ids[chunk_start : chunk_start + 500]
            await uow.session.execute(
                update(model)
                .where(model.id.in_(chunk), model.status.in_(_LIVE))
                .values(
                    status=PostingStatus.EXPIRED.value, updated_at=at, version=model.version + 1
                )
                .execution_options(synchronize_session=False)
            )
        for posting_id, status in rows:
            uow.audit(
                actor_account_id=None,
                action=f"{entity.split('_')[0]}.expire",
                entity=entity,
                entity_id=posting_id,
                before={"status": status},
                after={"status": PostingStatus.EXPIRED.value},
            )
        count += len(ids)
    await uow.commit()
    return count


# --- idle workers ---------------------------------------------------------------------------


async def _county(uow: UnitOfWork, code: str) -> Region:
    norm = normalize_region_code(code)
    region = await uow.session.get(Region, norm)
    if region is None or region.level != RegionLevel.COUNTY.value:
        raise ValidationError("error.unknown_region")
    return region


def _posting_rating(workers: Sequence[Worker]) -> int | None:
    """The workers' average stars × 100 over all their ratings; None when nobody is rated."""
    count = sum(w.rating_count for w in workers)
    if count <= 0:
        return None
    return round(sum(w.rating_sum for w in workers) * 100 / count)


async def refresh_idle_rating(uow: UnitOfWork, posting: IdlePosting) -> None:
    """Recompute the stored average rating of a posting's workers (after workers change)."""
    workers = (
        await uow.session.scalars(
            select(Worker)
            .join(IdlePostingWorker, IdlePostingWorker.worker_id == Worker.id)
            .where(IdlePostingWorker.posting_id == posting.id)
        )
    ).all()
    posting.avg_rating_x100 = _posting_rating(workers)


def worker_terms(w: Worker, *, on_offer: bool) -> WorkerTerms:
    """What the rules about workers look at in a stored worker."""
    return WorkerTerms(
        id=w.id,
        name=w.name,
        enterprise_id=w.enterprise_id,
        status=w.status,
        trade_code=w.trade_code,
        grade_level=w.grade_level,
        on_offer=on_offer,
    )


async def declare_idle(uow: UnitOfWork, actor: Actor, cmd: DeclareIdleCommand) -> IdlePostingView:
    """Publish chosen idle workers of one trade and grade; tells matching shortages' sides."""
    actor.require(Role.DISPATCHER)
    if actor.role is Role.ADMIN:
        if cmd.enterprise_id is None:
            raise ValidationError("error.enterprise_required")
        enterprise_id = cmd.enterprise_id
    else:
        if actor.enterprise_id is None:
            raise PermissionDenied("error.forbidden")
        if cmd.enterprise_id is not None and cmd.enterprise_id != actor.enterprise_id:
            raise PermissionDenied("error.forbidden")
        enterprise_id = actor.enterprise_id
    enterprise = await uow.session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound("error.enterprise_not_found")
    await require_active_enterprise(uow, enterprise.id)
    county = await _county(uow, cmd.county_code)
    trade = await _check_trade(uow, cmd.trade_code)
    grade = await _check_grade(uow, cmd.grade_level)
    price = parse_price(cmd.price)
    contact_name = clean_person_name(cmd.contact_name, field="contact_name")
    contact_phone = parse_mobile(cmd.contact_phone)
    ring = await _ring_for(uow, cmd.ring, enterprise_id)
    worker_ids = list(dict.fromkeys(int(w) for w in cmd.worker_ids))
    if not worker_ids:
        raise ValidationError("error.no_workers")
    if len(worker_ids) > MAX_HEADCOUNT:
        raise ValidationError("error.headcount_range", min=1, max=MAX_HEADCOUNT)
    # lock the workers: two declarations of the same worker must not both pass the checks
    workers = {
        w.id: w
        for w in (
            await uow.session.scalars(
                select(Worker).where(Worker.id.in_(worker_ids)).with_for_update()
            )
        ).all()
    }
    on_offer = set(
        await uow.session.scalars(
            select(IdlePostingWorker.worker_id)
            .join(IdlePosting, IdlePosting.id == IdlePostingWorker.posting_id)
            .where(IdlePostingWorker.worker_id.in_(worker_ids), IdlePosting.status.in_(_LIVE))
        )
    )
    for wid in worker_ids:
        w = workers.get(wid)
        if w is None:
            raise ValidationError("error.worker_not_in_enterprise", worker_id=wid)
        refusal = declare_idle_refusal(
            worker_terms(w, on_offer=wid in on_offer),
            enterprise_id=enterprise_id,
            trade_code=trade,
            grade_level=grade,
        )
        if refusal is not None:
            raise refusal
    now = uow.now()
    p = IdlePosting(
        enterprise_id=enterprise_id,
        county_code=county.code,
        city_code=county.parent_code or county.code[:4] + "00",
        trade_code=trade,
        grade_level=grade,
        headcount=len(worker_ids),
        filled_count=0,
        price_fen=price_to_fen(price),
        contact_name=contact_name,
        contact_phone=contact_phone,
        ring=ring,
        status=PostingStatus.OPEN.value,
        avg_rating_x100=_posting_rating([workers[w] for w in worker_ids]),
        posted_by_account_id=actor.account_id,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=uow.settings.posting_ttl_days),
        version=1,
    )
    uow.session.add(p)
    await uow.session.flush()
    uow.session.add_all(IdlePostingWorker(posting_id=p.id, worker_id=w) for w in worker_ids)
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="idle.declare",
        entity="idle_posting",
        entity_id=p.id,
        after={
            "county_code": p.county_code,
            "trade_code": trade,
            "grade_level": grade,
            "headcount": p.headcount,
            "worker_ids": worker_ids,
            "price_fen": p.price_fen,
            "contact_name": contact_name,
            "contact_phone": mask_phone(contact_phone),
            "ring": ring,
            "expires_at": _ts(p.expires_at),
        },
    )
    await notify_matches(uow, "idle", p.id)
    view = await _idle_view(uow, p)
    await uow.commit()
    return view


# --- editing either kind --------------------------------------------------------------------


def _editable_fields(posting: ShortagePosting | IdlePosting) -> dict[str, Any]:
    return {
        "headcount": posting.headcount,
        "status": posting.status,
        "price_fen": posting.price_fen,
        "contact_name": posting.contact_name,
        "contact_phone": posting.contact_phone,
        "ring": posting.ring,
    }


async def _checked_headcount(
    uow: UnitOfWork, posting: ShortagePosting | IdlePosting, headcount: int | str
) -> int:
    """A new headcount: never below the places filled; idle workers only up to those listed."""
    value = parse_headcount(headcount)
    if value < posting.filled_count:
        raise ValidationError("error.headcount_below_filled", filled=posting.filled_count)
    if isinstance(posting, IdlePosting):
        listed = await uow.session.scalar(
            select(func.count()).where(IdlePostingWorker.posting_id == posting.id)
        )
        if value > (listed or 0):
            raise ValidationError("error.headcount_above_workers", max=listed or 0)
    return value


async def _load_for_edit(
    uow: UnitOfWork, actor: Actor, kind: PostingKind, posting_id: int
) -> ShortagePosting | IdlePosting:
    if kind == "shortage":
        shortage = await _load_shortage(uow, posting_id)
        _check_shortage_rights(actor, shortage)
        return shortage
    idle = await _load_idle(uow, posting_id)
    _check_idle_rights(actor, idle)
    return idle


async def _posting_view(
    uow: UnitOfWork, posting: ShortagePosting | IdlePosting
) -> ShortageView | IdlePostingView:
    if isinstance(posting, ShortagePosting):
        return await _shortage_view(uow, posting)
    return await _idle_view(uow, posting)


async def edit_posting(
    uow: UnitOfWork,
    actor: Actor,
    kind: PostingKind,
    posting_id: int,
    *,
    headcount: int | str | None = None,
    price: Decimal | str | int | None = None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    ring: Ring | str | None = None,
    expected_version: int | None = None,
) -> ShortageView | IdlePostingView:
    """Change the counts, price, contact or ring (internal ↔ market) of a live posting."""
    posting = await _load_for_edit(uow, actor, kind, posting_id)
    _require_live(posting.status)
    _require_version(posting.version, expected_version)
    before = _editable_fields(posting)
    after = dict(before)
    if headcount is not None:
        value = await _checked_headcount(uow, posting, headcount)
        after["headcount"] = value
        after["status"] = _status_for(value, posting.filled_count)
    if price is not None:
        after["price_fen"] = price_to_fen(parse_price(price))
    if contact_name is not None:
        after["contact_name"] = clean_person_name(contact_name, field="contact_name")
    if contact_phone is not None:
        after["contact_phone"] = parse_mobile(contact_phone)
    if ring is not None:
        if posting.ring == Ring.ESCALATED.value:
            raise Conflict("error.already_escalated")
        after["ring"] = _new_ring(ring)
    old, new = _diff(before, after)
    if not new:
        return await _posting_view(uow, posting)
    for key, value in new.items():
        setattr(posting, key, value)
    posting.updated_at = uow.now()
    posting.version += 1
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action=f"{kind}.edit",
        entity=f"{kind}_posting",
        entity_id=posting.id,
        before=_masked(old),
        after=_masked(new),
    )
    if posting.status in _LIVE:
        await notify_matches(uow, kind, posting.id)
    view = await _posting_view(uow, posting)
    await uow.commit()
    return view


class PostingChanges(TypedDict, total=False):
    """The keyword arguments of edit_posting, for its typed wrappers."""

    headcount: int | str | None
    price: Decimal | str | int | None
    contact_name: str | None
    contact_phone: str | None
    ring: Ring | str | None
    expected_version: int | None


async def edit_shortage(
    uow: UnitOfWork, actor: Actor, posting_id: int, **changes: Unpack[PostingChanges]
) -> ShortageView:
    """edit_posting for a shortage (same keyword arguments), typed as a ShortageView."""
    view = await edit_posting(uow, actor, "shortage", posting_id, **changes)
    assert isinstance(view, ShortageView)
    return view


async def edit_idle(
    uow: UnitOfWork, actor: Actor, posting_id: int, **changes: Unpack[PostingChanges]
) -> IdlePostingView:
    """edit_posting for idle workers (same keyword arguments), typed as an IdlePostingView."""
    view = await edit_posting(uow, actor, "idle", posting_id, **changes)
    assert isinstance(view, IdlePostingView)
    return view


async def withdraw_idle(
    uow: UnitOfWork, actor: Actor, posting_id: int, *, expected_version: int | None = None
) -> IdlePostingView:
    """Take idle workers off the market (they stay idle and may be posted again)."""
    p = await _load_idle(uow, posting_id)
    _check_idle_rights(actor, p)
    _require_live(p.status)
    _require_version(p.version, expected_version)
    before = p.status
    p.status = PostingStatus.CANCELLED.value
    p.updated_at = uow.now()
    p.version += 1
    uow.audit(
        actor_account_id=actor.account_id,
        action="idle.withdraw",
        entity="idle_posting",
        entity_id=p.id,
        before={"status": before},
        after={"status": p.status},
    )
    view = await _idle_view(uow, p)
    await uow.commit()
    return view


async def escalate_idle(
    uow: UnitOfWork, actor: Actor, posting_id: int, *, expected_version: int | None = None
) -> IdlePostingView:
    """Hand unplaced idle workers to the regulators of the region (the third ring)."""
    p = await _load_idle(uow, posting_id)
    _check_idle_rights(actor, p)
    await _escalate(uow, actor, p, "idle", expected_version)
    view = await _idle_view(uow, p)
    await uow.commit()
    return view


# --- what the posting dialogs offer (read-only) ---------------------------------------------

MAX_POSTING_PROJECTS = 50


@dataclass(frozen=True, slots=True)
class PostingProject:
    id: int
    name: str
    county_code: str
    city_code: str


@dataclass(frozen=True, slots=True)
class TradeChoice:
    code: str
    name_zh: str
    name_en: str
    guided: bool  # one of the nine trades city guide prices cover

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class GradeChoice:
    level: int
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class RegulatorContact:
    """A regulator an escalation goes to: who, and for which region they answer."""

    account_id: int
    display_name: str
    region_code: str
    region_name_zh: str
    region_name_en: str


def _posting_projects(scope: ColumnElement[bool]) -> Select[int, str, str, str]:
    return (
        select(Project.id, Project.name, Project.county_code, Project.city_code)
        .where(Project.status == ProjectStatus.ACTIVE.value, scope)
        .order_by(Project.name, Project.id)
        .limit(MAX_POSTING_PROJECTS)
    )


# built once: a foreman's own projects, a dispatcher's company's
_FOREMAN_PROJECTS = _posting_projects(Project.id.in_(bindparam("project_ids", expanding=True)))
_COMPANY_PROJECTS = _posting_projects(Project.enterprise_id == bindparam("enterprise_id"))


async def list_posting_projects(uow: UnitOfWork, actor: Actor) -> list[PostingProject]:
    """The active projects this actor may post a shortage for (a foreman's own, a
    dispatcher's company's), by name."""
    actor.require(Role.FOREMAN, Role.DISPATCHER)
    params: dict[str, Any]
    if actor.role is Role.FOREMAN:
        if not actor.project_ids:
            return []
        stmt, params = _FOREMAN_PROJECTS, {"project_ids": sorted(actor.project_ids)}
    elif actor.role is Role.DISPATCHER:
        if actor.enterprise_id is None:
            return []
        stmt, params = _COMPANY_PROJECTS, {"enterprise_id": actor.enterprise_id}
    else:  # pragma: no cover - require() let only these two roles through
        return []
    # a dialog asks this at most steps: constant statements, Core rows on the connection
    conn = await uow.session.connection()
    rows = await conn.execute(stmt, params)
    return [PostingProject(p.id, p.name, p.county_code, p.city_code) for p in rows]


async def list_trades(uow: UnitOfWork) -> list[TradeChoice]:
    """Every trade of the reference table: the guided ones first, then by sort order."""

    async def load(uow: UnitOfWork) -> tuple[TradeChoice, ...]:
        rows = await uow.session.scalars(
            select(Trade).order_by(Trade.guided.desc(), Trade.sort_order, Trade.code)
        )
        return tuple(TradeChoice(t.code, t.name_zh, t.name_en, bool(t.guided)) for t in rows)

    return list(await reference.cached(uow, "trades", load))


async def list_grades(uow: UnitOfWork) -> list[GradeChoice]:
    """Every skill grade, 一级 (the highest) first."""

    async def load(uow: UnitOfWork) -> tuple[GradeChoice, ...]:
        rows = await uow.session.scalars(select(Grade).order_by(Grade.level))
        return tuple(GradeChoice(g.level, g.name_zh, g.name_en) for g in rows)

    return list(await reference.cached(uow, "grades", load))


async def escalation_recipients(
    uow: UnitOfWork, actor: Actor, kind: str, posting_id: int
) -> list[RegulatorContact]:
    """Who an escalation of this posting would tell (the same rule as the escalation itself),
    for the poster to see before confirming."""
    if kind == "shortage":
        s = await uow.session.get(ShortagePosting, posting_id)
        if s is None:
            raise NotFound("error.posting_not_found")
        _check_shortage_rights(actor, s)
        county_code, city_code = s.county_code, s.city_code
    elif kind == "idle":
        p = await uow.session.get(IdlePosting, posting_id)
        if p is None:
            raise NotFound("error.posting_not_found")
        _check_idle_rights(actor, p)
        county_code, city_code = p.county_code, p.city_code
    else:
        raise ValidationError("error.unknown_kind")
    province = county_code[:2] + "0000"
    rows = await uow.session.execute(
        select(Account.id, Account.display_name, Region.code, Region.name_zh, Region.name_en)
        .join(Region, Region.code == Account.region_code)
        .where(
            Account.role == Role.REGULATOR.value,
            Account.active.is_(True),
            Account.region_code.in_([province, city_code, county_code]),
        )
        # the nearest bureau first: county, then city, then province
        .order_by(Account.region_code.desc(), Account.display_name, Account.id)
    )
    return [RegulatorContact(*row) for row in rows]
