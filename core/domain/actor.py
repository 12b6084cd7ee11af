from __future__ import annotations

from dataclasses import dataclass, field

from core.domain.enums import Role
from core.domain.errors import PermissionDenied


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting and what they may touch; built from an Account by the front end."""

    account_id: int | None
    role: Role
    enterprise_id: int | None = None
    region_code: str | None = None
    project_ids: frozenset[int] = field(default_factory=frozenset)
    locale: str = "zh"

    @classmethod
    def system(cls) -> Actor:
        """The CLI / scheduler acting with full rights."""
        return cls(account_id=None, role=Role.ADMIN, region_code="140000")

    def require(self, *roles: Role) -> None:
        if self.role not in roles and self.role is not Role.ADMIN:
            raise PermissionDenied("error.forbidden")

    def can_act_for_enterprise(self, enterprise_id: int) -> bool:
        return self.role is Role.ADMIN or self.enterprise_id == enterprise_id

    def can_act_for_project(self, project_id: int, enterprise_id: int) -> bool:
        if self.role is Role.ADMIN:
            return True
        if self.role is Role.DISPATCHER:
            return self.enterprise_id == enterprise_id
        if self.role is Role.FOREMAN:
            return project_id in self.project_ids
        return False
