"""What a company admin types for a project and a team: names, addresses, the planned dates
and the real-name platform's project code. Each parser returns the clean value or raises a
ValidationError whose key the front end shows before asking again."""

from __future__ import annotations

import re
from datetime import date

from core.domain.errors import ValidationError
from core.domain.values import clean_text, normalize_text, parse_day

PROJECT_NAME_MIN = 2
PROJECT_NAME_MAX = 120  # Project.name is String(120)
TEAM_NAME_MIN = 2
TEAM_NAME_MAX = 60  # Team.name is String(60)
ADDRESS_MAX = 200
REALNAME_CODE_MAX = 40
_REALNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
# typed to leave an optional field empty
EMPTY_WORDS = frozenset({"-", "无", "没有", "none", "no", "skip", "跳过"})


def is_empty_answer(raw: str | None) -> bool:
    return normalize_text(raw).lower() in EMPTY_WORDS


def _long_enough(text: str, low: int) -> bool:
    return len(text) >= low and any(ch.isalnum() for ch in text)


def parse_project_name(raw: str | None) -> str:
    text = clean_text(raw, field="project_name", max_len=PROJECT_NAME_MAX)
    if not _long_enough(text, PROJECT_NAME_MIN):
        raise ValidationError("error.project_name_short", min=PROJECT_NAME_MIN)
    return text


def parse_team_name(raw: str | None) -> str:
    text = clean_text(raw, field="team_name", max_len=TEAM_NAME_MAX)
    if not _long_enough(text, TEAM_NAME_MIN):
        raise ValidationError("error.team_name_short", min=TEAM_NAME_MIN)
    return text


def parse_address(raw: str | None) -> str:
    """Optional: nothing, "-" or 无 leaves it empty."""
    if not normalize_text(raw) or is_empty_answer(raw):
        return ""
    return clean_text(raw, field="address", max_len=ADDRESS_MAX)


def parse_realname_code(raw: str | None) -> str | None:
    """Optional: letters, digits, - and _, up to 40; "-" or 无 leaves it empty."""
    if is_empty_answer(raw):
        return None
    text = normalize_text(raw).replace(" ", "")
    if not text:
        return None
    if len(text) > REALNAME_CODE_MAX or not _REALNAME.fullmatch(text):
        raise ValidationError("error.realname_code", max=REALNAME_CODE_MAX)
    return text.upper()


def parse_planned_date(raw: str | None, today: date | None = None) -> date:
    """A planned day as people type it ("2026-12-01", "20261201", "12月10日", "明天"; the one
    day reader core.domain.values.parse_day); without `today` only a full date is read."""
    value = parse_day(raw, today, error="error.planned_date_format")
    if not 2000 <= value.year <= 2100:
        raise ValidationError("error.planned_date_format")
    return value


def check_planned_dates(start: date | None, end: date | None) -> None:
    """The planned end lies after the planned start (either may still be unknown)."""
    if start is not None and end is not None and end <= start:
        raise ValidationError(
            "error.planned_end_before_start", start=start.isoformat(), end=end.isoformat()
        )
