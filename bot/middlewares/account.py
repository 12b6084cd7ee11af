"""Who is writing: the account bound to the Telegram user, loaded once per update.

Handler data gets `account` (an active AccountView, else None) and `bound_account` (the
bound account even when deactivated, for the my_chat_member handlers). An applicant's
placeholder account (申请入驻) is only `bound_account`: to handlers the applicant is a guest."""

from __future__ import annotations

from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, User

from bot.middlewares import Handler
from core.db.uow import UnitOfWork
from core.domain.enums import Role
from core.services import accounts


class AccountMiddleware(BaseMiddleware):
    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        uow: UnitOfWork = data["uow"]
        bound = None
        if user is not None and not user.is_bot:
            # the read stays open: the dedup middleware's claim right after commits it
            bound = await accounts.get_account_by_telegram(uow, user.id)
        data["bound_account"] = bound
        # an applicant (申请入驻, not yet approved) has no rights: a guest to every handler
        usable = bound is not None and bound.active and bound.role is not Role.APPLICANT
        data["account"] = bound if usable else None
        return await handler(event, data)
