"""Multi-step conversations as aiogram-dialog dialogs, one module per conversation.

`create_router()` holds every dialog with the menu entries that open it; it is included after
the feature routers (so a menu button typed inside a dialog still reaches its feature) and
before the fallback. `setup(dp, isolation)` wires aiogram-dialog into the Dispatcher: its
context lives in the Dispatcher's FSM storage (SQL, or Redis at scale) under the same
event-isolation as every update."""

from __future__ import annotations

from typing import Any

from aiogram import Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation
from aiogram_dialog import setup_dialogs

from bot.dialogs import (
    company_admin,
    deal,
    dispatch,
    idle,
    join,
    join_review,
    my_postings,
    paste,
    posting_approval,
    search,
    shortage,
)
from bot.dialogs.stale import register_stale_handler
from bot.dialogs.widgets import AnswerOnceMessageManager
from bot.filters import HasRole
from bot.keyboards.common import DEALS, MY_POSTINGS, SEARCH, MenuText
from core.domain.enums import Role


def _menu_entry(key: str, start: Any) -> Router:
    """A menu button that opens a dialog of foremen and dispatchers."""
    router = Router(name=f"dialogs.entry.{key}")
    router.message.register(start, MenuText(key), HasRole(Role.FOREMAN, Role.DISPATCHER))
    return router


def create_router() -> Router:
    router = Router(name="dialogs")
    # menu entries before every dialog: an open dialog takes every message that reaches it;
    # paste last: its entry takes text that no dialog step and no menu entry took
    router.include_routers(
        _menu_entry(MY_POSTINGS, my_postings.start),
        _menu_entry(DEALS, deal.open_list),
        _menu_entry(SEARCH, search.start),
        shortage.create_router(),
        idle.create_router(),
        dispatch.create_router(),
        deal.create_router(),
        my_postings.dialog(),
        search.dialog(),
        company_admin.create_router(),
        join.create_router(),
        join_review.create_router(),
        posting_approval.create_router(),
        paste.create_router(),
    )
    return router


def setup(dp: Dispatcher, isolation: BaseEventIsolation) -> None:
    """Call after the routers are included: aiogram-dialog finds its dialogs among them."""
    setup_dialogs(dp, events_isolation=isolation, message_manager=AnswerOnceMessageManager())
    register_stale_handler(dp)
