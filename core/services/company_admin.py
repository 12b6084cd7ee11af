"""The company admin (a dispatcher with admin rights, e.g. the applicant of an approved
company): who counts as one, and the invites an admin gives out.

Every admin service starts with `require_company_admin`: the flag is read from the account's
row on each call, never taken from the client, and the company is always the admin's own."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from core.db.models import Account, Enterprise
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import NotFound, PermissionDenied, ValidationError
from core.services import accounts
from core.services.accounts import InviteView

INVITE_ROLES = (Role.DISPATCHER, Role.FOREMAN)


async def is_company_admin(uow: UnitOfWork, actor: Actor) -> bool:
    """An active dispatcher account flagged admin of the company it acts for."""
    if actor.role is not Role.DISPATCHER or actor.account_id is None:
        return False
    if actor.enterprise_id is None:
        return False
    found = await uow.session.scalar(
        select(Account.id).where(
            Account.id == actor.account_id,
            Account.enterprise_id == actor.enterprise_id,
            Account.role == Role.DISPATCHER.value,
            Account.is_admin.is_(True),
            Account.active.is_(True),
        )
    )
    return found is not None


async def require_company_admin(uow: UnitOfWork, actor: Actor) -> int | None:
    """The admin's company id, or None for the system (the CLI), which acts for any company;
    anyone else is refused."""
    if actor.role is Role.ADMIN:
        return None
    if not await is_company_admin(uow, actor):
        raise PermissionDenied("error.not_company_admin")
    assert actor.enterprise_id is not None
    return actor.enterprise_id


async def company_of(uow: UnitOfWork, actor: Actor, enterprise_id: int | None) -> int:
    """The company a company-wide action is for: the admin's own (a different one asked for is
    refused), or the one the system names (it must exist)."""
    scope = await require_company_admin(uow, actor)
    if scope is not None:
        if enterprise_id is not None and enterprise_id != scope:
            raise PermissionDenied("error.not_company_admin")
        return scope
    if enterprise_id is None:
        raise ValidationError("error.invite_enterprise_required")
    if await uow.session.get(Enterprise, enterprise_id) is None:
        raise NotFound("error.enterprise_not_found", id=enterprise_id)
    return enterprise_id


async def invite_member(
    uow: UnitOfWork,
    actor: Actor,
    *,
    role: Role,
    display_name: str,
    project_ids: Iterable[int] = (),
    enterprise_id: int | None = None,
) -> InviteView:
    """A one-time, expiring link (and code) for a dispatcher or a foreman of the admin's own
    company; a foreman's projects must be the company's active ones. Committed."""
    enterprise_id = await company_of(uow, actor, enterprise_id)
    if role not in INVITE_ROLES:
        raise PermissionDenied("error.forbidden")
    return await accounts.create_invite(
        uow,
        actor,
        role=role,
        display_name=display_name,
        enterprise_id=enterprise_id,
        project_ids=tuple(project_ids) if role is Role.FOREMAN else (),
    )
