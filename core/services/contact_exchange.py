"""📞 交换电话: contact exchange by consent between a shortage and an idle posting.

One side of a pair of postings (a shortage and an idle posting of two companies) asks the
other for its phone; the other side's poster (else its company's dispatchers, and for a
shortage the project's foremen) gets ✅ 同意 / ❌ 拒绝. On ✅ both sides see both postings'
full phones; every reveal is written to the audit log (action "contact.read", the phone itself
never). Without consent phones stay masked until a deal is accepted.

The rules, all here: one request per pair of postings (pending, accepted or declined: asking
again is refused), never with one's own company, no regulator, both postings still open
(an expired or filled one is refused, also when agreeing), answering twice is refused, and an
id the actor may not act on is "not found" (forged callbacks)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_, select
from sqlalchemy.exc import IntegrityError

from core.db.models import (
    Account,
    AccountProject,
    ContactExchange,
    Enterprise,
    IdlePosting,
    ShortagePosting,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Ring, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import may_act_for_idle, may_act_for_shortage
from core.services.posting_state import is_open, open_clause

KIND_REQUEST = "contact_request"
KIND_ANSWER = "contact_answer"
PENDING, ACCEPTED, DECLINED = "pending", "accepted", "declined"
SHORTAGE, IDLE = "shortage", "idle"
ALREADY = {
    PENDING: "error.contact_already_pending",
    ACCEPTED: "error.contact_already_accepted",
    DECLINED: "error.contact_already_declined",
}


@dataclass(frozen=True, slots=True)
class Contact:
    name: str
    phone: str


@dataclass(frozen=True, slots=True)
class ExchangeView:
    id: int
    shortage_id: int
    idle_posting_id: int
    requester_side: str
    requester_enterprise: str
    status: str
    trade_code: str


@dataclass(frozen=True, slots=True)
class Revealed:
    """Both postings' contacts, for an account that may read them (a party, after consent)."""

    exchange_id: int
    shortage: Contact
    idle: Contact
    mine_side: str

    @property
    def other(self) -> Contact:
        return self.idle if self.mine_side == SHORTAGE else self.shortage


def _acts_for(actor: Actor, side: str, shortage: ShortagePosting, idle: IdlePosting) -> bool:
    if side == SHORTAGE:
        return may_act_for_shortage(
            actor, project_id=shortage.project_id, enterprise_id=shortage.enterprise_id
        )
    return may_act_for_idle(actor, enterprise_id=idle.enterprise_id)


async def _my_posting(
    uow: UnitOfWork, actor: Actor, kind: str, trade_code: str
) -> ShortagePosting | IdlePosting:
    """The requester's own open posting to pair with (from a search card): the newest open one
    of the same trade, else the newest open one; none → refused."""
    model: Any = ShortagePosting if kind == SHORTAGE else IdlePosting
    mine: ColumnElement[bool]
    if kind == SHORTAGE and actor.role is Role.FOREMAN:
        mine = model.project_id.in_(sorted(actor.project_ids) or [-1])
    else:
        mine = model.enterprise_id == actor.enterprise_id
    same_trade_first = case((model.trade_code == trade_code, 0), else_=1)
    picked = await uow.session.scalar(
        select(model)
        .where(mine, open_clause(model, uow.now()))
        .order_by(same_trade_first, model.created_at.desc(), model.id.desc())
        .limit(1)
    )
    if isinstance(picked, ShortagePosting | IdlePosting):
        return picked
    raise ValidationError("error.contact_no_own_posting")


async def _recipients(
    uow: UnitOfWork, side: str, shortage: ShortagePosting, idle: IdlePosting
) -> list[int]:
    """Who answers for a side: the posting's poster, else the company's dispatchers (and for a
    shortage the project's foremen)."""
    poster = shortage.posted_by_account_id if side == SHORTAGE else idle.posted_by_account_id
    if poster is not None:
        active = await uow.session.scalar(
            select(Account.id).where(Account.id == poster, Account.active.is_(True))
        )
        if active is not None:
            return [active]
    enterprise_id = shortage.enterprise_id if side == SHORTAGE else idle.enterprise_id
    who = and_(Account.role == Role.DISPATCHER, Account.enterprise_id == enterprise_id)
    if side == SHORTAGE:
        foremen = select(AccountProject.account_id).where(
            AccountProject.project_id == shortage.project_id
        )
        who = or_(who, and_(Account.role == Role.FOREMAN, Account.id.in_(foremen)))
    rows = await uow.session.scalars(
        select(Account.id).where(who, Account.active.is_(True)).order_by(Account.id)
    )
    return list(rows)


async def request_exchange(
    uow: UnitOfWork, actor: Actor, *, shortage_id: int, idle_posting_id: int
) -> int:
    """Ask the other side of a pair for its phone; 0 on one side: "my newest open posting of
    that kind". Returns the request id; the other side is notified in the same transaction."""
    if actor.role is Role.REGULATOR:
        raise PermissionDenied("error.contact_regulator")
    if actor.role not in (Role.FOREMAN, Role.DISPATCHER) or actor.account_id is None:
        raise PermissionDenied("error.forbidden")
    if shortage_id <= 0 and idle_posting_id <= 0:
        raise NotFound("error.posting_not_found")
    shortage = await uow.session.get(ShortagePosting, shortage_id) if shortage_id > 0 else None
    idle = await uow.session.get(IdlePosting, idle_posting_id) if idle_posting_id > 0 else None
    if (shortage_id > 0 and shortage is None) or (idle_posting_id > 0 and idle is None):
        raise NotFound("error.posting_not_found")
    if shortage is None:
        assert idle is not None
        picked = await _my_posting(uow, actor, SHORTAGE, idle.trade_code)
        assert isinstance(picked, ShortagePosting)
        shortage = picked
    if idle is None:
        picked = await _my_posting(uow, actor, IDLE, shortage.trade_code)
        assert isinstance(picked, IdlePosting)
        idle = picked
    on_shortage = _acts_for(actor, SHORTAGE, shortage, idle)
    on_idle = _acts_for(actor, IDLE, shortage, idle)
    if not on_shortage and not on_idle:
        raise NotFound("error.posting_not_found")  # neither posting is the actor's: forged
    if shortage.enterprise_id == idle.enterprise_id or (on_shortage and on_idle):
        raise ValidationError("error.contact_own_company")
    side = SHORTAGE if on_shortage else IDLE
    other = idle if side == SHORTAGE else shortage
    # another company's internal posting does not exist for the requester
    if other.ring == Ring.INTERNAL.value:
        raise NotFound("error.posting_not_found")
    now = uow.now()
    if not is_open(shortage, now) or not is_open(idle, now):
        raise Conflict("error.contact_posting_closed")
    existing = await uow.session.scalar(
        select(ContactExchange).where(
            ContactExchange.shortage_id == shortage.id,
            ContactExchange.idle_posting_id == idle.id,
        )
    )
    if existing is not None:
        raise Conflict(ALREADY.get(existing.status, "error.contact_already_pending"))
    row = ContactExchange(
        shortage_id=shortage.id,
        idle_posting_id=idle.id,
        requester_side=side,
        requester_account_id=actor.account_id,
        status=PENDING,
        created_at=now,
    )
    uow.session.add(row)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # the same pair asked at the same moment (PostgreSQL)
        raise Conflict("error.contact_already_pending") from exc
    other_side = IDLE if side == SHORTAGE else SHORTAGE
    for account_id in await _recipients(uow, other_side, shortage, idle):
        await uow.notify(account_id=account_id, kind=KIND_REQUEST, payload={"exchange_id": row.id})
    uow.audit(
        actor_account_id=actor.account_id,
        action="contact.request",
        entity="contact_exchange",
        entity_id=row.id,
        before=None,
        after={"shortage_id": shortage.id, "idle_posting_id": idle.id, "side": side},
    )
    await uow.commit()
    return row.id


async def _load(
    uow: UnitOfWork, exchange_id: int
) -> tuple[ContactExchange, ShortagePosting, IdlePosting]:
    row = await uow.session.get(ContactExchange, exchange_id)
    if row is None:
        raise NotFound("error.contact_not_found")
    shortage = await uow.session.get(ShortagePosting, row.shortage_id)
    idle = await uow.session.get(IdlePosting, row.idle_posting_id)
    if shortage is None or idle is None:
        raise NotFound("error.contact_not_found")
    return row, shortage, idle


def _audit_read(uow: UnitOfWork, account_id: int | None, row: ContactExchange, side: str) -> None:
    """A reveal of the other side's phone, one audit row per read (the phone is not copied)."""
    uow.audit(
        actor_account_id=account_id,
        action="contact.read",
        entity="contact_exchange",
        entity_id=row.id,
        before=None,
        after={"read_side": side},
    )


async def answer_exchange(
    uow: UnitOfWork, actor: Actor, exchange_id: int, *, accept: bool
) -> Revealed | None:
    """✅ / ❌ of the asked side. On ✅ the answering actor gets both contacts (the read of the
    requester's phone audited) and the requester is notified with the answering side's phone
    (that read audited too). Answering twice, or a request of another company, is refused."""
    if actor.role is Role.REGULATOR:
        raise PermissionDenied("error.contact_regulator")
    row, shortage, idle = await _load(uow, exchange_id)
    asked = IDLE if row.requester_side == SHORTAGE else SHORTAGE
    if actor.role is Role.ADMIN or not _acts_for(actor, asked, shortage, idle):
        raise NotFound("error.contact_not_found")
    if row.status != PENDING:
        raise Conflict("error.contact_answered")
    now = uow.now()
    if accept and (not is_open(shortage, now) or not is_open(idle, now)):
        raise Conflict("error.contact_posting_closed")  # filled or expired meanwhile
    row.status = ACCEPTED if accept else DECLINED
    row.decided_by_account_id = actor.account_id
    row.decided_at = now
    uow.audit(
        actor_account_id=actor.account_id,
        action="contact.accept" if accept else "contact.decline",
        entity="contact_exchange",
        entity_id=row.id,
        before={"status": PENDING},
        after={"status": row.status},
    )
    await uow.notify(
        account_id=row.requester_account_id, kind=KIND_ANSWER, payload={"exchange_id": row.id}
    )
    revealed = None
    if accept:
        _audit_read(uow, actor.account_id, row, row.requester_side)  # the answerer's read
        _audit_read(uow, row.requester_account_id, row, asked)  # the requester's notification
        revealed = Revealed(
            row.id,
            Contact(shortage.contact_name, shortage.contact_phone),
            Contact(idle.contact_name, idle.contact_phone),
            asked,
        )
    await uow.commit()
    return revealed


async def get_exchange(uow: UnitOfWork, exchange_id: int) -> ExchangeView | None:
    """For the renderers (no rights check: the outbox chose the recipient)."""
    row = await uow.session.get(ContactExchange, exchange_id)
    if row is None:
        return None
    shortage = await uow.session.get(ShortagePosting, row.shortage_id)
    idle = await uow.session.get(IdlePosting, row.idle_posting_id)
    if shortage is None or idle is None:
        return None
    requester = shortage if row.requester_side == SHORTAGE else idle
    enterprise = await uow.session.get(Enterprise, requester.enterprise_id)
    return ExchangeView(
        id=row.id,
        shortage_id=row.shortage_id,
        idle_posting_id=row.idle_posting_id,
        requester_side=row.requester_side,
        requester_enterprise=enterprise.name if enterprise else "",
        status=row.status,
        trade_code=shortage.trade_code,
    )


async def requester_view(uow: UnitOfWork, exchange_id: int) -> Revealed | None:
    """What the requester's answer notification shows: the asked side's contact once accepted
    (the read was audited with the answer); None while not accepted."""
    row = await uow.session.get(ContactExchange, exchange_id)
    if row is None or row.status != ACCEPTED:
        return None
    shortage = await uow.session.get(ShortagePosting, row.shortage_id)
    idle = await uow.session.get(IdlePosting, row.idle_posting_id)
    if shortage is None or idle is None:
        return None
    return Revealed(
        row.id,
        Contact(shortage.contact_name, shortage.contact_phone),
        Contact(idle.contact_name, idle.contact_phone),
        row.requester_side,
    )
