"""The company admin (core/services/company_admin.py, company_projects.py, teams.py): invites,
projects, teams, moves and the worker card, and every refusal: not an admin, another
company's ids, a closed project, dates out of order, a worker of another company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.models import Account, Invite, Project, Team, TeamStay, Worker
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import DealStatus, ProjectStatus, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.ports import FixedClock
from core.services import company_projects, postings, teams
from core.services.accounts import redeem_invite
from core.services.company_admin import invite_member, is_company_admin
from core.services.company_projects import ProjectDraft
from core.services.postings import PostShortageCommand
from tests.factories import (
    actor_of,
    make_account,
    make_enterprise,
    make_project,
    make_shortage,
    make_team,
    make_worker,
)


@dataclass(frozen=True)
class World:
    admin: Actor
    plain: Actor  # a dispatcher of the same company without admin rights
    stranger: Actor  # the admin of another company
    project_id: int
    other_project_id: int
    team_id: int
    other_team_id: int
    worker_id: int
    other_worker_id: int


@pytest.fixture
async def world(services: Services) -> World:
    async with services.uow() as uow:
        own = await make_enterprise(uow, name="山西晋工劳务有限公司")
        other = await make_enterprise(uow, name="别家劳务有限公司")
        project = await make_project(uow, own, name="太原南站项目")
        other_project = await make_project(uow, other, name="别家项目")
        team = await make_team(uow, project)
        other_team = await make_team(uow, other_project)
        worker = await make_worker(uow, own, name="王海东", phone="13800138000")
        other_worker = await make_worker(uow, other, name="赵四")
        admin = await make_account(uow, role=Role.DISPATCHER, enterprise=own, name="李管理")
        admin.is_admin = True
        plain = await make_account(uow, role=Role.DISPATCHER, enterprise=own, name="陈调度")
        stranger = await make_account(uow, role=Role.DISPATCHER, enterprise=other, name="别家")
        stranger.is_admin = True
        await uow.commit()
        return World(
            admin=actor_of(admin),
            plain=actor_of(plain),
            stranger=actor_of(stranger),
            project_id=project.id,
            other_project_id=other_project.id,
            team_id=team.id,
            other_team_id=other_team.id,
            worker_id=worker.id,
            other_worker_id=other_worker.id,
        )


def draft(**overrides: Any) -> ProjectDraft:
    values: dict[str, Any] = {
        "name": "晋阳湖公寓二期",
        "county_code": "140105",
        "address": "小店区长风街1号",
        "planned_start": "2026-03-10",
        "planned_end": "2027/6/30",
        "realname_code": "sx-2026-0001",
    }
    values.update(overrides)
    return ProjectDraft(**values)


async def rows(services: Services, model: Any) -> int:
    async with services.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


# --- who is an admin ------------------------------------------------------------------------


async def test_only_a_flagged_dispatcher_of_its_own_company_is_an_admin(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        assert await is_company_admin(uow, world.admin)
        assert not await is_company_admin(uow, world.plain)
        # a client cannot claim another company: the account row decides
        forged = Actor(account_id=world.admin.account_id, role=Role.DISPATCHER, enterprise_id=999)
        assert not await is_company_admin(uow, forged)
        assert not await is_company_admin(uow, Actor.system())


async def test_a_dispatcher_without_admin_rights_is_refused_everything(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied) as err:
            await company_projects.create_project(uow, world.plain, draft())
        assert err.value.key == "error.not_company_admin"
        with pytest.raises(PermissionDenied):
            await teams.create_team(uow, world.plain, world.project_id, "钢筋班")
        with pytest.raises(PermissionDenied):
            await teams.move_worker(uow, world.plain, world.worker_id, world.team_id)
        with pytest.raises(PermissionDenied):
            await invite_member(uow, world.plain, role=Role.DISPATCHER, display_name="王调度")
    assert await rows(services, Invite) == 0


# --- invites --------------------------------------------------------------------------------


async def test_an_admin_invites_a_dispatcher_who_joins_the_company_once(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        invite = await invite_member(uow, world.admin, role=Role.DISPATCHER, display_name="王调度")
    assert invite.link.endswith(f"?start={invite.token}")
    async with services.uow() as uow:
        joined = await redeem_invite(
            uow,
            token=invite.token,
            telegram_user_id=9101,
            chat_id=9101,
            display_name="x",
            language_code="zh",
        )
    assert (joined.role, joined.enterprise_id) == (Role.DISPATCHER, world.admin.enterprise_id)
    async with services.uow() as uow:
        account = await uow.session.get(Account, joined.id)
        assert account is not None
        assert account.is_admin is False  # admin rights are not handed on by an invite
        with pytest.raises(ValidationError) as err:  # single use
            await redeem_invite(
                uow,
                token=invite.token,
                telegram_user_id=9102,
                chat_id=9102,
                display_name="y",
                language_code="zh",
            )
        assert err.value.key == "error.invite_invalid"


async def test_an_invite_expires(services: Services, world: World, clock: FixedClock) -> None:
    async with services.uow() as uow:
        invite = await invite_member(
            uow,
            world.admin,
            role=Role.FOREMAN,
            display_name="张工长",
            project_ids=(world.project_id,),
        )
    clock.advance(hours=services.settings.invite_ttl_hours, seconds=1)
    async with services.uow() as uow:
        with pytest.raises(ValidationError):
            await redeem_invite(
                uow,
                token=invite.token,
                telegram_user_id=9103,
                chat_id=9103,
                display_name="z",
                language_code="zh",
            )


async def test_a_foreman_invite_for_another_companys_project_is_refused(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        with pytest.raises(PermissionDenied):
            await invite_member(
                uow,
                world.admin,
                role=Role.FOREMAN,
                display_name="张工长",
                project_ids=(world.other_project_id,),
            )
        with pytest.raises(PermissionDenied):
            await invite_member(uow, world.admin, role=Role.REGULATOR, display_name="王监管")
    assert await rows(services, Invite) == 0


# --- projects -------------------------------------------------------------------------------


async def test_an_admin_adds_a_project_with_dates_and_real_name_code(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        view = await company_projects.create_project(uow, world.admin, draft())
    assert (view.planned_start, view.planned_end) == (date(2026, 3, 10), date(2027, 6, 30))
    assert view.realname_code == "SX-2026-0001"
    async with services.uow() as uow:
        row = await uow.session.get(Project, view.id)
        assert row is not None
        assert (row.enterprise_id, row.county_code, row.city_code, row.status) == (
            world.admin.enterprise_id,
            "140105",
            "140100",
            "active",
        )


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"planned_end": "2026-03-10"}, "error.planned_end_before_start"),
        ({"planned_end": "2026-01-01"}, "error.planned_end_before_start"),
        ({"planned_start": "明天"}, "error.planned_date_format"),
        ({"planned_start": "2026-02-30"}, "error.planned_date_format"),
        ({"name": "A"}, "error.project_name_short"),
        ({"name": "工" * 121}, "error.text_too_long"),
        ({"county_code": "140100"}, "error.not_a_county"),
        ({"county_code": "110105"}, "error.unknown_region"),
        ({"realname_code": "项目编号"}, "error.realname_code"),
    ],
)
async def test_a_bad_project_field_is_refused_and_nothing_is_written(
    services: Services, world: World, overrides: dict[str, str], key: str
) -> None:
    before = await rows(services, Project)
    async with services.uow() as uow:
        with pytest.raises((ValidationError, NotFound)) as err:
            await company_projects.create_project(uow, world.admin, draft(**overrides))
    assert err.value.key == key
    assert await rows(services, Project) == before


async def test_a_real_name_code_is_registered_once(services: Services, world: World) -> None:
    async with services.uow() as uow:
        await company_projects.create_project(uow, world.admin, draft())
    async with services.uow() as uow:
        with pytest.raises(Conflict):
            await company_projects.create_project(
                uow, world.admin, draft(name="另一个项目", realname_code="SX-2026-0001")
            )


async def test_editing_one_field_keeps_the_end_after_the_start(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        view = await company_projects.create_project(uow, world.admin, draft())
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await company_projects.edit_project(uow, world.admin, view.id, "start", "2027-07-01")
        assert err.value.key == "error.planned_end_before_start"
    async with services.uow() as uow:
        edited = await company_projects.edit_project(
            uow, world.admin, view.id, "name", " 晋阳湖公寓三期 "
        )
        assert edited.name == "晋阳湖公寓三期"
        edited = await company_projects.edit_project(uow, world.admin, view.id, "county", "140106")
        assert edited.county_code == "140106"
        edited = await company_projects.edit_project(uow, world.admin, view.id, "address", "无")
        assert edited.address == ""
    async with services.uow() as uow:
        row = await uow.session.get(Project, view.id)
        assert row is not None
        assert (row.name, row.county_code, row.planned_start) == (
            "晋阳湖公寓三期",
            "140106",
            date(2026, 3, 10),
        )


async def test_another_companys_project_is_not_found(services: Services, world: World) -> None:
    async with services.uow() as uow:
        for call in (
            company_projects.get_project(uow, world.admin, world.other_project_id),
            company_projects.edit_project(
                uow, world.admin, world.other_project_id, "name", "改名"
            ),
            company_projects.close_project(uow, world.admin, world.other_project_id),
            teams.create_team(uow, world.admin, world.other_project_id, "钢筋班"),
            teams.rename_team(uow, world.admin, world.other_team_id, "改名班"),
            teams.team_members(uow, world.admin, world.other_team_id),
        ):
            with pytest.raises(NotFound):
                await call
    async with services.uow() as uow:
        other = await uow.session.get(Project, world.other_project_id)
        assert other is not None
        assert (other.name, other.status) == ("别家项目", "active")


async def test_a_closed_project_takes_no_posting_no_team_and_its_workers_leave_the_site(
    services: Services, world: World, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        await teams.move_worker(uow, world.admin, world.worker_id, world.team_id)
    clock.advance(days=3)
    async with services.uow() as uow:
        closed = await company_projects.close_project(uow, world.admin, world.project_id)
    assert closed.status is ProjectStatus.COMPLETED
    assert closed.workers == 0
    async with services.uow() as uow:
        with pytest.raises(Conflict):
            await company_projects.close_project(uow, world.admin, world.project_id)
        with pytest.raises(Conflict):
            await company_projects.edit_project(
                uow, world.admin, world.project_id, "name", "x项目"
            )
        with pytest.raises(Conflict):
            await teams.create_team(uow, world.admin, world.project_id, "新班组")
        with pytest.raises(Conflict):
            await teams.move_worker(uow, world.admin, world.worker_id, world.team_id)
        with pytest.raises(Conflict):
            await postings.post_shortage(
                uow,
                world.admin,
                PostShortageCommand(
                    project_id=world.project_id,
                    trade_code="plasterer",
                    min_grade=3,
                    headcount=2,
                    price="5500",
                    contact_name="李管理",
                    contact_phone="13912345678",
                ),
            )
    async with services.uow() as uow:
        stay = await uow.session.scalar(select(TeamStay))
        assert stay is not None
        assert (stay.entered_on, stay.left_on) == (date(2026, 3, 4), date(2026, 3, 7))
        card = await teams.worker_card(uow, world.admin, world.worker_id)
        assert card.team_id is None
        assert card.stays[0].left_on == date(2026, 3, 7)


# --- teams and moves ------------------------------------------------------------------------


async def test_teams_are_created_renamed_and_listed_with_their_members(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        team = await teams.create_team(uow, world.admin, world.project_id, "钢筋一班")
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await teams.create_team(uow, world.admin, world.project_id, "钢筋一班")
        assert err.value.key == "error.team_name_taken"
        with pytest.raises(ValidationError):
            await teams.rename_team(uow, world.admin, team.id, " ")
    async with services.uow() as uow:
        renamed = await teams.rename_team(uow, world.admin, team.id, "钢筋二班")
        assert renamed.name == "钢筋二班"
        await teams.move_worker(uow, world.admin, world.worker_id, team.id)
    async with services.uow() as uow:
        listed = await teams.list_teams(uow, world.admin, world.project_id)
        assert [(t.name, t.members) for t in listed] == [("plasterer班组", 0), ("钢筋二班", 1)]
        members = await teams.team_members(uow, world.admin, team.id)
        assert [m.name for m in members.items] == ["王海东"]


async def test_moving_a_worker_closes_one_stay_and_opens_the_next(
    services: Services, world: World, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        second = await teams.create_team(uow, world.admin, world.project_id, "木工班")
        await teams.move_worker(uow, world.admin, world.worker_id, world.team_id)
    clock.advance(days=2)
    async with services.uow() as uow:
        targets = await teams.move_targets(uow, world.admin, world.worker_id)
        assert [t.id for t in targets] == [second.id]  # not its own, not another company's
        card = await teams.move_worker(uow, world.admin, world.worker_id, second.id)
    assert (card.team_name, card.project_name, card.on_site_since) == (
        "木工班",
        "太原南站项目",
        date(2026, 3, 6),
    )
    assert [(s.team_name, s.entered_on, s.left_on) for s in card.stays] == [
        ("木工班", date(2026, 3, 6), None),
        ("plasterer班组", date(2026, 3, 4), date(2026, 3, 6)),
    ]
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await teams.move_worker(uow, world.admin, world.worker_id, second.id)
        assert err.value.key == "error.already_in_team"
        left = await teams.leave_site(uow, world.admin, world.worker_id)
        assert left.team_id is None
        with pytest.raises(Conflict):
            await teams.leave_site(uow, world.admin, world.worker_id)


async def test_a_worker_moves_only_between_teams_of_its_own_company(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        with pytest.raises(NotFound):  # another company's team
            await teams.move_worker(uow, world.admin, world.worker_id, world.other_team_id)
        with pytest.raises(NotFound):  # another company's worker
            await teams.move_worker(uow, world.admin, world.other_worker_id, world.team_id)
        with pytest.raises(NotFound):
            await teams.worker_card(uow, world.admin, world.other_worker_id)
        # a worker of ours sitting in another company's team is not taken out of it
        worker = await uow.session.get(Worker, world.worker_id)
        assert worker is not None
        worker.team_id = world.other_team_id
        await uow.commit()
    async with services.uow() as uow:
        with pytest.raises(NotFound):
            await teams.move_worker(uow, world.admin, world.worker_id, world.team_id)
    assert await rows(services, TeamStay) == 0


async def test_a_worker_on_another_companys_site_is_not_moved(
    services: Services, world: World
) -> None:
    from core.db.models import Deal, DispatchAssignment

    async with services.uow() as uow:
        other_project = await uow.session.get(Project, world.other_project_id)
        assert other_project is not None
        shortage = await make_shortage(uow, other_project)
        now = uow.now()
        deal = Deal(
            shortage_id=shortage.id,
            shortage_enterprise_id=other_project.enterprise_id,
            idle_enterprise_id=world.admin.enterprise_id,
            trade_code="plasterer",
            county_code=other_project.county_code,
            city_code=other_project.city_code,
            headcount=1,
            price_fen=550000,
            start_date=date(2026, 3, 4),
            status=DealStatus.ACCEPTED.value,
            proposer_side="idle",
            created_at=now,
            updated_at=now,
            expires_at=now,
            accepted_at=now,
        )
        uow.session.add(deal)
        await uow.session.flush()
        uow.session.add(
            DispatchAssignment(
                deal_id=deal.id,
                worker_id=world.worker_id,
                enterprise_id=world.admin.enterprise_id,
                due_on=date(2026, 3, 4),
                arrival="arrived",
                arrived_on=date(2026, 3, 4),
                created_at=now,
            )
        )
        await uow.commit()
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await teams.move_worker(uow, world.admin, world.worker_id, world.team_id)
        assert err.value.key == "error.worker_dispatched"
        card = await teams.worker_card(uow, world.admin, world.worker_id)
    assert [(s.project_name, s.entered_on, s.left_on, s.dispatched) for s in card.stays] == [
        ("别家项目", date(2026, 3, 4), None, True)
    ]


async def test_the_worker_card_shows_masked_id_and_phone_only(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        card = await teams.worker_card(uow, world.admin, world.worker_id)
        worker = await uow.session.get(Worker, world.worker_id)
        assert worker is not None
        masked = worker.id_masked
    assert card.phone_masked == "138****8000"
    assert card.id_masked == masked
    assert "*" in card.id_masked
    assert (card.credit_grade, card.trade_name_zh) == ("A", "抹灰工")
    assert not hasattr(card, "phone")


async def test_the_project_list_pages_and_leaves_closed_ones_out(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        for n in range(company_projects.PAGE_SIZE + 1):
            await company_projects.create_project(
                uow, world.admin, draft(name=f"项目{n:02d}", realname_code="")
            )
        await company_projects.close_project(uow, world.admin, world.project_id)
    async with services.uow() as uow:
        first = await company_projects.list_projects(uow, world.admin)
        second = await company_projects.list_projects(uow, world.admin, page=1)
        closed = await company_projects.list_projects(uow, world.admin, closed=True)
    assert (first.pages, len(first.items), len(second.items)) == (2, 6, 1)
    assert [p.name for p in closed.items] == ["太原南站项目"]
    assert "太原南站项目" not in [p.name for p in first.items + second.items]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("", "error.text_required"),
        ("   ", "error.text_required"),
        ("班", "error.team_name_short"),
        ("--", "error.team_name_short"),
        ("班" * 61, "error.text_too_long"),
    ],
)
async def test_a_bad_team_name_is_refused_and_nothing_is_written(
    services: Services, world: World, name: str, key: str
) -> None:
    async with services.uow() as uow:
        with pytest.raises(ValidationError) as err:
            await teams.create_team(uow, world.admin, world.project_id, name)
    assert err.value.key == key
    assert await rows(services, Team) == 2


async def test_a_project_with_an_open_shortage_is_not_closed(
    services: Services, world: World
) -> None:
    async with services.uow() as uow:
        project = await uow.session.get(Project, world.project_id)
        assert project is not None
        await make_shortage(uow, project)
        await uow.commit()
    async with services.uow() as uow:
        with pytest.raises(Conflict) as err:
            await company_projects.close_project(uow, world.admin, world.project_id)
    assert err.value.key == "error.project_has_open_shortages"
    assert err.value.params["count"] == 1
    async with services.uow() as uow:
        project = await uow.session.get(Project, world.project_id)
        assert project is not None
        assert project.status == "active"


async def test_the_system_acts_for_the_company_it_names_and_keeps_workers_in_theirs(
    services: Services, world: World
) -> None:
    system = Actor.system()
    async with services.uow() as uow:
        with pytest.raises(ValidationError):  # which company?
            await company_projects.create_project(uow, system, draft())
        with pytest.raises(NotFound):
            await company_projects.create_project(uow, system, draft(), enterprise_id=999)
    async with services.uow() as uow:
        view = await company_projects.create_project(
            uow, system, draft(), enterprise_id=world.stranger.enterprise_id
        )
        team = await teams.create_team(uow, system, view.id, "别家二班")
    async with services.uow() as uow:
        with pytest.raises(NotFound):  # our worker into another company's team
            await teams.move_worker(uow, system, world.worker_id, team.id)
        with pytest.raises(PermissionDenied):  # an admin names another company
            await company_projects.create_project(
                uow, world.admin, draft(), enterprise_id=world.stranger.enterprise_id
            )
    assert await rows(services, TeamStay) == 0
