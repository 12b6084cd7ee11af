"""The matcher reads only the best few candidates by an SQL upper bound of the score (a big city
holds thousands at ten times the province), my county before the rest of the city and the city
before the province, and must rank exactly as if it had read them all."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import core.services.matching as matching
from core.db.models import IdlePosting, ShortagePosting
from core.db.uow import Services
from core.domain.enums import LIVE_STATUSES
from core.seed import seed_demo
from core.services.matching import match_posting

LIVE = [s.value for s in LIVE_STATUSES]


async def _ranking(services: Services, kind: str, ids: list[int], limit: int) -> list[Any]:
    out = []
    for posting_id in ids:
        async with services.uow(read_only=True) as uow:
            views = await match_posting(uow, None, kind, posting_id, limit=limit)
        out.append([(v.posting_id, v.internal, v.score, v.breakdown) for v in views])
    return out


async def test_a_capped_fetch_ranks_like_reading_every_candidate(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_demo(services, scale="small")
    async with services.uow(read_only=True) as uow:
        shortages = list(
            (
                await uow.session.scalars(
                    select(ShortagePosting.id)
                    .where(ShortagePosting.status.in_(LIVE))
                    .order_by(ShortagePosting.id)
                    .limit(40)
                )
            ).all()
        )
        idles = list(
            (
                await uow.session.scalars(
                    select(IdlePosting.id)
                    .where(IdlePosting.status.in_(LIVE))
                    .order_by(IdlePosting.id)
                    .limit(40)
                )
            ).all()
        )

    verdicts: list[bool] = []
    real_cut = matching._cut_is_safe

    def counting_cut(ranked: Any, tail: Any, limit: int) -> bool:
        safe = real_cut(ranked, tail, limit)
        if tail is not None:
            verdicts.append(safe)
        return safe

    tiers_read: list[bool] = []
    real_can_place = matching._can_place

    def counting_can_place(ranked: Any, limit: int, best_possible: float) -> bool:
        read = real_can_place(ranked, limit, best_possible)
        tiers_read.append(read)
        return read

    for limit in (1, 3, 10):
        # every candidate read in one query, as before the cap and the region tiers existed
        monkeypatch.setattr(matching, "_CAP_MIN", 10**9)
        monkeypatch.setattr(matching, "_REGION_TIERS", frozenset())
        full_s = await _ranking(services, "shortage", shortages, limit)
        full_i = await _ranking(services, "idle", idles, limit)
        monkeypatch.undo()
        monkeypatch.setattr(matching, "_can_place", counting_can_place)
        # the region tiers (on either database) with the usual cap
        monkeypatch.setattr(matching, "_REGION_TIERS", frozenset({"sqlite", "postgresql"}))
        assert await _ranking(services, "shortage", shortages, limit) == full_s, limit
        assert await _ranking(services, "idle", idles, limit) == full_i, limit
        # the tightest cap: exactly `limit` rows, so the cut is tested at every call
        monkeypatch.setattr(matching, "_CAP_MIN", 0)
        monkeypatch.setattr(matching, "_CAP_PER_LIMIT", 1)
        monkeypatch.setattr(matching, "_cut_is_safe", counting_cut)
        assert await _ranking(services, "shortage", shortages, limit) == full_s, limit
        assert await _ranking(services, "idle", idles, limit) == full_i, limit
        monkeypatch.undo()

    assert any(full_s)
    assert any(full_i)
    # both ways were taken: a cut kept, and a cut refused (then every candidate read)
    assert True in verdicts
    assert False in verdicts
    # and a further region tier both read and left unread
    assert True in tiers_read
    assert False in tiers_read
