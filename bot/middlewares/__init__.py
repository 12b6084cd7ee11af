"""Update and request middlewares (their order: bot/factory.py)."""

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject

# what an update middleware calls next
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]
