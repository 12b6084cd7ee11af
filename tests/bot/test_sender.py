"""The outbox sender against a scripted fake Bot API: throttling, 429, 403, outages, splitting."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, html
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import TelegramNetworkError
from aiogram.methods import SendDocument, SendMessage, SendPhoto, TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.notifier import (
    CAPTION_LIMIT,
    OutgoingMessage,
    Renderers,
    plan_parts,
    split_text,
    tg_len,
)
from bot.renderers import outbox_renderers
from bot.sender import OutboxSender, SenderConfig
from core.bootstrap import build_services
from core.config import Settings
from core.db.engine import create_engine
from core.db.models import Account, AuditLog, OutboxMessage
from core.db.uow import Services
from core.domain.timeutil import as_utc
from core.ports import FixedClock
from core.services import outbox
from core.services.outbox import MAX_ATTEMPTS
from tests.factories import make_account

# --- a fake Bot API -------------------------------------------------------------------------

OK = "ok"
NETWORK = "network"  # aiohttp could not connect (aiogram wraps it in TelegramNetworkError)
AIOHTTP = "aiohttp"  # a raw aiohttp error escaping the session


def api_error(status: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return status, body


FLOOD = api_error(429, "Too Many Requests: retry after 1", retry_after=1)
BLOCKED = api_error(403, "Forbidden: bot was blocked by the user")
BAD_GATEWAY = api_error(502, "Bad Gateway")


@dataclass
class Call:
    at: float
    chat_id: int
    method: TelegramMethod[Any]
    accepted: bool

    @property
    def text(self) -> str | None:
        return getattr(self.method, "text", None) or getattr(self.method, "caption", None)


class ScriptedSession(BaseSession):
    """Answers each request from a script (global, or per chat first); 'ok' once it runs out.

    Answers go through aiogram's own check_response, so errors are the exceptions a real
    Bot API reply would raise."""

    def __init__(self, script: list[Any] | None = None) -> None:
        super().__init__()
        self.script = list(script or [])
        self.per_chat: dict[int, list[Any]] = {}
        self.calls: list[Call] = []
        self._message_id = 0

    @property
    def accepted(self) -> list[Call]:
        return [c for c in self.calls if c.accepted]

    def texts(self, chat_id: int | None = None) -> list[str | None]:
        return [c.text for c in self.accepted if chat_id is None or c.chat_id == chat_id]

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        chat_id = int(getattr(method, "chat_id", 0))
        call = Call(time.monotonic(), chat_id, method, accepted=False)
        self.calls.append(call)
        queue = self.per_chat.get(chat_id) or self.script
        step = queue.pop(0) if queue else OK
        if step == NETWORK:
            raise TelegramNetworkError(method=method, message="ClientConnectorError: refused")
        if step == AIOHTTP:
            raise aiohttp.ClientConnectionError("connection reset")
        if step == OK:
            self._message_id += 1
            status, body = 200, {"ok": True, "result": self._message(method, chat_id)}
        else:
            status, body = step
        response = self.check_response(bot, method, status, json.dumps(body))
        call.accepted = True
        return response.result

    def _message(self, method: TelegramMethod[Any], chat_id: int) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._message_id,
            "date": 1_772_589_600,
            "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
        }
        if isinstance(method, SendMessage):
            message["text"] = method.text
        if isinstance(method, SendPhoto):
            message["photo"] = [{"file_id": "p", "file_unique_id": "p", "width": 1, "height": 1}]
        if isinstance(method, SendDocument):
            message["document"] = {"file_id": "d", "file_unique_id": "d"}
        if isinstance(method, SendPhoto | SendDocument) and method.caption:
            message["caption"] = method.caption
        return message

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError
        yield b""


# --- helpers --------------------------------------------------------------------------------


def fake_t(key: str, locale: str, **params: Any) -> str:
    """Stands in for bot.i18n.t: same contract (str params HTML-escaped), no catalogs needed."""
    shown = " ".join(
        f"{k}={html.quote(v) if isinstance(v, str) else v}" for k, v in sorted(params.items())
    )
    return f"[{locale}] {key}" + (f" {shown}" if shown else "")


TEST_RENDERERS = Renderers()  # the kinds only these tests queue

FAST = SenderConfig(
    global_rate=1000,
    chat_rate=1000,
    group_rate=1000,
    backoff_base=0.01,
    backoff_cap=0.05,
    poll_interval=0.05,
)


def make_sender(
    services: Services, session: ScriptedSession, config: SenderConfig = FAST
) -> OutboxSender:
    bot = Bot(token="42:TEST", session=session)
    renderers = Renderers.combine(outbox_renderers(), TEST_RENDERERS)
    return OutboxSender(bot, services, renderers=renderers, config=config, translate=fake_t)


async def add_account(services: Services, chat_id: int, *, locale: str = "zh") -> int:
    async with services.uow() as uow:
        account = await make_account(uow, telegram_user_id=chat_id, locale=locale)
        await uow.commit()
        return account.id


async def queue(
    services: Services,
    account_id: int,
    *keys: str,
    kind: str = "text",
    params: dict[str, Any] | None = None,
    delay: timedelta | None = None,
) -> list[int]:
    async with services.uow() as uow:
        for key in keys:
            await uow.notify(
                account_id=account_id,
                kind=kind,
                payload={"key": key, "params": params or {}},
                not_before=uow.now() + delay if delay else None,
            )
        await uow.session.flush()
        ids = list(
            await uow.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.account_id == account_id)
                .order_by(OutboxMessage.id)
            )
        )
        await uow.commit()
    return ids[-len(keys) :]


async def rows(services: Services) -> dict[int, Any]:
    """Plain rows (the unit of work expires ORM objects when it closes)."""
    table = OutboxMessage.__table__
    async with services.uow() as uow:
        found = await uow.session.execute(select(table).order_by(table.c.id))
        return {row.id: row for row in found.all()}


async def statuses(services: Services) -> list[str]:
    return [row.status for row in (await rows(services)).values()]


async def account(services: Services, account_id: int) -> Any:
    table = Account.__table__
    async with services.uow() as uow:
        return (await uow.session.execute(select(table).where(table.c.id == account_id))).one()


async def pending(services: Services) -> int:
    async with services.uow() as uow:
        return await outbox.pending_count(uow)


# --- delivery -------------------------------------------------------------------------------


async def test_due_messages_go_out_in_order_in_the_recipients_language(
    services: Services,
) -> None:
    zh = await add_account(services, 1001)
    en = await add_account(services, 1002, locale="en")
    await queue(services, zh, "n.one", "n.two")
    await queue(services, en, "n.three", params={"name": "<李&王>"})
    session = ScriptedSession()

    stats = await make_sender(services, session).drain(timeout=5)

    assert session.texts(1001) == ["[zh] n.one", "[zh] n.two"]
    assert session.texts(1002) == ["[en] n.three name=&lt;李&amp;王&gt;"]
    assert stats.sent == 3
    assert await statuses(services) == ["sent"] * 3
    assert all(row.sent_at is not None for row in (await rows(services)).values())
    assert await pending(services) == 0


async def test_a_flood_limit_waits_retry_after_then_sends_the_message_once(
    services: Services,
) -> None:
    acc = await add_account(services, 1001)
    await queue(services, acc, "n.one")
    session = ScriptedSession([FLOOD])

    await make_sender(services, session).drain(timeout=10)

    first, second = session.calls
    assert not first.accepted
    assert second.accepted
    assert second.at - first.at >= 0.95  # retry_after=1 s was honoured
    assert session.texts() == ["[zh] n.one"]
    assert await statuses(services) == ["sent"]


async def test_a_flood_limit_pauses_every_chat_not_just_the_one_hit(services: Services) -> None:
    a = await add_account(services, 1001)
    b = await add_account(services, 1002)
    await queue(services, a, "n.a1", "n.a2")
    await queue(services, b, "n.b1")
    session = ScriptedSession()
    session.per_chat[1001] = [FLOOD]

    await make_sender(services, session).drain(timeout=10)

    flood_at = next(c.at for c in session.calls if c.chat_id == 1001)
    assert sorted(session.texts()) == ["[zh] n.a1", "[zh] n.a2", "[zh] n.b1"]
    # nothing went out to anyone during the pause (chat 1002 may have gone out before it)
    assert all(c.at - flood_at >= 0.95 for c in session.calls if c.at > flood_at)
    assert len(session.calls) == 4


async def test_a_flood_limit_that_persists_leaves_the_row_for_later(
    services: Services, clock: FixedClock
) -> None:
    acc = await add_account(services, 1001)
    (row_id,) = await queue(services, acc, "n.one")
    session = ScriptedSession([FLOOD, FLOOD])
    config = replace(FAST, max_flood_retries=1)

    stats = await make_sender(services, session, config).drain(timeout=10)

    row = (await rows(services))[row_id]
    assert (row.status, row.attempts, stats.retried) == ("pending", 1, 1)
    assert as_utc(row.not_before) >= clock.now() + timedelta(seconds=30)
    assert session.accepted == []


async def test_a_recipient_who_blocked_the_bot_is_deactivated_and_gets_nothing_more(
    services: Services,
) -> None:
    blocker = await add_account(services, 1001)
    other = await add_account(services, 1002)
    await queue(services, blocker, "n.one", "n.two", "n.three")
    await queue(services, other, "n.four", "n.five")
    session = ScriptedSession()
    session.per_chat[1001] = [BLOCKED]

    stats = await make_sender(services, session).drain(timeout=5)

    assert len([c for c in session.calls if c.chat_id == 1001]) == 1
    assert session.texts(1002) == ["[zh] n.four", "[zh] n.five"]
    assert (await account(services, blocker)).active is False
    assert await statuses(services) == ["blocked"] * 3 + ["sent"] * 2
    assert stats.blocked == 1

    # later notifications for them are not sent either
    await queue(services, blocker, "n.six")
    await make_sender(services, session).drain(timeout=5)
    assert len([c for c in session.calls if c.chat_id == 1001]) == 1
    assert (await statuses(services))[-1] == "blocked"
    async with services.uow() as uow:
        audit = await uow.session.scalar(
            select(AuditLog.action).where(AuditLog.entity == "account")
        )
    assert audit == "account.bot_blocked"


async def test_a_group_that_became_a_supergroup_gets_its_new_chat_id_and_the_message(
    services: Services,
) -> None:
    acc = await add_account(services, 1001)
    await queue(services, acc, "n.one", "n.two")
    session = ScriptedSession()
    session.per_chat[1001] = [
        api_error(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-100777)
    ]

    await make_sender(services, session).drain(timeout=5)

    assert session.texts(-100777) == ["[zh] n.one", "[zh] n.two"]
    assert (await account(services, acc)).chat_id == -100777
    assert await statuses(services) == ["sent", "sent"]


async def test_a_bad_request_marks_the_row_dead_without_retrying(services: Services) -> None:
    acc = await add_account(services, 1001)
    bad, good = await queue(services, acc, "n.bad", "n.good")
    session = ScriptedSession([api_error(400, "Bad Request: can't parse entities")])

    stats = await make_sender(services, session).drain(timeout=5)
    await make_sender(services, session).drain(timeout=5)

    found = await rows(services)
    assert found[bad].status == "dead"
    assert "can't parse entities" in (found[bad].last_error or "")
    assert found[good].status == "sent"
    assert len(session.calls) == 2
    assert stats.dead == 1


@TEST_RENDERERS.register("test.broken")
def render_broken(item: Any, uow: Any, t: Any) -> OutgoingMessage:
    raise KeyError("posting_id")


async def test_an_unknown_kind_or_a_failing_renderer_marks_the_row_dead(
    services: Services,
) -> None:
    acc = await add_account(services, 1001)
    (unknown,) = await queue(services, acc, "x", kind="no.such.kind")
    (failing,) = await queue(services, acc, "y", kind="test.broken")
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=5)

    found = await rows(services)
    assert found[unknown].status == found[failing].status == "dead"
    assert "no.such.kind" in (found[unknown].last_error or "")
    assert "posting_id" in (found[failing].last_error or "")
    assert session.calls == []


async def test_an_inactive_or_chatless_recipient_is_skipped_without_a_request(
    services: Services,
) -> None:
    gone = await add_account(services, 1001)
    chatless = await add_account(services, 1002)
    async with services.uow() as uow:
        (await uow.session.get(Account, gone)).active = False  # type: ignore[union-attr]
        (await uow.session.get(Account, chatless)).chat_id = None  # type: ignore[union-attr]
        await uow.commit()
    await queue(services, gone, "n.one")
    await queue(services, chatless, "n.two")
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=5)

    assert session.calls == []
    assert await statuses(services) == ["blocked", "dead"]


# --- outages --------------------------------------------------------------------------------


async def test_an_unreachable_api_keeps_everything_pending_and_recovery_sends_each_once(
    services: Services,
) -> None:
    accounts = [await add_account(services, 1001 + n) for n in range(3)]
    for n, acc in enumerate(accounts):
        await queue(services, acc, f"n.{n}.a", f"n.{n}.b")
    # the Bot API is down for a while: refused, reset, 502 …, then answers again
    session = ScriptedSession([NETWORK, AIOHTTP, BAD_GATEWAY, NETWORK, NETWORK, BAD_GATEWAY])

    stats = await make_sender(services, session).drain(timeout=10)

    assert stats.outages >= 6
    assert sorted(session.texts()) == sorted(
        f"[zh] n.{n}.{x}" for n in range(3) for x in ("a", "b")
    )
    for n in range(3):  # still in order per recipient
        assert session.texts(1001 + n) == [f"[zh] n.{n}.a", f"[zh] n.{n}.b"]
    found = await rows(services)
    assert [r.status for r in found.values()] == ["sent"] * 6
    assert all(r.attempts == 0 for r in found.values())  # an outage is not the message's fault


async def test_an_outage_longer_than_a_drain_leaves_rows_pending_not_dead(
    services: Services,
) -> None:
    acc = await add_account(services, 1001)
    await queue(services, acc, "n.one", "n.two")
    session = ScriptedSession([NETWORK] * 1000)

    await make_sender(services, session).drain(timeout=0.5)

    found = list((await rows(services)).values())
    assert [r.status for r in found] == ["pending", "pending"]
    assert "ClientConnectorError" in (found[0].last_error or "")
    assert await pending(services) == 2

    session.script.clear()
    await make_sender(services, session).drain(timeout=5)
    assert session.texts() == ["[zh] n.one", "[zh] n.two"]


async def test_the_background_sender_rides_out_an_outage_and_is_woken_by_new_rows(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    acc = await add_account(services, 1001)
    session = ScriptedSession([NETWORK, BAD_GATEWAY, NETWORK])
    config = replace(FAST, poll_interval=30.0)
    sender = make_sender(services, session, config)
    first_poll_empty = asyncio.Event()
    claim_due = outbox.claim_due

    async def claim_and_tell(*args: Any, **kwargs: Any) -> Any:
        items = await claim_due(*args, **kwargs)
        if not items:
            first_poll_empty.set()
        return items

    monkeypatch.setattr(outbox, "claim_due", claim_and_tell)
    task = sender.start()
    try:
        # the first poll found nothing; the next is 30 s away, so only wake() can send these
        await asyncio.wait_for(first_poll_empty.wait(), 10)
        await queue(services, acc, "n.one", "n.two", "n.three")
        sender.wake()
        await wait_for(lambda: len(session.accepted) == 3, seconds=5)
    finally:
        await sender.stop()
    assert task.done()
    assert not task.cancelled()
    assert session.texts() == ["[zh] n.one", "[zh] n.two", "[zh] n.three"]
    assert await pending(services) == 0


async def wait_for(condition: Callable[[], bool], *, seconds: float) -> None:
    end = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.01)


# --- timing: quiet hours, crashed senders, throttling ---------------------------------------


async def test_a_message_for_quiet_hours_waits_until_it_is_due(
    services: Services, clock: FixedClock
) -> None:
    acc = await add_account(services, 1001)
    await queue(services, acc, "n.morning", delay=timedelta(hours=8))
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=5)
    assert session.calls == []
    assert await pending(services) == 1

    clock.advance(hours=8)
    await make_sender(services, session).drain(timeout=5)
    assert session.texts() == ["[zh] n.morning"]


async def test_rows_claimed_by_a_sender_that_died_come_back_after_the_claim_deadline(
    services: Services, clock: FixedClock
) -> None:
    acc = await add_account(services, 1001)
    (row_id,) = await queue(services, acc, "n.one")
    async with services.uow() as uow:  # a sender claims the row, then its process dies
        claimed = await outbox.claim_due(uow, now=clock.now(), limit=10)
    assert [item.id for item in claimed] == [row_id]
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=5)
    assert session.calls == []  # still claimed

    clock.advance(minutes=6)
    await make_sender(services, session).drain(timeout=5)
    assert session.texts() == ["[zh] n.one"]
    row = (await rows(services))[row_id]
    assert (row.status, row.attempts) == ("sent", 1)


async def test_messages_to_one_chat_are_spaced_by_the_per_chat_limit(services: Services) -> None:
    busy = await add_account(services, 1001)
    others = [await add_account(services, 2001 + n) for n in range(4)]
    await queue(services, busy, *(f"n.{n}" for n in range(5)))
    for n, acc in enumerate(others):
        await queue(services, acc, f"o.{n}")
    session = ScriptedSession()
    config = replace(FAST, chat_rate=10.0)  # production: 1/s

    await make_sender(services, session, config).drain(timeout=10)

    times = [c.at for c in session.calls if c.chat_id == 1001]
    assert session.texts(1001) == [f"[zh] n.{n}" for n in range(5)]
    assert all(b - a >= 0.08 for a, b in itertools.pairwise(times))
    assert times[-1] - times[0] >= 0.38
    # the other chats did not queue behind the busy one
    assert all(c.at < times[-1] for c in session.calls if c.chat_id != 1001)


async def test_one_chats_messages_keep_their_gap_even_when_the_global_limit_delays_them(
    services: Services,
) -> None:
    """Regression: the chat slot was taken before the global wait, so two messages to one chat
    could leave 0.3 s apart at 1/s."""
    busy = await add_account(services, 1001)
    others = [await add_account(services, 2001 + n) for n in range(6)]
    await queue(services, busy, *(f"n.{n}" for n in range(4)))
    for n, acc in enumerate(others):
        await queue(services, acc, f"o.{n}")
    session = ScriptedSession()
    config = replace(FAST, chat_rate=5.0, global_rate=8.0)

    await make_sender(services, session, config).drain(timeout=10)

    times = [c.at for c in session.calls if c.chat_id == 1001]
    assert len(times) == 4
    assert all(b - a >= 0.19 for a, b in itertools.pairwise(times))


async def test_all_chats_together_stay_under_the_global_limit(services: Services) -> None:
    accounts = [await add_account(services, 1001 + n) for n in range(10)]
    for n, acc in enumerate(accounts):
        await queue(services, acc, f"n.{n}")
    session = ScriptedSession()
    config = replace(FAST, global_rate=20.0)  # production: 30/s

    await make_sender(services, session, config).drain(timeout=10)

    times = sorted(c.at for c in session.calls)
    assert len(times) == 10
    assert times[-1] - times[0] >= 0.9 * 9 / 20  # 10 sends at 20/s span ≥ 0.45 s


def test_the_default_limits_follow_telegrams_faq() -> None:
    config = SenderConfig()
    assert (config.global_rate, config.chat_rate) == (30.0, 1.0)
    assert config.group_rate == pytest.approx(20 / 60)
    sender = OutboxSender(Bot(token="42:TEST", session=ScriptedSession()), None, config=config)  # type: ignore[arg-type]
    one_chat, group = sender._chat_limiter(1001), sender._chat_limiter(-100123)
    assert (one_chat.max_rate, one_chat.time_period) == (1, 1.0)
    assert group.time_period == pytest.approx(3.0)
    assert sender._global.max_rate / sender._global.time_period == pytest.approx(30.0)


def test_per_chat_limiters_are_bounded() -> None:
    config = SenderConfig(max_chat_limiters=3)
    sender = OutboxSender(Bot(token="42:TEST", session=ScriptedSession()), None, config=config)  # type: ignore[arg-type]
    first = sender._chat_limiter(1)
    for chat in (2, 3, 1, 4):
        sender._chat_limiter(chat)
    assert list(sender._chats) == [3, 1, 4]  # 2 was least recently used
    assert sender._chat_limiter(1) is first


# --- concurrency ----------------------------------------------------------------------------


async def test_senders_running_at_once_never_send_the_same_row_twice(
    services: Services, engine: AsyncEngine, test_settings: Settings, clock: FixedClock
) -> None:
    accounts = [await add_account(services, 1001 + n) for n in range(12)]
    for n, acc in enumerate(accounts):
        await queue(services, acc, *(f"n.{n}.{m}" for m in range(4)))
    session = ScriptedSession()
    config = replace(FAST, batch_size=3)
    # like separate processes: each sender has its own engine (connection pool)
    url = engine.url.render_as_string(hide_password=False)
    engines = [create_engine(url=url) for _ in range(4)]
    try:
        senders = [
            make_sender(build_services(test_settings, engine=e, clock=clock)[1], session, config)
            for e in engines
        ]
        results = await asyncio.gather(*(s.drain(timeout=20) for s in senders))
    finally:
        for e in engines:
            await e.dispose()

    texts = session.texts()
    assert len(texts) == 48
    assert len(set(texts)) == 48
    assert await statuses(services) == ["sent"] * 48
    assert sum(1 for r in results if r.sent) >= 2  # the work really was shared


# --- splitting and media --------------------------------------------------------------------


def test_a_10000_character_text_is_split_at_line_boundaries_into_three() -> None:
    lines = [f"{n:04d} " + "工" * 94 for n in range(100)]  # 100 lines of 99 chars
    text = "\n".join(lines)
    assert len(text) == 9999

    parts = split_text(text)

    assert len(parts) == 3
    assert all(tg_len(p) <= 4096 for p in parts)
    assert [line for p in parts for line in p.split("\n")] == lines


def test_a_single_overlong_line_is_cut_at_a_space_and_emoji_count_double() -> None:
    words = " ".join(["字" * 9] * 1000)  # one line, 9999 chars, spaces every 10
    parts = split_text(words, limit=4096)
    assert all(tg_len(p) <= 4096 for p in parts)
    assert " ".join(parts) == words

    emoji = "😀" * 3000  # 6000 UTF-16 units
    halves = split_text(emoji)
    assert [tg_len(p) for p in halves] == [4096, 1904]
    assert split_text("  \n ") == []


def test_a_caption_that_does_not_fit_becomes_text_before_the_photo() -> None:
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="ok", callback_data="x")]]
    )
    short = plan_parts(OutgoingMessage("小图", reply_markup=keyboard, photo="file-id"))
    assert [(p.kind, p.text, p.reply_markup) for p in short] == [("photo", "小图", keyboard)]

    long = plan_parts(
        OutgoingMessage("长" * (CAPTION_LIMIT + 1), reply_markup=keyboard, photo=b"png")
    )
    assert [(p.kind, p.reply_markup) for p in long] == [("text", None), ("photo", keyboard)]
    assert long[1].text is None

    with pytest.raises(ValueError, match="nothing to send"):
        plan_parts(OutgoingMessage(""))


@TEST_RENDERERS.register("test.digest")
def render_long_digest(item: Any, uow: Any, t: Any) -> OutgoingMessage:
    lines = [f"{t('digest.line', n=n)} " + "工" * 90 for n in range(100)]
    return OutgoingMessage("\n".join(lines))


@TEST_RENDERERS.register("test.report")
def render_report(item: Any, uow: Any, t: Any) -> list[OutgoingMessage]:
    return [
        OutgoingMessage(t("report.title")),
        OutgoingMessage("表格", document=b"xlsx-bytes", filename="report.xlsx"),
    ]


async def test_a_long_digest_arrives_as_three_messages(services: Services) -> None:
    acc = await add_account(services, 1001)
    await queue(services, acc, "digest", kind="test.digest")
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=5)

    texts = session.texts()
    assert len(texts) == 3
    joined = "\n".join(t or "" for t in texts).split("\n")
    assert [line.split(" ")[2] for line in joined] == [f"n={n}" for n in range(100)]
    assert await statuses(services) == ["sent"]


async def test_a_failure_mid_digest_resends_only_the_missing_parts(services: Services) -> None:
    acc = await add_account(services, 1001)
    await queue(services, acc, "digest", kind="test.digest")
    session = ScriptedSession([OK, NETWORK, BAD_GATEWAY])

    await make_sender(services, session).drain(timeout=5)

    texts = session.texts()
    assert len(texts) == 3
    assert len(set(texts)) == 3
    assert await statuses(services) == ["sent"]


async def test_a_renderer_may_send_a_document_with_a_caption(services: Services) -> None:
    acc = await add_account(services, 1001, locale="en")
    await queue(services, acc, "r", kind="test.report")
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=5)

    kinds = [type(c.method).__name__ for c in session.accepted]
    assert kinds == ["SendMessage", "SendDocument"]
    assert session.texts() == ["[en] report.title", "表格"]


# --- the outbox service on its own ----------------------------------------------------------


async def test_a_row_that_keeps_failing_is_dead_after_max_attempts(
    services: Services, clock: FixedClock
) -> None:
    acc = await add_account(services, 1001)
    (row_id,) = await queue(services, acc, "n.one")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        async with services.uow() as uow:
            status = await outbox.mark_retry(
                uow, row_id, not_before=clock.now(), error=f"try {attempt} " + "x" * 300
            )
        assert status == ("dead" if attempt == MAX_ATTEMPTS else "pending")
    row = (await rows(services))[row_id]
    assert (row.status, row.attempts) == ("dead", MAX_ATTEMPTS)
    assert len(row.last_error or "") == 200


async def test_claims_are_oldest_first_and_carry_the_recipients_chat_and_locale(
    services: Services, clock: FixedClock
) -> None:
    zh = await add_account(services, 1001)
    en = await add_account(services, 1002, locale="en")
    first = await queue(services, en, "n.1")
    second = await queue(services, zh, "n.2", "n.3")
    await queue(services, zh, "n.later", delay=timedelta(minutes=1))

    async with services.uow() as uow:
        items = await outbox.claim_due(uow, now=clock.now(), limit=2)
    async with services.uow() as uow:
        rest = await outbox.claim_due(uow, now=clock.now(), limit=10)

    assert [i.id for i in items] == [*first, second[0]]
    assert [(i.chat_id, i.locale, i.active) for i in items] == [
        (1002, "en", True),
        (1001, "zh", True),
    ]
    assert [i.id for i in rest] == [second[1]]
    assert await statuses(services) == ["sending"] * 3 + ["pending"]
    assert await pending(services) == 4


async def test_without_a_translate_function_the_bots_catalogs_are_used(
    services: Services,
) -> None:
    from bot.i18n import t

    acc = await add_account(services, 1001, locale="en")
    await queue(services, acc, "error.not_found")
    session = ScriptedSession()

    await OutboxSender(Bot(token="42:TEST", session=session), services, config=FAST).drain(5)

    assert session.texts() == [t("error.not_found", "en")]


async def test_the_next_batch_goes_out_while_a_recipient_of_the_last_waits_out_its_gap(
    services: Services,
) -> None:
    """Regression: a cycle delivered its whole batch before claiming the next, so the rate
    fell to a trickle while the batch's busiest recipient waited 1 s between messages."""
    busy = await add_account(services, 1001)
    others = [await add_account(services, 2001 + n) for n in range(4)]
    await queue(services, busy, *(f"n.{n}" for n in range(3)))
    for n, acc in enumerate(others):
        await queue(services, acc, f"o.{n}")
    session = ScriptedSession()
    config = replace(FAST, chat_rate=5.0, batch_size=3)  # the first batch: the busy chat's three

    await make_sender(services, session, config).drain(timeout=10)

    assert session.texts(1001) == [f"[zh] n.{n}" for n in range(3)]
    last_busy = max(c.at for c in session.calls if c.chat_id == 1001)
    assert all(c.at < last_busy for c in session.calls if c.chat_id != 1001)
