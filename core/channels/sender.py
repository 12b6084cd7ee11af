"""The channel sender: delivers channel_outbox rows to WeCom and DingTalk robots and by e-mail.

Runs beside the Telegram outbox sender (bot.sender.OutboxSender starts and stops it).
At-least-once like the Telegram sender: a row is `sent` after the platform said ok (errcode 0,
SMTP accepted); multi-part messages remember how many parts went out.

What each answer does to the row:
- ok: next part, then `sent`.
- invalid key / token: WeCom errcode 93000 (invalid webhook url); DingTalk 300001 (token is
  not exist) and 310000 (security check failed: keyword, sign or IP): the channel is marked
  broken, its queue `broken`, the account told in Telegram once.
- rate limited: WeCom 45009 (api freq out of limit), DingTalk 410100 (sent too fast; both
  allow 20 messages a minute per robot, DingTalk then blocks for 10 minutes): back to pending
  without counting an attempt, due after the block.
- timeouts, connection errors, HTTP 5xx, errcode -1 (system busy), SMTP down: retried with
  exponential backoff (capped), at most `max_attempts` times, then `dead`.
- anything else (a 4xx, another errcode, an address the mail server refuses for good): `dead`.
No URL, key, token, secret or address is logged: log lines name the channel by id and masked
label, and httpx's own request log is redacted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlsplit

import httpx
from aiolimiter import AsyncLimiter
from sqlalchemy.exc import DBAPIError

from core.channels import queue
from core.channels.kinds import DIGEST, WEEKLY
from core.channels.queue import ChannelItem
from core.channels.render import Content, RobotPart, build_content, email_message, robot_parts
from core.channels.targets import (
    DINGTALK_SEND_PATH,
    WECOM_SEND_PATH,
    WECOM_UPLOAD_PATH,
    ChannelKind,
)
from core.db.uow import Services

log = logging.getLogger(__name__)

WECOM_INVALID_KEY = frozenset({93000})
WECOM_RATE_LIMITED = frozenset({45009})
DINGTALK_INVALID_TOKEN = frozenset({300001, 310000})
DINGTALK_RATE_LIMITED = frozenset({410100})
BUSY = frozenset({-1})  # both platforms: system busy, try again
RENDERED_KEPT = 64  # digest copies kept rendered: one per region, day and language

_SECRET_QUERY = re.compile(r"(key|access_token|sign|timestamp)=[^&\s\"']+", re.IGNORECASE)


def redact(text: str) -> str:
    """Masks robot credentials in a URL or message: key=…, access_token=…, sign=…."""
    return _SECRET_QUERY.sub(lambda m: f"{m.group(1)}=***", text)


class _RedactFilter(logging.Filter):
    """httpx logs every request URL at INFO; the URL of a robot carries its key."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_REDACT = _RedactFilter()


@dataclass(frozen=True)
class ChannelSenderConfig:
    robot_per_minute: int = 20  # both platforms' documented limit per robot
    batch_size: int = 50
    concurrency: int = 8  # channels served at once
    poll_interval: float = 5.0
    claim_for: timedelta = timedelta(minutes=10)
    timeout: float = 15.0
    max_attempts: int = 10
    backoff_base: float = 30.0  # seconds; doubles per attempt
    backoff_cap: float = 1800.0
    rate_limited_for: dict[str, float] | None = None  # per kind; default below
    no_smtp_wait: float = 300.0
    stop_grace: float = 30.0

    def blocked_for(self, kind: ChannelKind) -> float:
        """How long a channel waits after a rate-limit answer (e-mail: for SMTP_URL)."""
        if kind is ChannelKind.EMAIL:
            return self.no_smtp_wait
        table = self.rate_limited_for or {"wecom": 60.0, "dingtalk": 600.0}
        return table.get(kind.value, 60.0)


@dataclass(frozen=True)
class SmtpSettings:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: upgrade if the server offers STARTTLS

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings | None:
        """smtp://user:pass@host:587?starttls=true, smtps://user:pass@host:465; '' → None."""
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("SMTP_URL must look like smtp://user:pass@host:587 or smtps://…")
        flag = parse_qs(parts.query).get("starttls", [""])[0].lower()
        start_tls = {"true": True, "1": True, "false": False, "0": False}.get(flag)
        use_tls = parts.scheme == "smtps"
        from urllib.parse import unquote

        return cls(
            hostname=parts.hostname,
            port=parts.port or (465 if use_tls else 587),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            use_tls=use_tls,
            start_tls=None if use_tls else start_tls,
        )


class _Broken(Exception):
    pass


class _RateLimited(Exception):
    pass


class _Transient(Exception):
    pass


class _Dead(Exception):
    pass


@dataclass
class ChannelStats:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    broken: int = 0
    deferred: int = 0


class ChannelSender:
    """`await sender.drain()` once, or `start()` … `await stop()` as a service."""

    def __init__(
        self,
        services: Services,
        *,
        config: ChannelSenderConfig | None = None,
        http: httpx.AsyncClient | None = None,
        smtp: SmtpSettings | None = None,
    ) -> None:
        self.services = services
        self.config = config or ChannelSenderConfig()
        settings = services.settings
        self._own_http = http is None
        self.http = http or httpx.AsyncClient(timeout=self.config.timeout)
        self.smtp = smtp or SmtpSettings.from_url(settings.smtp_url.get_secret_value())
        self.smtp_from = settings.smtp_from
        self._bases = {
            ChannelKind.WECOM: settings.wecom_api_base.rstrip("/"),
            ChannelKind.DINGTALK: settings.dingtalk_api_base.rstrip("/"),
        }
        self._limiters: dict[int, AsyncLimiter] = {}
        # a digest's copy is the same for every channel of every regulator of the region:
        # rendered once (chart and workbook take most of a second), then reused
        self._rendered: OrderedDict[tuple[str, str, str, str], asyncio.Future[Content | None]]
        self._rendered = OrderedDict()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        logging.getLogger("httpx").addFilter(_REDACT)

    # --- lifecycle ------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> asyncio.Task[None]:
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self._run(), name="channel-sender")
        return self._task

    async def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, self.config.stop_grace)
            except TimeoutError:
                log.warning("channel sender did not stop in time; cancelled")
        await self.aclose()

    async def aclose(self) -> None:
        if self._own_http:
            await self.http.aclose()

    async def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                stats = await self._cycle(None)
            except Exception:
                log.exception("channel cycle failed")
                stats = None
            if stats is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.poll_interval)

    async def drain(
        self,
        timeout: float = 30.0,  # noqa: ASYNC109 - a budget, not a cancel scope
        *,
        only_ids: list[int] | None = None,
    ) -> ChannelStats:
        """Deliver everything due now (or just `only_ids`) within `timeout` seconds."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        total = ChannelStats()
        while loop.time() < end:
            stats = await asyncio.wait_for(self._cycle(only_ids), max(0.1, end - loop.time()))
            if stats is None:
                break
            for name in ("sent", "retried", "dead", "broken", "deferred"):
                setattr(total, name, getattr(total, name) + getattr(stats, name))
        return total

    # --- one cycle ------------------------------------------------------------------------

    async def _cycle(self, only_ids: list[int] | None) -> ChannelStats | None:
        async with self.services.uow() as uow:
            items = await queue.claim_due(
                uow,
                now=uow.now(),
                limit=self.config.batch_size,
                claim_for=self.config.claim_for,
                only_ids=only_ids,
            )
        if not items:
            return None
        by_channel: dict[int, list[ChannelItem]] = {}
        for item in items:
            by_channel.setdefault(item.channel_id, []).append(item)
        stats = ChannelStats()
        gate = asyncio.Semaphore(self.config.concurrency)

        async def serve(channel_items: list[ChannelItem]) -> None:
            async with gate:
                for index, item in enumerate(channel_items):
                    if self._stop.is_set():  # shutting down: hand the rest back at once
                        for rest in channel_items[index:]:
                            async with self.services.uow() as uow:
                                await queue.release(
                                    uow, rest.id, not_before=uow.now(), error="sender stopped"
                                )
                        return
                    outcome = await self._deliver(item, stats)
                    if outcome in ("broken", "deferred"):
                        # the rest of this channel's rows wait as well
                        for rest in channel_items[index + 1 :]:
                            await self._defer(rest, outcome, stats)
                        return

        async with asyncio.TaskGroup() as group:
            for channel_items in by_channel.values():
                group.create_task(serve(channel_items))
        return stats

    async def _defer(self, item: ChannelItem, why: str, stats: ChannelStats) -> None:
        async with self.services.uow() as uow:
            if why == "broken":
                await queue.mark_dead(uow, item.id, error="channel broken")
                return
            later = uow.now() + timedelta(seconds=self.config.blocked_for(item.channel_kind))
            await queue.release(uow, item.id, not_before=later, error="rate limited")
        stats.deferred += 1

    async def _deliver(self, item: ChannelItem, stats: ChannelStats) -> str:
        """Deliver one row; returns sent | retried | dead | broken | deferred."""
        try:
            content = await self._content(item)
        except DBAPIError:
            # the database, not the message: the claim deadline brings the row back
            log.exception("channel row %s: database error while rendering", item.id)
            return "retried"
        except Exception as exc:
            log.warning("channel row %s (%s) cannot be rendered: %r", item.id, item.kind, exc)
            await self._dead(item, f"render: {type(exc).__name__}", stats)
            return "dead"
        try:
            if content is not None:
                if item.channel_kind is ChannelKind.EMAIL:
                    await self._send_email(item, content)
                else:
                    await self._send_robot(
                        item, robot_parts(item.channel_kind, content, item.locale)
                    )
        except _Broken as exc:
            async with self.services.uow() as uow:
                await queue.mark_channel_broken(uow, item, error=str(exc))
            log.warning("channel %s (%s) is broken: %s", item.channel_id, item.label, exc)
            stats.broken += 1
            return "broken"
        except _RateLimited as exc:
            async with self.services.uow() as uow:
                later = uow.now() + timedelta(seconds=self.config.blocked_for(item.channel_kind))
                await queue.release(uow, item.id, not_before=later, error=str(exc))
            log.info("channel %s rate limited: %s", item.channel_id, exc)
            stats.deferred += 1
            return "deferred"
        except _Transient as exc:
            delay = min(
                self.config.backoff_cap, self.config.backoff_base * 2 ** min(item.attempts, 20)
            )
            async with self.services.uow() as uow:
                status = await queue.mark_retry(
                    uow,
                    item.id,
                    not_before=uow.now() + timedelta(seconds=delay),
                    error=str(exc),
                    max_attempts=self.config.max_attempts,
                )
            log.info("channel %s row %s: %s (%s)", item.channel_id, item.id, exc, status)
            if status == queue.DEAD:
                stats.dead += 1
                return "dead"
            stats.retried += 1
            return "retried"
        except _Dead as exc:
            log.warning("channel %s row %s rejected: %s", item.channel_id, item.id, exc)
            await self._dead(item, str(exc), stats)
            return "dead"
        async with self.services.uow() as uow:
            await queue.mark_sent(uow, item)
        stats.sent += 1
        return "sent"

    async def _content(self, item: ChannelItem) -> Content | None:
        if item.kind not in (DIGEST, WEEKLY):
            async with self.services.uow() as uow:
                return await build_content(uow, item.kind, item.payload, item.locale)
        payload = item.payload
        key = (
            item.kind,
            str(payload.get("region_code") or payload.get("enterprise_id")),
            str(payload.get("day")),
            str(payload.get("locale") or item.locale),
        )
        future = self._rendered.get(key)
        if future is None or (future.done() and future.exception() is not None):
            future = asyncio.get_running_loop().create_future()
            self._rendered[key] = future
            while len(self._rendered) > RENDERED_KEPT:
                self._rendered.popitem(last=False)
            try:
                async with self.services.uow() as uow:
                    future.set_result(await build_content(uow, item.kind, payload, item.locale))
            except BaseException as exc:
                future.set_exception(exc)
                self._rendered.pop(key, None)
                raise
        # channels served at once wait for the one rendering instead of each starting one
        return await asyncio.shield(future)

    async def _dead(self, item: ChannelItem, error: str, stats: ChannelStats) -> None:
        async with self.services.uow() as uow:
            await queue.mark_dead(uow, item.id, error=error)
        stats.dead += 1

    # --- robots ---------------------------------------------------------------------------

    def _limiter(self, channel_id: int) -> AsyncLimiter:
        limiter = self._limiters.get(channel_id)
        if limiter is None:
            limiter = self._limiters[channel_id] = AsyncLimiter(self.config.robot_per_minute, 60)
        return limiter

    def _robot_url(self, item: ChannelItem, path: str, **extra: str) -> str:
        """The stored robot URL's credential on the configured API host (tests, the demo)."""
        query = urlsplit(item.url).query
        url = f"{self._bases[item.channel_kind]}{path}?{query}"
        for name, value in extra.items():
            url += f"&{name}={quote_plus(value)}"
        return url

    def _dingtalk_url(self, item: ChannelItem) -> str:
        if not item.secret:
            return self._robot_url(item, DINGTALK_SEND_PATH)
        # 加签: HMAC-SHA256 over "timestamp\nsecret" keyed with the secret, base64, url-quoted
        timestamp = str(round(time.time() * 1000))
        digest = hmac.new(
            item.secret.encode(), f"{timestamp}\n{item.secret}".encode(), hashlib.sha256
        ).digest()
        sign = base64.b64encode(digest).decode()
        return self._robot_url(item, DINGTALK_SEND_PATH, timestamp=timestamp, sign=sign)

    async def _post(
        self, item: ChannelItem, url: str, *, json: Any = None, files: Any = None
    ) -> dict[str, Any]:
        try:
            response = await self.http.post(url, json=json, files=files)
        except httpx.TimeoutException as exc:
            raise _Transient(f"timeout ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Transient(f"unreachable ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise _Dead(f"HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise _Transient("answer is not JSON") from None
        code = int(answer.get("errcode", 0))
        message = redact(str(answer.get("errmsg", "")))[:120]
        if code == 0:
            return dict(answer)
        what = f"errcode {code}: {message}"
        wecom = item.channel_kind is ChannelKind.WECOM
        if code in (WECOM_INVALID_KEY if wecom else DINGTALK_INVALID_TOKEN):
            raise _Broken(what)
        if code in (WECOM_RATE_LIMITED if wecom else DINGTALK_RATE_LIMITED):
            raise _RateLimited(what)
        if code in BUSY:
            raise _Transient(what)
        raise _Dead(what)

    async def _send_robot(self, item: ChannelItem, parts: list[RobotPart]) -> None:
        done = int(item.payload.get("_parts_sent", 0))
        for number in range(done, len(parts)):
            part = parts[number]
            body = part.body
            if part.upload is not None:
                filename, data = part.upload
                answer = await self._post(
                    item,
                    self._robot_url(item, WECOM_UPLOAD_PATH, type="file"),
                    files={"media": (filename, data, "application/octet-stream")},
                )
                body = {"msgtype": "file", "file": {"media_id": str(answer["media_id"])}}
            await self._limiter(item.channel_id).acquire()
            url = (
                self._robot_url(item, WECOM_SEND_PATH)
                if item.channel_kind is ChannelKind.WECOM
                else self._dingtalk_url(item)
            )
            await self._post(item, url, json=body)
            if number < len(parts) - 1:
                async with self.services.uow() as uow:
                    await queue.mark_progress(uow, item.id, number + 1)

    # --- e-mail ---------------------------------------------------------------------------

    async def _send_email(self, item: ChannelItem, content: Any) -> None:
        import aiosmtplib

        if self.smtp is None:
            # not the message's fault: it waits until SMTP_URL is set (and the process restarts)
            raise _RateLimited("SMTP_URL is not set")
        message = email_message(content, item.locale, sender=self.smtp_from, to=item.url)
        smtp = self.smtp
        try:
            await aiosmtplib.send(
                message,
                hostname=smtp.hostname,
                port=smtp.port,
                username=smtp.username,
                password=smtp.password,
                use_tls=smtp.use_tls,
                start_tls=smtp.start_tls,
                timeout=self.config.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            if codes and all(code >= 500 for code in codes):
                raise _Dead(f"recipient refused ({codes[0]})") from None
            raise _Transient("recipient refused for now") from None
        except aiosmtplib.SMTPResponseException as exc:
            if 500 <= exc.code < 600 and not isinstance(exc, aiosmtplib.SMTPAuthenticationError):
                raise _Dead(f"SMTP {exc.code}") from None
            raise _Transient(f"SMTP {exc.code}") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise _Transient(f"SMTP unreachable ({type(exc).__name__})") from None
