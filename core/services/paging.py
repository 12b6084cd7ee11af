"""Keyset pages: an opaque cursor per direction, stable while rows come and go between views."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Literal, TypeVar

from core.domain.errors import ValidationError

T = TypeVar("T")

Direction = Literal["next", "prev"]

DEFAULT_PAGE_SIZE = 5  # what fits on a phone screen
MAX_PAGE_SIZE = 50

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page; pass `next_cursor` with direction "next" (older rows) or `prev_cursor` with
    direction "prev" (newer rows). A cursor is None when there is nothing that way."""

    items: tuple[T, ...]
    next_cursor: str | None
    prev_cursor: str | None


def page_size(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_PAGE_SIZE
    if limit < 1 or limit > MAX_PAGE_SIZE:
        raise ValidationError("error.page_size", min=1, max=MAX_PAGE_SIZE)
    return limit


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError("error.bad_cursor") from exc


def encode_ts_cursor(at: datetime, row_id: int) -> str:
    """base64 of "ts|id", ts in integer microseconds since the epoch: short for callback data."""
    micros = (at.replace(tzinfo=UTC) if at.tzinfo is None else at) - _EPOCH
    return _b64(f"{micros // timedelta(microseconds=1)}|{row_id}")


def decode_ts_cursor(cursor: str) -> tuple[datetime, int]:
    parts = _unb64(cursor).split("|")
    if len(parts) != 2 or not all(p.lstrip("-").isdigit() for p in parts):
        raise ValidationError("error.bad_cursor")
    try:
        at = _EPOCH + timedelta(microseconds=int(parts[0]))
    except OverflowError as exc:
        raise ValidationError("error.bad_cursor") from exc
    return at, int(parts[1])


def encode_id_cursor(row_id: int) -> str:
    return _b64(str(row_id))


def decode_id_cursor(cursor: str) -> int:
    text = _unb64(cursor)
    if not text.lstrip("-").isdigit():
        raise ValidationError("error.bad_cursor")
    return int(text)
