"""Accounts: one-time invites, binding a Telegram user, and the user's own settings."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import Account, AccountProject, Enterprise, Invite, Project, Region
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import ProjectStatus, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import offers_shortage_posting
from core.domain.timeutil import as_utc
from core.domain.values import clean_text, mask_phone, parse_mobile
from core.pii import token_hash
from core.services.regions import normalize_region_code

LOCALES = ("zh", "en")
DISPLAY_NAME_MAX = 60  # Account.display_name is String(60)
# Telegram deep links carry at most 64 characters of [A-Za-z0-9_-] after /start.
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_INVITE_PROJECTS = 50


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    role: Role
    display_name: str
    locale: str
    telegram_user_id: int | None
    chat_id: int | None
    enterprise_id: int | None
    region_code: str | None
    project_ids: frozenset[int]
    phone: str | None
    active: bool
    notifications_enabled: bool
    quiet_start: time | None
    quiet_end: time | None
    digest_time: time
    is_admin: bool = False  # a dispatcher who manages its company (🏢 公司管理)
    enterprise_type: str | None = None  # the company's kind: what its menu offers

    @property
    def posts_shortages(self) -> bool:
        """Whether 📝 发布缺工 is offered (core.domain.rules.offers_shortage_posting)."""
        return offers_shortage_posting(self.role, self.enterprise_type)

    def actor(self) -> Actor:
        return Actor(
            account_id=self.id,
            role=self.role,
            enterprise_id=self.enterprise_id,
            region_code=self.region_code,
            project_ids=self.project_ids,
            locale=self.locale,
        )

    @property
    def has_digest(self) -> bool:
        return self.role in (Role.REGULATOR, Role.ADMIN)


@dataclass(frozen=True, slots=True)
class InviteView:
    id: int
    token: str  # shown once, to the inviter; only its hash is stored
    link: str
    role: Role
    display_name: str
    enterprise_id: int | None
    region_code: str | None
    project_ids: tuple[int, ...]
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ProjectChoice:
    id: int
    code: str
    name: str


async def _view(uow: UnitOfWork, account: Account) -> AccountView:
    kind = None
    if account.enterprise_id is not None:
        kind = await uow.session.scalar(
            select(Enterprise.type).where(Enterprise.id == account.enterprise_id)
        )
    return _view_of(account, frozenset(link.project_id for link in account.projects), kind)


def _view_of(
    account: Any, project_ids: frozenset[int], enterprise_type: str | None = None
) -> AccountView:
    """An ORM Account or a row with the account table's columns."""
    return AccountView(
        id=account.id,
        role=Role(account.role),
        display_name=account.display_name,
        locale=account.locale,
        telegram_user_id=account.telegram_user_id,
        chat_id=account.chat_id,
        enterprise_id=account.enterprise_id,
        region_code=account.region_code,
        project_ids=project_ids,
        phone=account.phone,
        active=account.active,
        notifications_enabled=account.notifications_enabled,
        quiet_start=account.quiet_start,
        quiet_end=account.quiet_end,
        digest_time=account.digest_time,
        is_admin=bool(account.is_admin),
        enterprise_type=enterprise_type,
    )


def locale_for(language_code: str | None, default: str = "zh") -> str:
    """Telegram's language_code ("en-US", "zh-hans") → one of our locales."""
    code = (language_code or "").lower()
    for locale in LOCALES:
        if code == locale or code.startswith(locale + "-") or code.startswith(locale + "_"):
            return locale
    return default


def _display_name(raw: str) -> str:
    name = clean_text(raw, field="display_name", max_len=DISPLAY_NAME_MAX)
    if len(name) < 2:
        raise ValidationError("error.bad_name", field="display_name")
    return name


# --- invites --------------------------------------------------------------------------------


async def _check_projects(
    uow: UnitOfWork, enterprise_id: int, project_ids: Iterable[int]
) -> tuple[int, ...]:
    wanted = tuple(sorted(set(project_ids)))
    if not wanted:
        raise ValidationError("error.invite_projects_required")
    if len(wanted) > MAX_INVITE_PROJECTS:
        raise ValidationError("error.invite_projects_required")
    rows = await uow.session.scalars(
        select(Project.id).where(
            Project.id.in_(wanted),
            Project.enterprise_id == enterprise_id,
            Project.status == ProjectStatus.ACTIVE.value,
        )
    )
    if set(rows) != set(wanted):
        # a project of another company and a missing one look the same: nothing leaks
        raise PermissionDenied("error.invite_project_scope")
    return wanted


async def _rebind_invite(
    uow: UnitOfWork, actor: Actor, role: Role, name: str, account_id: int
) -> InviteView:
    """An admin's link that moves an existing account, with that account's scope."""
    actor.require(Role.ADMIN)
    target = await _get(uow, account_id)
    if Role(target.role) is not role:
        raise ValidationError("error.invite_scope")
    return await _store_invite(
        uow,
        actor,
        role=role,
        name=name,
        enterprise_id=target.enterprise_id,
        region=target.region_code,
        projects=tuple(sorted(link.project_id for link in target.projects)),
        account_id=target.id,
    )


async def _company_admin(uow: UnitOfWork, actor: Actor) -> bool:
    """The acting dispatcher is its company's admin (the flag is read, never trusted)."""
    if actor.account_id is None:
        return False
    found = await uow.session.scalar(
        select(Account.is_admin).where(
            Account.id == actor.account_id,
            Account.enterprise_id == actor.enterprise_id,
            Account.active.is_(True),
        )
    )
    return bool(found)


async def _inviter_enterprise(
    uow: UnitOfWork, actor: Actor, role: Role, enterprise_id: int | None
) -> int | None:
    """Who may invite whom; a dispatcher's invite is always for its own company."""
    if actor.role is Role.DISPATCHER:
        # a dispatcher brings in foremen for its own company's projects; the company's admin
        # also brings in dispatchers
        if role is not Role.FOREMAN and not (
            role is Role.DISPATCHER and await _company_admin(uow, actor)
        ):
            raise PermissionDenied("error.forbidden")
        enterprise_id = enterprise_id or actor.enterprise_id
        if actor.enterprise_id is None or enterprise_id != actor.enterprise_id:
            raise PermissionDenied("error.forbidden")
    elif actor.role is not Role.ADMIN:
        raise PermissionDenied("error.forbidden")
    return enterprise_id


async def create_invite(
    uow: UnitOfWork,
    actor: Actor,
    *,
    role: Role,
    display_name: str,
    enterprise_id: int | None = None,
    project_ids: Iterable[int] = (),
    region_code: str | None = None,
    rebind_account_id: int | None = None,
) -> InviteView:
    """A one-time deep-link invite; expires after settings.invite_ttl_hours.

    With `rebind_account_id` (admins only) the link moves that existing account to whichever
    Telegram user opens it, e.g. after the person changed phones; the scope is the account's."""
    role = Role(role)
    name = _display_name(display_name)
    projects: tuple[int, ...] = ()
    region: str | None = None

    if rebind_account_id is not None:
        return await _rebind_invite(uow, actor, role, name, rebind_account_id)

    enterprise_id = await _inviter_enterprise(uow, actor, role, enterprise_id)
    if role in (Role.DISPATCHER, Role.FOREMAN):
        if enterprise_id is None:
            raise ValidationError("error.invite_enterprise_required")
        if await uow.session.get(Enterprise, enterprise_id) is None:
            raise NotFound("error.enterprise_not_found")
        if role is Role.FOREMAN:
            projects = await _check_projects(uow, enterprise_id, project_ids)
        elif tuple(project_ids):
            raise ValidationError("error.invite_scope")
    elif role is Role.REGULATOR:
        if not region_code:
            raise ValidationError("error.invite_region_required")
        region = normalize_region_code(region_code)
        if await uow.session.get(Region, region) is None:
            raise NotFound("error.unknown_region", code=region)
        if enterprise_id is not None or tuple(project_ids):
            raise ValidationError("error.invite_scope")
    elif enterprise_id is not None or tuple(project_ids) or region_code:
        raise ValidationError("error.invite_scope")

    return await _store_invite(
        uow,
        actor,
        role=role,
        name=name,
        enterprise_id=enterprise_id if role in (Role.DISPATCHER, Role.FOREMAN) else None,
        region=region,
        projects=projects,
        account_id=None,
    )


async def _store_invite(
    uow: UnitOfWork,
    actor: Actor,
    *,
    role: Role,
    name: str,
    enterprise_id: int | None,
    region: str | None,
    projects: tuple[int, ...],
    account_id: int | None,
) -> InviteView:
    token = secrets.token_urlsafe(16)  # 22 characters of [A-Za-z0-9_-]
    now = uow.now()
    invite = Invite(
        token_hash=token_hash(token),
        role=role.value,
        display_name=name,
        enterprise_id=enterprise_id,
        region_code=region,
        project_ids=list(projects),
        created_by_account_id=actor.account_id,
        created_at=now,
        expires_at=now + timedelta(hours=uow.settings.invite_ttl_hours),
        account_id=account_id,
    )
    uow.session.add(invite)
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="invite.create",
        entity="invite",
        entity_id=invite.id,
        after={
            "role": role.value,
            "display_name": name,
            "enterprise_id": enterprise_id,
            "region_code": region,
            "project_ids": list(projects),
            "rebind_account_id": account_id,
        },
    )
    await uow.commit()
    return InviteView(
        id=invite.id,
        token=token,
        link=f"https://t.me/{uow.settings.bot_username}?start={token}",
        role=role,
        display_name=name,
        enterprise_id=invite.enterprise_id,
        region_code=region,
        project_ids=projects,
        expires_at=invite.expires_at,
    )


async def list_invite_projects(uow: UnitOfWork, actor: Actor) -> list[ProjectChoice]:
    """The active projects a dispatcher may invite foremen for (its own company's)."""
    actor.require(Role.DISPATCHER)
    if actor.enterprise_id is None:
        return []
    rows = await uow.session.execute(
        select(Project.id, Project.code, Project.name)
        .where(
            Project.enterprise_id == actor.enterprise_id,
            Project.status == ProjectStatus.ACTIVE.value,
        )
        .order_by(Project.name, Project.id)
        .limit(MAX_INVITE_PROJECTS)
    )
    return [ProjectChoice(id=r.id, code=r.code, name=r.name) for r in rows]


async def redeem_invite(
    uow: UnitOfWork,
    *,
    token: str,
    telegram_user_id: int,
    chat_id: int,
    display_name: str,
    language_code: str | None,
) -> AccountView:
    """Spend a one-time invite: create the account and bind this Telegram user to it."""
    if not _TOKEN_RE.match(token or ""):
        raise ValidationError("error.invite_invalid")
    invite = await uow.session.scalar(select(Invite).where(Invite.token_hash == token_hash(token)))
    now = uow.now()
    if invite is None or invite.used_at is not None or as_utc(invite.expires_at) <= now:
        raise ValidationError("error.invite_invalid")

    bound = await uow.session.scalar(
        select(Account).where(Account.telegram_user_id == telegram_user_id)
    )
    if bound is not None and bound.role == Role.APPLICANT.value:
        # an applicant (申请入驻) invited meanwhile: the placeholder lets go of the chat
        bound.telegram_user_id = None
        bound.active = False
        await uow.session.flush()
        bound = None
    if bound is not None and bound.id != invite.account_id:
        raise Conflict("error.already_bound")

    # one winner when the same link is opened twice at once: a conditional update
    claimed = await uow.session.execute(
        update(Invite)
        .where(Invite.id == invite.id, Invite.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise ValidationError("error.invite_invalid")

    locale = locale_for(language_code, uow.settings.default_locale)
    if invite.account_id is not None:
        # an invite made for an existing account re-binds it to this Telegram user
        account = await _get(uow, invite.account_id)
        before = {"telegram_user_id": account.telegram_user_id, "chat_id": account.chat_id}
        account.telegram_user_id = telegram_user_id
        account.chat_id = chat_id
        account.active = True
        action = "account.rebind"
    else:
        before = None
        account = Account(
            telegram_user_id=telegram_user_id,
            chat_id=chat_id,
            display_name=invite.display_name or _display_name(display_name),
            locale=locale,
            role=invite.role,
            enterprise_id=invite.enterprise_id,
            region_code=invite.region_code,
            active=True,
            created_at=now,
            projects=[AccountProject(project_id=pid) for pid in invite.project_ids or ()],
        )
        uow.session.add(account)
        action = "account.bind"
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # the same Telegram user redeemed two links at once
        raise Conflict("error.already_bound") from exc
    await uow.session.execute(
        update(Invite)
        .where(Invite.id == invite.id)
        .values(account_id=account.id)
        .execution_options(synchronize_session=False)
    )
    uow.audit(
        actor_account_id=account.id,
        action=action,
        entity="account",
        entity_id=account.id,
        before=before,
        after={
            "invite_id": invite.id,
            "telegram_user_id": telegram_user_id,
            "role": account.role,
            "enterprise_id": account.enterprise_id,
            "region_code": account.region_code,
        },
    )
    await uow.commit()
    return await _view(uow, account)


# --- lookups --------------------------------------------------------------------------------


async def _get(uow: UnitOfWork, account_id: int) -> Account:
    account = await uow.session.get(Account, account_id)
    if account is None:
        raise NotFound("error.account_not_found")
    return account


async def get_account(uow: UnitOfWork, account_id: int) -> AccountView:
    return await _view(uow, await _get(uow, account_id))


# every update asks for its account: one statement built once (account columns and one row
# per project), read as plain rows: no ORM identity map, no statement to build and hash again
_BY_TELEGRAM = (
    select(
        *Account.__table__.columns,
        AccountProject.project_id.label("scope_project_id"),
        Enterprise.type.label("enterprise_type"),
    )
    .outerjoin(AccountProject, AccountProject.account_id == Account.id)
    .outerjoin(Enterprise, Enterprise.id == Account.enterprise_id)
    .where(Account.telegram_user_id == bindparam("telegram_user_id"))
)


async def get_account_by_telegram(uow: UnitOfWork, telegram_user_id: int) -> AccountView | None:
    """The account bound to this Telegram user (active or not), with its project scope."""
    # Core on the session's connection: column rows need none of the ORM's result machinery
    conn = await uow.session.connection()
    rows = (await conn.execute(_BY_TELEGRAM, {"telegram_user_id": telegram_user_id})).all()
    if not rows:
        return None
    projects = frozenset(r.scope_project_id for r in rows if r.scope_project_id is not None)
    return _view_of(rows[0], projects, rows[0].enterprise_type)


# --- the account's own settings -------------------------------------------------------------


async def _change(
    uow: UnitOfWork,
    account_id: int,
    action: str,
    changes: dict[str, Any],
    *,
    by_system: bool = False,
) -> AccountView:
    """Apply `changes` and audit them; setting the current value again is a no-op (no audit),
    so a repeated tap or a re-sent update leaves one trace."""
    account = await _get(uow, account_id)
    before = {k: getattr(account, k) for k in changes}
    if before == changes:
        # nothing to write, but end the transaction all the same: on SQLite an open one holds
        # the write lock while the caller goes on (e.g. answering the user over the network)
        await uow.commit()
        return await _view(uow, account)
    for key, value in changes.items():
        setattr(account, key, value)
    uow.audit(
        actor_account_id=None if by_system else account_id,
        action=action,
        entity="account",
        entity_id=account_id,
        before=_jsonable(before),
        after=_jsonable(changes),
    )
    await uow.commit()
    return await _view(uow, account)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    """Audit values: times as HH:MM, phones masked (the audit log is read more widely than
    the accounts, as with the postings' contact phones)."""
    return {
        k: (
            v.isoformat(timespec="minutes")
            if isinstance(v, time)
            else mask_phone(v)
            if k == "phone" and isinstance(v, str)
            else v
        )
        for k, v in values.items()
    }


async def set_phone(uow: UnitOfWork, account_id: int, phone: str) -> AccountView:
    """The account's own mobile number, validated as a mainland mobile."""
    return await _change(uow, account_id, "account.phone", {"phone": parse_mobile(phone)})


async def set_locale(uow: UnitOfWork, account_id: int, locale: str) -> AccountView:
    if locale not in LOCALES:
        raise ValidationError("error.locale")
    return await _change(uow, account_id, "account.locale", {"locale": locale})


async def set_notifications(uow: UnitOfWork, account_id: int, enabled: bool) -> AccountView:
    return await _change(
        uow, account_id, "account.notifications", {"notifications_enabled": bool(enabled)}
    )


def _whole_minutes(value: time) -> bool:
    return value.second == 0 and value.microsecond == 0 and value.tzinfo is None


async def set_quiet_hours(
    uow: UnitOfWork, account_id: int, start: time | None, end: time | None
) -> AccountView:
    """Local-time window without notifications (may wrap midnight); None and None clears it."""
    if (start is None) != (end is None):
        raise ValidationError("error.quiet_hours")
    if (
        start is not None
        and end is not None
        and (start == end or not (_whole_minutes(start) and _whole_minutes(end)))
    ):
        raise ValidationError("error.quiet_hours")
    return await _change(
        uow, account_id, "account.quiet_hours", {"quiet_start": start, "quiet_end": end}
    )


async def set_digest_time(uow: UnitOfWork, account_id: int, at: time) -> AccountView:
    """When a regulator's daily digest goes out (local time)."""
    account = await _get(uow, account_id)
    if Role(account.role) not in (Role.REGULATOR, Role.ADMIN):
        raise PermissionDenied("error.forbidden")
    if not _whole_minutes(at):
        raise ValidationError("error.digest_time")
    return await _change(uow, account_id, "account.digest_time", {"digest_time": at})


async def deactivate(uow: UnitOfWork, account_id: int) -> AccountView:
    """The chat is unreachable (the user blocked the bot: 403): stop sending until reactivated."""
    return await _change(uow, account_id, "account.deactivate", {"active": False}, by_system=True)


async def reactivate(uow: UnitOfWork, account_id: int) -> AccountView:
    """The user is back (my_chat_member: member again)."""
    return await _change(uow, account_id, "account.reactivate", {"active": True})


async def update_chat_id(uow: UnitOfWork, account_id: int, chat_id: int) -> AccountView:
    """Telegram moved the chat (TelegramMigrateToChat): deliver to the new id from now on."""
    return await _change(uow, account_id, "account.chat_id", {"chat_id": chat_id}, by_system=True)
