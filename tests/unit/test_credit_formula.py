"""The credit formula (core/domain/credit.py), case by case on hand-built inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.domain.credit import (
    CreditInputs,
    enterprise_credit,
    enterprise_grade,
    grades_at_least,
    worker_grade,
)


def test_a_newcomer_starts_at_79_from_neutral_components() -> None:
    credit = enterprise_credit(CreditInputs())
    assert (credit.fulfilment, credit.payment, credit.ratings, credit.arrears) == (
        Decimal("24.00"),
        Decimal("20.00"),
        Decimal("15.00"),
        Decimal("20.00"),
    )
    assert (credit.score, credit.grade) == (79, "A")


def test_a_perfect_record_scores_100() -> None:
    credit = enterprise_credit(
        CreditInputs(
            promised=10, arrived=10, months_owed=4, months_kept=4, rating_count=5, rating_sum=25
        )
    )
    assert (credit.score, credit.grade) == (100, "AAA")


def test_no_shows_cost_fulfilment_and_a_penalty() -> None:
    credit = enterprise_credit(CreditInputs(promised=10, arrived=8, no_shows=2))
    assert credit.fulfilment == Decimal("24.00")
    assert credit.no_shows == Decimal("-6.00")
    assert credit.score == 24 + 20 + 15 + 20 - 6


def test_the_no_show_penalty_stops_at_15() -> None:
    credit = enterprise_credit(CreditInputs(promised=20, arrived=10, no_shows=10))
    assert credit.no_shows == Decimal("-15.00")
    assert credit.score == 15 + 20 + 15 + 20 - 15


def test_late_payment_and_open_arrears_pull_the_score_down() -> None:
    credit = enterprise_credit(CreditInputs(months_owed=4, months_kept=1, open_arrears=1))
    assert credit.payment == Decimal("6.25")
    assert credit.arrears == Decimal("10.00")
    assert credit.score == round(24 + 6.25 + 15 + 10)  # 55.25 → 55
    assert credit.grade == "C"


def test_arrears_never_go_below_zero_and_the_score_never_below_zero() -> None:
    credit = enterprise_credit(
        CreditInputs(
            promised=5,
            arrived=0,
            no_shows=5,
            months_owed=3,
            months_kept=0,
            rating_count=2,
            rating_sum=2,
            open_arrears=5,
        )
    )
    assert credit.arrears == Decimal("0.00")
    assert credit.score == 0


def test_ratings_map_one_to_five_stars_onto_zero_to_25() -> None:
    assert enterprise_credit(CreditInputs(rating_count=2, rating_sum=6)).ratings == Decimal(
        "12.50"
    )
    assert enterprise_credit(CreditInputs(rating_count=1, rating_sum=5)).ratings == Decimal(
        "25.00"
    )


@pytest.mark.parametrize(
    ("score", "grade"), [(90, "AAA"), (89, "AA"), (80, "AA"), (70, "A"), (60, "B"), (59, "C")]
)
def test_enterprise_grades(score: int, grade: str) -> None:
    assert enterprise_grade(score) == grade


@pytest.mark.parametrize(
    ("ratings", "arrivals", "no_shows", "grade"),
    [
        ((0, 0), 0, 0, "B"),  # nothing known: 3.5
        ((0, 0), 5, 0, "B"),  # 3.5 + 0.5 = 4.0: arrivals alone never make an A
        ((2, 10), 3, 0, "A"),  # 5.0 + 0.3
        ((2, 6), 0, 0, "C"),  # 3.0
        ((1, 4), 1, 1, "C"),  # 4.0 + 0.1 − 1
        ((0, 0), 0, 1, "C"),  # 3.5 − 1 = 2.5
        ((0, 0), 0, 2, "D"),
    ],
)
def test_worker_grades(ratings: tuple[int, int], arrivals: int, no_shows: int, grade: str) -> None:
    count, total = ratings
    assert (
        worker_grade(rating_count=count, rating_sum=total, arrivals=arrivals, no_shows=no_shows)
        == grade
    )


def test_grades_at_least_is_a_search_filter() -> None:
    assert grades_at_least("B") == ("A", "B")
    with pytest.raises(ValueError, match="E"):
        grades_at_least("E")
