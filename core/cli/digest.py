"""`jingong digest preview --region CODE [--date D] [--out DIR]`: a digest written to files.
`jingong digest send-now --region CODE [--date D]`: the digest queued for the region's
regulators at once (once per regulator and day, as the scheduler would).

Listed in webhooks.main.COMMANDS like every command module: `add_parser(subparsers)` adds the
`digest` group; other digest commands (send-now) hang theirs on the returned group's subparsers.
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import date
from pathlib import Path
from typing import Any

from core.cli.common import date_arg, load_settings, open_services, region_arg


def add_parser(subparsers: Any) -> Any:
    """Add `digest` with its `preview` command; returns the group's subparsers."""
    group = subparsers.add_parser(
        "digest",
        help="daily regulator digests",
        description="Daily regulator digests: text, chart and workbook.",
    )
    commands = group.add_subparsers(dest="digest_command", metavar="COMMAND", required=True)
    add_preview_parser(commands)
    add_send_now_parser(commands)
    return commands


def add_preview_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "preview",
        help="write a region's digest to files without sending it",
        description="Build the daily digest of a region as the system and write digest.txt "
        "(every Telegram message, HTML), chart.png and digest.xlsx into a folder. Nothing is "
        "sent and nothing is recorded as delivered.",
    )
    parser.add_argument(
        "--region",
        required=True,
        type=region_arg,
        metavar="CODE",
        help="14 (province), 1401 or 140100 (a city), 140105 (a county)",
    )
    parser.add_argument(
        "--date",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="the digest's date (it reports on the day before). Default: today in Shanxi",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("digest-preview"),
        metavar="DIR",
        help="folder for the files (made if missing). Default: ./digest-preview",
    )
    parser.add_argument(
        "--locale",
        choices=("zh", "en"),
        help="language of the digest. Default: the DEFAULT_LOCALE setting",
    )
    parser.set_defaults(handler=run_preview)


def run_preview(args: argparse.Namespace) -> int:
    from core.reports.files import preview_digest

    settings = load_settings()
    locale = args.locale or settings.default_locale

    async def go() -> list[Path]:
        async with open_services(settings) as (_engine, services):
            return await preview_digest(services, args.region, args.date, args.out, locale=locale)

    for path in asyncio.run(go()):
        print(path)
    return 0


def add_send_now_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "send-now",
        help="queue a region's digest for its regulators now",
        description="Queue the daily digest for every active regulator (with a Telegram chat) "
        "whose region is exactly this code, whatever their digest time. Still once per "
        "regulator and day: a regulator who already got that day's digest is listed as "
        "already sent and gets nothing more. The outbox sender of a running `jingong "
        "scheduler` (or bot) delivers the queued messages.",
    )
    parser.add_argument(
        "--region",
        required=True,
        type=region_arg,
        metavar="CODE",
        help="14 (province), 1401 or 140100 (a city), 140105 (a county); exact match",
    )
    parser.add_argument(
        "--date",
        type=date_arg,
        metavar="YYYY-MM-DD",
        help="the digest's date (it reports on the day before). Default: today in Shanxi",
    )
    parser.set_defaults(handler=run_send_now)


def run_send_now(args: argparse.Namespace) -> int:
    from core.domain.timeutil import SHANGHAI, local_date
    from core.services.digest_schedule import EnqueuedDigest, send_now

    settings = load_settings()

    async def go() -> tuple[date, list[EnqueuedDigest]]:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            day = args.date or local_date(uow.now(), SHANGHAI)
            return day, await send_now(uow, args.region, day=day)

    day, results = asyncio.run(go())
    if not results:
        print(f"no active regulator with a Telegram chat has region {args.region}")
        return 0
    for item in results:
        if item.already:
            print(f"account {item.account_id}: digest of {day} already sent, nothing queued")
        else:
            print(f"account {item.account_id}: digest of {day} queued ({item.parts} messages)")
    queued = sum(1 for item in results if not item.already)
    print(f"{queued} queued, {len(results) - queued} already sent")
    return 0
