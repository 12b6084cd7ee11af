"""When digests are queued: time travel over one morning, restarts, double runs, send-now.

The clock is moved by hand (FixedClock); ticks are called as the scheduler would call them.
Recipients: 早 07:00 太原市, 中 08:00 小店区, 晚 09:30 山西省, 疆 08:00 Asia/Urumqi (= 10:00 in
Shanghai), plus an inactive 08:00 regulator and one without a Telegram chat, who get nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import Account, DigestDelivery, FsmRecord, OutboxMessage, ProcessedUpdate
from core.db.uow import Services
from core.domain.enums import Role
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from core.services import digest_schedule
from core.services.digest_schedule import (
    EnqueuedDigest,
    enqueue_due_digests,
    reconcile_deliveries,
    run_maintenance,
    send_now,
)
from tests.factories import make_account, make_enterprise, make_project, make_shortage

DAY = date(2026, 3, 4)  # a Wednesday
MONDAY = date(2026, 3, 2)


def sh(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    """A Shanghai wall-clock time as aware UTC."""
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI).astimezone(UTC)


@dataclass(frozen=True)
class Morning:
    early: int  # 07:00 太原市
    mid: int  # 08:00 小店区
    late: int  # 09:30 山西省
    urumqi: int  # 08:00 Asia/Urumqi
    inactive: int
    no_chat: int


async def add_regulator(
    services: Services,
    tg: int | None,
    region: str | None,
    at: time,
    *,
    tz: str = "Asia/Shanghai",
    active: bool = True,
    locale: str = "zh",
    role: Role = Role.REGULATOR,
    enterprise_id: int | None = None,
) -> int:
    async with services.uow() as uow:
        account = await make_account(
            uow, role=role, region_code=region, telegram_user_id=tg, locale=locale
        )
        account.digest_time = at
        account.timezone = tz
        account.active = active
        account.enterprise_id = enterprise_id
        await uow.commit()
        return account.id


async def morning(services: Services) -> Morning:
    async with services.uow() as uow:
        ent = await make_enterprise(uow, name="山西五建集团", type="general_contractor")
        project = await make_project(uow, ent, name="太原南站项目")
        await make_shortage(uow, project, created_at=sh(9, day=date(2026, 3, 3)))
        await uow.commit()
    return Morning(
        early=await add_regulator(services, 9001, "140100", time(7, 0)),
        mid=await add_regulator(services, 9002, "140105", time(8, 0)),
        late=await add_regulator(services, 9003, "140000", time(9, 30)),
        urumqi=await add_regulator(services, 9004, "140100", time(8, 0), tz="Asia/Urumqi"),
        inactive=await add_regulator(services, 9005, "140100", time(8, 0), active=False),
        no_chat=await add_regulator(services, None, "140100", time(8, 0)),
    )


async def tick(services: Services, clock: FixedClock) -> list[int]:
    """One scheduler tick; the accounts it queued a digest for."""
    async with services.uow() as uow:
        return [item.account_id for item in await enqueue_due_digests(uow, clock.now())]


async def deliveries(services: Services) -> list[tuple[int, str, date, str]]:
    async with services.uow() as uow:
        rows = await uow.session.execute(
            select(
                DigestDelivery.account_id,
                DigestDelivery.kind,
                DigestDelivery.day,
                DigestDelivery.status,
            ).order_by(DigestDelivery.account_id, DigestDelivery.day)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def outbox_rows(services: Services, account_id: int | None = None) -> list[Any]:
    table = OutboxMessage.__table__
    async with services.uow() as uow:
        stmt = select(table).order_by(table.c.id)
        if account_id is not None:
            stmt = stmt.where(table.c.account_id == account_id)
        return list((await uow.session.execute(stmt)).all())


# --- one morning ----------------------------------------------------------------------------


async def test_each_regulator_gets_the_digest_at_their_own_local_time(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)

    clock.at = sh(6, 59)
    assert await tick(services, clock) == []
    clock.at = sh(7, 0)
    assert await tick(services, clock) == [m.early]
    clock.at = sh(7, 59)
    assert await tick(services, clock) == []  # the 07:00 one is not sent again
    clock.at = sh(8, 0)
    assert await tick(services, clock) == [m.mid]  # not the inactive one, not the chatless one
    clock.at = sh(9, 29)
    assert await tick(services, clock) == []
    clock.at = sh(9, 30)
    assert await tick(services, clock) == [m.late]
    clock.at = sh(9, 59)  # 07:59 in Urumqi
    assert await tick(services, clock) == []
    clock.at = sh(10, 0)  # 08:00 in Urumqi
    assert await tick(services, clock) == [m.urumqi]
    clock.at = sh(23, 59)
    assert await tick(services, clock) == []

    assert await deliveries(services) == [
        (account, "daily", DAY, "queued") for account in (m.early, m.mid, m.late, m.urumqi)
    ]
    recipients = {row.account_id for row in await outbox_rows(services)}
    assert recipients == {m.early, m.mid, m.late, m.urumqi}


async def test_the_next_morning_brings_the_next_digest(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)
    clock.at = sh(7, 30)
    assert await tick(services, clock) == [m.early]
    clock.at = sh(7, 30, day=DAY + timedelta(days=1))
    assert await tick(services, clock) == [m.early]
    days = [day for account, _, day, _ in await deliveries(services) if account == m.early]
    assert days == [DAY, DAY + timedelta(days=1)]


async def test_a_restart_across_eight_sends_the_missed_digests_once_at_the_first_tick(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)
    clock.at = sh(7, 50)
    assert await tick(services, clock) == [m.early]
    # the process is down from 07:50 to 08:20: no tick at 08:00
    clock.at = sh(8, 20)
    assert await tick(services, clock) == [m.mid]
    clock.at = sh(8, 21)
    assert await tick(services, clock) == []
    assert [row[0] for row in await deliveries(services)] == [m.early, m.mid]


async def test_a_digest_missed_for_a_whole_local_day_is_not_sent_afterwards(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)
    # down from before 07:00 until past midnight in Shanghai
    clock.at = sh(0, 5, day=DAY + timedelta(days=1))
    # …where it is still 22:05 of the 4th in Urumqi: that regulator's day has not ended
    assert await tick(services, clock) == [m.urumqi]
    clock.at = sh(7, 0, day=DAY + timedelta(days=1))
    assert await tick(services, clock) == [m.early]
    assert await deliveries(services) == [
        (m.early, "daily", DAY + timedelta(days=1), "queued"),
        (m.urumqi, "daily", DAY, "queued"),
    ]


async def test_two_ticks_at_once_queue_one_digest_and_one_set_of_messages_per_recipient(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)
    clock.at = sh(10, 0)

    async def run() -> list[EnqueuedDigest]:
        async with services.uow() as uow:  # each its own session, as two processes would
            return await enqueue_due_digests(uow, clock.now())

    first, second = await asyncio.gather(run(), run())

    winners = sorted(item.account_id for item in first + second)
    assert winners == sorted([m.early, m.mid, m.late, m.urumqi])
    assert len(await deliveries(services)) == 4
    rows = await outbox_rows(services)
    keys = [row.dedup_key for row in rows]
    assert len(keys) == len(set(keys))
    parts = {item.account_id: item.parts for item in first + second}
    for account in (m.early, m.mid, m.late, m.urumqi):
        assert sum(1 for row in rows if row.account_id == account) == parts[account]
    assert await tick(services, clock) == []  # and a third one later finds nothing to do


async def test_a_digest_is_its_text_chunks_then_the_chart_then_the_workbook(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)
    clock.at = sh(7, 0)
    await tick(services, clock)

    rows = await outbox_rows(services, m.early)
    kinds = [row.kind for row in rows]
    texts = kinds.count("digest_text")
    assert texts >= 1
    assert kinds == ["digest_text"] * texts + ["digest_chart", "digest_xlsx"]
    assert [row.dedup_key for row in rows] == [
        *(f"digest:{m.early}:2026-03-04:text:{i}" for i in range(texts)),
        f"digest:{m.early}:2026-03-04:chart",
        f"digest:{m.early}:2026-03-04:xlsx",
    ]
    first = rows[0].payload
    assert "太原市" in first["html"]
    assert len(first["html"]) <= 4096
    assert "缺 4" in first["html"]  # the shortage posted yesterday in 小店区
    ref = {"region_code": "140100", "day": "2026-03-04", "locale": "zh"}
    assert rows[-2].payload == ref
    assert rows[-1].payload == ref


async def test_the_text_is_in_the_recipients_language(
    services: Services, clock: FixedClock
) -> None:
    await morning(services)
    english = await add_regulator(services, 9100, "140100", time(7, 0), locale="en")
    clock.at = sh(7, 0)
    await tick(services, clock)
    first = (await outbox_rows(services, english))[0].payload
    assert "Taiyuan" in first["html"]
    assert first["locale"] == "en"


async def test_one_failing_recipient_does_not_block_the_others(
    services: Services, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    m = await morning(services)
    real = digest_schedule.build_digest

    async def flaky(uow: Any, actor: Any, region: str, day: date) -> Any:
        if region == "140105":
            raise RuntimeError("boom")
        return await real(uow, actor, region, day)

    monkeypatch.setattr(digest_schedule, "build_digest", flaky)
    clock.at = sh(10, 0)
    assert sorted(await tick(services, clock)) == sorted([m.early, m.late, m.urumqi])
    assert m.mid not in {row.account_id for row in await outbox_rows(services)}

    monkeypatch.setattr(digest_schedule, "build_digest", real)
    assert await tick(services, clock) == [m.mid]  # retried at the next tick


# --- send-now -------------------------------------------------------------------------------


async def test_send_now_queues_for_exactly_the_regions_regulators_once_a_day(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)
    clock.at = sh(6, 0)  # before anybody's digest time

    async with services.uow() as uow:
        first = await send_now(uow, "1401", day=DAY)
    # 太原市 only (not 小店区 or the province), active and with a chat
    assert [(item.account_id, item.already) for item in first] == [
        (m.early, False),
        (m.urumqi, False),
    ]
    assert all(item.parts >= 3 for item in first)

    async with services.uow() as uow:
        again = await send_now(uow, "140100", day=DAY)
    assert [(item.account_id, item.already, item.parts) for item in again] == [
        (m.early, True, 0),
        (m.urumqi, True, 0),
    ]
    clock.at = sh(10, 0)
    assert sorted(await tick(services, clock)) == sorted([m.mid, m.late])  # no second copy
    assert len(await deliveries(services)) == 4


def test_cli_send_now_says_what_it_queued_and_what_was_already_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.bootstrap import build_services
    from core.config import Settings
    from core.db.models import Base
    from core.reference.loader import load_reference_data
    from webhooks.main import main

    db = tmp_path / "cli.db"
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.setenv("SECRET_KEY", "cli-test-secret-0123456789abcdef")

    async def prepare() -> int:
        engine, services = build_services(Settings(), clock=FixedClock(sh(6, 0)))
        async with engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        async with services.uow() as uow:
            await load_reference_data(uow.session)
            await uow.commit()
        account = await add_regulator(services, 9001, "140100", time(8, 0))
        await engine.dispose()
        return account

    account = asyncio.run(prepare())
    argv = ["digest", "send-now", "--region", "1401", "--date", "2026-03-04"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"account {account}: digest of 2026-03-04 queued" in out
    assert main(argv) == 0
    assert f"account {account}: digest of 2026-03-04 already sent" in capsys.readouterr().out
    assert main(["digest", "send-now", "--region", "140105"]) == 0
    assert "no active regulator" in capsys.readouterr().out


# --- weekly ---------------------------------------------------------------------------------


async def test_labour_companies_get_a_weekly_digest_on_monday_at_their_digest_time(
    services: Services, clock: FixedClock
) -> None:
    async with services.uow() as uow:
        labour = await make_enterprise(uow, name="临汾劳务公司", type="labor_service")
        contractor = await make_enterprise(uow, name="总包公司", type="general_contractor")
        await uow.commit()
    company = await add_regulator(
        services, 9201, None, time(8, 0), role=Role.DISPATCHER, enterprise_id=labour.id
    )
    await add_regulator(
        services, 9202, None, time(8, 0), role=Role.DISPATCHER, enterprise_id=contractor.id
    )

    clock.at = sh(7, 59, day=MONDAY)
    assert await tick(services, clock) == []
    clock.at = sh(8, 0, day=MONDAY)
    assert await tick(services, clock) == [company]
    clock.at = sh(9, 0, day=MONDAY)
    assert await tick(services, clock) == []
    clock.at = sh(8, 0, day=MONDAY + timedelta(days=1))  # Tuesday: nothing
    assert await tick(services, clock) == []

    assert await deliveries(services) == [(company, "weekly", MONDAY, "queued")]
    rows = await outbox_rows(services, company)
    assert {row.kind for row in rows} == {"weekly"}
    assert rows[0].dedup_key == f"weekly:{company}:2026-03-02:text:0"
    assert "临汾劳务公司" in rows[0].payload["html"]
    assert "2026-02-23" in rows[0].payload["html"]  # the week before that Monday


# --- delivery records -----------------------------------------------------------------------


async def _set_outbox_status(services: Services, account_id: int, status: str) -> None:
    async with services.uow() as uow:
        for row in await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.account_id == account_id)
        ):
            row.status = status
        await uow.commit()


async def test_the_delivery_record_follows_its_messages(
    services: Services, clock: FixedClock
) -> None:
    m = await morning(services)
    clock.at = sh(8, 0)
    await tick(services, clock)

    async with services.uow() as uow:
        assert await reconcile_deliveries(uow) == {}  # nothing sent yet
    await _set_outbox_status(services, m.early, "sent")
    await _set_outbox_status(services, m.mid, "blocked")
    async with services.uow() as uow:
        assert await reconcile_deliveries(uow) == {"sent": 1, "blocked": 1}

    assert await deliveries(services) == [
        (m.early, "daily", DAY, "sent"),
        (m.mid, "daily", DAY, "blocked"),
    ]


# --- maintenance ----------------------------------------------------------------------------


async def test_maintenance_expires_postings_and_purges_old_update_ids_and_fsm_records(
    services: Services, clock: FixedClock
) -> None:
    now = clock.now()
    async with services.uow() as uow:
        ent = await make_enterprise(uow)
        project = await make_project(uow, ent)
        stale = await make_shortage(uow, project, expires_at=now - timedelta(minutes=1))
        fresh = await make_shortage(uow, project)
        uow.session.add_all(
            [
                ProcessedUpdate(update_id=1, received_at=now - timedelta(hours=49)),
                ProcessedUpdate(update_id=2, received_at=now - timedelta(hours=47)),
                FsmRecord(key="old", state=None, data={}, updated_at=now - timedelta(days=31)),
                FsmRecord(key="new", state="x", data={}, updated_at=now - timedelta(days=29)),
            ]
        )
        await uow.commit()
        stale_id, fresh_id = stale.id, fresh.id

    report = await run_maintenance(services, now)

    assert (report.expired_postings, report.purged_updates, report.purged_fsm) == (1, 1, 1)
    assert report.failed == ()
    async with services.uow() as uow:
        from core.db.models import ShortagePosting

        statuses = dict(
            (await uow.session.execute(select(ShortagePosting.id, ShortagePosting.status))).all()
        )
        assert statuses == {stale_id: "expired", fresh_id: "open"}
        assert list(await uow.session.scalars(select(ProcessedUpdate.update_id))) == [2]
        assert list(await uow.session.scalars(select(FsmRecord.key))) == ["new"]


async def test_an_account_without_a_valid_time_zone_falls_back_to_shanghai(
    services: Services, clock: FixedClock
) -> None:
    account = await add_regulator(services, 9301, "140100", time(8, 0), tz="Mars/Olympus")
    clock.at = sh(8, 0)
    assert await tick(services, clock) == [account]
    async with services.uow() as uow:
        assert (await uow.session.get(Account, account)) is not None
