"""The monthly wage questions, queued and sent: does the sender hold Telegram's 30 msg/s bound?

    .venv/bin/python -m bench.wage_prompts                      # 3,000 dispatches, SQLite
    .venv/bin/python -m bench.wage_prompts --reuse              # same database, queue + send again
    .venv/bin/python -m bench.wage_prompts --dispatches 1000 --recipients 300 --latency-ms 40

1. Seeds `core.seed.seed_demo(scale="small")` into a SQLite file (kept with --reuse) and adds
   N accepted deals that started last month (each with 1–4 workers on site, some no-shows),
   spread over R recipient accounts with a chat: each deal's receiving and labor side are
   engaged accounts drawn from that pool, as a province's foremen and dispatchers would be.
2. Times `core.services.wages.queue_wage_prompts` on the 5th at 09:00 (one wage period and two
   outbox rows, payer and labor side, per dispatch that had days on site).
3. Drains those rows through the production OutboxSender with the scheduler's settings
   (`bot.scheduler.sender_config`: 30 msg/s overall, 1/s per chat) and the real renderers,
   against the stub Bot API of bench/digests.py (an aiohttp server in a process of its own,
   answering sendMessage like Telegram after an optional latency).
Prints messages/s, p50/p95 of the Bot API call (as the sender saw it) and of the time from the
start of the drain to each message's arrival at the stub, and the ratio of the delivery time
to the bound: max(messages / 30 s, the busiest chat's messages / 1 s). Target: ≤ 1.2. The
stub's record shows the limits were kept (most calls in any 1 s, the shortest gap between two
calls to one chat). Numbers are printed, not asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import TelegramMethod
from sqlalchemy import delete, func, insert, select, update

from bench.digests import StubProcess, max_in_window, min_chat_gap, pct
from core.bootstrap import build_services
from core.config import Settings
from core.db.engine import create_engine
from core.db.models import (
    Account,
    Base,
    Deal,
    DispatchAssignment,
    DispatchPrompt,
    Enterprise,
    IdlePosting,
    IdlePostingWorker,
    OutboxMessage,
    ShortagePosting,
    WagePeriod,
)
from core.db.uow import Services
from core.domain.dispatch import previous_month
from core.domain.timeutil import SHANGHAI
from core.ports import FixedClock
from core.seed import seed_demo
from core.services.wages import KIND_WAGE, queue_wage_prompts

OUT = Path(__file__).resolve().parent / "out"
CHAT_BASE = 770_000_000  # fake Telegram ids of the bench's recipients
GLOBAL_RATE = 30.0
CHAT_RATE = 1.0
CHUNK = 2000
BENCH_DEAL_MARK = 9_000_000  # bench deals get ids from here, so --reuse finds them


def wage_morning(today: date) -> datetime:
    """09:00 Shanghai on the 5th of this month (the wage day)."""
    return datetime.combine(today.replace(day=5), dt_time(9, 0), tzinfo=SHANGHAI).astimezone(UTC)


class TimedSession(AiohttpSession):
    """aiogram's own HTTP session, timing every call as the sender waits for it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.call_ms: list[float] = []
        self.sent_at: list[tuple[float, str, int]] = []  # as max_in_window reads them

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[Any],
        timeout: int | None = None,  # noqa: ASYNC109 - BaseSession's signature
    ) -> Any:
        started = time.perf_counter()
        self.sent_at.append((time.monotonic(), method.__api_method__, 0))
        try:
            return await super().make_request(bot, method, timeout)
        finally:
            self.call_ms.append((time.perf_counter() - started) * 1000)


def fresh_file(path: Path, reuse: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


async def prepare(path: Path, reuse: bool, clock: FixedClock) -> tuple[Any, Services]:
    engine = create_engine(url=f"sqlite+aiosqlite:///{path.as_posix()}")
    settings = Settings(
        data_dir=path.parent,
        secret_key="bench-secret-key-0123456789abcdef",  # type: ignore[arg-type]
        bot_token="42:BENCH",  # type: ignore[arg-type]
    )
    _, services = build_services(settings, engine=engine, clock=clock)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with services.uow() as uow:
        seeded = await uow.session.scalar(select(func.count()).select_from(Enterprise))
    if not seeded:
        started = time.perf_counter()
        report = await seed_demo(services, scale="small")
        print(
            f"seeded small: {report.enterprises} enterprises, {report.workers} workers in "
            f"{time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
    return engine, services


async def make_dispatches(
    services: Services, *, count: int, recipients: int, start_month: date
) -> int:
    """`count` accepted deals started last month, engaged accounts drawn from `recipients`
    bench accounts (made once); earlier bench deals, prompts and outbox rows are removed."""
    rng = random.Random(2026)
    async with services.uow() as uow:
        s = uow.session
        ours = select(Deal.id).where(Deal.id >= BENCH_DEAL_MARK)
        await s.execute(delete(WagePeriod).where(WagePeriod.deal_id.in_(ours)))
        await s.execute(delete(DispatchPrompt).where(DispatchPrompt.deal_id.in_(ours)))
        await s.execute(delete(DispatchAssignment).where(DispatchAssignment.deal_id.in_(ours)))
        await s.execute(delete(Deal).where(Deal.id >= BENCH_DEAL_MARK))
        await s.execute(delete(OutboxMessage))
        # the seed's own deals are not ours to ask about: mark them asked this month
        now = uow.now()
        first = start_month
        await s.execute(delete(DispatchPrompt).where(DispatchPrompt.kind == "wage"))
        seeded = list(await s.scalars(select(Deal.id).where(Deal.id < BENCH_DEAL_MARK)))
        if seeded:
            await s.execute(
                insert(DispatchPrompt),
                [{"deal_id": d, "kind": "wage", "day": first, "created_at": now} for d in seeded],
            )
        chats = [CHAT_BASE + i for i in range(recipients)]
        existing = dict(
            (
                await s.execute(
                    select(Account.telegram_user_id, Account.id).where(
                        Account.telegram_user_id.in_(chats)
                    )
                )
            ).all()
        )
        missing = [
            {
                "telegram_user_id": chat,
                "chat_id": chat,
                "display_name": f"基准{chat - CHAT_BASE}",
                "role": "dispatcher",
                "locale": "zh",
                "created_at": now,
            }
            for chat in chats
            if chat not in existing
        ]
        if missing:
            await s.execute(insert(Account), missing)
            existing = dict(
                (
                    await s.execute(
                        select(Account.telegram_user_id, Account.id).where(
                            Account.telegram_user_id.in_(chats)
                        )
                    )
                ).all()
            )
        await s.execute(
            update(Account).where(Account.id.in_(list(existing.values()))).values(active=True)
        )
        pool = [existing[c] for c in chats]
        shortages = (
            await s.execute(
                select(
                    ShortagePosting.id,
                    ShortagePosting.enterprise_id,
                    ShortagePosting.trade_code,
                    ShortagePosting.county_code,
                    ShortagePosting.city_code,
                    ShortagePosting.price_fen,
                ).order_by(ShortagePosting.id)
            )
        ).all()
        idle = (await s.execute(select(IdlePosting.id, IdlePosting.enterprise_id))).all()
        crews: dict[int, list[int]] = {}
        for posting_id, worker_id in await s.execute(
            select(IdlePostingWorker.posting_id, IdlePostingWorker.worker_id)
        ):
            crews.setdefault(posting_id, []).append(worker_id)
        idle = [row for row in idle if crews.get(row[0])]
        deals: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        for n in range(count):
            sid, sent, trade, county, city, price = shortages[n % len(shortages)]
            idle_id, idle_ent = idle[(n * 7) % len(idle)]
            workers = crews[idle_id][: 1 + n % 4]
            start = start_month + timedelta(days=n % 25)
            deal_id = BENCH_DEAL_MARK + n
            deals.append(
                {
                    "id": deal_id,
                    "shortage_id": sid,
                    "idle_posting_id": idle_id,
                    "shortage_enterprise_id": sent,
                    "idle_enterprise_id": idle_ent,
                    "trade_code": trade,
                    "county_code": county,
                    "city_code": city,
                    "headcount": len(workers),
                    "price_fen": price,
                    "start_date": start,
                    "end_date": None,
                    "status": "accepted",
                    "proposer_side": "shortage",
                    "awaiting_side": None,
                    "shortage_account_id": rng.choice(pool),
                    "idle_account_id": rng.choice(pool),
                    "created_at": now,
                    "updated_at": now,
                    "expires_at": now,
                    "accepted_at": now,
                    "rating_prompt_at": None,
                    "version": 2,
                }
            )
            for k, worker_id in enumerate(workers):
                assignments.append(
                    {
                        "deal_id": deal_id,
                        "worker_id": worker_id,
                        "enterprise_id": idle_ent,
                        "due_on": start,
                        "arrival": "no_show" if (n + k) % 37 == 0 else "arrived",
                        "arrived_on": start,
                        "answered_at": now,
                        "answered_by_account_id": None,
                        "released_on": None,
                        "replaces_assignment_id": None,
                        "created_at": now,
                    }
                )
        for rows, model in ((deals, Deal), (assignments, DispatchAssignment)):
            for i in range(0, len(rows), CHUNK):
                await s.execute(insert(model), rows[i : i + CHUNK])
        await uow.commit()
    return len(deals)


async def drain(services: Services, latency: float, burst: float | None) -> None:
    from bot.scheduler import sender_config
    from bot.sender import OutboxSender

    async with services.uow() as uow:
        queued = (
            await uow.session.execute(
                select(OutboxMessage.account_id, func.count())
                .where(OutboxMessage.kind == KIND_WAGE)
                .group_by(OutboxMessage.account_id)
            )
        ).all()
    messages = sum(int(n) for _, n in queued)
    busiest = max((int(n) for _, n in queued), default=0)
    stub = StubProcess(latency)
    url = await asyncio.to_thread(stub.start)
    session = TimedSession(api=TelegramAPIServer.from_base(url))
    bot = Bot(token="42:BENCH", session=session)
    config = sender_config()  # what `jingong scheduler` runs with
    if burst is not None:
        config = replace(config, global_burst=burst)
    sender = OutboxSender(bot, services, config=config, channels=False)
    load_before = os.getloadavg()[0]
    try:
        t0 = time.monotonic()
        cpu = time.process_time()
        started = time.perf_counter()
        stats = await sender.drain(timeout=3600)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu
        calls = await stub.calls()
    finally:
        await bot.session.close()
        stub.stop()

    if os.environ.get("BENCH_TIMELINE"):
        per_second = Counter(int(t - t0) for t, _, _ in calls)
        timeline = (str(per_second.get(i, 0)) for i in range(int(elapsed) + 1))
        print("calls per second:", " ".join(timeline), file=sys.stderr)
    sent = len(calls)
    global_bound = sent / GLOBAL_RATE
    chat_bound = (busiest - 1) / CHAT_RATE if busiest else 0.0
    bound = max(global_bound, chat_bound)
    # the stub's monotonic clock is the same machine's: seconds since the drain began
    arrival_s = sorted(t - t0 for t, _, _ in calls)
    print(
        f"sent {sent} of {messages} queued to {len(queued)} chats (busiest chat {busiest}); "
        f"sender stats: sent={stats.sent} retried={stats.retried} dead={stats.dead} "
        f"blocked={stats.blocked} released={stats.released}"
    )
    print(f"rate: {sent / elapsed:.2f} msg/s over {elapsed:.2f} s")
    print(
        f"Bot API call (sender's view): p50 {statistics.median(session.call_ms):.1f} ms, "
        f"p95 {pct(session.call_ms, 0.95):.1f} ms"
    )
    print(
        f"drain start → message at the API: p50 {statistics.median(arrival_s):.1f} s, "
        f"p95 {pct(arrival_s, 0.95):.1f} s"
    )
    print(
        f"bound: {sent} msgs at {GLOBAL_RATE:.0f}/s = {global_bound:.2f} s; busiest chat at "
        f"{CHAT_RATE:.0f}/s = {chat_bound:.2f} s; ratio {elapsed / bound:.3f} (target ≤ 1.2)"
    )
    print(
        f"limits kept: max {max_in_window(session.sent_at)} calls in any 1 s as sent, "
        f"{max_in_window(calls)} as received; shortest gap between two calls to one chat "
        f"{min_chat_gap(calls):.3f} s (as received)"
    )
    stub_latency = f"; stub latency {latency * 1000:.0f} ms" if latency else ""
    print(
        f"sender concurrency {config.concurrency}, batch {config.batch_size}; main process CPU "
        f"{cpu:.1f} s; {os.cpu_count()} cores, load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after{stub_latency}"
    )


async def run(args: argparse.Namespace) -> None:
    today = datetime.now(SHANGHAI).date()
    clock = FixedClock(wage_morning(today))
    engine, services = await prepare(Path(args.db_file), args.reuse, clock)
    try:
        started = time.perf_counter()
        made = await make_dispatches(
            services,
            count=args.dispatches,
            recipients=args.recipients,
            start_month=previous_month(today),
        )
        print(f"{made} active dispatches ready in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        async with services.uow() as uow:
            asked = await queue_wage_prompts(uow, clock.now())
        async with services.uow() as uow:
            rows = await uow.session.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.kind == KIND_WAGE)
            )
        print(
            f"queued: {asked} dispatches asked, {rows} wage prompts in "
            f"{time.perf_counter() - started:.2f} s"
        )
        if not args.no_send:
            await drain(services, args.latency_ms / 1000, args.burst)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dispatches", type=int, default=3000)
    parser.add_argument("--recipients", type=int, default=1500, help="accounts with a chat")
    parser.add_argument("--db-file", default=str(OUT / "wage_prompts.db"))
    parser.add_argument("--reuse", action="store_true", help="keep the seeded database")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="stub answer delay")
    parser.add_argument("--burst", type=float, default=None, help="SenderConfig.global_burst")
    parser.add_argument("--no-send", action="store_true", help="only queue")
    args = parser.parse_args()
    fresh_file(Path(args.db_file), args.reuse)
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
