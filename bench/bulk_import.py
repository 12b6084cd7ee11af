"""Time of one 10,000-row worker import (the API's row limit), on SQLite and PostgreSQL.

    .venv/bin/python -m bench.bulk_import               # both databases
    .venv/bin/python -m bench.bulk_import --db sqlite

Each run uses a fresh database (a temporary SQLite file; the PostgreSQL database
`jingong_bench_import` on 127.0.0.1:5432, dropped and created again) with one enterprise, and
times `core.services.imports.import_workers` as the API route calls it: all rows new, then the
same rows again (all unchanged). Prints seconds and rows per second. This was a `took < 30`
assertion in tests/webhooks/test_bulk_import.py; timings belong here, not in a test.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
from stdnum.cn import ric

from core.bootstrap import build_services
from core.config import Settings
from core.db.engine import create_engine
from core.db.models import Base, Enterprise
from core.domain.actor import Actor
from core.domain.enums import Role
from core.reference.loader import load_reference_data
from core.services.imports import MAX_ROWS, import_workers

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "jingong_bench_import"
PG_URL = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_DB}"
COUNTY = "140105"


def rows(n: int) -> list[dict[str, Any]]:
    trades = ["抹灰工", "rebar", "木工", "scaffolder", "mason"]
    start = date(1970, 1, 1)
    out = []
    for i in range(n):
        body = f"{COUNTY}{start + timedelta(days=i // 500):%Y%m%d}{i % 500 + 1:03d}"
        out.append(
            {
                "id_number": body + ric.calc_check_digit(body + "0"),
                "name": "工人" + "甲乙丙丁戊己庚辛"[i % 8] + "一二三四五"[i // 8 % 5],
                "trade": trades[i % 5],
                "grade": i % 5 + 1,
                "phone": f"139{i:08d}",
            }
        )
    return out


async def run(url: str, workdir: Path) -> tuple[float, float]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=workdir,
        secret_key="bench-secret-key-0123456789abcdef",  # type: ignore[arg-type]
    )
    engine = create_engine(url=url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    _, services = build_services(settings, engine=engine)
    try:
        async with services.uow() as uow:
            await load_reference_data(uow.session)
            enterprise = Enterprise(
                name="太原建工劳务",
                type="labor_service",
                county_code=COUNTY,
                city_code="140100",
                created_at=uow.now(),
            )
            uow.session.add(enterprise)
            await uow.commit()
        actor = Actor(account_id=None, role=Role.DISPATCHER, enterprise_id=enterprise.id)
        data = rows(MAX_ROWS)
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            async with services.uow() as uow:
                report = await import_workers(uow, actor, data)
            timings.append(time.perf_counter() - started)
            assert not report.rejected, report.rejected[:3]
        return timings[0], timings[1]
    finally:
        await engine.dispose()


async def fresh_pg() -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{PG_DB}"')
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("all", "sqlite", "postgres"), default="all")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets = []
        if args.db in ("all", "sqlite"):
            targets.append(("sqlite", f"sqlite+aiosqlite:///{tmp}/bench.db"))
        if args.db in ("all", "postgres"):
            await fresh_pg()
            targets.append(("postgres", PG_URL))
        for name, url in targets:
            new, unchanged = await run(url, Path(tmp))
            print(
                f"{name}: {MAX_ROWS} new workers {new:.2f} s ({MAX_ROWS / new:,.0f} rows/s); "
                f"the same again (unchanged) {unchanged:.2f} s "
                f"({MAX_ROWS / unchanged:,.0f} rows/s)"
            )


if __name__ == "__main__":
    asyncio.run(main())
