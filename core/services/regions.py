"""Regions (GB/T 2260): code normalization, levels, containment and the SQL region filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import ColumnElement, select, true

from core.db.models import Enterprise, Project, Region
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import ProjectStatus, RegionLevel
from core.domain.errors import NotFound, ValidationError
from core.services import reference

PROVINCE_CODE = "140000"
_PROVINCE_PREFIX = PROVINCE_CODE[:2]


@dataclass(frozen=True, slots=True)
class RegionView:
    code: str
    name_zh: str
    name_en: str
    level: RegionLevel
    parent_code: str | None
    neighbours: tuple[str, ...]

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


def normalize_region_code(code: str) -> str:
    """User input "14" / "1401" / "140105" (or six digits) → the six-digit code; else refused."""
    text = (code or "").strip()
    if not text.isdigit() or len(text) not in (2, 4, 6):
        raise ValidationError("error.unknown_region", code=text[:20])
    full = text.ljust(6, "0")
    # everything the platform holds is in Shanxi; "1400" is the province written short
    if not full.startswith(_PROVINCE_PREFIX) or (full[2:4] == "00" and full[4:] != "00"):
        raise ValidationError("error.unknown_region", code=text)
    return full


def region_level(code: str) -> RegionLevel:
    full = normalize_region_code(code)
    if full.endswith("0000"):
        return RegionLevel.PROVINCE
    if full.endswith("00"):
        return RegionLevel.CITY
    return RegionLevel.COUNTY


def city_of(code: str) -> str:
    """The city a city or county code belongs to ("140105" → "140100")."""
    return normalize_region_code(code)[:4] + "00"


def region_contains(scope_code: str, code: str) -> bool:
    """True if `code` is `scope_code` or lies inside it (province ⊃ cities ⊃ counties)."""
    scope = normalize_region_code(scope_code)
    target = normalize_region_code(code)
    level = region_level(scope)
    if level is RegionLevel.PROVINCE:
        return target[:2] == scope[:2]
    if level is RegionLevel.CITY:
        return target[:4] == scope[:4]
    return target == scope


def region_clause(code: str, county_col: Any, city_col: Any) -> ColumnElement[bool]:
    """WHERE clause for a region at any level: province → all, city → city_col, county → county."""
    full = normalize_region_code(code)
    level = region_level(full)
    if level is RegionLevel.PROVINCE:
        return true()
    if level is RegionLevel.CITY:
        return city_col == full  # type: ignore[no-any-return]
    return county_col == full  # type: ignore[no-any-return]


def region_filter(code: str, model: Any) -> ColumnElement[bool]:
    """region_clause for a model (or alias) that carries `county_code` and `city_code`."""
    return region_clause(code, model.county_code, model.city_code)


def _view(row: Region) -> RegionView:
    return RegionView(
        code=row.code,
        name_zh=row.name_zh,
        name_en=row.name_en,
        level=RegionLevel(row.level),
        parent_code=row.parent_code,
        neighbours=tuple(row.neighbours or ()),
    )


async def _all_regions(uow: UnitOfWork) -> Mapping[str, RegionView]:
    """Every region by code, in code order (reference data: read once per process)."""

    async def load(uow: UnitOfWork) -> Mapping[str, RegionView]:
        rows = await uow.session.scalars(select(Region).order_by(Region.code))
        return MappingProxyType({row.code: _view(row) for row in rows})

    return await reference.cached(uow, "regions", load)


async def get_region(uow: UnitOfWork, code: str) -> RegionView:
    """The region with this (normalized) code; NotFound if the reference data lacks it."""
    full = normalize_region_code(code)
    found = (await _all_regions(uow)).get(full)
    if found is None:
        raise NotFound("error.unknown_region", code=full)
    return found


async def children(uow: UnitOfWork, code: str) -> list[RegionView]:
    """Direct sub-regions (province → cities, city → counties, county → none), by code."""
    parent = await get_region(uow, code)
    return [r for r in (await _all_regions(uow)).values() if r.parent_code == parent.code]


async def company_counties(uow: UnitOfWork, actor: Actor) -> list[RegionView]:
    """The counties a company works in: its own seat first, then its active projects' by code.

    Where a dispatcher most likely posts idle workers, offered before the full region tree."""
    if actor.enterprise_id is None:
        return []
    seat = await uow.session.scalar(
        select(Enterprise.county_code).where(Enterprise.id == actor.enterprise_id)
    )
    projects = await uow.session.scalars(
        select(Project.county_code)
        .where(
            Project.enterprise_id == actor.enterprise_id,
            Project.status == ProjectStatus.ACTIVE.value,
        )
        .distinct()
    )
    codes = list(dict.fromkeys([*([seat] if seat else []), *sorted(projects.all())]))
    rows = {
        r.code: r
        for r in await uow.session.scalars(
            select(Region).where(Region.code.in_(codes), Region.level == RegionLevel.COUNTY.value)
        )
    }
    return [_view(rows[c]) for c in codes if c in rows]
