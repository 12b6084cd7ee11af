from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FOREMAN = "foreman"
    DISPATCHER = "dispatcher"
    REGULATOR = "regulator"
    ADMIN = "admin"
    # 申请入驻: a Telegram user whose company application is filed; no rights, only a chat the
    # outbox can reach (the verdict). Approval turns the same account into the company's admin.
    APPLICANT = "applicant"


class EnterpriseType(StrEnum):
    GENERAL_CONTRACTOR = "general_contractor"
    SUBCONTRACTOR = "subcontractor"
    LABOR_SERVICE = "labor_service"


class EnterpriseStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Ring(StrEnum):
    """Dispatch rings of the seed: inside one company, company to company, brokered by a bureau."""

    INTERNAL = "internal"
    MARKET = "market"
    ESCALATED = "escalated"


class PostingStatus(StrEnum):
    OPEN = "open"
    PARTLY_FILLED = "partly_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def is_live(self) -> bool:
        return self in (PostingStatus.OPEN, PostingStatus.PARTLY_FILLED)


LIVE_STATUSES = (PostingStatus.OPEN, PostingStatus.PARTLY_FILLED)


class WorkerStatus(StrEnum):
    BUSY = "busy"
    IDLE = "idle"


class DealStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Side(StrEnum):
    """Which side of a deal: the project that is short, or the company with idle workers."""

    SHORTAGE = "shortage"
    IDLE = "idle"

    @property
    def other(self) -> Side:
        return Side.IDLE if self is Side.SHORTAGE else Side.SHORTAGE


class DealAction(StrEnum):
    PROPOSE = "propose"
    COUNTER = "counter"
    ACCEPT = "accept"
    DECLINE = "decline"
    EXPIRE = "expire"
    CANCEL = "cancel"


class ProjectStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"


class Gender(StrEnum):
    MALE = "M"
    FEMALE = "F"


class RegionLevel(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"
