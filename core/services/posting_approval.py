"""需求待批: a company may require that its foremen's shortages are approved by one of its
dispatchers before they are published.

The rule lives here once: `needs_approval` says whether a posting waits, `post_or_request`
is what every front end calls to post a shortage (published at once, or filed as a request),
`approve_request` publishes (optionally with another headcount or price) through the same
code as a direct post, `reject_request` refuses with a reason. The foreman is told either
way; the dispatchers get the request as a card. Each use case commits."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, update

from core.db.models import Account, Enterprise, Project, ShortageRequest
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, NotFound, PermissionDenied
from core.domain.values import (
    clean_text,
    fen_to_price,
    parse_headcount,
    parse_price,
    price_to_fen,
)
from core.services.postings import (
    CheckedShortage,
    PostShortageCommand,
    ShortageView,
    check_shortage,
    publish_checked_shortage,
)

KIND_REQUEST = "shortage_request"
KIND_APPROVED = "shortage_request_approved"
KIND_REJECTED = "shortage_request_rejected"

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"
REASON_MAX = 200


@dataclass(frozen=True, slots=True)
class RequestView:
    id: int
    enterprise_id: int
    project_id: int
    project_name: str
    requested_by_name: str
    trade_code: str
    min_grade: int
    headcount: int
    price: Decimal
    contact_name: str
    requested_by_account_id: int
    status: str
    reason: str | None
    shortage_id: int | None
    created_at: datetime


async def _view(uow: UnitOfWork, row: ShortageRequest) -> RequestView:
    project = await uow.session.scalar(select(Project.name).where(Project.id == row.project_id))
    foreman = await uow.session.scalar(
        select(Account.display_name).where(Account.id == row.requested_by_account_id)
    )
    return RequestView(
        id=row.id,
        enterprise_id=row.enterprise_id,
        project_id=row.project_id,
        project_name=project or "",
        requested_by_name=foreman or "",
        trade_code=row.trade_code,
        min_grade=row.min_grade,
        headcount=row.headcount,
        price=fen_to_price(row.price_fen),
        contact_name=row.contact_name,
        requested_by_account_id=row.requested_by_account_id,
        status=row.status,
        reason=row.reason,
        shortage_id=row.shortage_id,
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """Either the published shortage, or the request waiting for a dispatcher."""

    shortage: ShortageView | None = None
    request: RequestView | None = None


# --- the rule ----------------------------------------------------------------------------------


def needs_approval(actor: Actor, setting_on: bool) -> bool:
    """A foreman's posting waits for a dispatcher when the company asks for it; a dispatcher
    (or the CLI) posts directly."""
    return setting_on and actor.role is Role.FOREMAN


async def _setting(uow: UnitOfWork, enterprise_id: int) -> bool:
    on = await uow.session.scalar(
        select(Enterprise.postings_need_approval).where(Enterprise.id == enterprise_id)
    )
    return bool(on)


async def post_or_request(uow: UnitOfWork, actor: Actor, cmd: PostShortageCommand) -> PostOutcome:
    """Post a shortage: every check of posting first; then published at once, or (需求待批)
    filed for the company's dispatchers, who each get the request card. Commits."""
    checked = await check_shortage(uow, actor, cmd)
    if not needs_approval(actor, await _setting(uow, checked.enterprise_id)):
        shortage = await publish_checked_shortage(uow, checked, posted_by=actor.account_id)
        await uow.commit()
        return PostOutcome(shortage=shortage)
    assert actor.account_id is not None  # a foreman is an account
    row = ShortageRequest(
        enterprise_id=checked.enterprise_id,
        project_id=checked.project_id,
        trade_code=checked.trade_code,
        min_grade=checked.min_grade,
        headcount=checked.headcount,
        price_fen=checked.price_fen,
        contact_name=checked.contact_name,
        contact_phone=checked.contact_phone,
        ring=checked.ring,
        requested_by_account_id=actor.account_id,
        status=PENDING,
        created_at=uow.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="shortage_request.file",
        entity="shortage_request",
        entity_id=row.id,
        after={"project_id": row.project_id, "headcount": row.headcount},
    )
    for dispatcher in await approvers_of(uow, checked.enterprise_id):
        await uow.notify(
            account_id=dispatcher,
            kind=KIND_REQUEST,
            payload={"request_id": row.id},
            dedup_key=f"shreq:{row.id}:{dispatcher}",
        )
    view = await _view(uow, row)
    await uow.commit()
    return PostOutcome(request=view)


async def approvers_of(uow: UnitOfWork, enterprise_id: int) -> list[int]:
    """The company's active dispatchers: who get the request card."""
    return list(
        await uow.session.scalars(
            select(Account.id)
            .where(
                Account.enterprise_id == enterprise_id,
                Account.role == Role.DISPATCHER.value,
                Account.active.is_(True),
            )
            .order_by(Account.id)
        )
    )


# --- the dispatcher's decision -----------------------------------------------------------------


async def get_request(uow: UnitOfWork, request_id: int) -> RequestView | None:
    """For renderers and the decision screens (their callers check rights)."""
    row = await uow.session.get(ShortageRequest, request_id)
    return None if row is None else await _view(uow, row)


def check_decider(actor: Actor, view: RequestView) -> None:
    """A dispatcher of the request's company, the request still pending."""
    actor.require(Role.DISPATCHER)
    if not actor.can_act_for_enterprise(view.enterprise_id):
        raise PermissionDenied("error.forbidden")
    if view.status == APPROVED:
        raise Conflict("error.request_approved", id=view.id)
    if view.status == REJECTED:
        raise Conflict("error.request_rejected", id=view.id)


async def decidable(uow: UnitOfWork, actor: Actor, request_id: int) -> RequestView:
    """The request this actor may decide now (check_decider), or why not."""
    view = await get_request(uow, request_id)
    if view is None:
        raise NotFound("error.request_not_found")
    check_decider(actor, view)
    return view


async def _claim(uow: UnitOfWork, actor: Actor, request_id: int, status: str) -> ShortageRequest:
    row = await uow.session.get(ShortageRequest, request_id)
    if row is None:
        actor.require(Role.DISPATCHER)
        raise NotFound("error.request_not_found")
    check_decider(actor, await _view(uow, row))
    claimed = await uow.session.execute(
        update(ShortageRequest)
        .where(ShortageRequest.id == row.id, ShortageRequest.status == PENDING)
        .values(status=status, decided_by_account_id=actor.account_id, decided_at=uow.now())
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("error.request_decided", id=row.id)
    await uow.session.refresh(row)
    return row


async def approve_request(
    uow: UnitOfWork,
    actor: Actor,
    request_id: int,
    *,
    headcount: int | str | None = None,
    price: Decimal | str | int | None = None,
) -> RequestView:
    """Publish the request (with the dispatcher's headcount or price, if given) as the
    foreman's shortage; matching runs as for a direct post; the foreman is told. Commits."""
    new_count = parse_headcount(headcount) if headcount is not None else None
    new_price = price_to_fen(parse_price(price)) if price is not None else None
    row = await _claim(uow, actor, request_id, APPROVED)
    # the company may have been suspended or the project closed meanwhile: checked again
    checked = replace(
        await _recheck(uow, row),
        headcount=new_count if new_count is not None else row.headcount,
        price_fen=new_price if new_price is not None else row.price_fen,
    )
    before = {"headcount": row.headcount, "price_fen": row.price_fen}
    row.headcount, row.price_fen = checked.headcount, checked.price_fen
    # the foreman's posting: listed in their 📋, their matches and deals
    shortage = await publish_checked_shortage(uow, checked, posted_by=row.requested_by_account_id)
    row.shortage_id = shortage.id
    uow.audit(
        actor_account_id=actor.account_id,
        action="shortage_request.approve",
        entity="shortage_request",
        entity_id=row.id,
        before=before,
        after={"headcount": row.headcount, "price_fen": row.price_fen, "shortage_id": shortage.id},
    )
    await uow.notify(
        account_id=row.requested_by_account_id,
        kind=KIND_APPROVED,
        payload={"request_id": row.id, "before": before},
        dedup_key=f"shreq:{row.id}:verdict",
    )
    await uow.session.flush()
    view = await _view(uow, row)
    await uow.commit()
    return view


async def _recheck(uow: UnitOfWork, row: ShortageRequest) -> CheckedShortage:
    on_behalf = Actor(
        account_id=row.requested_by_account_id,
        role=Role.DISPATCHER,  # the project's company; the foreman's rights held when filed
        enterprise_id=row.enterprise_id,
    )
    return await check_shortage(
        uow,
        on_behalf,
        PostShortageCommand(
            project_id=row.project_id,
            trade_code=row.trade_code,
            min_grade=row.min_grade,
            headcount=row.headcount,
            price=fen_to_price(row.price_fen),
            contact_name=row.contact_name,
            contact_phone=row.contact_phone,
            ring=row.ring,
        ),
    )


async def reject_request(
    uow: UnitOfWork, actor: Actor, request_id: int, reason: str
) -> RequestView:
    """Refuse the request with the reason the foreman is told; nothing is published. Commits."""
    text = clean_text(reason, field="reason", max_len=REASON_MAX)
    row = await _claim(uow, actor, request_id, REJECTED)
    row.reason = text
    uow.audit(
        actor_account_id=actor.account_id,
        action="shortage_request.reject",
        entity="shortage_request",
        entity_id=row.id,
        after={"reason": text},
    )
    await uow.notify(
        account_id=row.requested_by_account_id,
        kind=KIND_REJECTED,
        payload={"request_id": row.id},
        dedup_key=f"shreq:{row.id}:verdict",
    )
    await uow.session.flush()
    view = await _view(uow, row)
    await uow.commit()
    return view


# --- the setting -------------------------------------------------------------------------------


async def _require_admin(uow: UnitOfWork, actor: Actor, enterprise_id: int) -> None:
    if actor.role is Role.ADMIN:
        return
    actor.require(Role.DISPATCHER)
    is_admin = await uow.session.scalar(
        select(Account.is_admin).where(Account.id == actor.account_id)
    )
    if not actor.can_act_for_enterprise(enterprise_id) or not is_admin:
        raise PermissionDenied("error.admin_only")


async def approval_setting(uow: UnitOfWork, actor: Actor) -> bool:
    """The actor's company's 需求待批 setting, shown to its admin dispatcher only."""
    if actor.enterprise_id is None:
        raise PermissionDenied("error.admin_only")
    await _require_admin(uow, actor, actor.enterprise_id)
    return await _setting(uow, actor.enterprise_id)


async def set_postings_need_approval(
    uow: UnitOfWork, actor: Actor, enterprise_id: int, on: bool
) -> bool:
    """Turn 需求待批 on or off: the company's admin dispatcher, or the CLI. Commits."""
    await _require_admin(uow, actor, enterprise_id)
    company = await uow.session.get(Enterprise, enterprise_id)
    if company is None:
        raise NotFound("error.enterprise_not_found")
    before = company.postings_need_approval
    company.postings_need_approval = on
    uow.audit(
        actor_account_id=actor.account_id,
        action="enterprise.postings_need_approval",
        entity="enterprise",
        entity_id=enterprise_id,
        before={"postings_need_approval": before},
        after={"postings_need_approval": on},
    )
    await uow.commit()
    return on
