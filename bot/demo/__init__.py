"""`jingong demo`: the whole bot on this machine, no token, no internet, in a browser chat.

Listed in webhooks.main.COMMANDS. At module level this file imports only the
standard library, so building the parser loads no aiogram or web stack; bot.demo.app (the
runtime) and bot.demo.world (the data) are imported when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

DEFAULT_DATA_DIR = Path(".jingong") / "demo"


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a port number: {value!r}") from exc
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range: {value}")
    return port


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="try the bot in a browser: local Telegram sandbox, demo data, no token",
        description="Run the real bot against a local Telegram emulator with a web chat page, "
        "offline and without a bot token. The first run migrates and seeds a SQLite database "
        "(small demo market) in the data directory and binds the personas — 太原 and 晋建 "
        "foremen, labour-company dispatchers of 临汾 and 太原, regulators of 晋中, 太原 and "
        "the province — to their accounts; later runs reuse it and start in seconds. Also "
        "runs the outbox sender and the digest scheduler. Prints the page's URL; Ctrl-C "
        "stops everything. Ignores DATABASE_URL, REDIS_URL, BOT_TOKEN and the webhook "
        "settings, so it never touches a real deployment.",
    )
    parser.add_argument(
        "--port", type=_port, default=8080, help="port of the chat page (default 8080; 0: any)"
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="bind address (default 127.0.0.1; the sandbox has no authentication)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"where the demo database lives (default {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="delete the demo database first and seed anew"
    )
    parser.add_argument(
        "--log-level", default="warning", choices=("debug", "info", "warning", "error")
    )
    parser.set_defaults(handler=run_demo_command)


def run_demo_command(args: argparse.Namespace) -> int:
    import logging

    from bot.demo.app import PortInUse, run_demo
    from core.cli.common import CliError

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        asyncio.run(run_demo(args.data_dir, port=args.port, host=args.host, fresh=args.fresh))
    except PortInUse as exc:
        raise CliError(str(exc)) from exc
    return 0
