"""Small builders of rows for tests. They add and flush; the caller commits."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from typing import Any

from stdnum.cn import ric, uscc

from core.db.models import (
    Account,
    AccountProject,
    Enterprise,
    IdlePosting,
    IdlePostingWorker,
    Project,
    ShortagePosting,
    Team,
    Worker,
)
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role

_seq = itertools.count(1)


def make_uscc(region: str = "140105", serial: int = 1) -> str:
    """A valid 统一社会信用代码: 91 (company), the region code, a serial, the check character."""
    body = f"91{region}MA{serial:07d}"
    return body + str(uscc.calc_check_digit(body))


def make_id_number(county: str = "140105", birth: date = date(1985, 5, 17), seq: int = 1) -> str:
    """A valid 18-character ID number (odd sequence = male)."""
    body = f"{county}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def city_of(county_code: str) -> str:
    return county_code[:4] + "00"


async def make_enterprise(
    uow: UnitOfWork,
    *,
    name: str | None = None,
    county_code: str = "140105",
    type: str = "labor_service",
    credit_score: int = 80,
    credit_grade: str = "A",
) -> Enterprise:
    n = next(_seq)
    ent = Enterprise(
        name=name or f"测试建筑劳务有限公司{n}",
        type=type,
        credit_score=credit_score,
        credit_grade=credit_grade,
        county_code=county_code,
        city_code=city_of(county_code),
        created_at=uow.now(),
    )
    uow.session.add(ent)
    await uow.session.flush()
    return ent


async def make_project(
    uow: UnitOfWork, enterprise: Enterprise, *, county_code: str | None = None, name: str = ""
) -> Project:
    n = next(_seq)
    county = county_code or enterprise.county_code
    project = Project(
        code=f"P{n:06d}",
        enterprise_id=enterprise.id,
        name=name or f"测试项目{n}",
        county_code=county,
        city_code=city_of(county),
        address="测试路1号",
        status="active",
        created_at=uow.now(),
    )
    uow.session.add(project)
    await uow.session.flush()
    return project


async def make_team(uow: UnitOfWork, project: Project, trade_code: str = "plasterer") -> Team:
    team = Team(project_id=project.id, name=f"{trade_code}班组", trade_code=trade_code)
    uow.session.add(team)
    await uow.session.flush()
    return team


async def make_worker(
    uow: UnitOfWork,
    enterprise: Enterprise,
    *,
    name: str = "王海东",
    trade_code: str = "plasterer",
    grade_level: int = 2,
    status: str = "idle",
    team: Team | None = None,
    phone: str | None = "13800138000",
    rating_sum: int = 0,
    rating_count: int = 0,
) -> Worker:
    n = next(_seq)
    id_number = make_id_number(enterprise.county_code, date(1980, 1, 1) + timedelta(days=n), n)
    now = uow.now()
    worker = Worker(
        enterprise_id=enterprise.id,
        id_hash=uow.cipher.lookup_hash(id_number),
        id_cipher=uow.cipher.encrypt(id_number),
        id_masked=id_number[:6] + "********" + id_number[-4:],
        name=name,
        gender="M" if int(id_number[16]) % 2 else "F",
        birth_date=ric.get_birth_date(id_number),
        phone=phone,
        education="初中",
        trade_code=trade_code,
        grade_level=grade_level,
        credit_grade="A",
        status=status,
        team_id=team.id if team else None,
        rating_sum=rating_sum,
        rating_count=rating_count,
        created_at=now,
        updated_at=now,
        status_changed_at=now,
    )
    uow.session.add(worker)
    await uow.session.flush()
    return worker


async def make_account(
    uow: UnitOfWork,
    *,
    role: Role = Role.FOREMAN,
    enterprise: Enterprise | None = None,
    projects: list[Project] = (),  # type: ignore[assignment]
    region_code: str | None = None,
    telegram_user_id: int | None = None,
    name: str = "张伟",
    locale: str = "zh",
    phone: str | None = "13912345678",
) -> Account:
    account = Account(
        telegram_user_id=telegram_user_id,
        chat_id=telegram_user_id,
        display_name=name,
        locale=locale,
        role=role.value,
        enterprise_id=enterprise.id if enterprise else None,
        region_code=region_code,
        phone=phone,
        created_at=uow.now(),
    )
    uow.session.add(account)
    await uow.session.flush()
    for project in projects:
        uow.session.add(AccountProject(account_id=account.id, project_id=project.id))
    await uow.session.flush()
    return account


def actor_of(account: Account, project_ids: list[int] = ()) -> Actor:  # type: ignore[assignment]
    return Actor(
        account_id=account.id,
        role=Role(account.role),
        enterprise_id=account.enterprise_id,
        region_code=account.region_code,
        project_ids=frozenset(project_ids),
        locale=account.locale,
    )


async def make_shortage(uow: UnitOfWork, project: Project, **overrides: Any) -> ShortagePosting:
    now = uow.now()
    values: dict[str, Any] = dict(
        project_id=project.id,
        enterprise_id=project.enterprise_id,
        county_code=project.county_code,
        city_code=project.city_code,
        trade_code="plasterer",
        min_grade=3,
        headcount=4,
        filled_count=0,
        price_fen=550000,
        contact_name="张伟",
        contact_phone="13912345678",
        ring="market",
        status="open",
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=30),
    )
    values.update(overrides)
    posting = ShortagePosting(**values)
    uow.session.add(posting)
    await uow.session.flush()
    return posting


async def make_idle_posting(
    uow: UnitOfWork, enterprise: Enterprise, workers: list[Worker], **overrides: Any
) -> IdlePosting:
    now = uow.now()
    values: dict[str, Any] = dict(
        enterprise_id=enterprise.id,
        county_code=enterprise.county_code,
        city_code=enterprise.city_code,
        trade_code=workers[0].trade_code if workers else "plasterer",
        grade_level=min((w.grade_level for w in workers), default=2),
        headcount=len(workers),
        filled_count=0,
        price_fen=500000,
        contact_name="李明",
        contact_phone="13700001111",
        ring="market",
        status="open",
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=30),
    )
    values.update(overrides)
    posting = IdlePosting(**values)
    uow.session.add(posting)
    await uow.session.flush()
    for worker in workers:
        uow.session.add(IdlePostingWorker(posting_id=posting.id, worker_id=worker.id))
    await uow.session.flush()
    return posting
