"""A company admin's projects: add, edit one field at a time, close, list and read.

Rules: only the admin of the project's company may touch it (a project id of another company
is "not found", so a forged id learns nothing); the county is a Shanxi county; the planned end
lies after the planned start; the real-name platform code is unique; a closed project takes
no new postings (postings.post_shortage refuses a project that is not active) and its teams'
workers leave the site (退场) on the day it closes; a project with open shortages is not
closed until they are taken down."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select, update

from core.db.models import Project, ShortagePosting, Team, TeamStay, Worker
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import ProjectStatus
from core.domain.errors import Conflict, NotFound, ValidationError
from core.domain.projects import (
    check_planned_dates,
    parse_address,
    parse_planned_date,
    parse_project_name,
    parse_realname_code,
)
from core.domain.timeutil import local_date
from core.services.company_admin import company_of, require_company_admin
from core.services.enterprises import check_county
from core.services.posting_state import open_clause
from core.services.regions import city_of

PAGE_SIZE = 6  # projects per screen: big buttons on a small phone
FIELDS = ("name", "county", "address", "start", "end", "realname")


@dataclass(frozen=True, slots=True)
class ProjectView:
    id: int
    code: str
    name: str
    county_code: str
    address: str
    planned_start: date | None
    planned_end: date | None
    realname_code: str | None
    status: ProjectStatus
    teams: int
    workers: int  # workers in its teams now

    @property
    def closed(self) -> bool:
        return self.status is not ProjectStatus.ACTIVE

    def fields(self) -> dict[str, object]:
        """Its values keyed by FIELDS, as a draft's answers are (None: not known)."""
        return {
            "name": self.name,
            "county": self.county_code,
            "address": self.address,
            "start": self.planned_start,
            "end": self.planned_end,
            "realname": self.realname_code,
        }


@dataclass(frozen=True, slots=True)
class ProjectDraft:
    name: str
    county_code: str
    address: str = ""
    planned_start: str = ""  # typed; empty: not known yet
    planned_end: str = ""
    realname_code: str = ""

    @classmethod
    def of(cls, answers: dict[str, str]) -> ProjectDraft:
        """The draft of draft_field's answers, keyed by FIELDS."""
        return cls(
            name=answers.get("name", ""),
            county_code=answers.get("county", ""),
            address=answers.get("address", ""),
            planned_start=answers.get("start", ""),
            planned_end=answers.get("end", ""),
            realname_code=answers.get("realname", ""),
        )


@dataclass(frozen=True, slots=True)
class ProjectPage:
    items: tuple[ProjectView, ...]
    page: int
    pages: int


def today_of(uow: UnitOfWork) -> date:
    return local_date(uow.now())


async def _counts(uow: UnitOfWork, ids: list[int]) -> dict[int, tuple[int, int]]:
    if not ids:
        return {}
    teams = dict(
        (
            await uow.session.execute(
                select(Team.project_id, func.count(Team.id))
                .where(Team.project_id.in_(ids))
                .group_by(Team.project_id)
            )
        ).all()
    )
    workers = dict(
        (
            await uow.session.execute(
                select(Team.project_id, func.count(Worker.id))
                .join(Worker, Worker.team_id == Team.id)
                .where(Team.project_id.in_(ids))
                .group_by(Team.project_id)
            )
        ).all()
    )
    return {pid: (int(teams.get(pid, 0)), int(workers.get(pid, 0))) for pid in ids}


def _view(row: Project, counts: tuple[int, int]) -> ProjectView:
    return ProjectView(
        id=row.id,
        code=row.code,
        name=row.name,
        county_code=row.county_code,
        address=row.address,
        planned_start=row.planned_start,
        planned_end=row.planned_end,
        realname_code=row.realname_code,
        status=ProjectStatus(row.status),
        teams=counts[0],
        workers=counts[1],
    )


async def own_project(uow: UnitOfWork, enterprise_id: int | None, project_id: int) -> Project:
    """The company's project (None: the system's, any company's); another company's id and a
    missing one look the same."""
    row = await uow.session.get(Project, project_id)
    if row is None or (enterprise_id is not None and row.enterprise_id != enterprise_id):
        raise NotFound("error.project_not_found")
    return row


async def _realname_free(uow: UnitOfWork, code: str | None, project_id: int | None) -> None:
    if code is None:
        return
    query = select(Project.id).where(Project.realname_code == code)
    if project_id is not None:
        query = query.where(Project.id != project_id)
    if await uow.session.scalar(query) is not None:
        raise Conflict("error.realname_code_taken", code=code)


def _optional_date(raw: str) -> date | None:
    return parse_planned_date(raw) if raw.strip() else None


OPTIONAL = ("address", "start", "end", "realname")  # a new project may leave these out


async def draft_field(uow: UnitOfWork, field: str, raw: str, *, start: str = "") -> str:
    """One answer of a project being added, checked as create_project will check it and kept
    as text ("" for an optional field left out); a planned end must follow `start`."""
    if field in OPTIONAL and not raw.strip():
        return ""
    if field == "county":
        return await check_county(uow, raw)
    if field in ("start", "end"):
        day = parse_planned_date(raw, today_of(uow))
        if field == "end":
            check_planned_dates(date.fromisoformat(start) if start else None, day)
        return day.isoformat()
    if field == "address":
        return parse_address(raw)
    if field == "realname":
        return parse_realname_code(raw) or ""
    return parse_project_name(raw)


async def create_project(
    uow: UnitOfWork, actor: Actor, draft: ProjectDraft, *, enterprise_id: int | None = None
) -> ProjectView:
    """A new active project of the admin's company, or of the company the system names
    (committed)."""
    enterprise_id = await company_of(uow, actor, enterprise_id)
    name = parse_project_name(draft.name)
    county = await check_county(uow, draft.county_code)
    address = parse_address(draft.address)
    start, end = _optional_date(draft.planned_start), _optional_date(draft.planned_end)
    check_planned_dates(start, end)
    realname = parse_realname_code(draft.realname_code)
    await _realname_free(uow, realname, None)
    row = Project(
        code=f"E{enterprise_id}-{secrets.token_hex(5).upper()}",
        enterprise_id=enterprise_id,
        name=name,
        county_code=county,
        city_code=city_of(county),
        address=address,
        status=ProjectStatus.ACTIVE.value,
        created_at=uow.now(),
        planned_start=start,
        planned_end=end,
        realname_code=realname,
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="project.create",
        entity="project",
        entity_id=row.id,
        after={
            "name": name,
            "county_code": county,
            "planned_start": start.isoformat() if start else None,
            "planned_end": end.isoformat() if end else None,
            "realname_code": realname,
        },
    )
    await uow.commit()
    return _view(row, (0, 0))


async def _new_value(uow: UnitOfWork, row: Project, field: str, raw: str) -> dict[str, object]:
    """The column(s) one edited field changes, checked against the project's other values."""
    if field == "name":
        return {"name": parse_project_name(raw)}
    if field == "county":
        county = await check_county(uow, raw)
        return {"county_code": county, "city_code": city_of(county)}
    if field == "address":
        return {"address": parse_address(raw)}
    if field == "start":
        start = parse_planned_date(raw, today_of(uow))
        check_planned_dates(start, row.planned_end)
        return {"planned_start": start}
    if field == "end":
        end = parse_planned_date(raw, today_of(uow))
        check_planned_dates(row.planned_start, end)
        return {"planned_end": end}
    if field == "realname":
        code = parse_realname_code(raw)
        await _realname_free(uow, code, row.id)
        return {"realname_code": code}
    raise ValidationError("error.invalid")


def _jsonable(values: dict[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


async def edit_project(
    uow: UnitOfWork, actor: Actor, project_id: int, field: str, raw: str
) -> ProjectView:
    """Change one field of an active project (committed); a closed project is read-only."""
    enterprise_id = await require_company_admin(uow, actor)
    row = await own_project(uow, enterprise_id, project_id)
    if row.status != ProjectStatus.ACTIVE.value:
        raise Conflict("error.project_closed", name=row.name)
    changes = await _new_value(uow, row, field, raw)
    before = {k: getattr(row, k) for k in changes}
    for key, value in changes.items():
        setattr(row, key, value)
    uow.audit(
        actor_account_id=actor.account_id,
        action="project.edit",
        entity="project",
        entity_id=row.id,
        before=_jsonable(before),
        after=_jsonable(changes),
    )
    await uow.session.flush()
    view = _view(row, (await _counts(uow, [row.id]))[row.id])
    await uow.commit()
    return view


async def close_project(uow: UnitOfWork, actor: Actor, project_id: int) -> ProjectView:
    """Close the project: no new postings; its teams' workers leave the site today."""
    enterprise_id = await require_company_admin(uow, actor)
    row = await own_project(uow, enterprise_id, project_id)
    live = int(
        await uow.session.scalar(
            select(func.count(ShortagePosting.id)).where(
                ShortagePosting.project_id == row.id, open_clause(ShortagePosting, uow.now())
            )
        )
        or 0
    )
    if live and row.status == ProjectStatus.ACTIVE.value:
        # a site that closes needs nobody: its open shortages go first, by the people who
        # posted them (matches and deals may hang on them)
        raise Conflict("error.project_has_open_shortages", name=row.name, count=live)
    claimed = await uow.session.execute(
        update(Project)
        .where(Project.id == row.id, Project.status == ProjectStatus.ACTIVE.value)
        .values(status=ProjectStatus.COMPLETED.value)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("error.project_closed", name=row.name)
    team_ids = select(Team.id).where(Team.project_id == row.id).scalar_subquery()
    today = today_of(uow)
    await uow.session.execute(
        update(TeamStay)
        .where(TeamStay.team_id.in_(team_ids), TeamStay.left_on.is_(None))
        .values(left_on=today)
        .execution_options(synchronize_session=False)
    )
    left = await uow.session.execute(
        update(Worker)
        .where(Worker.team_id.in_(team_ids))
        .values(team_id=None, updated_at=uow.now())
        .execution_options(synchronize_session=False)
    )
    uow.audit(
        actor_account_id=actor.account_id,
        action="project.close",
        entity="project",
        entity_id=row.id,
        before={"status": ProjectStatus.ACTIVE.value},
        after={"status": ProjectStatus.COMPLETED.value, "workers_left": left.rowcount},  # type: ignore[attr-defined]
    )
    await uow.session.refresh(row)
    view = _view(row, (await _counts(uow, [row.id]))[row.id])
    await uow.commit()
    return view


async def get_project(uow: UnitOfWork, actor: Actor, project_id: int) -> ProjectView:
    enterprise_id = await require_company_admin(uow, actor)
    row = await own_project(uow, enterprise_id, project_id)
    return _view(row, (await _counts(uow, [row.id]))[row.id])


async def list_projects(
    uow: UnitOfWork,
    actor: Actor,
    *,
    page: int = 0,
    closed: bool = False,
    enterprise_id: int | None = None,
) -> ProjectPage:
    """The company's active (or closed) projects, newest first, PAGE_SIZE a page."""
    enterprise_id = await company_of(uow, actor, enterprise_id)
    status = ProjectStatus.COMPLETED if closed else ProjectStatus.ACTIVE
    where = (Project.enterprise_id == enterprise_id, Project.status == status.value)
    total = int(await uow.session.scalar(select(func.count(Project.id)).where(*where)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(0, page), pages - 1)
    rows = list(
        await uow.session.scalars(
            select(Project)
            .where(*where)
            .order_by(Project.id.desc())
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    counts = await _counts(uow, [r.id for r in rows])
    return ProjectPage(tuple(_view(r, counts[r.id]) for r in rows), page, pages)
