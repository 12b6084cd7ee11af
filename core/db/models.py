"""SQLAlchemy 2 models. Dialect-neutral: the same schema on SQLite and PostgreSQL.

Money is integer fen (1/100 CNY), never float. Telegram ids are BIGINT.
Full ID numbers only ever exist encrypted (`id_cipher`) and as a keyed hash (`id_hash`).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dict[str, Any]: JSON,
        list[Any]: JSON,
        datetime: DateTime(timezone=True),
    }


# --- reference data -------------------------------------------------------------------------


class Region(Base):
    """Province / city / county with its GB/T 2260 six-digit code."""

    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"), index=True)
    level: Mapped[str] = mapped_column(String(10))
    name_zh: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    # neighbouring regions of the same level (counties / cities) for "covered by a neighbour"
    neighbours: Mapped[list[Any]] = mapped_column(default=list)


class Trade(Base):
    __tablename__ = "trade"
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(40))
    sort_order: Mapped[int] = mapped_column(SmallInteger, default=0)
    guided: Mapped[bool] = mapped_column(Boolean, default=False)


class Grade(Base):
    """Skill grade; level 1 (一级) is the highest, as in the seed's tables."""

    __tablename__ = "grade"
    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(10))
    name_en: Mapped[str] = mapped_column(String(20))


# --- parties --------------------------------------------------------------------------------


class Enterprise(Base):
    __tablename__ = "enterprise"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(24))
    credit_score: Mapped[int] = mapped_column(SmallInteger, default=60)
    credit_grade: Mapped[str] = mapped_column(String(4), default="B")
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    created_at: Mapped[datetime]
    # 统一社会信用代码 (GB 32100); the demo seed's companies have none
    uscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    # registered outside Shanxi (the USCC's region code is not 14xxxx)
    out_of_province: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="active")
    suspended_reason: Mapped[str | None] = mapped_column(String(200))
    # 需求待批: a foreman's shortage goes to the company's dispatchers before it is published
    postings_need_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # the dispatch rings: where a new posting goes unless the poster picks the other ring, and
    # how many hours an internal posting waits for an internal match before it opens itself
    default_ring: Mapped[str] = mapped_column(
        String(10), default="market", server_default="market"
    )
    internal_open_hours: Mapped[int] = mapped_column(
        SmallInteger, default=24, server_default="24"
    )


class EnterpriseApplication(Base):
    """申请入驻: a Telegram user asks to register a company; a regulator of its county (else
    city) approves it (the company is registered, the applicant its admin) or rejects it."""

    __tablename__ = "enterprise_application"
    __table_args__ = (Index("ix_enterprise_application_applicant", "telegram_user_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    locale: Mapped[str] = mapped_column(String(5), default="zh")
    name: Mapped[str] = mapped_column(String(100))
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    type: Mapped[str] = mapped_column(String(24))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    contact_name: Mapped[str] = mapped_column(String(30))
    contact_phone: Mapped[str] = mapped_column(String(11))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(String(200))
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class Project(Base):
    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="active")
    created_at: Mapped[datetime]
    # set by the company admin: planned dates and the real-name platform's project code
    planned_start: Mapped[date | None] = mapped_column(Date)
    planned_end: Mapped[date | None] = mapped_column(Date)
    realname_code: Mapped[str | None] = mapped_column(String(40))


class Team(Base):
    """班组: a crew inside a project, usually of one trade."""

    __tablename__ = "team"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    trade_code: Mapped[str | None] = mapped_column(ForeignKey("trade.code"))


class TeamStay(Base):
    """进场 / 退场 of a company's own worker in one of its teams: opened when the admin puts
    the worker into the team, closed (left_on) when the worker moves on or leaves the site."""

    __tablename__ = "team_stay"
    __table_args__ = (Index("ix_team_stay_worker", "worker_id", "left_on"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"))
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"), index=True)
    entered_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime]


class Worker(Base):
    __tablename__ = "worker"
    __table_args__ = (
        Index("ix_worker_pick", "enterprise_id", "status", "trade_code", "grade_level"),
        # the reporting rate: did a worker of this team switch busy/idle since …?
        Index("ix_worker_team_changed", "team_id", "status_changed_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    id_hash: Mapped[str] = mapped_column(String(64), unique=True)
    id_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    id_masked: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(30), index=True)
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(11))
    education: Mapped[str | None] = mapped_column(String(20))
    trade_code: Mapped[str] = mapped_column(ForeignKey("trade.code"))
    grade_level: Mapped[int] = mapped_column(ForeignKey("grade.level"))
    credit_grade: Mapped[str] = mapped_column(String(4), default="B")
    status: Mapped[str] = mapped_column(String(8), default="busy")
    team_id: Mapped[int | None] = mapped_column(ForeignKey("team.id"), index=True)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status_changed_at: Mapped[datetime]


class Account(Base):
    """A person using the bot (or the CLI/API): role and scope decide what they may see."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    display_name: Mapped[str] = mapped_column(String(60))
    locale: Mapped[str] = mapped_column(String(5), default="zh")
    role: Mapped[str] = mapped_column(String(12))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    phone: Mapped[str | None] = mapped_column(String(11))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    notifications_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # a dispatcher who manages the company's people (the applicant of an approved company)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_start: Mapped[time | None] = mapped_column(Time)
    quiet_end: Mapped[time | None] = mapped_column(Time)
    digest_time: Mapped[time] = mapped_column(Time, default=time(8, 0))
    timezone: Mapped[str] = mapped_column(String(40), default="Asia/Shanghai")
    created_at: Mapped[datetime]
    projects: Mapped[list[AccountProject]] = relationship(
        cascade="all, delete-orphan", lazy="selectin"
    )


class AccountProject(Base):
    """A foreman's scope: the projects they post for."""

    __tablename__ = "account_project"
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), primary_key=True)


class Invite(Base):
    """A one-time binding token (deep link `/start <token>`); only its hash is stored."""

    __tablename__ = "invite"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(12))
    display_name: Mapped[str] = mapped_column(String(60))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    project_ids: Mapped[list[Any]] = mapped_column(default=list)
    created_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class GuidePrice(Base):
    """用工指导价: a city's monthly price for a trade and grade from an effective date on."""

    __tablename__ = "guide_price"
    __table_args__ = (
        UniqueConstraint("city_code", "trade_code", "grade_level", "effective_date"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    city_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    trade_code: Mapped[str] = mapped_column(ForeignKey("trade.code"))
    grade_level: Mapped[int] = mapped_column(ForeignKey("grade.level"))
    price_fen: Mapped[int] = mapped_column(BigInteger)
    effective_date: Mapped[date] = mapped_column(Date)
    set_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime]
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[str] = mapped_column(String(40))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- postings -------------------------------------------------------------------------------


class PostingColumns:
    """The columns a shortage and an idle posting share (each table has its own copy)."""

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    county_code: Mapped[str] = mapped_column(ForeignKey("region.code"))
    city_code: Mapped[str] = mapped_column(String(6))
    trade_code: Mapped[str] = mapped_column(ForeignKey("trade.code"))
    headcount: Mapped[int] = mapped_column(Integer)
    filled_count: Mapped[int] = mapped_column(Integer, default=0)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    contact_name: Mapped[str] = mapped_column(String(30))
    contact_phone: Mapped[str] = mapped_column(String(11))
    ring: Mapped[str] = mapped_column(String(10), default="market")
    status: Mapped[str] = mapped_column(String(14), default="open")
    posted_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    escalated_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)


class ShortagePosting(PostingColumns, Base):
    """缺工: a project needs `headcount` workers of a trade at or above a grade."""

    __tablename__ = "shortage_posting"
    __table_args__ = (
        Index("ix_shortage_match", "trade_code", "status", "min_grade", "city_code"),
        Index("ix_shortage_search", "status", "created_at", "id"),
        Index("ix_shortage_county", "county_code", "status"),
        # matching: my city's candidates (the grade is a range, so the city comes before it)
        Index("ix_shortage_match_city", "trade_code", "city_code", "status", "min_grade"),
        # matching reads my county's candidates first
        Index("ix_shortage_match_county", "trade_code", "county_code", "status", "min_grade"),
        # the reporting rate: did this project post or change a shortage since …?
        Index("ix_shortage_project_updated", "project_id", "updated_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    min_grade: Mapped[int] = mapped_column(ForeignKey("grade.level"))


class ShortageRequest(Base):
    """需求待批: a foreman's shortage waiting for a dispatcher of the company; published as a
    ShortagePosting (shortage_id) on approval, possibly with another headcount or price."""

    __tablename__ = "shortage_request"
    __table_args__ = (Index("ix_shortage_request_pending", "enterprise_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"))
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    trade_code: Mapped[str] = mapped_column(ForeignKey("trade.code"))
    min_grade: Mapped[int] = mapped_column(ForeignKey("grade.level"))
    headcount: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    contact_name: Mapped[str] = mapped_column(String(30))
    contact_phone: Mapped[str] = mapped_column(String(11))
    ring: Mapped[str] = mapped_column(String(10), default="market")
    requested_by_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(String(200))
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    shortage_id: Mapped[int | None] = mapped_column(ForeignKey("shortage_posting.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class IdlePosting(PostingColumns, Base):
    """赋闲: a company offers chosen idle workers of a trade and grade at an asking price."""

    __tablename__ = "idle_posting"
    __table_args__ = (
        Index("ix_idle_match", "trade_code", "status", "grade_level", "city_code"),
        Index("ix_idle_search", "status", "created_at", "id"),
        Index("ix_idle_county", "county_code", "status"),
        # matching: my city's candidates (the grade is a range, so the city comes before it)
        Index("ix_idle_match_city", "trade_code", "city_code", "status", "grade_level"),
        # matching reads my county's candidates first
        Index("ix_idle_match_county", "trade_code", "county_code", "status", "grade_level"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    grade_level: Mapped[int] = mapped_column(ForeignKey("grade.level"))
    avg_rating_x100: Mapped[int | None] = mapped_column(Integer)


class IdlePostingWorker(Base):
    __tablename__ = "idle_posting_worker"
    posting_id: Mapped[int] = mapped_column(ForeignKey("idle_posting.id"), primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), primary_key=True, index=True)


# --- deals and ratings ----------------------------------------------------------------------


class Deal(Base):
    """用工交易: an offer between a shortage and an idle side, countered until settled."""

    __tablename__ = "deal"
    __table_args__ = (Index("ix_deal_status_expiry", "status", "expires_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shortage_id: Mapped[int] = mapped_column(ForeignKey("shortage_posting.id"), index=True)
    idle_posting_id: Mapped[int | None] = mapped_column(ForeignKey("idle_posting.id"), index=True)
    shortage_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    idle_enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    trade_code: Mapped[str] = mapped_column(ForeignKey("trade.code"))
    county_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    headcount: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    start_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    proposer_side: Mapped[str] = mapped_column(String(8))
    awaiting_side: Mapped[str | None] = mapped_column(String(8))
    shortage_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    idle_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None] = mapped_column(index=True)
    rating_prompt_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)
    # the dispatch period once accepted: start_date until end_date (None: until released)
    end_date: Mapped[date | None] = mapped_column(Date)


class DealWorker(Base):
    __tablename__ = "deal_worker"
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), primary_key=True, index=True)


class ContactExchange(Base):
    """📞 交换电话: one side of a pair of postings asks the other for its phone; on ✅ both
    see the full phones (each read audited). One row per pair of postings, ever."""

    __tablename__ = "contact_exchange"
    __table_args__ = (UniqueConstraint("shortage_id", "idle_posting_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shortage_id: Mapped[int] = mapped_column(ForeignKey("shortage_posting.id"))
    idle_posting_id: Mapped[int] = mapped_column(ForeignKey("idle_posting.id"), index=True)
    requester_side: Mapped[str] = mapped_column(String(8))  # "shortage" | "idle"
    requester_account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class DealEvent(Base):
    """The history of a deal: who proposed, countered, accepted, declined, when, at what terms."""

    __tablename__ = "deal_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(10))
    side: Mapped[str | None] = mapped_column(String(8))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    headcount: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    start_date: Mapped[date] = mapped_column(Date)


class Rating(Base):
    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("deal_id", "worker_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    stars: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(String(200))
    by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(index=True)


# --- the dispatch after the deal: arrival, release, wages, arrears, credit --------------------


class DispatchAssignment(Base):
    """One worker on one accepted deal: arrival (到岗 / 未到) on the start date, release (退场)."""

    __tablename__ = "dispatch_assignment"
    __table_args__ = (
        UniqueConstraint("deal_id", "worker_id"),
        Index("ix_dispatch_assignment_open", "released_on", "deal_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id"), index=True)
    # the labor company the worker goes back to when released
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    due_on: Mapped[date] = mapped_column(Date)  # the day the worker is expected on site
    arrival: Mapped[str] = mapped_column(String(10), default="pending")
    arrived_on: Mapped[date | None] = mapped_column(Date)
    answered_at: Mapped[datetime | None]
    answered_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    released_on: Mapped[date | None] = mapped_column(Date)
    replaces_assignment_id: Mapped[int | None] = mapped_column(
        ForeignKey("dispatch_assignment.id")
    )
    created_at: Mapped[datetime]


class WagePeriod(Base):
    """One deal's wages for one month, and both sides' answers about them."""

    __tablename__ = "wage_period"
    __table_args__ = (UniqueConstraint("deal_id", "month"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    month: Mapped[date] = mapped_column(Date)  # first day of the month worked
    due_on: Mapped[date] = mapped_column(Date, index=True)
    person_days: Mapped[int] = mapped_column(Integer)
    due_fen: Mapped[int] = mapped_column(BigInteger)
    payer_answer: Mapped[str | None] = mapped_column(String(10))  # paid | partial | unpaid
    paid_fen: Mapped[int | None] = mapped_column(BigInteger)
    payer_answered_at: Mapped[datetime | None]
    labor_answer: Mapped[str | None] = mapped_column(String(12))  # received | partial | none
    received_fen: Mapped[int | None] = mapped_column(BigInteger)
    workers_paid: Mapped[bool | None] = mapped_column(Boolean)
    labor_answered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class ArrearsAlert(Base):
    """欠薪预警: a wage period the bureau must look at (unpaid, answers disagree, no answer)."""

    __tablename__ = "arrears_alert"
    __table_args__ = (Index("ix_arrears_alert_region", "status", "city_code", "county_code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wage_period_id: Mapped[int] = mapped_column(ForeignKey("wage_period.id"), unique=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(String(12))  # unpaid | mismatch | no_answer
    due_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class DispatchPrompt(Base):
    """A prompt of a dispatch sent once per (deal, kind, day or month): the UNIQUE row and its
    outbox rows are written in one transaction, as digests are."""

    __tablename__ = "dispatch_prompt"
    __table_args__ = (UniqueConstraint("deal_id", "kind", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deal.id"))
    kind: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)  # the day, or the first day of the month
    created_at: Mapped[datetime]


class EnterpriseCreditScore(Base):
    """The enterprise's credit of the last daily recomputation, with its components."""

    __tablename__ = "enterprise_credit"
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), primary_key=True)
    score: Mapped[int] = mapped_column(SmallInteger)
    components: Mapped[dict[str, Any]] = mapped_column(JSON)
    computed_on: Mapped[date] = mapped_column(Date)


# --- delivery and infrastructure ------------------------------------------------------------


class OutboxMessage(Base):
    """A notification written in the same transaction as the change it announces."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


class DigestDelivery(Base):
    """One row per (recipient, digest day): the UNIQUE constraint makes a digest exactly-once."""

    __tablename__ = "digest_delivery"
    __table_args__ = (UniqueConstraint("account_id", "kind", "day"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[str] = mapped_column(String(10), default="daily")
    day: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(10), default="queued")


class DeliveryChannel(Base):
    """Where an account also reads what it is sent: a WeCom or DingTalk group robot, an e-mail.

    The robot URL (it holds the key or token) or the address, and the DingTalk signing secret,
    are stored encrypted like ID numbers; `label` is the masked form shown in lists."""

    __tablename__ = "delivery_channel"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # wecom | dingtalk | email
    target_cipher: Mapped[bytes] = mapped_column(LargeBinary)
    secret_cipher: Mapped[bytes | None] = mapped_column(LargeBinary)
    label: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | broken
    created_at: Mapped[datetime]


class ChannelMessage(Base):
    """The outbox of delivery channels: one row per (channel, notification), written in the
    same transaction as the Telegram outbox rows (and the digest row) it copies."""

    __tablename__ = "channel_outbox"
    __table_args__ = (Index("ix_channel_outbox_due", "status", "not_before", "id"),)
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("delivery_channel.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    dedup_key: Mapped[str | None] = mapped_column(String(160), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    not_before: Mapped[datetime]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(200))


class ProcessedUpdate(Base):
    """Telegram update ids already taken in; kept ≥ 24 h so a re-sent update has one effect."""

    __tablename__ = "processed_update"
    __table_args__ = (
        # only the few rows still waiting or being handled: recovery looks for them
        Index(
            "ix_processed_update_open",
            "status",
            "claimed_at",
            postgresql_where=text("status IN ('received', 'claimed')"),
            sqlite_where=text("status IN ('received', 'claimed')"),
        ),
    )
    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    received_at: Mapped[datetime] = mapped_column(index=True)
    raw: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="done")
    # set by the claim: whom to tell if the process dies before the handler finishes
    claimed_at: Mapped[datetime | None]
    account_id: Mapped[int | None] = mapped_column(Integer)


class FsmRecord(Base):
    """aiogram FSM state and data kept in SQL, so a restart resumes a dialog where it was."""

    __tablename__ = "fsm_record"
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    state: Mapped[str | None] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime]


class ApiKey(Base):
    __tablename__ = "api_key"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(12), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(60))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    # extra rights, space-separated: "realname_export" (full ID numbers, province bureau only)
    scopes: Mapped[str] = mapped_column(String(60), default="", server_default="")


class Lease(Base):
    """A named lease (e.g. the scheduler leader) held by one process until it expires."""

    __tablename__ = "lease"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    expires_at: Mapped[datetime]
