"""A dispatch's life at province scale: the daily credit run and queuing the monthly wage
questions, on the `province` data set with its open shortages turned into active dispatches.

    .venv/bin/python -m bench.dispatch_life                      # SQLite, province
    .venv/bin/python -m bench.dispatch_life --scale small        # a quick look
    .venv/bin/python -m bench.dispatch_life --reuse              # measure an earlier seed again
    .venv/bin/python -m bench.dispatch_life --url postgresql+asyncpg://postgres@127.0.0.1/x

1. Seeds `core.seed.seed_demo` (kept with --reuse), then pairs every open shortage posting with
   an idle posting's workers as an accepted deal that started last month (≈ 20k dispatches
   at province scale, each with its workers' assignment rows), written in bulk.
2. Times `core.services.credit.recompute_credit` (every enterprise and worker). Target < 30 s.
3. Times `core.services.wages.queue_wage_prompts` on the 5th at 09:00 (one wage period, one
   prompt row and two outbox rows per dispatch). Target < 60 s. A second run must queue 0.
Numbers are printed, not asserted. Sending the queued rows is measured against the 30
messages/s bound by bench/wage_prompts.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select

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
from core.services.credit import recompute_credit
from core.services.wages import queue_wage_prompts

CHUNK = 2000


def wage_morning(today: date) -> datetime:
    """09:00 Shanghai on the 5th of this month (the wage day)."""
    return datetime.combine(today.replace(day=5), dt_time(9, 0), tzinfo=SHANGHAI).astimezone(UTC)


async def make_dispatches(services: Services, start_month: date) -> int:
    """Every open shortage becomes an accepted deal with the workers of one idle posting."""
    async with services.uow() as uow:
        s = uow.session
        # the seed's own deals closed their postings: deals on open shortages are ours
        done = await s.scalar(
            select(func.count())
            .select_from(Deal)
            .join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
            .where(ShortagePosting.status.in_(("open", "partly_filled")))
        )
        if done:
            return int(done)
        shortages = (
            await s.execute(
                select(
                    ShortagePosting.id,
                    ShortagePosting.enterprise_id,
                    ShortagePosting.trade_code,
                    ShortagePosting.county_code,
                    ShortagePosting.city_code,
                    ShortagePosting.price_fen,
                )
                .where(ShortagePosting.status.in_(("open", "partly_filled")))
                .order_by(ShortagePosting.id)
            )
        ).all()
        idle = (
            await s.execute(
                select(IdlePosting.id, IdlePosting.enterprise_id)
                .where(IdlePosting.status.in_(("open", "partly_filled")))
                .order_by(IdlePosting.id)
            )
        ).all()
        crews: dict[int, list[int]] = {}
        for posting_id, worker_id in await s.execute(
            select(IdlePostingWorker.posting_id, IdlePostingWorker.worker_id)
        ):
            crews.setdefault(posting_id, []).append(worker_id)
        next_id = int(await s.scalar(select(func.max(Deal.id))) or 0) + 1
        now = uow.now()
        deals: list[dict[str, Any]] = []
        assignments: list[dict[str, Any]] = []
        for n, (shortage, (idle_id, idle_ent)) in enumerate(zip(shortages, idle, strict=False)):
            sid, sent, trade, county, city, price = shortage
            start = start_month + timedelta(days=n % 20)
            workers = crews.get(idle_id, [])[:4] or []
            deal_id = next_id + n
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
                    "headcount": max(len(workers), 1),
                    "price_fen": price,
                    "start_date": start,
                    "end_date": None,
                    "status": "accepted",
                    "proposer_side": "shortage",
                    "awaiting_side": None,
                    "shortage_account_id": None,
                    "idle_account_id": None,
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
        # every enterprise has a dispatcher with a chat, so each prompt has its recipients
        staffed = set(
            await s.scalars(select(Account.enterprise_id).where(Account.role == "dispatcher"))
        )
        accounts = [
            {
                "display_name": f"调度{ent_id}",
                "role": "dispatcher",
                "enterprise_id": ent_id,
                "chat_id": 10_000_000 + ent_id,
                "locale": "zh",
                "created_at": now,
            }
            for ent_id in await s.scalars(select(Enterprise.id).order_by(Enterprise.id))
            if ent_id not in staffed
        ]
        for rows, model in ((accounts, Account), (deals, Deal), (assignments, DispatchAssignment)):
            for i in range(0, len(rows), CHUNK):
                await s.execute(insert(model), rows[i : i + CHUNK])
        await uow.commit()
        return len(deals)


def prepare_file(args: argparse.Namespace) -> str:
    """The database URL; a fresh SQLite file unless --reuse (or --url)."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"dispatch_{args.scale}.db"
    if not args.url and not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return str(args.url or f"sqlite+aiosqlite:///{path.as_posix()}")


async def run(args: argparse.Namespace, url: str) -> None:
    out = Path(args.out)
    engine = create_engine(url=url)
    settings = Settings(
        data_dir=out,
        secret_key="bench-secret-key-0123456789abcdef",  # type: ignore[arg-type]
        bot_token="42:BENCH",  # type: ignore[arg-type]
    )
    today = datetime.now(SHANGHAI).date()
    clock = FixedClock(wage_morning(today))
    _, services = build_services(settings, engine=engine, clock=clock)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with services.uow() as uow:
        seeded = await uow.session.scalar(select(func.count()).select_from(Enterprise))
    if not seeded:
        started = time.perf_counter()
        report = await seed_demo(services, scale=args.scale)
        print(
            f"seeded {args.scale}: {report.workers} workers, {report.deals} deals in "
            f"{time.perf_counter() - started:.1f} s (credit run included)",
            file=sys.stderr,
        )
    started = time.perf_counter()
    dispatches = await make_dispatches(services, previous_month(today))
    print(f"{dispatches} active dispatches ready in {time.perf_counter() - started:.1f} s")
    if url.startswith("sqlite"):
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")
            await conn.commit()

    started = time.perf_counter()
    async with services.uow() as uow:
        credit = await recompute_credit(uow, today)
    took = time.perf_counter() - started
    print(
        f"credit recomputation: {credit.enterprises} enterprises, {credit.workers} workers "
        f"in {took:.2f} s (target < 30 s)"
    )

    async with services.uow() as uow:
        # a --reuse run measures the queuing again: last run's questions are taken back
        ours = select(Deal.id).join(ShortagePosting, ShortagePosting.id == Deal.shortage_id)
        ours = ours.where(ShortagePosting.status.in_(("open", "partly_filled")))
        await uow.session.execute(delete(WagePeriod).where(WagePeriod.deal_id.in_(ours)))
        await uow.session.execute(delete(DispatchPrompt).where(DispatchPrompt.deal_id.in_(ours)))
        await uow.session.execute(delete(OutboxMessage).where(OutboxMessage.kind == "wage_prompt"))
        await uow.commit()
    async with services.uow() as uow:
        before = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    started = time.perf_counter()
    async with services.uow() as uow:
        asked = await queue_wage_prompts(uow, clock.now())
    took = time.perf_counter() - started
    async with services.uow() as uow:
        after = await uow.session.scalar(select(func.count()).select_from(OutboxMessage))
    print(
        f"wage prompts: {asked} dispatches asked, {int(after or 0) - int(before or 0)} outbox "
        f"rows in {took:.2f} s (target < 60 s)"
    )
    started = time.perf_counter()
    async with services.uow() as uow:
        again = await queue_wage_prompts(uow, clock.now())
    print(f"second run: {again} asked in {time.perf_counter() - started:.2f} s")
    await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "province"), default="province")
    parser.add_argument("--url", default="", help="database URL (default: a SQLite file)")
    parser.add_argument("--out", default="bench/out")
    parser.add_argument("--reuse", action="store_true", help="keep an earlier seed")
    args = parser.parse_args()
    asyncio.run(run(args, prepare_file(args)))


if __name__ == "__main__":
    main()
