"""Trades and grades with both names, for pickers and tables; region names by code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from core.db.models import (
    Grade,
    Region,
    Trade,
)
from core.db.uow import UnitOfWork


@dataclass(frozen=True, slots=True)
class Choice:
    """A trade (code) or grade (level as text) with its names, for pickers and tables."""

    code: str
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


async def trade_choices(uow: UnitOfWork) -> list[Choice]:
    """Every trade, the nine guided ones first, then by sort order."""
    rows = await uow.session.scalars(
        select(Trade).order_by(Trade.guided.desc(), Trade.sort_order, Trade.code)
    )
    return [Choice(t.code, t.name_zh, t.name_en) for t in rows]


async def grade_choices(uow: UnitOfWork) -> list[Choice]:
    """Every skill grade, 一级 (the highest) first; `code` is the level as text."""
    rows = await uow.session.scalars(select(Grade).order_by(Grade.level))
    return [Choice(str(g.level), g.name_zh, g.name_en) for g in rows]


async def region_names(uow: UnitOfWork, codes: Sequence[str]) -> dict[str, tuple[str, str]]:
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    rows = await uow.session.execute(
        select(Region.code, Region.name_zh, Region.name_en).where(Region.code.in_(wanted))
    )
    return {code: (zh, en) for code, zh, en in rows}
