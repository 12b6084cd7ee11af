"""One definition of an open ("live") posting, used by every count, list and digest.

A posting is open at an instant when its status is open or partly filled, it still has workers
to fill, and its expiry lies after that instant. The expiry sweep (`expire_postings`) later sets
such a posting's status to "expired", but no screen waits for it: past its expiry a posting is
not open, swept or not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from core.db.models import IdlePosting, ShortagePosting
from core.domain.enums import LIVE_STATUSES, PostingStatus
from core.domain.timeutil import as_utc

LIVE_VALUES = tuple(s.value for s in LIVE_STATUSES)

Posting = ShortagePosting | IdlePosting


def is_open(posting: Posting, at: datetime) -> bool:
    """The Python twin of `open_clause` for a loaded row."""
    return (
        posting.status in LIVE_VALUES
        and posting.headcount > posting.filled_count
        and as_utc(posting.expires_at) > at
    )


def open_clause(model: Any, at: datetime) -> ColumnElement[bool]:
    """SQL: the posting (ShortagePosting or IdlePosting) is open at `at`."""
    return and_(
        model.status.in_(LIVE_VALUES),
        model.headcount > model.filled_count,
        model.expires_at > at,
    )


def open_headcount(model: Any) -> Any:
    """SQL: the workers still wanted (shortage) or still on offer (idle) in a posting."""
    return model.headcount - model.filled_count


def status_clause(model: Any, status: PostingStatus, at: datetime) -> ColumnElement[bool]:
    """SQL: the posting shows `status` at `at`: a live status only until the expiry, and
    "expired" also for a live posting past its expiry that the sweep has not reached yet."""
    if status.is_live:
        return and_(model.status == status.value, model.expires_at > at)
    if status is PostingStatus.EXPIRED:
        return or_(
            model.status == status.value,
            and_(model.status.in_(LIVE_VALUES), model.expires_at <= at),
        )
    return model.status == status.value  # type: ignore[no-any-return]
