"""`jingong seed --demo`: a deterministic demo market in an empty database."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from core.cli.common import (
    EXIT_USAGE,
    CliError,
    load_settings,
    open_services,
    safe_url,
    upgrade_database,
)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "seed",
        help="fill an empty database with demo data",
        description="Fill an empty database with a deterministic demo market across all 11 "
        "cities of Shanxi: enterprises, projects, teams, workers, open shortage and idle "
        "postings, past deals with ratings, guide prices, and demo accounts (a 太原 foreman, "
        "a 临汾 dispatcher, regulators of 晋中, 太原 and the province). Migrates the "
        "database first. Refuses a database that already holds enterprises.",
    )
    parser.add_argument(
        "--demo", action="store_true", help="seed the demo market (the only kind there is)"
    )
    parser.add_argument(
        "--scale",
        choices=("small", "province", "x1", "x3", "x10"),
        default="small",
        help="small: ~3000 workers (seconds); province (= x1): ~200k workers, 20k open "
        "postings each way (a minute or so); x3, x10: three and ten times the province "
        "(x10: ~2M workers, 200k open postings each way; PostgreSQL recommended, "
        "progress on stderr). Default: small",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=2020,
        metavar="N",
        help="random seed; the same seed gives the same data. Default: 2020",
    )
    parser.set_defaults(handler=run_seed)


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def run_seed(args: argparse.Namespace) -> int:
    if not args.demo:
        raise CliError("nothing to seed: pass --demo", EXIT_USAGE)
    from core.seed import SeedReport, seed_demo

    settings = load_settings()

    async def go() -> SeedReport:
        async with open_services(settings, must_exist=False) as (engine, services):
            await upgrade_database(engine, services)
            return await seed_demo(services, scale=args.scale, seed=args.seed, progress=_progress)

    report = asyncio.run(go())
    print(
        f"seeded {safe_url(settings)} ({report.scale}, seed {report.seed}) "
        f"in {report.seconds:.1f} s"
    )
    print(
        f"  {report.enterprises} enterprises, {report.projects} projects, {report.teams} teams, "
        f"{report.workers} workers ({report.idle_workers} idle)"
    )
    print(
        f"  {report.open_shortages} open shortages, {report.open_idle_postings} open idle "
        f"postings, {report.deals} past deals, {report.ratings} ratings, "
        f"{report.guide_prices} guide prices"
    )
    accounts = ", ".join(f"{key}={value}" for key, value in report.accounts.items())
    print(f"  demo accounts: {accounts}")
    return 0
