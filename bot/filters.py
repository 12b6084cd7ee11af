"""Router-level filters for role checks (the access middleware already demands an account)."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import BaseFilter
from aiogram.types import TelegramObject

from core.domain.enums import Role
from core.services.accounts import AccountView


class HasRole(BaseFilter):
    """The active account has one of these roles (exactly: ADMIN is not implied here)."""

    def __init__(self, *roles: Role) -> None:
        self.roles = frozenset(roles)

    async def __call__(self, event: TelegramObject, account: AccountView | None = None) -> bool:
        return account is not None and account.role in self.roles


def role_router(name: str, *roles: Role) -> Router:
    """A feature's router whose messages and taps are for these roles only."""
    router = Router(name=name)
    router.message.filter(HasRole(*roles))
    router.callback_query.filter(HasRole(*roles))
    return router
