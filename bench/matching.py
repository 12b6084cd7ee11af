"""Latency of matching and search at province scale, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.matching            # seed both databases, then measure
    .venv/bin/python -m bench.matching --reuse    # measure on what an earlier run seeded
    .venv/bin/python -m bench.matching --db sqlite -n 100

Seeds `core.seed.seed_demo(scale="province")` (20 000 open postings per side) into a SQLite file
and into the PostgreSQL database `jingong_bench_match` (trust auth, 127.0.0.1:5432), then times,
each call in its own unit of work as the bot would run it:
- match an existing shortage (random live one) and an existing idle posting;
- post a realistic new shortage (validation, insert, notify_matches, commit), then match it;
- one search page with random filters (kind, region at province / city / county level, trade,
  grade), and the next page of the same query.
Prints n, mean, p50, p95 and max in milliseconds. Target: p95 < 25 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from core.bootstrap import build_services
from core.config import Settings
from core.db.engine import create_engine
from core.db.models import Base, Enterprise, GuidePrice, IdlePosting, Project, ShortagePosting
from core.db.uow import Services
from core.domain.actor import Actor
from core.domain.enums import LIVE_STATUSES, Role
from core.seed import seed_demo
from core.services.matching import match_posting
from core.services.postings import PostShortageCommand, post_shortage
from core.services.search import PostingQuery, search_postings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "jingong_bench_match"
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DB}"
TRADES = [
    "rebar",
    "mason",
    "waterproofer",
    "plasterer",
    "formwork",
    "carpenter",
    "welder",
    "scaffolder",
    "pipefitter",
    "laborer",
    "bricklayer",
    "electrician",
    "concrete",
    "painter",
    "tiler",
]
_LIVE = [s.value for s in LIVE_STATUSES]


@dataclass
class Timing:
    name: str
    samples: list[float]

    def row(self, db: str) -> str:
        s = sorted(self.samples)
        if not s:
            return f"{db:<9} {self.name:<34} {0:>5}"
        p95 = s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]
        return (
            f"{db:<9} {self.name:<34} {len(s):>5} {statistics.fmean(s):>8.2f} "
            f"{statistics.median(s):>8.2f} {p95:>8.2f} {s[-1]:>8.2f}"
        )


async def _timed(samples: list[float], call: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    result = await call()
    samples.append((time.perf_counter() - started) * 1000)
    return result


async def _ensure_pg_database(drop: bool) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", PG_DB)
        if exists and drop:
            await conn.execute(f'DROP DATABASE "{PG_DB}" WITH (FORCE)')
            exists = None
        if not exists:
            await conn.execute(f'CREATE DATABASE "{PG_DB}"')
    finally:
        await conn.close()


def _sqlite_file(data_dir: Path, *, fresh: bool) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "bench_match.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


async def prepare(kind: str, reuse: bool, data_dir: Path) -> tuple[AsyncEngine, Services]:
    """An engine and services on a seeded province-scale database."""
    if kind == "sqlite":
        path = _sqlite_file(data_dir, fresh=not reuse)
        engine = create_engine(url=f"sqlite+aiosqlite:///{path.as_posix()}")
    else:
        await _ensure_pg_database(drop=not reuse)
        engine = create_engine(url=PG_URL)
    settings = Settings(data_dir=data_dir, secret_key="bench-secret-key-0123456789abcdef")  # type: ignore[arg-type]
    _, services = build_services(settings, engine=engine)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with services.uow() as uow:
        seeded = await uow.session.scalar(select(func.count()).select_from(Enterprise))
    if not seeded:
        started = time.perf_counter()
        report = await seed_demo(services, scale="province")
        print(
            f"[{kind}] seeded {report.open_shortages} shortages, {report.open_idle_postings} idle "
            f"postings, {report.workers} workers in {time.perf_counter() - started:.0f} s",
            file=sys.stderr,
        )
    # fresh statistics, as autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) would keep
    async with engine.connect() as conn:
        if kind == "sqlite":
            await conn.exec_driver_sql("ANALYZE")
        else:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("ANALYZE"))
        await conn.commit()
    return engine, services


async def measure(services: Services, n: int, rng: random.Random) -> list[Timing]:
    async with services.uow() as uow:
        shortages = (
            await uow.session.scalars(
                select(ShortagePosting.id).where(ShortagePosting.status.in_(_LIVE))
            )
        ).all()
        idles = (
            await uow.session.scalars(select(IdlePosting.id).where(IdlePosting.status.in_(_LIVE)))
        ).all()
        projects = (
            await uow.session.execute(
                select(
                    Project.id, Project.enterprise_id, Project.city_code, Project.county_code
                ).where(Project.status == "active")
            )
        ).all()
        enterprises = (await uow.session.scalars(select(Enterprise.id))).all()
        guides = {
            (c, t, g): fen
            for c, t, g, fen in await uow.session.execute(
                select(
                    GuidePrice.city_code,
                    GuidePrice.trade_code,
                    GuidePrice.grade_level,
                    GuidePrice.price_fen,
                )
            )
        }
    match_s = Timing("match existing shortage", [])
    match_i = Timing("match existing idle posting", [])
    post = Timing("post new shortage (+notify, commit)", [])
    match_new = Timing("match the new shortage", [])
    first = Timing("search first page", [])
    nxt = Timing("search next page", [])

    async def match(kind: str, posting_id: int) -> Any:
        async with services.uow() as uow:
            return await match_posting(uow, None, kind, posting_id)

    # warm-up: connection pool, statement caches
    for pid in rng.sample(list(shortages), 5):
        await match("shortage", pid)

    for _ in range(n):
        await _timed(match_s.samples, lambda: match("shortage", rng.choice(shortages)))
        await _timed(match_i.samples, lambda: match("idle", rng.choice(idles)))

    for _ in range(n):
        pid, ent_id, city, _county = rng.choice(projects)
        trade = rng.choice(TRADES)
        grade = rng.choice((2, 3, 3, 4, 4, 5))
        guide = guides.get((city, trade, grade), 500_000)
        price = round(guide * rng.uniform(0.85, 1.15) / 100, -1)
        actor = Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=ent_id)
        cmd = PostShortageCommand(
            project_id=pid, trade_code=trade, min_grade=grade, headcount=rng.randint(1, 8),
            price=str(price), contact_name="基准测试", contact_phone="13912345678",
        )  # fmt: skip

        async def do_post() -> int:
            async with services.uow() as uow:
                return (await post_shortage(uow, actor, cmd)).id  # noqa: B023

        new_id = await _timed(post.samples, do_post)
        await _timed(match_new.samples, lambda: match("shortage", new_id))  # noqa: B023

    counties = sorted({c for *_, c in projects})
    cities = sorted({c for _, _, c, _ in projects})
    for _ in range(n):
        level = rng.random()
        region = (
            None
            if level < 0.25
            else "140000"
            if level < 0.35
            else rng.choice(cities)
            if level < 0.7
            else rng.choice(counties)
        )
        query = PostingQuery(
            kind=rng.choice(("shortage", "idle")),
            region_code=region,
            trade_code=rng.choice(TRADES) if rng.random() < 0.6 else None,
            grade_level=rng.choice((2, 3, 4)) if rng.random() < 0.3 else None,
        )
        actor = Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=rng.choice(enterprises))

        async def search(q: PostingQuery) -> Any:
            async with services.uow() as uow:
                return await search_postings(uow, actor, q)  # noqa: B023

        page = await _timed(first.samples, lambda: search(query))  # noqa: B023
        if page.next_cursor:
            cursor_query = replace(query, cursor=page.next_cursor)
            await _timed(nxt.samples, lambda: search(cursor_query))  # noqa: B023
    return [match_s, match_i, post, match_new, first, nxt]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--db", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("-n", type=int, default=200, help="samples per measurement")
    parser.add_argument("--data-dir", type=Path, default=Path(".jingong/bench"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rows: list[str] = []
    for kind in kinds:
        engine, services = await prepare(kind, args.reuse, args.data_dir)
        try:
            timings = await measure(services, args.n, random.Random(args.seed))
        finally:
            await engine.dispose()
        rows += [t.row(kind) for t in timings]
    print(f"{'db':<9} {'operation':<34} {'n':>5} {'mean':>8} {'p50':>8} {'p95':>8} {'max':>8}")
    print("\n".join(rows))
    print("(milliseconds; each call opens and closes its own unit of work)")


if __name__ == "__main__":
    asyncio.run(main())
