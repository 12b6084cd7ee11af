"""Reporting coverage (采集上报率) at province scale: the rate per sub-region and the silent count.

    .venv/bin/python -m bench.coverage            # seed bench/out/coverage.db, then measure
    .venv/bin/python -m bench.coverage --reuse    # measure on what an earlier run seeded

Seeds `core.seed.seed_demo(scale="province")` into a SQLite file (as bench.digests does), then
computes `region_coverage` for the province, for every city and the first page of silent
projects of the province, each in its own unit of work, and prints the times.
Target: the province's coverage in < 2 s.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from sqlalchemy import func, select

from bench.digests import prepare
from core.db.models import Project
from core.domain.actor import Actor
from core.services.regions import children
from core.services.reporting_coverage import region_coverage, silent_projects

TARGET_S = 2.0


async def main(db_file: Path, reuse: bool) -> int:
    engine, services = await prepare(db_file, reuse)
    actor = Actor.system()
    try:
        async with services.uow() as uow:
            projects = await uow.session.scalar(select(func.count()).select_from(Project))
            cities = [c.code for c in await children(uow, "140000")]
        print(f"{projects} projects in {db_file}")
        async with services.uow() as uow:
            started = time.perf_counter()
            coverage = await region_coverage(uow, actor, "140000")
            province_s = time.perf_counter() - started
        print(
            f"province coverage: {province_s:.3f} s for {coverage.total.live_projects} live "
            f"projects, {coverage.total.reported} reported ({coverage.total.rate}%), "
            f"{coverage.silent_projects} silent (target < {TARGET_S} s)"
        )
        started = time.perf_counter()
        for city in cities:
            async with services.uow() as uow:
                await region_coverage(uow, actor, city)
        print(f"11 cities: {time.perf_counter() - started:.3f} s in all")
        async with services.uow() as uow:
            started = time.perf_counter()
            await silent_projects(uow, actor, "140000", limit=10)
            print(f"silent projects, first page: {time.perf_counter() - started:.3f} s")
    finally:
        await engine.dispose()
    return 0 if province_s < TARGET_S else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-file", type=Path, default=Path("bench/out/coverage.db"))
    parser.add_argument("--reuse", action="store_true", help="keep an already seeded database")
    args = parser.parse_args()
    raise SystemExit(asyncio.run(main(args.db_file, args.reuse)))
