"""The regulator's menu (the seed's government edition): 📊 汇总, 📈 统计, 📑 需求, 💰 成交,
⭐ 评价, 🏷 指导价, 🎖 评级, 🧭 协调, and after the deal 📉 欠薪预警 and 👷 在场人数 (also
/arrears and /onsite). One Router for regulators and admins.

Every screen is scoped to the account's region and below: region codes, posting and worker ids
in callback data are passed to core services that check the scope again, so a forged button
is refused by the core (the `errors` router answers it) and changes nothing.

Each module declares its screens (`@screen`: a CallbackData and, for a menu entry, its first
page) and its message handlers (`@on_message`); importing them fills the lists routed here.
"""

from __future__ import annotations

from aiogram import Router

from bot.filters import HasRole
from bot.handlers.regulator import (  # noqa: F401  (imported for their screens)
    arrears,
    escalations,
    export,
    grading,
    guide,
    lists,
    summary,
)
from bot.handlers.regulator.common import register
from core.domain.enums import Role


def create_router() -> Router:
    router = Router(name=__name__)
    allowed = HasRole(Role.REGULATOR, Role.ADMIN)
    router.message.filter(allowed)
    router.callback_query.filter(allowed)
    register(router)
    return router
