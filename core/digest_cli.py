"""`jingong digest preview --region CODE [--date D] [--out DIR]`: a digest written to files.

Registered like every command module of core.cli: `add_parser(subparsers)` adds the `digest`
group; other digest commands (send-now) hang theirs on the returned group's subparsers.
"""

from __future__ import annotations

import argparse
import asyncio
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
    from core.services.digests import preview_digest

    settings = load_settings()
    locale = args.locale or settings.default_locale

    async def go() -> list[Path]:
        async with open_services(settings) as (_engine, services):
            return await preview_digest(services, args.region, args.date, args.out, locale=locale)

    for path in asyncio.run(go()):
        print(path)
    return 0
