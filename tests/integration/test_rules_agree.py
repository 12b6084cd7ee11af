"""The queries that pre-filter in SQL (match candidates, declarable workers) choose exactly what
the core rules (core.domain.rules) allow: a grid of postings and workers, every way one of them
may fail, and the two answers compared."""

from __future__ import annotations

from datetime import timedelta
from itertools import product

from core.db.models import Enterprise, IdlePosting, ShortagePosting
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.rules import can_pair, may_declare_idle
from core.services.matching import MAX_LIMIT, match_posting
from core.services.search import posting_terms
from core.services.workers import declarable_workers, get_workers
from tests.factories import (
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)

# every posting in one county: the ranking's city cut-off never hides a candidate
COUNTY = "140105"


async def _idle_grid(services: Services, own: Enterprise, other: Enterprise) -> list[IdlePosting]:
    """Idle postings differing from a fitting one in one or two ways each."""
    async with services.uow() as uow:
        now = uow.now()
        found = []
        for enterprise, trade, grade, ring, state in product(
            (own, other),
            ("plasterer", "rebar"),
            (2, 3, 4),
            ("market", "internal", "escalated"),
            ("open", "filled", "expired", "full"),
        ):
            extra: dict[str, object] = {
                "trade_code": trade,
                "grade_level": grade,
                "ring": ring,
                "headcount": 3,
            }
            if state == "filled":
                extra["status"] = "filled"
            elif state == "expired":
                extra["expires_at"] = now - timedelta(minutes=1)
            elif state == "full":
                extra.update(headcount=2, filled_count=2, status="partly_filled")
            found.append(await make_idle_posting(uow, enterprise, [], **extra))
        await uow.commit()
        return found


async def test_match_candidates_of_a_shortage_are_exactly_the_idle_postings_it_can_pair_with(
    services: Services,
) -> None:
    async with services.uow() as uow:
        own = await make_enterprise(uow, county_code=COUNTY)
        other = await make_enterprise(uow, county_code=COUNTY)
        project = await make_project(uow, own)
        shortages = [
            await make_shortage(uow, project, ring=ring, min_grade=3)
            for ring in ("market", "internal", "escalated")
        ]
        await uow.commit()
    idles = await _idle_grid(services, own, other)
    # the grid is larger than a page of matches: compare page by page of the rule's answer
    async with services.uow() as uow:
        now = uow.now()
        for shortage in shortages:
            fresh_s = await uow.session.get(ShortagePosting, shortage.id)
            assert fresh_s is not None
            allowed = set()
            for idle in idles:
                fresh_i = await uow.session.get(IdlePosting, idle.id)
                assert fresh_i is not None
                if can_pair(posting_terms(fresh_s), posting_terms(fresh_i), now):
                    allowed.add(idle.id)
            assert 0 < len(allowed) <= MAX_LIMIT
            matched = await match_posting(uow, None, "shortage", shortage.id, limit=MAX_LIMIT)
            assert {m.posting_id for m in matched} == allowed, shortage.ring


async def test_match_candidates_of_an_idle_posting_are_exactly_the_shortages_it_can_pair_with(
    services: Services,
) -> None:
    async with services.uow() as uow:
        now = uow.now()
        own = await make_enterprise(uow, county_code=COUNTY)
        other = await make_enterprise(uow, county_code=COUNTY)
        own_project = await make_project(uow, own)
        other_project = await make_project(uow, other)
        shortages = []
        for project, trade, min_grade, ring, state in product(
            (own_project, other_project),
            ("plasterer", "rebar"),
            (1, 2, 3),
            ("market", "internal"),
            ("open", "cancelled", "expired"),
        ):
            extra: dict[str, object] = {"trade_code": trade, "min_grade": min_grade, "ring": ring}
            if state == "cancelled":
                extra["status"] = "cancelled"
            elif state == "expired":
                extra["expires_at"] = now - timedelta(minutes=1)
            shortages.append(await make_shortage(uow, project, **extra))
        idle = await make_idle_posting(uow, own, [], headcount=3, grade_level=2)
        await uow.commit()
    async with services.uow() as uow:
        fresh_i = await uow.session.get(IdlePosting, idle.id)
        assert fresh_i is not None
        allowed = set()
        for shortage in shortages:
            fresh_s = await uow.session.get(ShortagePosting, shortage.id)
            assert fresh_s is not None
            if can_pair(posting_terms(fresh_s), posting_terms(fresh_i), uow.now()):
                allowed.add(shortage.id)
        assert 0 < len(allowed) <= MAX_LIMIT
        matched = await match_posting(uow, None, "idle", idle.id, limit=MAX_LIMIT)
        assert {m.posting_id for m in matched} == allowed


async def test_declarable_workers_are_exactly_those_the_rule_lets_be_declared_idle(
    services: Services,
) -> None:
    async with services.uow() as uow:
        company = await make_enterprise(uow, county_code=COUNTY)
        stranger = await make_enterprise(uow, county_code=COUNTY)
        ids = []
        for owner, trade, grade, status in product(
            (company, stranger), ("plasterer", "rebar"), (1, 3, 4), ("idle", "busy")
        ):
            worker = await make_worker(
                uow, owner, trade_code=trade, grade_level=grade, status=status
            )
            ids.append(worker.id)
        # two more idle plasterers of 二级: one already on offer, one in a cancelled posting
        offered = await make_worker(uow, company, grade_level=2)
        released = await make_worker(uow, company, grade_level=2)
        await make_idle_posting(uow, company, [offered])
        await make_idle_posting(uow, company, [released], status="cancelled")
        ids += [offered.id, released.id]
        await uow.commit()
        dispatcher = Actor(1, Role.DISPATCHER, enterprise_id=company.id)
        admin = Actor(None, Role.ADMIN)

    async with services.uow() as uow:
        views = await get_workers(uow, admin, ids)
        for trade, grade in product(("plasterer", "rebar"), (1, 2, 3, 4, 5)):
            listed = await declarable_workers(
                uow, dispatcher, trade_code=trade, max_grade=grade, limit=50
            )
            allowed = {
                v.id
                for v in views
                if may_declare_idle(
                    v.terms, enterprise_id=company.id, trade_code=trade, grade_level=grade
                )
            }
            assert {w.id for w in listed.items} == allowed, (trade, grade)
            assert listed.total == len(allowed)
        # the grid holds every reason at least once
        assert offered.id not in {v.id for v in views if v.idle_posting_id is None}
        assert released.id in {v.id for v in views if v.idle_posting_id is None}
