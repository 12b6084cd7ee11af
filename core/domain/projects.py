"""What a company admin types for a project and a team: names, addresses, the planned dates
and the real-name platform's project code. Each parser returns the clean value or raises a
ValidationError whose key the front end shows before asking again."""

from __future__ import annotations

import re
from datetime import date

from core.domain.errors import ValidationError
from core.domain.values import clean_text, normalize_text

PROJECT_NAME_MIN = 2
PROJECT_NAME_MAX = 120  # Project.name is String(120)
TEAM_NAME_MIN = 2
TEAM_NAME_MAX = 60  # Team.name is String(60)
ADDRESS_MAX = 200
REALNAME_CODE_MAX = 40
# "2026-12-01", "2026/12/1", "2026.12.1", "2026年12月1日", "20261201"
_DATE = re.compile(r"(\d{4})(?:[-/.年](\d{1,2})[-/.月](\d{1,2})日?|(\d{2})(\d{2}))")
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


def parse_planned_date(raw: str | None) -> date:
    """A full date with its year, as a site's plan is written."""
    text = normalize_text(raw).replace(" ", "")
    found = _DATE.fullmatch(text)
    if found is None:
        raise ValidationError("error.planned_date_format")
    year, month, day = found[1], found[2] or found[4], found[3] or found[5]
    try:
        value = date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValidationError("error.planned_date_format") from exc
    if not 2000 <= value.year <= 2100:
        raise ValidationError("error.planned_date_format")
    return value


def check_planned_dates(start: date | None, end: date | None) -> None:
    """The planned end lies after the planned start (either may still be unknown)."""
    if start is not None and end is not None and end <= start:
        raise ValidationError(
            "error.planned_end_before_start", start=start.isoformat(), end=end.isoformat()
        )
