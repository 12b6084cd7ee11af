"""Digests through the real OutboxSender against a scripted Bot API: what arrives, 429, 403.

The session is tests/bot/test_sender.py's ScriptedSession: it answers like Telegram (through
aiogram's own response check) and records every request.
"""

from __future__ import annotations

import io
import time as stopwatch
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import openpyxl
import pytest
from aiogram import Bot
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import BufferedInputFile
from sqlalchemy import select

from bot.renderers.digest import clear_cache
from bot.sender import OutboxSender
from core.db.models import Account, DigestDelivery, OutboxMessage
from core.db.uow import Services
from core.domain.enums import Role
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from core.services.digest_schedule import enqueue_due_digests, reconcile_deliveries
from tests.bot.test_sender import BLOCKED, FAST, FLOOD, OK, ScriptedSession, fake_t
from tests.factories import make_account, make_enterprise, make_project, make_shortage

DAY = date(2026, 3, 4)
CHAT = 9001
OTHER_CHAT = 9002


@pytest.fixture(autouse=True)
def fresh_digest_cache() -> Iterator[None]:
    # the renderers cache digests per (region, day) in the process; each test has its own DB
    clear_cache()
    yield
    clear_cache()


def sh(hour: int, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=SHANGHAI).astimezone(UTC)


async def add_regulator(services: Services, chat: int, region: str = "140100") -> int:
    async with services.uow() as uow:
        account = await make_account(
            uow, role=Role.REGULATOR, region_code=region, telegram_user_id=chat
        )
        await uow.commit()
        return account.id


async def queue_digests(services: Services, clock: FixedClock, *chats: int) -> list[int]:
    """A small market, regulators of 太原市 with the given chats, and the 09:00 tick."""
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西五建集团", type="general_contractor")
        project = await make_project(uow, ent, name="太原南站项目")
        await make_shortage(uow, project, created_at=sh(9, DAY - timedelta(days=1)))
        await uow.commit()
    accounts = [await add_regulator(services, chat) for chat in chats]
    clock.at = sh(9)
    async with services.uow() as uow:
        queued = await enqueue_due_digests(uow, clock.now())
    assert sorted(item.account_id for item in queued) == sorted(accounts)
    return accounts


def make_sender(services: Services, session: ScriptedSession) -> OutboxSender:
    return OutboxSender(
        Bot(token="42:TEST", session=session), services, config=FAST, translate=fake_t
    )


async def outbox(services: Services, account_id: int) -> list[tuple[str, str]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(OutboxMessage.kind, OutboxMessage.status)
            .where(OutboxMessage.account_id == account_id)
            .order_by(OutboxMessage.id)
        )
        return [(kind, status) for kind, status in rows]


async def delivery_status(services: Services, account_id: int) -> str:
    async with services.uow() as uow:
        await reconcile_deliveries(uow)
    async with services.uow() as uow:
        status = await uow.session.scalar(
            select(DigestDelivery.status).where(DigestDelivery.account_id == account_id)
        )
        return str(status)


def methods(session: ScriptedSession, chat: int, *, accepted: bool = True) -> list[str]:
    calls = session.accepted if accepted else session.calls
    return [type(c.method).__name__ for c in calls if c.chat_id == chat]


# --- what arrives ---------------------------------------------------------------------------


async def test_a_digest_arrives_as_messages_then_a_photo_then_a_workbook(
    services: Services, clock: FixedClock
) -> None:
    [account] = await queue_digests(services, clock, CHAT)
    session = ScriptedSession()

    stats = await make_sender(services, session).drain(timeout=30)

    sent = methods(session, CHAT)
    texts = sent.count("SendMessage")
    assert texts >= 1
    assert sent == ["SendMessage"] * texts + ["SendPhoto", "SendDocument"]
    assert stats.sent == texts + 2
    calls = session.accepted
    first = calls[0].method
    assert isinstance(first, SendMessage)
    assert "太原市" in first.text
    assert first.parse_mode == "HTML"

    photo = calls[-2].method
    assert isinstance(photo, SendPhoto)
    assert isinstance(photo.photo, BufferedInputFile)
    assert photo.photo.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "太原市" in (photo.caption or "")
    assert len(photo.caption or "") <= 1024

    document = calls[-1].method
    assert isinstance(document, SendDocument)
    assert isinstance(document.document, BufferedInputFile)
    assert document.document.filename == "晋工调度_太原市_2026-03-04.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(document.document.data))
    assert book.sheetnames[0] == "概况"

    assert {status for _, status in await outbox(services, account)} == {"sent"}
    assert await delivery_status(services, account) == "sent"


async def test_the_weekly_company_digest_arrives_as_text(
    services: Services, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        labour = await make_enterprise(uow, name="临汾劳务公司", type="labor_service")
        account = await make_account(
            uow, role=Role.DISPATCHER, enterprise=labour, telegram_user_id=CHAT
        )
        await uow.commit()
    clock.at = sh(9, date(2026, 3, 2))  # a Monday
    async with services.uow() as uow:
        assert [d.kind for d in await enqueue_due_digests(uow, clock.now())] == ["weekly"]
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=10)

    assert set(methods(session, CHAT)) == {"SendMessage"}
    assert "临汾劳务公司" in (session.accepted[0].text or "")
    assert await delivery_status(services, account.id) == "sent"


# --- 429 and 403 ----------------------------------------------------------------------------


async def test_a_flood_wait_delays_the_digest_and_every_part_still_arrives_once(
    services: Services, clock: FixedClock
) -> None:
    [account] = await queue_digests(services, clock, CHAT)
    parts = len(await outbox(services, account))
    session = ScriptedSession([FLOOD])  # the first call: 429, retry after 1 s

    started = stopwatch.monotonic()
    stats = await make_sender(services, session).drain(timeout=30)
    elapsed = stopwatch.monotonic() - started

    assert elapsed >= 1.0  # waited retry_after before sending again
    assert len(session.calls) == parts + 1  # the refused call, then each part once
    assert len(session.accepted) == parts
    assert methods(session, CHAT)[-2:] == ["SendPhoto", "SendDocument"]
    assert stats.sent == parts
    assert stats.retried == 0
    assert await delivery_status(services, account) == "sent"


async def test_a_blocked_bot_mid_digest_deactivates_the_regulator_and_stops_the_rest(
    services: Services, clock: FixedClock
) -> None:
    account, other = await queue_digests(services, clock, CHAT, OTHER_CHAT)
    texts = sum(1 for kind, _ in await outbox(services, account) if kind == "digest_text")
    session = ScriptedSession()
    session.per_chat[CHAT] = [OK] * texts + [BLOCKED]  # blocked when the chart goes out

    await make_sender(services, session).drain(timeout=30)

    assert methods(session, CHAT, accepted=False) == ["SendMessage"] * texts + ["SendPhoto"]
    assert "SendDocument" not in methods(session, CHAT, accepted=False)  # never tried
    assert await outbox(services, account) == [("digest_text", "sent")] * texts + [
        ("digest_chart", "blocked"),
        ("digest_xlsx", "blocked"),
    ]
    async with services.uow() as uow:
        assert (await uow.session.get(Account, account)).active is False  # type: ignore[union-attr]
    assert await delivery_status(services, account) == "blocked"
    # the other regulator is not affected
    assert methods(session, OTHER_CHAT)[-2:] == ["SendPhoto", "SendDocument"]
    assert await delivery_status(services, other) == "sent"

    # an inactive regulator is not queued the next morning
    clock.at = sh(9, DAY + timedelta(days=1))
    async with services.uow() as uow:
        assert [d.account_id for d in await enqueue_due_digests(uow, clock.now())] == [other]


async def test_a_regulator_deactivated_after_queueing_gets_nothing(
    services: Services, clock: FixedClock
) -> None:
    [account] = await queue_digests(services, clock, CHAT)
    async with services.uow() as uow:
        row = await uow.session.get(Account, account)
        assert row is not None
        row.active = False
        await uow.commit()
    session = ScriptedSession()

    await make_sender(services, session).drain(timeout=10)

    assert session.calls == []
    assert {status for _, status in await outbox(services, account)} == {"blocked"}
    assert await delivery_status(services, account) == "blocked"


async def test_charts_and_workbooks_rendered_in_worker_processes_arrive_alike(
    services: Services, clock: FixedClock, db_kind: str
) -> None:
    if db_kind != "sqlite":
        pytest.skip("the render pool does not touch the database")
    from bot.renderers.digest import start_render_pool, stop_render_pool

    [account] = await queue_digests(services, clock, CHAT)
    session = ScriptedSession()
    await start_render_pool(1)  # what `jingong scheduler` does (one process per CPU)
    try:
        await make_sender(services, session).drain(timeout=60)
    finally:
        await stop_render_pool()

    photo, document = session.accepted[-2].method, session.accepted[-1].method
    assert isinstance(photo, SendPhoto)
    assert isinstance(photo.photo, BufferedInputFile)
    assert photo.photo.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert isinstance(document, SendDocument)
    assert isinstance(document.document, BufferedInputFile)
    assert openpyxl.load_workbook(io.BytesIO(document.document.data)).sheetnames[0] == "概况"
    assert await delivery_status(services, account) == "sent"
