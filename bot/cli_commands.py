"""`jingong` commands that run the bot side: `jingong scheduler`.

Listed in webhooks.main.COMMANDS; at module level this file imports only the
standard library, so building the parser loads no aiogram or APScheduler. The handler imports
them when the command actually runs.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scheduler",
        help="run the digest scheduler and the outbox sender",
        description="Run the scheduler process until SIGINT/SIGTERM: every minute it queues "
        "the daily digests that are due (each regulator at their digest time, Asia/Shanghai "
        "unless their account says otherwise) and the Monday weekly digests of labour "
        "companies; every 5 minutes it expires postings and offers, queues rating prompts "
        "and purges old update ids and FSM records. The outbox sender delivers everything "
        "queued. Any number of these processes may run: a lease in the database makes one of "
        "them the leader, and each digest is queued once per recipient and day.",
    )
    parser.set_defaults(handler=run_scheduler_command)


def run_scheduler_command(args: argparse.Namespace) -> int:
    import logging

    from bot.scheduler import run_scheduler
    from core.cli.common import CliError, load_settings

    settings = load_settings()
    if not settings.bot_token.get_secret_value():
        raise CliError("BOT_TOKEN is not set; the scheduler needs it to deliver digests")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # every run of every job at INFO would drown our own lines
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    asyncio.run(run_scheduler(settings))
    return 0
