"""信用: credit earned by behaviour. The one place the formula lives (README: "Credit").

Enterprise score, 0–100, the sum of five components:

    fulfilment   30 × arrived / promised        (workers it supplied that came; none yet: 0.8)
    payment      25 × kept / owed               (months paid in full on time as the receiving
                                                 side, plus months its workers were paid as the
                                                 labor side, over all such months; none: 0.8)
    ratings      25 × (average stars − 1) / 4   (ratings of the workers it supplied; none: 3.4★)
    arrears      20 − 10 per open 欠薪预警 it owes (not below 0)
    no-shows     −3 per no-show of its workers, at most −15

rounded and clamped to 0..100. A newcomer starts at 24 + 20 + 15 + 20 = 79 (A).
Grades as the platform shows them: AAA ≥ 90, AA ≥ 80, A ≥ 70, B ≥ 60, C below.

Worker 信用等级 A–D: average stars (3.5 without ratings) + 0.1 per arrival (at most 0.5)
− 1 per no-show; A ≥ 4.3, B ≥ 3.5, C ≥ 2.5, D below.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FULFILMENT_MAX = 30
PAYMENT_MAX = 25
RATINGS_MAX = 25
ARREARS_MAX = 20
ARREARS_PER_ALERT = 10
NO_SHOW_PENALTY = 3
NO_SHOW_PENALTY_MAX = 15
NEUTRAL_RATE = Decimal("0.8")
NEUTRAL_STARS = Decimal("3.4")
WORKER_NEUTRAL_STARS = Decimal("3.5")


@dataclass(frozen=True, slots=True)
class CreditInputs:
    """What an enterprise did, counted over its whole history."""

    promised: int = 0  # workers due on site (as the labor side), no-shows included
    arrived: int = 0
    no_shows: int = 0
    months_owed: int = 0  # months due: paid as the receiving side, workers paid as labor side
    months_kept: int = 0  # of those, paid in full by the grace day / workers paid
    rating_count: int = 0
    rating_sum: int = 0  # stars
    open_arrears: int = 0  # open alerts this enterprise owes


@dataclass(frozen=True, slots=True)
class CreditScore:
    score: int
    grade: str
    fulfilment: Decimal
    payment: Decimal
    ratings: Decimal
    arrears: Decimal
    no_shows: Decimal
    inputs: CreditInputs

    def components(self) -> dict[str, str]:
        return {
            "fulfilment": str(self.fulfilment),
            "payment": str(self.payment),
            "ratings": str(self.ratings),
            "arrears": str(self.arrears),
            "no_shows": str(self.no_shows),
        }


def _two(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def enterprise_grade(score: int) -> str:
    if score >= 90:
        return "AAA"
    if score >= 80:
        return "AA"
    if score >= 70:
        return "A"
    if score >= 60:
        return "B"
    return "C"


def enterprise_credit(inputs: CreditInputs) -> CreditScore:
    """The enterprise's score and each component (see the module text)."""
    promised = max(inputs.promised, 0)
    fulfil_rate = Decimal(min(inputs.arrived, promised)) / promised if promised else NEUTRAL_RATE
    owed = max(inputs.months_owed, 0)
    pay_rate = Decimal(min(inputs.months_kept, owed)) / owed if owed else NEUTRAL_RATE
    stars = (
        Decimal(inputs.rating_sum) / inputs.rating_count
        if inputs.rating_count > 0
        else NEUTRAL_STARS
    )
    stars = min(max(stars, Decimal(1)), Decimal(5))
    fulfilment = _two(FULFILMENT_MAX * fulfil_rate)
    payment = _two(PAYMENT_MAX * pay_rate)
    ratings = _two(RATINGS_MAX * (stars - 1) / 4)
    arrears = Decimal(max(0, ARREARS_MAX - ARREARS_PER_ALERT * max(inputs.open_arrears, 0)))
    no_shows = -Decimal(min(NO_SHOW_PENALTY * max(inputs.no_shows, 0), NO_SHOW_PENALTY_MAX))
    total = (fulfilment + payment + ratings + arrears + no_shows).quantize(
        Decimal(1), rounding=ROUND_HALF_UP
    )
    score = int(min(max(total, Decimal(0)), Decimal(100)))
    return CreditScore(
        score=score,
        grade=enterprise_grade(score),
        fulfilment=fulfilment,
        payment=payment,
        ratings=ratings,
        arrears=_two(arrears),
        no_shows=_two(no_shows),
        inputs=inputs,
    )


WORKER_GRADES = ("A", "B", "C", "D")


def worker_grade(*, rating_count: int, rating_sum: int, arrivals: int, no_shows: int) -> str:
    """A worker's 信用等级 from ratings, arrivals and no-shows (see the module text)."""
    stars = Decimal(rating_sum) / rating_count if rating_count > 0 else WORKER_NEUTRAL_STARS
    value = stars + Decimal("0.1") * min(max(arrivals, 0), 5) - max(no_shows, 0)
    if value >= Decimal("4.3"):
        return "A"
    if value >= Decimal("3.5"):
        return "B"
    if value >= Decimal("2.5"):
        return "C"
    return "D"


def grades_at_least(grade: str) -> tuple[str, ...]:
    """The worker grades as good as `grade` or better (a search filter "B or better")."""
    if grade not in WORKER_GRADES:
        raise ValueError(grade)
    return WORKER_GRADES[: WORKER_GRADES.index(grade) + 1]


ENTERPRISE_GRADES = ("AAA", "AA", "A", "B", "C")


def enterprise_grades_at_least(grade: str) -> tuple[str, ...]:
    """The enterprise grades as good as `grade` or better (a search filter "A or better")."""
    if grade not in ENTERPRISE_GRADES:
        raise ValueError(grade)
    return ENTERPRISE_GRADES[: ENTERPRISE_GRADES.index(grade) + 1]
