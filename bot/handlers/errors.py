"""Errors of any router end here: domain errors become a localized reply, anything else is
logged and answered with a generic apology (no stack trace, no data reaches the user)."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

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


async def on_unexpected_error(event: ErrorEvent) -> None:
    log.error("update %s failed", event.update.update_id, exc_info=event.exception)
    await _reply(event, _(GENERIC))


def create_router() -> Router:
    router = Router(name=__name__)
    router.errors.register(on_domain_error, ExceptionTypeFilter(DomainError))
    router.errors.register(on_unexpected_error)
    return router
