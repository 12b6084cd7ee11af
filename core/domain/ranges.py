"""Ranges a bureau types as filters: dates, headcounts and monthly prices.

Each parser takes what a person writes on a phone ("2026-11-01 2026-11-30", "2026/11/01至
2026/11/30", "3-10", "5000~6000", a single value for both ends) and returns a checked pair, or
raises ValidationError with a message key the front end shows before asking again.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from core.domain.errors import ValidationError
from core.domain.values import parse_day, parse_headcount, parse_price

MAX_RANGE_DAYS = 366  # a year of deal records, leap day included
_NUMBER_SPLIT = re.compile(r"\s*(?:至|到|~|～|—|–|-|\bto\b)\s*|\s+", re.I)


@dataclass(frozen=True, slots=True)
class DateRange:
    start: date
    end: date  # inclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _parse_date(text: str) -> date:
    """A full date (the one reader, core.domain.values.parse_day, with the year required)."""
    try:
        return parse_day(text, None)
    except ValidationError:
        raise ValidationError("error.date_unreadable", text=text[:20]) from None


def check_date_range(start: date, end: date) -> DateRange:
    """Start not after end, at most MAX_RANGE_DAYS days (both ends counted)."""
    if start > end:
        raise ValidationError("error.date_range")
    found = DateRange(start, end)
    if found.days > MAX_RANGE_DAYS:
        raise ValidationError("error.date_range_too_long", max=MAX_RANGE_DAYS)
    return found


def parse_date_range(raw: str) -> DateRange:
    """Two dates, "YYYY-MM-DD YYYY-MM-DD" (or / . 年月日, joined by a space, 至, 到, ~)."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    parts = [p for p in re.split(r"\s*(?:至|到|~|\bto\b)\s*|\s+", text, flags=re.I) if p]
    if len(parts) != 2:
        raise ValidationError("error.date_range_format")
    return check_date_range(_parse_date(parts[0]), _parse_date(parts[1]))


def _two_ends(raw: str) -> tuple[str, str]:
    text = unicodedata.normalize("NFKC", raw or "").strip()
    parts = [p for p in _NUMBER_SPLIT.split(text) if p]
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) != 2:
        raise ValidationError("error.range_format")
    return parts[0], parts[1]


def parse_headcount_range(raw: str) -> tuple[int, int]:
    """ "3-10", "3 10", "5" (exactly 5): whole numbers of workers, low ≤ high."""
    low, high = (parse_headcount(end) for end in _two_ends(raw))
    if low > high:
        raise ValidationError("error.range_reversed")
    return low, high


def parse_price_range(raw: str) -> tuple[Decimal, Decimal]:
    """ "5000-6000", "5000 6000", "5500" (exactly): monthly prices in CNY, low ≤ high."""
    low, high = (parse_price(end) for end in _two_ends(raw))
    if low > high:
        raise ValidationError("error.price_range_inverted")
    return low, high


def preset_span(span: str, today: date) -> tuple[date, date]:
    """The inclusive Shanxi-day range of a deal-records preset: "y" yesterday, "w" the last 7
    days, "m" the last 30 days, "c" this calendar month (today included but for "y")."""
    starts = {
        "y": today - timedelta(days=1),
        "w": today - timedelta(days=6),
        "m": today - timedelta(days=29),
        "c": today.replace(day=1),
    }
    if span not in starts:
        raise ValidationError("error.invalid")
    return starts[span], starts["y"] if span == "y" else today
