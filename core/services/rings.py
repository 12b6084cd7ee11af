"""The dispatch rings in use: a company's ring settings (where new postings go, how long an
internal one waits), opening an internal posting to the market with one tap, and the sweep
that opens it by itself after the company's hours without an internal match.

Opening goes through the same path as a new public posting: the ring becomes "market" and
`notify_matches` tells the other companies' matching sides (once per pair, as ever). The
poster is told when the sweep opened it. Each use case commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from core.db.models import Account, Enterprise, IdlePosting, ShortagePosting
from core.db.uow import UnitOfWork
from core.domain.actor import Actor
from core.domain.enums import LIVE_STATUSES, Ring, Role
from core.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.domain.rules import MAX_INTERNAL_OPEN_HOURS, internal_opens_at
from core.domain.timeutil import as_utc
from core.services.matching import notify_matches
from core.services.postings import (
    IdlePostingView,
    ShortageView,
    edit_posting,
    get_idle,
    get_shortage,
)
from core.services.search import PostingKind

KIND_OPENED = "posting_opened"  # the poster's notice: the sweep opened an internal posting

_LIVE = [s.value for s in LIVE_STATUSES]


@dataclass(frozen=True, slots=True)
class RingSettings:
    default_ring: str  # "market" (公开) or "internal" (本公司内部)
    internal_open_hours: int


@dataclass(frozen=True, slots=True)
class OpenedPosting:
    kind: str
    posting_id: int
    enterprise_id: int
    posted_by_account_id: int | None


# --- the company's settings ---------------------------------------------------------------------


async def ring_settings(uow: UnitOfWork, enterprise_id: int) -> RingSettings:
    row = (
        await uow.session.execute(
            select(Enterprise.default_ring, Enterprise.internal_open_hours).where(
                Enterprise.id == enterprise_id
            )
        )
    ).first()
    if row is None:
        raise NotFound("error.enterprise_not_found")
    return RingSettings(row.default_ring, int(row.internal_open_hours))


async def _require_admin(uow: UnitOfWork, actor: Actor, enterprise_id: int) -> None:
    if actor.role is Role.ADMIN:
        return
    actor.require(Role.DISPATCHER)
    is_admin = await uow.session.scalar(
        select(Account.is_admin).where(Account.id == actor.account_id)
    )
    if not actor.can_act_for_enterprise(enterprise_id) or not is_admin:
        raise PermissionDenied("error.admin_only")


async def my_ring_settings(uow: UnitOfWork, actor: Actor) -> tuple[int, RingSettings]:
    """The actor's company and its ring settings, for its admin dispatcher only."""
    if actor.enterprise_id is None:
        raise PermissionDenied("error.admin_only")
    await _require_admin(uow, actor, actor.enterprise_id)
    return actor.enterprise_id, await ring_settings(uow, actor.enterprise_id)


def parse_open_hours(raw: int | str) -> int:
    """Hours an internal posting waits: a whole number from 1 to 720 (30 days)."""
    try:
        hours = int(str(raw).strip())
    except ValueError as exc:
        raise ValidationError("error.open_hours", max=MAX_INTERNAL_OPEN_HOURS) from exc
    if not 1 <= hours <= MAX_INTERNAL_OPEN_HOURS:
        raise ValidationError("error.open_hours", max=MAX_INTERNAL_OPEN_HOURS)
    return hours


def _settings_dict(company: Enterprise) -> dict[str, object]:
    return {
        "default_ring": company.default_ring,
        "internal_open_hours": company.internal_open_hours,
    }


async def set_ring_settings(
    uow: UnitOfWork,
    actor: Actor,
    enterprise_id: int,
    *,
    default_ring: str | None = None,
    internal_open_hours: int | str | None = None,
) -> RingSettings:
    """Change a company's ring settings: its admin dispatcher, or the CLI. Commits."""
    await _require_admin(uow, actor, enterprise_id)
    company = await uow.session.get(Enterprise, enterprise_id)
    if company is None:
        raise NotFound("error.enterprise_not_found")
    before = {
        "default_ring": company.default_ring,
        "internal_open_hours": company.internal_open_hours,
    }
    if default_ring is not None:
        if default_ring not in (Ring.INTERNAL.value, Ring.MARKET.value):
            raise ValidationError("error.bad_ring")
        company.default_ring = default_ring
    if internal_open_hours is not None:
        company.internal_open_hours = parse_open_hours(internal_open_hours)
    after = {
        "default_ring": company.default_ring,
        "internal_open_hours": company.internal_open_hours,
    }
    if after != before:
        uow.audit(
            actor_account_id=actor.account_id,
            action="enterprise.ring_settings",
            entity="enterprise",
            entity_id=enterprise_id,
            before=before,
            after=after,
        )
    await uow.commit()
    return RingSettings(company.default_ring, company.internal_open_hours)


# --- one tap: 🌐 公开到市场 ---------------------------------------------------------------------


async def open_to_market(
    uow: UnitOfWork,
    actor: Actor,
    kind: PostingKind,
    posting_id: int,
    *,
    expected_version: int | None = None,
) -> ShortageView | IdlePostingView:
    """Open the actor's internal posting to the market now; the matching companies are told
    as for a new public posting. An already public or escalated one is a Conflict."""
    view: ShortageView | IdlePostingView
    view = await (get_shortage if kind == "shortage" else get_idle)(uow, actor, posting_id)
    if view.ring == Ring.ESCALATED.value:
        raise Conflict("error.already_escalated")
    if view.ring != Ring.INTERNAL.value:
        raise Conflict("error.already_public")
    return await edit_posting(
        uow, actor, kind, posting_id, ring=Ring.MARKET.value, expected_version=expected_version
    )


# --- the sweep ----------------------------------------------------------------------------------


async def open_due_internal(uow: UnitOfWork, now: datetime | None = None) -> list[OpenedPosting]:
    """Open every live internal posting whose company's hours have passed (leader's job).

    Idempotent: each posting is switched by a conditional UPDATE (still internal, still live),
    so a second run, or a second process, opens and announces it once. Commits."""
    at = as_utc(now or uow.now())
    opened: list[OpenedPosting] = []
    for kind, model in (("shortage", ShortagePosting), ("idle", IdlePosting)):
        rows = (
            await uow.session.execute(
                select(
                    model.id,
                    model.enterprise_id,
                    model.posted_by_account_id,
                    model.created_at,
                    Enterprise.internal_open_hours,
                )
                .join(Enterprise, Enterprise.id == model.enterprise_id)
                .where(
                    model.ring == Ring.INTERNAL.value,
                    model.status.in_(_LIVE),
                    model.created_at <= at - timedelta(hours=1),  # the shortest setting
                )
                .order_by(model.id)
            )
        ).all()
        for row in rows:
            if internal_opens_at(as_utc(row.created_at), int(row.internal_open_hours)) > at:
                continue
            result = await uow.session.execute(
                update(model)
                .where(
                    model.id == row.id,
                    model.ring == Ring.INTERNAL.value,
                    model.status.in_(_LIVE),
                )
                .values(ring=Ring.MARKET.value, updated_at=at, version=model.version + 1)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 0) != 1:
                continue  # opened meanwhile (a tap, another process)
            uow.audit(
                actor_account_id=None,
                action=f"{kind}.open_market",
                entity=f"{kind}_posting",
                entity_id=row.id,
                before={"ring": Ring.INTERNAL.value},
                after={"ring": Ring.MARKET.value, "after_hours": int(row.internal_open_hours)},
            )
            await notify_matches(uow, kind, row.id)
            if row.posted_by_account_id is not None:
                await uow.notify(
                    account_id=row.posted_by_account_id,
                    kind=KIND_OPENED,
                    payload={
                        "posting_kind": kind,
                        "posting_id": row.id,
                        "hours": int(row.internal_open_hours),
                    },
                    dedup_key=f"{KIND_OPENED}:{kind}:{row.id}",
                )
            opened.append(OpenedPosting(kind, row.id, row.enterprise_id, row.posted_by_account_id))
    await uow.commit()
    return opened
