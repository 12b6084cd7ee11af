"""采集上报率 (the notice's reporting coverage): how many live projects keep their labor status
up to date, per sub-region, and which projects have been silent for a month.

What counts as an update of a project's labor status (the latest one is the project's "last
report"):
- a shortage posting of the project posted or changed (posted, edited, escalated, filled,
  cancelled: anything that moves the posting's `updated_at`);
- a worker in one of the project's teams switched between busy and idle (`status_changed_at`);
- the arrival check of a dispatch to the project answered (到岗 / 未到, `answered_at`): the
  foreman reported who came on site.
A live project is one whose status is active. A project created within the window and
never updated has not reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, select

from core.db.models import (
    Deal,
    DispatchAssignment,
    Enterprise,
    Project,
    ShortagePosting,
    Team,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import ProjectStatus, RegionLevel
from core.domain.errors import ValidationError
from core.domain.timeutil import as_utc
from core.services.paging import Page, decode_id_cursor, encode_id_cursor, page_size
from core.services.reference_choices import region_names
from core.services.region_scope import require_scope
from core.services.regions import children, get_region, region_filter

REPORTED_DAYS = 7  # the rate: projects that reported within the last 7 days
SILENT_DAYS = 30  # the list: projects without any report for 30 days


@dataclass(frozen=True, slots=True)
class AreaCoverage:
    """One sub-region: live projects and how many of them reported in the last 7 days."""

    code: str
    name_zh: str
    name_en: str
    live_projects: int
    reported: int

    @property
    def rate(self) -> Decimal | None:
        """The share in percent (one decimal), None without live projects."""
        if not self.live_projects:
            return None
        share = Decimal(100 * self.reported) / Decimal(self.live_projects)
        return share.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class RegionCoverage:
    code: str
    rows: tuple[AreaCoverage, ...]  # direct sub-regions (a county: itself)
    total: AreaCoverage
    silent_projects: int  # live projects silent for SILENT_DAYS days


@dataclass(frozen=True, slots=True)
class SilentProject:
    project_id: int
    name: str
    enterprise_name: str
    county_code: str
    county_name_zh: str
    county_name_en: str
    last_report_at: datetime | None  # None: never reported since it was created
    silent_days: int

    def county_name(self, locale: str) -> str:
        return self.county_name_zh if locale.startswith("zh") else self.county_name_en


def _silent_since(since: datetime) -> ColumnElement[bool]:
    """The project (correlated) did not update its labor status at or after `since` (postings,
    its teams' workers, or an arrival check answered).

    Spelled as NOT EXISTS each, not as NOT (EXISTS OR …), so that PostgreSQL plans each
    as an anti-join: most projects drop out on their postings (ix_shortage_project_updated)
    and only the rest are looked up team by team (ix_worker_team_changed)."""
    posted = exists().where(
        ShortagePosting.project_id == Project.id, ShortagePosting.updated_at >= since
    )
    staffed = exists().where(
        Team.project_id == Project.id,
        Worker.team_id == Team.id,
        Worker.status_changed_at >= since,
    )
    # an answered arrival check is a report of the receiving project too
    arrivals = exists().where(
        ShortagePosting.project_id == Project.id,
        Deal.shortage_id == ShortagePosting.id,
        DispatchAssignment.deal_id == Deal.id,
        DispatchAssignment.answered_at >= since,
    )
    return and_(~posted, ~staffed, ~arrivals)


def _live_in(code: str) -> ColumnElement[bool]:
    return and_(Project.status == ProjectStatus.ACTIVE.value, region_filter(code, Project))


async def region_coverage(
    uow: UnitOfWork, actor: Actor, region_code: str, *, at: datetime | None = None
) -> RegionCoverage:
    """The reporting rate of the region's live projects per direct sub-region, at `at`
    (default now; a digest passes its cut-off)."""
    code = require_scope(actor, region_code)
    region = await get_region(uow, code)
    now = at or uow.now()
    since = now - timedelta(days=REPORTED_DAYS)
    areas = [region] if region.level is RegionLevel.COUNTY else await children(uow, code)
    group_col: Any = (
        Project.city_code if region.level is RegionLevel.PROVINCE else Project.county_code
    )
    live = await uow.session.execute(
        select(group_col, func.count()).where(_live_in(code)).group_by(group_col)
    )
    # reported = live − not reported: the anti-join form is the cheap one (see _silent_since)
    unreported: dict[str, int] = dict(
        (
            await uow.session.execute(
                select(group_col, func.count())
                .where(_live_in(code), _silent_since(since))
                .group_by(group_col)
            )
        ).all()
    )
    counted = {key: (int(n), int(n) - int(unreported.get(key, 0))) for key, n in live.all()}
    area_rows = tuple(
        AreaCoverage(a.code, a.name_zh, a.name_en, *counted.get(a.code, (0, 0))) for a in areas
    )
    silent = await uow.session.scalar(select(func.count()).where(*_silent_clauses(code, now)))
    total = AreaCoverage(
        region.code,
        region.name_zh,
        region.name_en,
        sum(n for n, _ in counted.values()),
        sum(done for _, done in counted.values()),
    )
    return RegionCoverage(code, area_rows, total, int(silent or 0))


def _silent_clauses(code: str, now: datetime) -> list[ColumnElement[bool]]:
    since = now - timedelta(days=SILENT_DAYS)
    # a project younger than the window is not silent yet, whatever it did
    return [_live_in(code), Project.created_at < since, _silent_since(since)]


async def silent_projects(
    uow: UnitOfWork,
    actor: Actor,
    region_code: str,
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[SilentProject]:
    """Live projects of the region without a report for SILENT_DAYS days, oldest first."""
    code = require_scope(actor, region_code)
    size = page_size(limit)
    offset = decode_id_cursor(cursor) if cursor else 0
    if offset < 0:
        raise ValidationError("error.bad_cursor")
    now = uow.now()
    last_posting = (
        select(func.max(ShortagePosting.updated_at))
        .where(ShortagePosting.project_id == Project.id)
        .scalar_subquery()
    )
    last_staffing = (
        select(func.max(Worker.status_changed_at))
        .join(Team, Team.id == Worker.team_id)
        .where(Team.project_id == Project.id)
        .scalar_subquery()
    )
    last_arrival = (
        select(func.max(DispatchAssignment.answered_at))
        .join(Deal, Deal.id == DispatchAssignment.deal_id)
        .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
        .where(ShortagePosting.project_id == Project.id)
        .scalar_subquery()
    )
    rows = (
        await uow.session.execute(
            select(
                Project.id,
                Project.name,
                Enterprise.name,
                Project.county_code,
                Project.created_at,
                last_posting,
                last_staffing,
                last_arrival,
            )
            .join(Enterprise, Enterprise.id == Project.enterprise_id)
            .where(*_silent_clauses(code, now))
            .order_by(Project.created_at, Project.id)
            .offset(offset)
            .limit(size + 1)
        )
    ).all()
    names = await region_names(uow, [row[3] for row in rows[:size]])
    items = []
    for project_id, name, enterprise, county, created, *reported in rows[:size]:
        reports = [as_utc(t) for t in reported if t is not None]
        last = max(reports) if reports else None
        items.append(
            SilentProject(
                project_id=project_id,
                name=name,
                enterprise_name=enterprise,
                county_code=county,
                county_name_zh=names.get(county, (county, ""))[0],
                county_name_en=names.get(county, ("", county))[1],
                last_report_at=last,
                silent_days=(now - (last or as_utc(created))).days,
            )
        )
    return Page(
        items=tuple(items),
        next_cursor=encode_id_cursor(offset + size) if len(rows) > size else None,
        prev_cursor=encode_id_cursor(max(0, offset - size)) if offset > 0 else None,
    )
