"""API keys of the data API: one per enterprise or regulator, shown once, stored hashed.

A key reads "jg_<prefix>_<secret>": the prefix (8 hex digits) finds the row, the SHA-256 of the
whole key is compared in constant time. The plaintext exists only in create_api_key's answer.
An enterprise key acts for its enterprise (like a dispatcher); a regulator key reads its region
and everything below it (like a regulator account).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.db.models import ApiKey, Enterprise
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import DomainError, NotFound, ValidationError
from core.domain.timeutil import as_utc
from core.domain.values import clean_text
from core.pii import token_hash
from core.services.regions import PROVINCE_CODE, get_region

KEY_SCHEME = "jg"
REALNAME_EXPORT = "realname_export"  # full ID numbers in /dispatches: the province bureau only
SCOPES = frozenset({REALNAME_EXPORT})
PREFIX_BYTES = 4  # 8 hex digits
SECRET_BYTES = 32
MAX_LABEL_LEN = 60
# the longest key we ever issue is ~55 characters; anything much longer is not ours
MAX_PRESENTED_LEN = 200


class InvalidApiKey(DomainError):
    """The presented key is missing, malformed, unknown or revoked (HTTP 401)."""

    key = "error.api_key_invalid"


@dataclass(frozen=True, slots=True)
class ApiKeyView:
    id: int
    prefix: str
    label: str
    enterprise_id: int | None
    region_code: str | None
    active: bool
    created_at: datetime
    scopes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ApiPrincipal:
    """Who is calling the data API: the key's id, label and scope."""

    key_id: int
    prefix: str
    label: str
    enterprise_id: int | None
    region_code: str | None
    scopes: frozenset[str] = frozenset()

    @property
    def is_enterprise(self) -> bool:
        return self.enterprise_id is not None

    @property
    def actor(self) -> Actor:
        """The same rights an account of that scope would have in the bot."""
        if self.enterprise_id is not None:
            return Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=self.enterprise_id)
        return Actor(account_id=None, role=Role.REGULATOR, region_code=self.region_code)


def _view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        prefix=row.prefix,
        label=row.label,
        enterprise_id=row.enterprise_id,
        region_code=row.region_code,
        active=row.active,
        created_at=as_utc(row.created_at),
        scopes=frozenset((row.scopes or "").split()),
    )


def split_key(presented: str) -> tuple[str, str] | None:
    """("prefix", "secret") of a well-formed key, else None."""
    if not presented or len(presented) > MAX_PRESENTED_LEN:
        return None
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME:
        return None
    prefix, secret = parts[1], parts[2]
    if len(prefix) != PREFIX_BYTES * 2 or not all(c in "0123456789abcdef" for c in prefix):
        return None
    if not secret:
        return None
    return prefix, secret


async def create_api_key(
    uow: UnitOfWork,
    actor: Actor,
    *,
    label: str,
    enterprise_id: int | None = None,
    region_code: str | None = None,
    scopes: frozenset[str] | set[str] = frozenset(),
) -> tuple[ApiKeyView, str]:
    """Issue a key for one enterprise or one region, with extra `scopes`; returns the view and
    the plaintext key. realname_export is for a province bureau's key only."""
    actor.require(Role.ADMIN)
    text = clean_text(label, field="label", max_len=MAX_LABEL_LEN)
    if (enterprise_id is None) == (region_code is None):
        raise ValidationError("error.api_key_scope")
    region = None
    if enterprise_id is not None:
        if await uow.session.get(Enterprise, enterprise_id) is None:
            raise NotFound("error.enterprise_not_found")
    else:
        region = (await get_region(uow, region_code or "")).code
    unknown = set(scopes) - SCOPES
    if unknown:
        raise ValidationError("error.api_key_unknown_scope", scope=sorted(unknown)[0])
    if REALNAME_EXPORT in scopes and region != PROVINCE_CODE:
        raise ValidationError("error.api_key_realname_province")
    prefix = secrets.token_hex(PREFIX_BYTES)
    while await uow.session.scalar(select(ApiKey.id).where(ApiKey.prefix == prefix)):
        prefix = secrets.token_hex(PREFIX_BYTES)  # 1 in 4 billion; cheap to be sure
    plaintext = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    row = ApiKey(
        prefix=prefix,
        key_hash=token_hash(plaintext),
        label=text,
        enterprise_id=enterprise_id,
        region_code=region,
        active=True,
        created_at=uow.now(),
        scopes=" ".join(sorted(scopes)),
    )
    uow.session.add(row)
    await uow.session.flush()
    uow.audit(
        actor_account_id=actor.account_id,
        action="api_key.create",
        entity="api_key",
        entity_id=row.id,
        after={
            "prefix": prefix,
            "label": text,
            "enterprise_id": enterprise_id,
            "region_code": region,
            "scopes": sorted(scopes),
        },
    )
    view = _view(row)
    await uow.commit()
    return view, plaintext


async def authenticate(uow: UnitOfWork, presented: str) -> ApiPrincipal:
    """The principal of an active key; InvalidApiKey for anything else (read-only)."""
    parts = split_key(presented)
    presented_hash = token_hash(presented or "")
    row = None
    if parts is not None:
        row = await uow.session.scalar(select(ApiKey).where(ApiKey.prefix == parts[0]))
    # compare even without a row, so an unknown prefix costs the same as a wrong secret
    stored = row.key_hash if row is not None else "0" * len(presented_hash)
    matches = hmac.compare_digest(stored.encode(), presented_hash.encode())
    if row is None or not matches or not row.active:
        raise InvalidApiKey()
    return ApiPrincipal(
        key_id=row.id,
        prefix=row.prefix,
        label=row.label,
        enterprise_id=row.enterprise_id,
        region_code=row.region_code,
        scopes=frozenset((row.scopes or "").split()),
    )


async def revoke_api_key(uow: UnitOfWork, actor: Actor, prefix: str) -> ApiKeyView:
    """Deactivate a key for good; the next request with it gets 401."""
    actor.require(Role.ADMIN)
    text = (prefix or "").strip().lower()
    if text.startswith(f"{KEY_SCHEME}_"):  # a pasted whole key: take its prefix
        parts = split_key(text)
        text = parts[0] if parts else text
    row = await uow.session.scalar(select(ApiKey).where(ApiKey.prefix == text))
    if row is None:
        raise NotFound("error.api_key_not_found")
    if row.active:
        row.active = False
        uow.audit(
            actor_account_id=actor.account_id,
            action="api_key.revoke",
            entity="api_key",
            entity_id=row.id,
            before={"active": True},
            after={"active": False},
        )
        await uow.session.flush()
        view = _view(row)
        await uow.commit()
        return view
    return _view(row)


async def list_api_keys(uow: UnitOfWork, actor: Actor) -> list[ApiKeyView]:
    """Every key, newest first (prefixes and scopes only; the secrets are not stored)."""
    actor.require(Role.ADMIN)
    rows = await uow.session.scalars(select(ApiKey).order_by(ApiKey.id.desc()))
    return [_view(row) for row in rows]
