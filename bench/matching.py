"""Latency of matching and search at province scale and beyond, on SQLite and on PostgreSQL.

    .venv/bin/python -m bench.matching            # seed both databases, then measure
    .venv/bin/python -m bench.matching --reuse    # measure on what an earlier run seeded
    .venv/bin/python -m bench.matching --db sqlite -n 100
    .venv/bin/python -m bench.matching --scale x10 --db postgres --reports   # issue 17

Seeds `core.seed.seed_demo(scale=...)` (x1 = "province": 20 000 open postings per side and
200 000 workers; x3 and x10 three and ten times that) into a SQLite file and into a PostgreSQL
database (trust auth, 127.0.0.1:5432; `jingong_bench_match`, `jingong_bench_match_x3`, … or
--pg-db), then times, each call in its own unit of work as the bot would run it:
- match an existing shortage (random live one) and an existing idle posting;
- post a realistic new shortage (validation, insert, notify_matches, commit), then match it;
- one search page with random filters (kind, region at province / city / county level, trade,
  grade), and the next page of the same query.
Prints n, mean, p50, p95 and max in milliseconds. Target: p95 < 25 ms (posting: < 40 ms).
With --reports also the province's regional summary (the 📊 screen: summary + reporting rate;
target < 2 s) and every regulator's digest built (129 regions, target < 30 s in all).
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
from core.seed import SCALES, Scale, seed_demo
from core.services.matching import match_posting
from core.services.postings import PostShortageCommand, post_shortage
from core.services.search import PostingQuery, search_postings

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "jingong_bench_match"
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


async def _ensure_pg_database(name: str, drop: bool) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and drop:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def _pg_name(scale: str, explicit: str | None) -> str:
    if explicit:
        return explicit
    return PG_DB if scale in ("province", "x1") else f"{PG_DB}_{scale}"


def _sqlite_file(data_dir: Path, scale: str, *, fresh: bool) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    suffix = "" if scale in ("province", "x1") else f"_{scale}"
    path = data_dir / f"bench_match{suffix}.db"
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return path


def _progress(line: str) -> None:
    print(f"  {line}", file=sys.stderr, flush=True)


async def prepare(
    kind: str, reuse: bool, data_dir: Path, scale: Scale, pg_db: str | None
) -> tuple[AsyncEngine, Services]:
    """An engine and services on a seeded database of the given scale."""
    if kind == "sqlite":
        path = _sqlite_file(data_dir, scale, fresh=not reuse)
        engine = create_engine(url=f"sqlite+aiosqlite:///{path.as_posix()}")
    else:
        name = _pg_name(scale, pg_db)
        await _ensure_pg_database(name, drop=not reuse)
        engine = create_engine(url=f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}")
    settings = Settings(data_dir=data_dir, secret_key="bench-secret-key-0123456789abcdef")  # type: ignore[arg-type]
    _, services = build_services(settings, engine=engine)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with services.uow() as uow:
        seeded = await uow.session.scalar(select(func.count()).select_from(Enterprise))
    if not seeded:
        started = time.perf_counter()
        report = await seed_demo(services, scale=scale, progress=_progress)
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


async def reports(services: Services, n: int) -> list[Timing]:
    """The province's 📊 summary (summary + reporting rate, as the screen and `jingong summary`
    build it) n times, then every regulator region's digest once."""
    from bench.digests import digest_day, regulator_regions
    from core.services.digests import build_digest
    from core.services.reporting_coverage import region_coverage
    from core.services.summaries import regional_summary

    summary = Timing("province summary (+ reporting rate)", [])
    for _ in range(n):
        async with services.uow(read_only=True) as uow:
            started = time.perf_counter()
            await regional_summary(uow, Actor.system(), "140000")
            await region_coverage(uow, Actor.system(), "140000")
            summary.samples.append((time.perf_counter() - started) * 1000)
    day = await digest_day(services)
    digests = Timing("digest of one region (129 regions)", [])
    for code, _name in await regulator_regions(services):
        started = time.perf_counter()
        async with services.uow(read_only=True) as uow:
            await build_digest(uow, Actor.system(), code, day)
        digests.samples.append((time.perf_counter() - started) * 1000)
    total = Timing(f"all {len(digests.samples)} digests (one sample)", [sum(digests.samples)])
    return [summary, digests, total]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    parser.add_argument("--db", choices=("both", "sqlite", "postgres"), default="both")
    parser.add_argument("-n", type=int, default=200, help="samples per measurement")
    parser.add_argument("--data-dir", type=Path, default=Path(".jingong/bench"))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--scale",
        choices=[name for name in SCALES if name != "small"],
        default="province",
        help="the seeded data set: province (= x1), x3 or x10 times it",
    )
    parser.add_argument("--pg-db", help="PostgreSQL database name (default by scale)")
    parser.add_argument(
        "--reports", action="store_true", help="also the province summary and all digests"
    )
    parser.add_argument(
        "--only-reports", action="store_true", help="the summary and digests, no matching"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    rows: list[str] = []
    for kind in kinds:
        engine, services = await prepare(kind, args.reuse, args.data_dir, args.scale, args.pg_db)
        try:
            timings = []
            if not args.only_reports:
                timings += await measure(services, args.n, random.Random(args.seed))
            if args.reports or args.only_reports:
                timings += await reports(services, 5)
        finally:
            await engine.dispose()
        rows += [t.row(kind) for t in timings]
    print(f"{'db':<9} {'operation':<34} {'n':>5} {'mean':>8} {'p50':>8} {'p95':>8} {'max':>8}")
    print("\n".join(rows))
    print(f"(milliseconds, scale {args.scale}; each call opens and closes its own unit of work)")


if __name__ == "__main__":
    asyncio.run(main())
