"""Composition root of the bot: the Bot and the Dispatcher, used by production and tests alike.

Update middleware order (outer, per update; aiogram's own come first: errors, user context,
then StateInUnitOfWork, aiogram's FSM middleware with its event-isolation lock, so everything
below runs under the per-user lock; with the SQL storage on the same database it leaves the
state read to the next one, which does it inside the update's first transaction):
  1. UnitOfWorkMiddleware  - `uow` for handlers, always closed; FSM state kept per update,
                             written back in the mark-done commit
  2. AccountMiddleware     - `account` / `bound_account` by Telegram user id
  3. DedupMiddleware       - an update_id seen before is dropped; its claim commits in the
                             account read's transaction (one transaction for both)
  4. AccountI18nMiddleware - locale: stored account locale > /language choice > language_code
  5. AccessMiddleware      - guests reach only /start, /help, /language
The locale middleware also wraps the `errors` observer, so error replies are localized.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram import methods as aiogram_methods
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.base import BaseSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.methods.base import Response, TelegramMethod
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats
from redis.asyncio import Redis

from bot.dialogs import wiring as dialogs
from bot.handlers import build_root_router
from bot.i18n import N_, SUPPORTED_LOCALES, load_i18n
from bot.inline_filters import run_sync_filters_inline
from bot.isolation import KeyedEventIsolation
from bot.middlewares.access import AccessMiddleware
from bot.middlewares.account import AccountMiddleware
from bot.middlewares.db import EndReadBeforeRequest, StateInUnitOfWork, UnitOfWorkMiddleware
from bot.middlewares.dedup import DedupMiddleware, tell_interrupted_at_startup
from bot.middlewares.late_answer import ForgiveLateCallbackAnswer
from bot.middlewares.locale import AccountI18nMiddleware
from bot.storage import SqlStorage
from core.config import Settings
from core.db.uow import Services

FSM_TTL = timedelta(days=7)  # an abandoned dialog in Redis expires after a week
COMMANDS = {
    "start": N_("command.start"),
    "menu": N_("command.menu"),
    "settings": N_("command.settings"),
    "language": N_("command.language"),
    "help": N_("command.help"),
    "cancel": N_("command.cancel"),
}


# aiogram parses every Bot API answer with `Response[method.__returning__]`; pydantic keeps
# parametrized models only weakly (WeakValueDictionary), so after each garbage collection the
# next call rebuilt the model and its schema (~10 % of a webhook worker's CPU under load,
# bench/webhook_throughput.py). Holding them here makes the cache stick.
_RESPONSE_MODELS: list[type[Response[Any]]] = []


def _keep_response_models() -> None:
    if _RESPONSE_MODELS:
        return
    returning: dict[str, Any] = {}
    for name in aiogram_methods.__all__:
        method = getattr(aiogram_methods, name)
        if isinstance(method, type) and issubclass(method, TelegramMethod):
            value = getattr(method, "__returning__", None)
            if value is not None and not isinstance(value, property):  # the base class
                returning.setdefault(repr(value), value)
    # a parametrization at run time (what aiogram itself does per call): no static type
    _RESPONSE_MODELS.extend(Response[value] for value in returning.values())  # type: ignore[valid-type]


def create_bot(settings: Settings, *, session: BaseSession | None = None) -> Bot:
    """The Bot: HTML parse mode by default; a self-hosted Bot API server if configured."""
    _keep_response_models()
    if session is None:
        base = settings.telegram_api_base.rstrip("/")
        api = (
            PRODUCTION if base == "https://api.telegram.org" else TelegramAPIServer.from_base(base)
        )
        session = AiohttpSession(api=api)
    session.middleware(EndReadBeforeRequest())
    session.middleware(ForgiveLateCallbackAnswer())
    return Bot(
        token=settings.bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def _storage(
    settings: Settings, services: Services, storage: BaseStorage | None, redis: Redis | None
) -> tuple[BaseStorage, BaseEventIsolation]:
    if storage is None and (redis is not None or settings.redis_url):
        client = redis if redis is not None else Redis.from_url(settings.redis_url)
        storage = RedisStorage(
            client,
            key_builder=DefaultKeyBuilder(with_bot_id=True, with_destiny=True),
            state_ttl=FSM_TTL,
            data_ttl=FSM_TTL,
        )
    if storage is None:
        storage = SqlStorage(services.session_factory)
    if isinstance(storage, RedisStorage):
        # several processes share Redis: the per-user lock must live there too
        return storage, storage.create_isolation()
    return storage, KeyedEventIsolation()


def create_dispatcher(
    settings: Settings,
    *,
    services: Services,
    storage: BaseStorage | None = None,
    redis: Redis | None = None,
    **workflow_data: Any,
) -> Dispatcher:
    """The Dispatcher with our middlewares and routers.

    FSM storage: `storage` if given; else RedisStorage when `redis` or settings.redis_url is
    set (with RedisEventIsolation); else SqlStorage over our database (KeyedEventIsolation:
    one process). Extra keyword arguments become workflow data for handlers."""
    fsm_storage, isolation = _storage(settings, services, storage, redis)
    i18n = load_i18n(settings.default_locale)
    dp = Dispatcher(
        storage=fsm_storage,
        events_isolation=isolation,
        disable_fsm=True,  # registered below: aiogram's, reading the state in the unit of work
        services=services,
        settings=settings,
        **workflow_data,
    )
    dp.fsm = StateInUnitOfWork(fsm_storage, isolation, services)  # closed by the original's hook
    dp.update.outer_middleware(dp.fsm)  # right after aiogram's errors and user context
    locale = AccountI18nMiddleware(i18n)
    dp.update.outer_middleware(UnitOfWorkMiddleware(services))
    dp.update.outer_middleware(AccountMiddleware())
    dp.update.outer_middleware(DedupMiddleware(services))
    dp.update.outer_middleware(locale)
    dp.update.outer_middleware(AccessMiddleware())
    dp.errors.outer_middleware(locale)
    dp.include_router(build_root_router())
    run_sync_filters_inline(dp)  # no thread hand-over per magic filter (bot/inline_filters.py)
    dp.startup.register(tell_interrupted_at_startup)
    dialogs.setup(dp, isolation)
    return dp


async def set_bot_commands(bot: Bot) -> None:
    """The command menu in each language (Telegram picks by the user's app language)."""
    i18n = load_i18n()
    for locale in SUPPORTED_LOCALES:
        commands = [
            BotCommand(command=name, description=i18n.gettext(key, locale=locale))
            for name, key in COMMANDS.items()
        ]
        await bot.set_my_commands(
            commands,
            scope=BotCommandScopeAllPrivateChats(),
            # the default locale's list also serves every language we don't translate
            language_code=None if locale == i18n.default_locale else locale,
        )
