"""The outbox sender: claims due rows, renders them, sends them through the Bot, marks them.

Delivery is at-least-once: a row is marked `sent` only after Telegram accepted the message. A
crash between Telegram's answer and the mark (or a lost HTTP response) sends that one message
again after the claim deadline. One duplicate notification is a nuisance; a lost offer or
deal confirmation is a lost deal, and Telegram has no idempotency key that would let us do
better. Multi-part messages remember how many parts went out, so a retry sends only the rest.

Error policy (Telegram's answer → what happens to the row):
- 429 TelegramRetryAfter: the whole sender pauses `retry_after` (the flood limit is global),
  then the same message is retried, up to `max_flood_retries` times, then retried later.
- 403 TelegramForbiddenError: the recipient blocked the bot → account inactive, all their
  queued rows `blocked`, nothing more is sent to them (`my_chat_member` reactivates).
- TelegramMigrateToChat: the group became a supergroup → store the new chat id, retry.
- Network errors, 5xx, 401, undecodable answers (the Bot API is unreachable or broken): the row
  goes back to `pending` without counting an attempt, the cycle stops, the sender backs off
  exponentially (capped); when the API answers again everything queued goes out.
- Any other 4xx (TelegramBadRequest, TelegramNotFound, entity too large …): `dead` with the
  error, never retried. So is an unknown kind or a renderer that raises.

Throttling (Telegram Bots FAQ): ~30 messages/s overall, ~1/s per private chat, 20/min per
group; aiogram has none, so every call passes a global pacer and a per-chat aiolimiter bucket.
The global pacer counts the calls of the last second (a sliding window) instead of spacing
them by a fixed 1/30 s: with a one-slot bucket every call that left late (the event loop was
rendering, the database answered slowly) lost its slot for good, and the sender ran at
20–25 msg/s under load; the window lets the next calls make the delay up without ever
exceeding 30 in any second.

A cycle claims the next batch while the current one is still being delivered (as soon as
fewer recipients than `concurrency` are in flight), so the rate does not drop between
batches while the last recipients of a batch wait out their 1 s per-chat gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import BufferedInputFile, InputFile
from aiolimiter import AsyncLimiter
from sqlalchemy.exc import DBAPIError

from bot import notifier
from core.channels.sender import ChannelSender
from core.db.uow import Services
from core.services import outbox
from core.services.outbox import OutboxItem

log = logging.getLogger(__name__)

TranslateFn = Callable[..., str]
# the global window is this much longer than 1 s: calls leave the window ≤ 30 per second, but
# arrive with some milliseconds of jitter, and Telegram counts them as they arrive
WINDOW_MARGIN = 0.03  # t(key, locale, **params) -> str


def _default_translate(key: str, locale: str, **params: Any) -> str:
    from bot.i18n import t  # written by the i18n module; imported late to keep this loadable

    return t(key, locale, **params)


@dataclass(frozen=True)
class SenderConfig:
    """Rates are messages per second. At most `global_rate` calls leave in any 1 s; after a
    late call the next ones may follow `1 + global_burst` times faster until the window is
    full again (1: twice the rate, for a moment), so a delay is made up, not lost."""

    global_rate: float = 30.0
    global_burst: float = 1.0
    chat_rate: float = 1.0
    group_rate: float = 20 / 60  # groups and channels (negative chat ids): 20 per minute
    max_chat_limiters: int = 10_000
    batch_size: int = 100
    # recipients served at once: each chat takes ≤ 1 msg/s, so 30 msg/s needs > 30 in flight
    concurrency: int = 48
    poll_interval: float = 5.0
    cycle_budget: float = 20.0  # after this a cycle starts no new message and hands rows back
    claim_for: timedelta = timedelta(minutes=5)
    max_flood_retries: int = 5
    retry_later: timedelta = timedelta(seconds=30)  # a row whose flood retries ran out
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    stop_grace: float = 30.0


@dataclass
class DrainStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    blocked: int = 0
    released: int = 0
    outages: int = 0

    def add(self, other: DrainStats) -> None:
        for name in ("sent", "retried", "dead", "blocked", "released", "outages"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


class GlobalPacer:
    """Calls spaced `time_period / max_rate` apart on a schedule. A caller that was already
    waiting keeps its slot when the event loop wakes it late, so the next ones make the delay
    up (at least `min_gap` apart, at most `max_rate` in any `time_period` + `margin`: a sliding
    window; the margin absorbs the jitter between leaving here and arriving at Telegram)
    instead of losing it; a caller that comes after its slot (nobody was waiting) starts the
    schedule afresh, so an idle sender does not burst. First come, first served."""

    def __init__(
        self,
        max_rate: float,
        time_period: float = 1.0,
        *,
        min_gap: float = 0.0,
        margin: float = 0.0,
    ) -> None:
        self.max_rate = max_rate
        self.time_period = time_period
        self.min_gap = min_gap
        self.window = time_period + margin
        self.interval = time_period / max_rate
        self.max_lag = 5 * self.interval  # a longer stall is forgiven, not made up
        self._next = 0.0
        self._sent: deque[float] = deque(maxlen=max(1, int(max_rate)))
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        arrived = loop.time()
        async with self._lock:
            slot = max(self._next, arrived, loop.time() - self.max_lag)
            while True:
                now = loop.time()
                ready = slot
                if self._sent:
                    ready = max(ready, self._sent[-1] + self.min_gap)
                if len(self._sent) == self._sent.maxlen:
                    ready = max(ready, self._sent[0] + self.window)
                if ready <= now:
                    break
                await asyncio.sleep(ready - now)
            self._sent.append(loop.time())
            self._next = slot + self.interval


class _Outage(Exception):
    """The Bot API is unreachable or broken: not the message's fault."""


class _Blocked(Exception):
    pass


class _Dead(Exception):
    pass


class _RetryLater(Exception):
    def __init__(self, message: str, after: float) -> None:
        super().__init__(message)
        self.after = after


_OUTAGE_ERRORS: tuple[type[BaseException], ...] = (
    TelegramNetworkError,
    TelegramServerError,
    TelegramUnauthorizedError,
    ClientDecodeError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
)


@dataclass
class _Recipient:
    account_id: int
    chat_id: int


@dataclass
class _Cycle:
    deadline: float
    stop: asyncio.Event
    stats: DrainStats = field(default_factory=DrainStats)
    outage: str | None = None

    def halted(self, loop: asyncio.AbstractEventLoop) -> bool:
        return self.outage is not None or self.stop.is_set() or loop.time() >= self.deadline


class OutboxSender:
    """`await sender.drain()` once, or `sender.start()` … `await sender.stop()` as a service."""

    def __init__(
        self,
        bot: Bot,
        services: Services,
        *,
        renderers: notifier.Renderers | None = None,
        config: SenderConfig | None = None,
        translate: TranslateFn | None = None,
        channels: bool = True,
    ) -> None:
        """`renderers`: the outbox kinds this sender delivers (default: all of the bot's)."""
        if renderers is None:
            from bot.renderers import outbox_renderers

            renderers = outbox_renderers()
        self.bot = bot
        self.services = services
        self.renderers = renderers
        self.config = config or SenderConfig()
        self._translate = translate or _default_translate
        cfg = self.config
        self._global = GlobalPacer(
            cfg.global_rate,
            1.0,
            min_gap=1 / (cfg.global_rate * (1 + cfg.global_burst)),
            margin=WINDOW_MARGIN,
        )
        self._chats: OrderedDict[int, AsyncLimiter] = OrderedDict()
        # when each chat's last message left: the gap on the wire is what Telegram counts
        self._chat_sent_at: dict[int, float] = {}
        self._paused_until = 0.0
        self._backoff = 0.0
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # WeCom / DingTalk / e-mail copies run beside this sender, started and stopped with it
        self._with_channels = channels
        self.channels: ChannelSender | None = None

    # --- lifecycle ------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was queued: run a cycle now instead of at the next poll."""
        self._wake.set()
        if self.channels is not None:
            self.channels.wake()

    def start(self) -> asyncio.Task[None]:
        """Run in the background; the task is kept here and awaited by stop()."""
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self.run_forever(self._stop), name="outbox-sender")
        if self._with_channels and self.channels is None:
            self.channels = ChannelSender(self.services)
            self.channels.start()
        return self._task

    async def stop(self) -> None:
        """Finish the message in flight, hand the rest back, wait for the task."""
        self._stop.set()
        self._wake.set()
        channels, self.channels = self.channels, None
        # both senders finish their message in flight at the same time
        channels_stopped = asyncio.ensure_future(channels.stop()) if channels else None
        task, self._task = self._task, None
        try:
            if task is not None:
                await asyncio.wait_for(task, self.config.stop_grace)
        except TimeoutError:
            # rows left `sending` come back after their claim deadline
            log.warning("outbox sender did not stop in time; cancelled")
        finally:
            if channels_stopped is not None:
                await channels_stopped

    async def run_forever(self, stop_event: asyncio.Event | None = None) -> None:
        """Poll for due rows until `stop_event` is set; wake() short-cuts the poll interval."""
        stop = stop_event or self._stop
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            self._wake.clear()
            try:
                cycle = await self._run_cycle(loop.time() + self.config.cycle_budget, stop)
            except Exception:
                log.exception("outbox cycle failed")
                await self._sleep(self._next_backoff(), stop, wake=None)
                continue
            if cycle is None:
                await self._sleep(self.config.poll_interval, stop, wake=self._wake)
            elif cycle.outage is not None:
                await self._sleep(self._next_backoff(), stop, wake=None)
            # else: rows were due, more may be: go straight on

    async def drain(self, timeout: float = 30.0) -> DrainStats:  # noqa: ASYNC109 - a budget
        """Send everything due now (backing off through outages) within `timeout` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        total = DrainStats()
        stop = asyncio.Event()
        while loop.time() < end:
            cycle = await self._run_cycle(min(end, loop.time() + self.config.cycle_budget), stop)
            if cycle is None:
                break
            total.add(cycle.stats)
            if cycle.outage is not None:
                await asyncio.sleep(min(self._next_backoff(), max(0.0, end - loop.time())))
        return total

    async def _sleep(
        self, seconds: float, stop: asyncio.Event, *, wake: asyncio.Event | None
    ) -> None:
        waiters = [asyncio.ensure_future(stop.wait())]
        if wake is not None:
            waiters.append(asyncio.ensure_future(wake.wait()))
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await waiter

    def _next_backoff(self) -> float:
        cfg = self.config
        self._backoff = min(
            cfg.backoff_cap, self._backoff * 2 if self._backoff else cfg.backoff_base
        )
        return self._backoff

    # --- one cycle ------------------------------------------------------------------------

    async def _claim(self) -> list[OutboxItem]:
        async with self.services.uow() as uow:
            return await outbox.claim_due(
                uow, now=uow.now(), limit=self.config.batch_size, claim_for=self.config.claim_for
            )

    async def _run_cycle(self, deadline: float, stop: asyncio.Event) -> _Cycle | None:
        """Claim a batch and deliver it, claiming the next one whenever fewer recipients than
        `concurrency` are left in flight; None when nothing was due."""
        items = await self._claim()
        if not items:
            return None
        loop = asyncio.get_running_loop()
        cycle = _Cycle(deadline=deadline, stop=stop)
        gate = asyncio.Semaphore(self.config.concurrency)
        # each recipient's last task: a later batch's messages to it wait for the earlier ones
        last: dict[int, asyncio.Task[None]] = {}
        in_flight: set[asyncio.Task[None]] = set()
        room = asyncio.Event()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if len(in_flight) < self.config.concurrency:
                room.set()

        async with asyncio.TaskGroup() as group:
            while items:
                by_account: dict[int, list[OutboxItem]] = {}
                for item in items:  # oldest first, so each recipient gets its messages in order
                    by_account.setdefault(item.account_id, []).append(item)
                for account_id, account_items in by_account.items():
                    task = group.create_task(
                        self._deliver_account(
                            account_items, cycle, gate, after=last.get(account_id)
                        )
                    )
                    last[account_id] = task
                    in_flight.add(task)
                    task.add_done_callback(finished)
                # claim more while the last recipients of this batch wait out their gaps
                while len(in_flight) >= self.config.concurrency and not cycle.halted(loop):
                    room.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(room.wait(), 0.5)
                if cycle.halted(loop) or deadline - loop.time() < 1.0:
                    break
                items = await self._claim()
        return cycle

    async def _deliver_account(
        self,
        items: list[OutboxItem],
        cycle: _Cycle,
        gate: asyncio.Semaphore,
        *,
        after: asyncio.Task[None] | None = None,
    ) -> None:
        loop = asyncio.get_running_loop()
        if after is not None:
            await asyncio.wait([after])  # its outcome is its own; only the order matters here
        async with gate:
            first = items[0]
            recipient = _Recipient(first.account_id, first.chat_id or 0)
            for index, item in enumerate(items):
                if cycle.halted(loop):
                    await self._release([i.id for i in items[index:]], cycle, error=cycle.outage)
                    return
                try:
                    blocked = await self._deliver(item, recipient, cycle)
                except Exception:
                    # the database went away mid-item: the claim deadline brings the rows back
                    log.exception("outbox item %s failed unexpectedly", item.id)
                    cycle.outage = cycle.outage or "internal error"
                    continue
                if blocked:
                    return  # the rest were marked blocked with the account

    async def _release(self, ids: list[int], cycle: _Cycle, *, error: str | None) -> None:
        async with self.services.uow() as uow:
            await outbox.release(uow, ids, not_before=uow.now(), error=error)
        cycle.stats.released += len(ids)

    async def _deliver(self, item: OutboxItem, recipient: _Recipient, cycle: _Cycle) -> bool:
        """Deliver one row; True when the recipient turned out to have blocked the bot."""
        stats = cycle.stats
        if not item.active:
            await self._mark_blocked(item.account_id)
            stats.blocked += 1
            return True
        if item.chat_id is None:
            await self._mark_dead(item, "recipient has no chat")
            stats.dead += 1
            return False
        try:
            parts = await self._render(item)
        except DBAPIError:
            raise
        except notifier.UnknownKind:
            # most likely a renderer module missing from bot.renderers.outbox_renderers
            log.error("outbox %s: no renderer for kind %r", item.id, item.kind)
            await self._mark_dead(item, f"unknown kind {item.kind!r}")
            stats.dead += 1
            return False
        except Exception as exc:
            log.warning("outbox %s (%s) cannot be rendered: %r", item.id, item.kind, exc)
            await self._mark_dead(item, f"render: {exc!r}")
            stats.dead += 1
            return False

        if not parts:
            async with self.services.uow() as uow:
                await outbox.mark_sent(uow, item.id, uow.now())
            return False
        done = int(item.payload.get("_parts_sent", 0))
        try:
            for number in range(done, len(parts)):
                await self._send_part(recipient, parts[number])
                self._backoff = 0.0
                if number < len(parts) - 1:
                    async with self.services.uow() as uow:
                        await outbox.mark_progress(uow, item.id, number + 1)
        except _Blocked:
            await self._mark_blocked(item.account_id)
            stats.blocked += 1
            return True
        except _Dead as exc:
            log.warning("outbox %s (%s) rejected: %s", item.id, item.kind, exc)
            await self._mark_dead(item, str(exc))
            stats.dead += 1
            return False
        except _RetryLater as exc:
            async with self.services.uow() as uow:
                later = uow.now() + max(self.config.retry_later, timedelta(seconds=exc.after))
                await outbox.mark_retry(uow, item.id, not_before=later, error=str(exc))
            stats.retried += 1
            return False
        except _Outage as exc:
            cycle.outage = str(exc) or type(exc).__name__
            stats.outages += 1
            await self._release([item.id], cycle, error=cycle.outage)
            return False
        async with self.services.uow() as uow:
            await outbox.mark_sent(uow, item.id, uow.now())
        stats.sent += 1
        return False

    async def _render(self, item: OutboxItem) -> list[notifier.Part]:
        locale = item.locale

        def t(key: str, /, **params: Any) -> str:
            return self._translate(key, locale, **params)

        async with self.services.uow() as uow:
            messages = await self.renderers.render(item, uow, t)
        # closed before sending: on SQLite an open transaction would hold the write lock
        # an empty list means "nothing to say any more" (e.g. the posting closed meanwhile)
        return [part for message in messages for part in notifier.plan_parts(message)]

    async def _mark_dead(self, item: OutboxItem, error: str) -> None:
        async with self.services.uow() as uow:
            await outbox.mark_dead(uow, item.id, error=error)

    async def _mark_blocked(self, account_id: int) -> None:
        async with self.services.uow() as uow:
            await outbox.mark_recipient_blocked(uow, account_id)

    # --- one Bot API call -----------------------------------------------------------------

    async def _send_part(self, recipient: _Recipient, part: notifier.Part) -> None:
        """Send with throttling; 429 and chat migration handled here, the rest classified."""
        floods = 0
        migrations = 0
        while True:
            try:
                await self._call(recipient.chat_id, part)
                return
            except TelegramRetryAfter as exc:
                self._pause(exc.retry_after)
                floods += 1
                if floods > self.config.max_flood_retries:
                    raise _RetryLater(f"flood control: {exc.message}", exc.retry_after) from exc
            except TelegramMigrateToChat as exc:
                migrations += 1
                if migrations > 2:
                    raise _Dead(f"chat keeps migrating: {exc.message}") from exc
                async with self.services.uow() as uow:
                    await outbox.update_chat_id(uow, recipient.account_id, exc.migrate_to_chat_id)
                recipient.chat_id = exc.migrate_to_chat_id
            except TelegramForbiddenError as exc:
                raise _Blocked(exc.message) from exc
            except TelegramEntityTooLarge as exc:  # a TelegramNetworkError, but permanent
                raise _Dead(f"{type(exc).__name__}: {exc.message}") from exc
            except _OUTAGE_ERRORS as exc:
                raise _Outage(f"{type(exc).__name__}: {exc}") from exc
            except TelegramAPIError as exc:  # 400, 404, 409 and anything unexpected
                raise _Dead(f"{type(exc).__name__}: {exc.message}") from exc

    def _pause(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        self._paused_until = max(self._paused_until, loop.time() + seconds)

    async def _wait_pause(self) -> None:
        loop = asyncio.get_running_loop()
        # another 429 may push the end further while we sleep, hence the loop
        while (delay := self._paused_until - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            rate = self.config.chat_rate if chat_id > 0 else self.config.group_rate
            limiter = self._chats[chat_id] = AsyncLimiter(1, 1 / rate)
            while len(self._chats) > self.config.max_chat_limiters:
                evicted, _ = self._chats.popitem(last=False)  # least recently used
                self._chat_sent_at.pop(evicted, None)
        else:
            self._chats.move_to_end(chat_id)
        return limiter

    async def _chat_gap(self, chat_id: int) -> None:
        """Keep the real gap between two messages to one chat ≥ its interval."""
        loop = asyncio.get_running_loop()
        interval = 1 / (self.config.chat_rate if chat_id > 0 else self.config.group_rate)
        last = self._chat_sent_at.get(chat_id)
        if last is not None and (wait := last + interval - loop.time()) > 0:
            await asyncio.sleep(wait)

    async def _call(self, chat_id: int, part: notifier.Part) -> None:
        await self._wait_pause()
        await self._chat_limiter(chat_id).acquire()
        # the gap since this chat's last message on the wire, waited out before queuing for a
        # global slot: a slot taken and then slept through would be lost to every chat
        await self._chat_gap(chat_id)
        await self._global.acquire()
        await self._wait_pause()  # a 429 elsewhere may have come in while we queued
        await self._chat_gap(chat_id)  # only the global wait's reordering can make one here
        self._chat_sent_at[chat_id] = asyncio.get_running_loop().time()
        if part.kind == "text":
            await self.bot.send_message(
                chat_id=chat_id,
                text=part.text or "",
                parse_mode=part.parse_mode,
                reply_markup=part.reply_markup,
            )
        elif part.kind == "photo":
            await self.bot.send_photo(
                chat_id=chat_id,
                photo=_file(part.media, part.filename or "photo.jpg"),
                caption=part.text,
                parse_mode=part.parse_mode,
                reply_markup=part.reply_markup,
            )
        else:
            await self.bot.send_document(
                chat_id=chat_id,
                document=_file(part.media, part.filename or "document"),
                caption=part.text,
                parse_mode=part.parse_mode,
                reply_markup=part.reply_markup,
            )


def _file(media: str | bytes | None, filename: str) -> str | InputFile:
    if isinstance(media, bytes):
        return BufferedInputFile(media, filename=filename)
    if media is None:
        raise ValueError("media part without media")
    return media
