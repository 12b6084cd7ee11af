"""`jingong worker forget --id-number N`: erase a worker's personal data on request."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from core.cli.common import load_settings, open_services


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "worker",
        help="worker data requests (PIPL): erase a worker's personal data",
        description="Worker data requests.",
    )
    commands = parser.add_subparsers(dest="worker_command", metavar="ACTION", required=True)
    forget = commands.add_parser(
        "forget",
        help="erase a worker's name, phone, birth date and ID number; ratings and deals stay",
        description="Erase a worker's personal data on request (PIPL art. 47). The ID number "
        "is read from --id-number or, to keep it out of the shell history, from the "
        "JINGONG_ID_NUMBER environment variable.",
    )
    forget.add_argument("--id-number", metavar="ID", help="the worker's 18-character ID number")
    forget.set_defaults(handler=run_forget)


def run_forget(args: argparse.Namespace) -> int:
    from core.cli.common import CliError
    from core.domain.actor import Actor
    from core.services.privacy import forget_worker

    id_number = args.id_number or os.environ.get("JINGONG_ID_NUMBER", "")
    if not id_number:
        raise CliError("give --id-number or set JINGONG_ID_NUMBER")
    settings = load_settings()

    async def go() -> Any:
        async with open_services(settings) as (_engine, services), services.uow() as uow:
            return await forget_worker(uow, Actor.system(), id_number)

    done = asyncio.run(go())
    print(
        f"worker {done.worker_id}: personal data erased; "
        f"{done.ratings_kept} rating(s) kept in the statistics"
    )
    return 0
