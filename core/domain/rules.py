"""Rules of the market, one function each, called by the bot, the API and the services alike:
which postings pair, which workers may be declared idle, when a deal may start, and who speaks
for which side of a deal. Queries that pre-filter in SQL mirror these (tests hold them equal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from core.domain.actor import Actor
from core.domain.enums import EnterpriseType, PostingStatus, Ring, Role, Side, WorkerStatus
from core.domain.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from core.domain.values import parse_day

MAX_START_DAYS = 90  # a deal starts today at the earliest, at most this many days ahead


# --- grades ------------------------------------------------------------------------------------


def grade_meets(offered: int, required: int) -> bool:
    """一级 is the highest grade: level 2 meets "三级 or better", level 4 does not."""
    return offered <= required


# --- pairing a shortage with an idle posting ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class PostingTerms:
    """What pairing looks at in a posting. `grade_level` is a shortage's minimum grade or an
    idle posting's offered grade."""

    enterprise_id: int
    trade_code: str
    grade_level: int
    ring: str
    status: str
    expires_at: datetime
    open_headcount: int


def is_open_for_deals(posting: PostingTerms, now: datetime) -> bool:
    """Live status, not past its expiry, someone still wanted / on offer."""
    return (
        PostingStatus(posting.status).is_live
        and posting.expires_at > now
        and posting.open_headcount > 0
    )


def pairing_refusal(
    shortage: PostingTerms, idle: PostingTerms, now: datetime
) -> DomainError | None:
    """Why this shortage and this idle posting cannot pair, or None when they can: both open,
    the same trade, the idle grade meets the shortage's, and a posting kept inside its company
    ("internal" ring) pairs only with its own company's."""
    if not (is_open_for_deals(shortage, now) and is_open_for_deals(idle, now)):
        return Conflict("error.posting_closed")
    internal = Ring.INTERNAL.value in (shortage.ring, idle.ring)
    if internal and shortage.enterprise_id != idle.enterprise_id:
        # the other company must not learn the posting exists
        return NotFound("error.posting_not_found")
    if shortage.trade_code != idle.trade_code:
        return ValidationError("error.trade_mismatch")
    if not grade_meets(idle.grade_level, shortage.grade_level):
        return ValidationError("error.posting_grade_too_low")
    return None


def can_pair(shortage: PostingTerms, idle: PostingTerms, now: datetime) -> bool:
    return pairing_refusal(shortage, idle, now) is None


def check_pair(shortage: PostingTerms, idle: PostingTerms, now: datetime) -> None:
    """Raise the reason a shortage and an idle posting cannot pair, if there is one."""
    if (refusal := pairing_refusal(shortage, idle, now)) is not None:
        raise refusal


# --- declaring workers idle --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WorkerTerms:
    """What declaring a worker idle looks at; `on_offer`: a live idle posting lists them."""

    id: int
    name: str
    enterprise_id: int
    status: str
    trade_code: str
    grade_level: int
    on_offer: bool


def declare_idle_refusal(
    worker: WorkerTerms, *, enterprise_id: int, trade_code: str, grade_level: int
) -> DomainError | None:
    """Why this worker may not be named in an idle posting of the enterprise, trade and grade,
    or None: they must be the enterprise's, idle, of the trade, at or above the grade, and not
    on offer in another live idle posting already."""
    if worker.enterprise_id != enterprise_id:
        return ValidationError("error.worker_not_in_enterprise", worker_id=worker.id)
    if worker.status != WorkerStatus.IDLE.value:
        return Conflict("error.worker_not_idle", worker_id=worker.id, name=worker.name)
    if worker.trade_code != trade_code:
        return ValidationError(
            "error.worker_trade_mismatch", worker_id=worker.id, name=worker.name
        )
    if not grade_meets(worker.grade_level, grade_level):
        return ValidationError("error.worker_grade_too_low", worker_id=worker.id, name=worker.name)
    if worker.on_offer:
        return Conflict("error.worker_already_posted", worker_id=worker.id, name=worker.name)
    return None


def may_declare_idle(
    worker: WorkerTerms, *, enterprise_id: int, trade_code: str, grade_level: int
) -> bool:
    refusal = declare_idle_refusal(
        worker, enterprise_id=enterprise_id, trade_code=trade_code, grade_level=grade_level
    )
    return refusal is None


def deal_worker_refusal(
    worker: WorkerTerms,
    *,
    idle_enterprise_id: int,
    trade_code: str,
    min_grade: int,
    posting_worker_ids: frozenset[int] | None,
) -> DomainError | None:
    """Why this worker may not be named in a deal, or None: the moving company's, idle, of the
    shortage's trade and grade, and listed in the idle posting when the deal has one."""
    if worker.enterprise_id != idle_enterprise_id:
        return ValidationError("error.worker_not_yours")
    if worker.status != WorkerStatus.IDLE.value:
        return Conflict("error.worker_taken", name=worker.name)
    if posting_worker_ids is not None and worker.id not in posting_worker_ids:
        return ValidationError("error.worker_not_in_posting", name=worker.name)
    if worker.trade_code != trade_code:
        return ValidationError("error.trade_mismatch")
    if not grade_meets(worker.grade_level, min_grade):
        return ValidationError("error.grade_too_low", name=worker.name)
    return None


# --- a deal's start date -----------------------------------------------------------------------


def start_date_window(today: date) -> tuple[date, date]:
    """The first and the last day a deal may start on (Shanxi's today and 90 days on)."""
    return today, today + timedelta(days=MAX_START_DAYS)


def check_start_date(start: object, today: date) -> date:
    """The start date, if it lies in the window; else a ValidationError the user can fix."""
    first, last = start_date_window(today)
    # a datetime is a date too, but a deal starts on a day
    if not isinstance(start, date) or isinstance(start, datetime) or not first <= start <= last:
        raise ValidationError("error.start_date", max_days=MAX_START_DAYS)
    return start


def parse_start_date(raw: str | None, today: date) -> date:
    """A typed start date (core.domain.values.parse_day: with a year, month and day only, 明天
    …), then held to the window."""
    return check_start_date(parse_day(raw, today, error="error.start_date_format"), today)


# --- who posts a shortage for which project -----------------------------------------------------

# the companies that run projects and post shortages from the menu; a labor company supplies
CONTRACTOR_TYPES = frozenset({EnterpriseType.GENERAL_CONTRACTOR, EnterpriseType.SUBCONTRACTOR})


def offers_shortage_posting(role: Role, enterprise_type: str | None) -> bool:
    """Whether 📝 发布缺工 is in the menu: every foreman (for their projects) and a dispatcher
    of a general or specialty contractor (for the company's projects); not a labor company's
    dispatcher, whose side of the market is idle workers."""
    if role is Role.FOREMAN:
        return True
    return role is Role.DISPATCHER and enterprise_type in CONTRACTOR_TYPES


def may_post_shortage_for(actor: Actor, *, project_id: int, enterprise_id: int) -> bool:
    """Whether the actor may post a shortage for this project: its own foremen, the dispatchers
    of the project's company, an admin (the CLI)."""
    if actor.role not in (Role.FOREMAN, Role.DISPATCHER, Role.ADMIN):
        return False
    return actor.can_act_for_project(project_id, enterprise_id)


# --- the dispatch rings ------------------------------------------------------------------------

MAX_INTERNAL_OPEN_HOURS = 24 * 30


def poster_ring(chosen: str | None, company_default: str | None) -> str:
    """The ring a new posting goes to: the poster's choice, else the company's default, else
    the market (公开). Escalation is an act of its own, never a starting ring."""
    for value in (chosen, company_default):
        if value in (Ring.INTERNAL.value, Ring.MARKET.value):
            return value
    return Ring.MARKET.value


def internal_opens_at(created_at: datetime, hours: int) -> datetime:
    """When an internal posting without an internal match opens to the market by itself."""
    return created_at + timedelta(hours=hours)


# --- who speaks for which side of a deal -------------------------------------------------------


def may_act_for_shortage(actor: Actor, *, project_id: int, enterprise_id: int) -> bool:
    """The project's foremen and its company's dispatchers (and an admin)."""
    return actor.can_act_for_project(project_id, enterprise_id)


def may_act_for_idle(actor: Actor, *, enterprise_id: int) -> bool:
    """The dispatchers of the company whose workers move (and an admin): foremen own none."""
    return actor.role is Role.ADMIN or (
        actor.role is Role.DISPATCHER and actor.enterprise_id == enterprise_id
    )


def sides_of(
    actor: Actor,
    *,
    shortage_project_id: int,
    shortage_enterprise_id: int,
    idle_enterprise_id: int | None,
) -> frozenset[Side]:
    """The sides of a deal the actor speaks for: both in an internal dispatch."""
    sides: set[Side] = set()
    if may_act_for_shortage(
        actor, project_id=shortage_project_id, enterprise_id=shortage_enterprise_id
    ):
        sides.add(Side.SHORTAGE)
    if idle_enterprise_id is not None and may_act_for_idle(
        actor, enterprise_id=idle_enterprise_id
    ):
        sides.add(Side.IDLE)
    return frozenset(sides)


def proposing_side(sides: frozenset[Side], *, idle_posting: bool) -> Side:
    """The side a proposal comes from. Speaking for both (internal dispatch), it asks the idle
    posting for its workers when there is one, and offers named workers when there is none. The
    shortage side can only ask an idle posting: without one there is nothing to ask."""
    if not sides:
        raise PermissionDenied("error.forbidden")
    if len(sides) == 1:
        (side,) = sides
    else:
        side = Side.SHORTAGE if idle_posting else Side.IDLE
    if side is Side.SHORTAGE and not idle_posting:
        raise ValidationError("error.idle_posting_required")
    return side


def may_propose_on(role: Role, kind: str) -> bool:
    """Whether 🤝 is offered on another party's posting: an idle posting is asked for by whoever
    has shortages (foremen, dispatchers), a shortage is offered workers by a dispatcher."""
    if kind == "idle":
        return role in (Role.FOREMAN, Role.DISPATCHER)
    return role is Role.DISPATCHER
