"""The enterprise registry: registering a company (USCC, kind, county), listing and suspending.

One function, `register_enterprise`, holds every rule of a new company; the CLI, the data API
and the bot's application all go through it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from stdnum.cn import uscc as uscc_format
from stdnum.exceptions import ValidationError as StdnumValidationError

from core.db.models import Enterprise
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import EnterpriseStatus, EnterpriseType, RegionLevel, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.values import clean_text, normalize_text
from core.services.regions import (
    city_of,
    get_region,
    normalize_region_code,
    region_contains,
    region_filter,
)

NAME_MIN = 2
NAME_MAX = 100  # Enterprise.name is String(100)
ADDRESS_MAX = 200
REASON_MAX = 200
_SHANXI_PREFIX = "14"

# the words a person uses (施工总承包 / 专业分包 / 劳务企业) → the stored enterprise type
KINDS: dict[str, EnterpriseType] = {
    "general": EnterpriseType.GENERAL_CONTRACTOR,
    "specialty": EnterpriseType.SUBCONTRACTOR,
    "labor": EnterpriseType.LABOR_SERVICE,
}
KIND_OF_TYPE = {value: key for key, value in KINDS.items()}


@dataclass(frozen=True, slots=True)
class EnterpriseView:
    id: int
    name: str
    uscc: str | None
    kind: str
    county_code: str
    city_code: str
    address: str
    out_of_province: bool
    status: EnterpriseStatus
    suspended_reason: str | None
    created_at: datetime


def _view(row: Enterprise) -> EnterpriseView:
    return EnterpriseView(
        id=row.id,
        name=row.name,
        uscc=row.uscc,
        kind=KIND_OF_TYPE.get(EnterpriseType(row.type), row.type),
        county_code=row.county_code,
        city_code=row.city_code,
        address=row.address,
        out_of_province=row.out_of_province,
        status=EnterpriseStatus(row.status),
        suspended_reason=row.suspended_reason,
        created_at=row.created_at,
    )


# --- checks of one field each (the bot re-asks the one that failed) ---------------------------


def parse_uscc(raw: str | None) -> str:
    """A 统一社会信用代码, compact; a wrong length, character or check character is refused."""
    text = normalize_text(raw).upper()
    try:
        return str(uscc_format.validate(text))
    except StdnumValidationError as exc:
        raise ValidationError("error.bad_uscc", code=text[:24]) from exc


def uscc_out_of_province(code: str) -> bool:
    """Characters 3–8 of a USCC are the registering authority's GB/T 2260 region code."""
    return not code[2:8].startswith(_SHANXI_PREFIX)


def parse_kind(raw: str | None) -> EnterpriseType:
    kind = KINDS.get(normalize_text(raw).lower())
    if kind is None:
        raise ValidationError("error.bad_enterprise_kind", kind=normalize_text(raw)[:20])
    return kind


def clean_enterprise_name(raw: str | None) -> str:
    name = clean_text(raw, field="enterprise_name", max_len=NAME_MAX)
    if len(name) < NAME_MIN:
        raise ValidationError("error.enterprise_name_short", min=NAME_MIN)
    return name


async def check_county(uow: UnitOfWork, raw: str | None) -> str:
    """A county (区/县/市) of Shanxi known to the reference data; a city or province is refused."""
    code = normalize_region_code(normalize_text(raw))
    region = await get_region(uow, code)
    if region.level is not RegionLevel.COUNTY:
        raise ValidationError("error.not_a_county", code=code)
    return region.code


async def uscc_taken(uow: UnitOfWork, code: str) -> bool:
    found = await uow.session.scalar(select(Enterprise.id).where(Enterprise.uscc == code))
    return found is not None


# --- commands -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RegisterEnterpriseCommand:
    name: str
    uscc: str
    kind: str
    county_code: str
    address: str = ""


async def register_enterprise(
    uow: UnitOfWork, actor: Actor, cmd: RegisterEnterpriseCommand
) -> EnterpriseView:
    """Add a company to the registry (flushed, not committed). A regulator adds only inside
    its region; a duplicate USCC or name is a Conflict and nothing is written."""
    actor.require(Role.REGULATOR)
    name = clean_enterprise_name(cmd.name)
    code = parse_uscc(cmd.uscc)
    kind = parse_kind(cmd.kind)
    county = await check_county(uow, cmd.county_code)
    address = clean_text(cmd.address, field="address", max_len=ADDRESS_MAX, required=False)
    if actor.role is Role.REGULATOR and not region_contains(actor.region_code or "", county):
        raise PermissionDenied("error.out_of_scope")
    if await uscc_taken(uow, code):
        raise Conflict("error.uscc_taken", code=code)
    if await uow.session.scalar(select(Enterprise.id).where(Enterprise.name == name)):
        raise Conflict("error.enterprise_name_taken", name=name)
    row = Enterprise(
        name=name,
        type=kind.value,
        county_code=county,
        city_code=city_of(county),
        created_at=uow.now(),
        uscc=code,
        out_of_province=uscc_out_of_province(code),
        address=address,
        status=EnterpriseStatus.ACTIVE.value,
    )
    uow.session.add(row)
    try:
        await uow.session.flush()
    except IntegrityError as exc:  # a racing twin won; the caller's transaction is rolled back
        raise Conflict("error.uscc_taken", code=code) from exc
    uow.audit(
        actor_account_id=actor.account_id,
        action="enterprise.register",
        entity="enterprise",
        entity_id=row.id,
        after={"name": name, "uscc": code, "kind": kind.value, "county_code": county},
    )
    return _view(row)


async def _load_in_scope(uow: UnitOfWork, actor: Actor, enterprise_id: int) -> Enterprise:
    row = await uow.session.get(Enterprise, enterprise_id)
    if row is None:
        raise NotFound("error.enterprise_not_found", id=enterprise_id)
    if actor.role is Role.REGULATOR and not region_contains(
        actor.region_code or "", row.county_code
    ):
        raise NotFound("error.enterprise_not_found", id=enterprise_id)
    return row


async def get_enterprise(uow: UnitOfWork, actor: Actor, enterprise_id: int) -> EnterpriseView:
    """A company a regulator of its region, one of its own people, or the system may see."""
    if actor.role not in (Role.ADMIN, Role.REGULATOR) and actor.enterprise_id != enterprise_id:
        raise NotFound("error.enterprise_not_found", id=enterprise_id)
    return _view(await _load_in_scope(uow, actor, enterprise_id))


async def list_enterprises(
    uow: UnitOfWork, actor: Actor, region_code: str | None = None
) -> list[EnterpriseView]:
    """Companies in a region (a regulator: only inside its own), by id."""
    actor.require(Role.REGULATOR)
    query = select(Enterprise).order_by(Enterprise.id)
    if actor.role is Role.REGULATOR:
        query = query.where(region_filter(actor.region_code or "", Enterprise))
    if region_code is not None:
        query = query.where(region_filter(region_code, Enterprise))
    return [_view(row) for row in await uow.session.scalars(query)]


async def count_enterprises(uow: UnitOfWork) -> int:
    return int(await uow.session.scalar(select(func.count(Enterprise.id))) or 0)


async def suspend_enterprise(
    uow: UnitOfWork, actor: Actor, enterprise_id: int, reason: str
) -> EnterpriseView:
    """Stop a company's people from posting, with the reason they are shown."""
    actor.require(Role.REGULATOR)
    text = clean_text(reason, field="reason", max_len=REASON_MAX)
    row = await _load_in_scope(uow, actor, enterprise_id)
    before = {"status": row.status, "suspended_reason": row.suspended_reason}
    row.status = EnterpriseStatus.SUSPENDED.value
    row.suspended_reason = text
    uow.audit(
        actor_account_id=actor.account_id,
        action="enterprise.suspend",
        entity="enterprise",
        entity_id=row.id,
        before=before,
        after={"status": row.status, "suspended_reason": text},
    )
    await uow.session.flush()
    return _view(row)


async def require_active_enterprise(uow: UnitOfWork, enterprise_id: int) -> None:
    """A suspended company's people may not post; the refusal carries the regulator's reason."""
    row = await uow.session.get(Enterprise, enterprise_id)
    if row is None:
        raise NotFound("error.enterprise_not_found", id=enterprise_id)
    if row.status == EnterpriseStatus.SUSPENDED.value:
        raise PermissionDenied("error.enterprise_suspended", reason=row.suspended_reason or "")
