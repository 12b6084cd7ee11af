"""Multi-step conversations as aiogram-dialog dialogs, one module per conversation.

`create_router()` holds every dialog with the menu entries that open it; it is included after
the feature routers (so a menu button typed inside a dialog still reaches its feature) and
before the fallback. `setup(dp, isolation)` wires aiogram-dialog into the Dispatcher: its
context lives in the Dispatcher's FSM storage (SQL, or Redis at scale) under the same
event-isolation as every update."""

from __future__ import annotations

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


def create_router() -> Router:
    router = Router(name="dialogs")
    # menu entries before every dialog: an open dialog takes every message that reaches it;
    # paste last: its entry takes text that no dialog step and no menu entry took
    router.include_routers(
        my_postings.entry_router(),
        deal.entry_router(),
        search.entry_router(),
        shortage.create_router(),
        idle.create_router(),
        dispatch.create_router(),
        deal.create_router(),
        my_postings.create_router(),
        search.create_router(),
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
