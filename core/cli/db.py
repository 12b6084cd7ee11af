"""`jingong db upgrade`: schema migrations and reference data."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from core.cli.common import load_settings, open_services, safe_url, upgrade_database


def add_parser(subparsers: Any) -> None:
    db = subparsers.add_parser(
        "db",
        help="database maintenance",
        description="Database maintenance commands.",
    )
    actions = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = actions.add_parser(
        "upgrade",
        help="migrate the schema to the newest revision and load reference data",
        description="Apply every pending Alembic migration, then insert or update the "
        "reference data (regions, trades, grades). Safe to run on every deploy; creates "
        "the SQLite file under DATA_DIR if there is none.",
    )
    upgrade.set_defaults(handler=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    settings = load_settings()

    async def go() -> dict[str, int]:
        async with open_services(settings, must_exist=False) as (engine, services):
            return await upgrade_database(engine, services)

    counts = asyncio.run(go())
    loaded = ", ".join(f"{count} {table}" for table, count in counts.items())
    print(f"database {safe_url(settings)} is up to date; reference data: {loaded}")
    return 0
