"""Keyset pages: an opaque cursor per direction, stable while rows come and go between views."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Generic, Literal, TypeVar

from core.domain.errors import ValidationError

T = TypeVar("T")

Direction = Literal["next", "prev"]

DEFAULT_PAGE_SIZE = 5  # what fits on a phone screen
MAX_PAGE_SIZE = 50

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Bounds of what a cursor may carry: row ids are 32-bit INTEGER columns, timestamps lie between
# the epoch and a year no row will reach. A forged cursor outside them is refused (422) before
# it reaches SQL, where it would overflow a column type (a 500).
ROW_ID_MAX = 2**31 - 1
_MICROS_MAX = (datetime(2200, 1, 1, tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)
_NUMBER = re.compile(r"-?[0-9]{1,19}", re.ASCII)  # str.isdigit() also takes "²" and "٣"


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


def _bounded(text: str, low: int, high: int) -> int:
    if not _NUMBER.fullmatch(text):
        raise ValidationError("error.bad_cursor")
    value = int(text)
    if not low <= value <= high:
        raise ValidationError("error.bad_cursor")
    return value


def decode_ts_cursor(cursor: str) -> tuple[datetime, int]:
    """(timestamp, row id) of a cursor; ValidationError for anything encode_ts_cursor of a real
    row (or of the boundary below one) could not have made."""
    parts = _unb64(cursor).split("|")
    if len(parts) != 2:
        raise ValidationError("error.bad_cursor")
    micros = _bounded(parts[0], 0, _MICROS_MAX)
    return _EPOCH + timedelta(microseconds=micros), _bounded(parts[1], 0, ROW_ID_MAX)


def boundary_below(cursor: str) -> str:
    """The cursor just below a boundary row, so that "prev" from it includes that row.
    Row ids start at 1, so below id 0 there is nothing left to include: id 0 stays 0."""
    at, row_id = decode_ts_cursor(cursor)
    return encode_ts_cursor(at, max(row_id - 1, 0))


def encode_id_cursor(row_id: int) -> str:
    return _b64(str(row_id))


def decode_id_cursor(cursor: str) -> int:
    return _bounded(_unb64(cursor), 0, ROW_ID_MAX)


_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def _base36(n: int) -> str:
    digits = ""
    while True:
        n, r = divmod(n, 36)
        digits = _B36[r] + digits
        if n == 0:
            return digits


def compact_cursor(cursor: str) -> str:
    """A timestamp cursor (base64 of "µs|id", 36 characters) as "µs.id" in base 36 (18
    characters): a paging button of the bot stays within Telegram's 64 bytes."""
    at, row_id = decode_ts_cursor(cursor)
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    if micros < 0 or row_id < 0:
        raise ValidationError("error.bad_cursor")
    return f"{_base36(micros)}.{_base36(row_id)}"


def expand_cursor(short: str) -> str:
    """The cursor of a compact one; a full cursor (a button made before compaction) passes."""
    if "." not in short:
        return short
    micros, _, row_id = short.partition(".")
    if not (micros.isalnum() and row_id.isalnum() and micros.isascii() and row_id.isascii()):
        raise ValidationError("error.bad_cursor")
    try:
        at = _EPOCH + timedelta(microseconds=int(micros, 36))
    except (ValueError, OverflowError) as exc:
        raise ValidationError("error.bad_cursor") from exc
    return encode_ts_cursor(at, int(row_id, 36))
