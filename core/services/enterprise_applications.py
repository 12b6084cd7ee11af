"""申请入驻: a Telegram user without an invite applies to register a company; a regulator of
the company's county (else of its city) approves it, and the applicant becomes the company's
admin dispatcher, or rejects it with a reason.

The company itself is registered by `enterprises.register_enterprise` at approval, so an
approved application obeys every rule of a company added by the CLI or the data API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from core.db.models import Account, EnterpriseApplication
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.contact import parse_contact
from core.domain.enums import EnterpriseType, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied
from core.domain.values import clean_text
from core.services.accounts import locale_for
from core.services.enterprises import (
    KIND_OF_TYPE,
    REASON_MAX,
    RegisterEnterpriseCommand,
    check_county,
    clean_enterprise_name,
    parse_kind,
    parse_uscc,
    register_enterprise,
    uscc_taken,
)
from core.services.regions import city_of, region_contains

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class ApplicationView:
    id: int
    telegram_user_id: int
    name: str
    uscc: str
    kind: str
    county_code: str
    contact_name: str
    contact_phone: str
    status: str
    reason: str | None
    enterprise_id: int | None
    account_id: int | None
    created_at: datetime


def _view(row: EnterpriseApplication) -> ApplicationView:
    return ApplicationView(
        id=row.id,
        telegram_user_id=row.telegram_user_id,
        name=row.name,
        uscc=row.uscc,
        kind=KIND_OF_TYPE[EnterpriseType(row.type)],
        county_code=row.county_code,
        contact_name=row.contact_name,
        contact_phone=row.contact_phone,
        status=row.status,
        reason=row.reason,
        enterprise_id=row.enterprise_id,
        account_id=row.account_id,
        created_at=row.created_at,
    )


@dataclass(frozen=True, slots=True)
class ApplyCommand:
    telegram_user_id: int
    chat_id: int
    language_code: str | None
    name: str
    uscc: str
    kind: str
    county_code: str
    contact: str  # "李明 13800138000" in any order the shared contact parser reads


async def _bound(uow: UnitOfWork, telegram_user_id: int) -> bool:
    found = await uow.session.scalar(
        select(Account.id).where(
            Account.telegram_user_id == telegram_user_id, Account.active.is_(True)
        )
    )
    return found is not None


async def pending_application_of(uow: UnitOfWork, telegram_user_id: int) -> ApplicationView | None:
    row = await uow.session.scalar(
        select(EnterpriseApplication).where(
            EnterpriseApplication.telegram_user_id == telegram_user_id,
            EnterpriseApplication.status == PENDING,
        )
    )
    return None if row is None else _view(row)


async def submit_application(uow: UnitOfWork, cmd: ApplyCommand) -> ApplicationView:
    """File an application (flushed, not committed). Refused: a user already bound to an
    account, a second pending application of the same user, a USCC already registered or
    already applied for."""
    if await _bound(uow, cmd.telegram_user_id):
        raise Conflict("error.already_bound")
    if await pending_application_of(uow, cmd.telegram_user_id) is not None:
        raise Conflict("error.application_pending")
    name = clean_enterprise_name(cmd.name)
    code = parse_uscc(cmd.uscc)
    kind = parse_kind(cmd.kind)
    county = await check_county(uow, cmd.county_code)
    contact = parse_contact(cmd.contact)
    if await uscc_taken(uow, code):
        raise Conflict("error.uscc_taken", code=code)
    applied = await uow.session.scalar(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.uscc == code, EnterpriseApplication.status == PENDING
        )
    )
    if applied is not None:
        raise Conflict("error.uscc_applied", code=code)
    row = EnterpriseApplication(
        telegram_user_id=cmd.telegram_user_id,
        chat_id=cmd.chat_id,
        locale=locale_for(cmd.language_code, uow.settings.default_locale),
        name=name,
        uscc=code,
        type=kind.value,
        county_code=county,
        city_code=city_of(county),
        contact_name=contact.name,
        contact_phone=contact.phone,
        status=PENDING,
        created_at=uow.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.audit(
        actor_account_id=None,
        action="enterprise_application.submit",
        entity="enterprise_application",
        entity_id=row.id,
        after={"uscc": code, "county_code": county, "telegram_user_id": cmd.telegram_user_id},
    )
    return _view(row)


async def reviewers_of(uow: UnitOfWork, county_code: str) -> list[int]:
    """The accounts that get the approval card: the county's regulators, else the city's."""
    for region in (county_code, city_of(county_code)):
        found = list(
            await uow.session.scalars(
                select(Account.id)
                .where(
                    Account.role == Role.REGULATOR.value,
                    Account.region_code == region,
                    Account.active.is_(True),
                )
                .order_by(Account.id)
            )
        )
        if found:
            return found
    return []


async def _load_for_decision(
    uow: UnitOfWork, actor: Actor, application_id: int
) -> EnterpriseApplication:
    """The application, if this regulator's region holds its county (checked on every tap)."""
    actor.require(Role.REGULATOR)
    row = await uow.session.get(EnterpriseApplication, application_id)
    if row is None:
        raise NotFound("error.application_not_found")
    if actor.role is Role.REGULATOR and not region_contains(
        actor.region_code or "", row.county_code
    ):
        raise PermissionDenied("error.out_of_scope")
    if row.status == APPROVED:
        raise Conflict("error.application_approved", name=row.name)
    if row.status == REJECTED:
        raise Conflict("error.application_rejected", name=row.name)
    return row


async def _claim(uow: UnitOfWork, row: EnterpriseApplication, status: str) -> None:
    """One decision wins when two regulators tap at once: a conditional update."""
    claimed = await uow.session.execute(
        update(EnterpriseApplication)
        .where(EnterpriseApplication.id == row.id, EnterpriseApplication.status == PENDING)
        .values(status=status)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("error.application_decided", name=row.name)
    await uow.session.refresh(row)


async def approve_application(
    uow: UnitOfWork, actor: Actor, application_id: int
) -> ApplicationView:
    """Register the company and make the applicant its admin dispatcher (flushed, not
    committed). Approving a decided application is refused with its state."""
    row = await _load_for_decision(uow, actor, application_id)
    if await _bound(uow, row.telegram_user_id):
        raise Conflict("error.already_bound")
    await _claim(uow, row, APPROVED)
    enterprise = await register_enterprise(
        uow,
        actor,
        RegisterEnterpriseCommand(
            name=row.name,
            uscc=row.uscc,
            kind=KIND_OF_TYPE[EnterpriseType(row.type)],
            county_code=row.county_code,
        ),
    )
    account = Account(
        telegram_user_id=row.telegram_user_id,
        chat_id=row.chat_id,
        display_name=row.contact_name,
        locale=row.locale,
        role=Role.DISPATCHER.value,
        enterprise_id=enterprise.id,
        phone=row.contact_phone,
        is_admin=True,
        active=True,
        created_at=uow.now(),
    )
    uow.session.add(account)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # an old inactive account holds this Telegram user
        raise Conflict("error.already_bound") from exc
    row.enterprise_id = enterprise.id
    row.account_id = account.id
    row.decided_by_account_id = actor.account_id
    row.decided_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="enterprise_application.approve",
        entity="enterprise_application",
        entity_id=row.id,
        after={"enterprise_id": enterprise.id, "account_id": account.id},
    )
    await uow.session.flush()
    return _view(row)


async def reject_application(
    uow: UnitOfWork, actor: Actor, application_id: int, reason: str
) -> ApplicationView:
    """Refuse the application with the reason the applicant is told."""
    text = clean_text(reason, field="reason", max_len=REASON_MAX)
    row = await _load_for_decision(uow, actor, application_id)
    await _claim(uow, row, REJECTED)
    row.reason = text
    row.decided_by_account_id = actor.account_id
    row.decided_at = uow.now()
    uow.audit(
        actor_account_id=actor.account_id,
        action="enterprise_application.reject",
        entity="enterprise_application",
        entity_id=row.id,
        after={"reason": text},
    )
    await uow.session.flush()
    return _view(row)
