from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import (
    AuditLog,
    Deal,
    Enterprise,
    IdlePosting,
    IdlePostingWorker,
    ShortagePosting,
    Team,
    Worker,
)
from core.db.uow import Services
from core.domain.enums import DealAction, DealStatus, Ring, Role, Side
from core.domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from core.domain.timeutil import local_date
from core.ports import FixedClock
from core.services.deals import (
    ProposeDeal,
    accept_deal,
    cancel_deal,
    counter_deal,
    deal_records,
    decline_deal,
    expire_deals,
    get_deal,
    list_deals,
    propose_deal,
)
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_idle_posting,
    make_project,
    make_shortage,
    make_worker,
)
from tests.integration.deal_world import World, build_world, footprint, in_days, outbox_rows


def ask(world: World, **overrides: Any) -> ProposeDeal:
    """The foreman asks the idle posting for two plasterers at 5000 from in three days."""
    values: dict[str, Any] = dict(
        shortage_id=world.shortage_id,
        idle_posting_id=world.idle_posting_id,
        headcount=2,
        price="5000",
        start_date=in_days(world, 3),
    )
    values.update(overrides)
    return ProposeDeal(**values)


async def test_propose_counter_counter_accept_moves_workers_and_keeps_the_history(
    services: Services,
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
    assert offer.status is DealStatus.PENDING
    assert offer.awaiting_side is Side.IDLE
    assert offer.contacts is None
    assert offer.expires_at == services.clock.now() + timedelta(hours=48)

    async with services.uow() as uow:
        countered = await counter_deal(
            uow, w.supplier_dispatcher, offer.id, price="5600", expected_version=offer.version
        )
    assert countered.awaiting_side is Side.SHORTAGE
    async with services.uow() as uow:
        again = await counter_deal(
            uow,
            w.foreman,
            offer.id,
            price=Decimal("5300"),
            headcount=3,
            expected_version=countered.version,
        )
    async with services.uow() as uow:
        done = await accept_deal(
            uow, w.supplier_dispatcher, offer.id, expected_version=again.version
        )

    assert done.status is DealStatus.ACCEPTED
    assert (done.price, done.headcount, done.awaiting_side) == (Decimal("5300.00"), 3, None)
    assert [(e.action, e.side, e.price, e.headcount) for e in done.history] == [
        (DealAction.PROPOSE, Side.SHORTAGE, Decimal("5000.00"), 2),
        (DealAction.COUNTER, Side.IDLE, Decimal("5600.00"), 2),
        (DealAction.COUNTER, Side.SHORTAGE, Decimal("5300.00"), 3),
        (DealAction.ACCEPT, Side.IDLE, Decimal("5300.00"), 3),
    ]
    moved = list(w.worker_ids[:3])
    assert [wk.id for wk in done.workers] == moved
    assert all(wk.id_masked.count("*") == 8 for wk in done.workers)
    assert done.contacts is not None
    assert done.contacts.shortage.phone == "13912345678"
    assert done.contacts.idle.phone == "13700001111"
    assert done.ring is Ring.MARKET

    async with services.uow() as uow:
        workers = {
            wk.id: wk for wk in await uow.session.scalars(select(Worker).order_by(Worker.id))
        }
        team = await uow.session.scalar(select(Team).where(Team.project_id == w.project_id))
        assert team is not None
        assert team.name == "抹灰工班组"
        assert [workers[i].status for i in w.worker_ids] == ["busy", "busy", "busy", "idle"]
        assert {workers[i].team_id for i in moved} == {team.id}
        left = await uow.session.scalars(
            select(IdlePostingWorker.worker_id).where(
                IdlePostingWorker.posting_id == w.idle_posting_id
            )
        )
        assert list(left) == [w.worker_ids[3]]
        shortage = await uow.session.get(ShortagePosting, w.shortage_id)
        idle = await uow.session.get(IdlePosting, w.idle_posting_id)
        assert (shortage.filled_count, shortage.status) == (3, "partly_filled")
        assert (idle.filled_count, idle.status) == (3, "partly_filled")
        outbox = await outbox_rows(uow)
        dispatch_audits = await uow.session.scalars(
            select(AuditLog.entity_id).where(AuditLog.action == "worker.dispatch")
        )
        assert sorted(int(i) for i in dispatch_audits) == moved

    events = [e.action for e in done.history]
    assert len(events) == 4
    foreman, supplier = w.foreman.account_id, w.supplier_dispatcher.account_id
    assert [(acc, kind) for acc, kind, _ in outbox] == [
        (supplier, "deal_offer"),
        (foreman, "deal_counter"),
        (supplier, "deal_counter"),
        (foreman, "deal_accepted"),  # the accepting account is not told about its own act
    ]
    assert all(set(payload) == {"deal_id", "event_id"} for _, _, payload in outbox)


async def test_accepted_deal_asks_for_ratings_at_nine_in_shanxi_a_week_after_start(
    services: Services,
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w, start_date=in_days(w, 2)))
    async with services.uow() as uow:
        await accept_deal(uow, w.supplier_dispatcher, offer.id)
    async with services.uow() as uow:
        deal = await uow.session.get(Deal, offer.id)
        start = in_days(w, 2) + timedelta(days=7)
        expected = datetime(start.year, start.month, start.day, 1, 0, tzinfo=UTC)
        assert deal.rating_prompt_at.replace(tzinfo=UTC) == expected


async def test_idle_side_offers_named_workers_and_the_foreman_gets_exactly_them(
    services: Services,
) -> None:
    w = await build_world(services)
    chosen = (w.worker_ids[3], w.worker_ids[1])
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            w.supplier_dispatcher,
            ProposeDeal(
                shortage_id=w.shortage_id,
                idle_posting_id=w.idle_posting_id,
                worker_ids=chosen,
                price="5400",
                start_date=in_days(w, 1),
            ),
        )
    assert offer.headcount == 2
    assert offer.awaiting_side is Side.SHORTAGE
    assert {wk.id for wk in offer.workers} == set(chosen)
    async with services.uow() as uow:
        done = await accept_deal(uow, w.foreman, offer.id, expected_version=offer.version)
    assert {wk.id for wk in done.workers} == set(chosen)
    async with services.uow() as uow:
        statuses = dict((await uow.session.execute(select(Worker.id, Worker.status))).all())
    assert [statuses[i] for i in w.worker_ids] == ["idle", "busy", "idle", "busy"]
    async with services.uow() as uow:
        outbox = await outbox_rows(uow)
    assert (w.foreman.account_id, "deal_offer") == outbox[0][:2]
    assert (w.supplier_dispatcher.account_id, "deal_accepted") == outbox[-1][:2]


async def test_idle_side_may_name_workers_directly_without_an_idle_posting(
    services: Services,
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        supplier = await uow.session.get(Enterprise, w.supplier_id)
        loose = await make_worker(uow, supplier, name="陈小军", grade_level=1)
        await uow.commit()
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            w.supplier_dispatcher,
            ProposeDeal(
                shortage_id=w.shortage_id,
                worker_ids=(loose.id,),
                price="6000",
                start_date=w.today,
            ),
        )
    async with services.uow() as uow:
        done = await accept_deal(uow, w.receiver_dispatcher, offer.id)
    assert done.idle_posting_id is None
    assert [wk.name for wk in done.workers] == ["陈小军"]
    assert done.contacts is not None
    assert done.contacts.idle.name == "李明"
    async with services.uow() as uow:
        idle = await uow.session.get(IdlePosting, w.idle_posting_id)
        assert idle.filled_count == 0  # the posting was not part of this deal


async def test_internal_dispatch_between_projects_of_one_enterprise(services: Services) -> None:
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        site_a = await make_project(uow, ent)
        disp = await make_account(uow, role=Role.DISPATCHER, enterprise=ent)
        crew = [await make_worker(uow, ent, grade_level=3) for _ in range(2)]
        shortage = await make_shortage(uow, site_a, headcount=2)
        idle = await make_idle_posting(uow, ent, crew)
        await uow.commit()
    actor = actor_of(disp)
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            actor,
            ProposeDeal(
                shortage_id=shortage.id,
                idle_posting_id=idle.id,
                worker_ids=tuple(c.id for c in crew),
                price="4500",
                start_date=local_today(services),
                side=Side.IDLE,
            ),
        )
    assert offer.my_sides == frozenset({Side.SHORTAGE, Side.IDLE})
    assert offer.my_turn
    async with services.uow() as uow:
        done = await accept_deal(uow, actor, offer.id)
    assert done.ring is Ring.INTERNAL
    async with services.uow() as uow:
        posting = await uow.session.get(ShortagePosting, shortage.id)
        assert posting.status == "filled"


def local_today(services: Services) -> date:
    return local_date(services.clock.now())


async def test_accepting_takes_workers_out_of_their_other_idle_postings(
    services: Services,
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        supplier = await uow.session.get(Enterprise, w.supplier_id)
        workers = [await uow.session.get(Worker, i) for i in w.worker_ids[:2]]
        second = await make_idle_posting(uow, supplier, workers)  # the same two, listed again
        await uow.commit()
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            w.supplier_dispatcher,
            ProposeDeal(
                shortage_id=w.shortage_id,
                idle_posting_id=w.idle_posting_id,
                worker_ids=(w.worker_ids[0],),
                price="5000",
                start_date=w.today,
            ),
        )
        await accept_deal(uow, w.foreman, offer.id)
    async with services.uow() as uow:
        other = await uow.session.get(IdlePosting, second.id)
        assert (other.headcount, other.status) == (1, "open")
        rows = await uow.session.scalars(
            select(IdlePostingWorker.worker_id).where(IdlePostingWorker.posting_id == second.id)
        )
        assert list(rows) == [w.worker_ids[1]]


# --- refusals ---------------------------------------------------------------------------------


async def _refused(
    services: Services,
    call: Callable[[Any], Awaitable[Any]],
    error: type[DomainError],
    key: str,
) -> None:
    """The call fails with `key` and leaves every row as it was."""
    async with services.uow() as uow:
        before = await footprint(uow)
    async with services.uow() as uow:
        with pytest.raises(error) as caught:
            await call(uow)
    assert caught.value.key == key
    async with services.uow() as uow:
        assert await footprint(uow) == before


PROPOSE_REFUSALS: list[tuple[str, type[DomainError], str]] = [
    ("start_yesterday", ValidationError, "error.start_date"),
    ("start_too_late", ValidationError, "error.start_date"),
    ("price_eleven", ValidationError, "error.price_range"),
    ("shortage_cancelled", Conflict, "error.posting_closed"),
    ("idle_expired", Conflict, "error.posting_closed"),
    ("welders_for_plasterers", ValidationError, "error.trade_mismatch"),
    ("too_many", ValidationError, "error.headcount_exceeds_open"),
    ("idle_side_without_workers", ValidationError, "error.workers_required"),
    ("shortage_side_without_posting", ValidationError, "error.idle_posting_required"),
    ("worker_of_another_company", ValidationError, "error.worker_not_yours"),
    ("busy_worker", Conflict, "error.worker_taken"),
    ("grade_too_low", ValidationError, "error.grade_too_low"),
    ("posting_grade_too_low", ValidationError, "error.posting_grade_too_low"),
    ("worker_not_in_posting", ValidationError, "error.worker_not_in_posting"),
    ("count_mismatch", ValidationError, "error.worker_count_mismatch"),
    ("outsider", PermissionDenied, "error.forbidden"),
    ("regulator", PermissionDenied, "error.forbidden"),
    ("duplicate_pending", Conflict, "error.deal_pending_exists"),
]


@pytest.mark.parametrize(("case", "error", "key"), PROPOSE_REFUSALS)
async def test_propose_refusals_write_nothing(
    services: Services, case: str, error: type[DomainError], key: str
) -> None:
    w = await build_world(services)
    supplier_offer = dict(
        shortage_id=w.shortage_id,
        idle_posting_id=w.idle_posting_id,
        price="5000",
        start_date=w.today,
    )
    async with services.uow() as uow:
        supplier = await uow.session.get(Enterprise, w.supplier_id)
        stranger_co = await make_enterprise(uow)
        stranger = await make_worker(uow, stranger_co)
        busy = await make_worker(uow, supplier, status="busy")
        weak = await make_worker(uow, supplier, grade_level=4)
        unlisted = await make_worker(uow, supplier)
        weak_posting = await make_idle_posting(
            uow, supplier, [await make_worker(uow, supplier, grade_level=5)]
        )
        welders = await make_idle_posting(
            uow, supplier, [await make_worker(uow, supplier, trade_code="welder")]
        )
        if case == "shortage_cancelled":
            (await uow.session.get(ShortagePosting, w.shortage_id)).status = "cancelled"
        if case == "idle_expired":
            posting = await uow.session.get(IdlePosting, w.idle_posting_id)
            posting.expires_at = services.clock.now() - timedelta(minutes=1)
        await uow.commit()
    if case == "duplicate_pending":
        async with services.uow() as uow:
            await propose_deal(uow, w.foreman, ask(w))

    actor, cmd = w.foreman, ask(w)
    match case:
        case "start_yesterday":
            cmd = ask(w, start_date=in_days(w, -1))
        case "start_too_late":
            cmd = ask(w, start_date=in_days(w, 91))
        case "price_eleven":
            cmd = ask(w, price="11")
        case "welders_for_plasterers":
            cmd = ask(w, idle_posting_id=welders.id)
        case "posting_grade_too_low":
            cmd = ask(w, idle_posting_id=weak_posting.id, headcount=1)
        case "too_many":
            cmd = ask(w, headcount=5)
        case "idle_side_without_workers":
            actor, cmd = w.supplier_dispatcher, ask(w)
        case "shortage_side_without_posting":
            cmd = ask(w, idle_posting_id=None)
        case "worker_of_another_company":
            actor = w.supplier_dispatcher
            cmd = ProposeDeal(**supplier_offer, worker_ids=(stranger.id,))
        case "busy_worker":
            actor, cmd = (
                w.supplier_dispatcher,
                ProposeDeal(**{**supplier_offer, "idle_posting_id": None}, worker_ids=(busy.id,)),
            )
        case "grade_too_low":
            actor, cmd = (
                w.supplier_dispatcher,
                ProposeDeal(**{**supplier_offer, "idle_posting_id": None}, worker_ids=(weak.id,)),
            )
        case "worker_not_in_posting":
            actor = w.supplier_dispatcher
            cmd = ProposeDeal(**supplier_offer, worker_ids=(unlisted.id,))
        case "count_mismatch":
            actor = w.supplier_dispatcher
            cmd = ProposeDeal(**supplier_offer, worker_ids=w.worker_ids[:2], headcount=3)
        case "outsider":
            actor = w.outsider
        case "regulator":
            actor = w.taiyuan_regulator
    await _refused(services, lambda uow: propose_deal(uow, actor, cmd), error, key)


async def test_turn_taking_refusals_write_nothing(services: Services, clock: FixedClock) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
    v = offer.version

    await _refused(
        services,
        lambda uow: counter_deal(uow, w.foreman, offer.id, price="5100", expected_version=v),
        PermissionDenied,
        "error.not_your_turn",
    )
    await _refused(
        services,
        lambda uow: accept_deal(uow, w.foreman, offer.id),
        PermissionDenied,
        "error.not_your_turn",
    )
    await _refused(
        services,
        lambda uow: decline_deal(uow, w.receiver_dispatcher, offer.id),
        PermissionDenied,
        "error.not_your_turn",
    )
    await _refused(
        services,
        lambda uow: cancel_deal(uow, w.supplier_dispatcher, offer.id),
        PermissionDenied,
        "error.not_your_turn",
    )
    await _refused(
        services,
        lambda uow: accept_deal(uow, w.outsider, offer.id),
        PermissionDenied,
        "error.forbidden",
    )
    await _refused(
        services,
        lambda uow: counter_deal(
            uow, w.supplier_dispatcher, offer.id, price="5100", expected_version=v + 7
        ),
        Conflict,
        "error.stale",
    )
    await _refused(
        services,
        lambda uow: counter_deal(
            uow, w.supplier_dispatcher, offer.id, price="5000.00", expected_version=v
        ),
        ValidationError,
        "error.counter_unchanged",
    )
    await _refused(
        services,
        lambda uow: counter_deal(
            uow, w.supplier_dispatcher, offer.id, headcount=9, expected_version=v
        ),
        ValidationError,
        "error.headcount_exceeds_open",
    )
    await _refused(
        services,
        lambda uow: accept_deal(
            uow, w.supplier_dispatcher, offer.id, worker_ids=[w.worker_ids[0]]
        ),
        ValidationError,
        "error.worker_count_mismatch",
    )
    clock.advance(hours=49)
    await _refused(
        services,
        lambda uow: accept_deal(uow, w.supplier_dispatcher, offer.id),
        Conflict,
        "error.deal_expired",
    )
    clock.advance(hours=-49)
    async with services.uow() as uow:
        declined = await decline_deal(uow, w.supplier_dispatcher, offer.id)
    assert declined.status is DealStatus.DECLINED
    await _refused(
        services,
        lambda uow: counter_deal(
            uow, w.supplier_dispatcher, offer.id, price="5100", expected_version=declined.version
        ),
        Conflict,
        "error.deal_closed",
    )
    await _refused(
        services,
        lambda uow: accept_deal(uow, w.supplier_dispatcher, offer.id),
        Conflict,
        "error.deal_closed",
    )


async def test_accept_is_refused_when_the_posting_workers_are_gone(services: Services) -> None:
    w = await build_world(services, workers=2, headcount=2)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
        for wid in w.worker_ids[:1]:
            (await uow.session.get(Worker, wid)).status = "busy"
        await uow.commit()
    await _refused(
        services,
        lambda uow: accept_deal(uow, w.supplier_dispatcher, offer.id),
        Conflict,
        "error.not_enough_workers",
    )


async def test_decline_closes_the_deal_and_tells_the_proposer(services: Services) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
    async with services.uow() as uow:
        view = await decline_deal(uow, w.supplier_dispatcher, offer.id)
    assert view.status is DealStatus.DECLINED
    assert view.awaiting_side is None
    assert view.history[-1].action is DealAction.DECLINE
    async with services.uow() as uow:
        assert (await outbox_rows(uow))[-1][:2] == (w.foreman.account_id, "deal_declined")


async def test_the_proposer_may_withdraw_a_pending_offer(services: Services) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
    async with services.uow() as uow:
        view = await cancel_deal(uow, w.foreman, offer.id, expected_version=offer.version)
    assert view.status is DealStatus.CANCELLED
    assert view.history[-1].action is DealAction.CANCEL
    async with services.uow() as uow:
        assert (await outbox_rows(uow))[-1][:2] == (
            w.supplier_dispatcher.account_id,
            "deal_cancelled",
        )


async def test_unanswered_offers_expire_after_the_ttl_and_both_sides_hear(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
    clock.advance(hours=47, minutes=59)
    async with services.uow() as uow:
        assert await expire_deals(uow) == 0
    clock.advance(minutes=2)
    async with services.uow() as uow:
        assert await expire_deals(uow) == 1
    async with services.uow() as uow:
        assert await expire_deals(uow) == 0
        view = await get_deal(uow, w.foreman, offer.id)
        outbox = await outbox_rows(uow)
        audits = list(
            await uow.session.scalars(select(AuditLog.action).where(AuditLog.entity == "deal"))
        )
    assert view.status is DealStatus.EXPIRED
    assert [e.action for e in view.history] == [DealAction.PROPOSE, DealAction.EXPIRE]
    assert sorted((a, k) for a, k, _ in outbox if k == "deal_expired") == sorted(
        [
            (w.foreman.account_id, "deal_expired"),
            (w.supplier_dispatcher.account_id, "deal_expired"),
        ]
    )
    assert audits == ["deal.propose", "deal.expire"]


async def test_a_counter_restarts_the_offer_clock(services: Services, clock: FixedClock) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
    clock.advance(hours=40)
    async with services.uow() as uow:
        view = await counter_deal(
            uow, w.supplier_dispatcher, offer.id, price="5200", expected_version=offer.version
        )
    assert view.expires_at == clock.now() + timedelta(hours=48)
    clock.advance(hours=10)
    async with services.uow() as uow:
        assert await expire_deals(uow) == 0


async def test_regulators_see_deals_of_their_region_with_masked_phones_only(
    services: Services,
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w))
        await accept_deal(uow, w.supplier_dispatcher, offer.id)
    async with services.uow() as uow:
        seen = await get_deal(uow, w.taiyuan_regulator, offer.id)
    assert seen.contacts is not None
    assert seen.contacts.shortage.phone == "139****5678"
    assert seen.contacts.idle.phone == "137****1111"
    assert seen.my_sides == frozenset()
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await get_deal(uow, w.jinzhong_regulator, offer.id)
        with pytest.raises(PermissionDenied):
            await get_deal(uow, w.outsider, offer.id)


async def test_parties_list_their_deals_page_by_page(services: Services) -> None:
    w = await build_world(services)
    ids = []
    for n in range(3):
        async with services.uow() as uow:
            offer = await propose_deal(
                uow,
                w.supplier_dispatcher,
                ProposeDeal(
                    shortage_id=w.shortage_id,
                    worker_ids=(w.worker_ids[n],),
                    price="5000",
                    start_date=w.today,
                ),
            )
            ids.append(offer.id)
    async with services.uow() as uow:
        first = await list_deals(uow, w.foreman, limit=2)
        second = await list_deals(uow, w.foreman, limit=2, cursor=first.next_cursor)
        back = await list_deals(
            uow, w.foreman, limit=2, cursor=second.prev_cursor, direction="prev"
        )
        theirs = await list_deals(uow, w.supplier_dispatcher, status=DealStatus.PENDING)
        none = await list_deals(uow, w.outsider)
    assert [d.id for d in first.items] == [ids[2], ids[1]]
    assert all(d.my_turn for d in first.items)
    assert [d.id for d in second.items] == [ids[0]]
    assert second.next_cursor is None
    assert [d.id for d in back.items] == [ids[2], ids[1]]
    assert [d.id for d in theirs.items] == ids[::-1]
    assert not any(d.my_turn for d in theirs.items)
    assert none.items == ()


async def test_deal_records_count_person_days_and_filter_by_region_trade_and_date(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(uow, w.foreman, ask(w, headcount=3, price="5500"))
        await accept_deal(uow, w.supplier_dispatcher, offer.id)
    clock.advance(days=1)
    async with services.uow() as uow:
        second = await propose_deal(uow, w.foreman, ask(w, headcount=1, price="6000"))
        await accept_deal(uow, w.supplier_dispatcher, second.id)
    # person-days run from the start date (day 3) to the report date, day 12: 10 days each
    clock.advance(days=11)

    async with services.uow() as uow:
        page = await deal_records(
            uow,
            w.taiyuan_regulator,
            region_code="1401",
            date_from=w.today,
            date_to=in_days(w, 12),
            limit=1,
        )
        rest = await deal_records(
            uow,
            w.taiyuan_regulator,
            region_code="140100",
            date_from=w.today,
            date_to=in_days(w, 12),
            cursor=page.page.next_cursor,
        )
        only_first_day = await deal_records(
            uow, w.taiyuan_regulator, region_code="140105", date_from=w.today, date_to=w.today
        )
        welders = await deal_records(
            uow,
            w.taiyuan_regulator,
            region_code="140100",
            date_from=w.today,
            date_to=in_days(w, 12),
            trade_code="welder",
        )
        other_county = await deal_records(
            uow,
            w.taiyuan_regulator,
            region_code="140100",
            county_code="140106",
            date_from=w.today,
            date_to=in_days(w, 12),
        )
    newest = page.page.items[0]
    assert (newest.deal_id, newest.headcount, newest.person_days, newest.price) == (
        second.id,
        1,
        10,
        Decimal("6000.00"),
    )
    assert newest.enterprise_name.startswith("山西五建集团有限公司")
    assert newest.trade_name_zh == "抹灰工"
    assert (page.total_deals, page.total_headcount, page.total_person_days) == (2, 4, 4 * 10)
    oldest = rest.page.items[0]
    assert (oldest.deal_id, oldest.person_days, oldest.amount) == (
        offer.id,
        30,
        Decimal("16500.00"),
    )
    assert rest.page.next_cursor is None
    assert [r.deal_id for r in only_first_day.page.items] == [offer.id]
    assert welders.total_deals == 0
    assert other_county.total_deals == 0

    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await deal_records(
                uow, w.jinzhong_regulator, region_code="140100", date_from=w.today, date_to=w.today
            )
        with pytest.raises(PermissionDenied):
            await deal_records(
                uow, w.foreman, region_code="140100", date_from=w.today, date_to=w.today
            )
        with pytest.raises(ValidationError) as bad_range:
            await deal_records(
                uow,
                w.taiyuan_regulator,
                region_code="140100",
                date_from=in_days(w, 1),
                date_to=w.today,
            )
    assert bad_range.value.key == "error.date_range"


async def test_no_offer_reaches_into_another_companys_internal_posting(
    services: Services,
) -> None:
    """Regression: a forged callback could propose to a posting meant for its own company."""
    w = await build_world(services)
    async with services.uow() as uow:
        idle = await uow.session.get(IdlePosting, w.idle_posting_id)
        assert idle is not None
        idle.ring = Ring.INTERNAL.value
        await uow.commit()
    async with services.uow() as uow:
        before = await footprint(uow)
        with pytest.raises(NotFound) as err:
            await propose_deal(uow, w.foreman, ask(w))
        assert err.value.key == "error.posting_not_found"
    async with services.uow() as uow:
        assert await footprint(uow) == before
