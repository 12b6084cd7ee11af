"""Wages, monthly (工资支付监管): on the wage day each dispatch active in the month before is
asked about its wages, both sides answer, and arrears (欠薪预警) reach the bureau at once.

- The receiving side: "本月应付 <company>：<person-days> 人天 × ¥<price>/月 = ¥X，已支付？"
  ✅ 已付 / 部分 (an amount) / ❌ 未付.
- The labor side: did the money arrive (received / partial / none), were the workers paid.
- core.domain.dispatch.arrears_reason decides when it is arrears; an alert (one per wage
  period, reopened if things go wrong again) goes to the regulators of the project's county
  and city through the outbox, in the transaction of the answer (or of the daily sweep).

Exactly once: a DispatchPrompt row (deal, "wage", month) under UNIQUE and the wage period
and outbox rows go in one transaction; a batch that meets another tick's rows is rolled back
and redone deal by deal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import and_, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from core.db.models import (
    Account,
    ArrearsAlert,
    Deal,
    DispatchPrompt,
    Enterprise,
    IdlePosting,
    Project,
    ShortagePosting,
    WagePeriod,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.dispatch import (
    AlertReason,
    AlertStatus,
    LaborAnswer,
    PayerAnswer,
    WageAnswers,
    arrears_reason,
    month_bounds,
    paid_amount,
    parse_wage_amount,
    person_days,
    previous_month,
    received_amount,
    wage_due_fen,
)
from core.domain.enums import DealStatus, Role, Side
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.timeutil import SHANGHAI, as_utc
from core.domain.values import fen_to_price
from core.services.dispatch import party_accounts, sides_of, stays_by_deal, today_of
from core.services.region_scope import require_scope
from core.services.regions import region_clause

PROMPT_WAGE = "wage"
KIND_WAGE = "wage_prompt"  # payload {"wage_period_id", "side"}
KIND_ARREARS = "arrears_alert"  # payload {"alert_id"}
BATCH = 500


@dataclass(frozen=True, slots=True)
class WagePeriodView:
    id: int
    deal_id: int
    month: date
    due_on: date
    person_days: int
    price: Decimal  # per worker per month
    due: Decimal
    receiving_enterprise_name: str
    labor_enterprise_name: str
    payer_answer: PayerAnswer | None
    paid: Decimal | None
    labor_answer: LaborAnswer | None
    received: Decimal | None
    workers_paid: bool | None
    alert_status: AlertStatus | None
    my_sides: frozenset[Side]


@dataclass(frozen=True, slots=True)
class ArrearsView:
    """One 欠薪预警 as a regulator reads it: the deal, the amounts, both contacts."""

    id: int
    deal_id: int
    status: AlertStatus
    reason: AlertReason
    month: date
    county_code: str
    project_name: str
    receiving_enterprise_name: str
    labor_enterprise_name: str
    person_days: int
    due: Decimal
    paid: Decimal
    receiving_contact: str
    receiving_phone: str | None
    labor_contact: str
    labor_phone: str | None
    created_at: datetime

    @property
    def owed(self) -> Decimal:
        return max(self.due - self.paid, Decimal(0))


# --- queuing the monthly prompts ------------------------------------------------------------


def wage_day(settings_day: int, today: date) -> date:
    return today.replace(day=settings_day)


async def queue_wage_prompts(uow: UnitOfWork, now: datetime) -> int:
    """From the wage day on, ask about last month's wages for every dispatch active in it,
    once per deal and month. Returns how many deals were asked."""
    today = now.astimezone(SHANGHAI).date()
    if today.day < uow.settings.wage_prompt_day:
        return 0
    month = previous_month(today)
    first, last = month_bounds(month)
    due_on = wage_day(uow.settings.wage_prompt_day, today)
    done = select(DispatchPrompt.deal_id).where(
        DispatchPrompt.kind == PROMPT_WAGE, DispatchPrompt.day == first
    )
    deals = list(
        (
            await uow.session.scalars(
                select(Deal)
                .where(
                    Deal.status == DealStatus.ACCEPTED.value,
                    Deal.start_date <= last,
                    or_(Deal.end_date.is_(None), Deal.end_date >= first),
                    Deal.id.not_in(done),
                )
                .order_by(Deal.id)
            )
        ).all()
    )
    # detached, so a rolled-back batch does not expire the deals still to come
    uow.session.expunge_all()
    await uow.rollback()
    asked = 0
    for start in range(0, len(deals), BATCH):
        batch = deals[start : start + BATCH]
        try:
            asked += await _queue_batch(uow, batch, first, last, due_on)
            await uow.commit()
        except IntegrityError:
            # another tick queued some of these a moment ago: one deal at a time
            await uow.rollback()
            for deal in batch:
                try:
                    asked += await _queue_batch(uow, [deal], first, last, due_on)
                    await uow.commit()
                except IntegrityError:
                    await uow.rollback()
    return asked


async def _queue_batch(
    uow: UnitOfWork, deals: Sequence[Deal], first: date, last: date, due_on: date
) -> int:
    """One batch in bulk statements: prompt rows, wage periods (their ids come back), then the
    outbox rows of both sides."""
    now = uow.now()
    stays = await stays_by_deal(uow, [d.id for d in deals])
    payers = await party_accounts(uow, deals, Side.SHORTAGE)
    labor = await party_accounts(uow, deals, Side.IDLE)
    await uow.session.execute(
        insert(DispatchPrompt),
        [{"deal_id": d.id, "kind": PROMPT_WAGE, "day": first, "created_at": now} for d in deals],
    )
    periods = []
    for deal in deals:
        days = person_days(stays.get(deal.id, []), until=last, since=first)
        if days == 0:
            continue  # nobody on site that month (all no-shows): nothing to ask
        periods.append(
            {
                "deal_id": deal.id,
                "month": first,
                "due_on": due_on,
                "person_days": days,
                "due_fen": wage_due_fen(days, deal.price_fen, first),
                "created_at": now,
            }
        )
    if not periods:
        return len(deals)
    ids = dict(
        (
            await uow.session.execute(
                insert(WagePeriod).returning(WagePeriod.deal_id, WagePeriod.id), periods
            )
        ).all()
    )
    # the prompt row is the exactly-once guard: no per-row dedup key (and its lookup)
    await uow.notify_many(
        [
            (account_id, KIND_WAGE, {"wage_period_id": ids[deal.id], "side": side.value})
            for deal in deals
            if deal.id in ids
            for side, recipients in ((Side.SHORTAGE, payers), (Side.IDLE, labor))
            for account_id in recipients.get(deal.id, [])
        ]
    )
    return len(deals)


# --- answers --------------------------------------------------------------------------------


async def _load(
    uow: UnitOfWork, actor: Actor, period_id: int
) -> tuple[WagePeriod, Deal, set[Side]]:
    period = await uow.session.get(WagePeriod, period_id, populate_existing=True)
    if period is None:
        raise NotFound("error.wage_period_not_found")
    deal = await uow.session.get(Deal, period.deal_id, populate_existing=True)
    assert deal is not None
    project_id = await uow.session.scalar(
        select(ShortagePosting.project_id).where(ShortagePosting.id == deal.shortage_id)
    )
    assert project_id is not None
    return period, deal, sides_of(actor, deal, project_id)


def _answers(period: WagePeriod) -> WageAnswers:
    return WageAnswers(
        due_fen=period.due_fen,
        due_on=period.due_on,
        payer_answer=period.payer_answer,
        paid_fen=period.paid_fen,
        labor_answer=period.labor_answer,
        received_fen=period.received_fen,
        workers_paid=period.workers_paid,
    )


def _amount(raw: str | Decimal | int | None, due_fen: int, side: Side) -> int:
    """A partial amount: a number above zero and below what is due."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValidationError("error.amount_not_number")
    fen = parse_wage_amount(raw)
    if fen >= due_fen:
        due = str(fen_to_price(due_fen))
        if side is Side.SHORTAGE:
            raise ValidationError("error.partial_above_due", due=due)
        raise ValidationError("error.received_above_due", due=due)
    return fen


def _check_answerable(deal: Deal, sides: set[Side], side: Side) -> None:
    if side not in sides:
        raise PermissionDenied("error.forbidden")
    if deal.status != DealStatus.ACCEPTED:
        raise Conflict("error.dispatch_not_active")


async def answer_payer(
    uow: UnitOfWork,
    actor: Actor,
    period_id: int,
    answer: PayerAnswer | str,
    *,
    amount: str | Decimal | int | None = None,
) -> WagePeriodView:
    """The receiving side: ✅ 已付 / 部分 (amount, below what is due) / ❌ 未付. The same answer
    again changes nothing; a later, different answer (paid after all) replaces it."""
    period, deal, sides = await _load(uow, actor, period_id)
    _check_answerable(deal, sides, Side.SHORTAGE)
    choice = _answer(PayerAnswer, answer)
    paid = (
        _amount(amount, period.due_fen, Side.SHORTAGE) if choice is PayerAnswer.PARTIAL else None
    )
    if period.payer_answer == choice.value and period.paid_fen == paid:
        return await _view(uow, period, deal, sides)
    before = {"payer_answer": period.payer_answer, "paid_fen": period.paid_fen}
    period.payer_answer = choice.value
    period.paid_fen = paid
    period.payer_answered_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="wage.payer",
        entity="wage_period",
        entity_id=period.id,
        before=before,
        after={"payer_answer": choice.value, "paid_fen": paid},
    )
    await evaluate(uow, period, deal, today_of(uow))
    await uow.commit()
    return await _view(uow, period, deal, sides)


_Answer = TypeVar("_Answer", PayerAnswer, LaborAnswer)


def _answer(kind: type[_Answer], value: _Answer | str) -> _Answer:
    """A tapped answer, or the reason it is not one (a forged or outdated button)."""
    try:
        return kind(value)
    except ValueError as exc:
        raise ValidationError("error.bad_answer") from exc


async def answer_labor(
    uow: UnitOfWork,
    actor: Actor,
    period_id: int,
    answer: LaborAnswer | str | None = None,
    *,
    amount: str | Decimal | int | None = None,
    workers_paid: bool | None = None,
) -> WagePeriodView:
    """The labor side: was the money received (all / part: amount / none), were the workers
    paid. Either may come alone; what was answered before stays (no money answer yet and
    the workers paid: the money counts as received)."""
    period, deal, sides = await _load(uow, actor, period_id)
    _check_answerable(deal, sides, Side.IDLE)
    if answer is None:
        choice = LaborAnswer(period.labor_answer or LaborAnswer.RECEIVED)
        received = period.received_fen if choice is LaborAnswer.PARTIAL else None
    else:
        choice = _answer(LaborAnswer, answer)
        received = (
            _amount(amount, period.due_fen, Side.IDLE) if choice is LaborAnswer.PARTIAL else None
        )
    new_paid = period.workers_paid if workers_paid is None else workers_paid
    if (
        period.labor_answer == choice.value
        and period.received_fen == received
        and period.workers_paid == new_paid
    ):
        return await _view(uow, period, deal, sides)
    before = {
        "labor_answer": period.labor_answer,
        "received_fen": period.received_fen,
        "workers_paid": period.workers_paid,
    }
    period.labor_answer = choice.value
    period.received_fen = received
    period.workers_paid = new_paid
    period.labor_answered_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="wage.labor",
        entity="wage_period",
        entity_id=period.id,
        before=before,
        after={"labor_answer": choice.value, "received_fen": received, "workers_paid": new_paid},
    )
    await evaluate(uow, period, deal, today_of(uow))
    await uow.commit()
    return await _view(uow, period, deal, sides)


async def get_wage_period(uow: UnitOfWork, actor: Actor, period_id: int) -> WagePeriodView:
    period, deal, sides = await _load(uow, actor, period_id)
    if not sides:
        raise PermissionDenied("error.forbidden")
    return await _view(uow, period, deal, sides)


async def _view(
    uow: UnitOfWork, period: WagePeriod, deal: Deal, sides: set[Side]
) -> WagePeriodView:
    names = dict(
        (
            await uow.session.execute(
                select(Enterprise.id, Enterprise.name).where(
                    Enterprise.id.in_({deal.shortage_enterprise_id, deal.idle_enterprise_id})
                )
            )
        ).all()
    )
    alert = await uow.session.scalar(
        select(ArrearsAlert.status).where(ArrearsAlert.wage_period_id == period.id)
    )
    return WagePeriodView(
        id=period.id,
        deal_id=deal.id,
        month=period.month,
        due_on=period.due_on,
        person_days=period.person_days,
        price=fen_to_price(deal.price_fen),
        due=fen_to_price(period.due_fen),
        receiving_enterprise_name=names.get(deal.shortage_enterprise_id, ""),
        labor_enterprise_name=names.get(deal.idle_enterprise_id, ""),
        payer_answer=PayerAnswer(period.payer_answer) if period.payer_answer else None,
        paid=fen_to_price(period.paid_fen) if period.paid_fen is not None else None,
        labor_answer=LaborAnswer(period.labor_answer) if period.labor_answer else None,
        received=fen_to_price(period.received_fen) if period.received_fen is not None else None,
        workers_paid=period.workers_paid,
        alert_status=AlertStatus(alert) if alert else None,
        my_sides=frozenset(sides),
    )


# --- arrears --------------------------------------------------------------------------------


async def _regulators_of(uow: UnitOfWork, deal: Deal) -> list[int]:
    rows = await uow.session.scalars(
        select(Account.id)
        .where(
            Account.role == Role.REGULATOR.value,
            Account.active.is_(True),
            Account.region_code.in_({deal.county_code, deal.city_code}),
        )
        .order_by(Account.id)
    )
    return list(rows)


async def evaluate(uow: UnitOfWork, period: WagePeriod, deal: Deal, today: date) -> str | None:
    """Open (or reopen) the period's alert when its answers say arrears and tell the bureau
    at once; resolve it when they no longer do. Returns the alert's status, if any."""
    answers = _answers(period)
    reason = arrears_reason(answers, today, uow.settings.arrears_grace_days)
    alert = await uow.session.scalar(
        select(ArrearsAlert).where(ArrearsAlert.wage_period_id == period.id)
    )
    now = uow.now()
    paid = paid_amount(answers) if answers.payer_answer else received_amount(answers)
    if reason is None:
        if alert is not None and alert.status == AlertStatus.OPEN:
            alert.status = AlertStatus.RESOLVED.value
            alert.resolved_at = now
            alert.paid_fen = paid
        return alert.status if alert is not None else None
    if alert is not None and alert.status == AlertStatus.OPEN:
        alert.reason = reason.value
        alert.paid_fen = paid
        return alert.status
    if alert is None:
        alert = ArrearsAlert(
            wage_period_id=period.id,
            deal_id=deal.id,
            county_code=deal.county_code,
            city_code=deal.city_code,
            reason=reason.value,
            due_fen=period.due_fen,
            paid_fen=paid,
            status=AlertStatus.OPEN.value,
            created_at=now,
        )
        uow.session.add(alert)
        await uow.session.flush()
    else:  # resolved before, wrong again
        alert.status = AlertStatus.OPEN.value
        alert.reason = reason.value
        alert.paid_fen = paid
        alert.resolved_at = None
    uow.audit(
        actor_account_id=None,
        action="arrears.open",
        entity="arrears_alert",
        entity_id=alert.id,
        after={"reason": reason.value, "due_fen": period.due_fen, "paid_fen": paid},
    )
    for account_id in await _regulators_of(uow, deal):
        await uow.notify(
            account_id=account_id,
            kind=KIND_ARREARS,
            payload={"alert_id": alert.id},
            # once per opening: a reopened alert is news again
            dedup_key=f"arrears:{alert.id}:{now.timestamp():.0f}:{account_id}",
        )
    return alert.status


async def sweep_arrears(uow: UnitOfWork, today: date) -> int:
    """The daily sweep: wage periods with a side still silent `grace` days after the due day
    get their alert. Returns how many alerts were opened."""
    cutoff = today - timedelta(days=uow.settings.arrears_grace_days)
    has_alert = select(ArrearsAlert.wage_period_id)
    ids = list(
        await uow.session.scalars(
            select(WagePeriod.id)
            .where(
                WagePeriod.due_on < cutoff,
                or_(
                    WagePeriod.payer_answer.is_(None),
                    WagePeriod.labor_answer.is_(None),
                    WagePeriod.workers_paid.is_(None),
                ),
                WagePeriod.id.not_in(has_alert),
            )
            .order_by(WagePeriod.id)
        )
    )
    await uow.rollback()
    opened = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = (
            await uow.session.execute(
                select(WagePeriod, Deal)
                .join(Deal, Deal.id == WagePeriod.deal_id)
                .where(WagePeriod.id.in_(chunk))
                .order_by(WagePeriod.id)
            )
        ).all()
        for period, deal in rows:
            if await evaluate(uow, period, deal, today) == AlertStatus.OPEN:
                opened += 1
        await uow.commit()
    return opened


# --- regulators' list -----------------------------------------------------------------------


async def list_arrears(
    uow: UnitOfWork,
    actor: Actor,
    region_code: str,
    *,
    county_code: str | None = None,
    status: AlertStatus | str | None = AlertStatus.OPEN,
    limit: int = 50,
) -> list[ArrearsView]:
    """📉 欠薪预警 of the region (and county), newest first."""
    code = require_scope(actor, region_code)
    where = [region_clause(code, ArrearsAlert.county_code, ArrearsAlert.city_code)]
    if county_code:
        county = require_scope(actor, county_code)
        where.append(region_clause(county, ArrearsAlert.county_code, ArrearsAlert.city_code))
    if status is not None:
        try:
            where.append(ArrearsAlert.status == AlertStatus(status).value)
        except ValueError as exc:
            raise ValidationError("error.bad_status") from exc
    receiving = aliased(Enterprise)
    labor = aliased(Enterprise)
    rows = (
        await uow.session.execute(
            select(
                ArrearsAlert,
                WagePeriod,
                Deal,
                receiving.name,
                labor.name,
                ShortagePosting,
                Project.name,
                IdlePosting.contact_name,
                IdlePosting.contact_phone,
                Account.display_name,
                Account.phone,
            )
            .join(WagePeriod, WagePeriod.id == ArrearsAlert.wage_period_id)
            .join(Deal, Deal.id == ArrearsAlert.deal_id)
            .join(receiving, receiving.id == Deal.shortage_enterprise_id)
            .join(labor, labor.id == Deal.idle_enterprise_id)
            .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
            .join(Project, Project.id == ShortagePosting.project_id)
            .outerjoin(IdlePosting, IdlePosting.id == Deal.idle_posting_id)
            .outerjoin(Account, Account.id == Deal.idle_account_id)
            .where(and_(*where))
            .order_by(ArrearsAlert.created_at.desc(), ArrearsAlert.id.desc())
            .limit(max(1, min(limit, 200)))
        )
    ).all()
    return [
        ArrearsView(
            id=alert.id,
            deal_id=deal.id,
            status=AlertStatus(alert.status),
            reason=AlertReason(alert.reason),
            month=period.month,
            county_code=alert.county_code,
            project_name=project_name,
            receiving_enterprise_name=receiving_name,
            labor_enterprise_name=labor_name,
            person_days=period.person_days,
            due=fen_to_price(alert.due_fen),
            paid=fen_to_price(alert.paid_fen),
            # the bureau must reach both sides: contacts of the deal's own postings
            receiving_contact=shortage.contact_name,
            receiving_phone=shortage.contact_phone,
            labor_contact=idle_name or account_name or labor_name,
            labor_phone=idle_phone or account_phone,
            created_at=as_utc(alert.created_at),
        )
        for (
            alert,
            period,
            deal,
            receiving_name,
            labor_name,
            shortage,
            project_name,
            idle_name,
            idle_phone,
            account_name,
            account_phone,
        ) in rows
    ]


async def get_arrears(uow: UnitOfWork, actor: Actor, alert_id: int) -> ArrearsView:
    """One alert, for the regulator it was sent to (their region only)."""
    alert = await uow.session.get(ArrearsAlert, alert_id)
    if alert is None:
        raise NotFound("error.not_found")
    region = actor.region_code or "140000"
    found = [
        a
        for a in await list_arrears(
            uow, actor, region, county_code=alert.county_code, status=None, limit=200
        )
        if a.id == alert_id
    ]
    if not found:
        raise NotFound("error.not_found")
    return found[0]
