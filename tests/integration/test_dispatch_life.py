"""A dispatch after the deal, with time travel: the start day's arrival check, no-shows and
replacements, release and extension, the 5th's wage questions and the arrears that follow.

The world (tests/integration/deal_world.py): a 小店区 (太原) project short of plasterers and a
晋中 labor company with four idle plasterers. The clock starts Wed 2026-03-04 10:00 Shanghai.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import (
    ArrearsAlert,
    DispatchAssignment,
    DispatchPrompt,
    OutboxMessage,
    WagePeriod,
    Worker,
)
from core.db.uow import Services
from core.domain.dispatch import AlertReason, AlertStatus, Arrival, LaborAnswer
from core.domain.errors import Conflict, PermissionDenied, ValidationError
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from core.services.deals import ProposeDeal, accept_deal, decline_deal, propose_deal
from core.services.dispatch import (
    get_dispatch,
    mark_all_arrived,
    mark_arrival,
    offer_replacement,
    queue_arrival_prompts,
    release_ended,
    release_workers,
    set_end_date,
)
from core.services.wages import (
    answer_labor,
    answer_payer,
    list_arrears,
    queue_wage_prompts,
    sweep_arrears,
)
from tests.integration.deal_world import World, build_world

START = date(2026, 3, 7)  # a Saturday, three days after the clock's start


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


async def accepted(
    services: Services, w: World, *, headcount: int = 3, start: date = START
) -> int:
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            w.foreman,
            ProposeDeal(
                shortage_id=w.shortage_id,
                idle_posting_id=w.idle_posting_id,
                headcount=headcount,
                price="5000",
                start_date=start,
            ),
        )
    async with services.uow() as uow:
        await accept_deal(uow, w.supplier_dispatcher, offer.id)
    return offer.id


async def outbox(services: Services, kind: str) -> list[tuple[int, dict[str, Any]]]:
    async with services.uow() as uow:
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
        return [(m.account_id, dict(m.payload)) for m in rows]


async def test_the_arrival_check_goes_out_on_the_start_day_once_and_one_reminder_next_morning(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    async with services.uow() as uow:
        assert await queue_arrival_prompts(uow, clock.now()) == 0  # not the start day yet
    clock.at = at(START, 9, 59)
    async with services.uow() as uow:
        assert await queue_arrival_prompts(uow, clock.now()) == 0  # before 10:00
    clock.at = at(START, 10, 0)
    async with services.uow() as uow:
        assert await queue_arrival_prompts(uow, clock.now()) == 1
    async with services.uow() as uow:
        assert await queue_arrival_prompts(uow, clock.now()) == 0  # a second tick: nothing
    assert await outbox(services, "arrival_check") == [
        (w.foreman.account_id, {"deal_id": deal_id, "day": START.isoformat()})
    ]
    clock.at = at(date(2026, 3, 8), 9, 0)
    async with services.uow() as uow:
        assert await queue_arrival_prompts(uow, clock.now()) == 1
        assert await queue_arrival_prompts(uow, clock.now()) == 0
    assert [a for a, _ in await outbox(services, "arrival_reminder")] == [w.foreman.account_id]
    async with services.uow() as uow:
        kinds = (await uow.session.scalars(select(DispatchPrompt.kind))).all()
    assert sorted(kinds) == ["arrival", "arrival_reminder"]


async def test_no_reminder_when_the_foreman_answered_on_the_day(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    clock.at = at(START, 10, 0)
    async with services.uow() as uow:
        await queue_arrival_prompts(uow, clock.now())
    async with services.uow() as uow:
        result = await mark_all_arrived(uow, w.foreman, deal_id)
    assert result.changed == 3
    assert {a.arrival for a in result.view.assignments} == {Arrival.ARRIVED}
    clock.at = at(date(2026, 3, 8), 9, 30)
    async with services.uow() as uow:
        assert await queue_arrival_prompts(uow, clock.now()) == 0
    async with services.uow() as uow:
        again = await mark_all_arrived(uow, w.foreman, deal_id)
    assert again.changed == 0  # a second tap changes nothing


async def test_arrival_answers_are_idempotent_checked_and_a_no_show_goes_back_and_is_told(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
    first, second, third = view.assignments
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as early:
            await mark_arrival(uow, w.foreman, deal_id, first.id, arrived=True)
    assert early.value.key == "error.arrival_too_early"

    clock.at = at(date(2026, 3, 9), 15, 0)  # two days late: the answer still counts
    async with services.uow() as uow:
        done = await mark_arrival(uow, w.foreman, deal_id, first.id, arrived=True)
    assert done.changed == 1
    assert done.view.assignments[0].arrived_on == START
    async with services.uow() as uow:
        repeat = await mark_arrival(uow, w.foreman, deal_id, first.id, arrived=True)
    assert repeat.changed == 0
    async with services.uow() as uow:
        with pytest.raises(Conflict) as flip:
            await mark_arrival(uow, w.foreman, deal_id, first.id, arrived=False)
    assert flip.value.key == "error.arrival_already_answered"

    for stranger in (w.outsider, w.supplier_dispatcher, w.taiyuan_regulator):
        async with services.uow() as uow:
            with pytest.raises(PermissionDenied):
                await mark_arrival(uow, stranger, deal_id, second.id, arrived=True)

    async with services.uow() as uow:
        missing = await mark_arrival(uow, w.foreman, deal_id, second.id, arrived=False)
    assert missing.view.assignments[1].arrival is Arrival.NO_SHOW
    assert await outbox(services, "no_show") == [
        (
            w.supplier_dispatcher.account_id,
            {"deal_id": deal_id, "assignment_id": second.id, "worker_id": second.worker_id},
        )
    ]
    async with services.uow() as uow:
        worker = await uow.session.get(Worker, second.worker_id)
        assert worker is not None
        assert (worker.status, worker.team_id) == ("idle", None)
    # person-days from the real dates: first from the 7th to the 9th, third (unanswered)
    # likewise from the due day, the no-show none
    assert missing.view.person_days == 3 + 3
    assert missing.view.on_site == 2
    assert third.arrival is Arrival.PENDING


async def test_the_labor_company_replaces_a_no_show_on_the_same_deal(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    spare = w.worker_ids[3]  # the fourth plasterer, still idle
    clock.at = at(START, 10, 0)
    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
        no_show = view.assignments[0]
        await mark_arrival(uow, w.foreman, deal_id, no_show.id, arrived=False)
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await offer_replacement(uow, w.foreman, deal_id, no_show.id, spare)
    async with services.uow() as uow:
        with pytest.raises(Conflict) as not_missing:
            await offer_replacement(
                uow, w.supplier_dispatcher, deal_id, view.assignments[1].id, spare
            )
    assert not_missing.value.key == "error.not_a_no_show"
    async with services.uow() as uow:
        after = await offer_replacement(uow, w.supplier_dispatcher, deal_id, no_show.id, spare)
    new = after.assignments[-1]
    assert (new.worker_id, new.replaces_assignment_id, new.arrival) == (
        spare,
        no_show.id,
        Arrival.PENDING,
    )
    assert after.assignments[0].replaced
    assert [a for a, _ in await outbox(services, "replacement_offered")] == [w.foreman.account_id]
    async with services.uow() as uow:
        worker = await uow.session.get(Worker, spare)
        assert worker is not None
        assert worker.status == "busy"
        with pytest.raises(Conflict) as twice:
            await offer_replacement(
                uow, w.supplier_dispatcher, deal_id, no_show.id, no_show.worker_id
            )
    assert twice.value.key == "error.already_replaced"


async def test_release_early_and_extend_with_their_refusals(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    clock.at = at(date(2026, 3, 20), 10, 0)
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as before_start:
            await release_workers(uow, w.foreman, deal_id, on=date(2026, 3, 6))
        assert before_start.value.key == "error.release_before_start"
        with pytest.raises(ValidationError) as too_early:
            await set_end_date(uow, w.foreman, deal_id, date(2026, 3, 1))
        assert too_early.value.key == "error.release_before_start"
        with pytest.raises(PermissionDenied):
            await release_workers(uow, w.supplier_dispatcher, deal_id, on=date(2026, 3, 19))

    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
        one = view.assignments[0]
        after = await release_workers(
            uow, w.foreman, deal_id, on=date(2026, 3, 15), assignment_ids=[one.id]
        )
    assert after.assignments[0].released_on == date(2026, 3, 15)
    assert after.person_days == 9 + 14 + 14  # 7th–15th, and 7th–20th twice
    released = await outbox(services, "workers_released")
    assert released == [
        (
            w.supplier_dispatcher.account_id,
            {"deal_id": deal_id, "worker_ids": [one.worker_id], "on": "2026-03-15"},
        )
    ]

    async with services.uow() as uow:
        extended = await set_end_date(uow, w.foreman, deal_id, date(2026, 4, 30))
    assert extended.end_date == date(2026, 4, 30)
    # the period ends: the sweep after the end date sends everyone back
    clock.at = at(date(2026, 5, 1), 3, 0)
    async with services.uow() as uow:
        assert await release_ended(uow, date(2026, 5, 1)) == 2
    async with services.uow() as uow:
        rows = (await uow.session.scalars(select(DispatchAssignment.released_on))).all()
        statuses = (
            await uow.session.scalars(select(Worker.status).where(Worker.id.in_(w.worker_ids)))
        ).all()
    assert sorted(str(r) for r in rows) == ["2026-03-15", "2026-04-30", "2026-04-30"]
    assert set(statuses) == {"idle"}


async def test_answers_for_a_deal_that_never_became_a_dispatch_are_refused(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    async with services.uow() as uow:
        offer = await propose_deal(
            uow,
            w.foreman,
            ProposeDeal(
                shortage_id=w.shortage_id,
                idle_posting_id=w.idle_posting_id,
                headcount=2,
                price="5000",
                start_date=START,
            ),
        )
    async with services.uow() as uow:
        await decline_deal(uow, w.supplier_dispatcher, offer.id)
    clock.at = at(START, 11, 0)
    async with services.uow() as uow:
        with pytest.raises(Conflict) as closed:
            await mark_all_arrived(uow, w.foreman, offer.id)
    assert closed.value.key == "error.dispatch_not_active"


# --- wages ----------------------------------------------------------------------------------


async def wage_period(services: Services, deal_id: int) -> WagePeriod:
    async with services.uow() as uow:
        row = await uow.session.scalar(select(WagePeriod).where(WagePeriod.deal_id == deal_id))
        assert row is not None
        uow.session.expunge(row)  # read after the unit of work ends
        return row


async def test_wage_questions_go_out_on_the_fifth_once_with_the_real_person_days(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    clock.at = at(date(2026, 4, 4), 10, 0)
    async with services.uow() as uow:
        assert await queue_wage_prompts(uow, clock.now()) == 0  # not the 5th yet
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        assert await queue_wage_prompts(uow, clock.now()) == 1
    async with services.uow() as uow:
        assert await queue_wage_prompts(uow, clock.now()) == 0
    period = await wage_period(services, deal_id)
    # three workers from 7 to 31 March: 25 days each, at ¥5000 for a 31-day month
    assert (period.month, period.person_days, period.due_on) == (
        date(2026, 3, 1),
        75,
        date(2026, 4, 5),
    )
    assert period.due_fen == round(75 * 500000 / 31)
    prompts = await outbox(services, "wage_prompt")
    assert prompts == [
        (w.foreman.account_id, {"wage_period_id": period.id, "side": "shortage"}),
        (w.supplier_dispatcher.account_id, {"wage_period_id": period.id, "side": "idle"}),
    ]


async def test_unpaid_alerts_the_regulators_of_the_project_at_once_and_bad_amounts_change_nothing(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        await queue_wage_prompts(uow, clock.now())
    period = await wage_period(services, deal_id)
    for amount, key in (
        ("一万块", "error.amount_not_number"),
        ("", "error.amount_not_number"),
        ("999999", "error.partial_above_due"),
        ("-5", "error.amount_out_of_range"),
    ):
        async with services.uow() as uow:
            with pytest.raises(ValidationError) as bad:
                await answer_payer(uow, w.foreman, period.id, "partial", amount=amount)
        assert bad.value.key == key
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await answer_payer(uow, w.supplier_dispatcher, period.id, "paid")
        with pytest.raises(PermissionDenied):
            await answer_labor(uow, w.foreman, period.id, "received")
    assert (await wage_period(services, deal_id)).payer_answer is None

    async with services.uow() as uow:
        view = await answer_payer(uow, w.foreman, period.id, "unpaid")
    assert view.alert_status is AlertStatus.OPEN
    alerts = await outbox(services, "arrears_alert")
    assert [a for a, _ in alerts] == [w.taiyuan_regulator.account_id]  # not 晋中's
    async with services.uow() as uow:
        again = await answer_payer(uow, w.foreman, period.id, "unpaid")
    assert again.alert_status is AlertStatus.OPEN
    assert len(await outbox(services, "arrears_alert")) == 1  # the same tap: no second alert

    async with services.uow() as uow:
        listed = await list_arrears(uow, w.taiyuan_regulator, "140100")
        with pytest.raises(PermissionDenied):
            await list_arrears(uow, w.jinzhong_regulator, "140100")
    assert [(a.deal_id, a.reason, a.due, a.paid) for a in listed] == [
        (deal_id, AlertReason.UNPAID, Decimal(period.due_fen) / 100, Decimal("0.00"))
    ]
    assert listed[0].receiving_phone
    assert listed[0].labor_contact

    # paid after all, and the labor company confirms: the alert is resolved
    async with services.uow() as uow:
        await answer_payer(uow, w.foreman, period.id, "paid")
        done = await answer_labor(
            uow, w.supplier_dispatcher, period.id, "received", workers_paid=True
        )
    assert done.alert_status is AlertStatus.RESOLVED
    async with services.uow() as uow:
        assert await list_arrears(uow, w.taiyuan_regulator, "140100") == []
        assert len(await list_arrears(uow, w.taiyuan_regulator, "140105", status="resolved")) == 1


async def test_answers_that_disagree_are_a_mismatch(services: Services, clock: FixedClock) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        await queue_wage_prompts(uow, clock.now())
    period = await wage_period(services, deal_id)
    async with services.uow() as uow:
        await answer_payer(uow, w.foreman, period.id, "paid")
        view = await answer_labor(
            uow, w.supplier_dispatcher, period.id, "partial", amount="10000", workers_paid=False
        )
        # the workers' pay alone (its own button): the partial amount stays as it was
        view = await answer_labor(uow, w.supplier_dispatcher, period.id, workers_paid=True)
    assert (view.labor_answer, view.received, view.workers_paid) == (
        LaborAnswer.PARTIAL,
        Decimal("10000.00"),
        True,
    )
    assert view.alert_status is AlertStatus.OPEN
    async with services.uow() as uow:
        reason = await uow.session.scalar(select(ArrearsAlert.reason))
    assert reason == AlertReason.MISMATCH


async def test_silence_seven_days_after_the_due_day_is_arrears(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)
    deal_id = await accepted(services, w)
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        await queue_wage_prompts(uow, clock.now())
    period = await wage_period(services, deal_id)
    async with services.uow() as uow:
        await answer_payer(uow, w.foreman, period.id, "paid")
    for day in (date(2026, 4, 6), date(2026, 4, 12)):  # within the seven days
        async with services.uow() as uow:
            assert await sweep_arrears(uow, day) == 0
    async with services.uow() as uow:
        assert await sweep_arrears(uow, date(2026, 4, 13)) == 1
    async with services.uow() as uow:
        assert await sweep_arrears(uow, date(2026, 4, 14)) == 0  # once
        alert = (await uow.session.execute(select(ArrearsAlert.reason, ArrearsAlert.status))).one()
    assert tuple(alert) == (AlertReason.NO_ANSWER, AlertStatus.OPEN)
    assert [a for a, _ in await outbox(services, "arrears_alert")] == [
        w.taiyuan_regulator.account_id
    ]
