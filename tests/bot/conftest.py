"""Bot fixtures on top of tests/conftest.py `services`: each bot test runs on SQLite and on
PostgreSQL, through the production dispatcher and its SQL FSM storage."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.services import accounts
from tests.bot.harness import BotDriver, Sent, tg_user
from tests.factories import make_account, make_enterprise, make_project

DISPATCHER_TG = 5001
FOREMAN_TG = 5002
REGULATOR_TG = 5003
GUEST_TG = 7777


@pytest.fixture
async def driver(services: Services) -> AsyncIterator[BotDriver]:
    drv = BotDriver(services)
    yield drv
    await drv.close()


@dataclass(frozen=True)
class Company:
    enterprise_id: int
    project_ids: tuple[int, ...]
    project_names: tuple[str, ...]
    dispatcher_id: int
    other_project_id: int  # a project of another company


@pytest.fixture
async def company(services: Services) -> Company:
    """A labour company with two projects and a bound dispatcher; plus a stranger's project."""
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西五建集团")
        p1 = await make_project(uow, ent, name="太原南站项目")
        p2 = await make_project(uow, ent, name="晋阳湖公寓")
        other = await make_enterprise(uow, name="别家建筑公司")
        p3 = await make_project(uow, other, name="别家项目")
        dispatcher = await make_account(
            uow,
            role=Role.DISPATCHER,
            enterprise=ent,
            telegram_user_id=DISPATCHER_TG,
            name="李调度",
        )
        await uow.commit()
        return Company(
            enterprise_id=ent.id,
            project_ids=(p1.id, p2.id),
            project_names=(p1.name, p2.name),
            dispatcher_id=dispatcher.id,
            other_project_id=p3.id,
        )


async def new_invite(
    services: Services,
    *,
    role: Role = Role.FOREMAN,
    name: str = "张伟",
    enterprise_id: int | None = None,
    project_ids: tuple[int, ...] = (),
    region_code: str | None = None,
) -> accounts.InviteView:
    async with services.uow() as uow:
        return await accounts.create_invite(
            uow,
            Actor.system(),
            role=role,
            display_name=name,
            enterprise_id=enterprise_id,
            project_ids=project_ids,
            region_code=region_code,
        )


async def account_of(services: Services, telegram_user_id: int) -> accounts.AccountView | None:
    async with services.uow() as uow:
        return await accounts.get_account_by_telegram(uow, telegram_user_id)


async def onboard(
    driver: BotDriver, services: Services, company: Company, tg_id: int
) -> list[Sent]:
    """A foreman of the company's first project, bound and past the phone step."""
    invite = await new_invite(
        services, enterprise_id=company.enterprise_id, project_ids=company.project_ids[:1]
    )
    user = tg_user(tg_id)
    await driver.send(user, f"/start {invite.token}")
    return await driver.share_contact(user, "13912345678", owner_id=tg_id)
