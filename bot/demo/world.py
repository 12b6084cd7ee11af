"""The demo's data: a seeded SQLite market and the personas, each bound to its account.

Every write goes through core services (seed_demo, create_invite + redeem_invite, set_phone),
so a persona is an ordinary account a real user could have made by opening an invite link. The
few reads below only pick which seeded companies and projects the extra personas work for.
Everything here is idempotent: a second run finds the data and the bindings and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from core.db.models import Account, Enterprise, IdlePosting, Project
from core.db.uow import Services, UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import LIVE_STATUSES, EnterpriseType, ProjectStatus, Role
from core.domain.errors import Conflict
from core.seed import DEMO_FOREMAN_TELEGRAM_ID, FIXED_ENTERPRISES, PERSONAS
from core.services import accounts
from core.services.accounts import AccountView
from core.services.regions import get_region

log = logging.getLogger(__name__)

TAIYUAN = "140100"
SECOND_CONTRACTOR = FIXED_ENTERPRISES[1][0]  # 山西晋建集团有限公司, another 太原 contractor


@dataclass(frozen=True, slots=True)
class PersonaSpec:
    key: str
    user_id: int  # the persona's (fake) Telegram user id in the sandbox
    role: Role
    seeded: bool  # an account seed_demo made (found by its display name), else made here
    display_name: str = ""  # for the accounts made here
    phone: str = ""  # for the accounts made here


# The page lists them in this order. The seed's accounts keep their names and phones.
PERSONA_SPECS: tuple[PersonaSpec, ...] = (
    PersonaSpec("foreman", DEMO_FOREMAN_TELEGRAM_ID, Role.FOREMAN, seeded=True),
    PersonaSpec("foreman2", 700_000_002, Role.FOREMAN, seeded=False, display_name="赵志刚",
                phone="13903510022"),
    PersonaSpec("dispatcher", 700_000_003, Role.DISPATCHER, seeded=True),
    PersonaSpec("dispatcher2", 700_000_004, Role.DISPATCHER, seeded=False, display_name="孙丽",
                phone="13703510044"),
    PersonaSpec("regulator_jinzhong", 700_000_005, Role.REGULATOR, seeded=True),
    PersonaSpec("regulator_taiyuan", 700_000_006, Role.REGULATOR, seeded=True),
    PersonaSpec("regulator_province", 700_000_007, Role.REGULATOR, seeded=True),
)  # fmt: skip
ROLE_LABELS = {
    Role.FOREMAN: "项目工长",
    Role.DISPATCHER: "劳务调度",
    Role.REGULATOR: "住建监管",
    Role.ADMIN: "管理员",
}


@dataclass(frozen=True, slots=True)
class DemoPersona:
    """A persona as the demo prints it and the page lists it."""

    key: str
    user_id: int
    account_id: int
    role: Role
    name: str
    label: str  # e.g. "太原 · 项目工长 · 山西五建集团"
    phone: str | None
    region_code: str | None  # regulators: their region; others: their company's city
    enterprise_id: int | None
    enterprise_name: str | None
    project_ids: tuple[int, ...]

    def actor(self) -> Actor:
        """The persona's rights, as the bot builds them from the account."""
        return Actor(
            account_id=self.account_id,
            role=self.role,
            enterprise_id=self.enterprise_id,
            region_code=self.region_code if self.role is Role.REGULATOR else None,
            project_ids=frozenset(self.project_ids),
        )


@dataclass(frozen=True, slots=True)
class DemoWorld:
    seeded_now: bool
    personas: tuple[DemoPersona, ...]

    def persona(self, key: str) -> DemoPersona:
        return next(p for p in self.personas if p.key == key)


async def prepare_world(engine: AsyncEngine, services: Services) -> DemoWorld:
    """Migrate, seed (small) unless seeded, and bind every persona to its account."""
    from core.cli.common import upgrade_database
    from core.seed import seed_demo

    await upgrade_database(engine, services)  # a no-op migration when current; fast
    try:
        await seed_demo(services, scale="small")
        seeded_now = True
    except Conflict as exc:
        if exc.key != "error.already_seeded":
            raise
        seeded_now = False
    personas = tuple([await _persona(services, spec) for spec in PERSONA_SPECS])
    return DemoWorld(seeded_now=seeded_now, personas=personas)


async def _persona(services: Services, spec: PersonaSpec) -> DemoPersona:
    async with services.uow() as uow:
        account = await accounts.get_account_by_telegram(uow, spec.user_id)
    if account is None:
        account = await _bind(services, spec)
    if not account.phone and spec.phone:
        async with services.uow() as uow:
            account = await accounts.set_phone(uow, account.id, spec.phone)
    if not account.active:  # blocked in an earlier run: the sandbox user starts unblocked
        async with services.uow() as uow:
            account = await accounts.reactivate(uow, account.id)
    async with services.uow() as uow:
        return await _describe(uow, spec, account)


async def _bind(services: Services, spec: PersonaSpec) -> AccountView:
    """Make (or re-bind) the account through a one-time invite, as an admin would."""
    system = Actor.system()
    async with services.uow() as uow:
        if spec.seeded:
            account_id = await _seeded_account_id(uow, spec)
            invite = await accounts.create_invite(
                uow,
                system,
                role=spec.role,
                display_name=(await accounts.get_account(uow, account_id)).display_name,
                rebind_account_id=account_id,
            )
        else:
            scope = await _scope_for_new(uow, spec)
            invite = await accounts.create_invite(
                uow, system, role=spec.role, display_name=spec.display_name, **scope
            )
    async with services.uow() as uow:
        return await accounts.redeem_invite(
            uow,
            token=invite.token,
            telegram_user_id=spec.user_id,
            chat_id=spec.user_id,  # a private chat's id is the user's id
            display_name=invite.display_name,
            language_code="zh",
        )


async def _seeded_account_id(uow: UnitOfWork, spec: PersonaSpec) -> int:
    name = next(n for key, n, _role, _region in PERSONAS if key == spec.key)
    found = await uow.session.scalar(
        select(Account.id)
        .where(Account.display_name == name, Account.role == spec.role.value)
        .order_by(Account.id)
        .limit(1)
    )
    if found is None:
        raise RuntimeError(f"the seeded account {spec.key!r} ({name}) is missing")
    return int(found)


async def _scope_for_new(uow: UnitOfWork, spec: PersonaSpec) -> dict[str, Any]:
    if spec.role is Role.FOREMAN:
        enterprise_id = await uow.session.scalar(
            select(Enterprise.id).where(Enterprise.name == SECOND_CONTRACTOR)
        )
        if enterprise_id is None:
            raise RuntimeError(f"the seeded company {SECOND_CONTRACTOR} is missing")
        project_id = await uow.session.scalar(
            select(Project.id)
            .where(
                Project.enterprise_id == enterprise_id,
                Project.status == ProjectStatus.ACTIVE.value,
            )
            .order_by((Project.city_code == TAIYUAN).desc(), Project.id)
            .limit(1)
        )
        return {"enterprise_id": enterprise_id, "project_ids": [project_id]}
    # a 太原 labour company with the most idle workers on offer: it hears of 太原 shortages
    live = [s.value for s in LIVE_STATUSES]
    offers = (
        select(IdlePosting.enterprise_id, func.count().label("n"))
        .where(IdlePosting.status.in_(live))
        .group_by(IdlePosting.enterprise_id)
        .subquery()
    )
    enterprise_id = await uow.session.scalar(
        select(Enterprise.id)
        .outerjoin(offers, offers.c.enterprise_id == Enterprise.id)
        .where(
            Enterprise.city_code == TAIYUAN,
            Enterprise.type == EnterpriseType.LABOR_SERVICE.value,
        )
        .order_by(func.coalesce(offers.c.n, 0).desc(), Enterprise.id)
        .limit(1)
    )
    if enterprise_id is None:
        raise RuntimeError("the seed has no labour company in 太原")
    return {"enterprise_id": enterprise_id}


async def _describe(uow: UnitOfWork, spec: PersonaSpec, account: AccountView) -> DemoPersona:
    enterprise = (
        await uow.session.get(Enterprise, account.enterprise_id)
        if account.enterprise_id is not None
        else None
    )
    region_code = account.region_code or (enterprise.city_code if enterprise else None)
    place = ""
    if region_code:
        place = _short_place((await get_region(uow, region_code)).name_zh)
    parts = [place, ROLE_LABELS[account.role]]
    if enterprise is not None:
        parts.append(enterprise.name.removesuffix("有限公司"))
    label = " · ".join(p for p in parts if p)
    enterprise_name = enterprise.name if enterprise else None
    return DemoPersona(
        key=spec.key,
        user_id=spec.user_id,
        account_id=account.id,
        role=account.role,
        name=account.display_name,
        label=label,
        phone=account.phone,
        region_code=region_code,
        enterprise_id=account.enterprise_id,
        enterprise_name=enterprise_name,
        project_ids=tuple(sorted(account.project_ids)),
    )


def _short_place(name: str) -> str:
    """A city without its 市 (太原市 → 太原); the province keeps its name (山西省)."""
    return name.removesuffix("市") if name.endswith("市") else name
