"""The one place that builds the running bot: services, Bot, Dispatcher, outbox sender (with
its renderers) and the scheduler. Every entry point uses it: `jingong run` and `serve`
(webhooks), `jingong scheduler` (bot.scheduler) and `jingong demo` (bot.demo.app).

    async with open_runtime(settings, services=services) as runtime:
        runtime.start_sender()
        runtime.start_scheduler()
        await runtime.dispatcher.start_polling(runtime.bot, ...)

What `open_runtime` builds it closes on exit; what is passed in (services, bot, dispatcher) is
used and left open. Started parts stop in reverse order: scheduler, sender, bot session,
engine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession

from bot.factory import create_bot, create_dispatcher
from bot.notifier import Renderers
from bot.renderers import outbox_renderers
from bot.scheduler import JingongScheduler, build_scheduler
from bot.sender import OutboxSender, SenderConfig
from core.bootstrap import build_services
from core.config import Settings
from core.db.uow import Services
from core.ports import Clock

if TYPE_CHECKING:
    from redis.asyncio import Redis


@dataclass
class Runtime:
    """The bot's running parts. The Dispatcher is built on first use (the scheduler process
    never needs one); the sender and the scheduler run once started."""

    settings: Settings
    services: Services
    bot: Bot
    sender: OutboxSender
    renderers: Renderers
    redis: Redis | None
    _stack: AsyncExitStack = field(repr=False)
    _dispatcher: Dispatcher | None = None
    scheduler: JingongScheduler | None = None
    _sender_started: bool = False

    @property
    def dispatcher(self) -> Dispatcher:
        if self._dispatcher is None:
            # its FSM storage is closed by Dispatcher.emit_shutdown / start_polling
            self._dispatcher = create_dispatcher(
                self.settings, services=self.services, redis=self.redis
            )
        return self._dispatcher

    def start_sender(self) -> OutboxSender:
        """Start delivering the outbox; stopped (drained) when the runtime closes."""
        self.sender.start()
        self._sender_started = True
        self._stack.push_async_callback(self.sender.stop)
        return self.sender

    def build_scheduler(self, **intervals: Any) -> JingongScheduler:
        """The scheduler over these services (not started). It wakes this process's sender
        if that runs; otherwise another process delivers what the jobs queue."""
        sender = self.sender if self._sender_started else None
        return build_scheduler(
            self.services, sender=sender, clock=self.services.clock, **intervals
        )

    def start_scheduler(self, *, stop_grace: float | None = None) -> JingongScheduler:
        """Build and start the scheduler; stopped when the runtime closes."""
        scheduler = self.build_scheduler()
        scheduler.start()
        self.scheduler = scheduler
        if stop_grace is None:
            self._stack.push_async_callback(scheduler.stop)
        else:
            self._stack.push_async_callback(scheduler.stop, stop_grace)
        return scheduler


@asynccontextmanager
async def open_runtime(
    settings: Settings,
    *,
    services: Services | None = None,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
    redis: Redis | None = None,
    bot_session: BaseSession | None = None,
    sender_config: SenderConfig | None = None,
    clock: Clock | None = None,
) -> AsyncIterator[Runtime]:
    """Build the runtime; on exit stop what was started and close what was built here."""
    async with AsyncExitStack() as stack:
        if services is None:
            engine, services = build_services(settings, clock=clock)
            stack.push_async_callback(engine.dispose)
        if bot is None:
            bot = create_bot(settings, session=bot_session)
            stack.push_async_callback(bot.session.close)
        renderers = outbox_renderers()
        sender = OutboxSender(bot, services, renderers=renderers, config=sender_config)
        yield Runtime(
            settings=settings,
            services=services,
            bot=bot,
            sender=sender,
            renderers=renderers,
            redis=redis,
            _stack=stack,
            _dispatcher=dispatcher,
        )
