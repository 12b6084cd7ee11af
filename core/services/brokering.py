"""协调: postings escalated to the bureaus, their in-region counterparts, and the bureau's
suggestion of a pair to both companies (the third ring)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, or_, select

from core.db.models import (
    Account,
    AccountProject,
    IdlePosting,
    Region,
    ShortagePosting,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Ring, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import pairing_refusal
from core.services.matching import MAX_LIMIT as MATCH_MAX_LIMIT
from core.services.matching import MatchView, match_posting
from core.services.paging import (
    Direction,
    Page,
)
from core.services.region_scope import home_region, in_scope, require_scope
from core.services.search import (
    KINDS,
    PostingCard,
    PostingQuery,
    load_cards,
    posting_terms,
    search_postings,
)


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
