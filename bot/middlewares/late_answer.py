"""Bot session middleware: a refused answerCallbackQuery is logged, never raised.

Telegram refuses to answer a callback query more than ~15 s old ("query is too old"), e.g. a
tap replayed after a restart or from a backlog. The toast is cosmetic; raising would abort the
handler after its work was done and leave the user looking at a stale step."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, cast

from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import TelegramMethod
    from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)


class ForgiveLateCallbackAnswer(BaseRequestMiddleware):
    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as exc:
            if not isinstance(method, AnswerCallbackQuery):
                raise
            log.warning("callback query %s not answered: %s", method.callback_query_id, exc)
            # the chain hands back the method's result (a bool here), whatever the annotation says
            return cast("Response[TelegramType]", True)
