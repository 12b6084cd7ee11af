"""All routers, in the order they are tried.

Each feature module exposes `create_router() -> Router` that builds a fresh Router (so tests
can build many dispatchers in one process) and registers its module-level handlers on it.
Adding a feature is one line in FEATURES below.

Order, and why:
1. errors    - only the `errors` observer: domain errors → localized text (all routers).
2. common    - /cancel and every Cancel button, /help, /language, /menu: work in any state.
3. start     - /start (invite links), the phone step, blocked/unblocked (my_chat_member).
4. settings  - /settings and ⚙️.
5. menu      - the menu's own dialogs (dispatcher: invite a foreman).
6. FEATURES  - idle, deals, ratings, regulator… each matches its menu
               buttons with `MenuText(KEY)` (bot/keyboards/common.py) and guards itself with
               `role_router(__name__, *roles)` (bot/filters.py).
7. dialogs   - the aiogram-dialog conversations (bot/dialogs: post shortage, my postings,
               search…), and the menu entries to them.
8. fallback  - LAST: unknown text, stickers, photos, stale buttons.

Handler data available everywhere: `uow` (UnitOfWork, one per update), `account`
(AccountView of an active account, else None), `bound_account`, `services`, `settings`,
`i18n`, `state`. The access middleware lets guests reach only /start, /help, /language.
FSM calls through `state` first end the update's open read transaction (SQLite takes its
write lock at BEGIN and the SQL FSM storage has a connection of its own: see
bot/middlewares/db.py), so "read through a service, then set the state" just works.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router

from bot.dialogs import wiring as dialogs
from bot.handlers import (
    channels,
    common,
    company_settings,
    contact_exchange,
    deals,
    dispatch,
    errors,
    fallback,
    menu,
    posting_card,
    projects,
    ratings,
    regulator,
    settings,
    start,
    workers,
)

# Feature routers, tried in this order after the menu and before the fallback.
# One line per feature, e.g. `shortage.create_router,`.
FEATURES: tuple[Callable[[], Router], ...] = (
    projects.create_router,
    workers.create_router,
    ratings.create_router,
    regulator.create_router,
    posting_card.create_router,
    deals.create_router,
    dispatch.create_router,
    contact_exchange.create_router,  # 📞 交换电话 (core.services.contact_exchange)
    company_settings.create_router,  # /approval (需求待批), /rings: a company admin's
)


def build_root_router(features: tuple[Callable[[], Router], ...] = FEATURES) -> Router:
    root = Router(name="root")
    root.include_routers(
        errors.create_router(),
        common.create_router(),
        start.create_router(),
        settings.create_router(),
        channels.create_router(),  # the test buttons of ⚙️ settings
        menu.create_router(),
        *(make() for make in features),
        dialogs.create_router(),  # after the features: a typed menu button leaves a dialog
        fallback.create_router(),  # LAST
    )
    return root
