"""Rules of a dispatch after the deal: who was on site which days, what is owed, when wages
are in arrears. Pure functions over plain values; the services feed them rows."""

from __future__ import annotations

import calendar
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from core.domain.errors import ValidationError


class Arrival(StrEnum):
    PENDING = "pending"  # nobody answered yet: counted on site from the due day
    ARRIVED = "arrived"
    NO_SHOW = "no_show"


class PayerAnswer(StrEnum):
    PAID = "paid"
    PARTIAL = "partial"
    UNPAID = "unpaid"


class LaborAnswer(StrEnum):
    RECEIVED = "received"
    PARTIAL = "partial"
    NONE = "none"


class AlertStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class AlertReason(StrEnum):
    UNPAID = "unpaid"  # the receiving side says 未付 (or the labor side received nothing)
    PARTIAL = "partial"  # less than due was paid
    MISMATCH = "mismatch"  # the two sides' amounts disagree
    WORKERS_UNPAID = "workers_unpaid"  # the labor company has not paid its workers
    NO_ANSWER = "no_answer"  # a side still silent `grace` days after the due day


@dataclass(frozen=True, slots=True)
class Stay:
    """One worker's days on one deal: the first day on site and the last (None: still there)."""

    first_day: date
    last_day: date | None = None


def stay_of(
    arrival: str, due_on: date, arrived_on: date | None, released_on: date | None
) -> Stay | None:
    """The stay an assignment row stands for; a no-show has none. An unanswered arrival counts
    from the due day: the foreman is asked to report who did NOT come."""
    if arrival == Arrival.NO_SHOW:
        return None
    first = arrived_on or due_on
    if released_on is not None and released_on < first:
        return None
    return Stay(first, released_on)


def person_days(stays: Iterable[Stay | None], *, until: date, since: date | None = None) -> int:
    """人天: the days each worker was on site, arrival and release day included, counted up
    to `until` (the report date or a month's last day) and from `since` when given."""
    total = 0
    for stay in stays:
        if stay is None:
            continue
        first = stay.first_day if since is None else max(stay.first_day, since)
        last = until if stay.last_day is None else min(stay.last_day, until)
        if last >= first:
            total += (last - first).days + 1
    return total


def month_bounds(month: date) -> tuple[date, date]:
    """First and last day of the month `month` falls in."""
    first = month.replace(day=1)
    return first, first.replace(day=calendar.monthrange(first.year, first.month)[1])


def previous_month(day: date) -> date:
    """The first day of the month before `day`'s."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def wage_due_fen(days: int, price_fen: int, month: date) -> int:
    """What `days` person-days cost at a monthly price: a full calendar month costs the price."""
    _, last = month_bounds(month)
    return (days * price_fen * 2 + last.day) // (2 * last.day)  # rounded half up, in fen


@dataclass(frozen=True, slots=True)
class WageAnswers:
    due_fen: int
    due_on: date
    payer_answer: str | None = None
    paid_fen: int | None = None
    labor_answer: str | None = None
    received_fen: int | None = None
    workers_paid: bool | None = None


def paid_amount(answers: WageAnswers) -> int:
    """What the receiving side says it paid."""
    if answers.payer_answer == PayerAnswer.PAID:
        return answers.due_fen
    if answers.payer_answer == PayerAnswer.PARTIAL:
        return answers.paid_fen or 0
    return 0


def received_amount(answers: WageAnswers) -> int:
    if answers.labor_answer == LaborAnswer.RECEIVED:
        return answers.due_fen
    if answers.labor_answer == LaborAnswer.PARTIAL:
        return answers.received_fen or 0
    return 0


def arrears_reason(answers: WageAnswers, today: date, grace_days: int) -> AlertReason | None:
    """欠薪预警: why a month's wages need the bureau, or None while all is well (or not yet
    known). 未付 from either side, less than due, the two amounts disagreeing, the workers not
    paid, or a side still silent `grace_days` after the due day."""
    payer, labor = answers.payer_answer, answers.labor_answer
    if payer == PayerAnswer.UNPAID or labor == LaborAnswer.NONE:
        return AlertReason.UNPAID
    if (
        payer is not None
        and labor is not None
        and paid_amount(answers) != received_amount(answers)
    ):
        return AlertReason.MISMATCH
    if payer == PayerAnswer.PARTIAL or labor == LaborAnswer.PARTIAL:
        return AlertReason.PARTIAL
    if answers.workers_paid is False:
        return AlertReason.WORKERS_UNPAID
    silent = payer is None or labor is None or answers.workers_paid is None
    if silent and today > answers.due_on + timedelta(days=grace_days):
        return AlertReason.NO_ANSWER
    return None


MAX_WAGE_AMOUNT_FEN = 100_000_000 * 100  # ¥100 million: beyond any one month of one deal


def parse_wage_amount(raw: str | Decimal | int) -> int:
    """An amount paid, as typed ("12000", "1.2万", "¥12,000元"), in fen; > 0."""
    if isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip().lower()
        text = text.replace(",", "").replace("元", "").replace("¥", "").replace(" ", "")
        factor = Decimal(1)
        if text.endswith("万"):
            text, factor = text[:-1], Decimal(10000)
        try:
            value = Decimal(text) * factor
        except InvalidOperation as exc:
            raise ValidationError("error.amount_not_number") from exc
    else:
        value = Decimal(raw)
    if not value.is_finite():
        raise ValidationError("error.amount_not_number")
    fen = int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))
    if fen <= 0 or fen > MAX_WAGE_AMOUNT_FEN:
        raise ValidationError("error.amount_out_of_range")
    return fen
