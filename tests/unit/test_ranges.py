"""Typed filter ranges: dates, headcounts and prices as a bureau writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.domain.errors import ValidationError
from core.domain.ranges import (
    parse_date_range,
    parse_headcount_range,
    parse_price_range,
    preset_span,
)


@pytest.mark.parametrize(
    "text",
    ["2026-11-01 2026-11-30", " 2026/11/01至2026/11/30 ", "2026.11.1 ~ 2026.11.30",
     "2026年11月1日 到 2026年11月30日", "２０２６-１１-０１　２０２６-１１-３０"],
)  # fmt: skip
def test_a_date_range_reads_as_people_write_it(text: str) -> None:
    found = parse_date_range(text)
    assert (found.start, found.end, found.days) == (date(2026, 11, 1), date(2026, 11, 30), 30)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("2026-11-30 2026-11-01", "error.date_range"),
        ("2026-11-01", "error.date_range_format"),
        ("下个月", "error.date_range_format"),
        ("2026-13-01 2026-12-01", "error.date_unreadable"),
        ("2026-02-30 2026-03-01", "error.date_unreadable"),
        ("2025-01-01 2026-01-02", "error.date_range_too_long"),
    ],
)
def test_a_bad_date_range_says_what_is_wrong(text: str, key: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_date_range(text)
    assert err.value.key == key


def test_a_leap_year_fits_in_366_days() -> None:
    assert parse_date_range("2028-01-01 2028-12-31").days == 366


def test_headcount_and_price_ranges() -> None:
    assert parse_headcount_range("3-10") == (3, 10)
    assert parse_headcount_range("5") == (5, 5)
    assert parse_headcount_range("3 至 10人") == (3, 10)
    assert parse_price_range("5000-6000") == (Decimal("5000.00"), Decimal("6000.00"))
    assert parse_price_range("5,500元") == (Decimal("5500.00"), Decimal("5500.00"))
    for bad, key in (("10-3", "error.range_reversed"), ("1-2-3", "error.range_format")):
        with pytest.raises(ValidationError) as err:
            parse_headcount_range(bad)
        assert err.value.key == key
    with pytest.raises(ValidationError) as err:
        parse_price_range("6000-5000")
    assert err.value.key == "error.price_range_inverted"


@pytest.mark.parametrize(
    ("span", "start", "end"),
    [
        ("y", date(2026, 3, 3), date(2026, 3, 3)),
        ("w", date(2026, 2, 26), date(2026, 3, 4)),
        ("m", date(2026, 2, 3), date(2026, 3, 4)),
        ("c", date(2026, 3, 1), date(2026, 3, 4)),
    ],
)
def test_deal_record_presets_are_inclusive_shanxi_days(span: str, start: date, end: date) -> None:
    assert preset_span(span, date(2026, 3, 4)) == (start, end)


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(ValidationError):
        preset_span("q", date(2026, 3, 4))
