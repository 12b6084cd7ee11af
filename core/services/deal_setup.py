"""Setting up a deal's terms: which side a proposal speaks for, which of my shortages an idle
posting can be asked for, which of my company's workers a deal may name. The bot's deal dialog
and any other front end call these; the rules themselves are in core.domain.rules."""

from __future__ import annotations

from datetime import datetime

from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role, Side, WorkerStatus
from core.domain.errors import Conflict, PermissionDenied
from core.domain.rules import (
    can_pair,
    check_pair,
    deal_worker_refusal,
    is_open_for_deals,
    may_act_for_shortage,
    may_propose_on,
    proposing_side,
    sides_of,
)
from core.services import postings, workers
from core.services.search import PostingCard, PostingQuery, search_postings
from core.services.workers import WorkerView

MAX_POOL = 200  # workers offered to pick from
MAX_MY_SHORTAGES = 20


async def eligible_workers(
    uow: UnitOfWork, actor: Actor, trade: str, min_grade: int, idle_posting_id: int
) -> list[WorkerView]:
    """The company's idle workers the deal may name (in the idle posting when it has one)."""
    in_posting: frozenset[int] | None = None
    if idle_posting_id:
        in_posting = frozenset((await postings.get_idle(uow, actor, idle_posting_id)).worker_ids)
    found: list[WorkerView] = []
    cursor: str | None = None
    while len(found) < MAX_POOL:
        page = await workers.list_workers(
            uow, actor, status=WorkerStatus.IDLE, trade_code=trade, cursor=cursor, limit=50
        )
        found += [
            w
            for w in page.items
            if deal_worker_refusal(
                w.terms,
                idle_enterprise_id=w.enterprise_id,  # list_workers: the actor's company only
                trade_code=trade,
                min_grade=min_grade,
                posting_worker_ids=in_posting,
            )
            is None
        ]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    return found[:MAX_POOL]


async def my_shortages(uow: UnitOfWork, actor: Actor, idle: PostingCard) -> list[PostingCard]:
    """My live shortages an idle posting can pair with, for which I speak."""
    if actor.role is Role.FOREMAN:
        queries = [
            PostingQuery(
                kind="shortage", trade_code=idle.trade_code, project_id=pid, limit=MAX_MY_SHORTAGES
            )
            for pid in sorted(actor.project_ids)
        ]
    elif actor.enterprise_id is not None:
        queries = [
            PostingQuery(
                kind="shortage",
                trade_code=idle.trade_code,
                enterprise_id=actor.enterprise_id,
                limit=MAX_MY_SHORTAGES,
            )
        ]
    else:
        queries = []
    now = uow.now()
    found: list[PostingCard] = []
    for q in queries:
        page = await search_postings(uow, actor, q)
        found += [
            c
            for c in page.items
            if can_pair(c.terms, idle.terms, now)
            and c.project_id is not None
            and may_act_for_shortage(actor, project_id=c.project_id, enterprise_id=c.enterprise_id)
        ]
    return found[:MAX_MY_SHORTAGES]


def propose_side_of(
    actor: Actor, shortage: PostingCard | None, idle: PostingCard | None, now: datetime
) -> Side:
    """The side a 🤝 tap proposes from, by the core's rules; raises why it may not."""
    for card in (shortage, idle):
        if card is not None and not is_open_for_deals(card.terms, now):
            raise Conflict("error.posting_closed")
    if shortage is None:
        # 🤝 on an idle posting: one of my shortages asks for its workers (picked next)
        if idle is None or not may_propose_on(actor.role, "idle"):
            raise PermissionDenied("error.forbidden")
        return Side.SHORTAGE
    if idle is not None:
        check_pair(shortage.terms, idle.terms, now)
    # without an idle posting the workers are the dispatcher's own company's
    idle_enterprise_id = idle.enterprise_id if idle is not None else actor.enterprise_id
    assert shortage.project_id is not None  # a shortage always belongs to a project
    mine = sides_of(
        actor,
        shortage_project_id=shortage.project_id,
        shortage_enterprise_id=shortage.enterprise_id,
        idle_enterprise_id=idle_enterprise_id,
    )
    return proposing_side(mine, idle_posting=idle is not None)
