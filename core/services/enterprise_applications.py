"""申请入驻: a Telegram user without an invite applies to register a company; a regulator of
the company's county (else of its city) approves it, and the applicant becomes the company's
admin dispatcher, or rejects it with a reason.

The applicant, before the verdict, is an account of role APPLICANT (created when the first
application is filed): no enterprise, no phone, no rights (the bot treats it as a guest), only
the chat the outbox needs to tell the verdict. Approval turns that same account into the
company's admin dispatcher; a rejected applicant keeps it and may apply again.

Every step notifies through the outbox in its own transaction: filing → an approval card to
each reviewer ("join_application"); approval → "join_approved" to the applicant; rejection →
"join_rejected" to the applicant with the reason.

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

KIND_CARD = "join_application"
KIND_APPROVED = "join_approved"
KIND_REJECTED = "join_rejected"

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
    """Bound to a real account (an applicant's placeholder account does not count)."""
    found = await uow.session.scalar(
        select(Account.id).where(
            Account.telegram_user_id == telegram_user_id,
            Account.active.is_(True),
            Account.role != Role.APPLICANT.value,
        )
    )
    return found is not None


async def _applicant_account(uow: UnitOfWork, telegram_user_id: int) -> Account | None:
    found: Account | None = await uow.session.scalar(
        select(Account).where(
            Account.telegram_user_id == telegram_user_id,
            Account.role == Role.APPLICANT.value,
        )
    )
    return found


async def check_uscc_free(uow: UnitOfWork, raw: str) -> str:
    """The USCC, checked and normalized, if no company holds it and no pending application
    asks for it (asked at the USCC step, and again when filing)."""
    code = parse_uscc(raw)
    if await uscc_taken(uow, code):
        raise Conflict("error.uscc_taken", code=code)
    applied = await uow.session.scalar(
        select(EnterpriseApplication.id).where(
            EnterpriseApplication.uscc == code, EnterpriseApplication.status == PENDING
        )
    )
    if applied is not None:
        raise Conflict("error.uscc_applied", code=code)
    return code


async def get_application(uow: UnitOfWork, application_id: int) -> ApplicationView | None:
    """For the renderers of the cards and notices (no scope check: they go to the people
    the service chose)."""
    row = await uow.session.get(EnterpriseApplication, application_id)
    return None if row is None else _view(row)


async def pending_application_of(uow: UnitOfWork, telegram_user_id: int) -> ApplicationView | None:
    row = await uow.session.scalar(
        select(EnterpriseApplication).where(
            EnterpriseApplication.telegram_user_id == telegram_user_id,
            EnterpriseApplication.status == PENDING,
        )
    )
    return None if row is None else _view(row)


async def submit_application(uow: UnitOfWork, cmd: ApplyCommand) -> ApplicationView:
    """File an application and send its card to the reviewers; commits. Refused: a user
    already bound to an account, a second pending application of the same user, a USCC
    already registered or already applied for."""
    if await _bound(uow, cmd.telegram_user_id):
        raise Conflict("error.already_bound")
    if await pending_application_of(uow, cmd.telegram_user_id) is not None:
        raise Conflict("error.application_pending")
    name = clean_enterprise_name(cmd.name)
    code = parse_uscc(cmd.uscc)
    kind = parse_kind(cmd.kind)
    county = await check_county(uow, cmd.county_code)
    contact = parse_contact(cmd.contact)
    await check_uscc_free(uow, code)
    applicant = await _applicant_account(uow, cmd.telegram_user_id)
    if applicant is None:
        # the least the outbox needs: the chat, the language and a name to greet
        applicant = Account(
            telegram_user_id=cmd.telegram_user_id,
            chat_id=cmd.chat_id,
            display_name=contact.name,
            locale=locale_for(cmd.language_code, uow.settings.default_locale),
            role=Role.APPLICANT.value,
            active=True,
            created_at=uow.now(),
        )
        uow.session.add(applicant)
        try:
            await uow.session.flush()
        except IntegrityError as exc:  # an old deactivated account holds this Telegram user
            raise Conflict("error.already_bound") from exc
    else:
        applicant.chat_id = cmd.chat_id
        applicant.active = True
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
        account_id=applicant.id,
        created_at=uow.now(),
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.audit(
        actor_account_id=applicant.id,
        action="enterprise_application.submit",
        entity="enterprise_application",
        entity_id=row.id,
        after={"uscc": code, "county_code": county, "telegram_user_id": cmd.telegram_user_id},
    )
    for reviewer in await reviewers_of(uow, county):
        await uow.notify(
            account_id=reviewer,
            kind=KIND_CARD,
            payload={"application_id": row.id},
            dedup_key=f"join:{row.id}:{reviewer}",
        )
    view = _view(row)
    await uow.commit()
    return view


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
    row = await uow.session.get(EnterpriseApplication, application_id)
    if row is None:
        actor.require(Role.REGULATOR)
        raise NotFound("error.application_not_found")
    check_reviewer(actor, _view(row))
    return row


def check_reviewer(actor: Actor, view: ApplicationView) -> None:
    """May this actor decide this application now: a regulator whose region holds its
    county, and the application still pending (else a Conflict naming its state)."""
    actor.require(Role.REGULATOR)
    if actor.role is Role.REGULATOR and not region_contains(
        actor.region_code or "", view.county_code
    ):
        raise PermissionDenied("error.out_of_scope")
    if view.status == APPROVED:
        raise Conflict("error.application_approved", name=view.name)
    if view.status == REJECTED:
        raise Conflict("error.application_rejected", name=view.name)


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


async def reviewable(uow: UnitOfWork, actor: Actor, application_id: int) -> ApplicationView:
    """The application this actor may decide now (check_reviewer), or why not."""
    view = await get_application(uow, application_id)
    if view is None:
        raise NotFound("error.application_not_found")
    check_reviewer(actor, view)
    return view


async def approve_application(
    uow: UnitOfWork, actor: Actor, application_id: int
) -> ApplicationView:
    """Register the company and make the applicant its admin dispatcher, who is told;
    commits. Approving a decided application is refused with its state."""
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
    account = await _applicant_account(uow, row.telegram_user_id)
    if account is None:  # filed before applicants had an account
        account = Account(
            telegram_user_id=row.telegram_user_id,
            chat_id=row.chat_id,
            locale=row.locale,
            created_at=uow.now(),
        )
        uow.session.add(account)
    account.display_name = row.contact_name
    account.role = Role.DISPATCHER.value
    account.enterprise_id = enterprise.id
    account.phone = row.contact_phone
    account.is_admin = True
    account.active = True
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
    await uow.notify(
        account_id=account.id,
        kind=KIND_APPROVED,
        payload={"application_id": row.id},
        dedup_key=f"join:{row.id}:verdict",
    )
    await uow.session.flush()
    view = _view(row)
    await uow.commit()
    return view


async def reject_application(
    uow: UnitOfWork, actor: Actor, application_id: int, reason: str
) -> ApplicationView:
    """Refuse the application with the reason the applicant is told; commits."""
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
    applicant = row.account_id or (
        account.id if (account := await _applicant_account(uow, row.telegram_user_id)) else None
    )
    if applicant is not None:
        await uow.notify(
            account_id=applicant,
            kind=KIND_REJECTED,
            payload={"application_id": row.id},
            dedup_key=f"join:{row.id}:verdict",
        )
    await uow.session.flush()
    view = _view(row)
    await uow.commit()
    return view
