"""The rules of a dispatch's life on plain values: person-days, what is owed, arrears."""

from __future__ import annotations

from datetime import date

import pytest

from core.domain.dispatch import (
    AlertReason,
    Stay,
    WageAnswers,
    arrears_reason,
    parse_wage_amount,
    person_days,
    stay_of,
    wage_due_fen,
)
from core.domain.errors import ValidationError

D = date


def test_person_days_count_arrival_and_release_day_up_to_the_report_date() -> None:
    stays = [Stay(D(2026, 3, 7)), Stay(D(2026, 3, 7), D(2026, 3, 15)), None]
    assert person_days(stays, until=D(2026, 3, 20)) == 14 + 9
    assert person_days(stays, until=D(2026, 3, 6)) == 0  # before anyone came


def test_person_days_of_one_month_clip_both_ends() -> None:
    stays = [Stay(D(2026, 2, 20), D(2026, 4, 2))]
    assert person_days(stays, since=D(2026, 3, 1), until=D(2026, 3, 31)) == 31


def test_a_no_show_has_no_stay_and_an_unanswered_arrival_counts_from_the_due_day() -> None:
    assert stay_of("no_show", D(2026, 3, 7), None, None) is None
    assert stay_of("pending", D(2026, 3, 7), None, None) == Stay(D(2026, 3, 7), None)
    assert stay_of("arrived", D(2026, 3, 7), D(2026, 3, 7), D(2026, 3, 9)) == Stay(
        D(2026, 3, 7), D(2026, 3, 9)
    )


def test_a_full_month_costs_the_monthly_price() -> None:
    assert wage_due_fen(31, 500000, D(2026, 3, 1)) == 500000
    assert wage_due_fen(28, 500000, D(2026, 2, 1)) == 500000
    assert wage_due_fen(10, 310000, D(2026, 3, 1)) == 100000


@pytest.mark.parametrize(
    ("answers", "today", "reason"),
    [
        (dict(payer_answer="unpaid"), D(2026, 4, 5), AlertReason.UNPAID),
        (dict(labor_answer="none"), D(2026, 4, 5), AlertReason.UNPAID),
        (
            dict(payer_answer="paid", labor_answer="partial", received_fen=100),
            D(2026, 4, 5),
            AlertReason.MISMATCH,
        ),
        (
            dict(payer_answer="partial", paid_fen=100, labor_answer="partial", received_fen=100),
            D(2026, 4, 5),
            AlertReason.PARTIAL,
        ),
        (
            dict(payer_answer="paid", labor_answer="received", workers_paid=False),
            D(2026, 4, 5),
            AlertReason.WORKERS_UNPAID,
        ),
        (dict(payer_answer="paid"), D(2026, 4, 12), None),  # silent, within the 7 days
        (dict(payer_answer="paid"), D(2026, 4, 13), AlertReason.NO_ANSWER),
        (
            dict(payer_answer="paid", labor_answer="received", workers_paid=True),
            D(2026, 5, 30),
            None,
        ),
    ],
)
def test_arrears_reasons(answers: dict[str, object], today: date, reason: object) -> None:
    facts = WageAnswers(due_fen=1000, due_on=D(2026, 4, 5), **answers)  # type: ignore[arg-type]
    assert arrears_reason(facts, today, 7) == reason


@pytest.mark.parametrize(
    ("raw", "fen"), [("12000", 1200000), ("1.2万", 1200000), ("¥12,000元", 1200000), ("0.5", 50)]
)
def test_wage_amounts_as_people_type_them(raw: str, fen: int) -> None:
    assert parse_wage_amount(raw) == fen


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("abc", "error.amount_not_number"),
        ("0", "error.amount_out_of_range"),
        ("NaN", "error.amount_not_number"),
    ],
)
def test_bad_wage_amounts_are_refused(raw: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_wage_amount(raw)
    assert err.value.key == key
