"""Invites, binding and the account's own settings (core/services/accounts.py)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import AuditLog, Invite
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from core.pii import token_hash
from core.ports import FixedClock
from core.services import accounts
from tests.factories import actor_of, make_account, make_enterprise, make_project

SYSTEM = Actor.system()


async def _company(services: Services) -> tuple[int, list[int], int, Actor]:
    """An enterprise with two projects, a project of another company, and its dispatcher."""
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        projects = [await make_project(uow, ent), await make_project(uow, ent)]
        other = await make_project(uow, await make_enterprise(uow))
        dispatcher = await make_account(uow, role=Role.DISPATCHER, enterprise=ent)
        await uow.commit()
        return ent.id, [p.id for p in projects], other.id, actor_of(dispatcher)


async def _invite(services: Services, actor: Actor = SYSTEM, **kwargs: Any) -> accounts.InviteView:
    async with services.uow() as uow:
        return await accounts.create_invite(uow, actor, **kwargs)


async def _redeem(
    services: Services, token: str, tg: int, lang: str = "zh"
) -> accounts.AccountView:
    async with services.uow() as uow:
        return await accounts.redeem_invite(
            uow,
            token=token,
            telegram_user_id=tg,
            chat_id=tg,
            display_name="TG Name",
            language_code=lang,
        )


async def test_an_invite_token_fits_a_telegram_deep_link_and_only_its_hash_is_stored(
    services: Services,
) -> None:
    ent, projects, _other, _disp = await _company(services)
    invite = await _invite(
        services, role=Role.FOREMAN, display_name="张伟", enterprise_id=ent, project_ids=projects
    )
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", invite.token)
    assert invite.link == f"https://t.me/{services.settings.bot_username}?start={invite.token}"
    async with services.uow() as uow:
        row = await uow.session.scalar(select(Invite))
        assert row is not None
        assert row.token_hash == token_hash(invite.token)
        assert invite.token not in repr(
            (await uow.session.execute(select(Invite.__table__))).all()
        )
        actions = (await uow.session.scalars(select(AuditLog.action))).all()
    assert "invite.create" in actions
    ttl = timedelta(hours=services.settings.invite_ttl_hours)
    assert invite.expires_at == services.clock.now() + ttl


Args = Callable[[int, list[int], int], dict[str, Any]]
CASES: list[tuple[Args, str]] = [
    (lambda e, p, o: {"role": Role.DISPATCHER}, "error.invite_enterprise_required"),
    (lambda e, p, o: {"role": Role.FOREMAN}, "error.invite_enterprise_required"),
    (lambda e, p, o: {"role": Role.FOREMAN, "enterprise_id": e}, "error.invite_projects_required"),
    (
        lambda e, p, o: {"role": Role.FOREMAN, "enterprise_id": e, "project_ids": [o]},
        "error.invite_project_scope",
    ),
    (
        lambda e, p, o: {"role": Role.FOREMAN, "enterprise_id": 999_999, "project_ids": p},
        "error.enterprise_not_found",
    ),
    (lambda e, p, o: {"role": Role.REGULATOR}, "error.invite_region_required"),
    (lambda e, p, o: {"role": Role.REGULATOR, "region_code": "99"}, "error.unknown_region"),
    (
        lambda e, p, o: {"role": Role.REGULATOR, "region_code": "1401", "enterprise_id": e},
        "error.invite_scope",
    ),
    (
        lambda e, p, o: {
            "role": Role.FOREMAN,
            "enterprise_id": e,
            "project_ids": p,
            "display_name": "x",
        },
        "error.bad_name",
    ),
]


@pytest.mark.parametrize(("make_args", "key"), CASES, ids=[key for _m, key in CASES])
async def test_invites_are_validated(services: Services, make_args: Args, key: str) -> None:
    ent, projects, other, _disp = await _company(services)
    args = {"display_name": "张伟", **make_args(ent, projects, other)}
    with pytest.raises(DomainError) as err:
        await _invite(services, **args)
    assert err.value.key == key
    async with services.uow() as uow:
        assert await uow.session.scalar(select(Invite.id)) is None


async def test_a_regulator_invite_normalizes_the_region(services: Services) -> None:
    invite = await _invite(
        services, role=Role.REGULATOR, display_name="赵科长", region_code="1401"
    )
    assert invite.region_code == "140100"
    account = await _redeem(services, invite.token, 61)
    assert account.role is Role.REGULATOR
    assert account.region_code == "140100"


async def test_a_dispatcher_may_invite_only_foremen_of_its_own_projects(
    services: Services,
) -> None:
    ent, projects, other, dispatcher = await _company(services)
    ok = await _invite(
        services, dispatcher, role=Role.FOREMAN, display_name="张伟", project_ids=projects[:1]
    )
    assert ok.enterprise_id == ent
    with pytest.raises(PermissionDenied):
        await _invite(
            services, dispatcher, role=Role.FOREMAN, display_name="张伟", project_ids=[other]
        )
    with pytest.raises(PermissionDenied):
        await _invite(services, dispatcher, role=Role.DISPATCHER, display_name="张伟")
    other_ent = await _company(services)
    with pytest.raises(PermissionDenied):
        await _invite(
            services,
            dispatcher,
            role=Role.FOREMAN,
            display_name="张伟",
            enterprise_id=other_ent[0],
            project_ids=other_ent[1],
        )
    async with services.uow() as uow:
        foreman = actor_of(await make_account(uow, role=Role.FOREMAN))
        await uow.commit()
    with pytest.raises(PermissionDenied):
        await _invite(
            services, foreman, role=Role.FOREMAN, display_name="张伟", project_ids=projects
        )


async def test_redeeming_binds_once_and_expired_or_used_links_are_invalid(
    services: Services, clock: FixedClock
) -> None:
    ent, projects, _other, _disp = await _company(services)
    invite = await _invite(
        services, role=Role.FOREMAN, display_name="张伟", enterprise_id=ent, project_ids=projects
    )
    account = await _redeem(services, invite.token, 71, lang="en-US")
    assert (account.telegram_user_id, account.locale, account.display_name) == (71, "en", "张伟")
    assert account.project_ids == frozenset(projects)
    assert account.actor().project_ids == frozenset(projects)
    with pytest.raises(ValidationError, match=r"error\.invite_invalid"):
        await _redeem(services, invite.token, 72)

    late = await _invite(
        services, role=Role.FOREMAN, display_name="张伟", enterprise_id=ent, project_ids=projects
    )
    clock.advance(hours=services.settings.invite_ttl_hours)
    with pytest.raises(ValidationError, match=r"error\.invite_invalid"):
        await _redeem(services, late.token, 73)
    async with services.uow() as uow:
        assert await accounts.get_account_by_telegram(uow, 73) is None


async def test_one_link_opened_twice_at_once_binds_one_user(services: Services) -> None:
    invite = await _invite(services, role=Role.ADMIN, display_name="管理员")
    results = await asyncio.gather(
        _redeem(services, invite.token, 81),
        _redeem(services, invite.token, 82),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["AccountView", "ValidationError"]


async def test_an_already_bound_user_cannot_take_a_second_account(services: Services) -> None:
    first = await _invite(services, role=Role.ADMIN, display_name="管理员")
    second = await _invite(services, role=Role.ADMIN, display_name="管理员二")
    await _redeem(services, first.token, 91)
    with pytest.raises(Conflict, match=r"error\.already_bound"):
        await _redeem(services, second.token, 91)
    async with services.uow() as uow:  # the second link was not spent by the refusal
        row = await uow.session.scalar(
            select(Invite).where(Invite.token_hash == token_hash(second.token))
        )
        assert row is not None
        assert row.used_at is None


async def test_a_rebind_invite_moves_an_account_to_a_new_telegram_user(services: Services) -> None:
    ent, projects, _other, _disp = await _company(services)
    invite = await _invite(
        services, role=Role.FOREMAN, display_name="张伟", enterprise_id=ent, project_ids=projects
    )
    old = await _redeem(services, invite.token, 101)
    rebind = await _invite(
        services, role=Role.FOREMAN, display_name="张伟", rebind_account_id=old.id
    )
    moved = await _redeem(services, rebind.token, 102)
    assert moved.id == old.id
    assert moved.telegram_user_id == 102
    assert moved.project_ids == frozenset(projects)
    async with services.uow() as uow:
        assert await accounts.get_account_by_telegram(uow, 101) is None
    _ent, _p, _o, dispatcher = await _company(services)
    with pytest.raises(PermissionDenied):
        await _invite(
            services, dispatcher, role=Role.FOREMAN, display_name="张伟", rebind_account_id=old.id
        )


async def test_own_settings_are_validated_audited_and_idempotent(services: Services) -> None:
    invite = await _invite(
        services, role=Role.REGULATOR, display_name="赵科长", region_code="140100"
    )
    acc = await _redeem(services, invite.token, 111)
    async with services.uow() as uow:
        assert (await accounts.set_phone(uow, acc.id, "+86 139-1234-5678")).phone == "13912345678"
        with pytest.raises(ValidationError, match=r"error\.phone"):
            await accounts.set_phone(uow, acc.id, "12345")
    async with services.uow() as uow:
        view = await accounts.set_quiet_hours(uow, acc.id, time(22), time(7))
        assert (view.quiet_start, view.quiet_end) == (time(22), time(7))
        for start, end in ((time(22), None), (time(8), time(8)), (time(8, 0, 30), time(9))):
            with pytest.raises(ValidationError, match=r"error\.quiet_hours"):
                await accounts.set_quiet_hours(uow, acc.id, start, end)
        assert (await accounts.set_quiet_hours(uow, acc.id, None, None)).quiet_start is None
        assert (await accounts.set_digest_time(uow, acc.id, time(9))).digest_time == time(9)
        assert (
            await accounts.set_notifications(uow, acc.id, False)
        ).notifications_enabled is False
        await accounts.set_notifications(uow, acc.id, False)  # same value: no second audit row
        assert (await accounts.deactivate(uow, acc.id)).active is False
        assert (await accounts.reactivate(uow, acc.id)).active is True
        assert (await accounts.update_chat_id(uow, acc.id, -100500)).chat_id == -100500
    async with services.uow() as uow:
        actions = list(
            (
                await uow.session.scalars(
                    select(AuditLog.action).where(AuditLog.entity == "account")
                )
            ).all()
        )
    assert actions.count("account.notifications") == 1
    assert {
        "account.phone",
        "account.quiet_hours",
        "account.digest_time",
        "account.deactivate",
        "account.reactivate",
        "account.chat_id",
        "account.bind",
    } <= set(actions)


async def test_only_regulators_have_a_digest_time(services: Services) -> None:
    async with services.uow() as uow:
        foreman = await make_account(uow, role=Role.FOREMAN)
        await uow.commit()
        with pytest.raises(PermissionDenied):
            await accounts.set_digest_time(uow, foreman.id, time(9))
        with pytest.raises(NotFound):
            await accounts.set_locale(uow, 999_999, "en")
