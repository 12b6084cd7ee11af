"""The web process: Telegram's webhook, health probes and the data API, in one FastAPI app.

`create_app(settings, …)` builds the app and nothing else; the lifespan opens Redis and the bot
runtime (bot.runtime: services, Bot, Dispatcher, sender, scheduler; built or taken), re-feeds
updates a crashed process left behind, optionally starts the outbox sender and the scheduler
and sets the webhook, and on shutdown awaits the updates still being processed before closing
anything. `create_app_from_env` is the
factory `jingong serve` hands to uvicorn (one call per worker process).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from bot.runtime import open_runtime
from core.config import Settings, get_settings
from core.db.uow import Services
from webhooks.errors import install_error_handlers
from webhooks.logging import configure_logging
from webhooks.middleware import AccessLogMiddleware, BodyLimitMiddleware
from webhooks.ratelimit import RateLimiter
from webhooks.routes import api_v1, health, telegram
from webhooks.updates import UpdateIntake

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

API_VERSION = "1.0.0"
WEBHOOK_LEASE = "webhook-setup"
WEBHOOK_LEASE_TTL = timedelta(seconds=30)  # workers starting together: one calls setWebhook
WEBHOOK_MAX_CONNECTIONS = 40  # Telegram's default; 1..100
ENV_SCHEDULER = "JINGONG_SERVE_SCHEDULER"  # "0": `jingong scheduler` runs on its own


def create_app(
    settings: Settings,
    *,
    services: Services | None = None,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
    setup_webhook: bool = False,
    run_sender: bool = False,
    run_scheduler: bool = False,
    update_concurrency: int = 64,
    freeze_startup_objects: bool = False,
) -> FastAPI:
    """The app. What is passed in (services, bot, dispatcher) is used and left open; what is
    built here is closed on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            await _start(app, stack)
            yield
        log.info("stopped")

    async def _start(app: FastAPI, stack: AsyncExitStack) -> None:
        redis: Redis | None = None
        if settings.redis_url:
            from redis.asyncio import Redis

            redis = Redis.from_url(settings.redis_url)
            stack.push_async_callback(redis.aclose)
        runtime = await stack.enter_async_context(
            open_runtime(settings, services=services, bot=bot, dispatcher=dispatcher, redis=redis)
        )
        svc, tg_bot, dp = runtime.services, runtime.bot, runtime.dispatcher
        sender = runtime.start_sender() if run_sender else None
        if run_scheduler:
            runtime.start_scheduler()
        startup_data: dict[str, Any] = {
            **dp.workflow_data,
            "dispatcher": dp,
            "bots": [tg_bot],
            "bot": tg_bot,
        }
        await dp.emit_startup(**startup_data)
        stack.push_async_callback(dp.emit_shutdown, **startup_data)
        intake = UpdateIntake(
            svc,
            tg_bot,
            dp,
            concurrency=update_concurrency,
            after_update=sender.wake if sender is not None else None,
        )
        stack.push_async_callback(intake.close)  # first to run on shutdown
        app.state.services = svc
        app.state.bot = tg_bot
        app.state.dispatcher = dp
        app.state.redis = redis
        app.state.intake = intake
        app.state.sender = sender
        await intake.recover()
        if setup_webhook:
            await set_webhook(settings, svc, tg_bot, dp)
        if freeze_startup_objects:
            # aiogram, pydantic and SQLAlchemy leave ~300k long-lived objects that every full
            # collection would walk again (~0.3 s each, stalling every update in the process);
            # frozen, the collector only looks at what the updates allocate
            gc.collect()
            gc.freeze()
        log.info("started")

    app = FastAPI(
        title="JinGong Dispatch (晋工调度) data API",
        version=API_VERSION,
        description="Imports from the real-name platform and read access for enterprises and "
        "bureaus. Authenticate with `Authorization: Bearer jg_…` (or `X-API-Key`); keys come "
        'from `jingong apikey create`. Errors are `{"error": key, "params": {…}}`.',
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.api_rate_per_second, settings.api_rate_burst)
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(api_v1.router)
    app.include_router(telegram.create_router(settings.webhook_path))
    if settings.api_cors_origins:  # closed unless origins are listed
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api_cors_origins,
            allow_methods=["GET", "PUT"],
            allow_headers=["Authorization", "X-API-Key", "Content-Type"],
            max_age=600,
        )
    app.add_middleware(
        BodyLimitMiddleware,
        limit=settings.api_max_body_bytes,
        per_path={settings.webhook_path: telegram.WEBHOOK_MAX_BODY},
    )
    app.add_middleware(AccessLogMiddleware)  # outermost: sees every answer, 413s included
    return app


async def set_webhook(settings: Settings, services: Services, bot: Bot, dp: Dispatcher) -> bool:
    """setWebhook with the secret and the update types the routers use; one worker does it
    (the "webhook-setup" lease), the others skip. True if this process set it."""
    from bot.scheduler import LeaderLease

    lease = LeaderLease(services, name=WEBHOOK_LEASE, ttl=WEBHOOK_LEASE_TTL)
    if not await lease.acquire():
        log.info("webhook: another process sets it")
        return False
    url = settings.webhook_base_url.rstrip("/") + settings.webhook_path
    allowed = dp.resolve_used_update_types()
    try:
        await bot.set_webhook(
            url=url,
            secret_token=settings.webhook_secret.get_secret_value(),
            allowed_updates=allowed,
            drop_pending_updates=False,
            max_connections=WEBHOOK_MAX_CONNECTIONS,
        )
    except Exception:
        # the webhook may well be set already; serving is still right
        log.exception("webhook: setWebhook failed")
        return False
    log.info("webhook set to %s for %s", url, ",".join(allowed))
    return True


def create_app_from_env() -> FastAPI:
    """uvicorn's factory (`jingong serve`): settings from the environment, JSON logs, the
    outbox sender, the scheduler (one leader across workers) and setWebhook."""
    get_settings.cache_clear()
    settings = get_settings()
    configure_logging(
        os.environ.get("LOG_LEVEL", "INFO").upper(),
        secrets=[
            settings.webhook_secret.get_secret_value(),
            settings.bot_token.get_secret_value(),
            settings.secret_key.get_secret_value(),
        ],
    )
    return create_app(
        settings,
        setup_webhook=bool(settings.webhook_base_url),
        run_sender=True,
        run_scheduler=os.environ.get(ENV_SCHEDULER, "1") != "0",
        freeze_startup_objects=True,
    )
