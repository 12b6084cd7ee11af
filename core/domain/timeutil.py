from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_date(at: datetime, tz: ZoneInfo = SHANGHAI) -> date:
    """The calendar day in Shanxi (or `tz`) of an aware instant."""
    return at.astimezone(tz).date()


def day_bounds(day: date, tz: ZoneInfo = SHANGHAI) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day as aware UTC instants, for range queries."""
    start = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
    return start, start + timedelta(days=1)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
