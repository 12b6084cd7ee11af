"""Errors of any router end here: domain errors become a localized reply; a forged or stale
button tap is a WARNING line and "this button is no longer valid"; anything else is logged
with its traceback and answered with a generic apology (no stack trace, no data reaches the
user)."""

from __future__ import annotations

import contextlib
import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _
from asyncpg.exceptions import DataError as PostgresDataError

from bot.render.errors import GENERIC, alert_text, error_text
from core.domain.errors import DomainError

log = logging.getLogger("bot.errors")


async def _reply(event: ErrorEvent, text: str) -> None:
    update = event.update
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(alert_text(text), show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except TelegramAPIError:
        # e.g. a callback query too old to answer: the error is logged, not raised again
        log.warning("could not deliver the error reply for update %s", update.update_id)


async def on_domain_error(event: ErrorEvent) -> None:
    """A rule said no: tell the user why, in their language. The FSM state is kept, so the
    step can be retried or cancelled."""
    assert isinstance(event.exception, DomainError)
    await _reply(event, error_text(event.exception))


# A value no button of ours carries: an id past the column's range (PostgreSQL's INTEGER,
# SQLite's 64 bits), a NUL byte in a text field. The client controls callback data.
_FORGED_VALUE_ERRORS = (OverflowError, PostgresDataError)


def _caused_by(exc: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kinds):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def is_forged_or_stale_tap(event: ErrorEvent) -> bool:
    """A button tap that failed because of the tap: its data could not come from a button we
    sent (a forged id), or its message or query is gone (Telegram refused the answer)."""
    if event.update.callback_query is None:
        return False
    exc = event.exception
    return isinstance(exc, TelegramBadRequest) or _caused_by(exc, _FORGED_VALUE_ERRORS)


async def on_forged_or_stale_tap(event: ErrorEvent) -> None:
    query = event.update.callback_query
    assert query is not None
    # no traceback: nothing of ours failed, and the data is the client's
    log.warning(
        "update %s: a forged or stale button tap (%s)",
        event.update.update_id,
        type(event.exception).__name__,
    )
    with contextlib.suppress(TelegramAPIError):  # too old to answer: nobody is waiting
        await query.answer(_("common.stale"))


async def on_unexpected_error(event: ErrorEvent) -> None:
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    await _reply(event, _(GENERIC))


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_domain_error, ExceptionTypeFilter(DomainError))
    router.errors.register(on_forged_or_stale_tap, is_forged_or_stale_tap)
    router.errors.register(on_unexpected_error)
    return router
