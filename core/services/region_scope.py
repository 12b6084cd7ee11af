"""Who may see which region: a regulator their region and everything below it, never beyond,
whatever ids or region codes a client sends (the bot's callback data is client controlled);
an admin the whole province."""

from __future__ import annotations

from core.domain.actor import Actor
from core.domain.enums import Role
from core.domain.errors import PermissionDenied
from core.services.regions import (
    PROVINCE_CODE,
    normalize_region_code,
    region_contains,
)

# --- scope ----------------------------------------------------------------------------------


def home_region(actor: Actor) -> str:
    """The region the actor answers for: a regulator's own; an admin's (default: province)."""
    if actor.role is Role.ADMIN:
        return normalize_region_code(actor.region_code or PROVINCE_CODE)
    if actor.role is not Role.REGULATOR or not actor.region_code:
        raise PermissionDenied("error.forbidden")
    return normalize_region_code(actor.region_code)


def in_scope(actor: Actor, code: str) -> bool:
    """True if `code` (a region at any level) lies inside what the actor may see."""
    if actor.role is Role.ADMIN:
        return True
    if actor.role is not Role.REGULATOR or not actor.region_code:
        return False
    return region_contains(actor.region_code, code)


def require_scope(actor: Actor, code: str) -> str:
    """The normalized code, if the actor may see that region; PermissionDenied otherwise."""
    full = normalize_region_code(code)
    home_region(actor)  # role check first: a foreman learns nothing about regions
    if not in_scope(actor, full):
        raise PermissionDenied("error.out_of_scope")
    return full
