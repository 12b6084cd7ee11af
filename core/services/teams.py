"""班组 of a company's projects, as the company admin manages them: create, rename, list
members, move a worker into a team (进场) or off the site (退场), and the worker's card.

Rules: the team's project and the worker belong to the admin's own company (another
company's id is "not found"); a worker moves only between teams of its own company; a closed
project takes no new team and no new worker; a worker on another company's site (an accepted
deal not yet released) is not moved. Each move closes the worker's open stay and opens the
next one, so the card shows 进场 / 退场 with their dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, and_, func, select

from core.db.models import (
    Deal,
    DispatchAssignment,
    Grade,
    Project,
    ShortagePosting,
    Team,
    TeamStay,
    Trade,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.dispatch import Arrival
from core.domain.enums import DealStatus, ProjectStatus
from core.domain.errors import Conflict, NotFound
from core.domain.projects import parse_team_name
from core.domain.values import mask_phone
from core.services.company_admin import require_company_admin
from core.services.company_projects import own_project, today_of

PAGE_SIZE = 6  # names per screen: big buttons on a small phone
MAX_TEAMS = 50  # per project
HISTORY = 5  # stays shown on a worker's card


@dataclass(frozen=True, slots=True)
class TeamView:
    id: int
    project_id: int
    project_name: str
    name: str
    members: int
    project_closed: bool


@dataclass(frozen=True, slots=True)
class MemberView:
    id: int
    name: str
    trade_name_zh: str
    trade_name_en: str
    grade_level: int


@dataclass(frozen=True, slots=True)
class MemberPage:
    items: tuple[MemberView, ...]
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class StayView:
    project_name: str
    team_name: str  # "" for a dispatch to another company's project
    entered_on: date
    left_on: date | None
    dispatched: bool  # on another company's site by a deal


@dataclass(frozen=True, slots=True)
class WorkerCard:
    id: int
    name: str
    id_masked: str
    phone_masked: str | None
    trade_name_zh: str
    trade_name_en: str
    grade_name_zh: str
    grade_name_en: str
    credit_grade: str
    status: str
    team_id: int | None
    team_name: str | None
    project_name: str | None
    on_site_since: date | None  # 进场 of the open stay in its team
    stays: tuple[StayView, ...]  # newest first


# --- loading in scope -------------------------------------------------------------------------


async def _own_team(
    uow: UnitOfWork, enterprise_id: int | None, team_id: int
) -> tuple[Team, Project]:
    team = await uow.session.get(Team, team_id)
    if team is None:
        raise NotFound("error.team_not_found")
    project = await uow.session.get(Project, team.project_id)
    if project is None or (enterprise_id is not None and project.enterprise_id != enterprise_id):
        raise NotFound("error.team_not_found")
    return team, project


async def _own_worker(uow: UnitOfWork, enterprise_id: int | None, worker_id: int) -> Worker:
    worker = await uow.session.get(Worker, worker_id)
    if worker is None or (enterprise_id is not None and worker.enterprise_id != enterprise_id):
        raise NotFound("error.worker_not_found")
    return worker


async def _member_count(uow: UnitOfWork, team_ids: list[int]) -> dict[int, int]:
    if not team_ids:
        return {}
    rows = await uow.session.execute(
        select(Worker.team_id, func.count(Worker.id))
        .where(Worker.team_id.in_(team_ids))
        .group_by(Worker.team_id)
    )
    return {tid: int(n) for tid, n in rows if tid is not None}


def _team_view(team: Team, project: Project, members: int) -> TeamView:
    return TeamView(
        id=team.id,
        project_id=project.id,
        project_name=project.name,
        name=team.name,
        members=members,
        project_closed=project.status != ProjectStatus.ACTIVE.value,
    )


async def _name_free(uow: UnitOfWork, project_id: int, name: str, team_id: int | None) -> None:
    query = select(Team.id).where(Team.project_id == project_id, Team.name == name)
    if team_id is not None:
        query = query.where(Team.id != team_id)
    if await uow.session.scalar(query) is not None:
        raise Conflict("error.team_name_taken", name=name)


# --- teams ------------------------------------------------------------------------------------


async def create_team(
    uow: UnitOfWork, actor: Actor, project_id: int, name: str, trade_code: str | None = None
) -> TeamView:
    """A new team in an active project of the admin's company (committed). With a trade, the
    workers of that trade dispatched to the project by an accepted deal join this team
    (core.services.deals puts them in the project's first team of the trade)."""
    enterprise_id = await require_company_admin(uow, actor)
    project = await own_project(uow, enterprise_id, project_id)
    if project.status != ProjectStatus.ACTIVE.value:
        raise Conflict("error.project_closed", name=project.name)
    clean = parse_team_name(name)
    await _name_free(uow, project.id, clean, None)
    count = await uow.session.scalar(
        select(func.count(Team.id)).where(Team.project_id == project.id)
    )
    if int(count or 0) >= MAX_TEAMS:
        raise Conflict("error.too_many_teams", max=MAX_TEAMS)
    if trade_code is not None and await uow.session.get(Trade, trade_code) is None:
        raise NotFound("error.unknown_trade")
    team = Team(project_id=project.id, name=clean, trade_code=trade_code)
    uow.session.add(team)
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="team.create",
        entity="team",
        entity_id=team.id,
        after={"project_id": project.id, "name": clean, "trade_code": trade_code},
    )
    await uow.commit()
    return _team_view(team, project, 0)


async def rename_team(uow: UnitOfWork, actor: Actor, team_id: int, name: str) -> TeamView:
    enterprise_id = await require_company_admin(uow, actor)
    team, project = await _own_team(uow, enterprise_id, team_id)
    clean = parse_team_name(name)
    await _name_free(uow, project.id, clean, team.id)
    before = team.name
    team.name = clean
    uow.audit(
        actor_account_id=actor.account_id,
        action="team.rename",
        entity="team",
        entity_id=team.id,
        before={"name": before},
        after={"name": clean},
    )
    await uow.session.flush()
    view = _team_view(team, project, (await _member_count(uow, [team.id])).get(team.id, 0))
    await uow.commit()
    return view


async def get_team(uow: UnitOfWork, actor: Actor, team_id: int) -> TeamView:
    enterprise_id = await require_company_admin(uow, actor)
    team, project = await _own_team(uow, enterprise_id, team_id)
    return _team_view(team, project, (await _member_count(uow, [team.id])).get(team.id, 0))


async def list_teams(uow: UnitOfWork, actor: Actor, project_id: int) -> list[TeamView]:
    """The project's teams by name."""
    enterprise_id = await require_company_admin(uow, actor)
    project = await own_project(uow, enterprise_id, project_id)
    teams = list(
        await uow.session.scalars(
            select(Team).where(Team.project_id == project.id).order_by(Team.name, Team.id)
        )
    )
    counts = await _member_count(uow, [t.id for t in teams])
    return [_team_view(t, project, counts.get(t.id, 0)) for t in teams]


async def move_targets(uow: UnitOfWork, actor: Actor, worker_id: int) -> list[TeamView]:
    """The teams a worker may go to: every team of the company's active projects but its own."""
    worker = await _own_worker(uow, await require_company_admin(uow, actor), worker_id)
    enterprise_id = worker.enterprise_id
    rows = (
        await uow.session.execute(
            select(Team, Project)
            .join(Project, Project.id == Team.project_id)
            .where(
                Project.enterprise_id == enterprise_id,
                Project.status == ProjectStatus.ACTIVE.value,
                Team.id != (worker.team_id or 0),
            )
            .order_by(Project.name, Team.name, Team.id)
            .limit(MAX_TEAMS)
        )
    ).all()
    counts = await _member_count(uow, [t.id for t, _p in rows])
    return [_team_view(t, p, counts.get(t.id, 0)) for t, p in rows]


# --- members ----------------------------------------------------------------------------------


async def _member_page(uow: UnitOfWork, where: list[ColumnElement[bool]], page: int) -> MemberPage:
    total = int(await uow.session.scalar(select(func.count(Worker.id)).where(*where)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(0, page), pages - 1)
    rows = (
        await uow.session.execute(
            select(Worker.id, Worker.name, Trade.name_zh, Trade.name_en, Worker.grade_level)
            .join(Trade, Trade.code == Worker.trade_code)
            .where(*where)
            .order_by(Worker.name, Worker.id)
            .offset(page * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    ).all()
    return MemberPage(tuple(MemberView(*r) for r in rows), page, pages)


async def team_members(
    uow: UnitOfWork, actor: Actor, team_id: int, *, page: int = 0
) -> MemberPage:
    enterprise_id = await require_company_admin(uow, actor)
    team, _project = await _own_team(uow, enterprise_id, team_id)
    return await _member_page(uow, [Worker.team_id == team.id], page)


async def joinable_workers(
    uow: UnitOfWork, actor: Actor, team_id: int, *, page: int = 0
) -> MemberPage:
    """The company's workers in no team (a worker in another team moves from its card)."""
    _team, project = await _own_team(uow, await require_company_admin(uow, actor), team_id)
    where = [Worker.enterprise_id == project.enterprise_id, Worker.team_id.is_(None)]
    return await _member_page(uow, where, page)


# --- moves ------------------------------------------------------------------------------------


async def _on_other_site(uow: UnitOfWork, worker_id: int) -> bool:
    """Dispatched by an accepted deal and not yet released."""
    found = await uow.session.scalar(
        select(DispatchAssignment.id)
        .join(Deal, Deal.id == DispatchAssignment.deal_id)
        .where(
            DispatchAssignment.worker_id == worker_id,
            Deal.status == DealStatus.ACCEPTED.value,
            DispatchAssignment.arrival != Arrival.NO_SHOW.value,
            DispatchAssignment.released_on.is_(None),
        )
        .limit(1)
    )
    return found is not None


async def _close_stay(uow: UnitOfWork, worker_id: int, today: date) -> None:
    open_stay = await uow.session.scalar(
        select(TeamStay)
        .where(TeamStay.worker_id == worker_id, TeamStay.left_on.is_(None))
        .order_by(TeamStay.id.desc())
        .limit(1)
    )
    if open_stay is not None:
        open_stay.left_on = today


async def move_worker(uow: UnitOfWork, actor: Actor, worker_id: int, team_id: int) -> WorkerCard:
    """Put the worker into this team (进场 today), leaving its current team (committed)."""
    enterprise_id = await require_company_admin(uow, actor)
    worker = await _own_worker(uow, enterprise_id, worker_id)
    team, project = await _own_team(uow, enterprise_id, team_id)
    if project.enterprise_id != worker.enterprise_id:  # only the system can get this far
        raise NotFound("error.team_not_found")
    if project.status != ProjectStatus.ACTIVE.value:
        raise Conflict("error.project_closed", name=project.name)
    if worker.team_id == team.id:
        raise Conflict("error.already_in_team", name=worker.name, team=team.name)
    if worker.team_id is not None:
        # the team it leaves must be its own company's too
        await _own_team(uow, worker.enterprise_id, worker.team_id)
    if await _on_other_site(uow, worker.id):
        raise Conflict("error.worker_dispatched", name=worker.name)
    today = today_of(uow)
    await _close_stay(uow, worker.id, today)
    before = worker.team_id
    worker.team_id = team.id
    worker.updated_at = uow.now()
    uow.session.add(
        TeamStay(worker_id=worker.id, team_id=team.id, entered_on=today, created_at=uow.now())
    )
    uow.audit(
        actor_account_id=actor.account_id,
        action="worker.move",
        entity="worker",
        entity_id=worker.id,
        before={"team_id": before},
        after={"team_id": team.id},
    )
    await uow.session.flush()
    card = await _card(uow, worker)
    await uow.commit()
    return card


async def leave_site(uow: UnitOfWork, actor: Actor, worker_id: int) -> WorkerCard:
    """退场: the worker leaves its team today (committed)."""
    enterprise_id = await require_company_admin(uow, actor)
    worker = await _own_worker(uow, enterprise_id, worker_id)
    if worker.team_id is None:
        raise Conflict("error.not_in_team", name=worker.name)
    await _own_team(uow, worker.enterprise_id, worker.team_id)
    await _close_stay(uow, worker.id, today_of(uow))
    before = worker.team_id
    worker.team_id = None
    worker.updated_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="worker.leave_site",
        entity="worker",
        entity_id=worker.id,
        before={"team_id": before},
        after={"team_id": None},
    )
    await uow.session.flush()
    card = await _card(uow, worker)
    await uow.commit()
    return card


# --- the card ---------------------------------------------------------------------------------


async def _stays(uow: UnitOfWork, worker_id: int) -> list[StayView]:
    own = (
        await uow.session.execute(
            select(TeamStay.entered_on, TeamStay.left_on, Team.name, Project.name)
            .join(Team, Team.id == TeamStay.team_id)
            .join(Project, Project.id == Team.project_id)
            .where(TeamStay.worker_id == worker_id)
            .order_by(TeamStay.id.desc())
            .limit(HISTORY)
        )
    ).all()
    dispatched = (
        await uow.session.execute(
            select(
                DispatchAssignment.due_on,
                DispatchAssignment.arrived_on,
                DispatchAssignment.released_on,
                Project.name,
            )
            .join(Deal, Deal.id == DispatchAssignment.deal_id)
            .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
            .join(Project, Project.id == ShortagePosting.project_id)
            .where(
                and_(
                    DispatchAssignment.worker_id == worker_id,
                    Deal.status == DealStatus.ACCEPTED.value,
                    DispatchAssignment.arrival != Arrival.NO_SHOW.value,
                )
            )
            .order_by(DispatchAssignment.id.desc())
            .limit(HISTORY)
        )
    ).all()
    stays = [StayView(p, t, entered, left, False) for entered, left, t, p in own]
    stays += [
        StayView(p, "", arrived or due, released, True) for due, arrived, released, p in dispatched
    ]
    stays.sort(key=lambda s: s.entered_on, reverse=True)
    return stays[:HISTORY]


async def _card(uow: UnitOfWork, worker: Worker) -> WorkerCard:
    trade = await uow.session.get(Trade, worker.trade_code)
    grade = await uow.session.get(Grade, worker.grade_level)
    team = await uow.session.get(Team, worker.team_id) if worker.team_id else None
    project = await uow.session.get(Project, team.project_id) if team else None
    since = None
    if team is not None:
        since = await uow.session.scalar(
            select(TeamStay.entered_on)
            .where(
                TeamStay.worker_id == worker.id,
                TeamStay.team_id == team.id,
                TeamStay.left_on.is_(None),
            )
            .order_by(TeamStay.id.desc())
            .limit(1)
        )
    return WorkerCard(
        id=worker.id,
        name=worker.name,
        id_masked=worker.id_masked,
        phone_masked=mask_phone(worker.phone) if worker.phone else None,
        trade_name_zh=trade.name_zh if trade else worker.trade_code,
        trade_name_en=trade.name_en if trade else worker.trade_code,
        grade_name_zh=grade.name_zh if grade else str(worker.grade_level),
        grade_name_en=grade.name_en if grade else str(worker.grade_level),
        credit_grade=worker.credit_grade,
        status=worker.status,
        team_id=team.id if team else None,
        team_name=team.name if team else None,
        project_name=project.name if project else None,
        on_site_since=since,
        stays=tuple(await _stays(uow, worker.id)),
    )


async def worker_card(uow: UnitOfWork, actor: Actor, worker_id: int) -> WorkerCard:
    """What the admin sees of one of its workers: ID and phone masked only."""
    enterprise_id = await require_company_admin(uow, actor)
    worker = await _own_worker(uow, enterprise_id, worker_id)
    return await _card(uow, worker)
