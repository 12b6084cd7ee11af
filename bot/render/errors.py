"""Domain errors → the user's language, in one place."""

from __future__ import annotations

import html
import logging
import re

from aiogram.utils.i18n import gettext as _

from bot.i18n import render
from core.domain.errors import DomainError

log = logging.getLogger(__name__)

GENERIC = "error.generic"
CALLBACK_ALERT_LIMIT = 200  # answerCallbackQuery text limit


def error_text(err: DomainError) -> str:
    """`_(err.key)` filled with the error's params (HTML-escaped); a key nobody translated
    falls back to the generic message instead of showing "error.something"."""
    text = _(err.key)
    if text == err.key:
        log.warning("untranslated error key %s", err.key)
        text = _(GENERIC)
    return render(text, err.params)


_TAG = re.compile(r"<[^>]*>")


def alert_text(text: str) -> str:
    """A message text (HTML) as a callback alert: alerts are plain text, so tags go and
    entities are decoded ("A&amp;B" shows as "A&B", as typed); at most 200 characters."""
    plain = html.unescape(_TAG.sub("", text))
    if len(plain) <= CALLBACK_ALERT_LIMIT:
        return plain
    return plain[: CALLBACK_ALERT_LIMIT - 1] + "…"
