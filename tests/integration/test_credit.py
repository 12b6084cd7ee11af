"""Credit earned by behaviour, on the database: the daily run replaces the seeded values that
matching and the regulators' top-50 read, keeps the breakdown, and grades workers."""

from __future__ import annotations

from datetime import date

from core.db.uow import Services
from core.ports import FixedClock
from core.services.credit import explain_credit, recompute_credit
from core.services.credit_ranking import top_enterprises
from core.services.dispatch import get_dispatch, mark_arrival
from core.services.wages import answer_payer, queue_wage_prompts
from core.services.workers import list_workers
from tests.integration.deal_world import build_world
from tests.integration.test_dispatch_life import START, accepted, at, wage_period


async def test_the_daily_run_replaces_the_seeded_scores_in_the_top_50_with_a_breakdown(
    services: Services, clock: FixedClock
) -> None:
    w = await build_world(services)  # both enterprises seeded at 80 (factories)
    deal_id = await accepted(services, w)
    clock.at = at(START, 10, 0)
    async with services.uow() as uow:
        view = await get_dispatch(uow, w.foreman, deal_id)
        no_show = view.assignments[0]
        await mark_arrival(uow, w.foreman, deal_id, no_show.id, arrived=False)
    clock.at = at(date(2026, 4, 5), 9, 0)
    async with services.uow() as uow:
        await queue_wage_prompts(uow, clock.now())
    period = await wage_period(services, deal_id)
    async with services.uow() as uow:
        await answer_payer(uow, w.foreman, period.id, "unpaid")

    async with services.uow() as uow:
        run = await recompute_credit(uow, date(2026, 4, 6))
    assert run.enterprises >= 2
    assert run.enterprises_changed >= 2
    async with services.uow() as uow:
        top = await top_enterprises(uow, w.taiyuan_regulator, "140100")
        explained = await explain_credit(uow, w.supplier_id, date(2026, 4, 6))
    receiver = next(e for e in top if e.enterprise_id == w.receiver_id)
    # an open arrears alert and a month owed not kept: 24 + 0 + 15 + 10
    assert (receiver.credit_score, receiver.credit_grade) == (49, "C")
    assert receiver.breakdown is not None
    assert receiver.breakdown["arrears"] == "10.00"
    assert receiver.breakdown["inputs"]["open_arrears"] == 1
    # the supplier: two of three arrived, one no-show; its month is not due yet (no answer)
    assert explained.credit.inputs.promised == 3
    assert explained.credit.inputs.no_shows == 1
    assert explained.credit.score == (20 + 20 + 15 + 20 - 3)
    assert explained.stored_score == explained.credit.score

    # the no-show's worker grade drops to C, and a search for B or better leaves them out
    async with services.uow() as uow:
        good = await list_workers(uow, w.supplier_dispatcher, credit_grade_at_least="B", limit=50)
        everyone = await list_workers(uow, w.supplier_dispatcher, limit=50)
    grades = {v.id: v.credit_grade for v in everyone.items}
    assert grades[no_show.worker_id] == "C"
    assert no_show.worker_id not in {v.id for v in good.items}
    assert len(good.items) == len(everyone.items) - 1
